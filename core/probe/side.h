/*
 * side.h - side handshakes: short extra connections the HANDSHAKE step makes
 * to learn what one handshake cannot tell.
 *
 *   SIDE_HELLO_TLS10 / SIDE_HELLO_TLS11
 *       mbedTLS 3.6 speaks no TLS 1.0/1.1.  When a server refuses our TLS
 *       1.2/1.3 ClientHello with protocol_version, a hand-built minimal
 *       ClientHello for 1.0 (or 1.1) goes out on a fresh connection (through
 *       EHLO and STARTTLS again) and the answer is read: a ServerHello (its
 *       version says what the server accepts) or an alert.  The handshake is
 *       never completed: we close after the first answer.
 *   SIDE_TLS12_PKCS1
 *       TLS 1.2 offering no RSA-PSS: mbedTLS 3.6.6 offers rsa_pss_rsae_* and
 *       then refuses them in a TLS 1.2 ServerKeyExchange (illegal_parameter;
 *       fixed upstream after 3.6.6).  A server that picks PSS by its own
 *       preference (Postfix tls_preempt_cipherlist) fails our handshake; this
 *       one completes, and the engine adopts its session (side_adopt).
 *   SIDE_TLS_ECDSA / SIDE_TLS_RSA
 *       A full handshake offering only ECDSA (or only RSA) signatures: a
 *       server with an RSA and an ECDSA certificate shows each one.  The
 *       chain is copied as sent.
 *
 * Non-blocking, like the engine: side_step() advances as far as the
 * transport allows; side_pollfd() says what to wait for.  The deadline is
 * the caller's (the HANDSHAKE stage's): side_cancel() stops a probe and
 * records where it was.  Every line of the exchange goes to the caller's
 * note callback (already escaped, for the transcript).
 *
 * Ownership: struct side_probe is opaque; side_free() closes the transport
 * and frees everything, including the chain copies in the result.
 */
#ifndef MXS_SIDE_H
#define MXS_SIDE_H
#include <stddef.h>
#include <stdint.h>
#include "core.h"
#include "probe/net.h"

enum side_kind { SIDE_HELLO_TLS10 = 0, SIDE_HELLO_TLS11, SIDE_TLS_ECDSA, SIDE_TLS_RSA,
                 SIDE_TLS12_PKCS1 };

/* Where a side probe ended. */
enum side_end {
    SIDE_RUNNING = 0,
    SIDE_ANSWERED,       /* hello: ServerHello or alert read; tls: handshake ran */
    SIDE_FAILED,         /* before TLS (connect, banner, EHLO, STARTTLS): error */
    SIDE_CANCELLED       /* the caller's deadline                               */
};

struct side_result {
    enum side_kind kind;
    enum side_end end;
    char error[256];            /* FAILED/CANCELLED: where and why (escaped)  */
    /* hello probes */
    int server_hello;           /* a ServerHello came back                    */
    int server_version;         /* its version (0x0301 ...), 0 none           */
    int alert_desc;             /* the server's alert, -1 none                */
    int not_tls;                /* the answer was not TLS                     */
    int closed;                 /* the server closed without an answer        */
    /* full handshakes */
    int handshake_ok;
    int tls_version;            /* 12, 13                                     */
    char tls_error[256];        /* the library's words when it failed         */
    int n_chain;
    unsigned char *der[MXS_MAX_CHAIN];
    size_t der_len[MXS_MAX_CHAIN];
    unsigned flags[MXS_MAX_CHAIN];
    int64_t elapsed_ms;
};

/* A line for the transcript ("TLS 1.0 probe: ServerHello TLSv1.0"). */
typedef void (*side_note_cb)(void *arg, const char *line);

struct side_probe;

/* Start one side probe to addr:port.  implicit_tls: no SMTP before TLS.
 * ehlo_name and sni as the main probe used them (sni NULL: none).  The
 * settings give the CA file, client certificate and TLS range.  Returns
 * NULL with err when it cannot even start. */
struct side_probe *side_new(const struct mxs_settings *s, enum side_kind kind,
                            const struct mxs_addr *addr, uint16_t port, int implicit_tls,
                            const char *ehlo_name, const char *sni, net_factory factory,
                            void *factory_arg, side_note_cb note, void *note_arg,
                            char *err, size_t errlen);
/* 1 when finished (see side_result), 0 while waiting. */
int side_step(struct side_probe *p, int64_t now_us);
/* The fd to poll and the events (POLLIN/POLLOUT); -1 when always ready. */
int side_pollfd(const struct side_probe *p, short *events);
void side_cancel(struct side_probe *p, const char *why);
const struct side_result *side_result(const struct side_probe *p);
void side_free(struct side_probe *p);
/* A completed SIDE_TLS12_PKCS1 handshake: hand its connection and TLS client
 * to the caller (who then owns them, and must point the client at the
 * transport's new home with tls_client_set_transport).  0, or -1 when there
 * is nothing to adopt. */
struct tls_client;
int side_adopt(struct side_probe *p, struct net_transport *t, struct tls_client **tls);

/* The minimal ClientHello record for legacy version v (0x0301 or 0x0302),
 * with SNI when sni is non-empty: pure, for tests and the fuzzer.  Returns
 * its length, or 0 when out is too small. */
size_t side_hello_build(int v, const char *sni, const unsigned char random[32],
                        unsigned char *out, size_t outlen);

#endif
