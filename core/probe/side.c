/*
 * side.c - side handshakes (see side.h).  Owner: probe.
 *
 * A side probe is a miniature of the main probe: connect, greeting, EHLO,
 * STARTTLS (unless implicit TLS), then either a hand-built legacy
 * ClientHello whose first answer is read, or a full mbedTLS handshake with a
 * restricted offer.  Everything is bounded: replies go through the same
 * SMTP parser as the main probe (line and reply limits), the TLS answer
 * through the record decoder; the caller's stage deadline bounds the time.
 * Nothing a side probe learns changes the main session: it only adds facts.
 */
#include "probe/side.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "base/esc.h"
#include "probe/smtp.h"
#include "probe/tls.h"
#include "probe/tlsrec.h"

enum side_state { ST_CONNECT, ST_BANNER, ST_EHLO, ST_STARTTLS, ST_HELLO, ST_TLS, ST_DONE };

struct side_probe {
    struct mxs_settings set;
    enum side_kind kind;
    struct mxs_addr addr;
    uint16_t port;
    int implicit_tls;
    char ehlo_name[256];
    char sni[256];
    int has_sni;
    struct net_transport t;
    int t_open;
    enum side_state st;
    int want_write;              /* waiting for POLLOUT                      */
    unsigned char out[1024];     /* bytes still to write                     */
    size_t out_len, out_off;
    struct smtp_parser parser;
    struct tlsrec_stream rs;     /* hello: the server's answer               */
    struct tlsrec_facts rf;
    struct tls_client *tls;
    int keep;                    /* a completed PKCS#1 retry: kept open      */
    side_note_cb note;
    void *note_arg;
    int64_t start_us;
    struct side_result res;
};

static int64_t side_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const char *side_kind_words(enum side_kind k)
{
    switch (k) {
    case SIDE_HELLO_TLS10: return "TLS 1.0 probe";
    case SIDE_HELLO_TLS11: return "TLS 1.1 probe";
    case SIDE_TLS_ECDSA: return "ECDSA-only handshake";
    case SIDE_TLS_RSA: return "RSA-only handshake";
    case SIDE_TLS12_PKCS1: return "TLS 1.2 handshake without RSA-PSS";
    }
    return "side probe";
}

static void side_notef(struct side_probe *p, const char *fmt, ...)
{
    char line[512], full[600];
    va_list ap;
    if (!p->note)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    snprintf(full, sizeof full, "%s: %s", side_kind_words(p->kind), line);
    p->note(p->note_arg, full);
}

static void side_close(struct side_probe *p)
{
    if (p->keep)
        return;                 /* for side_adopt, or side_free */
    if (p->tls) {
        tls_client_free(p->tls);
        p->tls = NULL;
    }
    if (p->t_open) {
        p->t.ops->close(p->t.ctx);
        p->t_open = 0;
    }
}

static void side_finish(struct side_probe *p, enum side_end end)
{
    p->res.end = end;
    p->res.elapsed_ms = (side_now_us() - p->start_us) / 1000;
    p->st = ST_DONE;
    side_close(p);
}

static void side_fail(struct side_probe *p, const char *fmt, ...)
{
    char why[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(p->res.error, sizeof p->res.error, "%s", why);
    side_notef(p, "stopped: %s", why);
    side_finish(p, SIDE_FAILED);
}

/* ---- the legacy ClientHello --------------------------------------------- */

static size_t put16(unsigned char *b, size_t o, unsigned v)
{
    b[o] = (unsigned char)(v >> 8);
    b[o + 1] = (unsigned char)v;
    return o + 2;
}

size_t side_hello_build(int v, const char *sni, const unsigned char random[32],
                        unsigned char *out, size_t outlen)
{
    /* What TLS 1.0/1.1 servers of the last twenty years accept: ECDHE and
     * plain RSA with AES-CBC and 3DES, SHA-1 MACs (the only MACs 1.0/1.1
     * have), DHE for old OpenSSL set-ups. */
    static const unsigned suites[] = {
        0xc014, 0xc013, 0xc00a, 0xc009,     /* ECDHE-RSA/ECDSA-AES256/128-SHA */
        0x0039, 0x0033,                     /* DHE-RSA-AES256/128-SHA         */
        0x0035, 0x002f,                     /* AES256/128-SHA                 */
        0x000a                              /* DES-CBC3-SHA                   */
    };
    unsigned char b[600];
    size_t n = 0, sni_len = sni ? strlen(sni) : 0;
    size_t ext_at, hs_at, len;

    if ((v != 0x0301 && v != 0x0302) || sni_len > 253)
        return 0;
    b[n++] = 22;                            /* handshake record               */
    n = put16(b, n, 0x0301);                /* record version: 1.0, as usual  */
    n += 2;                                 /* record length, below           */
    hs_at = n;
    b[n++] = 1;                             /* client_hello                   */
    n += 3;                                 /* handshake length, below        */
    n = put16(b, n, (unsigned)v);
    memcpy(b + n, random, 32);
    n += 32;
    b[n++] = 0;                             /* no session id                  */
    n = put16(b, n, (unsigned)(sizeof suites / sizeof suites[0] * 2));
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
        n = put16(b, n, suites[i]);
    b[n++] = 1;                             /* compression methods: null      */
    b[n++] = 0;
    ext_at = n;
    n += 2;                                 /* extensions length, below       */
    if (sni_len > 0) {
        n = put16(b, n, 0x0000);            /* server_name                    */
        n = put16(b, n, (unsigned)(sni_len + 5));
        n = put16(b, n, (unsigned)(sni_len + 3));
        b[n++] = 0;                         /* host_name                      */
        n = put16(b, n, (unsigned)sni_len);
        memcpy(b + n, sni, sni_len);
        n += sni_len;
    }
    n = put16(b, n, 0x000a);                /* supported_groups               */
    n = put16(b, n, 8);
    n = put16(b, n, 6);
    n = put16(b, n, 0x001d);                /* x25519                         */
    n = put16(b, n, 0x0017);                /* secp256r1                      */
    n = put16(b, n, 0x0018);                /* secp384r1                      */
    n = put16(b, n, 0x000b);                /* ec_point_formats: uncompressed */
    n = put16(b, n, 2);
    b[n++] = 1;
    b[n++] = 0;
    n = put16(b, n, 0xff01);                /* renegotiation_info: empty      */
    n = put16(b, n, 1);
    b[n++] = 0;
    put16(b, ext_at, (unsigned)(n - ext_at - 2));
    len = n - hs_at - 4;
    b[hs_at + 1] = (unsigned char)(len >> 16);
    b[hs_at + 2] = (unsigned char)(len >> 8);
    b[hs_at + 3] = (unsigned char)len;
    put16(b, 3, (unsigned)(n - 5));
    if (n > outlen)
        return 0;
    memcpy(out, b, n);
    return n;
}

/* ---- I/O ---------------------------------------------------------------- */

static void side_queue(struct side_probe *p, const void *data, size_t n)
{
    if (n > sizeof p->out)
        n = sizeof p->out;
    memcpy(p->out, data, n);
    p->out_len = n;
    p->out_off = 0;
}

/* 1 all written, 0 would block, -1 failed (the probe is finished). */
static int side_flush(struct side_probe *p)
{
    while (p->out_off < p->out_len) {
        ssize_t w = p->t.ops->write(p->t.ctx, p->out + p->out_off, p->out_len - p->out_off);
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            p->want_write = 1;
            return 0;
        }
        if (w <= 0) {
            side_fail(p, "write: %s", w < 0 ? strerror(errno) : "connection closed");
            return -1;
        }
        p->out_off += (size_t)w;
    }
    p->want_write = 0;
    p->out_len = p->out_off = 0;
    return 1;
}

/* Read one SMTP reply.  1 complete (*r), 0 would block, -1 finished. */
static int side_reply(struct side_probe *p, struct mxs_reply *r, const char *what)
{
    for (;;) {
        unsigned char buf[2048];
        size_t used = 0;
        enum smtp_feed_result fr = smtp_parser_feed(&p->parser, NULL, 0, &used, r);
        if (fr == SMTP_REPLY)
            return 1;
        if (fr != SMTP_NEED_MORE) {
            side_fail(p, "%s: the server's reply is not SMTP", what);
            return -1;
        }
        ssize_t n = p->t.ops->read(p->t.ctx, buf, sizeof buf);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n <= 0) {
            side_fail(p, "%s: %s", what, n < 0 ? strerror(errno) : "the server closed the connection");
            return -1;
        }
        size_t off = 0;
        while (off < (size_t)n) {
            used = 0;
            fr = smtp_parser_feed(&p->parser, buf + off, (size_t)n - off, &used, r);
            off += used;
            if (fr == SMTP_REPLY) {
                /* A side probe has nothing to do with extra bytes: a
                 * pipelining server's, or injected ones after 220. */
                return 1;
            }
            if (fr != SMTP_NEED_MORE) {
                side_fail(p, "%s: the server's reply is not SMTP", what);
                return -1;
            }
            if (used == 0)
                break;
        }
    }
}

static void side_cmd(struct side_probe *p, const char *line)
{
    char buf[300];
    int n = snprintf(buf, sizeof buf, "%s\r\n", line);
    side_queue(p, buf, n > 0 ? (size_t)n : 0);
}

static void side_start_tls(struct side_probe *p)
{
    if (p->kind == SIDE_HELLO_TLS10 || p->kind == SIDE_HELLO_TLS11) {
        unsigned char rnd[32], hello[600];
        if (getrandom(rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd)
            memset(rnd, 0x5a, sizeof rnd);     /* never a secret: no keys follow */
        int v = p->kind == SIDE_HELLO_TLS10 ? 0x0301 : 0x0302;
        size_t n = side_hello_build(v, p->has_sni ? p->sni : NULL, rnd, hello, sizeof hello);
        side_queue(p, hello, n);
        side_notef(p, "ClientHello %s sent (%zu bytes)", tlsrec_version_name(v), n);
        p->st = ST_HELLO;
        return;
    }
    char err[200] = "";
    if (p->kind == SIDE_TLS12_PKCS1)
        p->set.tls_min = p->set.tls_max = 12;
    p->tls = tls_client_new(&p->set, p->has_sni ? p->sni : NULL, &p->t, NULL, NULL, err,
                            sizeof err);
    if (!p->tls) {
        side_fail(p, "TLS set-up: %s", err);
        return;
    }
    tls_client_offer(p->tls, p->kind == SIDE_TLS_ECDSA ? TLS_SIG_ECDSA
                             : p->kind == SIDE_TLS_RSA ? TLS_SIG_RSA : TLS_SIG_PKCS1);
    p->st = ST_TLS;
}

/* ---- the states ----------------------------------------------------------- */

static int side_do_hello(struct side_probe *p)
{
    if (p->out_len && side_flush(p) <= 0)
        return p->st == ST_DONE;
    for (;;) {
        unsigned char buf[4096];
        ssize_t n = p->t.ops->read(p->t.ctx, buf, sizeof buf);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n <= 0) {
            p->res.closed = 1;
            side_notef(p, "the server closed the connection without answering (%s)",
                       n < 0 ? strerror(errno) : "EOF");
            side_finish(p, SIDE_ANSWERED);
            return 1;
        }
        tlsrec_feed(&p->rs, 1, buf, (size_t)n, &p->rf, NULL, NULL);
        if (p->rf.not_tls) {
            char esc[200];
            mxs_escape((const char *)p->rf.not_tls_bytes, p->rf.n_not_tls, esc, sizeof esc, 0);
            p->res.not_tls = 1;
            side_notef(p, "the answer is not TLS: %s", esc);
            side_finish(p, SIDE_ANSWERED);
            return 1;
        }
        if (p->rf.alert_desc >= 0) {
            const char *a = tlsrec_alert_name(p->rf.alert_desc);
            p->res.alert_desc = p->rf.alert_desc;
            side_notef(p, "the server refused it: alert %s(%d)", a ? a : "unknown",
                       p->rf.alert_desc);
            side_finish(p, SIDE_ANSWERED);
            return 1;
        }
        if (p->rf.sh_seen) {
            const char *vn = tlsrec_version_name(p->rf.sh_selected_version);
            p->res.server_hello = 1;
            p->res.server_version = p->rf.sh_selected_version;
            side_notef(p, "ServerHello %s: the server accepts it (handshake not completed)",
                       vn ? vn : "(unknown version)");
            side_finish(p, SIDE_ANSWERED);
            return 1;
        }
    }
}

static int side_do_tls(struct side_probe *p)
{
    int r = tls_client_handshake(p->tls);
    if (r == TLS_WANT_READ || r == TLS_WANT_WRITE) {
        p->want_write = r == TLS_WANT_WRITE;
        return 0;
    }
    struct mxs_tls_facts f;
    memset(&f, 0, sizeof f);
    tls_client_facts(p->tls, &f);
    const unsigned char *der[MXS_MAX_CHAIN];
    size_t len[MXS_MAX_CHAIN];
    unsigned flags[MXS_MAX_CHAIN];
    int total = 0;
    int n = tls_client_chain(p->tls, der, len, flags, MXS_MAX_CHAIN, &total);
    for (int i = 0; i < n; i++) {
        p->res.der[i] = malloc(len[i]);
        if (!p->res.der[i])
            break;
        memcpy(p->res.der[i], der[i], len[i]);
        p->res.der_len[i] = len[i];
        p->res.flags[i] = flags[i];
        p->res.n_chain++;
    }
    p->res.handshake_ok = r == TLS_OK;
    p->res.tls_version = f.version;
    if (r == TLS_OK) {
        side_notef(p, "%s %s, %d certificate%s", f.version_name, f.cipher, p->res.n_chain,
                   p->res.n_chain == 1 ? "" : "s");
        if (p->kind == SIDE_TLS12_PKCS1)
            p->keep = 1;        /* the engine goes on over this session */
        else
            tls_client_close_notify(p->tls);
    } else {
        snprintf(p->res.tls_error, sizeof p->res.tls_error, "%s", f.error);
        side_notef(p, "the handshake failed: %s (%d certificate%s seen)", f.error,
                   p->res.n_chain, p->res.n_chain == 1 ? "" : "s");
    }
    side_finish(p, SIDE_ANSWERED);
    return 1;
}

int side_step(struct side_probe *p, int64_t now_us)
{
    struct mxs_reply r;
    int e = 0;
    (void)now_us;

    while (p->st != ST_DONE) {
        switch (p->st) {
        case ST_CONNECT:
            if (p->t.ops->finish(p->t.ctx, &e) != 0) {
                side_fail(p, "connect to %s port %u: %s", p->addr.text, (unsigned)p->port,
                          strerror(e));
                return 1;
            }
            p->want_write = 0;
            if (p->implicit_tls) {
                side_start_tls(p);
            } else {
                p->st = ST_BANNER;
            }
            break;
        case ST_BANNER:
            if ((e = side_reply(p, &r, "greeting")) <= 0)
                return e < 0;
            if (r.code != 220) {
                side_fail(p, "greeting %d", r.code);
                return 1;
            }
            {
                char cmd[300];
                snprintf(cmd, sizeof cmd, "EHLO %s", p->ehlo_name);
                side_cmd(p, cmd);
            }
            p->st = ST_EHLO;
            break;
        case ST_EHLO:
            if (p->out_len && side_flush(p) <= 0)
                return p->st == ST_DONE;
            if ((e = side_reply(p, &r, "EHLO")) <= 0)
                return e < 0;
            if (r.code != 250) {
                side_fail(p, "EHLO answered %d", r.code);
                return 1;
            }
            side_cmd(p, "STARTTLS");
            p->st = ST_STARTTLS;
            break;
        case ST_STARTTLS:
            if (p->out_len && side_flush(p) <= 0)
                return p->st == ST_DONE;
            if ((e = side_reply(p, &r, "STARTTLS")) <= 0)
                return e < 0;
            if (r.code != 220) {
                side_fail(p, "STARTTLS answered %d", r.code);
                return 1;
            }
            side_start_tls(p);
            break;
        case ST_HELLO:
            return side_do_hello(p);
        case ST_TLS:
            return side_do_tls(p);
        case ST_DONE:
            break;
        }
    }
    return 1;
}

/* ---- lifecycle ------------------------------------------------------------ */

struct side_probe *side_new(const struct mxs_settings *s, enum side_kind kind,
                            const struct mxs_addr *addr, uint16_t port, int implicit_tls,
                            const char *ehlo_name, const char *sni, net_factory factory,
                            void *factory_arg, side_note_cb note, void *note_arg,
                            char *err, size_t errlen)
{
    struct side_probe *p = calloc(1, sizeof *p);
    int e = 0, r;

    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->set = *s;
    p->kind = kind;
    p->addr = *addr;
    p->port = port;
    p->implicit_tls = implicit_tls;
    snprintf(p->ehlo_name, sizeof p->ehlo_name, "%s", ehlo_name ? ehlo_name : "localhost");
    if (sni && *sni) {
        snprintf(p->sni, sizeof p->sni, "%s", sni);
        p->has_sni = 1;
    }
    p->note = note;
    p->note_arg = note_arg;
    p->res.kind = kind;
    p->res.alert_desc = -1;
    p->start_us = side_now_us();
    smtp_parser_reset(&p->parser);
    tlsrec_stream_init(&p->rs);
    tlsrec_facts_init(&p->rf);
    if (factory(factory_arg, &p->t) != 0) {
        snprintf(err, errlen, "no transport");
        tlsrec_stream_free(&p->rs);
        free(p);
        return NULL;
    }
    p->t_open = 1;
    side_notef(p, "connecting to %s port %u", addr->text, (unsigned)port);
    r = p->t.ops->start(p->t.ctx, addr, port, &e);
    if (r < 0) {
        side_fail(p, "connect to %s port %u: %s", addr->text, (unsigned)port, strerror(e));
    } else if (r == 1) {
        p->want_write = 1;         /* connecting: writable when done */
    }
    p->st = p->st == ST_DONE ? ST_DONE : ST_CONNECT;
    return p;
}

int side_pollfd(const struct side_probe *p, short *events)
{
    if (p->st == ST_DONE || !p->t_open) {
        *events = 0;
        return -1;
    }
    *events = (short)(p->want_write ? POLLOUT : POLLIN);
    return p->t.ops->fd(p->t.ctx);
}

void side_cancel(struct side_probe *p, const char *why)
{
    static const char *const where[] = { "connecting", "waiting for the greeting",
                                         "waiting for the EHLO reply", "waiting for STARTTLS",
                                         "waiting for the answer to the ClientHello",
                                         "in the handshake", "done" };
    if (p->st == ST_DONE)
        return;
    snprintf(p->res.error, sizeof p->res.error, "%s while %s", why, where[p->st]);
    side_notef(p, "stopped: %s", p->res.error);
    side_finish(p, SIDE_CANCELLED);
}

const struct side_result *side_result(const struct side_probe *p)
{
    return &p->res;
}

int side_adopt(struct side_probe *p, struct net_transport *t, struct tls_client **tls)
{
    if (!p->keep || !p->tls || !p->t_open)
        return -1;
    *t = p->t;
    *tls = p->tls;
    p->tls = NULL;
    p->t_open = 0;
    p->keep = 0;
    return 0;
}

void side_free(struct side_probe *p)
{
    if (!p)
        return;
    p->keep = 0;
    side_close(p);
    tlsrec_stream_free(&p->rs);
    for (int i = 0; i < p->res.n_chain; i++)
        free(p->res.der[i]);
    free(p);
}
