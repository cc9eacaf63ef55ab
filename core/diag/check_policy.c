/*
 * check_policy.c - the POLICY step's findings (MTA-STS, RFC 8461; TLS-RPT,
 * RFC 8460) and the MTA-STS verdict.  Owner: diagnosis.
 *
 * Facts: struct mxs_policy_facts (core.h), gathered by probe/engine_policy.c.
 * None of these findings blocks the four classes of policies (the rows'
 * blocks are 0): a broken MTA-STS publication never changes what an
 * opportunistic, required, verifying or DANE sender does.  The MTA-STS
 * verdict (what Gmail and Exchange Online do) is computed here from the
 * policy and the other verdicts:
 *   - a problem on our side (LOCAL): not evaluated, as the others;
 *   - POLICY not run: not evaluated; skipped (a host or address was given):
 *     not evaluated, with the reason;
 *   - DANE policy present (secure TLSA): DANE takes precedence (RFC 8461
 *     §2): the DANE verdict, said so;
 *   - no usable policy (no record, several, invalid, fetch failed, invalid
 *     file) or mode none: the opportunistic verdict, with the reason;
 *   - enforce: the probed MX must match an mx pattern (else not delivered at
 *     POLICY, sts-mx-not-covered) and the verified verdict must deliver
 *     (PKIX chain and the MX name, TLS 1.2+);
 *   - testing: the opportunistic verdict, with what enforce would refuse.
 * Every network byte is escaped (ASCII) before it lands in a finding.
 */
#include "diag/diag_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/esc.h"
#include "policy/policy.h"

static const char *mode_name(int m) { return sts_mode_name((enum sts_mode)m); }

/* Escaped raw bytes (len known) into tmp. */
static const char *esc_n(char *tmp, size_t n, const void *p, size_t len)
{
    mxs_escape(p, len, tmp, n, MXS_ESC_ASCII);
    return tmp;
}

/* The records of one TXT lookup as evidence lines. */
static void txt_evidence(char *dst, size_t cap, const struct mxs_policy_txt *t)
{
    char n[300], r[700];
    diag_app(dst, cap, "TXT %s: %s", diag_esc(n, sizeof n, t->name),
             t->n_rr ? "" : mxs_dns_rcode_name(t->answer.rcode));
    if (t->n_rr)
        diag_app(dst, cap, "%d record%s", t->n_rr, t->n_rr == 1 ? "" : "s");
    diag_app(dst, cap, " (%s)", mxs_dnssec_name(t->answer.dnssec));
    for (int i = 0; i < t->n_kept && i < MXS_PTXT_KEEP; i++)
        diag_app(dst, cap, "\n  \"%s\"", esc_n(r, sizeof r, t->rr[i], t->rr_len[i]));
}

/* A DANE policy applies to the probed MX (the condition of verdict_dane). */
static int dane_present(const struct diag_ctx *c)
{
    if (c->mx_i < 0)
        return 0;
    const struct mxs_mx *m = &c->dns->mx[c->mx_i];
    int mx_secure = c->set->target_is_host || c->dns->mx_answer.dnssec == MXS_DNSSEC_SECURE;
    return mx_secure && m->tlsa.dnssec == MXS_DNSSEC_SECURE && m->n_tlsa > 0;
}

static int type_plain(const char *ct)
{
    size_t n = strcspn(ct, ";");
    while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    return n == 10 && !strncasecmp(ct, "text/plain", 10);
}

/* A policy a sender applies: one valid record, a 200 text/plain body that
 * parses. */
static int usable(const struct mxs_policy_facts *p)
{
    return p->sts.picked >= 0 && p->sts.valid && p->fetch == MXS_FETCH_OK && p->parsed &&
           p->policy_valid && type_plain(p->content_type);
}

static int covered(const struct mxs_policy_facts *p, const char *host)
{
    for (int i = 0; i < p->n_mx && i < MXS_PMX_MAX; i++)
        if (sts_mx_match(p->mx[i], host))
            return 1;
    return 0;
}

static void pattern_list(char *dst, size_t cap, const struct mxs_policy_facts *p)
{
    char t[300];
    if (!p->n_mx)
        diag_app(dst, cap, "(no mx line)");
    /* Validated ASCII when parsed here; escaped all the same (a loaded file). */
    for (int i = 0; i < p->n_mx && i < MXS_PMX_MAX; i++)
        diag_app(dst, cap, "%s%s", i ? ", " : "", diag_esc(t, sizeof t, p->mx[i]));
    if (p->n_mx_total > p->n_mx)
        diag_app(dst, cap, " (+%d more)", p->n_mx_total - p->n_mx);
}

static void fetch_evidence(char *dst, size_t cap, const struct mxs_policy_facts *p)
{
    char t[700];
    char a[100];
    diag_app(dst, cap, "GET %s (address %s): %s", diag_esc(t, sizeof t, p->url),
             diag_esc(a, sizeof a, p->host_addr[0] ? p->host_addr : "none"),
             mxs_fetch_name(p->fetch));
    /* What came back, each fact on its line when there is one (raw: escaped). */
    const struct { const char *label, *val; } fact[] = {
        { "\nstatus: ", p->status_line }, { "\ncontent type: ", p->content_type },
        { "\nLocation: ", p->location }, { "\nerror: ", p->fetch_error },
        { "\npolicy host certificate: ", p->cert_subject }, { "; issuer ", p->cert_issuer },
        { "; not after ", p->cert_not_after },
    };
    for (size_t i = 0; i < sizeof fact / sizeof fact[0]; i++)
        if (fact[i].val[0])
            diag_app(dst, cap, "%s%s", fact[i].label, diag_esc(t, sizeof t, fact[i].val));
    if (p->verify_result)
        diag_app(dst, cap, "\ncertificate verify result %ld (OpenSSL X509_V_ERR)", p->verify_result);
    if (p->body_seen)
        diag_app(dst, cap, "\nbody: %zu bytes", p->body_seen);
    if (p->body_head_len)
        diag_app(dst, cap, ", first bytes: \"%s\"", esc_n(t, 200, p->body_head, p->body_head_len));
}

/* File one finding of row r at severity sev (-1: the row's), its message
 * from fmt, its evidence the TXT records of t or, when t is NULL, the fetch. */
__attribute__((format(printf, 6, 7)))
static void file_one(struct diag_ctx *c, enum diag_row r, int sev, const struct mxs_policy_txt *t,
                     const struct mxs_policy_facts *p, const char *fmt, ...)
{
    struct mxs_finding f;
    va_list ap;
    diag_start(&f, r, -1);
    if (sev >= 0)
        f.severity = (enum mxs_severity)sev;
    va_start(ap, fmt);
    vsnprintf(f.message, sizeof f.message, fmt, ap);
    va_end(ap);
    if (t)
        txt_evidence(f.evidence, sizeof f.evidence, t);
    else
        fetch_evidence(f.evidence, sizeof f.evidence, p);
    diag_file(c, &f, r, NULL);
}

static void check_sts_txt(struct diag_ctx *c, const struct mxs_policy_facts *p)
{
    const struct mxs_policy_txt *t = &p->sts;
    char e[200];
    if (t->n_versioned == 0 && t->answer.rcode != MXS_DNS_OK && t->answer.rcode != MXS_DNS_NODATA &&
        t->answer.rcode != MXS_DNS_NXDOMAIN)
        file_one(c, D_STS_TXT_MISSING, MXS_SEV_INFO, t, p, "The MTA-STS record of %s could not "
                 "be read (%s): senders apply no MTA-STS policy they have not cached.", c->dom,
                 mxs_dns_rcode_name(t->answer.rcode));
    else if (t->n_versioned == 0)
        file_one(c, D_STS_TXT_MISSING, MXS_SEV_INFO, t, p, "%s publishes no MTA-STS record: "
                 "MTA-STS senders apply no policy (mail goes with their own TLS policy).", c->dom);
    else if (t->picked < 0)
        file_one(c, D_STS_TXT_MULTIPLE, -1, t, p, "%s has %d records starting with v=STSv1: "
                 "senders treat that as no MTA-STS policy (RFC 8461 3.1).", c->dom, t->n_versioned);
    else if (!t->valid)
        file_one(c, D_STS_TXT_INVALID, -1, t, p, "The MTA-STS record of %s is invalid (%s): "
                 "senders apply no MTA-STS policy.", c->dom, diag_esc(e, sizeof e, t->error));
}

static void check_fetch(struct diag_ctx *c, const struct mxs_policy_facts *p)
{
    char w[300];
    if (p->fetch == MXS_FETCH_NONE)
        return;
    if (p->fetch == MXS_FETCH_HTTP && p->http_status >= 300 && p->http_status < 400) {
        file_one(c, D_STS_POLICY_REDIRECT, -1, NULL, p, "The MTA-STS policy URL of %s answers "
                 "%ld with a redirect%s%s: senders never follow it, so they have no policy.",
                 c->dom, p->http_status, p->location[0] ? " to " : "",
                 diag_esc(w, sizeof w, p->location));
        return;
    }
    if (p->fetch == MXS_FETCH_CERT) {
        file_one(c, D_STS_WEBPKI_INVALID, -1, NULL, p, "The certificate of mta-sts.%s does not "
                 "validate (PKIX, name mta-sts.%s): senders cannot trust the policy.", c->dom,
                 c->dom);
        return;
    }
    if (p->fetch != MXS_FETCH_OK || !type_plain(p->content_type)) {
        if (p->fetch == MXS_FETCH_OK)
            snprintf(w, sizeof w, "the content type is not text/plain");
        else if (p->fetch == MXS_FETCH_HTTP)
            snprintf(w, sizeof w, "HTTP status %ld, not 200", p->http_status);
        else if (p->fetch == MXS_FETCH_TOO_BIG)
            snprintf(w, sizeof w, "the body is over 64 KiB");
        else
            snprintf(w, sizeof w, "%s", mxs_fetch_name(p->fetch));
        file_one(c, D_STS_POLICY_FETCH, -1, NULL, p, "The MTA-STS policy of %s cannot be "
                 "fetched as senders fetch it (%s): without a cached policy they deliver as if "
                 "there were none.", c->dom, w);
        return;
    }
    if (!p->parsed)
        return;
    int fatal = !p->policy_valid;
    if (fatal || p->n_problems_total > 0) {
        struct mxs_finding f;
        char r[200];
        diag_start(&f, D_STS_POLICY_INVALID, -1);
        if (!fatal)
            f.severity = MXS_SEV_WARNING;
        APP(f.message, "The MTA-STS policy of %s %s: %d problem%s.", c->dom,
            fatal ? "is invalid, senders ignore it" : "has lines senders skip",
            p->n_problems_total, p->n_problems_total == 1 ? "" : "s");
        for (int i = 0; i < p->n_problems && i < MXS_PPROB_MAX; i++) {
            if (p->problem[i].line)
                APP(f.evidence, "%sline %d: ", i ? "\n" : "", p->problem[i].line);
            else
                APP(f.evidence, "%sfile: ", i ? "\n" : "");
            APP(f.evidence, "%s%s", diag_esc(r, sizeof r, p->problem[i].what),
                p->problem[i].fatal ? " (fatal)" : "");
            if (p->problem[i].raw_len)
                APP(f.evidence, ": \"%s\"", esc_n(r, sizeof r, p->problem[i].raw, p->problem[i].raw_len));
        }
        if (p->n_problems_total > p->n_problems)
            APP(f.evidence, "\n(%d more)", p->n_problems_total - p->n_problems);
        diag_file(c, &f, D_STS_POLICY_INVALID, NULL);
    }
}

/* Under enforce, what would stop an MTA-STS sender at the probed MX: the MX
 * not covered, or the verifying sender's failure.  NULL when nothing. */
static const char *enforce_refusal(const struct diag_ctx *c, const struct mxs_policy_facts *p,
                                   const struct mxs_verdict *ver, enum mxs_step *step)
{
    if (c->mx_i >= 0 && !covered(p, c->dns->mx[c->mx_i].host)) {
        *step = MXS_STEP_POLICY;
        return "sts-mx-not-covered";
    }
    if (ver && ver->outcome == MXS_OUT_NOT_DELIVERED) {
        *step = ver->step;
        return ver->finding;
    }
    return NULL;
}

static void check_mx(struct diag_ctx *c, const struct mxs_policy_facts *p)
{
    struct mxs_finding f;
    int enforce = p->mode == STS_MODE_ENFORCE;
    if (p->mode != STS_MODE_ENFORCE && p->mode != STS_MODE_TESTING)
        return;
    int n_mx = c->dns->n_mx < MXS_MAX_MX ? c->dns->n_mx : MXS_MAX_MX;
    for (int i = 0; i < n_mx; i++) {
        const char *host = c->dns->mx[i].host;
        if (covered(p, host))
            continue;
        char h[300];
        struct diag_vars v = { .name = diag_esc(h, sizeof h, host) };
        diag_start(&f, D_STS_MX_NOT_COVERED, -1);
        if (!enforce)
            f.severity = MXS_SEV_WARNING;
        APP(f.message, "The MX %s matches no mx pattern of the MTA-STS policy of %s: %s.",
            h, c->dom, enforce ? "MTA-STS senders refuse to deliver to it (mode enforce)"
                               : "senders report it (mode testing) and deliver");
        APP(f.evidence, "MX %u %s; policy mode %s, mx patterns: ", c->dns->mx[i].preference, h,
            mode_name(p->mode));
        pattern_list(f.evidence, sizeof f.evidence, p);
        diag_file(c, &f, D_STS_MX_NOT_COVERED, &v);
    }
}

static void check_tlsrpt(struct diag_ctx *c, const struct mxs_policy_facts *p)
{
    const struct mxs_policy_txt *t = &p->rpt;
    char e[200];
    int sts = p->sts.picked >= 0 && p->sts.valid, dane = dane_present(c);
    if (!t->asked)
        return;
    if (t->n_versioned > 1)
        file_one(c, D_TLSRPT_INVALID, -1, t, p, "%s has %d TLS-RPT records: senders send no "
                 "reports.", c->dom, t->n_versioned);
    else if (t->picked >= 0 && !t->valid)
        file_one(c, D_TLSRPT_INVALID, -1, t, p, "The TLS-RPT record of %s is invalid (%s): "
                 "senders send no reports.", c->dom, diag_esc(e, sizeof e, t->error));
    else if (t->n_versioned == 0 && (sts || dane))
        file_one(c, D_TLSRPT_MISSING, MXS_SEV_INFO, t, p, "%s publishes %s but no TLS-RPT "
                 "record: senders that fail to deliver over TLS have nowhere to report it.",
                 c->dom, sts && dane ? "MTA-STS and DANE" : sts ? "MTA-STS" : "DANE (TLSA)");
}

/* Mode testing: delivered; says what enforce would refuse, from the blocks
 * filed so far by the other steps (the verifying sender's first failure). */
static void check_testing(struct diag_ctx *c, const struct mxs_policy_facts *p)
{
    struct mxs_finding f;
    struct mxs_verdict ver;
    memset(&ver, 0, sizeof ver);
    for (int s = 0; s < MXS_STEP_COUNT && !ver.finding[0]; s++)
        for (int k = 0; k < DIAG_CLS_COUNT && !ver.finding[0]; k++)
            if (c->blk[s][k].set) {
                ver.outcome = MXS_OUT_NOT_DELIVERED;
                ver.step = (enum mxs_step)s;
                snprintf(ver.finding, sizeof ver.finding, "%s", c->blk[s][k].id);
            }
    enum mxs_step st = MXS_STEP_NONE;
    const char *id = enforce_refusal(c, p, &ver, &st);
    diag_start(&f, D_STS_TESTING, -1);
    if (id)
        APP(f.message, "MTA-STS mode testing: mail is delivered, but would be refused under "
            "enforce at %s (%s); reported only.", mxs_step_name(st), id);
    else {
        f.severity = MXS_SEV_INFO;
        APP(f.message, "MTA-STS mode testing: nothing seen here would be refused under enforce.");
    }
    APP(f.evidence, "policy mode testing, max_age %ld, mx patterns: ", p->max_age);
    pattern_list(f.evidence, sizeof f.evidence, p);
    diag_file(c, &f, D_STS_TESTING, NULL);
}

void diag_check_policy(struct diag_ctx *c)
{
    const struct mxs_policy_facts *p = c->policy;
    if (!p->done || !p->sts.asked)
        return;
    check_sts_txt(c, p);
    if (p->sts.picked >= 0 && p->sts.valid) {
        check_fetch(c, p);
        if (usable(p)) {
            check_mx(c, p);
            if (p->mode == STS_MODE_TESTING)
                check_testing(c, p);
        }
    }
    check_tlsrpt(c, p);
}

/* ---- the MTA-STS verdict ------------------------------------------------- */

static void from(struct mxs_verdict *m, const struct mxs_verdict *o)
{
    m->outcome = o->outcome;
    m->step = o->step;
    snprintf(m->finding, sizeof m->finding, "%s", o->finding);
    m->words[0] = 0;
}

void diag_verdict_mtasts(struct diag_ctx *c, struct mxs_verdict v[MXS_POL_COUNT])
{
    struct mxs_verdict *m = &v[MXS_POL_MTASTS];
    const struct mxs_verdict *opp = &v[MXS_POL_OPPORTUNISTIC], *ver = &v[MXS_POL_VERIFIED];
    const struct mxs_policy_facts *p = c->policy;
    enum mxs_step_state st = c->in->state[MXS_STEP_POLICY];
    memset(m, 0, sizeof *m);
    m->policy = MXS_POL_MTASTS;
    m->outcome = MXS_OUT_NOT_EVALUATED;
    m->step = MXS_STEP_POLICY;
    if (c->local.set) {
        from(m, opp);
        APP(m->words, "%s", opp->words);
        return;
    }
    if (st == MXS_ST_SKIPPED) {
        char w[300];
        APP(m->words, "not evaluated: POLICY was skipped (%s)",
            diag_esc(w, sizeof w, c->in->step_error[MXS_STEP_POLICY]));
        return;
    }
    if (!diag_is_final(st) || !p->done) {
        APP(m->words, "not evaluated: POLICY %s", st == MXS_ST_RUNNING ? "is still running" :
            st == MXS_ST_CANCELLED ? "was cancelled" : "has not run yet");
        return;
    }
    if (dane_present(c)) {
        from(m, &v[MXS_POL_DANE]);
        APP(m->words, "DANE takes precedence over MTA-STS (RFC 8461 section 2): %s",
            v[MXS_POL_DANE].words);
        return;
    }
    const char *why = NULL;
    if (p->sts.n_versioned == 0)
        why = "no _mta-sts record";
    else if (p->sts.picked < 0)
        why = "several v=STSv1 records (sts-txt-multiple)";
    else if (!p->sts.valid)
        why = "the record is invalid (sts-txt-invalid)";
    else if (p->fetch == MXS_FETCH_CERT)
        why = "the policy host's certificate does not validate (sts-webpki-invalid); a "
              "sender without a cached policy";
    else if (p->fetch == MXS_FETCH_HTTP && p->http_status >= 300 && p->http_status < 400)
        why = "the policy URL redirects (sts-policy-redirect); a sender without a cached policy";
    else if (p->fetch != MXS_FETCH_OK || !type_plain(p->content_type))
        why = "the policy cannot be fetched (sts-policy-fetch); a sender without a cached policy";
    else if (!p->parsed || !p->policy_valid)
        why = "the policy is invalid (sts-policy-invalid)";
    else if (p->mode == STS_MODE_NONE)
        why = "mode none";
    if (why) {
        from(m, opp);
        APP(m->words, "no MTA-STS policy applies (%s): as opportunistic: %s", why, opp->words);
        return;
    }
    enum mxs_step rs = MXS_STEP_NONE;
    const char *refused = enforce_refusal(c, p, ver, &rs);
    char h[300];
    diag_esc(h, sizeof h, c->mx_i >= 0 ? c->dns->mx[c->mx_i].host : "");
    if (p->mode == STS_MODE_TESTING) {
        from(m, opp);
        if (refused)
            APP(m->words, "MTA-STS mode testing: would be refused under enforce at %s (%s); "
                "reported only. As opportunistic: %s", mxs_step_name(rs), refused, opp->words);
        else
            APP(m->words, "MTA-STS mode testing (enforce would deliver too). As "
                "opportunistic: %s", opp->words);
        return;
    }
    /* enforce */
    if (refused && rs == MXS_STEP_POLICY) {
        char pl[600] = "";
        pattern_list(pl, sizeof pl, p);
        m->outcome = MXS_OUT_NOT_DELIVERED;
        snprintf(m->finding, sizeof m->finding, "sts-mx-not-covered");
        APP(m->words, "not delivered: MTA-STS enforce, and the MX %s matches no mx pattern "
            "(%s): senders refuse it", h, pl);
        return;
    }
    if (ver->outcome == MXS_OUT_NOT_DELIVERED) {
        from(m, ver);
        APP(m->words, "not delivered: MTA-STS enforce requires TLS 1.2+ and a certificate "
            "that validates (PKIX) for %s; it fails at %s (%s)", h, mxs_step_name(ver->step),
            ver->finding);
        return;
    }
    if (ver->outcome != MXS_OUT_ENCRYPTED) {
        from(m, ver);
        APP(m->words, "%s", ver->words);
        return;
    }
    if (c->tls->version && c->tls->version < 12) {
        m->outcome = MXS_OUT_NOT_DELIVERED;
        m->step = MXS_STEP_HANDSHAKE;
        APP(m->words, "not delivered: MTA-STS enforce requires TLS 1.2 or later");
        return;
    }
    char vn[40];
    from(m, ver);
    APP(m->words, "delivered encrypted and authenticated (%s): MTA-STS enforce, the MX %s "
        "is listed in the policy and its certificate validates",
        diag_esc(vn, sizeof vn, c->tls->version_name[0] ? c->tls->version_name : "TLS"), h);
}
