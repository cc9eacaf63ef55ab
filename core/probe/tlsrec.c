/*
 * tlsrec.c - raw TLS record decoder.  Owner: core (tlsrec.h).
 *
 * Why: mbedTLS 3.6 hides received alerts, the negotiated group, and refuses
 * TLS 1.0 ServerHellos before we can say what the server offered.  The wire
 * bytes tell all of that while they are in the clear.  Everything here is
 * bounded: records by TLSREC_MAX_BODY, kept handshake messages by
 * TLSREC_MAX_HS, and every field read is checked against its length.
 */
#include "probe/tlsrec.h"

#include <stdlib.h>
#include <string.h>

enum {
    CT_CCS = 20, CT_ALERT = 21, CT_HANDSHAKE = 22, CT_APPDATA = 23,
    CT_HEARTBEAT = 24,
    HS_SERVER_HELLO = 2, HS_SKE = 12, HS_CERT_REQUEST = 13,
    EXT_SUPPORTED_VERSIONS = 43, EXT_KEY_SHARE = 51,
    TLS13 = 0x0304
};

/* RFC 8446 4.1.3: ServerHello.random of a HelloRetryRequest is
 * SHA-256("HelloRetryRequest"). */
static const unsigned char tlsrec_hrr_random[32] = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02,
    0x1E, 0x65, 0xB8, 0x91, 0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E,
    0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C
};

void tlsrec_stream_init(struct tlsrec_stream *s)
{
    memset(s, 0, sizeof *s);
    s->body = malloc(TLSREC_MAX_BODY);
    s->hs_buf = malloc(TLSREC_MAX_HS);
    if (!s->body || !s->hs_buf)
        s->bad = 1;
}

void tlsrec_stream_free(struct tlsrec_stream *s)
{
    free(s->body);
    free(s->hs_buf);
    s->body = NULL;
    s->hs_buf = NULL;
}

void tlsrec_facts_init(struct tlsrec_facts *f)
{
    memset(f, 0, sizeof *f);
    f->alert_level = -1;
    f->alert_desc = -1;
    f->client_alert_desc = -1;
}

static unsigned tlsrec_u16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static void tlsrec_server_hello(struct tlsrec_stream *s, struct tlsrec_facts *f,
                                const unsigned char *p, size_t n)
{
    /* legacy_version(2) random(32) session_id<0..32> cipher(2) comp(1)
     * [extensions<0..2^16-1>] - TLS 1.0 servers may omit extensions. */
    if (n < 35)
        return;
    int legacy = (int)tlsrec_u16(p);
    int hrr = memcmp(p + 2, tlsrec_hrr_random, 32) == 0;
    size_t off = 35 + (size_t)p[34];
    if (off + 3 > n)
        return;
    int cipher = (int)tlsrec_u16(p + off);
    off += 3;
    int selected = legacy, group = 0;
    if (off + 2 <= n) {
        size_t end = off + 2 + tlsrec_u16(p + off);
        off += 2;
        if (end > n)
            end = n;
        while (off + 4 <= end) {
            unsigned type = tlsrec_u16(p + off);
            size_t len = tlsrec_u16(p + off + 2);
            off += 4;
            if (len > end - off)
                break;
            /* Both in the ServerHello and in a HelloRetryRequest the first
             * two bytes are what we want: selected_version, and the group
             * (KeyShareEntry.group or HRR selected_group). */
            if (type == EXT_SUPPORTED_VERSIONS && len >= 2)
                selected = (int)tlsrec_u16(p + off);
            else if (type == EXT_KEY_SHARE && len >= 2)
                group = (int)tlsrec_u16(p + off);
            off += len;
        }
    }
    f->sh_seen = 1;
    f->sh_legacy_version = legacy;
    f->sh_selected_version = selected;
    f->sh_cipher = cipher;
    if (group)
        f->sh_group = group;
    if (hrr)
        f->hello_retry = 1;
    /* TLS 1.3: everything after the (real) ServerHello is encrypted; after
     * a HelloRetryRequest the next ServerHello still comes in the clear. */
    if (selected == TLS13 && !hrr)
        s->encrypted = 1;
}

/* Cipher suites whose ServerKeyExchange is not ECDHE: the DHE/RSA ones in
 * 0x00xx, and DHE_RSA_WITH_CHACHA20 (0xCCAA).  For them the first bytes of
 * the SKE are dh_p's length, which can look like curve_type 3. */
static int tlsrec_cipher_not_ec(int c)
{
    return (c >> 8) == 0x00 || c == 0xCCAA || c == 0xCCAD || c == 0xCCAE;
}

static void tlsrec_handshake_msg(struct tlsrec_stream *s, struct tlsrec_facts *f,
                                 int type, const unsigned char *p, size_t n)
{
    switch (type) {
    case HS_SERVER_HELLO:
        tlsrec_server_hello(s, f, p, n);
        break;
    case HS_SKE:
        /* ECParameters: curve_type(1) = named_curve(3), NamedCurve(2). */
        if (f->sh_seen && !tlsrec_cipher_not_ec(f->sh_cipher) && n >= 3 && p[0] == 3)
            f->ske_group = (int)tlsrec_u16(p + 1);
        break;
    case HS_CERT_REQUEST:
        f->cert_request_seen = 1;
        break;
    default:
        break;
    }
}

/* Clear handshake bytes from the server: reassemble messages across records
 * and split several messages in one record. */
static void tlsrec_hs_feed(struct tlsrec_stream *s, struct tlsrec_facts *f,
                           const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n && !s->encrypted) {
        if (s->hs_hdr_len < 4) {
            s->hs_hdr[s->hs_hdr_len++] = p[i++];
            if (s->hs_hdr_len < 4)
                continue;
            s->hs_len = (size_t)s->hs_hdr[1] << 16 | (size_t)s->hs_hdr[2] << 8 |
                        s->hs_hdr[3];
            s->hs_got = 0;
            int t = s->hs_hdr[0];
            if (t == 11 && !f->cert_msg_len)
                f->cert_msg_len = s->hs_len ? s->hs_len : 1;
            s->hs_keep = (t == HS_SERVER_HELLO || t == HS_SKE || t == HS_CERT_REQUEST) &&
                         s->hs_len <= TLSREC_MAX_HS && s->hs_buf != NULL;
        } else {
            size_t k = s->hs_len - s->hs_got;
            if (k > n - i)
                k = n - i;
            if (s->hs_keep)
                memcpy(s->hs_buf + s->hs_got, p + i, k);
            s->hs_got += k;
            i += k;
        }
        if (s->hs_hdr_len == 4 && s->hs_got == s->hs_len) {
            int t = s->hs_hdr[0];
            s->hs_hdr_len = 0;
            if (s->hs_keep)
                tlsrec_handshake_msg(s, f, t, s->hs_buf, s->hs_len);
            else if (t == HS_CERT_REQUEST)
                f->cert_request_seen = 1;  /* too big to keep, still seen */
        }
    }
}

static void tlsrec_record(struct tlsrec_stream *s, int from_server,
                          struct tlsrec_facts *f, tlsrec_record_cb cb, void *arg)
{
    int type = s->hdr[0];
    int version = (int)tlsrec_u16(s->hdr + 1);
    const unsigned char *b = s->body;
    size_t n = s->body_len;

    s->records++;
    if (cb && s->records <= TLSREC_MAX_RECORDS)
        cb(arg, from_server, type, version, b, n);
    if (from_server && s->records == 1)
        f->record_version = version;

    switch (type) {
    case CT_CCS:
        /* TLS 1.2: keys change now.  TLS 1.3: a middlebox-compatibility
         * dummy; the server is already encrypted after its ServerHello, and
         * a CCS after a HelloRetryRequest changes nothing. */
        if (f->sh_selected_version != TLS13)
            s->encrypted = 1;
        break;
    case CT_ALERT:
        /* A clear alert is level(1) description(1); an encrypted one (TLS
         * 1.2 after CCS) is longer and unreadable. */
        if (s->encrypted || n < 2)
            break;
        if (from_server) {
            if (f->alert_desc < 0) {
                f->alert_level = b[0];
                f->alert_desc = b[1];
            }
        } else if (f->client_alert_desc < 0) {
            f->client_alert_desc = b[1];
        }
        break;
    case CT_HANDSHAKE:
        if (from_server && !s->encrypted)
            tlsrec_hs_feed(s, f, b, n);
        break;
    default:
        break;
    }
}

/* Is byte i of a record header plausible?  Checked byte by byte so that a
 * text answer ("554 ...") is recognised at its first byte. */
static int tlsrec_hdr_ok(const unsigned char *h, size_t i)
{
    switch (i) {
    case 0: return h[0] >= CT_CCS && h[0] <= CT_HEARTBEAT;
    case 1: return h[1] == 3;
    case 2: return h[2] <= 4;
    case 4: return tlsrec_u16(h + 3) <= TLSREC_MAX_BODY;
    default: return 1;
    }
}

void tlsrec_feed(struct tlsrec_stream *s, int from_server, const void *data,
                 size_t n, struct tlsrec_facts *f, tlsrec_record_cb cb,
                 void *arg)
{
    const unsigned char *p = data;
    size_t i = 0;

    if (!p || n == 0)
        return;
    /* Evidence: the first bytes of the stream, whatever they are. */
    while (s->n_first < sizeof s->first_bytes && i < n)
        s->first_bytes[s->n_first++] = p[i++];
    i = 0;
    if (from_server && f->not_tls) {
        memcpy(f->not_tls_bytes, s->first_bytes, s->n_first);
        f->n_not_tls = s->n_first;
    }
    /* Plaintext inside the session: its bytes as they keep coming, so the
     * evidence does not depend on how the reads were cut. */
    if (s->bad && from_server && f->late_not_tls) {
        while (f->n_late < sizeof f->late_bytes && i < n)
            f->late_bytes[f->n_late++] = p[i++];
        return;
    }
    while (i < n && !s->bad) {
        if (s->hdr_len < 5) {
            s->hdr[s->hdr_len] = p[i++];
            if (!tlsrec_hdr_ok(s->hdr, s->hdr_len)) {
                s->bad = 1;
                if (from_server && s->records == 0) {
                    f->not_tls = 1;
                    memcpy(f->not_tls_bytes, s->first_bytes, s->n_first);
                    f->n_not_tls = s->n_first;
                } else if (from_server && !f->late_not_tls) {
                    size_t k = s->hdr_len + 1;      /* the header so far */
                    f->late_not_tls = 1;
                    memcpy(f->late_bytes, s->hdr, k);
                    while (k < sizeof f->late_bytes && i < n)
                        f->late_bytes[k++] = p[i++];
                    f->n_late = k;
                }
                break;
            }
            if (++s->hdr_len < 5)
                continue;
            s->body_need = tlsrec_u16(s->hdr + 3);
            s->body_len = 0;
        } else {
            size_t k = s->body_need - s->body_len;
            if (k > n - i)
                k = n - i;
            memcpy(s->body + s->body_len, p + i, k);
            s->body_len += k;
            i += k;
        }
        if (s->hdr_len == 5 && s->body_len == s->body_need) {
            tlsrec_record(s, from_server, f, cb, arg);
            s->hdr_len = 0;
        }
    }
}

/* ---- IANA names --------------------------------------------------------- */

struct tlsrec_name {
    int v;
    const char *name;
};

static const char *tlsrec_lookup(const struct tlsrec_name *t, size_t n, int v)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].v == v)
            return t[i].name;
    return NULL;
}

#define TLSREC_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* TLS Alert Registry: RFC 8446 6 plus the TLS 1.2 and older entries (now
 * "_RESERVED" in the registry; we use the names people search for). */
static const struct tlsrec_name tlsrec_alerts[] = {
    { 0, "close_notify" }, { 10, "unexpected_message" },
    { 20, "bad_record_mac" }, { 21, "decryption_failed" },
    { 22, "record_overflow" }, { 30, "decompression_failure" },
    { 40, "handshake_failure" }, { 41, "no_certificate" },
    { 42, "bad_certificate" }, { 43, "unsupported_certificate" },
    { 44, "certificate_revoked" }, { 45, "certificate_expired" },
    { 46, "certificate_unknown" }, { 47, "illegal_parameter" },
    { 48, "unknown_ca" }, { 49, "access_denied" }, { 50, "decode_error" },
    { 51, "decrypt_error" }, { 60, "export_restriction" },
    { 70, "protocol_version" }, { 71, "insufficient_security" },
    { 80, "internal_error" }, { 86, "inappropriate_fallback" },
    { 90, "user_canceled" }, { 100, "no_renegotiation" },
    { 109, "missing_extension" }, { 110, "unsupported_extension" },
    { 111, "certificate_unobtainable" }, { 112, "unrecognized_name" },
    { 113, "bad_certificate_status_response" },
    { 114, "bad_certificate_hash_value" }, { 115, "unknown_psk_identity" },
    { 116, "certificate_required" }, { 120, "no_application_protocol" },
    { 121, "ech_required" },
};

static const struct tlsrec_name tlsrec_groups[] = {
    { 1, "sect163k1" }, { 2, "sect163r1" }, { 3, "sect163r2" },
    { 4, "sect193r1" }, { 5, "sect193r2" }, { 6, "sect233k1" },
    { 7, "sect233r1" }, { 8, "sect239k1" }, { 9, "sect283k1" },
    { 10, "sect283r1" }, { 11, "sect409k1" }, { 12, "sect409r1" },
    { 13, "sect571k1" }, { 14, "sect571r1" }, { 15, "secp160k1" },
    { 16, "secp160r1" }, { 17, "secp160r2" }, { 18, "secp192k1" },
    { 19, "secp192r1" }, { 20, "secp224k1" }, { 21, "secp224r1" },
    { 22, "secp256k1" }, { 23, "secp256r1" }, { 24, "secp384r1" },
    { 25, "secp521r1" }, { 26, "brainpoolP256r1" }, { 27, "brainpoolP384r1" },
    { 28, "brainpoolP512r1" }, { 29, "x25519" }, { 30, "x448" },
    { 31, "brainpoolP256r1tls13" }, { 32, "brainpoolP384r1tls13" },
    { 33, "brainpoolP512r1tls13" }, { 256, "ffdhe2048" }, { 257, "ffdhe3072" },
    { 258, "ffdhe4096" }, { 259, "ffdhe6144" }, { 260, "ffdhe8192" },
    { 512, "MLKEM512" }, { 513, "MLKEM768" }, { 514, "MLKEM1024" },
    { 4587, "SecP256r1MLKEM768" }, { 4588, "X25519MLKEM768" },
    { 4589, "SecP384r1MLKEM1024" }, { 25497, "X25519Kyber768Draft00" },
    { 0xFF01, "arbitrary_explicit_prime_curves" },
    { 0xFF02, "arbitrary_explicit_char2_curves" },
};

static const struct tlsrec_name tlsrec_versions[] = {
    { 0x0002, "SSLv2" }, { 0x0300, "SSLv3" }, { 0x0301, "TLSv1.0" },
    { 0x0302, "TLSv1.1" }, { 0x0303, "TLSv1.2" }, { 0x0304, "TLSv1.3" },
};

static const struct tlsrec_name tlsrec_ctypes[] = {
    { 20, "change_cipher_spec" }, { 21, "alert" }, { 22, "handshake" },
    { 23, "application_data" }, { 24, "heartbeat" }, { 25, "tls12_cid" },
    { 26, "ack" },
};

static const struct tlsrec_name tlsrec_hstypes[] = {
    { 0, "hello_request" }, { 1, "client_hello" }, { 2, "server_hello" },
    { 4, "new_session_ticket" }, { 5, "end_of_early_data" },
    { 8, "encrypted_extensions" }, { 11, "certificate" },
    { 12, "server_key_exchange" }, { 13, "certificate_request" },
    { 14, "server_hello_done" }, { 15, "certificate_verify" },
    { 16, "client_key_exchange" }, { 20, "finished" },
    { 22, "certificate_status" }, { 24, "key_update" },
    { 254, "message_hash" },
};

static const struct tlsrec_name tlsrec_ciphers[] = {
    { 0x1301, "TLS_AES_128_GCM_SHA256" }, { 0x1302, "TLS_AES_256_GCM_SHA384" },
    { 0x1303, "TLS_CHACHA20_POLY1305_SHA256" }, { 0x1304, "TLS_AES_128_CCM_SHA256" },
    { 0x1305, "TLS_AES_128_CCM_8_SHA256" },
    { 0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA" },
    { 0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA" },
    { 0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA" },
    { 0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA" },
    { 0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA" },
    { 0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256" },
    { 0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256" },
    { 0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256" },
    { 0x006B, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256" },
    { 0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256" },
    { 0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384" },
    { 0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256" },
    { 0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384" },
    { 0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA" },
    { 0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA" },
    { 0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA" },
    { 0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA" },
    { 0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256" },
    { 0xC024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384" },
    { 0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256" },
    { 0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384" },
    { 0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" },
    { 0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" },
    { 0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" },
    { 0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" },
    { 0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" },
    { 0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256" },
    { 0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256" },
};

const char *tlsrec_alert_name(int desc)
{
    return tlsrec_lookup(tlsrec_alerts, TLSREC_COUNT(tlsrec_alerts), desc);
}

const char *tlsrec_group_name(int group)
{
    return tlsrec_lookup(tlsrec_groups, TLSREC_COUNT(tlsrec_groups), group);
}

const char *tlsrec_version_name(int v)
{
    return tlsrec_lookup(tlsrec_versions, TLSREC_COUNT(tlsrec_versions), v);
}

const char *tlsrec_content_type_name(int t)
{
    return tlsrec_lookup(tlsrec_ctypes, TLSREC_COUNT(tlsrec_ctypes), t);
}

const char *tlsrec_handshake_name(int t)
{
    return tlsrec_lookup(tlsrec_hstypes, TLSREC_COUNT(tlsrec_hstypes), t);
}

const char *tlsrec_cipher_name(int suite)
{
    return tlsrec_lookup(tlsrec_ciphers, TLSREC_COUNT(tlsrec_ciphers), suite);
}
