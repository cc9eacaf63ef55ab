/*
 * session_diff_facts.c - the DNS and POLICY sections of `--diff` / `diff`
 * (session_diff.c writes the rest): what RESOLVE and POLICY found, changed
 * from session A to session B.  The MX set (host, preference), each MX
 * host's addresses, the DNSSEC status and code of the MX answer and of each
 * host's A / AAAA / TLSA answers, each host's TLSA records with what each
 * matched where the session judged it (CHAIN's per-record DANE view, for the
 * MX probed); the _mta-sts and _smtp._tls TXT records, the policy id, the
 * fetch, the policy (mode, max_age, mx patterns) and the TLS-RPT rua.
 *
 * One line per difference, in the words of session_diff.c ("X -> Y",
 * "added", "removed"); counted by the caller into the total.  Host names,
 * TXT text, patterns, URIs and the why-words of a saved file are raw
 * network bytes (the loaders unescape them): each goes out once through the
 * one escaping function.  Timings (ms, bytes) always differ and are not
 * compared.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core.h"
#include "policy/policy.h"
#include "session/session_int.h"

/* "  [HOST ]WHAT X -> Y": X and Y escaped, "(none)" when empty; nothing
 * when they are the same.  Returns the lines written (0 or 1). */
static int df_change(struct buf *out, const char *host, const char *what, const char *x, const char *y)
{
    if (!strcmp(x, y))
        return 0;
    buf_puts(out, "  ");
    if (host) {
        buf_puts_escaped(out, host);
        buf_puts(out, " ");
    }
    buf_puts(out, what);
    session_diff_arrow(out, x, y);
    return 1;
}

/* One DNS answer's code and DNSSEC status ("MX answer secure -> insecure"). */
static int df_answer(struct buf *out, const char *host, const char *what, const struct mxs_dns_answer *x,
                     const struct mxs_dns_answer *y)
{
    char w[32];
    snprintf(w, sizeof w, "%s answer", what);
    return df_change(out, host, w, mxs_dns_rcode_name(x->rcode), mxs_dns_rcode_name(y->rcode)) +
           df_change(out, host, w, mxs_dnssec_name(x->dnssec), mxs_dnssec_name(y->dnssec));
}

static const struct mxs_mx *df_host(const struct mxs_dns_facts *d, const char *host, int *index)
{
    for (int i = 0; i < d->n_mx && i < MXS_MAX_MX; i++)
        if (!strcasecmp(d->mx[i].host, host)) {
            *index = i;
            return &d->mx[i];
        }
    return NULL;
}

/* The addresses of one family in m only ("A added 127.0.0.2"). */
static int df_addrs(struct buf *out, const struct mxs_mx *m, const struct mxs_mx *other, const char *verb)
{
    int n = 0;
    for (int i = 0; i < m->n_addr && i < MXS_MAX_ADDR; i++) {
        int found = 0;
        for (int j = 0; j < other->n_addr && j < MXS_MAX_ADDR && !found; j++)
            found = !strcmp(m->addr[i].text, other->addr[j].text);
        if (found)
            continue;
        buf_puts(out, "  ");
        buf_puts_escaped(out, m->host);
        buf_printf(out, " %s %s ", m->addr[i].family == 6 ? "AAAA" : "A", verb);
        buf_puts_escaped(out, m->addr[i].text);
        buf_puts(out, "\n");
        n++;
    }
    return n;
}

static int df_tlsa_same(const struct mxs_tlsa *p, const struct mxs_tlsa *q)
{
    return p->usage == q->usage && p->selector == q->selector && p->mtype == q->mtype && p->len == q->len &&
           p->truncated == q->truncated && !memcmp(p->data, q->data, p->len < sizeof p->data ? p->len : sizeof p->data);
}

static int df_tlsa_find(const struct mxs_mx *m, const struct mxs_tlsa *t)
{
    for (int i = 0; i < m->n_tlsa && i < MXS_MAX_TLSA; i++)
        if (df_tlsa_same(&m->tlsa_rr[i], t))
            return i;
    return -1;
}

/* "3 1 1 4B98...": the whole data, as in a zone file and the findings. */
static void df_tlsa_text(struct buf *out, const struct mxs_tlsa *t)
{
    buf_printf(out, "%u %u %u ", t->usage, t->selector, t->mtype);
    for (size_t k = 0; k < t->len && k < sizeof t->data; k++)
        buf_printf(out, "%02X", t->data[k]);
    if (t->truncated)
        buf_puts(out, "... (cut)");
}

/* What TLSA record i of MX host hi matched in session e: CHAIN judges the
 * records of the MX it probed only; NULL when e has no judgement of it. */
static const struct mxs_dane_rr *df_dane(const struct engine *e, int hi, int i)
{
    const struct mxs_chain_facts *ch = engine_chain(e);
    const struct mxs_connect_facts *cn = engine_connection(e);
    if (!ch->dane_checked || !cn->done || cn->mx_index != hi || i < 0 || i >= ch->n_dane_rr || i >= MXS_MAX_TLSA)
        return NULL;
    return &ch->dane_rr[i];
}

static void df_dane_text(struct buf *out, const struct mxs_dane_rr *r)
{
    if (r->ok)
        buf_printf(out, "matches certificate %d, authenticates", r->match_depth);
    else
        buf_puts_escaped(out, r->why[0] ? r->why : "does not authenticate");
}

/* The TLSA records of m (host index hi in e) that other lacks; with what
 * each matched, where e judged it. */
static int df_tlsa_only(struct buf *out, const struct engine *e, int hi, const struct mxs_mx *m,
                        const struct mxs_mx *other, const char *verb)
{
    int n = 0;
    for (int i = 0; i < m->n_tlsa && i < MXS_MAX_TLSA; i++) {
        if (df_tlsa_find(other, &m->tlsa_rr[i]) >= 0)
            continue;
        buf_puts(out, "  ");
        buf_puts_escaped(out, m->host);
        buf_puts(out, " TLSA ");
        df_tlsa_text(out, &m->tlsa_rr[i]);
        buf_printf(out, " %s", verb);
        const struct mxs_dane_rr *r = df_dane(e, hi, i);
        if (r) {
            buf_puts(out, " (");
            df_dane_text(out, r);
            buf_puts(out, ")");
        }
        buf_puts(out, "\n");
        n++;
    }
    return n;
}

/* The TLSA records both have whose judgement changed (both judged them). */
static int df_tlsa_judged(struct buf *out, const struct engine *a, int ha, const struct mxs_mx *x,
                          const struct engine *b, int hb, const struct mxs_mx *y)
{
    int n = 0;
    for (int i = 0; i < x->n_tlsa && i < MXS_MAX_TLSA; i++) {
        int j = df_tlsa_find(y, &x->tlsa_rr[i]);
        const struct mxs_dane_rr *p = df_dane(a, ha, i), *q = j >= 0 ? df_dane(b, hb, j) : NULL;
        if (!p || !q || (p->ok == q->ok && p->match_depth == q->match_depth && !strcmp(p->why, q->why)))
            continue;
        buf_puts(out, "  ");
        buf_puts_escaped(out, x->host);
        buf_puts(out, " TLSA ");
        df_tlsa_text(out, &x->tlsa_rr[i]);
        buf_puts(out, ": ");
        df_dane_text(out, p);
        buf_puts(out, " -> ");
        df_dane_text(out, q);
        buf_puts(out, "\n");
        n++;
    }
    return n;
}

/* One MX host in both sessions: its preference, addresses, answers, CNAME
 * chain and TLSA records. */
static int df_mx_host(struct buf *out, const struct engine *a, int ha, const struct engine *b, int hb)
{
    const struct mxs_mx *x = &engine_dns(a)->mx[ha], *y = &engine_dns(b)->mx[hb];
    int n = 0;
    if (x->preference != y->preference) {
        buf_puts(out, "  MX preference ");
        buf_puts_escaped(out, y->host);
        buf_printf(out, " %u -> %u\n", x->preference, y->preference);
        n++;
    }
    n += df_addrs(out, x, y, "removed") + df_addrs(out, y, x, "added");
    n += df_answer(out, y->host, "A", &x->a, &y->a) + df_answer(out, y->host, "AAAA", &x->aaaa, &y->aaaa);
    n += df_change(out, y->host, "CNAME chain", x->cname.chain, y->cname.chain);
    n += df_change(out, y->host, "TLSA at", x->tlsa_name, y->tlsa_name);
    n += df_answer(out, y->host, "TLSA", &x->tlsa, &y->tlsa);
    n += df_tlsa_only(out, a, ha, x, y, "removed") + df_tlsa_only(out, b, hb, y, x, "added");
    n += df_tlsa_judged(out, a, ha, x, b, hb, y);
    return n;
}

/* The MX hosts of one session only ("MX added: 20 mx2.example.test"). */
static int df_mx_only(struct buf *out, const struct mxs_dns_facts *d, const struct mxs_dns_facts *other,
                      const char *verb)
{
    int n = 0, k;
    for (int i = 0; i < d->n_mx && i < MXS_MAX_MX; i++) {
        if (df_host(other, d->mx[i].host, &k))
            continue;
        buf_printf(out, "  MX %s: %u ", verb, d->mx[i].preference);
        buf_puts_escaped(out, d->mx[i].host);
        buf_puts(out, "\n");
        n++;
    }
    return n;
}

int session_diff_dns(struct buf *out, const struct engine *a, const struct engine *b)
{
    const struct mxs_dns_facts *x = engine_dns(a), *y = engine_dns(b);
    int pa = engine_settings(a)->connect_addr[0] != 0, pb = engine_settings(b)->connect_addr[0] != 0, n = 0;
    buf_puts(out, "\nDNS\n");
    if (!x->done && !y->done) {
        buf_puts(out, "  none in either session\n");
        return 0;
    }
    if (!x->done || !y->done) {
        buf_printf(out, "  resolved only in %s\n", x->done ? "A" : "B");
        return 1;
    }
    if (pa != pb) {
        /* A pinned address (--connect) is the operator's word, not a DNS
         * answer: nothing in it to set against the other's lookup. */
        buf_printf(out, "  the address was given in %s (--connect), looked up in %s: not compared\n",
                   pa ? "A" : "B", pa ? "B" : "A");
        return 1;
    }
    n += df_answer(out, NULL, "MX", &x->mx_answer, &y->mx_answer);
    if (x->implicit_mx != y->implicit_mx) {
        buf_printf(out, "  %s\n", y->implicit_mx ? "no MX records now: the domain itself (implicit MX)"
                                                 : "MX records now (no longer the implicit MX)");
        n++;
    }
    if (x->null_mx != y->null_mx) {
        buf_printf(out, "  %s\n", y->null_mx ? "null MX now (RFC 7505)" : "no longer a null MX");
        n++;
    }
    n += df_mx_only(out, x, y, "removed") + df_mx_only(out, y, x, "added");
    for (int i = 0; i < x->n_mx && i < MXS_MAX_MX; i++) {
        int j;
        if (df_host(y, x->mx[i].host, &j))
            n += df_mx_host(out, a, i, b, j);
    }
    if (!n)
        buf_puts(out, "  same\n");
    return n;
}

/* ---- POLICY ------------------------------------------------------------ */

/* "valid", "invalid", "none", "2 records": the one-record rule's result. */
static const char *dp_txt_state(const struct mxs_policy_txt *t, char *s, size_t len)
{
    if (t->picked >= 0)
        return t->valid ? "valid" : "invalid";
    if (t->n_versioned > 1) {
        snprintf(s, len, "%d records", t->n_versioned);
        return s;
    }
    return "none";
}

static int dp_rr_find(const struct mxs_policy_txt *t, const char *rr, size_t len)
{
    for (int i = 0; i < t->n_kept && i < MXS_PTXT_KEEP; i++)
        if (t->rr_len[i] == len && !memcmp(t->rr[i], rr, len))
            return i;
    return -1;
}

/* The TXT records of t that other lacks ("_mta-sts TXT added: "v=STSv1; ...""). */
static int dp_rr_only(struct buf *out, const char *what, const struct mxs_policy_txt *t,
                      const struct mxs_policy_txt *other, const char *verb)
{
    int n = 0;
    for (int i = 0; i < t->n_kept && i < MXS_PTXT_KEEP; i++) {
        size_t len = t->rr_len[i] < MXS_PTXT_LEN ? t->rr_len[i] : MXS_PTXT_LEN;
        if (dp_rr_find(other, t->rr[i], len) >= 0)
            continue;
        buf_printf(out, "  %s TXT %s: \"", what, verb);
        buf_add_escaped(out, t->rr[i], len, 0);
        buf_puts(out, "\"\n");
        n++;
    }
    return n;
}

static int dp_txt(struct buf *out, const char *what, const struct mxs_policy_txt *x, const struct mxs_policy_txt *y)
{
    char w[32], sx[24], sy[24];
    int n = 0;
    snprintf(w, sizeof w, "%s TXT", what);
    n += df_answer(out, NULL, w, &x->answer, &y->answer);
    n += dp_rr_only(out, what, x, y, "removed") + dp_rr_only(out, what, y, x, "added");
    snprintf(w, sizeof w, "%s TXT record", what);
    n += df_change(out, NULL, w, dp_txt_state(x, sx, sizeof sx), dp_txt_state(y, sy, sizeof sy));
    if (y->picked >= 0 && !y->valid && x->picked >= 0 && !x->valid) {
        snprintf(w, sizeof w, "%s TXT invalid:", what);
        n += df_change(out, NULL, w, x->error, y->error);
    }
    return n;
}

/* "ok 200", "http 404", "none": how the fetch ended. */
static void dp_fetch_text(const struct mxs_policy_facts *p, char *s, size_t len)
{
    if (p->http_status)
        snprintf(s, len, "%s %ld", mxs_fetch_name(p->fetch), p->http_status);
    else
        snprintf(s, len, "%s", p->fetch == MXS_FETCH_NONE ? "" : mxs_fetch_name(p->fetch));
}

/* Strings n of them, stride bytes apart (a member of an array of structs). */
struct dp_set {
    const char *s;
    int n;
    size_t stride;
};

/* The strings of p that q lacks, one line each ("  TLS-RPT rua added: URI"). */
static int dp_only(struct buf *out, const char *what, const char *verb, struct dp_set p, struct dp_set q, int nocase)
{
    int n = 0;
    for (int i = 0; i < p.n; i++) {
        const char *s = p.s + (size_t)i * p.stride;
        int found = 0;
        for (int j = 0; j < q.n && !found; j++)
            found = !(nocase ? strcasecmp : strcmp)(s, q.s + (size_t)j * q.stride);
        if (found)
            continue;
        buf_printf(out, "  %s %s: ", what, verb);
        buf_puts_escaped(out, s);
        buf_puts(out, "\n");
        n++;
    }
    return n;
}

static struct dp_set dp_patterns(const struct mxs_policy_facts *p)
{
    return (struct dp_set){ p->mx[0], p->n_mx < MXS_PMX_MAX ? p->n_mx : MXS_PMX_MAX, sizeof p->mx[0] };
}

static struct dp_set dp_rua(const struct mxs_policy_facts *p)
{
    return (struct dp_set){ p->rua[0].uri, p->n_rua < MXS_PRUA_MAX ? p->n_rua : MXS_PRUA_MAX, sizeof p->rua[0] };
}

int session_diff_policy(struct buf *out, const struct engine *a, const struct engine *b)
{
    const struct mxs_policy_facts *x = engine_policy(a), *y = engine_policy(b);
    char fx[48], fy[48], mx[24], my[24];
    int n = 0;
    buf_puts(out, "\nMTA-STS and TLS-RPT\n");
    if (!x->sts.asked && !y->sts.asked) {
        buf_puts(out, "  not asked in either session\n");
        return 0;
    }
    if (!x->sts.asked || !y->sts.asked) {
        buf_printf(out, "  asked only in %s\n", x->sts.asked ? "A" : "B");
        return 1;
    }
    n += dp_txt(out, "_mta-sts", &x->sts, &y->sts);
    n += df_change(out, NULL, "policy id", x->sts_id, y->sts_id);
    dp_fetch_text(x, fx, sizeof fx);
    dp_fetch_text(y, fy, sizeof fy);
    n += df_change(out, NULL, "policy fetch", fx, fy);
    n += df_change(out, NULL, "policy host address", x->host_addr, y->host_addr);
    n += df_change(out, NULL, "policy host certificate", x->cert_subject, y->cert_subject);
    n += df_change(out, NULL, "policy host certificate not after", x->cert_not_after, y->cert_not_after);
    n += df_change(out, NULL, "MTA-STS mode", x->parsed ? sts_mode_name((enum sts_mode)x->mode) : "",
                   y->parsed ? sts_mode_name((enum sts_mode)y->mode) : "");
    snprintf(mx, sizeof mx, "%ld", x->max_age);
    snprintf(my, sizeof my, "%ld", y->max_age);
    n += df_change(out, NULL, "MTA-STS max_age", x->parsed && x->max_age >= 0 ? mx : "",
                   y->parsed && y->max_age >= 0 ? my : "");
    /* Patterns compare without case, as a sender matches them (RFC 8461 4.1). */
    n += dp_only(out, "MTA-STS mx", "removed", dp_patterns(x), dp_patterns(y), 1) +
         dp_only(out, "MTA-STS mx", "added", dp_patterns(y), dp_patterns(x), 1);
    if (x->parsed && y->parsed && x->policy_valid != y->policy_valid) {
        buf_printf(out, "  MTA-STS policy %s\n", y->policy_valid ? "invalid -> valid" : "valid -> invalid");
        n++;
    }
    if (x->rpt.asked || y->rpt.asked)
        n += dp_txt(out, "_smtp._tls", &x->rpt, &y->rpt);
    n += dp_only(out, "TLS-RPT rua", "removed", dp_rua(x), dp_rua(y), 0) +
         dp_only(out, "TLS-RPT rua", "added", dp_rua(y), dp_rua(x), 0);
    if (!n)
        buf_puts(out, "  same\n");
    return n;
}
