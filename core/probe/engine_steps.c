/*
 * engine_steps.c - what each step does: RESOLVE, CONNECT, BANNER, EHLO,
 * STARTTLS, HANDSHAKE, CHAIN (its DANE part: engine_dane.c), EHLO2, QUIT.  Owner: the engine.
 *
 * A step function is called again and again by engine_step() (engine.c)
 * until it says it is done (1 ok, -1 failed) or returns 0 (waiting); it never
 * blocks.  It gathers the facts of its step and ends the step only through
 * engine_step_end() / engine_step_skip() (engine.c), the one state setter.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diag/diag.h"
#include "probe/dns.h"
#include "probe/engine_int.h"
#include "probe/side.h"
#include "probe/net.h"
#include "probe/smtp.h"
#include "probe/tls.h"
#include "probe/tlsrec.h"
#include "probe/x509view.h"

#define MAX_TLS_RECORDS_LOGGED 64

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
            /* Given by --connect, an address as the host, or the lab: the
             * words name no option the operator may not have used. */
            engine_rec_printf(e, MXS_REC_DNS, MXS_STEP_RESOLVE, "no DNS lookup: the address %s was given",
                              e->set.connect_addr);
            e->running = 0;
            engine_step_skip(e, MXS_STEP_RESOLVE, "address given, no lookup");
            engine_event(e, MXS_EV_FACTS, MXS_STEP_RESOLVE, MXS_ST_SKIPPED, 0);
            engine_run_diag(e);
            return 1;
        }
        if (!e->set.target[0]) {
            engine_step_end(e, MXS_STEP_RESOLVE, MXS_ST_FAIL, "no target: open a domain or host first");
            return -1;
        }
        dns_free(e->dns_ctx);
        e->dns_ctx = dns_new_for(e->dns_shared, &e->set, err, sizeof err);
        if (!e->dns_ctx) {
            engine_step_end(e, MXS_STEP_RESOLVE, MXS_ST_FAIL, "resolver set-up: %s", err);
            return -1;
        }
        if (dns_start(e->dns_ctx, e->set.target, e->set.target_is_host,
                      e->set.tlsa_port ? e->set.tlsa_port : e->set.port,
                      e->set.family, &e->dns, dns_line, e, err, sizeof err) != 0) {
            engine_step_end(e, MXS_STEP_RESOLVE, MXS_ST_FAIL, "%s", err);
            return -1;
        }
        e->phase = 1;
    }
    int r = dns_process(e->dns_ctx, err, sizeof err);
    if (r < 0) {
        engine_step_end(e, MXS_STEP_RESOLVE, MXS_ST_FAIL, "resolver: %s", err);
        return -1;
    }
    if (r == 0)
        return 0;
    e->dns.done = 1;
    engine_event(e, MXS_EV_FACTS, MXS_STEP_RESOLVE, MXS_ST_OK, 0);
    const struct mxs_dns_facts *d = &e->dns;
    if (d->null_mx) {
        engine_step_end(e, MXS_STEP_RESOLVE, MXS_ST_FAIL, "the domain publishes a null MX (RFC 7505): it accepts no mail");
        return -1;
    }
    if (d->mx_answer.rcode != MXS_DNS_OK && d->mx_answer.rcode != MXS_DNS_NODATA &&
        !e->set.target_is_host) {
        engine_step_end(e, MXS_STEP_RESOLVE, MXS_ST_FAIL, "MX lookup for %s: %s", e->set.target,
                        mxs_dns_rcode_name(d->mx_answer.rcode));
        return -1;
    }
    int addrs = 0;
    for (int i = 0; i < d->n_mx; i++)
        addrs += d->mx[i].n_addr;
    if (!addrs && d->n_mx == 0 && d->n_mx_invalid > 0) {
        engine_step_end(e, MXS_STEP_RESOLVE, MXS_ST_FAIL, "no usable MX: %d of %d MX target%s not a host name",
                        d->n_mx_invalid, d->mx_records, d->mx_records == 1 ? " is" : "s are");
        return -1;
    }
    if (!addrs) {
        const struct mxs_mx *m = d->n_mx ? &d->mx[0] : NULL;
        engine_step_end(e, MXS_STEP_RESOLVE, MXS_ST_FAIL, "no address for %s%s%s", m ? m->host : e->set.target,
                        m ? ": A " : "", m ? mxs_dns_rcode_name(m->a.rcode) : "");
        return -1;
    }
    int bogus = d->mx_answer.dnssec == MXS_DNSSEC_BOGUS;
    engine_step_end(e, MXS_STEP_RESOLVE, bogus ? MXS_ST_WARN : MXS_ST_OK, "%d MX, %d addresses%s",
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
    int err_no = 0, ours = 0;   /* ours: our deadline ended it, the system said nothing */
    char why[160];
    if (e->phase == 0) {
        engine_conn_close(e);
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
                    engine_step_end(e, MXS_STEP_CONNECT, MXS_ST_FAIL, "no address to connect to%s",
                                    e->set.family ? " in the chosen address family" : "");
                else
                    engine_step_end(e, MXS_STEP_CONNECT, MXS_ST_FAIL, "%s port %u: %s", c->addr.text,
                                    c->port, net_conn_words(c->err_no, why, sizeof why));
                return -1;
            }
            const struct mxs_addr *a = &e->dns.mx[e->try_mx].addr[e->try_addr];
            c->addr = *a;
            c->port = e->set.port;
            c->mx_index = e->try_mx;
            c->addr_index = e->try_addr;
            c->attempts++;
            engine_rec_printf(e, MXS_REC_NOTE, MXS_STEP_CONNECT, "connecting to %s%s%s port %u (%s)",
                              a->family == 6 ? "[" : "", a->text, a->family == 6 ? "]" : "", c->port,
                              e->dns.mx[e->try_mx].host);
            if (e->factory(e->factory_arg, &e->t) != 0) {
                engine_step_end(e, MXS_STEP_CONNECT, MXS_ST_FAIL, "out of memory");
                return -1;
            }
            /* One address may not eat the whole stage when others wait. */
            int64_t left = e->deadline - engine_now_ms();
            e->attempt_deadline = e->deadline;
            if (left > 4000)
                e->attempt_deadline = engine_now_ms() + left / 2;
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
            int64_t now = engine_now_ms();
            int fd = e->t.ops->fd(e->t.ctx);
            struct pollfd p = { .fd = fd, .events = POLLOUT };
            int ready = fd < 0 ? 1 : poll(&p, 1, 0);
            if (ready == 0) {
                if (now < e->attempt_deadline) {
                    e->want = POLLOUT;
                    return 0;
                }
                ours = 1;       /* never an errno no system call returned */
                goto attempt_failed;
            }
            if (e->t.ops->finish(e->t.ctx, &err_no) == 0)
                goto connected;
            goto attempt_failed;
        }
attempt_failed:
        c->err_no = ours ? 0 : err_no;
        c->error = ours ? MXS_CONN_TIMEOUT : net_classify_errno(err_no);
        ours = 0;
        engine_rec_printf(e, MXS_REC_ERROR, MXS_STEP_CONNECT, "connect to %s port %u: %s", c->addr.text,
                          c->port, net_conn_words(c->err_no, why, sizeof why));
        e->t.ops->close(e->t.ctx);
        e->t.ops = NULL;
        c->elapsed_ms = engine_now_ms() - e->t_start[MXS_STEP_CONNECT];
        if (engine_now_ms() >= e->deadline) {
            e->timed_out[MXS_STEP_CONNECT] = c->error == MXS_CONN_TIMEOUT;
            engine_step_end(e, MXS_STEP_CONNECT, MXS_ST_FAIL, "%s port %u: %s", c->addr.text, c->port,
                            why);
            return -1;
        }
        e->phase = 1;
        continue;
connected:
        c->error = MXS_CONN_OK;
        c->err_no = 0;
        c->done = 1;
        e->connected = 1;
        e->t_connected_ms = engine_now_ms();
        c->elapsed_ms = e->t_connected_ms - e->t_start[MXS_STEP_CONNECT];
        c->local_addr[0] = 0;
        if (e->t.ops->local)
            e->t.ops->local(e->t.ctx, c->local_addr, sizeof c->local_addr);
        engine_event(e, MXS_EV_FACTS, MXS_STEP_CONNECT, MXS_ST_OK, 0);
        engine_step_end(e, MXS_STEP_CONNECT, c->attempts > 1 ? MXS_ST_WARN : MXS_ST_OK,
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
        engine_io_clear(e);
    }
    int r = engine_exchange(e, MXS_STEP_BANNER, NULL, &m->banner, "waiting for the greeting");
    if (r <= 0)
        return r;
    m->banner_ms = engine_now_ms() - e->t_connected_ms;
    char sum[256];
    reply_summary(&m->banner, sum, sizeof sum);
    if (m->banner.code == 220)
        engine_step_end(e, MXS_STEP_BANNER, m->banner_ms > DIAG_BANNER_SLOW_MS ? MXS_ST_WARN : MXS_ST_OK,
                        "greeting after %.1f s", m->banner_ms / 1000.0);
    else
        engine_step_end(e, MXS_STEP_BANNER, MXS_ST_FAIL, "the server greeted with %s", sum);
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
        int r = engine_exchange(e, MXS_STEP_EHLO, cmd, &m->ehlo, "EHLO");
        if (r <= 0)
            return r;
        if (m->ehlo.code == 250) {
            smtp_caps_parse(&m->ehlo, &m->caps);
            engine_step_end(e, MXS_STEP_EHLO, m->caps.masked ? MXS_ST_WARN : MXS_ST_OK,
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
            engine_step_end(e, MXS_STEP_EHLO, MXS_ST_FAIL, "EHLO answered %s", sum);
            return -1;
        }
    }
    snprintf(cmd, sizeof cmd, "HELO %s", e->set.ehlo_name);
    int r = engine_exchange(e, MXS_STEP_EHLO, cmd, &m->helo, "HELO");
    if (r <= 0)
        return r;
    m->used_helo = 1;
    char sum[256];
    reply_summary(&m->helo, sum, sizeof sum);
    if (m->helo.code == 250)
        engine_step_end(e, MXS_STEP_EHLO, MXS_ST_WARN, "EHLO refused, HELO accepted: no extensions, no STARTTLS");
    else
        engine_step_end(e, MXS_STEP_EHLO, MXS_ST_FAIL, "EHLO and HELO refused: %s", sum);
    return 1;
}

static int step_starttls(struct engine *e)
{
    struct mxs_smtp_facts *m = &e->smtp;
    if (e->phase == 0) {
        memset(&m->starttls, 0, sizeof m->starttls);
        m->leftover_plain = 0;
        if (!m->caps.starttls)
            engine_rec_printf(e, MXS_REC_NOTE, MXS_STEP_STARTTLS,
                              "STARTTLS is not in the EHLO reply; trying it anyway to see the answer");
    }
    int r = engine_exchange(e, MXS_STEP_STARTTLS, "STARTTLS", &m->starttls, "STARTTLS");
    if (r <= 0)
        return r;
    char sum[256];
    reply_summary(&m->starttls, sum, sizeof sum);
    if (m->starttls.code != 220) {
        engine_step_end(e, MXS_STEP_STARTTLS, MXS_ST_FAIL, "%sSTARTTLS answered %s",
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
    engine_step_end(e, MXS_STEP_STARTTLS, left ? MXS_ST_WARN : MXS_ST_OK,
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

/* What our offer and the answer say about versions: [0..3] = TLS 1.0..1.3. */
static void versions_from_main(struct engine *e, int ok)
{
    struct mxs_tls_facts *f = &e->tls;
    int lo = e->set.tls_min ? e->set.tls_min : 12, hi = e->set.tls_max ? e->set.tls_max : 13;
    memset(f->version_accepted, 0, sizeof f->version_accepted);
    if (ok && f->version >= 10 && f->version <= 13) {
        f->version_accepted[f->version - 10] = 1;
        /* The server picks the highest version both sides speak. */
        for (int v = f->version + 1; v <= hi; v++)
            f->version_accepted[v - 10] = -1;
        return;
    }
    if (f->server_hello_version >= 10 && f->server_hello_version <= 13)
        f->version_accepted[f->server_hello_version - 10] = 1;
    if (f->alert_received == 70 || (f->server_hello_version && f->server_hello_version < lo))
        for (int v = lo; v <= hi; v++)
            if (f->version_accepted[v - 10] == 0)
                f->version_accepted[v - 10] = -1;
}

/* The TLS 1.0 / 1.1 ClientHellos: accepted only when the ServerHello comes
 * back with that very version (a 1.0-only server answers a 1.1 hello with
 * 1.0: 1.0 accepted, 1.1 not). */
static void versions_from_legacy(struct engine *e)
{
    struct mxs_tls_facts *f = &e->tls;
    static const int kinds[2] = { SIDE_HELLO_TLS10, SIDE_HELLO_TLS11 };
    for (int i = 0; i < 2; i++) {
        const struct side_result *r = engine_side_result(e, kinds[i]);
        if (!r || r->end != SIDE_ANSWERED)
            continue;
        f->legacy_probed = 1;
        if (r->server_hello && r->server_version >= 0x0301 && r->server_version <= 0x0304) {
            int got = r->server_version - 0x0301;
            f->version_accepted[got] = 1;
            if (got != i)
                f->version_accepted[i] = -1;
        } else {
            f->version_accepted[i] = -1;
        }
    }
}

static void versions_words(const struct mxs_tls_facts *f, char *out, size_t n)
{
    size_t o = 0;
    out[0] = 0;
    for (int i = 0; i < 4; i++) {
        if (!f->version_accepted[i])
            continue;
        int k = snprintf(out + o, n - o, "%sTLS 1.%d %s", o ? ", " : "", i,
                         f->version_accepted[i] > 0 ? "accepted" : "refused");
        if (k < 0 || (size_t)k >= n - o)
            break;
        o += (size_t)k;
    }
}

/* Waiting for side handshakes: 1 all done (or cancelled at the deadline). */
static int sides_done(struct engine *e)
{
    engine_side_pump(e);
    if (!engine_side_pending(e))
        return 1;
    if (engine_now_ms() < e->deadline)
        return 0;
    engine_side_cancel(e, "the HANDSHAKE deadline passed");
    return 1;
}

static int handshake_end_ok(struct engine *e)
{
    struct mxs_tls_facts *f = &e->tls;
    engine_rec_printf(e, MXS_REC_TLS_INFO, MXS_STEP_HANDSHAKE, "%s, %s, group %s, SNI %s",
                      f->version_name, f->cipher, f->group[0] ? f->group : "?",
                      f->sni_sent[0] ? f->sni_sent : "(none)");
    engine_step_end(e, MXS_STEP_HANDSHAKE, MXS_ST_OK, "%s %s", f->version_name, f->cipher);
    return 1;
}

static int handshake_end_fail(struct engine *e)
{
    struct mxs_tls_facts *f = &e->tls;
    char vw[160] = "", extra[400] = "";
    if (f->legacy_probed) {
        versions_words(f, vw, sizeof vw);
        engine_rec_printf(e, MXS_REC_TLS_INFO, MXS_STEP_HANDSHAKE, "versions: %s", vw);
        int any = 0, only = -1;
        for (int i = 0; i < 2; i++)
            if (f->version_accepted[i] > 0) {
                only = any ? -1 : i;
                any++;
            }
        if (any == 1)
            snprintf(extra, sizeof extra, "; the server speaks only TLS 1.%d", only);
        else if (any == 2)
            snprintf(extra, sizeof extra, "; the server speaks only TLS 1.0 and 1.1");
    }
    if (f->alert_received >= 0)
        engine_step_end(e, MXS_STEP_HANDSHAKE, MXS_ST_FAIL, "the server sent alert %s(%d): %s%s%s",
                        f->alert_name, f->alert_received, f->error, e->hs_extra, extra);
    else
        engine_step_end(e, MXS_STEP_HANDSHAKE, MXS_ST_FAIL, "%s%s%s", f->error, e->hs_extra, extra);
    return -1;
}

void engine_side_tls_record(void *arg, int from_server, int type, int version,
                            const unsigned char *body, size_t len)
{
    tls_record_cb(arg, from_server, type, version, body, len);
}

static int step_handshake(struct engine *e)
{
    struct mxs_tls_facts *f = &e->tls;
    char err[256];
    if (e->phase == 0) {
        memset(f, 0, sizeof *f);
        f->alert_received = f->alert_sent = -1;
        e->tls_logged = 0;
        e->last_in_ms = 0;
        e->hs_extra[0] = 0;
        engine_side_free(e);
        if (e->tlc_failed) {
            tls_client_free(e->tlc_failed);
            e->tlc_failed = NULL;
        }
        /* Our own files first (the console may have `set cert` since the
         * start): a local mistake must not look like the partner's. */
        if (tls_check_local_files(&e->set, err, sizeof err) != 0) {
            f->local_error = 1;
            snprintf(f->error, sizeof f->error, "%s", err);
            engine_step_end(e, MXS_STEP_HANDSHAKE, MXS_ST_FAIL, "our own file: %s", err);
            return -1;
        }
        e->tlc = tls_client_new(&e->set, engine_sni(e), &e->t, tls_record_cb, e, err, sizeof err);
        if (!e->tlc) {
            f->attempted = 1;
            snprintf(f->error, sizeof f->error, "%s", err);
            engine_step_end(e, MXS_STEP_HANDSHAKE, MXS_ST_FAIL, "%s", err);
            return -1;
        }
        /* Dual certificates: an RSA-only handshake on a fresh connection,
         * beside ours (which offers ECDSA first), from the same poll loop.
         * A list run starts it once ours shows a certificate that is not
         * RSA (below): one connection per partner where one tells all. */
        if (e->set.dual_cert && !e->side_lazy)
            engine_side_start(e, SIDE_TLS_RSA);
        e->phase = 1;
    }
    if (e->phase == 2)          /* ours failed: the TLS 1.0/1.1 probes run */
        return sides_done(e) ? (versions_from_legacy(e), handshake_end_fail(e)) : 0;
    if (e->phase == 4) {        /* ours failed on RSA-PSS: the PKCS#1 retry */
        if (!sides_done(e))
            return 0;
        if (engine_side_adopt(e, SIDE_TLS12_PKCS1) == 0) {
            tls_client_facts(e->tlc, f);
            f->pss_retry = 1;
            f->handshake_ms = engine_now_ms() - e->t_start[MXS_STEP_HANDSHAKE];
            versions_from_main(e, 1);
            e->tls_active = 1;
            engine_rec_printf(e, MXS_REC_TLS_INFO, MXS_STEP_HANDSHAKE,
                              "the first handshake failed on mbedTLS 3.6.6's RSA-PSS defect (TLS 1.2 "
                              "ServerKeyExchange); a second one on a fresh connection, offering no "
                              "RSA-PSS, completed: this session goes on over it");
            engine_event(e, MXS_EV_FACTS, MXS_STEP_HANDSHAKE, MXS_ST_OK, 0);
            return handshake_end_ok(e);
        }
        return handshake_end_fail(e);
    }
    if (e->phase == 3)          /* ours completed: the dual probe may run */
        return sides_done(e) ? handshake_end_ok(e) : 0;
    engine_side_pump(e);
    int r = tls_client_handshake(e->tlc);
    if (r == TLS_WANT_READ || r == TLS_WANT_WRITE) {
        e->want = r == TLS_WANT_READ ? POLLIN : POLLOUT;
        /* The facts as they stand (SNI sent, bytes so far): a deadline may
         * end the step before the handshake does, and must not claim "no
         * SNI" or "no answer" for a server that was answering slowly. */
        size_t before = f->bytes_in;
        int64_t ms = f->handshake_ms;
        tls_client_facts(e->tlc, f);
        f->handshake_ms = ms;
        if (f->bytes_in > before)
            e->last_in_ms = engine_now_ms();
        return 0;
    }
    tls_client_facts(e->tlc, f);
    f->handshake_ms = engine_now_ms() - e->t_start[MXS_STEP_HANDSHAKE];
    versions_from_main(e, r == TLS_OK);
    engine_event(e, MXS_EV_FACTS, MXS_STEP_HANDSHAKE, MXS_ST_OK, 0);
    if (r == TLS_OK) {
        e->tls_active = 1;
        e->phase = 3;
        e->want = POLLIN;
        /* Ours offers ECDSA first: an RSA leaf means the server has no ECDSA
         * certificate to show (the RSA-only handshake would see the same),
         * so it is stopped at once.  An ECDSA leaf: the RSA-only handshake
         * gets a bounded grace (a server that serves one connection at a
         * time must not hold the probe up), then it is cancelled. */
        const unsigned char *d[1];
        size_t l[1];
        unsigned fl[1];
        int total = 0;
        struct mxs_cert leaf;
        char xerr[64];
        int lazy = e->side_lazy && e->set.dual_cert && !engine_side_result(e, SIDE_TLS_RSA);
        if ((engine_side_pending(e) || lazy) && tls_client_chain(e->tlc, d, l, fl, 1, &total) > 0 &&
            x509view_decode(d[0], l[0], time(NULL), &leaf, xerr, sizeof xerr) == 0) {
            int rsa = !strcmp(leaf.key_type, "RSA");
            x509view_clear(&leaf);
            if (rsa && lazy) {
                engine_rec_printf(e, MXS_REC_NOTE, MXS_STEP_HANDSHAKE,
                                  "RSA-only handshake: not started: our handshake got an RSA certificate");
            } else if (rsa) {
                engine_side_cancel(e, "our handshake got an RSA certificate already");
            } else {
                if (lazy)
                    engine_side_start(e, SIDE_TLS_RSA);
                int64_t now = engine_now_ms(), spent = now - e->t_start[MXS_STEP_CONNECT];
                int64_t grace = spent * 3 > 1000 ? spent * 3 : 1000;
                if (now + grace < e->deadline)
                    e->deadline = now + grace;
            }
        }
        return sides_done(e) ? handshake_end_ok(e) : 0;
    }
    const struct tlsrec_facts *raw = tls_client_raw(e->tlc);
    if (raw->not_tls) {
        /* What the server said instead of TLS belongs in the exchange: one
         * record per line, as for any SMTP reply. */
        unsigned char b[512];
        engine_rec_plain(e, MXS_STEP_HANDSHAKE, raw->not_tls_bytes, raw->n_not_tls, b, sizeof b);
        /* Raw bytes (NUL shown as '.'): every output escapes them itself. */
        char shown[40];
        size_t k = raw->n_not_tls < sizeof shown - 1 ? raw->n_not_tls : sizeof shown - 1;
        for (size_t j = 0; j < k; j++)
            shown[j] = raw->not_tls_bytes[j] ? (char)raw->not_tls_bytes[j] : '.';
        shown[k] = 0;
        snprintf(e->hs_extra, sizeof e->hs_extra, "; the server answered '%s' instead of TLS", shown);
    } else if (raw->late_not_tls) {
        /* Plaintext where the next handshake record belongs: the whole line
         * (mbedTLS read a record header's worth) into the exchange and the
         * error; no errno, as no system call failed. */
        unsigned char b[512];
        char shown[72];
        size_t n = engine_rec_plain(e, MXS_STEP_HANDSHAKE, raw->late_bytes, raw->n_late, b, sizeof b);
        snprintf(f->error, sizeof f->error, "not a TLS record: the server sent '%s' in the clear "
                 "during the handshake (%zu bytes)", engine_plain_shown(b, n, shown, sizeof shown), n);
    } else if (f->server_hello_version && f->server_hello_version < 12) {
        snprintf(e->hs_extra, sizeof e->hs_extra,
                 "; the server chose %s, which mxscope (and modern senders) no longer speak",
                 tlsrec_version_name(raw->sh_selected_version));
    }
    /* Our illegal_parameter to a TLS 1.2 ServerKeyExchange signed with
     * RSA-PSS is mbedTLS 3.6.6's defect, not the server's: retry on a fresh
     * connection offering no RSA-PSS and go on over that session (real
     * senders, OpenSSL's, complete this handshake). */
    if (f->alert_sent == 47 && f->server_hello_version == 12) {
        engine_side_cancel(e, "our handshake failed");
        engine_side_free(e);
        engine_side_start(e, SIDE_TLS12_PKCS1);
        if (engine_side_pending(e)) {
            struct tls_client *keep = e->tlc;
            e->tlc = NULL;
            engine_conn_close(e);
            e->tlc_failed = keep;
            e->phase = 4;
            return 0;
        }
    }
    /* Refused for its version: which versions does it speak?  Hand-built
     * TLS 1.0 and 1.1 ClientHellos on fresh connections (never completed);
     * the dual-certificate probe is of no use any more. */
    if (f->alert_received == 70 || (f->server_hello_version && f->server_hello_version < 12)) {
        engine_side_cancel(e, "our handshake failed");
        engine_side_free(e);
        engine_side_start(e, SIDE_HELLO_TLS10);
        engine_side_start(e, SIDE_HELLO_TLS11);
        if (engine_side_pending(e)) {
            /* Our own connection is of no more use: only the probes' fds. */
            struct tls_client *keep = e->tlc;
            e->tlc = NULL;
            engine_conn_close(e);
            e->tlc_failed = keep;
            e->phase = 2;
            return sides_done(e) ? (versions_from_legacy(e), handshake_end_fail(e)) : 0;
        }
    }
    engine_side_cancel(e, "our handshake failed");
    return handshake_end_fail(e);
}

/* "PREFIX<subject>SUFFIX" as a transcript record: the subject's raw bytes
 * (a NUL included: records carry a length and are escaped once at output),
 * the first 300 of them with the whole length when it is longer, never cut
 * silently. */
static void chain_name_record(struct engine *e, const struct mxs_cert *c, const char *prefix,
                              const char *suffix)
{
    size_t full = c->subject_len ? c->subject_len : strlen(c->subject);
    size_t kept = c->subject_len ? (c->subject_len < sizeof c->subject - 1 ? c->subject_len
                                                                          : sizeof c->subject - 1)
                                 : strlen(c->subject);
    size_t show = kept < 300 ? kept : 300;
    char mark[64] = "";
    if (full > show)
        snprintf(mark, sizeof mark, "\xe2\x80\xa6 (%zu bytes)", full);
    char buf[1200];
    size_t n = (size_t)snprintf(buf, sizeof buf, "%s", prefix);
    if (n + show + strlen(mark) + strlen(suffix) >= sizeof buf)
        return;
    memcpy(buf + n, c->subject, show);
    n += show;
    n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", mark, suffix);
    engine_rec_add(e, MXS_REC_TLS_INFO, MXS_STEP_CHAIN, buf, n);
}

/* The leaf of the RSA-only handshake (dual certificates): kept when it is
 * another certificate than ours, checked the same way (flags from its own
 * handshake, the name against the MX host, the expected thumbprint). */
static void alt_leaf(struct engine *e, time_t now)
{
    struct mxs_chain_facts *ch = &e->chain;
    const struct side_result *r = engine_side_result(e, SIDE_TLS_RSA);
    int rsa = ch->n > 0 && !strcmp(ch->cert[0].key_type, "RSA");
    /* A list run starts it only for a leaf that is not RSA (side_lazy):
     * for an RSA leaf the answer is the one a started-and-stopped probe
     * gives, so a domain reads the same in a list and alone. */
    if (!r && !(rsa && e->side_lazy && e->set.dual_cert && e->tls.ok && e->factory == net_socket_factory))
        return;
    ch->alt_probed = 1;
    ch->alt_ok = r ? r->handshake_ok : 0;
    /* Ours got an RSA leaf: the RSA-only handshake was stopped (or, if it
     * was quicker, saw the same): one answer whatever the timing. */
    if (rsa) {
        ch->alt_ok = 0;
        snprintf(ch->alt_error, sizeof ch->alt_error,
                 "not needed: our handshake got an RSA certificate already");
        return;
    }
    if (!r->handshake_ok || r->n_chain == 0) {
        snprintf(ch->alt_error, sizeof ch->alt_error, "%s",
                 r->tls_error[0] ? r->tls_error : r->error[0] ? r->error : "no certificate");
        engine_rec_printf(e, MXS_REC_TLS_INFO, MXS_STEP_CHAIN,
                          "RSA-only handshake: %s (a single certificate)", ch->alt_error);
        return;
    }
    if (ch->n > 0 && r->der_len[0] == ch->cert[0].der_len &&
        memcmp(r->der[0], ch->cert[0].der, r->der_len[0]) == 0) {
        engine_rec_printf(e, MXS_REC_TLS_INFO, MXS_STEP_CHAIN,
                          "RSA-only handshake: the same certificate (a single certificate)");
        return;
    }
    char err[160] = "";
    struct mxs_cert *c = &ch->alt_leaf;
    if (x509view_decode(r->der[0], r->der_len[0], now, c, err, sizeof err) != 0) {
        engine_rec_printf(e, MXS_REC_ERROR, MXS_STEP_CHAIN, "RSA-only handshake's leaf: %s", err);
        return;
    }
    ch->alt_present = 1;
    c->depth = 0;
    c->verify_flags = r->flags[0];
    const char *mx = engine_mx_host(e);
    ch->alt_name_matches = mx[0] ? x509view_matches_name(c, mx) : 0;
    if (!ch->alt_name_matches)
        c->verify_flags |= MXS_V_NAME;
    if (e->set.expect_fp[0])
        ch->alt_fp_match = strcmp(strlen(e->set.expect_fp) == 40 ? c->sha1 : c->sha256,
                                  e->set.expect_fp) == 0;
    char fl[200];
    mxs_verify_flags_text(c->verify_flags, fl, sizeof fl);
    char tail[400];
    snprintf(tail, sizeof tail, ", %s %d, %d days left, SHA-1 %s: %s", c->key_type, c->key_bits,
             c->days_left, c->sha1, fl);
    chain_name_record(e, c, "second certificate (RSA-only handshake): ", tail);
    /* DANE senders that offer no ECDSA get this chain: the TLSA records
     * against it too (ours were matched by engine_dane_check). */
    engine_dane_check_alt(e, (const unsigned char *const *)r->der, r->der_len, r->n_chain);
}

static int step_chain(struct engine *e)
{
    struct mxs_chain_facts *ch = &e->chain;
    const unsigned char *der[MXS_MAX_CHAIN];
    size_t len[MXS_MAX_CHAIN];
    unsigned flags[MXS_MAX_CHAIN];
    int total = 0;
    engine_chain_clear(e);
    /* After a failed handshake: the certificates it saw before failing. */
    struct tls_client *tc = e->tlc ? e->tlc : e->tlc_failed;
    int hs_failed = e->st[MXS_STEP_HANDSHAKE] == MXS_ST_FAIL;
    int n = tc ? tls_client_chain(tc, der, len, flags, MXS_MAX_CHAIN, &total) : 0;
    if (n == 0) {
        engine_step_end(e, MXS_STEP_CHAIN, MXS_ST_FAIL, "the server sent no certificate we could read");
        return -1;
    }
    time_t now = time(NULL);
    ch->checked_at = (int64_t)now;
    for (int i = 0; i < n; i++) {
        char err[160] = "";
        struct mxs_cert *c = &ch->cert[ch->n];
        if (x509view_decode(der[i], len[i], now, c, err, sizeof err) != 0) {
            engine_rec_printf(e, MXS_REC_ERROR, MXS_STEP_CHAIN, "certificate %d: %s", i, err);
            continue;
        }
        c->depth = i;
        c->verify_flags = flags[i];
        engine_rec_add(e, MXS_REC_CERT, MXS_STEP_CHAIN, der[i], len[i]);
        ch->n++;
    }
    ch->n_total = total;
    {
        int pos[MXS_MAX_CHAIN], anch = 0, stored = 0;
        ch->path_len = tls_client_path(tc, pos, MXS_MAX_CHAIN, &anch, &stored);
    }
    unsigned vr = 0;
    ch->trusted = 0;
    if (tls_client_verify_result(tc, &vr) == 0)
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
    engine_dane_check(e, der, len, n);
    alt_leaf(e, now);
    char ftxt[200];
    mxs_verify_flags_text(vr, ftxt, sizeof ftxt);
    for (int i = 0; i < ch->n; i++) {
        char fl[200];
        mxs_verify_flags_text(ch->cert[i].verify_flags, fl, sizeof fl);
        char head[32], tail[320];
        snprintf(head, sizeof head, "cert %d: ", i);
        snprintf(tail, sizeof tail, ", %d days left, SHA-1 %s: %s", ch->cert[i].days_left,
                 ch->cert[i].sha1, fl);
        chain_name_record(e, &ch->cert[i], head, tail);
    }
    engine_event(e, MXS_EV_FACTS, MXS_STEP_CHAIN, MXS_ST_OK, 0);
    int bad = vr != 0 || (ch->fp_expected && !ch->fp_match);
    int soon = ch->n > 0 && ch->cert[0].days_left < e->set.expiry_warn_days;
    int alt_bad = ch->alt_present && (ch->alt_leaf.verify_flags != 0 ||
                                      (ch->fp_expected && !ch->alt_fp_match));
    const char *after = hs_failed ? " (sent before the handshake failed)" : "";
    if (bad)
        engine_step_end(e, MXS_STEP_CHAIN, MXS_ST_FAIL, "verification: %s%s%s", ftxt,
                        ch->fp_expected && !ch->fp_match ? ", fingerprint mismatch" : "", after);
    else if (alt_bad)
        engine_step_end(e, MXS_STEP_CHAIN, MXS_ST_FAIL,
                        "trusted, name matches; the server's other (%s) certificate does not%s",
                        ch->alt_leaf.key_type, after);
    else
        engine_step_end(e, MXS_STEP_CHAIN, soon ? MXS_ST_WARN : MXS_ST_OK, "trusted, name matches%s%s",
                        soon ? ", expires soon" : "", after);
    return 1;
}

static int step_ehlo2(struct engine *e)
{
    struct mxs_smtp_facts *m = &e->smtp;
    char cmd[300];
    if (e->phase == 0 && e->ku_state == 0) {
        memset(&m->ehlo2, 0, sizeof m->ehlo2);
        memset(&m->caps2, 0, sizeof m->caps2);
        m->caps2.size = -1;
        m->caps_changed = 0;
        e->tls.key_update = 0;
        e->tls.key_update_retry = 0;
    }
    if (e->ku_state == 1) {
        int k = engine_side_key_update(e);
        if (k <= 0)
            return k;
    }
    snprintf(cmd, sizeof cmd, "EHLO %s", e->set.ehlo_name);
    int r = engine_exchange(e, MXS_STEP_EHLO2, cmd, &m->ehlo2,
                            e->ku_state == 2 ? "EHLO after TLS, re-run over TLS 1.2" : "EHLO after TLS");
    if (r == -2) {
        int k = engine_side_key_update(e);
        if (k <= 0)
            return k;
        return step_ehlo2(e);
    }
    if (r <= 0) {
        if (r < 0 && e->ku_state == 2)
            e->tls.key_update_retry = -1;
        return r;
    }
    if (e->ku_state == 2)
        e->tls.key_update_retry = 1;
    if (e->ku_state == 2 && m->ehlo2.code == 250) {
        engine_step_end(e, MXS_STEP_EHLO2, MXS_ST_WARN, "%s; re-run over TLS 1.2: EHLO answered %d",
                        e->ku_words, m->ehlo2.code);
        smtp_caps_parse(&m->ehlo2, &m->caps2);
        if (!e->set.tls_on_connect)
            m->caps_changed = smtp_caps_diff(&m->caps, &m->caps2, NULL, 0);
        return 1;
    }
    if (m->ehlo2.code != 250) {
        char sum[256];
        reply_summary(&m->ehlo2, sum, sizeof sum);
        engine_step_end(e, MXS_STEP_EHLO2, MXS_ST_FAIL, "EHLO after TLS answered %s", sum);
        return -1;
    }
    smtp_caps_parse(&m->ehlo2, &m->caps2);
    char diff[256] = "";
    if (!e->set.tls_on_connect)
        m->caps_changed = smtp_caps_diff(&m->caps, &m->caps2, diff, sizeof diff);
    engine_step_end(e, MXS_STEP_EHLO2, m->caps_changed ? MXS_ST_WARN : MXS_ST_OK,
                    m->caps_changed ? "capabilities changed after TLS: %s" : "%s",
                    m->caps_changed ? diff : "capabilities as before TLS");
    return 1;
}

static int step_quit(struct engine *e)
{
    if (!e->connected) {
        engine_step_end(e, MXS_STEP_QUIT, MXS_ST_OK, "no connection to close");
        return 1;
    }
    if (e->phase == 0) {
        engine_send_line(e, "QUIT");
        e->phase = 1;
    }
    /* The probe's answer is known: QUIT is sent, its 221 is not waited for. */
    int f = engine_flush_out(e);
    if (f == 0)
        return 0;
    if (e->tls_active)
        tls_client_close_notify(e->tlc);
    engine_conn_close(e);
    engine_step_end(e, MXS_STEP_QUIT, MXS_ST_OK, f < 0 ? "connection already gone" : "QUIT sent, connection closed");
    return 1;
}

typedef int (*step_fn)(struct engine *);
static const step_fn step_fns[MXS_STEP_COUNT] = {
    step_resolve, step_connect, step_banner, step_ehlo, step_starttls,
    step_handshake, step_chain, step_ehlo2, step_quit, engine_step_policy
};

int engine_step_run(struct engine *e, enum mxs_step s)
{
    return step_fns[s](e);
}
