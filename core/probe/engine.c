/*
 * engine.c - the stepped, non-blocking probe.
 *
 * One function changes the running step's state (step_end); a step handler
 * is called again and again by engine_step() until it says it is done; it
 * never blocks: it reads and writes what the transport allows and returns
 * "waiting".  The whole stage has one deadline, set when the step starts, so
 * a server dripping a byte a second cannot stretch it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "diag/diag.h"
#include "probe/dns.h"
#include "probe/engine_int.h"
#include "base/esc.h"
#include "probe/net.h"
#include "probe/smtp.h"
#include "probe/tls.h"
#include "probe/x509view.h"

#define MAX_RECORDS 20000
#define MAX_RECORD_BYTES (16u << 20)
#define MAX_TLS_RECORDS_LOGGED 64
#define INBUF_MAX 8192

int64_t engine_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t now_ms(void) { return engine_now_us() / 1000; }

/* ---- events and transcript ------------------------------------------- */

void engine_event(struct engine *e, enum mxs_event_type t, enum mxs_step s,
                  enum mxs_step_state st, uint32_t seq)
{
    if (e->ev_count == ENGINE_EVQ) {
        e->ev_overflow = 1;
        return;
    }
    struct mxs_event *ev = &e->evq[(e->ev_head + e->ev_count) % ENGINE_EVQ];
    ev->type = t;
    ev->step = s;
    ev->state = st;
    ev->seq = seq;
    e->ev_count++;
}

int engine_next_event(struct engine *e, struct mxs_event *ev)
{
    if (e->ev_overflow) {
        e->ev_overflow = 0;
        memset(ev, 0, sizeof *ev);
        ev->type = MXS_EV_OVERFLOW;
        ev->step = MXS_STEP_NONE;
        return 1;
    }
    if (!e->ev_count)
        return 0;
    *ev = e->evq[e->ev_head];
    e->ev_head = (e->ev_head + 1) % ENGINE_EVQ;
    e->ev_count--;
    return 1;
}

void engine_rec_add(struct engine *e, enum mxs_rec_kind k, enum mxs_step s,
                   const void *data, size_t len)
{
    if (e->n_rec >= MAX_RECORDS || e->rec_bytes + len > MAX_RECORD_BYTES) {
        if (!e->rec_truncated) {
            e->rec_truncated = 1;
            /* One last note says why the transcript stops here. */
            k = MXS_REC_NOTE;
            data = "transcript limit reached: later records dropped";
            len = strlen(data);
        } else {
            return;
        }
    }
    if (e->n_rec == e->cap_rec) {
        size_t nc = e->cap_rec ? e->cap_rec * 2 : 256;
        struct mxs_record *r = realloc(e->rec, nc * sizeof *r);
        if (!r)
            return;
        e->rec = r;
        e->cap_rec = nc;
    }
    unsigned char *d = malloc(len + 1);
    if (!d)
        return;
    if (len)
        memcpy(d, data, len);
    d[len] = 0;
    struct mxs_record *r = &e->rec[e->n_rec++];
    r->seq = ++e->seq;
    r->t_us = engine_now_us() - e->t0_us;
    r->step = s;
    r->kind = k;
    r->len = len;
    r->data = d;
    e->rec_bytes += len;
    engine_event(e, MXS_EV_RECORD, s, MXS_ST_PENDING, r->seq);
}

__attribute__((format(printf, 4, 5)))
static void rec_printf(struct engine *e, enum mxs_rec_kind k, enum mxs_step s,
                       const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    engine_rec_add(e, k, s, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

void engine_note(struct engine *e, enum mxs_rec_kind kind, const char *text)
{
    engine_rec_add(e, kind, MXS_STEP_NONE, text, strlen(text));
}

/* ---- diagnosis --------------------------------------------------------- */

void engine_diag_input(const struct engine *e, struct diag_input *in)
{
    memset(in, 0, sizeof *in);
    in->settings = &e->set;
    for (int i = 0; i < MXS_STEP_COUNT; i++) {
        in->state[i] = e->st[i];
        in->elapsed_ms[i] = e->elapsed_ms[i];
        in->timed_out[i] = e->timed_out[i];
        in->reset[i] = e->reset[i];
        memcpy(in->step_error[i], e->step_err[i], sizeof in->step_error[i]);
    }
    in->dns = &e->dns;
    in->conn = &e->conn;
    in->smtp = &e->smtp;
    in->tls = &e->tls;
    in->chain = &e->chain;
    in->mx_host = engine_mx_host(e);
    in->domain = e->set.target_is_host ? "" : e->set.target;
    in->now = time(NULL);
}

static void run_diag(struct engine *e)
{
    struct diag_input in;
    engine_diag_input(e, &in);
    e->n_findings = diag_run(&in, e->findings, MXS_MAX_FINDINGS, e->verdicts);
    engine_event(e, MXS_EV_FINDINGS, MXS_STEP_NONE, MXS_ST_PENDING, 0);
}

const char *engine_mx_host(const struct engine *e)
{
    if (e->conn.done && e->conn.mx_index >= 0 && e->conn.mx_index < e->dns.n_mx)
        return e->dns.mx[e->conn.mx_index].host;
    if (e->dns.n_mx > 0) {
        int i = e->set.mx_index >= 0 && e->set.mx_index < e->dns.n_mx ? e->set.mx_index : 0;
        return e->dns.mx[i].host;
    }
    return e->set.target_is_host ? e->set.target : "";
}

/* ---- connection -------------------------------------------------------- */

static void conn_close(struct engine *e)
{
    if (e->tlc) {
        tls_client_free(e->tlc);
        e->tlc = NULL;
    }
    if (e->t.ops) {
        e->t.ops->close(e->t.ctx);
        e->t.ops = NULL;
        e->t.ctx = NULL;
    }
    e->connected = 0;
    e->tls_active = 0;
    e->inlen = 0;
    e->outlen = e->outoff = 0;
    smtp_parser_reset(&e->parser);
    e->parser.line_cb = engine_smtp_line_cb;
    e->parser.line_arg = e;
}

/* ---- step bookkeeping ------------------------------------------------- */

static void step_begin(struct engine *e, enum mxs_step s)
{
    e->cur = s;
    e->running = 1;
    e->phase = 0;
    e->st[s] = MXS_ST_RUNNING;
    e->t_start[s] = now_ms();
    e->deadline = e->t_start[s] + e->set.timeout_ms[s];
    e->timed_out[s] = 0;
    e->reset[s] = 0;
    e->step_err[s][0] = 0;
    rec_printf(e, MXS_REC_STEP, s, "%s started (deadline %.1f s)", mxs_step_name(s),
               e->set.timeout_ms[s] / 1000.0);
    engine_event(e, MXS_EV_STEP_STATE, s, MXS_ST_RUNNING, 0);
}

/* The one place a step's state changes to its result. */
static void step_end(struct engine *e, enum mxs_step s, enum mxs_step_state st,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void step_end(struct engine *e, enum mxs_step s, enum mxs_step_state st,
                     const char *fmt, ...)
{
    e->st[s] = st;
    e->elapsed_ms[s] = now_ms() - e->t_start[s];
    e->running = 0;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->step_err[s], sizeof e->step_err[s], fmt, ap);
        va_end(ap);
    }
    if (st == MXS_ST_FAIL && e->step_err[s][0])
        rec_printf(e, MXS_REC_ERROR, s, "%s failed: %s", mxs_step_name(s), e->step_err[s]);
    rec_printf(e, MXS_REC_STEP, s, "%s %s %lld ms%s%s", mxs_step_name(s),
               mxs_step_state_name(st), (long long)e->elapsed_ms[s],
               st != MXS_ST_FAIL && e->step_err[s][0] ? ": " : "",
               st != MXS_ST_FAIL ? e->step_err[s] : "");
    engine_event(e, MXS_EV_STEP_STATE, s, st, 0);
    run_diag(e);
}

static void step_skip(struct engine *e, enum mxs_step s, const char *why)
{
    e->st[s] = MXS_ST_SKIPPED;
    e->elapsed_ms[s] = 0;
    snprintf(e->step_err[s], sizeof e->step_err[s], "%s", why);
    rec_printf(e, MXS_REC_STEP, s, "%s skipped: %s", mxs_step_name(s), why);
    engine_event(e, MXS_EV_STEP_STATE, s, MXS_ST_SKIPPED, 0);
}

/* ---- plaintext / TLS I/O ------------------------------------------------ */

void engine_smtp_line_cb(void *arg, const char *line, size_t len, int cut)
{
    struct engine *e = arg;
    enum mxs_step s = e->running ? e->cur : MXS_STEP_NONE;
    engine_rec_add(e, MXS_REC_SMTP_IN, s, line, len);
    if (cut)
        rec_printf(e, MXS_REC_NOTE, s, "the line above was cut: longer than %d bytes",
                   MXS_SMTP_MAX_LINE);
}

static void send_line(struct engine *e, const char *line)
{
    size_t n = strlen(line);
    if (n + 2 > sizeof e->outbuf - e->outlen)
        n = sizeof e->outbuf - e->outlen - 2;
    memcpy(e->outbuf + e->outlen, line, n);
    e->outlen += n;
    e->outbuf[e->outlen++] = '\r';
    e->outbuf[e->outlen++] = '\n';
    engine_rec_add(e, MXS_REC_SMTP_OUT, e->running ? e->cur : MXS_STEP_NONE, line, n);
}

/* 1 all sent, 0 would block, -1 error (step_err set by caller). */
static int flush_out(struct engine *e)
{
    while (e->outoff < e->outlen) {
        ssize_t n;
        if (e->tls_active) {
            n = tls_client_write(e->tlc, e->outbuf + e->outoff, e->outlen - e->outoff);
            if (n == TLS_WANT_READ || n == TLS_WANT_WRITE) {
                e->want = n == TLS_WANT_READ ? POLLIN : POLLOUT;
                return 0;
            }
            if (n < 0) {
                e->io_errno = EPIPE;
                return -1;
            }
        } else {
            n = e->t.ops->write(e->t.ctx, e->outbuf + e->outoff, e->outlen - e->outoff);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    e->want = POLLOUT;
                    return 0;
                }
                e->io_errno = errno;
                return -1;
            }
        }
        e->outoff += (size_t)n;
    }
    e->outlen = e->outoff = 0;
    return 1;
}

/* Read one reply.  1 complete (in *r), 0 waiting, -1 error: io_eof/io_errno
 * or a parser error in e->parse_err. */
static int read_reply(struct engine *e, struct mxs_reply *r)
{
    for (;;) {
        /* The parser may hold a whole reply already (pipelined by the
         * server): feed even when there is nothing new. */
        if (e->inlen || smtp_parser_pending(&e->parser)) {
            size_t used = 0;
            enum smtp_feed_result fr = smtp_parser_feed(&e->parser, e->inbuf, e->inlen, &used, r);
            if (used > e->inlen)
                used = e->inlen;
            memmove(e->inbuf, e->inbuf + used, e->inlen - used);
            e->inlen -= used;
            if (fr == SMTP_REPLY)
                return 1;
            if (fr == SMTP_ERR_SYNTAX || fr == SMTP_ERR_TOO_LONG) {
                e->parse_err = fr;
                return -1;
            }
            if (e->inlen && used == 0) {
                /* The parser took nothing and wants more: should not happen
                 * with a bounded parser; fail rather than spin. */
                e->parse_err = SMTP_ERR_SYNTAX;
                return -1;
            }
        }
        if (e->inlen >= INBUF_MAX)
            continue;
        ssize_t n;
        if (e->tls_active) {
            n = tls_client_read(e->tlc, e->inbuf + e->inlen, INBUF_MAX - e->inlen);
            if (n == TLS_WANT_READ || n == TLS_WANT_WRITE) {
                e->want = n == TLS_WANT_READ ? POLLIN : POLLOUT;
                return 0;
            }
            if (n == TLS_EOF) {
                e->io_eof = 1;
                return -1;
            }
            if (n < 0) {
                e->io_errno = ECONNRESET;
                return -1;
            }
        } else {
            n = e->t.ops->read(e->t.ctx, e->inbuf + e->inlen, INBUF_MAX - e->inlen);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    e->want = POLLIN;
                    return 0;
                }
                e->io_errno = errno;
                return -1;
            }
            if (n == 0) {
                e->io_eof = 1;
                return -1;
            }
        }
        e->inlen += (size_t)n;
    }
}

/* Words for why a reply could not be read.  The transcript must be complete
 * up to the failure: a line the server started but never finished is in the
 * parser (or our input buffer) and is recorded as it was. */
static void record_partial(struct engine *e, enum mxs_step s)
{
    struct smtp_parser *p = &e->parser;
    if (!e->parse_err && p->len > p->start) {
        engine_rec_add(e, MXS_REC_SMTP_IN, s, p->buf + p->start, p->len - p->start);
        rec_printf(e, MXS_REC_NOTE, s, "the line above is incomplete: %zu bytes without CRLF%s",
                   p->len - p->start, p->in_long_line ? " (after a cut long line)" : "");
    }
    if (!e->parse_err && e->inlen) {
        engine_rec_add(e, MXS_REC_SMTP_IN, s, e->inbuf, e->inlen);
        rec_printf(e, MXS_REC_NOTE, s, "the line above is incomplete: %zu bytes without CRLF", e->inlen);
    }
    p->start = p->len;
    e->inlen = 0;
}

static void io_failure(struct engine *e, enum mxs_step s, const char *what)
{
    record_partial(e, s);
    if (e->parse_err == SMTP_ERR_TOO_LONG)
        step_end(e, s, MXS_ST_FAIL, "%s: the reply has more than %d lines (endless reply)",
                 what, MXS_SMTP_MAX_REPLY_LINES);
    else if (e->parse_err)
        step_end(e, s, MXS_ST_FAIL, "%s: the server sent a line that is not an SMTP reply", what);
    else if (e->io_eof) {
        e->reset[s] = 1;
        step_end(e, s, MXS_ST_FAIL, "%s: the server closed the connection", what);
    } else {
        e->reset[s] = 1;
        step_end(e, s, MXS_ST_FAIL, "%s: %s (errno %d)", what, strerror(e->io_errno), e->io_errno);
    }
}

/* Send a command (phase 0), flush (phase 1), read its reply (phase 2).
 * Returns 1 with the reply, 0 waiting, -1 failed (step ended). */
static int exchange(struct engine *e, enum mxs_step s, const char *cmd, struct mxs_reply *r,
                    const char *what)
{
    if (e->phase == 0) {
        e->io_eof = 0;
        e->io_errno = 0;
        e->parse_err = 0;
        if (cmd)
            send_line(e, cmd);
        e->phase = 1;
    }
    if (e->phase == 1) {
        int f = flush_out(e);
        if (f < 0) {
            io_failure(e, s, what);
            return -1;
        }
        if (f == 0)
            return 0;
        e->phase = 2;
    }
    int rr = read_reply(e, r);
    if (rr < 0) {
        io_failure(e, s, what);
        return -1;
    }
    return rr;
}

static void reply_summary(const struct mxs_reply *r, char *out, size_t len)
{
    /* Raw text: the facts stay raw, every output path escapes. */
    char first[160];
    const char *nl = strchr(r->text, '\n');
    size_t n = nl ? (size_t)(nl - r->text) : strlen(r->text);
    if (n > 150)
        n = 150;
    memcpy(first, r->text, n);
    first[n] = 0;
    snprintf(out, len, "%d %s%s", r->code, first, r->n_lines > 1 ? " ..." : "");
}

/* ---- the steps ---------------------------------------------------------- */

static void dns_line(void *arg, const char *line)
{
    struct engine *e = arg;
    engine_rec_add(e, MXS_REC_DNS, MXS_STEP_RESOLVE, line, strlen(line));
}

static int step_resolve(struct engine *e)
{
    char err[256] = "";
    if (e->phase == 0) {
        memset(&e->dns, 0, sizeof e->dns);
        struct in6_addr a6;
        size_t tl = strlen(e->set.target);
        int is_literal = e->set.target_is_host && tl < sizeof e->set.connect_addr &&
                         (inet_pton(AF_INET, e->set.target, &a6) == 1 ||
                          inet_pton(AF_INET6, e->set.target, &a6) == 1);
        if (is_literal && !e->set.connect_addr[0])
            memcpy(e->set.connect_addr, e->set.target, tl + 1);
        if (e->set.connect_addr[0]) {
            /* --connect (or an address as --host) pins the address: no
             * lookup, the operator said where. */
            struct mxs_mx *m = &e->dns.mx[0];
            e->dns.n_mx = 1;
            snprintf(m->host, sizeof m->host, "%s", e->set.target);
            m->addr[0].family = strchr(e->set.connect_addr, ':') ? 6 : 4;
            snprintf(m->addr[0].text, sizeof m->addr[0].text, "%s", e->set.connect_addr);
            m->n_addr = 1;
            e->dns.done = 1;
            rec_printf(e, MXS_REC_DNS, MXS_STEP_RESOLVE, "address pinned by --connect: %s (no DNS lookup)",
                       e->set.connect_addr);
            e->running = 0;
            step_skip(e, MXS_STEP_RESOLVE, "address pinned (--connect)");
            engine_event(e, MXS_EV_FACTS, MXS_STEP_RESOLVE, MXS_ST_SKIPPED, 0);
            run_diag(e);
            return 1;
        }
        if (!e->set.target[0]) {
            step_end(e, MXS_STEP_RESOLVE, MXS_ST_FAIL, "no target: open a domain or host first");
            return -1;
        }
        dns_free(e->dns_ctx);
        e->dns_ctx = dns_new(&e->set, err, sizeof err);
        if (!e->dns_ctx) {
            step_end(e, MXS_STEP_RESOLVE, MXS_ST_FAIL, "resolver set-up: %s", err);
            return -1;
        }
        if (dns_start(e->dns_ctx, e->set.target, e->set.target_is_host,
                      e->set.tlsa_port ? e->set.tlsa_port : e->set.port,
                      e->set.family, &e->dns, dns_line, e, err, sizeof err) != 0) {
            step_end(e, MXS_STEP_RESOLVE, MXS_ST_FAIL, "%s", err);
            return -1;
        }
        e->phase = 1;
    }
    int r = dns_process(e->dns_ctx, err, sizeof err);
    if (r < 0) {
        step_end(e, MXS_STEP_RESOLVE, MXS_ST_FAIL, "resolver: %s", err);
        return -1;
    }
    if (r == 0)
        return 0;
    e->dns.done = 1;
    engine_event(e, MXS_EV_FACTS, MXS_STEP_RESOLVE, MXS_ST_OK, 0);
    const struct mxs_dns_facts *d = &e->dns;
    if (d->null_mx) {
        step_end(e, MXS_STEP_RESOLVE, MXS_ST_FAIL, "the domain publishes a null MX (RFC 7505): it accepts no mail");
        return -1;
    }
    if (d->mx_answer.rcode != MXS_DNS_OK && d->mx_answer.rcode != MXS_DNS_NODATA &&
        !e->set.target_is_host) {
        step_end(e, MXS_STEP_RESOLVE, MXS_ST_FAIL, "MX lookup for %s: %s", e->set.target,
                 mxs_dns_rcode_name(d->mx_answer.rcode));
        return -1;
    }
    int addrs = 0;
    for (int i = 0; i < d->n_mx; i++)
        addrs += d->mx[i].n_addr;
    if (!addrs) {
        const struct mxs_mx *m = d->n_mx ? &d->mx[0] : NULL;
        step_end(e, MXS_STEP_RESOLVE, MXS_ST_FAIL, "no address for %s%s%s", m ? m->host : e->set.target,
                 m ? ": A " : "", m ? mxs_dns_rcode_name(m->a.rcode) : "");
        return -1;
    }
    int bogus = d->mx_answer.dnssec == MXS_DNSSEC_BOGUS;
    step_end(e, MXS_STEP_RESOLVE, bogus ? MXS_ST_WARN : MXS_ST_OK, "%d MX, %d addresses%s",
             d->n_mx, addrs, d->implicit_mx ? " (implicit MX)" : "");
    return 1;
}

/* Next candidate (mx, addr) after the current one; 0 when none is left. */
static int next_candidate(struct engine *e)
{
    const struct mxs_dns_facts *d = &e->dns;
    int mx = e->try_mx, ad = e->try_addr;
    for (;;) {
        ad++;
        if (mx < 0) {
            mx = e->set.mx_index >= 0 ? e->set.mx_index : 0;
            ad = 0;
        }
        if (mx >= d->n_mx)
            return 0;
        if (e->set.addr_index >= 0) {
            if (ad > e->set.addr_index) {
                if (e->set.mx_index >= 0)
                    return 0;
                mx++;
                ad = -1;
                continue;
            }
            ad = e->set.addr_index;
        }
        if (ad >= d->mx[mx].n_addr) {
            if (e->set.mx_index >= 0)
                return 0;
            mx++;
            ad = -1;
            continue;
        }
        const struct mxs_addr *a = &d->mx[mx].addr[ad];
        if (e->set.family && a->family != e->set.family)
            continue;
        e->try_mx = mx;
        e->try_addr = ad;
        return 1;
    }
}

static int step_connect(struct engine *e)
{
    struct mxs_connect_facts *c = &e->conn;
    int err_no = 0;
    if (e->phase == 0) {
        conn_close(e);
        memset(c, 0, sizeof *c);
        c->mx_index = c->addr_index = -1;
        e->try_mx = -1;
        e->try_addr = -1;
        e->phase = 1;
    }
    for (;;) {
        if (e->phase == 1) {
            if (!next_candidate(e)) {
                if (!c->attempts)
                    step_end(e, MXS_STEP_CONNECT, MXS_ST_FAIL, "no address to connect to%s",
                             e->set.family ? " in the chosen address family" : "");
                else
                    step_end(e, MXS_STEP_CONNECT, MXS_ST_FAIL, "%s port %u: %s (errno %d)",
                             c->addr.text, c->port, strerror(c->err_no), c->err_no);
                return -1;
            }
            const struct mxs_addr *a = &e->dns.mx[e->try_mx].addr[e->try_addr];
            c->addr = *a;
            c->port = e->set.port;
            c->mx_index = e->try_mx;
            c->addr_index = e->try_addr;
            c->attempts++;
            rec_printf(e, MXS_REC_NOTE, MXS_STEP_CONNECT, "connecting to %s%s%s port %u (%s)",
                       a->family == 6 ? "[" : "", a->text, a->family == 6 ? "]" : "", c->port,
                       e->dns.mx[e->try_mx].host);
            if (e->factory(e->factory_arg, &e->t) != 0) {
                step_end(e, MXS_STEP_CONNECT, MXS_ST_FAIL, "out of memory");
                return -1;
            }
            /* One address may not eat the whole stage when others wait. */
            int64_t left = e->deadline - now_ms();
            e->attempt_deadline = e->deadline;
            if (left > 4000)
                e->attempt_deadline = now_ms() + left / 2;
            int r = e->t.ops->start(e->t.ctx, a, c->port, &err_no);
            if (r == 0)
                goto connected;
            if (r < 0)
                goto attempt_failed;
            e->phase = 2;
            e->want = POLLOUT;
            return 0;
        }
        /* phase 2: waiting for the connect to finish */
        {
            int64_t now = now_ms();
            int fd = e->t.ops->fd(e->t.ctx);
            struct pollfd p = { .fd = fd, .events = POLLOUT };
            int ready = fd < 0 ? 1 : poll(&p, 1, 0);
            if (ready == 0) {
                if (now < e->attempt_deadline) {
                    e->want = POLLOUT;
                    return 0;
                }
                err_no = ETIMEDOUT;
                goto attempt_failed;
            }
            if (e->t.ops->finish(e->t.ctx, &err_no) == 0)
                goto connected;
            goto attempt_failed;
        }
attempt_failed:
        c->err_no = err_no;
        c->error = net_classify_errno(err_no);
        rec_printf(e, MXS_REC_ERROR, MXS_STEP_CONNECT, "connect to %s port %u: %s (errno %d)",
                   c->addr.text, c->port, strerror(err_no), err_no);
        e->t.ops->close(e->t.ctx);
        e->t.ops = NULL;
        c->elapsed_ms = now_ms() - e->t_start[MXS_STEP_CONNECT];
        if (now_ms() >= e->deadline) {
            e->timed_out[MXS_STEP_CONNECT] = err_no == ETIMEDOUT;
            step_end(e, MXS_STEP_CONNECT, MXS_ST_FAIL, "%s port %u: %s (errno %d)", c->addr.text,
                     c->port, strerror(err_no), err_no);
            return -1;
        }
        e->phase = 1;
        continue;
connected:
        c->error = MXS_CONN_OK;
        c->err_no = 0;
        c->done = 1;
        e->connected = 1;
        e->t_connected_ms = now_ms();
        c->elapsed_ms = e->t_connected_ms - e->t_start[MXS_STEP_CONNECT];
        engine_event(e, MXS_EV_FACTS, MXS_STEP_CONNECT, MXS_ST_OK, 0);
        step_end(e, MXS_STEP_CONNECT, c->attempts > 1 ? MXS_ST_WARN : MXS_ST_OK,
                 c->attempts > 1 ? "connected after %d attempts" : NULL, c->attempts);
        return 1;
    }
}

static int step_banner(struct engine *e)
{
    struct mxs_smtp_facts *m = &e->smtp;
    if (e->phase == 0) {
        memset(&m->banner, 0, sizeof m->banner);
        e->phase = 2; /* nothing to send: wait for the greeting */
        e->io_eof = 0;
        e->io_errno = 0;
        e->parse_err = 0;
    }
    int r = exchange(e, MXS_STEP_BANNER, NULL, &m->banner, "waiting for the greeting");
    if (r <= 0)
        return r;
    m->banner_ms = now_ms() - e->t_connected_ms;
    char sum[256];
    reply_summary(&m->banner, sum, sizeof sum);
    if (m->banner.code == 220)
        step_end(e, MXS_STEP_BANNER, m->banner_ms > DIAG_BANNER_SLOW_MS ? MXS_ST_WARN : MXS_ST_OK,
                 "greeting after %.1f s", m->banner_ms / 1000.0);
    else
        step_end(e, MXS_STEP_BANNER, MXS_ST_FAIL, "the server greeted with %s", sum);
    return 1;
}

static int step_ehlo(struct engine *e)
{
    struct mxs_smtp_facts *m = &e->smtp;
    char cmd[300];
    if (e->phase == 0) {
        memset(&m->ehlo, 0, sizeof m->ehlo);
        memset(&m->helo, 0, sizeof m->helo);
        memset(&m->caps, 0, sizeof m->caps);
        m->caps.size = -1;
        m->used_helo = 0;
        e->sub = 0;
    }
    if (e->sub == 0) {
        snprintf(cmd, sizeof cmd, "EHLO %s", e->set.ehlo_name);
        int r = exchange(e, MXS_STEP_EHLO, cmd, &m->ehlo, "EHLO");
        if (r <= 0)
            return r;
        if (m->ehlo.code == 250) {
            smtp_caps_parse(&m->ehlo, &m->caps);
            step_end(e, MXS_STEP_EHLO, m->caps.masked ? MXS_ST_WARN : MXS_ST_OK,
                     "%d capabilities%s%s", m->caps.n, m->caps.starttls ? ", STARTTLS offered" : ", no STARTTLS",
                     m->caps.masked ? ", some keywords masked" : "");
            return 1;
        }
        if (m->ehlo.code >= 500 && m->ehlo.code < 600) {
            /* RFC 5321 4.1.4: an old server may only know HELO. */
            e->sub = 1;
            e->phase = 0;
        } else {
            char sum[256];
            reply_summary(&m->ehlo, sum, sizeof sum);
            step_end(e, MXS_STEP_EHLO, MXS_ST_FAIL, "EHLO answered %s", sum);
            return -1;
        }
    }
    snprintf(cmd, sizeof cmd, "HELO %s", e->set.ehlo_name);
    int r = exchange(e, MXS_STEP_EHLO, cmd, &m->helo, "HELO");
    if (r <= 0)
        return r;
    m->used_helo = 1;
    char sum[256];
    reply_summary(&m->helo, sum, sizeof sum);
    if (m->helo.code == 250)
        step_end(e, MXS_STEP_EHLO, MXS_ST_WARN, "EHLO refused, HELO accepted: no extensions, no STARTTLS");
    else
        step_end(e, MXS_STEP_EHLO, MXS_ST_FAIL, "EHLO and HELO refused: %s", sum);
    return 1;
}

static int step_starttls(struct engine *e)
{
    struct mxs_smtp_facts *m = &e->smtp;
    if (e->phase == 0) {
        memset(&m->starttls, 0, sizeof m->starttls);
        m->leftover_plain = 0;
        if (!m->caps.starttls)
            rec_printf(e, MXS_REC_NOTE, MXS_STEP_STARTTLS,
                       "STARTTLS is not in the EHLO reply; trying it anyway to see the answer");
    }
    int r = exchange(e, MXS_STEP_STARTTLS, "STARTTLS", &m->starttls, "STARTTLS");
    if (r <= 0)
        return r;
    char sum[256];
    reply_summary(&m->starttls, sum, sizeof sum);
    if (m->starttls.code != 220) {
        step_end(e, MXS_STEP_STARTTLS, MXS_ST_FAIL, "%sSTARTTLS answered %s",
                 m->caps.starttls ? "" : "not offered; ", sum);
        return -1;
    }
    /* RFC 3207 5: anything after the 220 came before TLS and must not be
     * trusted: throw it away, say how much there was. */
    /* The record holds the raw bytes (escaped when shown, like any): first
     * what the parser buffered, then what it was not yet fed. */
    unsigned char seen[80];
    size_t ns = 0;
    for (size_t i = e->parser.start; i < e->parser.len && ns < sizeof seen; i++)
        seen[ns++] = e->parser.buf[i];
    for (size_t i = 0; i < e->inlen && ns < sizeof seen; i++)
        seen[ns++] = e->inbuf[i];
    size_t left = e->inlen + smtp_parser_discard(&e->parser);
    if (left) {
        char msg[200];
        int h = snprintf(msg, sizeof msg, "%zu bytes arrived after '220' before TLS (discarded, never used): ", left);
        memcpy(msg + h, seen, ns);
        engine_rec_add(e, MXS_REC_ERROR, MXS_STEP_STARTTLS, msg, (size_t)h + ns);
    }
    m->leftover_plain = left;
    e->inlen = 0;
    step_end(e, MXS_STEP_STARTTLS, left ? MXS_ST_WARN : MXS_ST_OK,
             left ? "%zu bytes after the 220 were discarded" : NULL, left);
    return 1;
}

static void tls_record_cb(void *arg, int from_server, int type, int version,
                          const unsigned char *body, size_t len)
{
    struct engine *e = arg;
    if (e->tls_logged >= MAX_TLS_RECORDS_LOGGED)
        return;
    e->tls_logged++;
    /* Whole records (bounded by the decoder to 2^14 + 2048): the saved
     * session carries the handshake as it crossed the wire. */
    unsigned char rec[5 + TLSREC_MAX_BODY];
    size_t keep = len < TLSREC_MAX_BODY ? len : TLSREC_MAX_BODY;
    rec[0] = (unsigned char)type;
    rec[1] = (unsigned char)(version >> 8);
    rec[2] = (unsigned char)version;
    rec[3] = (unsigned char)(len >> 8);
    rec[4] = (unsigned char)len;
    memcpy(rec + 5, body, keep);
    engine_rec_add(e, from_server ? MXS_REC_TLS_IN : MXS_REC_TLS_OUT, e->running ? e->cur : MXS_STEP_NONE, rec, 5 + keep);
}

const char *engine_sni(const struct engine *e)
{
    switch (e->set.sni_mode) {
    case MXS_SNI_NONE: return NULL;
    case MXS_SNI_CUSTOM: return e->set.sni;
    default: {
        const char *h = engine_mx_host(e);
        struct in6_addr a;
        /* SNI must be a host name, never an address literal (RFC 6066 3). */
        if (!h[0] || inet_pton(AF_INET, h, &a) == 1 || inet_pton(AF_INET6, h, &a) == 1)
            return NULL;
        return h;
    }
    }
}

static int step_handshake(struct engine *e)
{
    struct mxs_tls_facts *f = &e->tls;
    char err[256];
    if (e->phase == 0) {
        memset(f, 0, sizeof *f);
        f->alert_received = f->alert_sent = -1;
        e->tls_logged = 0;
        e->tlc = tls_client_new(&e->set, engine_sni(e), &e->t, tls_record_cb, e, err, sizeof err);
        if (!e->tlc) {
            f->attempted = 1;
            snprintf(f->error, sizeof f->error, "%s", err);
            step_end(e, MXS_STEP_HANDSHAKE, MXS_ST_FAIL, "%s", err);
            return -1;
        }
        e->phase = 1;
    }
    int r = tls_client_handshake(e->tlc);
    if (r == TLS_WANT_READ || r == TLS_WANT_WRITE) {
        e->want = r == TLS_WANT_READ ? POLLIN : POLLOUT;
        return 0;
    }
    tls_client_facts(e->tlc, f);
    f->handshake_ms = now_ms() - e->t_start[MXS_STEP_HANDSHAKE];
    engine_event(e, MXS_EV_FACTS, MXS_STEP_HANDSHAKE, MXS_ST_OK, 0);
    if (r == TLS_OK) {
        e->tls_active = 1;
        rec_printf(e, MXS_REC_TLS_INFO, MXS_STEP_HANDSHAKE, "%s, %s, group %s, SNI %s",
                   f->version_name, f->cipher, f->group[0] ? f->group : "?",
                   f->sni_sent[0] ? f->sni_sent : "(none)");
        step_end(e, MXS_STEP_HANDSHAKE, MXS_ST_OK, "%s %s", f->version_name, f->cipher);
        return 1;
    }
    const struct tlsrec_facts *raw = tls_client_raw(e->tlc);
    char extra[200] = "";
    if (raw->not_tls) {
        /* What the server said instead of TLS belongs in the exchange: one
         * record per line, as for any SMTP reply. */
        unsigned char b[512];
        size_t n = raw->n_not_tls, i = 0;
        memcpy(b, raw->not_tls_bytes, n);
        /* mbedTLS read only a record header's worth: take what else is
         * already here (one non-blocking read), so the line is whole. */
        ssize_t more = e->t.ops->read(e->t.ctx, b + n, sizeof b - n);
        if (more > 0)
            n += (size_t)more;
        while (i < n) {
            size_t j = i;
            while (j < n && b[j] != '\n')
                j++;
            size_t l = j - i;
            if (l && b[i + l - 1] == '\r')
                l--;
            engine_rec_add(e, MXS_REC_SMTP_IN, MXS_STEP_HANDSHAKE, b + i, l);
            i = j + 1;
        }
        /* Raw bytes (NUL shown as '.'): every output escapes them itself. */
        char shown[40];
        size_t k = raw->n_not_tls < sizeof shown - 1 ? raw->n_not_tls : sizeof shown - 1;
        for (size_t j = 0; j < k; j++)
            shown[j] = raw->not_tls_bytes[j] ? (char)raw->not_tls_bytes[j] : '.';
        shown[k] = 0;
        snprintf(extra, sizeof extra, "; the server answered '%s' instead of TLS", shown);
    } else if (f->server_hello_version && f->server_hello_version < 12) {
        snprintf(extra, sizeof extra, "; the server chose %s, which mxscope (and modern senders) no longer speak",
                 tlsrec_version_name(raw->sh_selected_version));
    }
    if (f->alert_received >= 0)
        step_end(e, MXS_STEP_HANDSHAKE, MXS_ST_FAIL, "the server sent alert %s(%d): %s%s",
                 f->alert_name, f->alert_received, f->error, extra);
    else
        step_end(e, MXS_STEP_HANDSHAKE, MXS_ST_FAIL, "%s%s", f->error, extra);
    return -1;
}

/* DANE (RFC 7672): the MX host's TLSA records against the chain as sent.
 * DANE-EE(3) matches the leaf, no name or date check; DANE-TA(2) matches a
 * certificate above the leaf that the chain must verify up to, and the
 * leaf must carry the MX name.  PKIX-TA/EE (0/1) are unusable for SMTP.
 * Whether the records apply (DNSSEC) is the diagnosis' call. */
static void dane_check(struct engine *e, const unsigned char *const *der, const size_t *len, int n)
{
    struct mxs_chain_facts *ch = &e->chain;
    ch->dane_match_depth = ch->dane_match_rr = -1;
    if (!e->conn.done || e->conn.mx_index < 0 || e->conn.mx_index >= e->dns.n_mx)
        return;
    const struct mxs_mx *m = &e->dns.mx[e->conn.mx_index];
    if (m->n_tlsa <= 0 || n <= 0)
        return;
    ch->dane_checked = 1;
    for (int i = 0; i < m->n_tlsa && !ch->dane_match; i++) {
        const struct mxs_tlsa *t = &m->tlsa_rr[i];
        if (t->usage == 3) {
            int r = x509view_tlsa_match(der[0], len[0], t);
            if (r < 0)
                continue;
            ch->dane_usable++;
            if (r == 1) {
                ch->dane_match = 1;
                ch->dane_match_depth = 0;
                ch->dane_match_rr = i;
            }
        } else if (t->usage == 2) {
            /* usable by its parameters, whatever the chain holds */
            if (t->selector > 1 || t->mtype > 2 || (t->mtype == 0 && t->truncated))
                continue;
            ch->dane_usable++;
            for (int d = 1; d < n && !ch->dane_match; d++) {
                if (x509view_tlsa_match(der[d], len[d], t) != 1)
                    continue;
                unsigned vf = x509view_verify_to_anchor(der, len, d, der[d], len[d]);
                if (vf) {
                    char ft[160];
                    mxs_verify_flags_text(vf, ft, sizeof ft);
                    snprintf(ch->dane_detail, sizeof ch->dane_detail,
                             "TLSA 2 %u %u matches certificate %d, but the chain does not verify up to it: %s",
                             t->selector, t->mtype, d, ft);
                } else if (!ch->name_matches_mx) {
                    snprintf(ch->dane_detail, sizeof ch->dane_detail,
                             "TLSA 2 %u %u matches certificate %d, but the leaf does not carry the MX name",
                             t->selector, t->mtype, d);
                } else {
                    ch->dane_match = 1;
                    ch->dane_match_depth = d;
                    ch->dane_match_rr = i;
                }
            }
        }
    }
    if (!ch->dane_match && !ch->dane_detail[0])
        snprintf(ch->dane_detail, sizeof ch->dane_detail, ch->dane_usable
                 ? "no TLSA record matches the certificates the server sent"
                 : "no usable TLSA record (only PKIX-TA/PKIX-EE or unknown parameters)");
    rec_printf(e, MXS_REC_TLS_INFO, MXS_STEP_CHAIN, "DANE: %d TLSA record%s, %d usable: %s", m->n_tlsa,
               m->n_tlsa == 1 ? "" : "s", ch->dane_usable,
               ch->dane_match ? "a record matches" : ch->dane_detail);
}

static int step_chain(struct engine *e)
{
    struct mxs_chain_facts *ch = &e->chain;
    const unsigned char *der[MXS_MAX_CHAIN];
    size_t len[MXS_MAX_CHAIN];
    unsigned flags[MXS_MAX_CHAIN];
    int total = 0;
    engine_chain_clear(e);
    int n = e->tlc ? tls_client_chain(e->tlc, der, len, flags, MXS_MAX_CHAIN, &total) : 0;
    if (n == 0) {
        step_end(e, MXS_STEP_CHAIN, MXS_ST_FAIL, "the server sent no certificate we could read");
        return -1;
    }
    time_t now = time(NULL);
    for (int i = 0; i < n; i++) {
        char err[160] = "";
        struct mxs_cert *c = &ch->cert[ch->n];
        if (x509view_decode(der[i], len[i], now, c, err, sizeof err) != 0) {
            rec_printf(e, MXS_REC_ERROR, MXS_STEP_CHAIN, "certificate %d: %s", i, err);
            continue;
        }
        c->depth = i;
        c->verify_flags = flags[i];
        engine_rec_add(e, MXS_REC_CERT, MXS_STEP_CHAIN, der[i], len[i]);
        ch->n++;
    }
    ch->n_total = total;
    unsigned vr = 0;
    ch->trusted = 0;
    if (tls_client_verify_result(e->tlc, &vr) == 0)
        ch->trusted = !(vr & (MXS_V_NOT_TRUSTED | MXS_V_MISSING));
    /* Names: against the MX host (what an MTA checks), and say whether the
     * mail domain would have matched, which tells a wrong-MX story apart. */
    const char *mx = engine_mx_host(e);
    snprintf(ch->name_checked, sizeof ch->name_checked, "%s", mx);
    if (ch->n > 0) {
        ch->name_matches_mx = mx[0] ? x509view_matches_name(&ch->cert[0], mx) : 0;
        ch->name_matches_domain = !e->set.target_is_host && e->set.target[0] &&
                                  x509view_matches_name(&ch->cert[0], e->set.target);
        if (!ch->name_matches_mx) {
            vr |= MXS_V_NAME;
            ch->cert[0].verify_flags |= MXS_V_NAME;
        }
    }
    ch->verify_result = vr;
    if (e->set.expect_fp[0] && ch->n > 0) {
        ch->fp_expected = 1;
        const char *have = strlen(e->set.expect_fp) == 40 ? ch->cert[0].sha1 : ch->cert[0].sha256;
        ch->fp_match = strcmp(have, e->set.expect_fp) == 0;
    }
    dane_check(e, der, len, n);
    char ftxt[200];
    mxs_verify_flags_text(vr, ftxt, sizeof ftxt);
    for (int i = 0; i < ch->n; i++) {
        char fl[200];
        mxs_verify_flags_text(ch->cert[i].verify_flags, fl, sizeof fl);
        rec_printf(e, MXS_REC_TLS_INFO, MXS_STEP_CHAIN, "cert %d: %.300s, %d days left, SHA-1 %s: %s", i,
                   ch->cert[i].subject,
                   ch->cert[i].days_left, ch->cert[i].sha1, fl);
    }
    engine_event(e, MXS_EV_FACTS, MXS_STEP_CHAIN, MXS_ST_OK, 0);
    int bad = vr != 0 || (ch->fp_expected && !ch->fp_match);
    int soon = ch->n > 0 && ch->cert[0].days_left < e->set.expiry_warn_days;
    if (bad)
        step_end(e, MXS_STEP_CHAIN, MXS_ST_FAIL, "verification: %s%s", ftxt,
                 ch->fp_expected && !ch->fp_match ? ", fingerprint mismatch" : "");
    else
        step_end(e, MXS_STEP_CHAIN, soon ? MXS_ST_WARN : MXS_ST_OK, "trusted, name matches%s",
                 soon ? ", expires soon" : "");
    return 1;
}

static int step_ehlo2(struct engine *e)
{
    struct mxs_smtp_facts *m = &e->smtp;
    char cmd[300];
    if (e->phase == 0) {
        memset(&m->ehlo2, 0, sizeof m->ehlo2);
        memset(&m->caps2, 0, sizeof m->caps2);
        m->caps2.size = -1;
        m->caps_changed = 0;
    }
    snprintf(cmd, sizeof cmd, "EHLO %s", e->set.ehlo_name);
    int r = exchange(e, MXS_STEP_EHLO2, cmd, &m->ehlo2, "EHLO after TLS");
    if (r <= 0)
        return r;
    if (m->ehlo2.code != 250) {
        char sum[256];
        reply_summary(&m->ehlo2, sum, sizeof sum);
        step_end(e, MXS_STEP_EHLO2, MXS_ST_FAIL, "EHLO after TLS answered %s", sum);
        return -1;
    }
    smtp_caps_parse(&m->ehlo2, &m->caps2);
    char diff[256] = "";
    if (!e->set.tls_on_connect)
        m->caps_changed = smtp_caps_diff(&m->caps, &m->caps2, diff, sizeof diff);
    step_end(e, MXS_STEP_EHLO2, m->caps_changed ? MXS_ST_WARN : MXS_ST_OK,
             m->caps_changed ? "capabilities changed after TLS: %s" : "%s",
             m->caps_changed ? diff : "capabilities as before TLS");
    return 1;
}

static int step_quit(struct engine *e)
{
    if (!e->connected) {
        step_end(e, MXS_STEP_QUIT, MXS_ST_OK, "no connection to close");
        return 1;
    }
    if (e->phase == 0) {
        send_line(e, "QUIT");
        e->phase = 1;
    }
    /* The probe's answer is known: QUIT is sent, its 221 is not waited for. */
    int f = flush_out(e);
    if (f == 0)
        return 0;
    if (e->tls_active)
        tls_client_close_notify(e->tlc);
    conn_close(e);
    step_end(e, MXS_STEP_QUIT, MXS_ST_OK, f < 0 ? "connection already gone" : "QUIT sent, connection closed");
    return 1;
}

typedef int (*step_fn)(struct engine *);
static const step_fn step_fns[MXS_STEP_COUNT] = {
    step_resolve, step_connect, step_banner, step_ehlo, step_starttls,
    step_handshake, step_chain, step_ehlo2, step_quit
};

/* The order of steps: implicit TLS (port 465) shakes hands right after
 * CONNECT and then greets over TLS; STARTTLS and EHLO2 have no place. */
static int order_plain[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8 };
static int order_implicit[] = { 0, 1, 5, 6, 2, 3, 4, 7, 8 };

static int order_index(const struct engine *e, enum mxs_step s)
{
    const int *o = e->set.tls_on_connect ? order_implicit : order_plain;
    for (int i = 0; i < MXS_STEP_COUNT; i++)
        if (o[i] == (int)s)
            return i;
    return 0;
}

static int step_at(const struct engine *e, int idx)
{
    const int *o = e->set.tls_on_connect ? order_implicit : order_plain;
    return o[idx];
}

/* Decide whether step s can run given what came before; if not, why. */
static const char *cannot_run(struct engine *e, enum mxs_step s)
{
    const enum mxs_step_state *st = e->st;
    int failed_conn = st[MXS_STEP_CONNECT] == MXS_ST_FAIL || st[MXS_STEP_CONNECT] == MXS_ST_SKIPPED ||
                      st[MXS_STEP_CONNECT] == MXS_ST_CANCELLED;
    switch (s) {
    case MXS_STEP_RESOLVE:
        return NULL;
    case MXS_STEP_CONNECT:
        return st[MXS_STEP_RESOLVE] == MXS_ST_FAIL || st[MXS_STEP_RESOLVE] == MXS_ST_CANCELLED
                   ? "no address: RESOLVE failed" : NULL;
    case MXS_STEP_BANNER:
        if (failed_conn || !e->connected) return "not connected";
        if (e->set.tls_on_connect && !e->tls_active) return "TLS on connect failed";
        return NULL;
    case MXS_STEP_EHLO:
        if (!e->connected) return "not connected";
        return st[MXS_STEP_BANNER] == MXS_ST_OK || st[MXS_STEP_BANNER] == MXS_ST_WARN ? NULL
               : "no greeting";
    case MXS_STEP_STARTTLS:
        if (e->set.tls_on_connect) return "implicit TLS (--tls-on-connect)";
        if (!e->connected) return "not connected";
        /* After HELO there are no extensions, but the server's answer to
         * STARTTLS is still the best evidence: ask, as when not offered. */
        if (st[MXS_STEP_EHLO] != MXS_ST_OK && st[MXS_STEP_EHLO] != MXS_ST_WARN) return "EHLO failed";
        return NULL;
    case MXS_STEP_HANDSHAKE:
        if (!e->connected) return "not connected";
        if (e->set.tls_on_connect) return NULL;
        return st[MXS_STEP_STARTTLS] == MXS_ST_OK || st[MXS_STEP_STARTTLS] == MXS_ST_WARN ? NULL
               : "STARTTLS did not succeed";
    case MXS_STEP_CHAIN:
        if (st[MXS_STEP_HANDSHAKE] == MXS_ST_OK) return NULL;
        if (st[MXS_STEP_HANDSHAKE] == MXS_ST_FAIL && e->tlc) {
            const unsigned char *d[1]; size_t l[1]; unsigned f[1]; int t;
            if (tls_client_chain(e->tlc, d, l, f, 1, &t) > 0)
                return NULL; /* the handshake failed after the certificates: show them */
        }
        return "no certificate received";
    case MXS_STEP_EHLO2:
        if (e->set.tls_on_connect) return "implicit TLS: the EHLO ran over TLS already";
        return e->tls_active && e->connected ? NULL : "no TLS session";
    case MXS_STEP_QUIT:
        return NULL;
    default:
        return "unknown step";
    }
}

/* ---- public API --------------------------------------------------------- */

struct engine *engine_new(const struct mxs_settings *s)
{
    struct engine *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->set = *s;
    e->t0_us = engine_now_us();
    e->started_wall = time(NULL);
    e->factory = net_socket_factory;
    e->next_idx = 0;
    e->auto_until = -1;
    smtp_parser_reset(&e->parser);
    e->parser.line_cb = engine_smtp_line_cb;
    e->parser.line_arg = e;
    for (int i = 0; i < MXS_STEP_COUNT; i++)
        e->st[i] = MXS_ST_PENDING;
    e->tls.alert_received = e->tls.alert_sent = -1;
    tls_global_init();
    run_diag(e);
    return e;
}

struct engine *engine_new_resolved(const struct engine *src, int mx, int addr)
{
    if (!src->dns.done || mx < 0 || mx >= src->dns.n_mx || addr < 0 ||
        addr >= src->dns.mx[mx].n_addr)
        return NULL;
    struct mxs_settings s = src->set;
    s.mx_index = mx;
    s.addr_index = addr;
    s.family = 0; /* the address is chosen: its family follows */
    s.stop_after = -1;
    struct engine *e = engine_new(&s);
    if (!e)
        return NULL;
    e->factory = src->factory;
    e->factory_arg = src->factory_arg;
    /* The lookup is shared: one RESOLVE for the whole survey, its answers
     * copied, not asked again per address. */
    e->dns = src->dns;
    e->st[MXS_STEP_RESOLVE] = src->st[MXS_STEP_RESOLVE];
    e->elapsed_ms[MXS_STEP_RESOLVE] = src->elapsed_ms[MXS_STEP_RESOLVE];
    memcpy(e->step_err[MXS_STEP_RESOLVE], src->step_err[MXS_STEP_RESOLVE], sizeof e->step_err[0]);
    for (size_t i = 0; i < src->n_rec; i++)
        if (src->rec[i].step == MXS_STEP_RESOLVE)
            engine_rec_add(e, src->rec[i].kind, MXS_STEP_RESOLVE, src->rec[i].data, src->rec[i].len);
    e->next_idx = order_index(e, MXS_STEP_RESOLVE) + 1;
    run_diag(e);
    return e;
}

void engine_set_factory(struct engine *e, net_factory f, void *arg)
{
    e->factory = f;
    e->factory_arg = arg;
}

void engine_chain_clear(struct engine *e)
{
    for (int i = 0; i < e->chain.n; i++)
        x509view_clear(&e->chain.cert[i]);
    memset(&e->chain, 0, sizeof e->chain);
}

void engine_free(struct engine *e)
{
    if (!e)
        return;
    conn_close(e);
    dns_free(e->dns_ctx);
    engine_chain_clear(e);
    for (size_t i = 0; i < e->n_rec; i++)
        free(e->rec[i].data);
    free(e->rec);
    free(e);
}

static void finish(struct engine *e)
{
    if (e->finished)
        return;
    e->finished = 1;
    run_diag(e);
    for (int i = 0; i < e->n_findings; i++) {
        const struct mxs_finding *f = &e->findings[i];
        rec_printf(e, MXS_REC_FINDING, f->step, "%s %s: %s", mxs_severity_name(f->severity), f->id,
                   f->message);
    }
    engine_event(e, MXS_EV_FINISHED, MXS_STEP_NONE, MXS_ST_PENDING, 0);
}

/* Progress of a raw command typed by the operator (engine_send). */
static enum mxs_progress cmd_progress(struct engine *e)
{
    struct mxs_reply r;
    int64_t now = now_ms();
    if (now >= e->deadline) {
        e->cmd_active = 0;
        rec_printf(e, MXS_REC_ERROR, MXS_STEP_NONE, "no reply within %.0f s",
                   e->set.timeout_ms[MXS_STEP_EHLO] / 1000.0);
        return MXS_PROG_STEP_DONE;
    }
    if (e->cmd_phase == 0) {
        int f = flush_out(e);
        if (f == 0)
            return MXS_PROG_WAITING;
        if (f < 0) {
            e->cmd_active = 0;
            conn_close(e);
            rec_printf(e, MXS_REC_ERROR, MXS_STEP_NONE, "send failed: %s", strerror(e->io_errno));
            return MXS_PROG_STEP_DONE;
        }
        e->cmd_phase = 1;
    }
    e->io_eof = 0;
    e->io_errno = 0;
    e->parse_err = 0;
    int rr = read_reply(e, &r);
    if (rr == 0)
        return MXS_PROG_WAITING;
    e->cmd_active = 0;
    if (rr < 0) {
        rec_printf(e, MXS_REC_ERROR, MXS_STEP_NONE, "%s",
                   e->io_eof ? "the server closed the connection" : "no valid reply");
        conn_close(e);
    }
    return MXS_PROG_STEP_DONE;
}

enum mxs_progress engine_step(struct engine *e)
{
    if (e->replay)
        return MXS_PROG_FINISHED;
    if (e->cmd_active)
        return cmd_progress(e);
    for (;;) {
        if (!e->running) {
            if (e->finished)
                return MXS_PROG_FINISHED;
            /* find the next step that can run */
            if (e->next_idx >= MXS_STEP_COUNT ||
                (e->set.stop_after >= 0 && e->next_idx > order_index(e, e->set.stop_after))) {
                if (e->next_idx >= MXS_STEP_COUNT)
                    finish(e);
                else
                    run_diag(e);
                return MXS_PROG_FINISHED;
            }
            enum mxs_step s = step_at(e, e->next_idx);
            const char *why = cannot_run(e, s);
            if (why) {
                step_skip(e, s, why);
                e->next_idx++;
                continue;
            }
            step_begin(e, s);
        }
        enum mxs_step s = e->cur;
        int r = step_fns[s](e);
        if (r == 0) {
            if (now_ms() >= e->deadline) {
                e->timed_out[s] = 1;
                if (s != MXS_STEP_RESOLVE && s != MXS_STEP_CONNECT && !e->parse_err)
                    record_partial(e, s);
                if (s == MXS_STEP_RESOLVE && e->dns_ctx)
                    dns_cancel(e->dns_ctx);
                if (s != MXS_STEP_RESOLVE && s != MXS_STEP_QUIT)
                    conn_close(e);
                step_end(e, s, MXS_ST_FAIL, "no answer within the %.1f s deadline",
                         e->set.timeout_ms[s] / 1000.0);
            } else {
                return MXS_PROG_WAITING;
            }
        }
        /* a failed step after CONNECT leaves a connection we cannot trust */
        if (e->st[s] == MXS_ST_FAIL && s >= MXS_STEP_BANNER && s != MXS_STEP_CHAIN &&
            s != MXS_STEP_STARTTLS && s != MXS_STEP_EHLO)
            conn_close(e);
        if (e->st[s] == MXS_ST_FAIL && s == MXS_STEP_EHLO && e->smtp.ehlo.code == 0)
            conn_close(e);
        if (e->st[s] == MXS_ST_FAIL && s == MXS_STEP_STARTTLS && e->smtp.starttls.code == 0)
            conn_close(e);
        e->next_idx = order_index(e, s) + 1;
        if (e->auto_until >= 0 && order_index(e, s) < order_index(e, e->auto_until))
            continue; /* replaying earlier steps for a re-run */
        e->auto_until = -1;
        if (e->next_idx >= MXS_STEP_COUNT)
            finish(e);
        return MXS_PROG_STEP_DONE;
    }
}

int engine_pollfds(struct engine *e, struct pollfd *fds, int max)
{
    int n = 0;
    if (max < 1 || (!e->running && !e->cmd_active))
        return 0;
    if (e->running && e->cur == MXS_STEP_RESOLVE) {
        if (e->dns_ctx && dns_fd(e->dns_ctx) >= 0) {
            fds[n].fd = dns_fd(e->dns_ctx);
            fds[n].events = POLLIN;
            fds[n].revents = 0;
            n++;
        }
        return n;
    }
    if (e->t.ops && e->t.ops->fd(e->t.ctx) >= 0) {
        fds[n].fd = e->t.ops->fd(e->t.ctx);
        fds[n].events = (short)(e->want ? e->want : POLLIN);
        fds[n].revents = 0;
        n++;
    }
    return n;
}

int engine_timeout_ms(const struct engine *e)
{
    if (!e->running && !e->cmd_active)
        return -1;
    int64_t left = e->deadline - now_ms();
    if (e->running && e->cur == MXS_STEP_CONNECT && e->attempt_deadline < e->deadline)
        left = e->attempt_deadline - now_ms();
    /* TLS may hold decrypted bytes the fd will not announce again. */
    if (e->tls_active && e->tlc && tls_client_pending(e->tlc))
        return 0;
    if (e->t.ops && e->t.ops->fd(e->t.ctx) < 0)
        return 0; /* a scripted transport is always ready */
    return left < 0 ? 0 : (int)left;
}

void engine_run(struct engine *e)
{
    for (;;) {
        enum mxs_progress p = engine_step(e);
        if (p == MXS_PROG_FINISHED)
            return;
        if (p == MXS_PROG_STEP_DONE)
            continue;
        struct pollfd fds[4];
        int n = engine_pollfds(e, fds, 4);
        int t = engine_timeout_ms(e);
        if (n == 0 && t < 0)
            continue;
        if (poll(fds, (nfds_t)n, t) < 0 && errno != EINTR)
            return;
    }
}

void engine_cancel(struct engine *e)
{
    if (e->cmd_active) {
        e->cmd_active = 0;
        rec_printf(e, MXS_REC_NOTE, MXS_STEP_NONE, "command cancelled by the operator");
        return;
    }
    if (!e->running)
        return;
    enum mxs_step s = e->cur;
    if (s == MXS_STEP_RESOLVE && e->dns_ctx)
        dns_cancel(e->dns_ctx);
    conn_close(e);
    step_end(e, s, MXS_ST_CANCELLED, "cancelled by the operator");
    e->next_idx = order_index(e, s) + 1;
}

void engine_restart(struct engine *e, int from_resolve)
{
    enum mxs_step from = from_resolve ? MXS_STEP_RESOLVE : MXS_STEP_CONNECT;
    engine_rerun_from(e, from);
    e->auto_until = -1;
}

int engine_rerun_from(struct engine *e, enum mxs_step s)
{
    if (e->replay || s < 0 || s >= MXS_STEP_COUNT)
        return -1;
    if (e->running)
        engine_cancel(e);
    e->cmd_active = 0;
    conn_close(e);
    int from = order_index(e, s);
    /* A clean connection: everything from CONNECT on is re-run. */
    int conn_idx = order_index(e, MXS_STEP_CONNECT);
    int start = from <= conn_idx ? from : conn_idx;
    if (s == MXS_STEP_RESOLVE || !e->dns.done)
        start = 0;
    for (int i = start; i < MXS_STEP_COUNT; i++) {
        enum mxs_step st = step_at(e, i);
        e->st[st] = MXS_ST_PENDING;
        e->elapsed_ms[st] = 0;
        e->step_err[st][0] = 0;
        e->timed_out[st] = e->reset[st] = 0;
        engine_event(e, MXS_EV_STEP_STATE, st, MXS_ST_PENDING, 0);
    }
    if (start == 0)
        memset(&e->dns, 0, sizeof e->dns);
    memset(&e->conn, 0, sizeof e->conn);
    memset(&e->smtp, 0, sizeof e->smtp);
    memset(&e->tlc, 0, sizeof e->tlc);
    e->tls.alert_received = e->tls.alert_sent = -1;
    engine_chain_clear(e);
    e->next_idx = start;
    e->finished = 0;
    e->auto_until = from > start ? (int)s : -1;
    rec_printf(e, MXS_REC_NOTE, MXS_STEP_NONE, "re-running from %s", mxs_step_name(step_at(e, start)));
    run_diag(e);
    return 0;
}

const struct mxs_settings *engine_settings(const struct engine *e) { return &e->set; }

int engine_set(struct engine *e, const char *key, const char *value, char *err, size_t errlen)
{
    int r = mxs_settings_set(&e->set, key, value, err, errlen);
    if (r == 0) {
        char v[300];
        if (mxs_settings_get(&e->set, key, v, sizeof v) != 0)
            snprintf(v, sizeof v, "%s", value);
        rec_printf(e, MXS_REC_NOTE, MXS_STEP_NONE, "set %s %s", key, v);
    }
    return r;
}

enum mxs_step engine_current_step(const struct engine *e)
{
    if (e->running)
        return e->cur;
    if (e->next_idx >= MXS_STEP_COUNT)
        return MXS_STEP_NONE;
    return step_at(e, e->next_idx);
}

enum mxs_step_state engine_step_state(const struct engine *e, enum mxs_step s)
{
    return s >= 0 && s < MXS_STEP_COUNT ? e->st[s] : MXS_ST_PENDING;
}

int64_t engine_step_elapsed_ms(const struct engine *e, enum mxs_step s)
{
    if (s < 0 || s >= MXS_STEP_COUNT)
        return 0;
    if (e->st[s] == MXS_ST_RUNNING)
        return now_ms() - e->t_start[s];
    return e->elapsed_ms[s];
}

int engine_finished(const struct engine *e) { return e->finished; }
int engine_connected(const struct engine *e) { return e->connected; }
int engine_tls_active(const struct engine *e) { return e->tls_active; }
const struct mxs_dns_facts *engine_dns(const struct engine *e) { return &e->dns; }
const struct mxs_connect_facts *engine_connection(const struct engine *e) { return &e->conn; }
const struct mxs_smtp_facts *engine_smtp(const struct engine *e) { return &e->smtp; }
const struct mxs_tls_facts *engine_tls(const struct engine *e) { return &e->tls; }
const struct mxs_chain_facts *engine_chain(const struct engine *e) { return &e->chain; }

const struct mxs_finding *engine_findings(const struct engine *e, int *n)
{
    *n = e->n_findings;
    return e->findings;
}

const struct mxs_verdict *engine_verdicts(const struct engine *e) { return e->verdicts; }

enum mxs_step engine_failed_step(const struct engine *e)
{
    for (int i = 0; i < MXS_STEP_COUNT; i++) {
        enum mxs_step s = step_at(e, i);
        if (s == MXS_STEP_QUIT)
            continue;
        if (e->st[s] == MXS_ST_FAIL || e->st[s] == MXS_ST_CANCELLED)
            return s;
    }
    return MXS_STEP_NONE;
}

size_t engine_record_count(const struct engine *e) { return e->n_rec; }

const struct mxs_record *engine_record(const struct engine *e, size_t i)
{
    return i < e->n_rec ? &e->rec[i] : NULL;
}

time_t engine_started_at(const struct engine *e) { return e->started_wall; }

int engine_send(struct engine *e, const char *line, char *err, size_t errlen)
{
    if (e->replay) {
        snprintf(err, errlen, "a loaded session is read-only");
        return -1;
    }
    if (!e->connected || !e->t.ops) {
        snprintf(err, errlen, "no live session: run the steps up to EHLO first");
        return -1;
    }
    if (e->running || e->cmd_active) {
        snprintf(err, errlen, "a step is running; wait or cancel it");
        return -1;
    }
    if (strpbrk(line, "\r\n")) {
        snprintf(err, errlen, "one command per line");
        return -1;
    }
    if (strlen(line) > 998) {
        snprintf(err, errlen, "command longer than 998 bytes (RFC 5321)");
        return -1;
    }
    /* Bytes from an earlier, unexpected reply would be taken for this one. */
    e->inlen = 0;
    smtp_parser_reset(&e->parser);
    e->parser.line_cb = engine_smtp_line_cb;
    e->parser.line_arg = e;
    send_line(e, line);
    e->cmd_active = 1;
    e->cmd_phase = 0;
    e->deadline = now_ms() + e->set.timeout_ms[MXS_STEP_EHLO];
    return 0;
}
