/*
 * lab.c - the built-in lab: misconfigured SMTP receivers on loopback.
 *
 * One server thread, one poll() loop, one listening socket per scenario on
 * 127.0.0.1 (kernel-chosen port).  Connections are non-blocking and every
 * buffer is bounded: a client that does not read stops being read from
 * (back-pressure), a line without an end is cut, DATA is counted and thrown
 * away, idle sessions are closed.  TLS is a real mbedTLS 3.6 server; the one
 * thing mbedTLS cannot speak (TLS 1.0) is imitated with a hand-built
 * ServerHello record.
 *
 * The lab never prints: it only talks to its sockets.  Owned by the lab
 * module (this file, lab.h, labcert.[ch]).
 */
#include "lab/lab.h"
#include "core.h"
#include "lab/labcert.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/oid.h>
#include <mbedtls/psa_util.h>
#include <mbedtls/ssl.h>
#include <psa/crypto.h>

#define LAB_HOST "mx.lab.mxscope.test"
#define LAB_MAX_CONN 64
#define LAB_IN_MAX 4096            /* one command line is at most ~1000     */
#define LAB_OUT_MAX 16384          /* replies are small; back-pressure above */
#define LAB_OUT_ROOM 2048          /* room needed before the next command   */
#define LAB_IDLE_MS (300 * 1000)   /* RFC 5321 4.5.3.2.7 server timeout     */
#define LAB_SINK_MS (30 * 1000)    /* after the fake TLS 1.0 hello          */
#define LAB_LINGER_MS 5000         /* drain after a failed handshake        */
#define LAB_SLOW_MS 5000           /* slow-banner greeting delay            */
#define LAB_DATA_MAX 10240000L     /* = the SIZE we advertise               */

/* ---- the scenario table ------------------------------------------------ */

enum lab_id {
    L_GOOD, L_EXPIRED, L_EXPIRING_SOON, L_NOT_YET_VALID, L_WRONG_NAME, L_SELF_SIGNED,
    L_UNTRUSTED_ROOT, L_MISSING_INTERMEDIATE, L_CHAIN_ORDER, L_WEAK_KEY,
    L_WEAK_SIGNATURE, L_NOT_SERVER_AUTH, L_NO_STARTTLS, L_STARTTLS_REFUSED,
    L_PLAINTEXT_AFTER_STARTTLS, L_TLS12_ONLY, L_TLS13_ONLY, L_TLS10_ONLY,
    L_CLIENT_CERT_REQUIRED, L_BANNER_REJECTED, L_BANNER_THROTTLED, L_SLOW_BANNER,
    L_MASKED_EHLO, L_FINGERPRINT_AFTER_RENEWAL, L_COUNT
};

const struct lab_scenario lab_scenarios[] = {
    [L_GOOD] = {"good", "a healthy receiver: STARTTLS, TLS 1.2 and 1.3, leaf + intermediate from the lab CA", ""},
    [L_EXPIRED] = {"expired", "the certificate expired yesterday and nobody renewed it", "cert-expired"},
    [L_EXPIRING_SOON] = {"expiring-soon", "the certificate is valid but expires in 10 days: renew now", "cert-expiring-soon"},
    [L_NOT_YET_VALID] = {"not-yet-valid", "a certificate that only becomes valid tomorrow (installed early, or a wrong clock)", "cert-not-yet-valid"},
    [L_WRONG_NAME] = {"wrong-name", "the certificate is for other.example.net, not for the MX host name", "cert-name-mismatch"},
    [L_SELF_SIGNED] = {"self-signed", "a self-signed certificate, as many appliances ship out of the box", "cert-self-signed"},
    [L_UNTRUSTED_ROOT] = {"untrusted-root", "a certificate from a private CA the sender does not trust", "cert-untrusted-root"},
    [L_MISSING_INTERMEDIATE] = {"missing-intermediate", "the server sends its leaf certificate without the intermediate CA", "chain-incomplete"},
    [L_CHAIN_ORDER] = {"chain-order", "the chain is sent out of order: leaf, then the root, then the intermediate", "chain-order"},
    [L_WEAK_KEY] = {"weak-key", "the certificate has a 1024-bit RSA key", "cert-weak-key"},
    [L_WEAK_SIGNATURE] = {"weak-signature", "the certificate is signed with SHA-1", "cert-weak-signature"},
    [L_NOT_SERVER_AUTH] = {"not-server-auth", "the certificate is only for TLS clients (EKU clientAuth), not for servers", "cert-not-server-auth"},
    [L_NO_STARTTLS] = {"no-starttls", "EHLO does not offer STARTTLS: mail to this server travels in clear text", "starttls-not-offered"},
    [L_STARTTLS_REFUSED] = {"starttls-refused", "STARTTLS is offered but answered 454 4.7.0 (TLS not available due to local problem)", "starttls-refused"},
    [L_PLAINTEXT_AFTER_STARTTLS] = {"plaintext-after-starttls", "the 220 to STARTTLS comes with two extra plaintext lines in the same packet (injection)", "starttls-plaintext-leftover"},
    [L_TLS12_ONLY] = {"tls12-only", "the server speaks TLS 1.2 at most (fine unless the sender requires TLS 1.3)", ""},
    [L_TLS13_ONLY] = {"tls13-only", "the server speaks TLS 1.3 only (fine unless the sender is limited to TLS 1.2)", ""},
    [L_TLS10_ONLY] = {"tls10-only", "an old server that only speaks TLS 1.0: modern senders cannot encrypt to it", "tls-obsolete-only"},
    [L_CLIENT_CERT_REQUIRED] = {"client-cert-required", "the server demands a client certificate, so ordinary senders fail the handshake", "tls-client-cert-required"},
    [L_BANNER_REJECTED] = {"banner-rejected", "the server greets with 554: it refuses all mail from this address", "banner-rejected"},
    [L_BANNER_THROTTLED] = {"banner-throttled", "the server greets with 421 (too many connections) and hangs up", "banner-throttled"},
    [L_SLOW_BANNER] = {"slow-banner", "the greeting arrives only after 5 seconds (overloaded server or slow DNS lookups)", "banner-slow"},
    [L_MASKED_EHLO] = {"masked-ehlo", "a firewall's SMTP fixup masks EHLO: STARTTLS shows as XXXXXXXA and is blocked", "ehlo-masked"},
    [L_FINGERPRINT_AFTER_RENEWAL] = {"fingerprint-after-renewal", "the certificate was renewed yesterday but the server still serves the old one", "fingerprint-mismatch"},
    {NULL, NULL, NULL}
};

_Static_assert(sizeof lab_scenarios / sizeof lab_scenarios[0] == L_COUNT + 1,
               "lab_scenarios must list every scenario");

/* Certificates made at lab start. */
enum lab_cert {
    C_ROOT, C_INTER, C_GOOD, C_EXPIRED, C_SOON, C_FUTURE, C_WRONGNAME, C_SELF, C_ROOT2,
    C_UNTRUSTED, C_WEAKKEY, C_WEAKMD, C_CLIENTAUTH, C_OLD, C_RENEWED, C_COUNT
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

#define CH(a, b, c) {a, b, c, -1}
static const struct lab_def lab_defs[L_COUNT] = {
    [L_GOOD] = {G_OK, S_OFFER, CH(C_GOOD, C_INTER, -1), 0, 0, 0},
    [L_EXPIRED] = {G_OK, S_OFFER, CH(C_EXPIRED, C_INTER, -1), 0, 0, 0},
    [L_EXPIRING_SOON] = {G_OK, S_OFFER, CH(C_SOON, C_INTER, -1), 0, 0, 0},
    [L_NOT_YET_VALID] = {G_OK, S_OFFER, CH(C_FUTURE, C_INTER, -1), 0, 0, 0},
    [L_WRONG_NAME] = {G_OK, S_OFFER, CH(C_WRONGNAME, C_INTER, -1), 0, 0, 0},
    [L_SELF_SIGNED] = {G_OK, S_OFFER, CH(C_SELF, -1, -1), 0, 0, 0},
    [L_UNTRUSTED_ROOT] = {G_OK, S_OFFER, CH(C_UNTRUSTED, C_ROOT2, -1), 0, 0, 0},
    [L_MISSING_INTERMEDIATE] = {G_OK, S_OFFER, CH(C_GOOD, -1, -1), 0, 0, 0},
    /* mbedTLS sends the configured list as it is, but the first entry must be
     * the leaf (its key signs the handshake): so the wrong order we can send
     * is "leaf, root, intermediate".  mbedTLS (and most clients) still build
     * the path, so this verifies; the problem is only visible in the order. */
    [L_CHAIN_ORDER] = {G_OK, S_OFFER, CH(C_GOOD, C_ROOT, C_INTER), 0, 0, 0},
    [L_WEAK_KEY] = {G_OK, S_OFFER, CH(C_WEAKKEY, C_INTER, -1), 0, 0, 0},
    [L_WEAK_SIGNATURE] = {G_OK, S_OFFER, CH(C_WEAKMD, C_INTER, -1), 0, 0, 0},
    [L_NOT_SERVER_AUTH] = {G_OK, S_OFFER, CH(C_CLIENTAUTH, C_INTER, -1), 0, 0, 0},
    [L_NO_STARTTLS] = {G_OK, S_NONE, CH(-1, -1, -1), 0, 0, 0},
    [L_STARTTLS_REFUSED] = {G_OK, S_REFUSE, CH(-1, -1, -1), 0, 0, 0},
    [L_PLAINTEXT_AFTER_STARTTLS] = {G_OK, S_INJECT, CH(C_GOOD, C_INTER, -1), 0, 0, 0},
    [L_TLS12_ONLY] = {G_OK, S_OFFER, CH(C_GOOD, C_INTER, -1), 12, 12, 0},
    [L_TLS13_ONLY] = {G_OK, S_OFFER, CH(C_GOOD, C_INTER, -1), 13, 13, 0},
    [L_TLS10_ONLY] = {G_OK, S_TLS10, CH(-1, -1, -1), 0, 0, 0},
    /* TLS 1.2 at most: an mbedTLS 3.6 TLS 1.3 server sends its alert after
     * the client has finished, under keys the mbedTLS client rejects (bad
     * MAC on its first read), which hides the problem.  In TLS 1.2 the
     * CertificateRequest and the handshake_failure alert are plaintext. */
    [L_CLIENT_CERT_REQUIRED] = {G_OK, S_OFFER, CH(C_GOOD, C_INTER, -1), 0, 12, 1},
    [L_BANNER_REJECTED] = {G_REJECT, S_OFFER, CH(-1, -1, -1), 0, 0, 0},
    [L_BANNER_THROTTLED] = {G_THROTTLE, S_OFFER, CH(-1, -1, -1), 0, 0, 0},
    [L_SLOW_BANNER] = {G_SLOW, S_OFFER, CH(C_GOOD, C_INTER, -1), 0, 0, 0},
    [L_MASKED_EHLO] = {G_OK, S_MASKED, CH(-1, -1, -1), 0, 0, 0},
    [L_FINGERPRINT_AFTER_RENEWAL] = {G_OK, S_OFFER, CH(C_OLD, C_INTER, -1), 0, 0, 0},
};
#undef CH

const struct lab_scenario *lab_find(const char *name)
{
    if (!name)
        return NULL;
    for (int i = 0; lab_scenarios[i].name; i++)
        if (strcmp(lab_scenarios[i].name, name) == 0)
            return &lab_scenarios[i];
    return NULL;
}

static int lab_index(const char *name)
{
    const struct lab_scenario *s = lab_find(name);
    return s ? (int)(s - lab_scenarios) : -1;
}

const char *lab_host(void)
{
    return LAB_HOST;
}

/* ---- state -------------------------------------------------------------- */

enum lab_phase {
    P_GREET_WAIT,       /* slow-banner: nothing said yet                     */
    P_SMTP,             /* commands, plaintext or inside TLS                 */
    P_STARTTLS_FLUSH,   /* 220 queued: send it, then start the handshake     */
    P_HANDSHAKE,        /* mbedTLS server handshake                          */
    P_TLS10_FLUSH,      /* 220 queued: send it, then wait for a ClientHello  */
    P_TLS10_HELLO,      /* reading the ClientHello                           */
    P_SINK,             /* fake hello sent: read and drop until EOF          */
    P_CLOSING           /* send what is queued, then close                   */
};

struct lab_conn {
    int fd;
    int sc;                           /* enum lab_id                         */
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
    char dir[256], cafile[300];
    char expected_fp[41];
    struct lab_conn *conn[LAB_MAX_CONN];
    int64_t accept_pause_until;       /* after EMFILE: do not spin on accept */
};

static int64_t lab_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- output ------------------------------------------------------------- */

/* Queue bytes; replies are small and the queue is only filled while it has
 * LAB_OUT_ROOM free, so a full queue means a bug or a hostile client: drop. */
static void lab_queue(struct lab_conn *c, const char *s, size_t n)
{
    if (n > LAB_OUT_MAX - c->out_len)
        n = LAB_OUT_MAX - c->out_len;
    memcpy(c->out + c->out_len, s, n);
    c->out_len += n;
}

static void lab_reply(struct lab_conn *c, const char *s)
{
    lab_queue(c, s, strlen(s));
}

static void lab_consume_out(struct lab_conn *c, size_t n)
{
    memmove(c->out, c->out + n, c->out_len - n);
    c->out_len -= n;
}

/* Returns -1 when the connection is dead. */
static int lab_flush(struct lab_conn *c)
{
    while (c->out_len > 0) {
        if (c->tls_active) {
            size_t n = c->tls_pending ? c->tls_pending
                                      : (c->out_len > 16384 ? 16384 : c->out_len);
            int r = mbedtls_ssl_write(&c->ssl, c->out, n);
            if (r == MBEDTLS_ERR_SSL_WANT_WRITE || r == MBEDTLS_ERR_SSL_WANT_READ) {
                /* mbedTLS wants the very same call again later. */
                c->tls_pending = n;
                c->tls_want_write = (r == MBEDTLS_ERR_SSL_WANT_WRITE);
                return 0;
            }
            if (r < 0)
                return -1;
            c->tls_pending = 0;
            c->tls_want_write = 0;
            lab_consume_out(c, (size_t)r);
        } else {
            /* One send of everything queued: the plaintext-after-starttls
             * injection must reach the client in the same segment as the 220. */
            ssize_t r = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
            if (r < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                    return 0;
                return -1;
            }
            lab_consume_out(c, (size_t)r);
        }
    }
    return 0;
}

/* ---- TLS plumbing ------------------------------------------------------- */

static int lab_bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    struct lab_conn *c = ctx;
    ssize_t r = send(c->fd, buf, len, MSG_NOSIGNAL);
    if (r < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return MBEDTLS_ERR_SSL_WANT_WRITE;
        return MBEDTLS_ERR_NET_SEND_FAILED;
    }
    return (int)r;
}

static int lab_bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    struct lab_conn *c = ctx;
    ssize_t r = recv(c->fd, buf, len, 0);
    if (r < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return MBEDTLS_ERR_SSL_WANT_READ;
        return MBEDTLS_ERR_NET_RECV_FAILED;
    }
    return (int)r;
}

static int lab_tls_begin(struct lab *l, struct lab_conn *c)
{
    mbedtls_ssl_init(&c->ssl);
    c->ssl_init = 1;
    if (!l->conf_ok[c->sc] || mbedtls_ssl_setup(&c->ssl, &l->conf[c->sc]) != 0)
        return -1;
    mbedtls_ssl_set_bio(&c->ssl, c, lab_bio_send, lab_bio_recv, NULL);
    c->phase = P_HANDSHAKE;
    return 0;
}

/* ---- SMTP --------------------------------------------------------------- */

static int lab_verb(const char *line, const char *verb)
{
    size_t n = strlen(verb);
    return strncasecmp(line, verb, n) == 0 && (line[n] == '\0' || line[n] == ' ');
}

static void lab_ehlo_reply(struct lab_conn *c)
{
    const struct lab_def *d = &lab_defs[c->sc];
    if (d->starttls == S_MASKED) {
        /* What a Cisco PIX/ASA "fixup protocol smtp" leaves of an EHLO reply:
         * unknown keywords overwritten, STARTTLS turned into XXXXXXXA. */
        lab_reply(c, "250-" LAB_HOST "\r\n"
                     "250-XXXXXXXA\r\n"
                     "250-**********\r\n"
                     "250-SIZE 10240000\r\n"
                     "250-*******************\r\n"
                     "250 8BITMIME\r\n");
        return;
    }
    lab_reply(c, "250-" LAB_HOST "\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n");
    if (!c->tls_active && d->starttls != S_NONE)
        lab_reply(c, "250-STARTTLS\r\n");
    lab_reply(c, "250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n");
}

/* A TLS 1.0 ServerHello, built by hand because mbedTLS 3.x cannot speak
 * TLS 1.0: record version 3.1, server_version 3.1, TLS_RSA_WITH_AES_128_CBC_SHA,
 * no compression, an empty renegotiation_info extension. */
static void lab_tls10_hello(struct lab_conn *c)
{
    unsigned char m[5 + 4 + 77];
    unsigned char *p = m;
    uint32_t t = (uint32_t)time(NULL);
    *p++ = 0x16; *p++ = 0x03; *p++ = 0x01; *p++ = 0x00; *p++ = 4 + 77;
    *p++ = 0x02; *p++ = 0x00; *p++ = 0x00; *p++ = 77;
    *p++ = 0x03; *p++ = 0x01;
    *p++ = (unsigned char)(t >> 24); *p++ = (unsigned char)(t >> 16);
    *p++ = (unsigned char)(t >> 8); *p++ = (unsigned char)t;
    if (psa_generate_random(p, 28 + 32) != PSA_SUCCESS)
        memset(p, 0x5a, 28 + 32);
    p[28] = 0x20;                   /* session_id length, then 32 bytes      */
    if (psa_generate_random(p + 29, 32) != PSA_SUCCESS)
        memset(p + 29, 0xa5, 32);
    p += 28 + 1 + 32;
    *p++ = 0x00; *p++ = 0x2f;       /* TLS_RSA_WITH_AES_128_CBC_SHA          */
    *p++ = 0x00;                    /* compression: null                     */
    *p++ = 0x00; *p++ = 0x05;       /* extensions length                     */
    *p++ = 0xff; *p++ = 0x01; *p++ = 0x00; *p++ = 0x01; *p++ = 0x00;
    lab_queue(c, (const char *)m, (size_t)(p - m));
}

static void lab_starttls(struct lab_conn *c, const char *arg)
{
    const struct lab_def *d = &lab_defs[c->sc];
    if (d->starttls == S_MASKED) {
        /* The fixup lets no unknown verb through: it arrives as XXXXXXXX. */
        lab_reply(c, "500 5.5.1 Command unrecognized: \"XXXXXXXX\"\r\n");
        return;
    }
    if (d->starttls == S_NONE) {
        lab_reply(c, "502 5.5.1 Error: command not implemented\r\n");
        return;
    }
    if (c->tls_active) {
        lab_reply(c, "554 5.5.1 Error: TLS already active\r\n");
        return;
    }
    if (*arg) {
        lab_reply(c, "501 5.5.4 Syntax: STARTTLS\r\n");
        return;
    }
    if (d->starttls == S_REFUSE) {
        lab_reply(c, "454 4.7.0 TLS not available due to local problem\r\n");
        return;
    }
    /* Anything pipelined after STARTTLS is plaintext the client must not
     * have sent; a careful server drops it (CVE-2011-0411). */
    c->in_len = 0;
    c->skip_line = 0;
    if (d->starttls == S_INJECT) {
        lab_reply(c, "220 2.0.0 Ready to start TLS\r\n250-injected\r\n250 pipelined\r\n");
        c->phase = P_STARTTLS_FLUSH;
    } else if (d->starttls == S_TLS10) {
        lab_reply(c, "220 2.0.0 Ready to start TLS\r\n");
        c->phase = P_TLS10_FLUSH;
    } else {
        lab_reply(c, "220 2.0.0 Ready to start TLS\r\n");
        c->phase = P_STARTTLS_FLUSH;
    }
}

static void lab_command(struct lab_conn *c, char *line)
{
    const char *arg;
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' '))
        line[--n] = '\0';
    arg = strchr(line, ' ');
    arg = arg ? arg + 1 : "";
    while (*arg == ' ')
        arg++;

    if (lab_verb(line, "QUIT")) {
        lab_reply(c, "221 2.0.0 Bye\r\n");
        c->phase = P_CLOSING;
        return;
    }
    if (lab_defs[c->sc].greet == G_REJECT) {
        /* RFC 5321 3.1: after a 554 greeting, wait for QUIT, answer 503. */
        lab_reply(c, "503 5.5.1 Error: no SMTP service here\r\n");
        return;
    }
    if (lab_verb(line, "EHLO") || lab_verb(line, "HELO")) {
        if (!*arg) {
            lab_reply(c, lab_verb(line, "EHLO") ? "501 5.5.4 Syntax: EHLO hostname\r\n"
                                                : "501 5.5.4 Syntax: HELO hostname\r\n");
            return;
        }
        c->helo = 1;
        c->mail = c->rcpt = 0;
        if (lab_verb(line, "EHLO"))
            lab_ehlo_reply(c);
        else
            lab_reply(c, "250 " LAB_HOST "\r\n");
    } else if (lab_verb(line, "STARTTLS")) {
        lab_starttls(c, arg);
    } else if (lab_verb(line, "NOOP")) {
        lab_reply(c, "250 2.0.0 Ok\r\n");
    } else if (lab_verb(line, "RSET")) {
        c->mail = c->rcpt = 0;
        lab_reply(c, "250 2.0.0 Ok\r\n");
    } else if (lab_verb(line, "MAIL")) {
        if (!c->helo)
            lab_reply(c, "503 5.5.1 Error: send HELO/EHLO first\r\n");
        else if (c->mail)
            lab_reply(c, "503 5.5.1 Error: nested MAIL command\r\n");
        else if (strncasecmp(arg, "FROM:", 5) != 0)
            lab_reply(c, "501 5.5.4 Syntax: MAIL FROM:<address>\r\n");
        else {
            c->mail = 1;
            lab_reply(c, "250 2.1.0 Ok\r\n");
        }
    } else if (lab_verb(line, "RCPT")) {
        if (!c->mail)
            lab_reply(c, "503 5.5.1 Error: need MAIL command\r\n");
        else if (strncasecmp(arg, "TO:", 3) != 0)
            lab_reply(c, "501 5.5.4 Syntax: RCPT TO:<address>\r\n");
        else {
            c->rcpt++;
            lab_reply(c, "250 2.1.5 Ok\r\n");
        }
    } else if (lab_verb(line, "DATA")) {
        if (!c->rcpt)
            lab_reply(c, "503 5.5.1 Error: need RCPT command\r\n");
        else {
            c->data = 1;
            c->data_bytes = 0;
            lab_reply(c, "354 End data with <CR><LF>.<CR><LF>\r\n");
        }
    } else if (lab_verb(line, "VRFY")) {
        lab_reply(c, "252 2.0.0 Cannot VRFY user; try RCPT\r\n");
    } else {
        lab_reply(c, "502 5.5.2 Error: command not recognized\r\n");
    }
}

/* One line of message content (without its LF); "." ends DATA. */
static void lab_data_line(struct lab_conn *c, const char *line, size_t n)
{
    if (n > 0 && line[n - 1] == '\r')
        n--;
    if (n == 1 && line[0] == '.') {
        c->data = 0;
        c->mail = c->rcpt = 0;
        lab_reply(c, c->data_bytes > LAB_DATA_MAX
                         ? "552 5.3.4 Error: message too big (discarded)\r\n"
                         : "250 2.0.0 Ok: queued nowhere (the lab discards mail)\r\n");
        return;
    }
    c->data_bytes += (long)n + 2;
    if (c->data_bytes > LAB_DATA_MAX + 1)
        c->data_bytes = LAB_DATA_MAX + 1; /* counted enough to refuse      */
}

/* Handle the complete lines in c->in while there is room to answer. */
static void lab_process(struct lab_conn *c)
{
    while (c->phase == P_SMTP && c->out_len + LAB_OUT_ROOM <= LAB_OUT_MAX) {
        unsigned char *lf = memchr(c->in, '\n', c->in_len);
        if (!lf) {
            if (c->in_len == LAB_IN_MAX) {
                /* A line longer than we keep: drop it, say so once. */
                if (c->data)
                    c->data_bytes += (long)c->in_len;
                else if (!c->skip_line)
                    lab_reply(c, "500 5.5.2 Error: line too long\r\n");
                c->skip_line = 1;
                c->in_len = 0;
            }
            return;
        }
        size_t n = (size_t)(lf - c->in);
        *lf = '\0';
        if (c->skip_line) {
            c->skip_line = 0;
            if (c->data)
                c->data_bytes += (long)n + 1;
        } else if (c->data) {
            lab_data_line(c, (const char *)c->in, n);
        } else if (memchr(c->in, '\0', n)) {
            lab_reply(c, "500 5.5.2 Error: NUL in command\r\n");
        } else {
            lab_command(c, (char *)c->in);
        }
        /* lab_starttls() may have emptied the buffer on purpose. */
        if (c->in_len >= n + 1) {
            memmove(c->in, c->in + n + 1, c->in_len - n - 1);
            c->in_len -= n + 1;
        }
    }
}

/* Read what is there.  Returns 1 progress, 0 nothing, -1 EOF or error. */
static int lab_read(struct lab_conn *c)
{
    size_t room = LAB_IN_MAX - c->in_len;
    if (room == 0)
        return 0;
    if (c->tls_active) {
        int r = mbedtls_ssl_read(&c->ssl, c->in + c->in_len, room);
        if (r == MBEDTLS_ERR_SSL_WANT_READ)
            return 0;
        if (r == MBEDTLS_ERR_SSL_WANT_WRITE) {
            c->tls_want_write = 1;
            return 0;
        }
        if (r == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
            return 1;
        if (r <= 0)
            return -1;
        c->in_len += (size_t)r;
        return 1;
    }
    ssize_t r = recv(c->fd, c->in + c->in_len, room, 0);
    if (r < 0)
        return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -1;
    if (r == 0)
        return -1;
    c->in_len += (size_t)r;
    return 1;
}

static void lab_greet(struct lab_conn *c)
{
    char b[160];
    switch (lab_defs[c->sc].greet) {
    case G_REJECT:
        lab_reply(c, "554 5.7.1 lab.mxscope.test: no SMTP service here\r\n");
        c->phase = P_SMTP;
        break;
    case G_THROTTLE:
        lab_reply(c, "421 4.7.0 lab.mxscope.test: too many connections, try later\r\n");
        c->phase = P_CLOSING;
        break;
    default:
        snprintf(b, sizeof b, "220 %s ESMTP mxscope lab (%s)\r\n", LAB_HOST,
                 lab_scenarios[c->sc].name);
        lab_reply(c, b);
        c->phase = P_SMTP;
        break;
    }
}

/* Move one connection forward as far as it goes without waiting.
 * Returns -1 when it must be closed. */
static int lab_service(struct lab *l, struct lab_conn *c, int64_t now)
{
    c->again = 0;
    for (int rounds = 0; rounds < 64; rounds++) {
        int progress = 0;
        size_t before_out = c->out_len, before_in = c->in_len;
        enum lab_phase before_phase = c->phase;

        if (c->phase == P_GREET_WAIT) {
            if (now < c->greet_at) {
                /* Keep what the client sends early; answer it later. */
                int r = lab_read(c);
                return r < 0 ? -1 : 0;
            }
            lab_greet(c);
        }
        if (lab_flush(c) < 0)
            return -1;
        switch (c->phase) {
        case P_CLOSING:
            if (c->out_len == 0) {
                if (c->tls_active)
                    (void)mbedtls_ssl_close_notify(&c->ssl);
                return -1;
            }
            return 0;
        case P_STARTTLS_FLUSH:
            if (c->out_len > 0)
                return 0;
            if (lab_tls_begin(l, c) < 0)
                return -1;
            progress = 1;
            break;
        case P_HANDSHAKE: {
            int r = mbedtls_ssl_handshake(&c->ssl);
            if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) {
                c->tls_want_write = (r == MBEDTLS_ERR_SSL_WANT_WRITE);
                return 0;
            }
            if (r == MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE &&
                mbedtls_ssl_get_version_number(&c->ssl) != MBEDTLS_SSL_VERSION_TLS1_3) {
                /* mbedTLS 3.6's TLS 1.2 server just hangs up when a required
                 * client certificate is missing; OpenSSL (Postfix) says
                 * handshake_failure first, and that is what senders log. */
                (void)mbedtls_ssl_send_alert_message(&c->ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
                                                     MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE);
            }
            if (r != 0) {
                /* mbedTLS has sent its alert (or we did, above).  Closing now, with the client's
                 * next flight unread, would make the kernel send a RST that
                 * can destroy the alert before the client reads it: half-close
                 * and drain instead, as a well-behaved server does. */
                (void)shutdown(c->fd, SHUT_WR);
                c->in_len = 0;
                c->phase = P_SINK;
                c->deadline = now + LAB_LINGER_MS;
                return 0;
            }
            /* RFC 3207 4.2: forget everything learnt before TLS. */
            c->tls_active = 1;
            c->tls_want_write = 0;
            c->helo = c->mail = c->rcpt = c->data = 0;
            c->in_len = 0;
            c->phase = P_SMTP;
            progress = 1;
            break;
        }
        case P_TLS10_FLUSH:
            if (c->out_len > 0)
                return 0;
            c->phase = P_TLS10_HELLO;
            progress = 1;
            break;
        case P_TLS10_HELLO: {
            int r = lab_read(c);
            if (r < 0)
                return -1;
            if (c->in_len >= 1 && c->in[0] != 0x16)
                return -1;      /* not TLS: a real server would give up too */
            if (c->in_len >= 5) {
                size_t rec = ((size_t)c->in[3] << 8) | c->in[4];
                if (c->in_len >= 5 + rec || c->in_len == LAB_IN_MAX) {
                    lab_tls10_hello(c);
                    c->in_len = 0;
                    c->phase = P_SINK;
                    c->deadline = now + LAB_SINK_MS;
                    progress = 1;
                }
            }
            break;
        }
        case P_SINK: {
            int r = lab_read(c);
            if (r < 0)
                return -1;
            c->in_len = 0;      /* the client's alert: nothing to answer */
            break;
        }
        case P_SMTP: {
            int r = 0;
            if (c->out_len + LAB_OUT_ROOM <= LAB_OUT_MAX)
                r = lab_read(c);
            lab_process(c);
            if (r < 0 && c->phase == P_SMTP) {
                /* EOF (maybe a half-close after "QUIT"): send what is
                 * queued, then close. */
                if (c->out_len == 0)
                    return -1;
                c->phase = P_CLOSING;
            }
            break;
        }
        default:
            break;
        }
        if (c->out_len != before_out || c->in_len != before_in || c->phase != before_phase)
            progress = 1;
        if (!progress)
            return 0;
    }
    /* Still moving after many rounds (a client pipelining hard): let the
     * other connections have their turn and come back without waiting, since
     * what is left may sit in our buffers or mbedTLS's, not in the socket. */
    c->again = 1;
    return 0;
}

/* ---- the thread ---------------------------------------------------------- */

static void lab_conn_free(struct lab_conn *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    if (c->ssl_init)
        mbedtls_ssl_free(&c->ssl);
    free(c);
}

static void lab_accept(struct lab *l, int sc, int64_t now)
{
    for (int k = 0; k < 16; k++) {
        int fd = accept4(l->lfd[sc], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                l->accept_pause_until = now + 100;
            return;
        }
        int slot = -1;
        for (int i = 0; i < LAB_MAX_CONN; i++)
            if (!l->conn[i]) {
                slot = i;
                break;
            }
        struct lab_conn *c = slot >= 0 ? calloc(1, sizeof *c) : NULL;
        if (!c) {
            static const char busy[] = "421 4.3.2 lab: too many connections\r\n";
            (void)send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            close(fd);
            continue;
        }
        c->fd = fd;
        c->sc = sc;
        c->deadline = now + LAB_IDLE_MS;
        if (lab_defs[sc].greet == G_SLOW) {
            c->phase = P_GREET_WAIT;
            c->greet_at = now + LAB_SLOW_MS;
        } else {
            lab_greet(c);
        }
        l->conn[slot] = c;
        if (lab_service(l, c, now) < 0) {
            lab_conn_free(c);
            l->conn[slot] = NULL;
        }
    }
}

static short lab_events(const struct lab_conn *c)
{
    short ev = 0;
    int room_out = c->out_len + LAB_OUT_ROOM <= LAB_OUT_MAX;
    switch (c->phase) {
    case P_GREET_WAIT:
    case P_TLS10_HELLO:
    case P_SINK:
        if (c->in_len < LAB_IN_MAX)
            ev |= POLLIN;
        break;
    case P_SMTP:
        if (room_out && c->in_len < LAB_IN_MAX)
            ev |= POLLIN;
        break;
    case P_HANDSHAKE:
        ev |= POLLIN;
        break;
    default:
        break;
    }
    if (c->tls_active || c->phase == P_HANDSHAKE) {
        if (c->tls_want_write)
            ev |= POLLOUT;
        else if (c->out_len > 0 && !c->tls_pending)
            ev |= POLLOUT;
        else if (c->tls_pending)
            ev |= POLLIN;   /* mbedTLS wanted to read first */
    } else if (c->out_len > 0) {
        ev |= POLLOUT;
    }
    return ev;
}

static void *lab_thread(void *arg)
{
    struct lab *l = arg;
    struct pollfd pfd[1 + L_COUNT + LAB_MAX_CONN];
    int who[1 + L_COUNT + LAB_MAX_CONN];

    for (;;) {
        int n = 0;
        int64_t now = lab_now_ms(), next = now + 60000;
        pfd[n].fd = l->wake[0];
        pfd[n].events = POLLIN;
        who[n++] = -1;
        for (int i = 0; i < L_COUNT; i++) {
            pfd[n].fd = l->lfd[i];
            pfd[n].events = now >= l->accept_pause_until ? POLLIN : 0;
            who[n++] = 1000 + i;
        }
        if (now < l->accept_pause_until && l->accept_pause_until < next)
            next = l->accept_pause_until;
        for (int i = 0; i < LAB_MAX_CONN; i++) {
            struct lab_conn *c = l->conn[i];
            if (!c)
                continue;
            pfd[n].fd = c->fd;
            pfd[n].events = lab_events(c);
            who[n++] = i;
            if (c->deadline < next)
                next = c->deadline;
            if (c->phase == P_GREET_WAIT && c->greet_at < next)
                next = c->greet_at;
            if (c->again)
                next = now;
        }
        int timeout = next > now ? (int)(next - now) : 0;
        int r = poll(pfd, (nfds_t)n, timeout);
        if (r < 0 && errno != EINTR)
            break;
        if (r > 0 && (pfd[0].revents & POLLIN))
            break;                          /* lab_stop() */
        now = lab_now_ms();
        for (int k = 1; k < n; k++) {
            if (who[k] >= 1000) {
                if (pfd[k].revents & POLLIN)
                    lab_accept(l, who[k] - 1000, now);
                continue;
            }
            struct lab_conn *c = l->conn[who[k]];
            if (!c)
                continue;
            int dead = 0;
            if (pfd[k].revents & POLLNVAL)
                dead = 1;
            else if (pfd[k].revents || c->again ||
                     (c->phase == P_GREET_WAIT && now >= c->greet_at)) {
                if (pfd[k].revents)
                    if (c->phase != P_SINK)
                        c->deadline = now + LAB_IDLE_MS;
                dead = lab_service(l, c, now) < 0;
                /* POLLERR/POLLHUP without readable data: nothing more to come. */
                if (!dead && (pfd[k].revents & (POLLERR | POLLHUP)) &&
                    !(pfd[k].revents & POLLIN))
                    dead = 1;
            } else if (now >= c->deadline) {
                if (c->phase == P_SMTP && !c->tls_active) {
                    /* A last word, as Postfix does; best effort. */
                    static const char bye[] = "421 4.4.2 " LAB_HOST " Error: timeout exceeded\r\n";
                    (void)send(c->fd, bye, sizeof bye - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
                }
                dead = 1;
            }
            if (dead) {
                lab_conn_free(c);
                l->conn[who[k]] = NULL;
            }
        }
    }
    return NULL;
}

/* ---- start / stop -------------------------------------------------------- */

static void lab_free_all(struct lab *l)
{
    for (int i = 0; i < LAB_MAX_CONN; i++) {
        lab_conn_free(l->conn[i]);
        l->conn[i] = NULL;
    }
    for (int i = 0; i < L_COUNT; i++) {
        if (l->lfd[i] >= 0)
            close(l->lfd[i]);
        mbedtls_ssl_config_free(&l->conf[i]);
        mbedtls_x509_crt_free(&l->chain[i]);
    }
    mbedtls_x509_crt_free(&l->trust);
    for (int i = 0; i < C_COUNT; i++)
        labcert_free(&l->cert[i]);
    if (l->wake[0] >= 0)
        close(l->wake[0]);
    if (l->wake[1] >= 0)
        close(l->wake[1]);
    if (l->cafile[0])
        unlink(l->cafile);
    if (l->dir[0])
        rmdir(l->dir);
    free(l);
}

static int lab_listen(uint16_t *port)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 64) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) < 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

static int lab_make_certs(struct lab *l, char *err, size_t errlen)
{
    time_t now = time(NULL);
    const time_t day = 86400;
    const char *mx[] = {LAB_HOST, NULL};
    struct {
        int id, issuer;
        struct labcert_spec s;
    } t[] = {
        {C_ROOT, -1, {.subject = "CN=mxscope lab root CA,O=mxscope lab", .not_before = now - 30 * day,
                      .not_after = now + 3650 * day, .is_ca = 1, .max_pathlen = -1}},
        {C_INTER, C_ROOT, {.subject = "CN=mxscope lab intermediate CA,O=mxscope lab",
                           .not_before = now - 30 * day, .not_after = now + 1825 * day,
                           .is_ca = 1, .max_pathlen = 0}},
        {C_GOOD, C_INTER, {.subject = "CN=" LAB_HOST ",O=mxscope lab", .san = {LAB_HOST},
                           .not_before = now - day, .not_after = now + 90 * day,
                           .eku = LABCERT_EKU_SERVER}},
        {C_EXPIRED, C_INTER, {.subject = "CN=" LAB_HOST ",O=mxscope lab (expired)",
                              .san = {LAB_HOST}, .not_before = now - 91 * day,
                              .not_after = now - day, .eku = LABCERT_EKU_SERVER}},
        /* An hour over ten days, so "days left" rounds down to exactly 10. */
        {C_SOON, C_INTER, {.subject = "CN=" LAB_HOST ",O=mxscope lab (expiring soon)",
                           .san = {LAB_HOST}, .not_before = now - 80 * day,
                           .not_after = now + 10 * day + 3600, .eku = LABCERT_EKU_SERVER}},
        {C_FUTURE, C_INTER, {.subject = "CN=" LAB_HOST ",O=mxscope lab (not yet valid)",
                             .san = {LAB_HOST}, .not_before = now + day,
                             .not_after = now + 91 * day, .eku = LABCERT_EKU_SERVER}},
        {C_WRONGNAME, C_INTER, {.subject = "CN=other.example.net,O=mxscope lab",
                                .san = {"other.example.net"}, .not_before = now - day,
                                .not_after = now + 90 * day, .eku = LABCERT_EKU_SERVER}},
        {C_SELF, -1, {.subject = "CN=" LAB_HOST ",O=mxscope lab (self-signed)",
                      .san = {LAB_HOST}, .not_before = now - day, .not_after = now + 3650 * day,
                      .eku = LABCERT_EKU_SERVER}},
        {C_ROOT2, -1, {.subject = "CN=mxscope lab private root CA,O=not trusted by anyone",
                       .not_before = now - 30 * day, .not_after = now + 3650 * day,
                       .is_ca = 1, .max_pathlen = -1}},
        {C_UNTRUSTED, C_ROOT2, {.subject = "CN=" LAB_HOST ",O=mxscope lab (private CA)",
                                .san = {LAB_HOST}, .not_before = now - day,
                                .not_after = now + 90 * day, .eku = LABCERT_EKU_SERVER}},
        {C_WEAKKEY, C_INTER, {.subject = "CN=" LAB_HOST ",O=mxscope lab (RSA 1024)",
                              .san = {LAB_HOST}, .not_before = now - day,
                              .not_after = now + 90 * day, .key = LABCERT_RSA_1024,
                              .eku = LABCERT_EKU_SERVER}},
        {C_WEAKMD, C_INTER, {.subject = "CN=" LAB_HOST ",O=mxscope lab (SHA-1)",
                             .san = {LAB_HOST}, .not_before = now - day,
                             .not_after = now + 90 * day, .md = MBEDTLS_MD_SHA1,
                             .eku = LABCERT_EKU_SERVER}},
        {C_CLIENTAUTH, C_INTER, {.subject = "CN=" LAB_HOST ",O=mxscope lab (client only)",
                                 .san = {LAB_HOST}, .not_before = now - day,
                                 .not_after = now + 90 * day, .eku = LABCERT_EKU_CLIENT}},
        {C_OLD, C_INTER, {.subject = "CN=" LAB_HOST ",O=mxscope lab (before renewal)",
                          .san = {LAB_HOST}, .not_before = now - 300 * day,
                          .not_after = now + 65 * day, .eku = LABCERT_EKU_SERVER}},
        {C_RENEWED, C_INTER, {.subject = "CN=" LAB_HOST ",O=mxscope lab (renewed)",
                              .san = {LAB_HOST}, .not_before = now - day,
                              .not_after = now + 365 * day, .eku = LABCERT_EKU_SERVER}},
    };
    (void)mx;
    _Static_assert(sizeof t / sizeof t[0] == C_COUNT, "every certificate has a spec");
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        const struct labcert *iss = t[i].issuer >= 0 ? &l->cert[t[i].issuer] : NULL;
        if (labcert_make(&l->cert[t[i].id], &t[i].s, iss, err, errlen) != 0)
            return -1;
    }
    memcpy(l->expected_fp, l->cert[C_RENEWED].sha1, sizeof l->expected_fp);
    return 0;
}

static int lab_write_ca(struct lab *l, char *err, size_t errlen)
{
    char pem[4096];
    const char *tmp = getenv("TMPDIR");
    int len, fd;
    if (!tmp || !*tmp || strlen(tmp) > 200)
        tmp = "/tmp";
    snprintf(l->dir, sizeof l->dir, "%s/mxscope-lab.XXXXXX", tmp);
    if (!mkdtemp(l->dir)) {
        snprintf(err, errlen, "lab: mkdtemp in %s: %s", tmp, strerror(errno));
        l->dir[0] = '\0';
        return -1;
    }
    (void)chmod(l->dir, 0700);
    len = labcert_pem(&l->cert[C_ROOT], pem, sizeof pem);
    if (len < 0) {
        snprintf(err, errlen, "lab: CA certificate does not fit the PEM buffer");
        return -1;
    }
    snprintf(l->cafile, sizeof l->cafile, "%s/lab-ca.pem", l->dir);
    fd = open(l->cafile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "lab: %s: %s", l->cafile, strerror(errno));
        l->cafile[0] = '\0';
        return -1;
    }
    if (write(fd, pem, (size_t)len) != (ssize_t)len) {
        snprintf(err, errlen, "lab: writing %s: %s", l->cafile, strerror(errno));
        close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

static int lab_make_conf(struct lab *l, int sc, char *err, size_t errlen)
{
    const struct lab_def *d = &lab_defs[sc];
    mbedtls_ssl_config *conf = &l->conf[sc];
    int ret;
    if (d->chain[0] < 0)
        return 0;   /* no TLS in this scenario */
    for (int i = 0; i < 4 && d->chain[i] >= 0; i++) {
        ret = labcert_chain_add(&l->chain[sc], &l->cert[d->chain[i]]);
        if (ret != 0)
            goto fail;
    }
    if (sc == L_NOT_SERVER_AUTH) {
        /* An mbedTLS server refuses to use its own certificate when the EKU
         * lacks serverAuth (TLS 1.2: no suitable ciphersuite; TLS 1.3: no
         * certificate), so it answers handshake_failure and the client never
         * sees the certificate.  Other servers (Postfix/OpenSSL) send it.  To
         * imitate them, hide the EKU from our own server-side parsed copy:
         * the DER that goes on the wire (crt->raw) is unchanged.  This uses
         * a private field of mbedTLS 3.6; test_lab checks the effect. */
        l->chain[sc].MBEDTLS_PRIVATE(ext_types) &= ~MBEDTLS_X509_EXT_EXTENDED_KEY_USAGE;
    }
    ret = mbedtls_ssl_config_defaults(conf, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                      MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret != 0)
        goto fail;
    mbedtls_ssl_conf_rng(conf, mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE);
    ret = mbedtls_ssl_conf_own_cert(conf, &l->chain[sc], &l->cert[d->chain[0]].key);
    if (ret != 0)
        goto fail;
    if (mbedtls_pk_get_type(&l->cert[d->chain[0]].key) == MBEDTLS_PK_RSA) {
        /* mbedTLS 3.6 as a TLS 1.3 server picks the client's first RSA-PSS
         * hash even when the key is too short for it (PSS-SHA512 needs a
         * salt of 64 bytes: 130 > 128 bytes of an RSA-1024 key) and the
         * client rejects the signature.  Offer SHA-256 only, as a real
         * server with such a key effectively does. */
        static const uint16_t rsa_sig_algs[] = {
            MBEDTLS_TLS1_3_SIG_RSA_PSS_RSAE_SHA256, MBEDTLS_TLS1_3_SIG_RSA_PKCS1_SHA256,
            MBEDTLS_TLS1_3_SIG_NONE};
        mbedtls_ssl_conf_sig_algs(conf, rsa_sig_algs);
    }
    if (d->tls_min == 12)
        mbedtls_ssl_conf_min_tls_version(conf, MBEDTLS_SSL_VERSION_TLS1_2);
    if (d->tls_min == 13)
        mbedtls_ssl_conf_min_tls_version(conf, MBEDTLS_SSL_VERSION_TLS1_3);
    if (d->tls_max == 12)
        mbedtls_ssl_conf_max_tls_version(conf, MBEDTLS_SSL_VERSION_TLS1_2);
    if (d->tls_max == 13)
        mbedtls_ssl_conf_max_tls_version(conf, MBEDTLS_SSL_VERSION_TLS1_3);
    if (d->client_cert) {
        mbedtls_ssl_conf_authmode(conf, MBEDTLS_SSL_VERIFY_REQUIRED);
        mbedtls_ssl_conf_ca_chain(conf, &l->trust, NULL);
    } else {
        mbedtls_ssl_conf_authmode(conf, MBEDTLS_SSL_VERIFY_NONE);
    }
    l->conf_ok[sc] = 1;
    return 0;
fail: {
        char m[128];
        mbedtls_strerror(ret, m, sizeof m);
        snprintf(err, errlen, "lab: TLS set-up for %s: %s", lab_scenarios[sc].name, m);
        return -1;
    }
}

struct lab *lab_start(char *err, size_t errlen)
{
    char dummy[8];
    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof dummy;
    }
    err[0] = '\0';
    if (psa_crypto_init() != PSA_SUCCESS) {
        snprintf(err, errlen, "lab: psa_crypto_init failed");
        return NULL;
    }
    struct lab *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, errlen, "lab: out of memory");
        return NULL;
    }
    l->wake[0] = l->wake[1] = -1;
    for (int i = 0; i < L_COUNT; i++) {
        l->lfd[i] = -1;
        mbedtls_ssl_config_init(&l->conf[i]);
        mbedtls_x509_crt_init(&l->chain[i]);
    }
    mbedtls_x509_crt_init(&l->trust);
    for (int i = 0; i < C_COUNT; i++)
        labcert_init(&l->cert[i]);

    if (lab_make_certs(l, err, errlen) != 0 || lab_write_ca(l, err, errlen) != 0)
        goto fail;
    if (labcert_chain_add(&l->trust, &l->cert[C_ROOT]) != 0) {
        snprintf(err, errlen, "lab: cannot parse the lab root");
        goto fail;
    }
    for (int i = 0; i < L_COUNT; i++)
        if (lab_make_conf(l, i, err, errlen) != 0)
            goto fail;
    for (int i = 0; i < L_COUNT; i++) {
        l->lfd[i] = lab_listen(&l->port[i]);
        if (l->lfd[i] < 0) {
            snprintf(err, errlen, "lab: cannot listen on 127.0.0.1: %s", strerror(errno));
            goto fail;
        }
    }
    if (pipe2(l->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        snprintf(err, errlen, "lab: pipe: %s", strerror(errno));
        l->wake[0] = l->wake[1] = -1;
        goto fail;
    }
    {
        /* The lab thread takes no signals: SIGWINCH, SIGINT ... belong to the
         * front end's thread. */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        int r = pthread_create(&l->thread, NULL, lab_thread, l);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r != 0) {
            snprintf(err, errlen, "lab: pthread_create: %s", strerror(r));
            goto fail;
        }
        l->thread_started = 1;
    }
    return l;
fail:
    lab_free_all(l);
    return NULL;
}

void lab_stop(struct lab *l)
{
    if (!l)
        return;
    if (l->thread_started) {
        char b = 'q';
        while (write(l->wake[1], &b, 1) < 0 && errno == EINTR)
            ;
        pthread_join(l->thread, NULL);
    }
    lab_free_all(l);
}

uint16_t lab_port(const struct lab *l, const char *scenario)
{
    int i = lab_index(scenario);
    return (l && i >= 0) ? l->port[i] : 0;
}

const char *lab_ca_file(const struct lab *l)
{
    return l ? l->cafile : "";
}

const char *lab_expected_fingerprint(const struct lab *l)
{
    return l ? l->expected_fp : "";
}

static int lab_copy(char *dst, size_t n, const char *src)
{
    size_t len = strlen(src);
    if (len >= n)
        return -1;
    memcpy(dst, src, len + 1);
    return 0;
}

int lab_apply(const struct lab *l, const char *scenario, struct mxs_settings *s, char *err,
              size_t errlen)
{
    char dummy[8];
    int i = lab_index(scenario);
    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof dummy;
    }
    if (!l || !s) {
        snprintf(err, errlen, "lab: not running");
        return -1;
    }
    if (i < 0) {
        snprintf(err, errlen, "lab: no scenario \"%.64s\" (try --lab --list)",
                 scenario ? scenario : "");
        return -1;
    }
    if (lab_copy(s->target, sizeof s->target, LAB_HOST) != 0 ||
        lab_copy(s->connect_addr, sizeof s->connect_addr, "127.0.0.1") != 0 ||
        lab_copy(s->cafile, sizeof s->cafile, l->cafile) != 0) {
        snprintf(err, errlen, "lab: a setting does not fit");
        return -1;
    }
    s->target_is_host = 1;
    s->port = l->port[i];
    if (i == L_FINGERPRINT_AFTER_RENEWAL)
        (void)lab_copy(s->expect_fp, sizeof s->expect_fp, l->expected_fp);
    else if (strcmp(s->expect_fp, l->expected_fp) == 0)
        s->expect_fp[0] = '\0';  /* ours, from an earlier scenario: not carried over */
    return 0;
}
