/*
 * engine.c - the stepped, non-blocking probe: its life (new, free, restart,
 * re-run, cancel), the stepping loop and the order of steps, the one state
 * setter, the transcript and the event queue, and the accessors of core.h.
 * Owner: the engine.  The steps themselves are in engine_steps.c, their I/O
 * in engine_io.c, the filling of a read-only engine from a saved file in
 * engine_replay.c.
 *
 * engine_step_set() is the only function that writes a step's state, time
 * and detail (like curl's smtp_state()); step_begin, engine_step_end and
 * engine_step_skip (here) and the replay API call it.  A step handler is
 * called again and again by engine_step() until it says it is done; it never
 * blocks: it reads and writes what the transport allows and returns
 * "waiting".  The whole stage has one deadline, set when the step starts, so
 * a server dripping a byte a second cannot stretch it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diag/diag.h"
#include "probe/dns.h"
#include "probe/engine_int.h"
#include "probe/net.h"
#include "probe/smtp.h"
#include "probe/tls.h"
#include "probe/x509view.h"

#define MAX_RECORDS 20000
#define MAX_RECORD_BYTES (16u << 20)
int64_t engine_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t engine_now_ms(void) { return engine_now_us() / 1000; }

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
void engine_rec_printf(struct engine *e, enum mxs_rec_kind k, enum mxs_step s,
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
    in->policy = &e->pol;
    in->mx_host = engine_mx_host(e);
    in->domain = e->set.target_is_host ? "" : e->set.target;
    /* Dates are judged as of the CHAIN step (a loaded session keeps it). */
    in->now = e->chain.checked_at ? (time_t)e->chain.checked_at : time(NULL);
}

void engine_run_diag(struct engine *e)
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

/* ---- step bookkeeping ------------------------------------------------- */

void engine_step_set(struct engine *e, enum mxs_step s, enum mxs_step_state st,
                     int64_t elapsed_ms, const char *detail)
{
    if (s < 0 || s >= MXS_STEP_COUNT)
        return;
    e->st[s] = st;
    if (elapsed_ms >= 0)
        e->elapsed_ms[s] = elapsed_ms;
    if (detail)
        snprintf(e->step_err[s], sizeof e->step_err[s], "%s", detail);
}

static void step_begin(struct engine *e, enum mxs_step s)
{
    e->cur = s;
    e->running = 1;
    e->phase = 0;
    e->t_start[s] = engine_now_ms();
    e->deadline = e->t_start[s] + e->set.timeout_ms[s];
    e->timed_out[s] = 0;
    e->reset[s] = 0;
    e->ku_state = 0;
    engine_step_set(e, s, MXS_ST_RUNNING, -1, "");
    engine_rec_printf(e, MXS_REC_STEP, s, "%s started (deadline %.1f s)", mxs_step_name(s),
                      e->set.timeout_ms[s] / 1000.0);
    engine_event(e, MXS_EV_STEP_STATE, s, MXS_ST_RUNNING, 0);
}

/* A running step ends with its result. */
void engine_step_end(struct engine *e, enum mxs_step s, enum mxs_step_state st,
                     const char *fmt, ...)
{
    char detail[sizeof e->step_err[0]];
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, sizeof detail, fmt, ap);
        va_end(ap);
    }
    engine_step_set(e, s, st, engine_now_ms() - e->t_start[s], fmt ? detail : NULL);
    e->running = 0;
    if (st == MXS_ST_FAIL && e->step_err[s][0])
        engine_rec_printf(e, MXS_REC_ERROR, s, "%s failed: %s", mxs_step_name(s), e->step_err[s]);
    engine_rec_printf(e, MXS_REC_STEP, s, "%s %s %lld ms%s%s", mxs_step_name(s),
                      mxs_step_state_name(st), (long long)e->elapsed_ms[s],
                      st != MXS_ST_FAIL && e->step_err[s][0] ? ": " : "",
                      st != MXS_ST_FAIL ? e->step_err[s] : "");
    engine_event(e, MXS_EV_STEP_STATE, s, st, 0);
    engine_run_diag(e);
}

void engine_step_skip(struct engine *e, enum mxs_step s, const char *why)
{
    engine_step_set(e, s, MXS_ST_SKIPPED, 0, why);
    engine_rec_printf(e, MXS_REC_STEP, s, "%s skipped: %s", mxs_step_name(s), why);
    engine_event(e, MXS_EV_STEP_STATE, s, MXS_ST_SKIPPED, 0);
}

/* The order of steps: implicit TLS (port 465) shakes hands right after
 * CONNECT and then greets over TLS; STARTTLS and EHLO2 have no place.
 * POLICY (9, appended to the enum) runs right after RESOLVE: what the
 * domain publishes is known before the first MX is tried, as a sender
 * knows it (mxs_step_order() in base/names.c lists the plain order too). */
static const int order_plain[MXS_STEP_COUNT] = { 0, 9, 1, 2, 3, 4, 5, 6, 7, 8 };
static const int order_implicit[MXS_STEP_COUNT] = { 0, 9, 1, 5, 6, 2, 3, 4, 7, 8 };

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
        if (st[MXS_STEP_HANDSHAKE] == MXS_ST_FAIL && (e->tlc || e->tlc_failed)) {
            const unsigned char *d[1]; size_t l[1]; unsigned f[1]; int t;
            if (tls_client_chain(e->tlc ? e->tlc : e->tlc_failed, d, l, f, 1, &t) > 0)
                return NULL; /* the handshake failed after the certificates: show them */
        }
        return "no certificate received";
    case MXS_STEP_EHLO2:
        if (e->set.tls_on_connect) return "implicit TLS: the EHLO ran over TLS already";
        return e->tls_active && e->connected ? NULL : "no TLS session";
    case MXS_STEP_QUIT:
        return engine_raw_quit_skip(e);
    case MXS_STEP_POLICY:
        return engine_policy_cannot_run(e);
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
        engine_step_set(e, (enum mxs_step)i, MXS_ST_PENDING, 0, "");
    e->tls.alert_received = e->tls.alert_sent = -1;
    tls_global_init();
    engine_run_diag(e);
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
    e->dns_shared = src->dns_shared;
    e->side_lazy = src->side_lazy;
    /* The lookup is shared: one RESOLVE for the whole survey, its answers
     * copied, not asked again per address. */
    e->dns = src->dns;
    engine_step_set(e, MXS_STEP_RESOLVE, src->st[MXS_STEP_RESOLVE], src->elapsed_ms[MXS_STEP_RESOLVE],
                    src->step_err[MXS_STEP_RESOLVE]);
    for (size_t i = 0; i < src->n_rec; i++)
        if (src->rec[i].step == MXS_STEP_RESOLVE || src->rec[i].step == MXS_STEP_POLICY)
            engine_rec_add(e, src->rec[i].kind, src->rec[i].step, src->rec[i].data, src->rec[i].len);
    /* The domain's policy is the same for every node: read once. */
    e->pol = src->pol;
    if (src->st[MXS_STEP_POLICY] != MXS_ST_PENDING && src->st[MXS_STEP_POLICY] != MXS_ST_RUNNING)
        engine_step_set(e, MXS_STEP_POLICY, src->st[MXS_STEP_POLICY], src->elapsed_ms[MXS_STEP_POLICY],
                        src->step_err[MXS_STEP_POLICY]);
    else
        engine_step_set(e, MXS_STEP_POLICY, MXS_ST_SKIPPED, 0, "not read for this node");
    e->next_idx = order_index(e, MXS_STEP_CONNECT);
    engine_run_diag(e);
    return e;
}

void engine_set_list_mode(struct engine *e, struct dns_shared *sh)
{
    e->dns_shared = sh;
    e->side_lazy = 1;
}

void engine_set_factory(struct engine *e, net_factory f, void *arg)
{
    e->factory = f;
    e->factory_arg = arg;
}

/* What the chain's certificates hold on the heap. */
static void chain_release(struct engine *e)
{
    for (int i = 0; i < e->chain.n; i++)
        x509view_clear(&e->chain.cert[i]);
    if (e->chain.alt_present)
        x509view_clear(&e->chain.alt_leaf);
}

void engine_chain_clear(struct engine *e)
{
    chain_release(e);
    memset(&e->chain, 0, sizeof e->chain);
}

void engine_free(struct engine *e)
{
    if (!e)
        return;
    engine_raw_close_held(e, "mxscope left it");
    engine_conn_close(e);
    engine_side_free(e);
    engine_policy_clear(e);
    dns_free(e->dns_ctx);
    /* Not engine_chain_clear(): zeroing 300 KB about to be freed touches
     * pages a probe never used (a list frees thousands of engines). */
    chain_release(e);
    for (size_t i = 0; i < e->n_rec; i++)
        free(e->rec[i].data);
    free(e->rec);
    free(e);
}

void engine_log_findings(struct engine *e)
{
    for (int i = 0; i < e->n_findings; i++) {
        const struct mxs_finding *f = &e->findings[i];
        engine_rec_printf(e, MXS_REC_FINDING, f->step, "%s %s: %s", mxs_severity_name(f->severity), f->id,
                          f->message);
    }
    e->findings_logged = 1;
}

static void finish(struct engine *e)
{
    if (e->finished)
        return;
    e->finished = 1;
    engine_run_diag(e);
    if (!e->findings_logged) /* a hold before QUIT logged them: no finding is QUIT's */
        engine_log_findings(e);
    engine_event(e, MXS_EV_FINISHED, MXS_STEP_NONE, MXS_ST_PENDING, 0);
}

enum mxs_progress engine_step(struct engine *e)
{
    if (e->replay)
        return MXS_PROG_FINISHED;
    if (e->cmd_active) {
        enum mxs_progress p = engine_raw_progress(e);
        /* The operator's QUIT closed the session before the QUIT step. */
        if (!e->cmd_active && !e->running && engine_raw_quit_skip(e) &&
            e->next_idx < MXS_STEP_COUNT && step_at(e, e->next_idx) == MXS_STEP_QUIT) {
            engine_step_skip(e, MXS_STEP_QUIT, engine_raw_quit_skip(e));
            e->next_idx++;
            finish(e);
        }
        return p;
    }
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
                    engine_run_diag(e);
                return MXS_PROG_FINISHED;
            }
            enum mxs_step s = step_at(e, e->next_idx);
            if (s == MXS_STEP_QUIT && engine_raw_hold(e))
                return MXS_PROG_FINISHED; /* kept open for the operator */
            const char *why = cannot_run(e, s);
            if (why) {
                engine_step_skip(e, s, why);
                e->next_idx++;
                continue;
            }
            step_begin(e, s);
        }
        enum mxs_step s = e->cur;
        int r = engine_step_run(e, s);
        if (r == 0) {
            if (engine_now_ms() >= e->deadline) {
                char tw[300];
                e->timed_out[s] = 1;
                engine_timeout_words(e, s, tw, sizeof tw);
                if (s != MXS_STEP_RESOLVE && s != MXS_STEP_CONNECT && s != MXS_STEP_POLICY &&
                    !e->parse_err)
                    engine_record_partial(e, s);
                if ((s == MXS_STEP_RESOLVE || s == MXS_STEP_POLICY) && e->dns_ctx)
                    dns_cancel(e->dns_ctx);
                if (s == MXS_STEP_POLICY)
                    engine_policy_stop(e);
                else if (s != MXS_STEP_RESOLVE && s != MXS_STEP_QUIT)
                    engine_conn_close(e);
                /* POLICY never stops delivery for the other policies: its
                 * deadline is a warning (the MTA-STS verdict says more). */
                engine_step_end(e, s, s == MXS_STEP_POLICY ? MXS_ST_WARN : MXS_ST_FAIL, "%s", tw);
            } else {
                return MXS_PROG_WAITING;
            }
        }
        /* a failed step after CONNECT leaves a connection we cannot trust;
         * a failed handshake keeps its client for the certificates it saw */
        if (e->st[s] == MXS_ST_FAIL && s >= MXS_STEP_BANNER && s != MXS_STEP_CHAIN &&
            s != MXS_STEP_STARTTLS && s != MXS_STEP_EHLO && s != MXS_STEP_POLICY) {
            struct tls_client *keep = NULL;
            if (s == MXS_STEP_HANDSHAKE) {
                keep = e->tlc ? e->tlc : e->tlc_failed;
                if (keep == e->tlc)
                    e->tlc = NULL;
                else
                    e->tlc_failed = NULL;
            }
            engine_conn_close(e);
            e->tlc_failed = keep;
        }
        if (e->st[s] == MXS_ST_FAIL && s == MXS_STEP_EHLO && e->smtp.ehlo.code == 0)
            engine_conn_close(e);
        if (e->st[s] == MXS_ST_FAIL && s == MXS_STEP_STARTTLS && e->smtp.starttls.code == 0)
            engine_conn_close(e);
        e->next_idx = order_index(e, s) + 1;
        /* POLICY for a host or an address is known not to run as soon as
         * RESOLVE ends: say so now, so the next step shown is CONNECT. */
        if (e->next_idx < MXS_STEP_COUNT && step_at(e, e->next_idx) == MXS_STEP_POLICY &&
            cannot_run(e, MXS_STEP_POLICY)) {
            engine_step_skip(e, MXS_STEP_POLICY, cannot_run(e, MXS_STEP_POLICY));
            e->next_idx++;
        }
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
    if (e->running && e->cur == MXS_STEP_POLICY)
        return engine_policy_pollfds(e, fds, max);
    if (e->t.ops && e->t.ops->fd(e->t.ctx) >= 0) {
        fds[n].fd = e->t.ops->fd(e->t.ctx);
        fds[n].events = (short)(e->want ? e->want : POLLIN);
        fds[n].revents = 0;
        n++;
    }
    if (e->running && (e->cur == MXS_STEP_HANDSHAKE || e->cur == MXS_STEP_EHLO2))
        n += engine_side_pollfds(e, fds + n, max - n);
    return n;
}

int engine_timeout_ms(const struct engine *e)
{
    if (!e->running && !e->cmd_active)
        return -1;
    int64_t left = e->deadline - engine_now_ms();
    if (e->running && e->cur == MXS_STEP_CONNECT && e->attempt_deadline < e->deadline)
        left = e->attempt_deadline - engine_now_ms();
    if (e->running && e->cur == MXS_STEP_POLICY) {
        int p = engine_policy_timeout_ms((struct engine *)e);
        return p >= 0 && p < left ? p : left < 0 ? 0 : (int)left;
    }
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
        engine_raw_cancel(e);
        return;
    }
    if (!e->running)
        return;
    enum mxs_step s = e->cur;
    if ((s == MXS_STEP_RESOLVE || s == MXS_STEP_POLICY) && e->dns_ctx)
        dns_cancel(e->dns_ctx);
    if (s == MXS_STEP_POLICY)
        engine_policy_stop(e);
    else
        engine_conn_close(e);
    engine_step_end(e, s, MXS_ST_CANCELLED, "cancelled by the operator");
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
    engine_raw_close_held(e, "re-run");
    e->raw_mode = ENGINE_RAW_COMMAND;
    e->findings_logged = 0;
    engine_conn_close(e);
    int from = order_index(e, s);
    /* A clean connection: everything from CONNECT on is re-run. */
    int conn_idx = order_index(e, MXS_STEP_CONNECT);
    int start = from <= conn_idx ? from : conn_idx;
    if (s == MXS_STEP_RESOLVE || !e->dns.done)
        start = 0;
    for (int i = start; i < MXS_STEP_COUNT; i++) {
        enum mxs_step st = step_at(e, i);
        engine_step_set(e, st, MXS_ST_PENDING, 0, "");
        e->timed_out[st] = e->reset[st] = 0;
        engine_event(e, MXS_EV_STEP_STATE, st, MXS_ST_PENDING, 0);
    }
    if (start == 0)
        memset(&e->dns, 0, sizeof e->dns);
    if (start <= order_index(e, MXS_STEP_POLICY))
        engine_policy_clear(e);
    memset(&e->conn, 0, sizeof e->conn);
    memset(&e->smtp, 0, sizeof e->smtp);
    memset(&e->tlc, 0, sizeof e->tlc);
    e->tls.alert_received = e->tls.alert_sent = -1;
    engine_chain_clear(e);
    e->next_idx = start;
    e->finished = 0;
    e->auto_until = from > start ? (int)s : -1;
    engine_rec_printf(e, MXS_REC_NOTE, MXS_STEP_NONE, "re-running from %s", mxs_step_name(step_at(e, start)));
    engine_run_diag(e);
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
        engine_rec_printf(e, MXS_REC_NOTE, MXS_STEP_NONE, "set %s %s", key, v);
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
        return engine_now_ms() - e->t_start[s];
    return e->elapsed_ms[s];
}

void engine_step_info(const struct engine *e, enum mxs_step s, struct engine_step_info *out)
{
    memset(out, 0, sizeof *out);
    out->detail = "";
    if (s < 0 || s >= MXS_STEP_COUNT)
        return;
    out->state = e->st[s];
    out->elapsed_ms = e->elapsed_ms[s];
    out->timed_out = e->timed_out[s];
    out->detail = e->step_err[s];
}

int engine_finished(const struct engine *e) { return e->finished; }
int engine_connected(const struct engine *e) { return e->connected; }
int engine_tls_active(const struct engine *e) { return e->tls_active; }
const struct mxs_dns_facts *engine_dns(const struct engine *e) { return &e->dns; }
const struct mxs_connect_facts *engine_connection(const struct engine *e) { return &e->conn; }
const struct mxs_smtp_facts *engine_smtp(const struct engine *e) { return &e->smtp; }
const struct mxs_tls_facts *engine_tls(const struct engine *e) { return &e->tls; }
const struct mxs_chain_facts *engine_chain(const struct engine *e) { return &e->chain; }
const struct mxs_policy_facts *engine_policy(const struct engine *e) { return &e->pol; }

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
        if (s == MXS_STEP_QUIT || s == MXS_STEP_POLICY)
            continue; /* POLICY never stops delivery: the MTA-STS verdict says */
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
