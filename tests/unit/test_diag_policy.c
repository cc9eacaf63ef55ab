/*
 * test_diag_policy.c - the POLICY findings (MTA-STS, TLS-RPT) and the
 * MTA-STS verdict (core/diag/check_policy.c) on facts built by hand
 * (diagfx.h's healthy probe plus a policy): each case its finding, the
 * MTA-STS verdict, and the four other verdicts untouched.  Owner: the
 * POLICY step.  The same cases against real servers: tests/integration/sts.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "diagfx.h"

/* The healthy probe of diagfx.h for a domain with an MTA-STS policy in
 * mode (1 enforce, 2 testing, 3 none) listing pattern, and a TLS-RPT
 * record. */
static struct mxs_policy_facts *with_policy(struct fx *x, int mode, const char *pattern)
{
    struct mxs_policy_facts *p = calloc(1, sizeof *p);
    assert_non_null(p);
    p->done = 1;
    snprintf(p->domain, sizeof p->domain, "example.test");
    p->sts.asked = p->rpt.asked = 1;
    snprintf(p->sts.name, sizeof p->sts.name, "_mta-sts.example.test");
    p->sts.n_rr = p->sts.n_kept = p->sts.n_versioned = 1;
    snprintf(p->sts.rr[0], sizeof p->sts.rr[0], "v=STSv1; id=1");
    p->sts.rr_len[0] = strlen(p->sts.rr[0]);
    p->sts.picked = 0;
    p->sts.valid = 1;
    snprintf(p->sts_id, sizeof p->sts_id, "1");
    p->fetch = MXS_FETCH_OK;
    p->http_status = 200;
    snprintf(p->content_type, sizeof p->content_type, "text/plain; charset=utf-8");
    snprintf(p->url, sizeof p->url, "https://mta-sts.example.test/.well-known/mta-sts.txt");
    p->parsed = p->policy_valid = 1;
    p->mode = mode;
    p->max_age = 86400;
    p->n_mx = p->n_mx_total = pattern ? 1 : 0;
    if (pattern)
        snprintf(p->mx[0], sizeof p->mx[0], "%s", pattern);
    snprintf(p->rpt.name, sizeof p->rpt.name, "_smtp._tls.example.test");
    p->rpt.n_rr = p->rpt.n_kept = p->rpt.n_versioned = 1;
    p->rpt.picked = 0;
    p->rpt.valid = 1;
    p->n_rua = p->n_rua_total = 1;
    p->rua[0].kind = 1;
    p->rua[0].ok = 1;
    snprintf(p->rua[0].uri, sizeof p->rua[0].uri, "mailto:tlsrpt@example.test");
    x->in.policy = p;
    return p;
}

static void others_encrypted(const struct fx *x)
{
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
}

static int policy_findings(const struct fx *x)
{
    int n = 0;
    for (int i = 0; i < x->n; i++)
        n += x->f[i].step == MXS_STEP_POLICY;
    return n;
}

#undef DONE
#define DONE do { findings_printable(x); ordered(x); free((void *)x->in.policy); free(x); } while (0)

static void t_enforce_good(void **state)
{
    (void)state;
    FX;
    with_policy(x, 1, "*.example.test");   /* the wildcard covers mx.example.test */
    run(x);
    assert_int_equal(policy_findings(x), 0);
    verdict(x, MXS_POL_MTASTS, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    has(x->v[MXS_POL_MTASTS].words, "MTA-STS enforce, the MX mx.example.test is listed");
    others_encrypted(x);
    DONE;
}

static void t_enforce_not_covered(void **state)
{
    (void)state;
    FX;
    /* "*." is one whole label: *.mx.example.test does not cover mx.example.test */
    with_policy(x, 1, "*.mx.example.test");
    run(x);
    const struct mxs_finding *f = must(x, "sts-mx-not-covered", MXS_SEV_ERROR, MXS_STEP_POLICY);
    has(f->evidence, "mx patterns: *.mx.example.test");
    assert_string_equal(mxs_tlsrpt_result_type(f), "validation-failure");
    verdict(x, MXS_POL_MTASTS, MXS_OUT_NOT_DELIVERED, MXS_STEP_POLICY, "sts-mx-not-covered");
    others_encrypted(x);   /* a policy never stops the other senders */
    ordered(x);
    findings_printable(x);
    DONE;
}

static void t_enforce_cert_fails(void **state)
{
    (void)state;
    FX;
    with_policy(x, 1, "mx.example.test");
    x->chain.name_matches_mx = 0;
    x->chain.cert[0].verify_flags |= MXS_V_NAME;
    x->chain.verify_result |= MXS_V_NAME;
    run(x);
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_NOT_DELIVERED, MXS_STEP_CHAIN, NULL);
    verdict(x, MXS_POL_MTASTS, MXS_OUT_NOT_DELIVERED, MXS_STEP_CHAIN, x->v[MXS_POL_VERIFIED].finding);
    has(x->v[MXS_POL_MTASTS].words, "MTA-STS enforce requires TLS 1.2+");
    /* the CHAIN finding comes after the POLICY ones, which come after RESOLVE */
    ordered(x);
    DONE;
}

static void t_testing(void **state)
{
    (void)state;
    FX;
    with_policy(x, 2, "mx.example.test");
    run(x);
    must(x, "sts-testing", MXS_SEV_INFO, MXS_STEP_POLICY);
    verdict(x, MXS_POL_MTASTS, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    has(x->v[MXS_POL_MTASTS].words, "enforce would deliver too");
    DONE;

    x = good_fx();
    with_policy(x, 2, "mx.example.test");
    x->chain.name_matches_mx = 0;
    x->chain.cert[0].verify_flags |= MXS_V_NAME;
    x->chain.verify_result |= MXS_V_NAME;
    run(x);
    const struct mxs_finding *f = must(x, "sts-testing", MXS_SEV_WARNING, MXS_STEP_POLICY);
    has(f->message, "would be refused under enforce at CHAIN");
    verdict(x, MXS_POL_MTASTS, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    has(x->v[MXS_POL_MTASTS].words, "would be refused under enforce at CHAIN");
    has(x->v[MXS_POL_MTASTS].words, "reported only");
    DONE;

    x = good_fx();
    with_policy(x, 2, "other.example.net");
    run(x);
    must(x, "sts-mx-not-covered", MXS_SEV_WARNING, MXS_STEP_POLICY);
    must(x, "sts-testing", MXS_SEV_WARNING, MXS_STEP_POLICY);
    verdict(x, MXS_POL_MTASTS, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    has(x->v[MXS_POL_MTASTS].words, "would be refused under enforce at POLICY (sts-mx-not-covered)");
    DONE;
}

static void t_none_and_missing(void **state)
{
    (void)state;
    FX;
    with_policy(x, 3, NULL);
    run(x);
    assert_int_equal(policy_findings(x), 0);
    verdict(x, MXS_POL_MTASTS, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    has(x->v[MXS_POL_MTASTS].words, "no MTA-STS policy applies (mode none)");
    DONE;

    x = good_fx();
    struct mxs_policy_facts *p = with_policy(x, 1, "mx.example.test");
    p->sts.n_rr = p->sts.n_kept = p->sts.n_versioned = 0;
    p->sts.picked = -1;
    p->sts.valid = 0;
    p->sts.answer.rcode = MXS_DNS_NXDOMAIN;
    p->fetch = MXS_FETCH_NONE;
    p->parsed = 0;
    p->rpt.n_versioned = 0;
    p->rpt.picked = -1;
    run(x);
    must(x, "sts-txt-missing", MXS_SEV_INFO, MXS_STEP_POLICY);
    assert_null(find_d(x, "tlsrpt-missing", -2));   /* nothing published: no advice */
    verdict(x, MXS_POL_MTASTS, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    has(x->v[MXS_POL_MTASTS].words, "no _mta-sts record");
    DONE;
}

static void t_txt_records(void **state)
{
    (void)state;
    FX;
    struct mxs_policy_facts *p = with_policy(x, 1, "mx.example.test");
    p->sts.n_rr = p->sts.n_kept = p->sts.n_versioned = 2;
    snprintf(p->sts.rr[1], sizeof p->sts.rr[1], "v=STSv1; id=2");
    p->sts.rr_len[1] = strlen(p->sts.rr[1]);
    p->sts.picked = -1;
    p->sts.valid = 0;
    p->fetch = MXS_FETCH_NONE;
    p->parsed = 0;
    run(x);
    const struct mxs_finding *f = must(x, "sts-txt-multiple", MXS_SEV_WARNING, MXS_STEP_POLICY);
    has(f->evidence, "\"v=STSv1; id=2\"");
    assert_null(mxs_tlsrpt_result_type(f));
    verdict(x, MXS_POL_MTASTS, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    DONE;

    x = good_fx();
    p = with_policy(x, 1, "mx.example.test");
    p->sts.valid = 0;
    snprintf(p->sts.error, sizeof p->sts.error, "no id= field");
    /* a hostile record: escaped in the evidence */
    snprintf(p->sts.rr[0], sizeof p->sts.rr[0], "v=STSv1; \x1b[31m");
    p->sts.rr_len[0] = strlen(p->sts.rr[0]);
    p->fetch = MXS_FETCH_NONE;
    p->parsed = 0;
    p->rpt.valid = 0;
    snprintf(p->rpt.error, sizeof p->rpt.error, "no rua");
    run(x);
    f = must(x, "sts-txt-invalid", MXS_SEV_WARNING, MXS_STEP_POLICY);
    has(f->evidence, "\\x1B[31m");
    must(x, "tlsrpt-invalid", MXS_SEV_WARNING, MXS_STEP_POLICY);
    findings_printable(x);
    DONE;
}

static void t_fetch(void **state)
{
    (void)state;
    static const struct {
        enum mxs_fetch fetch;
        long status;
        const char *type, *id, *rt;
    } c[] = {
        { MXS_FETCH_CERT, 0, "", "sts-webpki-invalid", "sts-webpki-invalid" },
        { MXS_FETCH_HTTP, 301, "text/html", "sts-policy-redirect", "sts-policy-fetch-error" },
        { MXS_FETCH_HTTP, 404, "text/html", "sts-policy-fetch", "sts-policy-fetch-error" },
        { MXS_FETCH_OK, 200, "text/html", "sts-policy-fetch", "sts-policy-fetch-error" },
        { MXS_FETCH_TOO_BIG, 200, "text/plain", "sts-policy-fetch", "sts-policy-fetch-error" },
        { MXS_FETCH_TIMEOUT, 0, "", "sts-policy-fetch", "sts-policy-fetch-error" },
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        FX;
        struct mxs_policy_facts *p = with_policy(x, 1, "other.example.net");
        p->fetch = c[i].fetch;
        p->http_status = c[i].status;
        snprintf(p->content_type, sizeof p->content_type, "%s", c[i].type);
        p->parsed = c[i].fetch == MXS_FETCH_OK;
        run(x);
        const struct mxs_finding *f = must(x, c[i].id, MXS_SEV_ERROR, MXS_STEP_POLICY);
        assert_string_equal(mxs_tlsrpt_result_type(f), c[i].rt);
        /* no usable policy: the MX not covered is no finding, the verdict
         * is the opportunistic one */
        assert_null(find_d(x, "sts-mx-not-covered", -2));
        verdict(x, MXS_POL_MTASTS, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
        has(x->v[MXS_POL_MTASTS].words, "no MTA-STS policy applies");
        others_encrypted(x);
        DONE;
    }
    FX;
    struct mxs_policy_facts *p = with_policy(x, 1, "mx.example.test");
    p->policy_valid = 0;
    p->n_problems = p->n_problems_total = 1;
    p->problem[0].line = 3;
    p->problem[0].fatal = 1;
    snprintf(p->problem[0].what, sizeof p->problem[0].what, "not a \"key: value\" line");
    memcpy(p->problem[0].raw, "junk", 4);
    p->problem[0].raw_len = 4;
    run(x);
    const struct mxs_finding *f = must(x, "sts-policy-invalid", MXS_SEV_ERROR, MXS_STEP_POLICY);
    has(f->evidence, "line 3: not a \"key: value\" line (fatal): \"junk\"");
    verdict(x, MXS_POL_MTASTS, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    DONE;
}

static void t_dane_first_and_rpt(void **state)
{
    (void)state;
    FX;
    struct mxs_policy_facts *p = with_policy(x, 1, "other.example.net");
    p->rpt.n_versioned = 0;
    p->rpt.picked = -1;
    p->n_rua = 0;
    x->dns.mx_answer.dnssec = MXS_DNSSEC_SECURE;
    struct mxs_mx *m = &x->dns.mx[0];
    m->tlsa.rcode = MXS_DNS_OK;
    m->tlsa.dnssec = MXS_DNSSEC_SECURE;
    m->n_tlsa = 1;
    m->tlsa_rr[0].usage = 3;
    m->tlsa_rr[0].selector = 1;
    m->tlsa_rr[0].mtype = 1;
    x->chain.dane_checked = x->chain.dane_usable = x->chain.dane_match = 1;
    x->chain.dane_match_depth = 0;
    x->chain.dane_match_rr = 0;
    run(x);
    verdict(x, MXS_POL_DANE, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    /* DANE first: the MX not in the policy does not stop a DANE sender */
    verdict(x, MXS_POL_MTASTS, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    has(x->v[MXS_POL_MTASTS].words, "DANE takes precedence over MTA-STS");
    const struct mxs_finding *f = must(x, "tlsrpt-missing", MXS_SEV_INFO, MXS_STEP_POLICY);
    has(f->message, "MTA-STS and DANE");
    DONE;
}

static void t_skipped_and_pending(void **state)
{
    (void)state;
    FX;
    x->in.state[MXS_STEP_POLICY] = MXS_ST_SKIPPED;
    snprintf(x->in.step_error[MXS_STEP_POLICY], sizeof x->in.step_error[0], "a host was given");
    run(x);
    verdict(x, MXS_POL_MTASTS, MXS_OUT_NOT_EVALUATED, MXS_STEP_POLICY, "");
    has(x->v[MXS_POL_MTASTS].words, "POLICY was skipped (a host was given)");
    assert_int_equal(policy_findings(x), 0);
    others_encrypted(x);
    free(x);

    x = good_fx();
    with_policy(x, 1, "mx.example.test");
    x->in.state[MXS_STEP_POLICY] = MXS_ST_PENDING;
    ((struct mxs_policy_facts *)x->in.policy)->done = 0;
    run(x);
    verdict(x, MXS_POL_MTASTS, MXS_OUT_NOT_EVALUATED, MXS_STEP_POLICY, "");
    has(x->v[MXS_POL_MTASTS].words, "POLICY has not run yet");
    DONE;
}

static void t_run_order(void **state)
{
    (void)state;
    assert_int_equal(mxs_step_order(0), MXS_STEP_RESOLVE);
    assert_int_equal(mxs_step_order(1), MXS_STEP_POLICY);
    assert_int_equal(mxs_step_order(2), MXS_STEP_CONNECT);
    assert_int_equal(mxs_step_order(MXS_STEP_COUNT - 1), MXS_STEP_QUIT);
    assert_int_equal(mxs_step_order(MXS_STEP_COUNT), MXS_STEP_NONE);
    for (int i = 0; i < MXS_STEP_COUNT; i++)
        assert_int_equal(mxs_step_rank(mxs_step_order(i)), i);
    assert_int_equal(mxs_step_from_name("policy"), MXS_STEP_POLICY);
    assert_string_equal(mxs_policy_name(MXS_POL_MTASTS), "mta-sts");
    for (int f = 0; f <= MXS_FETCH_OTHER; f++)
        assert_int_equal(mxs_fetch_from_name(mxs_fetch_name((enum mxs_fetch)f)), f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_enforce_good),
        cmocka_unit_test(t_enforce_not_covered),
        cmocka_unit_test(t_enforce_cert_fails),
        cmocka_unit_test(t_testing),
        cmocka_unit_test(t_none_and_missing),
        cmocka_unit_test(t_txt_records),
        cmocka_unit_test(t_fetch),
        cmocka_unit_test(t_dane_first_and_rpt),
        cmocka_unit_test(t_skipped_and_pending),
        cmocka_unit_test(t_run_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
