/*
 * lab_int.h - what the lab's files share (core/lab only; never included
 * outside core/lab).
 *
 * The lab is split along its seams: lab.c runs the thread (poll loop,
 * accept, start/stop); lab_smtp.c is one connection's SMTP side (buffers,
 * commands, the per-connection state machine); lab_tls.c is the TLS side
 * (certificates, one mbedTLS server config per scenario, the handshake, the
 * hand-built TLS 1.0 hello); lab_https.c is the MTA-STS side (the policy
 * host's HTTPS responder and the local DNS data of the sts-* scenarios);
 * lab_scenarios.c is the scenario table, what each scenario does, and
 * lab_apply().  Owned by the lab module.
 */
#ifndef MXS_LAB_INT_H
#define MXS_LAB_INT_H
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "core.h"
#include "lab/lab.h"
#include "lab/labcert.h"

#define LAB_DOMAIN "lab.mxscope.test"     /* the sts-* scenarios' mail domain */
#define LAB_HOST "mx." LAB_DOMAIN
#define LAB_STS_HOST "mta-sts." LAB_DOMAIN
#define LAB_MAX_CONN 64
#define LAB_IN_MAX 4096            /* one command line is at most ~1000     */
#define LAB_OUT_MAX 16384          /* replies are small; back-pressure above */
#define LAB_OUT_ROOM 2048          /* room needed before the next command   */
#define LAB_IDLE_MS (300 * 1000)   /* RFC 5321 4.5.3.2.7 server timeout     */
#define LAB_SINK_MS (30 * 1000)    /* after the fake TLS 1.0 hello          */
#define LAB_LINGER_MS 5000         /* drain after a failed handshake        */
#define LAB_SLOW_MS 5000           /* slow-banner greeting delay            */
#define LAB_DATA_MAX 10240000L     /* = the SIZE we advertise               */

/* ---- scenarios (lab_scenarios.c) ---------------------------------------- */

enum lab_id {
    L_GOOD, L_EXPIRED, L_EXPIRING_SOON, L_NOT_YET_VALID, L_WRONG_NAME, L_SELF_SIGNED,
    L_UNTRUSTED_ROOT, L_MISSING_INTERMEDIATE, L_CHAIN_ORDER, L_WEAK_KEY,
    L_WEAK_SIGNATURE, L_NOT_SERVER_AUTH, L_NO_STARTTLS, L_STARTTLS_REFUSED,
    L_PLAINTEXT_AFTER_STARTTLS, L_TLS12_ONLY, L_TLS13_ONLY, L_TLS10_ONLY,
    L_CLIENT_CERT_REQUIRED, L_BANNER_REJECTED, L_BANNER_THROTTLED, L_SLOW_BANNER,
    L_MASKED_EHLO, L_FINGERPRINT_AFTER_RENEWAL,
    L_STS_ENFORCE, L_STS_MX_NOT_COVERED, L_STS_TESTING, L_STS_NO_TLSRPT, L_STS_POLICY_404,
    L_STS_WEBPKI_INVALID, L_COUNT
};

/* Certificates made at lab start. */
enum lab_cert {
    C_ROOT, C_INTER, C_GOOD, C_EXPIRED, C_SOON, C_FUTURE, C_WRONGNAME, C_SELF, C_ROOT2,
    C_UNTRUSTED, C_WEAKKEY, C_WEAKMD, C_CLIENTAUTH, C_OLD, C_RENEWED, C_STS, C_COUNT
};

enum lab_greet { G_OK = 0, G_REJECT, G_THROTTLE, G_SLOW };
enum lab_starttls { S_OFFER = 0, S_NONE, S_REFUSE, S_INJECT, S_TLS10, S_MASKED };

struct lab_def {
    enum lab_greet greet;
    enum lab_starttls starttls;
    int chain[4];              /* certificates sent, leaf first; -1 ends     */
    int tls_min, tls_max;      /* 12/13; 0: library default                 */
    int client_cert;           /* authmode REQUIRED                         */
};

/* What each scenario does, indexed by enum lab_id. */
extern const struct lab_def lab_defs[L_COUNT];

/* What an sts-* scenario publishes for LAB_DOMAIN (policy NULL: not an
 * MTA-STS scenario: the target stays the MX host, the address pinned). */
struct lab_sts {
    const char *policy;        /* body of /.well-known/mta-sts.txt           */
    int status;                /* HTTP status of the policy GET (200)        */
    int cert;                  /* the policy host's leaf (sent + C_INTER)    */
    int tlsrpt;                /* publish _smtp._tls.LAB_DOMAIN              */
};
extern const struct lab_sts lab_sts[L_COUNT];

/* ---- state -------------------------------------------------------------- */

enum lab_phase {
    P_GREET_WAIT,       /* slow-banner: nothing said yet                     */
    P_SMTP,             /* commands, plaintext or inside TLS                 */
    P_STARTTLS_FLUSH,   /* 220 queued: send it, then start the handshake     */
    P_HANDSHAKE,        /* mbedTLS server handshake                          */
    P_TLS10_FLUSH,      /* 220 queued: send it, then wait for a ClientHello  */
    P_TLS10_HELLO,      /* reading the ClientHello                           */
    P_SINK,             /* fake hello sent: read and drop until EOF          */
    P_HTTP,             /* HTTPS responder: reading the request head         */
    P_CLOSING           /* send what is queued, then close                   */
};

struct lab_conn {
    int fd;
    int sc;                           /* enum lab_id                         */
    int https;                        /* the scenario's policy host          */
    enum lab_phase phase;
    int64_t greet_at;                 /* P_GREET_WAIT                        */
    int64_t deadline;                 /* idle limit                          */
    unsigned char in[LAB_IN_MAX];
    size_t in_len;
    unsigned char out[LAB_OUT_MAX];
    size_t out_len;
    int tls_active, ssl_init;
    mbedtls_ssl_context ssl;
    size_t tls_pending;               /* length of a write that said WANT_*  */
    int tls_want_write;
    int helo, mail, rcpt, data;       /* SMTP transaction state              */
    int skip_line;                    /* inside a line that was too long     */
    int again;                        /* work left without waiting (see lab_service) */
    long data_bytes;
};

struct lab {
    pthread_t thread;
    int thread_started;
    int wake[2];
    int lfd[L_COUNT];
    uint16_t port[L_COUNT];
    struct labcert cert[C_COUNT];
    mbedtls_x509_crt chain[L_COUNT];
    mbedtls_x509_crt trust;           /* for client-cert-required            */
    mbedtls_ssl_config conf[L_COUNT];
    int conf_ok[L_COUNT];
    /* the MTA-STS policy hosts (lab_https.c), one per sts-* scenario */
    int hfd[L_COUNT];
    uint16_t hport[L_COUNT];
    mbedtls_x509_crt hchain[L_COUNT];
    mbedtls_ssl_config hconf[L_COUNT];
    int hconf_ok[L_COUNT];
    char ubconf[L_COUNT][300];        /* libunbound local data, in dir      */
    char dir[256], cafile[300];
    char expected_fp[41];
    struct lab_conn *conn[LAB_MAX_CONN];
    int64_t accept_pause_until;       /* after EMFILE: do not spin on accept */
};

/* ---- SMTP side (lab_smtp.c) --------------------------------------------- */

/* Queue bytes for the client (cut to what fits: see lab_smtp.c). */
void lab_queue(struct lab_conn *c, const char *s, size_t n);
/* Queue the greeting the scenario calls for and enter its phase. */
void lab_greet(struct lab_conn *c);
/* Move one connection forward as far as it goes without waiting.
 * Returns -1 when it must be closed. */
int lab_service(struct lab *l, struct lab_conn *c, int64_t now);
/* Read what is there.  Returns 1 progress, 0 nothing, -1 EOF or error. */
int lab_read(struct lab_conn *c);

/* ---- TLS side (lab_tls.c) ----------------------------------------------- */

/* Every certificate of enum lab_cert, and the expected fingerprint. */
int lab_make_certs(struct lab *l, char *err, size_t errlen);
/* The root CA as PEM in a private temp folder (l->dir, l->cafile). */
int lab_write_ca(struct lab *l, char *err, size_t errlen);
/* The mbedTLS server config of scenario sc (none when it has no TLS). */
int lab_make_conf(struct lab *l, int sc, char *err, size_t errlen);
/* Set up the server side of TLS on c and enter P_HANDSHAKE. */
int lab_tls_begin(struct lab *l, struct lab_conn *c);
/* Advance the handshake: 1 when it completed (the session is TLS now), 0
 * when it waits for the socket or failed (then c drains in P_SINK). */
int lab_tls_handshake(struct lab_conn *c, int64_t now);
/* Queue a hand-built TLS 1.0 ServerHello (mbedTLS 3.x cannot speak it). */
void lab_tls10_hello(struct lab_conn *c);

/* ---- MTA-STS side (lab_https.c) ------------------------------------------ */

/* For each sts-* scenario: the policy host's server config and the
 * libunbound file of its DNS data (in l->dir). */
int lab_https_setup(struct lab *l, char *err, size_t errlen);
/* P_HTTP: read the request head, queue the answer, then P_CLOSING.
 * Returns -1 when the connection must be closed. */
int lab_http_service(struct lab_conn *c);

#endif
