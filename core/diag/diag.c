/*
 * diag.c - findings and verdicts from the engine's facts (see diag.h).
 * Owner: diagnosis.
 *
 * Structure: one check per step (check_net.c, check_tls.c) decides which
 * findings hold and files each through diag_file(), which keeps out[]
 * sorted (step, then severity) and remembers, per step, the first finding
 * that blocks delivery for a class of policies (the row's blocks, see
 * catalog.c).  The verdicts are a walk over the steps in order using only
 * those blocks and the step states, so adding a finding never needs a
 * change in the verdict code.
 *
 * Every string that did not come from this module is escaped (ASCII) before
 * it lands in a finding: network bytes, certificate fields, and the
 * operator's own settings alike (cheap, and it keeps the rule simple).
 * May call: base (esc).
 */
#include "diag/diag_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/esc.h"

/* Zero facts stand in for NULL pointers: "nothing known yet". */
static const struct mxs_settings zero_set;
static const struct mxs_dns_facts zero_dns;
static const struct mxs_connect_facts zero_conn;
static const struct mxs_smtp_facts zero_smtp;
static const struct mxs_tls_facts zero_tls;
static const struct mxs_chain_facts zero_chain;
static const struct mxs_policy_facts zero_policy;

/* ---- small text helpers -------------------------------------------------- */

void diag_app(char *dst, size_t cap, const char *fmt, ...)
{
    size_t len = strnlen(dst, cap);
    if (cap == 0 || len >= cap - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst + len, cap - len, fmt, ap);
    va_end(ap);
}

const char *diag_esc(char *tmp, size_t n, const char *s)
{
    mxs_escape_str(s ? s : "", tmp, n, MXS_ESC_ASCII);
    return tmp;
}

const char *diag_cert_name(char *tmp, size_t n, const char *field, size_t cap, size_t len)
{
    mxs_escape_name(field, cap, len, tmp, n, MXS_ESC_CUTMARK | MXS_ESC_IDN); /* UTF-8 kept: diag.h */
    return tmp;
}

const char *diag_iso(int64_t t, char out[32])
{
    struct tm tm;
    time_t tt = (time_t)t;
    if ((int64_t)tt != t || !gmtime_r(&tt, &tm) ||
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, 32, "(time %lld)", (long long)t);
    return out;
}

const char *diag_secs(int64_t ms, char out[32])
{
    if (ms < 0)
        ms = 0;
    snprintf(out, 32, "%lld.%01lld s", (long long)(ms / 1000),
             (long long)((ms % 1000) / 100));
    return out;
}

void diag_reply_lines(const struct mxs_reply *r, char *dst, size_t cap)
{
    const char *p = r->text, *end = r->text + strnlen(r->text, sizeof r->text);
    int first = 1;
    if (r->code == 0) {
        diag_app(dst, cap, "(no reply)");
        return;
    }
    if (p == end) {
        diag_app(dst, cap, "%d", r->code);
        return;
    }
    while (p <= end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        char tmp[600];
        mxs_escape(p, (size_t)(le - p), tmp, sizeof tmp, MXS_ESC_ASCII);
        diag_app(dst, cap, "%s%d%c%s", first ? "" : "\n", r->code, nl ? '-' : ' ', tmp);
        first = 0;
        if (!nl)
            break;
        p = nl + 1;
    }
    if (r->truncated && r->bytes)
        diag_app(dst, cap, "\n(reply cut: %d lines, %zu bytes received; the rest not kept)",
                 r->n_lines, r->bytes);
    else if (r->truncated)
        diag_app(dst, cap, "\n(reply cut: lines or bytes dropped)");
}

const char *diag_reply_first(const struct mxs_reply *r, char *out, size_t n)
{
    size_t l = strcspn(r->text, "\n");
    char tmp[200];
    mxs_escape(r->text, l < 120 ? l : 120, tmp, sizeof tmp, MXS_ESC_ASCII);
    out[0] = 0;
    diag_app(out, n, "%d %s", r->code, tmp);
    return out;
}

int diag_is_final(enum mxs_step_state s)
{
    return s == MXS_ST_OK || s == MXS_ST_WARN || s == MXS_ST_FAIL;
}

/* ---- findings ------------------------------------------------------------ */

void diag_start(struct mxs_finding *f, enum diag_row r, int depth)
{
    const struct diag_entry *e = &diag_rows[r];
    memset(f, 0, sizeof *f);
    snprintf(f->id, sizeof f->id, "%s", e->id);
    f->severity = e->severity;
    f->step = e->step;
    f->cert_depth = depth;
}

/* Sort key: step ascending, then severity descending; equal keys keep the
 * order of generation (which puts the most telling finding first). */
static int fkey_after(const struct mxs_finding *a, const struct mxs_finding *b)
{
    if (a->step != b->step)   /* in run order: POLICY right after RESOLVE */
        return mxs_step_rank(a->step) > mxs_step_rank(b->step);
    return a->severity < b->severity;
}

static void commit(struct diag_ctx *c, const struct mxs_finding *f, unsigned blocks)
{
    if (f->step >= 0 && f->step < MXS_STEP_COUNT) {
        c->per_step[f->step]++;
        if ((blocks & DIAG_BLK_LOCAL) && !c->local.set) {
            c->local.set = 1;
            c->local_step = f->step;
            APP(c->local.id, "%s", f->id);
            APP(c->local.message, "%s", f->message);
        }
        static const unsigned bit[DIAG_CLS_COUNT] = {DIAG_BLK_ALL, DIAG_BLK_TLS,
                                                       DIAG_BLK_VERIFY};
        for (int k = 0; k < DIAG_CLS_COUNT; k++) {
            struct diag_block *b = &c->blk[f->step][k];
            if ((blocks & bit[k]) && !b->set) {
                b->set = 1;
                APP(b->id, "%s", f->id);
                APP(b->message, "%s", f->message);
            }
        }
    }
    if (!c->out || c->max <= 0) {
        c->dropped++;
        return;
    }
    if (c->n >= c->max) {
        /* Full: evict the latest of the least severe, if less severe. */
        int victim = -1;
        for (int i = 0; i < c->n; i++)
            if (victim < 0 || c->out[i].severity <= c->out[victim].severity)
                victim = i;
        c->dropped++;
        if (victim < 0 || c->out[victim].severity >= f->severity)
            return;
        memmove(&c->out[victim], &c->out[victim + 1],
                (size_t)(c->n - victim - 1) * sizeof *c->out);
        c->n--;
    }
    int pos = c->n;
    while (pos > 0 && fkey_after(&c->out[pos - 1], f))
        pos--;
    memmove(&c->out[pos + 1], &c->out[pos], (size_t)(c->n - pos) * sizeof *c->out);
    c->out[pos] = *f;
    c->n++;
}

void diag_file(struct diag_ctx *c, struct mxs_finding *f, enum diag_row r,
               const struct diag_vars *v)
{
    const struct diag_entry *e = &diag_rows[r];
    struct diag_vars dv = {0};
    if (v)
        dv = *v;
    if (!dv.domain)
        dv.domain = c->dom;
    diag_advise(f, e, &dv);
    /* Filed as a warning below the row's severity: it stops nobody. */
    commit(c, f, f->severity >= e->severity ? e->blocks : 0);
}

/* ---- verdicts ------------------------------------------------------------------ */

static void verdict_set(struct mxs_verdict *v, enum mxs_outcome o, enum mxs_step s,
                        const char *id)
{
    v->outcome = o;
    v->step = s;
    snprintf(v->finding, sizeof v->finding, "%s", id ? id : "");
    v->words[0] = 0;
}

static const char *pending_words(enum mxs_step_state st)
{
    switch (st) {
    case MXS_ST_RUNNING: return "is still running";
    case MXS_ST_SKIPPED: return "was skipped";
    case MXS_ST_CANCELLED: return "was cancelled";
    default: return "has not run yet";
    }
}

static void verdict_policy(struct diag_ctx *c, enum mxs_policy p, struct mxs_verdict *v)
{
    const struct diag_input *in = c->in;
    int toc = c->set->tls_on_connect;
    v->policy = p;
    for (int s = MXS_STEP_RESOLVE; s <= MXS_STEP_EHLO2; s++) {
        const struct diag_block *all = &c->blk[s][DIAG_CLS_ALL], *tls = &c->blk[s][DIAG_CLS_TLS],
                           *ver = &c->blk[s][DIAG_CLS_VERIFY];
        const char *sn = mxs_step_name((enum mxs_step)s);
        if (c->local.set && c->local_step == s) {
            verdict_set(v, MXS_OUT_NOT_EVALUATED, (enum mxs_step)s, c->local.id);
            APP(v->words, "not evaluated: a problem on our side at %s (%s), not "
                "the partner's: %s", sn, c->local.id, c->local.message);
            return;
        }
        if (all->set) {
            verdict_set(v, MXS_OUT_NOT_DELIVERED, (enum mxs_step)s, all->id);
            APP(v->words, "not delivered: stops at %s (%s): %s", sn, all->id, all->message);
            return;
        }
        if (tls->set) {
            if (p == MXS_POL_OPPORTUNISTIC && !toc) {
                verdict_set(v, MXS_OUT_CLEAR, (enum mxs_step)s, tls->id);
                if (s == MXS_STEP_HANDSHAKE)
                    APP(v->words, "delivered IN CLEAR: the TLS handshake fails "
                        "(%s); a real MTA retries the delivery without TLS, the "
                        "message travels unencrypted", tls->id);
                else
                    APP(v->words, "delivered IN CLEAR: no TLS at %s (%s); the "
                        "message travels unencrypted", sn, tls->id);
            } else {
                verdict_set(v, MXS_OUT_NOT_DELIVERED, (enum mxs_step)s, tls->id);
                APP(v->words, "not delivered: TLS is required and fails at %s "
                    "(%s): %s", sn, tls->id, tls->message);
            }
            return;
        }
        if (ver->set && p == MXS_POL_VERIFIED) {
            verdict_set(v, MXS_OUT_NOT_DELIVERED, (enum mxs_step)s, ver->id);
            APP(v->words, "not delivered: the certificate check fails at %s "
                "(%s): %s", sn, ver->id, ver->message);
            return;
        }
        /* Steps this policy does not depend on.  RESOLVE is skipped when
         * the host (or address) is given: nothing to look up. */
        if (s == MXS_STEP_STARTTLS && toc)
            continue;
        if (s == MXS_STEP_RESOLVE && in->state[s] == MXS_ST_SKIPPED)
            continue;
        if (s == MXS_STEP_CHAIN && p != MXS_POL_VERIFIED)
            continue;
        if (!diag_is_final(in->state[s])) {
            verdict_set(v, MXS_OUT_NOT_EVALUATED, (enum mxs_step)s, "");
            APP(v->words, "not evaluated: %s %s", sn, pending_words(in->state[s]));
            return;
        }
    }
    verdict_set(v, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    char cs[120], vn[40];
    diag_esc(vn, sizeof vn, c->tls->version_name[0] ? c->tls->version_name : "TLS");
    diag_esc(cs, sizeof cs, c->tls->cipher);
    switch (p) {
    case MXS_POL_OPPORTUNISTIC:
    case MXS_POL_REQUIRED: {
        const char *unverified = NULL;
        for (int s = 0; s < MXS_STEP_COUNT && !unverified; s++)
            if (c->blk[s][DIAG_CLS_VERIFY].set)
                unverified = c->blk[s][DIAG_CLS_VERIFY].id;
        APP(v->words, "delivered encrypted (%s%s%s)", vn, cs[0] ? ", " : "", cs);
        if (unverified)
            APP(v->words, "; the certificate fails a verifying sender's check (%s), "
                "but this sender does not check certificates", unverified);
        else
            APP(v->words, "; the certificate is not checked at this level");
        break;
    }
    default: {
        int min_days = 1 << 30;
        int n = c->chain->n < MXS_MAX_CHAIN ? c->chain->n : MXS_MAX_CHAIN;
        for (int i = 0; i < n; i++)
            if (c->chain->cert[i].not_after > 0 && c->chain->cert[i].days_left < min_days)
                min_days = c->chain->cert[i].days_left;
        APP(v->words, "delivered encrypted and authenticated (%s): chain trusted, "
            "name matches", vn);
        if (min_days < c->warn_days)
            APP(v->words, "; warning: a certificate expires soon (%d %s left)", min_days,
                mxs_plural(min_days, "day", "days"));
        break;
    }
    }
}

static void verdict_dane(struct diag_ctx *c, struct mxs_verdict v[MXS_POL_COUNT])
{
    struct mxs_verdict *d = &v[MXS_POL_DANE];
    const struct mxs_dns_facts *dns = c->dns;
    d->policy = MXS_POL_DANE;
    verdict_set(d, MXS_OUT_NOT_EVALUATED, MXS_STEP_NONE, "");
    if (!dns->done && !diag_is_final(c->in->state[MXS_STEP_RESOLVE])) {
        d->step = MXS_STEP_RESOLVE;
        APP(d->words, "not evaluated: RESOLVE %s",
            pending_words(c->in->state[MXS_STEP_RESOLVE]));
        return;
    }
    if (c->local.set) {
        verdict_set(d, MXS_OUT_NOT_EVALUATED, (enum mxs_step)c->local_step, c->local.id);
        APP(d->words, "not evaluated: a problem on our side at %s (%s), not the "
            "partner's: %s", mxs_step_name((enum mxs_step)c->local_step), c->local.id,
            c->local.message);
        return;
    }
    if (c->mx_i < 0) {
        APP(d->words, "no DANE policy (no secure TLSA records): no MX host");
        return;
    }
    const struct mxs_mx *m = &dns->mx[c->mx_i];
    char h[300];
    /* Records of an alias' CNAME-expanded name are named by it (RFC 7672 2.2.2). */
    const char *tcp = m->tlsa_expanded ? strstr(m->tlsa_name, "._tcp.") : NULL;
    diag_esc(h, sizeof h, tcp ? tcp + 6 : m->host);
    unsigned port = c->set->tlsa_port ? c->set->tlsa_port : c->set->port ? c->set->port : 25;
    if (m->tlsa.dnssec == MXS_DNSSEC_BOGUS) {
        verdict_set(d, MXS_OUT_NOT_DELIVERED, MXS_STEP_RESOLVE, "dnssec-bogus");
        APP(d->words, "not delivered: the TLSA records _%u._tcp.%s are DNSSEC-"
            "bogus; DANE senders defer", port, h);
        return;
    }
    int mx_secure = c->set->target_is_host || dns->mx_answer.dnssec == MXS_DNSSEC_SECURE;
    if (m->literal) {          /* no name, no _25._tcp.NAME: DANE cannot apply */
        APP(d->words, "no DANE policy: the MX target is an IP address, which has no TLSA "
            "records (RFC 7672 looks them up by host name; mx-target-literal)");
        return;
    }
    if (m->tlsa.dnssec != MXS_DNSSEC_SECURE || m->n_tlsa <= 0) {
        APP(d->words, "no DANE policy (no secure TLSA records)");
        return;
    }
    if (!mx_secure) {
        APP(d->words, "no DANE policy (no secure TLSA records): the TLSA records "
            "are signed but the MX records are not DNSSEC-secure (RFC 7672 2.2.1)");
        return;
    }
    const struct mxs_verdict *rq = &v[MXS_POL_REQUIRED];
    if (rq->outcome == MXS_OUT_NOT_DELIVERED) {
        verdict_set(d, MXS_OUT_NOT_DELIVERED, rq->step, rq->finding);
        APP(d->words, "not delivered: DANE policy (%d TLSA record%s) requires "
            "TLS, which fails at %s (%s)", m->n_tlsa, m->n_tlsa == 1 ? "" : "s",
            mxs_step_name(rq->step), rq->finding);
        return;
    }
    const struct mxs_chain_facts *ch = c->chain;
    enum mxs_step_state cs = c->in->state[MXS_STEP_CHAIN];
    if (!diag_is_final(cs) || !ch->dane_checked) {
        verdict_set(d, MXS_OUT_NOT_EVALUATED, MXS_STEP_CHAIN, "");
        APP(d->words, "not evaluated: DANE policy present (%d TLSA record%s for "
            "_%u._tcp.%s); the chain %s", m->n_tlsa, m->n_tlsa == 1 ? "" : "s", port, h,
            diag_is_final(cs) ? "was not received" : pending_words(cs));
        return;
    }
    char vn[40];
    diag_esc(vn, sizeof vn, c->tls->version_name[0] ? c->tls->version_name : "TLS");
    if (!ch->dane_usable) {
        verdict_set(d, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
        APP(d->words, "delivered encrypted (%s) without authentication: none of the "
            "%d TLSA record%s is usable, so TLS is mandatory but not verified "
            "(RFC 7672 2.2)", vn, m->n_tlsa, m->n_tlsa == 1 ? "" : "s");
        return;
    }
    if (ch->dane_match) {
        /* the index comes from the facts (a loaded file too): never past them */
        int k = ch->dane_match_rr >= 0 && ch->dane_match_rr < MXS_MAX_TLSA ? ch->dane_match_rr : 0;
        const struct mxs_tlsa *t = &m->tlsa_rr[k];
        verdict_set(d, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
        APP(d->words, "delivered encrypted and DANE-authenticated (%s): TLSA %u %u %u "
            "for _%u._tcp.%s matches certificate %d", vn, t->usage, t->selector, t->mtype,
            port, h, ch->dane_match_depth);
        return;
    }
    verdict_set(d, MXS_OUT_NOT_DELIVERED, MXS_STEP_CHAIN, "dane-mismatch");
    APP(d->words, "not delivered: no TLSA record for _%u._tcp.%s matches the "
        "certificate chain (dane-mismatch); DANE senders defer", port, h);
}

/* ---- entry points ---------------------------------------------------------------- */

void diag_ctx_init(struct diag_ctx *c, const struct diag_input *in,
                   struct mxs_finding *out, int max)
{
    memset(c, 0, sizeof *c);
    c->in = in;
    c->set = in->settings ? in->settings : &zero_set;
    c->dns = in->dns ? in->dns : &zero_dns;
    c->conn = in->conn ? in->conn : &zero_conn;
    c->smtp = in->smtp ? in->smtp : &zero_smtp;
    c->tls = in->tls ? in->tls : &zero_tls;
    c->chain = in->chain ? in->chain : &zero_chain;
    c->policy = in->policy ? in->policy : &zero_policy;
    c->out = out;
    c->max = max;
    c->warn_days = c->set->expiry_warn_days > 0 ? c->set->expiry_warn_days
                                                 : DIAG_EXPIRY_WARN_DAYS;
    const char *dom = in->domain && in->domain[0] ? in->domain : c->set->target;
    diag_esc(c->dom, sizeof c->dom, dom);
    int n_mx = c->dns->n_mx < MXS_MAX_MX ? c->dns->n_mx : MXS_MAX_MX;
    c->mx_i = -1;
    if (c->conn->done && c->conn->mx_index >= 0 && c->conn->mx_index < n_mx)
        c->mx_i = c->conn->mx_index;
    else if (c->set->mx_index >= 0 && c->set->mx_index < n_mx)
        c->mx_i = c->set->mx_index;
    else
        for (int i = 0; i < n_mx && c->mx_i < 0; i++)
            if (c->dns->mx[i].n_addr > 0)
                c->mx_i = i;
    if (c->mx_i < 0 && n_mx > 0)
        c->mx_i = 0;
    const char *mx = in->mx_host && in->mx_host[0] ? in->mx_host :
                     c->mx_i >= 0 ? c->dns->mx[c->mx_i].host : dom;
    diag_esc(c->mx, sizeof c->mx, mx);
}

int diag_run(const struct diag_input *in, struct mxs_finding *out, int max,
             struct mxs_verdict v[MXS_POL_COUNT])
{
    struct diag_ctx c;
    if (!in) {
        for (int p = 0; v && p < MXS_POL_COUNT; p++) {
            memset(&v[p], 0, sizeof v[p]);
            v[p].policy = (enum mxs_policy)p;
            verdict_set(&v[p], MXS_OUT_NOT_EVALUATED, MXS_STEP_RESOLVE, "");
            APP(v[p].words, "not evaluated: no facts");
        }
        return 0;
    }
    diag_ctx_init(&c, in, out, max);
    diag_check_resolve(&c);
    diag_check_mx_names(&c);
    diag_check_connect(&c);
    diag_check_banner(&c);
    diag_check_ehlo(&c);
    diag_check_starttls(&c);
    diag_check_handshake(&c);
    diag_check_chain(&c);
    diag_check_ehlo2(&c);
    diag_check_policy(&c);   /* after the others: mode testing names their failures */
    diag_check_fallback(&c);
    if (v) {
        for (int p = 0; p < MXS_POL_DANE; p++) {   /* the four before DANE */
            memset(&v[p], 0, sizeof v[p]);
            verdict_policy(&c, (enum mxs_policy)p, &v[p]);
        }
        memset(&v[MXS_POL_DANE], 0, sizeof v[MXS_POL_DANE]);
        verdict_dane(&c, v);
        diag_verdict_mtasts(&c, v);
    }
    return c.n;
}

