/*
 * tlsrec.h - decoder of raw TLS records as they cross the wire.
 *
 * mbedTLS 3.6 does not tell which alert a server sent, refuses to parse a
 * TLS 1.0 ServerHello, and has no API for the negotiated key-exchange group.
 * The TLS module copies every byte read and written into a tlsrec_stream;
 * this decoder splits the stream into records and decodes what is in the
 * clear: alerts (before encryption starts), ServerHello (legacy version,
 * supported_versions, key_share group, cipher suite), handshake message
 * types (CertificateRequest in TLS 1.2), ServerKeyExchange named curve.
 * It also recognises a non-TLS answer (e.g. an SMTP line) to ClientHello.
 *
 * Pure and bounded: a record longer than 2^14+2048 bytes is "bad record",
 * at most TLSREC_MAX_RECORDS records are kept for the transcript.
 */
#ifndef MXS_TLSREC_H
#define MXS_TLSREC_H
#include <stddef.h>
#include <stdint.h>

#define TLSREC_MAX_BODY (16384 + 2048)
#define TLSREC_MAX_RECORDS 4096      /* cb calls per stream; later: counted */
#define TLSREC_MAX_HS 16384          /* ServerHello/SKE/CR bodies decoded   */

/* One direction of the wire.  Handshake messages (server side, while in the
 * clear) are reassembled across records; only the ones decoded (ServerHello,
 * ServerKeyExchange, CertificateRequest) are buffered, others (Certificate)
 * are skipped by length. */
struct tlsrec_stream {
    unsigned char hdr[5];
    size_t hdr_len;
    unsigned char *body;        /* owned, TLSREC_MAX_BODY bytes             */
    size_t body_len, body_need;
    int bad;                    /* not TLS: stop decoding                   */
    unsigned char first_bytes[256]; size_t n_first; /* for "not TLS" evidence */
    int encrypted;              /* ChangeCipherSpec seen / TLS1.3 after SH  */
    size_t records;
    /* handshake reassembly */
    unsigned char hs_hdr[4];
    size_t hs_hdr_len;
    size_t hs_len, hs_got;
    int hs_keep;                /* this message is buffered for decoding    */
    unsigned char *hs_buf;      /* owned, TLSREC_MAX_HS bytes               */
};

struct tlsrec_facts {
    /* from the server side */
    int sh_seen;
    int sh_legacy_version;      /* 0x0301 ... as sent                        */
    int sh_selected_version;    /* supported_versions, or legacy             */
    int sh_cipher;              /* IANA number                               */
    int sh_group;               /* key_share group (TLS 1.3), IANA           */
    int ske_group;              /* ServerKeyExchange named curve (TLS 1.2)   */
    int cert_request_seen;      /* TLS 1.2 CertificateRequest (clear)        */
    int hello_retry;            /* TLS 1.3 HelloRetryRequest                 */
    int alert_level, alert_desc;/* first clear alert from the server, -1     */
    int not_tls;                /* the server answered with something else   */
    unsigned char not_tls_bytes[256]; size_t n_not_tls;
    int record_version;         /* version field of the first server record  */
    size_t cert_msg_len;        /* Certificate message body length from its
                                 * header (TLS 1.2, clear); 0: not seen     */
    /* Not a record header after good records (e.g. "250 OK" in the clear
     * inside a TLS session): the bytes from the bad header on, as they were
     * fed (a TLS client reads 5 at a time, then stops). */
    int late_not_tls;
    unsigned char late_bytes[64]; size_t n_late;
    /* from the client side */
    int client_alert_desc;      /* -1 none                                  */
};

/* Allocates the buffers; on allocation failure the stream is marked bad
 * (nothing decoded, never a crash).  free() is safe on a zeroed stream. */
void tlsrec_stream_init(struct tlsrec_stream *s);
void tlsrec_stream_free(struct tlsrec_stream *s);
void tlsrec_facts_init(struct tlsrec_facts *f);

/* A record was completed: type, version, body.  Used for the transcript. */
typedef void (*tlsrec_record_cb)(void *arg, int from_server, int type,
                                 int version, const unsigned char *body,
                                 size_t len);

/* Feed bytes seen on the wire in one direction (one stream per direction,
 * one facts struct shared by both).  Any chunking.  Only the server stream
 * sets not_tls / not_tls_bytes (first bytes it sent, up to 256), and only
 * when its very first record header is not TLS.  Alerts are decoded only
 * while that direction is in the clear; handshake messages only from the
 * server.  The callback gets every complete record (encrypted ones too) up
 * to TLSREC_MAX_RECORDS per stream. */
void tlsrec_feed(struct tlsrec_stream *s, int from_server, const void *data,
                 size_t n, struct tlsrec_facts *f, tlsrec_record_cb cb,
                 void *arg);

/* Names from the IANA registries: "handshake_failure", "x25519",
 * "TLSv1.0", "handshake"; NULL when the number is not in the table (format
 * the number yourself: "alert 200"). */
const char *tlsrec_alert_name(int desc);
const char *tlsrec_group_name(int group);
const char *tlsrec_version_name(int v); /* 0x0301 -> "TLSv1.0" */
const char *tlsrec_content_type_name(int t);
const char *tlsrec_handshake_name(int t);   /* 2 -> "server_hello" */
/* A few common cipher suites ("TLS_AES_128_GCM_SHA256",
 * "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"); NULL for others. */
const char *tlsrec_cipher_name(int suite);

#endif
