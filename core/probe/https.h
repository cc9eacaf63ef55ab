/*
 * https.h - one HTTPS GET, as an MTA-STS sender fetches a policy (RFC 8461
 * §3.3), driven from the caller's poll() loop through libcurl's multi
 * interface.
 *
 * Why libcurl (docs/deps.md): HTTP/1.1 framing, chunked bodies, redirects
 * refused, PKIX validation with OpenSSL (what Postfix-side senders use), SNI
 * and certificate evidence, from a library every distribution keeps
 * patched; hand-writing them over mbedTLS would duplicate all of it.
 *
 * As a sender does it: https only, TLS 1.2 or later, the host's certificate
 * validated (PKIX, name = the URL's host, SNI sent), redirects never
 * followed (a 3xx is reported with its Location), the body capped (a body
 * over the cap is a failure with the size seen), one deadline for the
 * whole fetch.  The caller may pin the address (resolved by our own
 * resolver) so no other DNS is asked.
 *
 * Non-blocking: https_pollfds() gives the sockets to poll, https_timeout_ms()
 * the wait, https_step() does the work after poll() and says when the fetch
 * is over; nothing here waits.
 *
 * Ownership: https_start() returns a fetch the caller frees with
 * https_free(); the result (and every pointer in it) lives as long as the
 * fetch.  Every byte in the result that came from the network (status
 * line, content type, Location, body, certificate fields, library error
 * text that quotes the peer) is RAW: escape it at output.
 */
#ifndef MXS_HTTPS_H
#define MXS_HTTPS_H
#include <poll.h>
#include <stddef.h>

#define HTTPS_MAX_CERTS 10
#define HTTPS_HEAD_MAX 4096        /* request and response head kept        */

struct https_cert {                /* from the library's certificate info    */
    char subject[256];
    char issuer[256];
    char not_after[64];
};

enum https_outcome {
    HTTPS_RUNNING = 0,
    HTTPS_OK,              /* 200, the body whole and within the cap          */
    HTTPS_ERR_DNS,         /* the name did not resolve (only without a pin)    */
    HTTPS_ERR_CONNECT,     /* TCP connect failed                               */
    HTTPS_ERR_TLS,         /* handshake failed (alert, no common version ...)  */
    HTTPS_ERR_CERT,        /* the certificate did not validate                 */
    HTTPS_ERR_HTTP,        /* a status other than 200 (3xx: a redirect)        */
    HTTPS_ERR_TOO_BIG,     /* body over the cap                                */
    HTTPS_ERR_TIMEOUT,     /* the deadline passed                              */
    HTTPS_ERR_OTHER
};

struct https_result {
    enum https_outcome outcome;
    long status;                   /* HTTP status, 0 if none came            */
    char status_line[256];         /* RAW, without CRLF                      */
    char content_type[128];        /* RAW                                    */
    char location[256];            /* RAW, a redirect's target               */
    unsigned char *body;           /* RAW, body_len bytes (<= the cap)       */
    size_t body_len;
    size_t body_seen;              /* bytes received, also past the cap     */
    long long content_length;      /* announced (Content-Length), -1: none  */
    char primary_ip[64];
    long verify_result;            /* OpenSSL X509_V_* code (0 = ok)         */
    char error[256];               /* library words (may quote the peer: RAW)*/
    char request_head[HTTPS_HEAD_MAX];   /* what we sent                     */
    size_t request_head_len;
    char response_head[HTTPS_HEAD_MAX];  /* RAW                              */
    size_t response_head_len;
    int n_certs;                   /* certificates the server sent (kept)    */
    struct https_cert cert[HTTPS_MAX_CERTS];
    long elapsed_ms;
};

struct https_fetch;

/* url: "https://HOST[:PORT]/PATH".  pin_ip: the address to connect to for
 * HOST (NULL: the system resolver).  port: connect to this port instead of
 * the URL's (0: the URL's); the URL, the Host header, SNI and the name the
 * certificate must carry stay those of the URL (a staging policy host, the
 * lab).  cafile: the roots ("" or NULL: the system store).  cap: body
 * bytes allowed.  Returns NULL with err. */
struct https_fetch *https_start(const char *url, const char *pin_ip, unsigned port,
                                const char *cafile, long deadline_ms, size_t cap, char *err,
                                size_t errlen);
int https_pollfds(struct https_fetch *f, struct pollfd *fds, int max);
int https_timeout_ms(struct https_fetch *f);
/* After poll(): fds as filled by https_pollfds with revents set (n may be
 * 0 on a timeout).  Returns 1 when the fetch is over, 0 while it runs. */
int https_step(struct https_fetch *f, const struct pollfd *fds, int n);
const struct https_result *https_result(const struct https_fetch *f);
void https_free(struct https_fetch *f);

const char *https_outcome_name(enum https_outcome o);  /* "ok", "tls", ... */
/* The library's name and version ("libcurl/7.88.1 OpenSSL/3.0.17"). */
const char *https_library_version(void);

#endif
