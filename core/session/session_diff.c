/*
 * session_diff.c - two sessions side by side (`mxscope --diff A B`, the
 * console's `diff`): what changed, step by step, between a probe before and
 * after a renewal (or between two MX nodes): what DNS and the sender
 * policies said (session_diff_facts.c: the MX set, addresses, DNSSEC, TLSA
 * records; MTA-STS and TLS-RPT), the certificates (thumbprints, expiry), the
 * capabilities, the TLS facts, the findings and the verdicts.
 *
 * Only differences are listed, each section saying "same" when nothing in it
 * changed, so the operator reads the change, not two reports.  Every string
 * from a session (certificate names, capabilities, error words) goes out
 * through the one escaping function.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core.h"
#include "session/session_int.h"

struct diff_ctx {
    struct buf *out;
    int changes;
};

static void diff_when(struct buf *out, const struct engine *e)
{
    int64_t t = engine_chain(e)->checked_at;
    char ts[32];
    if (!t) {
        buf_puts(out, "not judged");
        return;
    }
    session_iso_time((time_t)t, ts, sizeof ts);
    buf_puts(out, ts);
}

static void diff_head(struct buf *out, const char *tag, const char *name, const struct engine *e)
{
    const struct mxs_settings *s = engine_settings(e);
    const struct mxs_connect_facts *c = engine_connection(e);
    buf_printf(out, "%s: ", tag);
    buf_puts_escaped(out, name);
    buf_puts(out, " (");
    buf_puts_escaped(out, s->target);
    if (c->done && c->addr.text[0]) {
        buf_puts(out, " at ");
        buf_puts_escaped(out, c->addr.text);
        buf_printf(out, " port %u", (unsigned)c->port);
    }
    buf_puts(out, ", chain judged ");
    diff_when(out, e);
    buf_puts(out, ")\n");
}

static void diff_steps(struct diff_ctx *d, const struct engine *a, const struct engine *b)
{
    int n = 0;
    buf_puts(d->out, "\nSteps\n");
    for (int s = 0; s < MXS_STEP_COUNT; s++) {
        enum mxs_step_state x = engine_step_state(a, (enum mxs_step)s);
        enum mxs_step_state y = engine_step_state(b, (enum mxs_step)s);
        if (x == y)
            continue;
        buf_printf(d->out, "  %-10s %s -> %s\n", mxs_step_name((enum mxs_step)s),
                   mxs_step_state_name(x), mxs_step_state_name(y));
        n++;
    }
    if (!n)
        buf_puts(d->out, "  same: every step ended the same way\n");
    d->changes += n;
}

static void diff_cert_line(struct buf *out, const char *tag, const struct mxs_cert *c)
{
    char when[32], days[40];
    session_iso_time((time_t)c->not_after, when, sizeof when);
    mxs_days_text(c->days_left, days, sizeof days);
    buf_printf(out, "    %s ", tag);
    buf_puts_escaped(out, c->subject);
    buf_printf(out, "\n      SHA-1 %s  not after %s (%s then)\n      SHA-256 %s\n", c->sha1, when, days,
               c->sha256);
}

static void diff_chain(struct diff_ctx *d, const struct engine *a, const struct engine *b)
{
    const struct mxs_chain_facts *x = engine_chain(a), *y = engine_chain(b);
    int n = 0, max = x->n > y->n ? x->n : y->n;
    buf_printf(d->out, "\nCertificates (%d sent before, %d now)\n", x->n_total > x->n ? x->n_total : x->n,
               y->n_total > y->n ? y->n_total : y->n);
    for (int i = 0; i < max; i++) {
        const struct mxs_cert *p = i < x->n ? &x->cert[i] : NULL, *q = i < y->n ? &y->cert[i] : NULL;
        if (p && q && !strcmp(p->sha256, q->sha256)) {
            buf_printf(d->out, "  depth %d  same certificate (SHA-1 %s)", i, p->sha1);
            if (p->verify_flags != q->verify_flags) {
                char fa[128], fb[128];
                mxs_verify_flags_text(p->verify_flags, fa, sizeof fa);
                mxs_verify_flags_text(q->verify_flags, fb, sizeof fb);
                buf_printf(d->out, ", judged %s -> %s", fa, fb);
                n++;
            }
            buf_puts(d->out, "\n");
            continue;
        }
        n++;
        buf_printf(d->out, "  depth %d  %s\n", i, !p ? "new" : !q ? "no longer sent" : "replaced");
        if (p)
            diff_cert_line(d->out, "A", p);
        if (q)
            diff_cert_line(d->out, "B", q);
        if (p && q) {
            /* Rounded to the nearest day: two certificates issued a second
             * apart for 59 days are "59 days", not 58. */
            long long secs = (long long)(q->not_after - p->not_after);
            long long moved = (secs + (secs >= 0 ? 43200 : -43200)) / 86400;
            if (moved)
                buf_printf(d->out, "      expiry moved %+lld %s\n", moved, mxs_plural(moved, "day", "days"));
            if (strcmp(p->key_type, q->key_type) || p->key_bits != q->key_bits)
                buf_printf(d->out, "      key %s %d -> %s %d\n", p->key_type, p->key_bits, q->key_type,
                           q->key_bits);
            if (strcmp(p->issuer, q->issuer)) {
                buf_puts(d->out, "      issuer ");
                buf_puts_escaped(d->out, p->issuer);
                buf_puts(d->out, " -> ");
                buf_puts_escaped(d->out, q->issuer);
                buf_puts(d->out, "\n");
            }
        }
    }
    if (x->name_matches_mx != y->name_matches_mx) {
        buf_printf(d->out, "  the leaf %s the MX host name now\n", y->name_matches_mx ? "covers" : "no longer covers");
        n++;
    }
    if (!max)
        buf_puts(d->out, "  none in either session\n");
    else if (!n)
        buf_puts(d->out, "  same\n");
    d->changes += n;
}

static int diff_has_cap(const struct mxs_caps *c, const char *name)
{
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->name[i], name))
            return i;
    return -1;
}

static int diff_caps(struct buf *out, const char *what, const struct mxs_caps *x, const struct mxs_caps *y)
{
    int n = 0;
    for (int pass = 0; pass < 2; pass++) {
        const struct mxs_caps *from = pass ? y : x, *other = pass ? x : y;
        for (int i = 0; i < from->n; i++) {
            int j = diff_has_cap(other, from->name[i]);
            if (j >= 0 && (pass || !strcmp(from->args[i], other->args[j])))
                continue;
            if (!n++)
                buf_printf(out, "  %s:", what);
            buf_puts(out, j >= 0 ? " ~" : pass ? " +" : " -");
            buf_puts_escaped(out, from->name[i]);
            if (j >= 0) {
                buf_puts(out, "(");
                buf_puts_escaped(out, from->args[i]);
                buf_puts(out, " -> ");
                buf_puts_escaped(out, other->args[j]);
                buf_puts(out, ")");
            }
        }
    }
    if (n)
        buf_puts(out, "\n");
    return n;
}

void session_diff_arrow(struct buf *out, const char *x, const char *y)
{
    buf_puts(out, " ");
    buf_puts_escaped(out, x[0] ? x : "(none)");
    buf_puts(out, " -> ");
    buf_puts_escaped(out, y[0] ? y : "(none)");
    buf_puts(out, "\n");
}

static void diff_fact(struct diff_ctx *d, int *n, const char *what, const char *x, const char *y)
{
    if (!strcmp(x, y))
        return;
    buf_printf(d->out, "  %s:", what);
    session_diff_arrow(d->out, x, y);
    (*n)++;
}

static void diff_smtp_tls(struct diff_ctx *d, const struct engine *a, const struct engine *b)
{
    const struct mxs_smtp_facts *x = engine_smtp(a), *y = engine_smtp(b);
    buf_puts(d->out, "\nCapabilities\n");
    int n = diff_caps(d->out, "EHLO", &x->caps, &y->caps) + diff_caps(d->out, "after STARTTLS", &x->caps2, &y->caps2);
    char bx[16], by[16];
    snprintf(bx, sizeof bx, "%d", x->banner.code);
    snprintf(by, sizeof by, "%d", y->banner.code);
    diff_fact(d, &n, "greeting code", bx, by);
    if (!n)
        buf_puts(d->out, "  same\n");
    d->changes += n;

    const struct mxs_tls_facts *p = engine_tls(a), *q = engine_tls(b);
    n = 0;
    buf_puts(d->out, "\nTLS\n");
    diff_fact(d, &n, "version", p->version_name, q->version_name);
    diff_fact(d, &n, "cipher", p->cipher, q->cipher);
    diff_fact(d, &n, "group", p->group, q->group);
    diff_fact(d, &n, "SNI sent", p->sni_sent, q->sni_sent);
    diff_fact(d, &n, "alert received", p->alert_received >= 0 ? p->alert_name : "",
              q->alert_received >= 0 ? q->alert_name : "");
    diff_fact(d, &n, "error", p->error, q->error);
    if (p->cert_requested != q->cert_requested) {
        buf_printf(d->out, "  client certificate %s\n", q->cert_requested ? "requested now" : "no longer requested");
        n++;
    }
    if (!n)
        buf_puts(d->out, "  same\n");
    d->changes += n;
}

static int diff_find(const struct mxs_finding *f, int n, const struct mxs_finding *w)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(f[i].id, w->id) && f[i].step == w->step && f[i].cert_depth == w->cert_depth)
            return i;
    return -1;
}

static void diff_findings(struct diff_ctx *d, const struct engine *a, const struct engine *b)
{
    int na, nb, n = 0;
    const struct mxs_finding *fa = engine_findings(a, &na), *fb = engine_findings(b, &nb);
    buf_puts(d->out, "\nFindings\n");
    for (int pass = 0; pass < 2; pass++) {
        const struct mxs_finding *from = pass ? fb : fa, *other = pass ? fa : fb;
        int nf = pass ? nb : na, no = pass ? na : nb;
        for (int i = 0; i < nf; i++) {
            if (diff_find(other, no, &from[i]) >= 0)
                continue;
            buf_printf(d->out, "  %s %-7s %s [%s]", pass ? "new: " : "gone:", mxs_severity_name(from[i].severity),
                       from[i].id, mxs_step_name(from[i].step));
            const char *rt = mxs_tlsrpt_result_type(&from[i]);
            if (rt)
                buf_printf(d->out, " (TLS-RPT %s)", rt);
            buf_puts(d->out, "\n");
            n++;
        }
    }
    if (!n)
        buf_puts(d->out, "  same\n");
    d->changes += n;
}

static void diff_verdicts(struct diff_ctx *d, const struct engine *a, const struct engine *b)
{
    const struct mxs_verdict *x = engine_verdicts(a), *y = engine_verdicts(b);
    int n = 0;
    buf_puts(d->out, "\nVerdicts\n");
    for (int p = 0; p < MXS_POL_COUNT; p++) {
        if (x[p].outcome == y[p].outcome && x[p].step == y[p].step && !strcmp(x[p].finding, y[p].finding))
            continue;
        buf_printf(d->out, "  %-14s %s", mxs_policy_name((enum mxs_policy)p), mxs_outcome_name(x[p].outcome));
        if (x[p].step != MXS_STEP_NONE)
            buf_printf(d->out, " at %s", mxs_step_name(x[p].step));
        buf_printf(d->out, " -> %s", mxs_outcome_name(y[p].outcome));
        if (y[p].step != MXS_STEP_NONE)
            buf_printf(d->out, " at %s", mxs_step_name(y[p].step));
        if (y[p].finding[0])
            buf_printf(d->out, " (%s)", y[p].finding);
        buf_puts(d->out, "\n");
        n++;
    }
    if (!n)
        buf_puts(d->out, "  same\n");
    d->changes += n;
}

int render_diff(const struct engine *a, const char *name_a, const struct engine *b, const char *name_b,
                struct buf *out)
{
    struct diff_ctx d = { out, 0 };
    buf_puts(out, "Comparing ");
    diff_head(out, "A", name_a, a);
    buf_puts(out, "     with ");
    diff_head(out, "B", name_b, b);
    diff_steps(&d, a, b);
    d.changes += session_diff_dns(out, a, b);
    d.changes += session_diff_policy(out, a, b);
    diff_chain(&d, a, b);
    diff_smtp_tls(&d, a, b);
    diff_findings(&d, a, b);
    diff_verdicts(&d, a, b);
    if (d.changes)
        buf_printf(out, "\n%d %s.\n", d.changes, mxs_plural(d.changes, "difference", "differences"));
    else
        buf_puts(out, "\nNo difference.\n");
    return d.changes;
}
