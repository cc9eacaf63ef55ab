/*
 * test_diag.c - diagnosis: the four verdicts for representative probes,
 * partial facts, and every finding id of RESOLVE, CONNECT, BANNER, EHLO and
 * STARTTLS from hand-built facts (test_diag_tls.c: the later steps, the
 * report, several MX hosts).
 * Owner: diagnosis.
 *
 * Facts are built by hand (no network, diagfx.h): good_fx() is a complete,
 * verified TLS 1.3 probe; each test breaks one thing and checks the finding
 * id, severity, step, that the evidence carries the concrete fact, and the
 * verdicts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "diagfx.h"

/* ---- names ---------------------------------------------------------------- */

static void t_names(void **st)
{
    (void)st;
    assert_string_equal(mxs_severity_name(MXS_SEV_INFO), "info");
    assert_string_equal(mxs_severity_name(MXS_SEV_WARNING), "warning");
    assert_string_equal(mxs_severity_name(MXS_SEV_ERROR), "error");
    assert_string_equal(mxs_policy_name(MXS_POL_OPPORTUNISTIC), "opportunistic");
    assert_string_equal(mxs_policy_name(MXS_POL_REQUIRED), "required");
    assert_string_equal(mxs_policy_name(MXS_POL_VERIFIED), "verified");
    assert_string_equal(mxs_policy_name(MXS_POL_DANE), "dane");
    assert_string_equal(mxs_outcome_name(MXS_OUT_ENCRYPTED), "delivered-encrypted");
    assert_string_equal(mxs_outcome_name(MXS_OUT_CLEAR), "delivered-clear");
    assert_string_equal(mxs_outcome_name(MXS_OUT_NOT_DELIVERED), "not-delivered");
    assert_string_equal(mxs_outcome_name(MXS_OUT_NOT_EVALUATED), "not-evaluated");
}

/* ---- representative verdicts ------------------------------------------------- */

static void t_good_tls13(void **st)
{
    (void)st;
    FX;
    run(x);
    for (int i = 0; i < x->n; i++)
        if (x->f[i].severity >= MXS_SEV_WARNING)
            fail_msg("unexpected %s", x->f[i].id);
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    verdict(x, MXS_POL_DANE, MXS_OUT_NOT_EVALUATED, MXS_STEP_NONE, "");
    has(x->v[MXS_POL_DANE].words, "no DANE policy (no secure TLSA records)");
    has(x->v[MXS_POL_OPPORTUNISTIC].words, "TLSv1.3");
    DONE;
}

static void t_host_given_resolve_skipped(void **st)
{
    (void)st;
    FX;
    x->in.state[MXS_STEP_RESOLVE] = MXS_ST_SKIPPED;
    x->set.target_is_host = 1;
    x->in.domain = "";
    memset(&x->dns, 0, sizeof x->dns);
    run(x);
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    verdict(x, MXS_POL_DANE, MXS_OUT_NOT_EVALUATED, MXS_STEP_RESOLVE, "");
    /* Implicit TLS: STARTTLS skipped is fine too. */
    x->set.tls_on_connect = 1;
    x->in.state[MXS_STEP_STARTTLS] = MXS_ST_SKIPPED;
    memset(&x->smtp.starttls, 0, sizeof x->smtp.starttls);
    run(x);
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    DONE;
}

static void t_partial_after_resolve(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_RESOLVE, MXS_ST_OK);
    run(x);
    assert_int_equal(x->n, 0);
    for (int p = MXS_POL_OPPORTUNISTIC; p <= MXS_POL_VERIFIED; p++)
        verdict(x, (enum mxs_policy)p, MXS_OUT_NOT_EVALUATED, MXS_STEP_CONNECT, "");
    verdict(x, MXS_POL_DANE, MXS_OUT_NOT_EVALUATED, MXS_STEP_NONE, "");
    /* Running RESOLVE: even less known. */
    only_through(x, MXS_STEP_RESOLVE, MXS_ST_RUNNING);
    x->dns.done = 0;
    run(x);
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_NOT_EVALUATED, MXS_STEP_RESOLVE, "");
    verdict(x, MXS_POL_DANE, MXS_OUT_NOT_EVALUATED, MXS_STEP_RESOLVE, "");
    DONE;
}

static void t_partial_after_handshake(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_HANDSHAKE, MXS_ST_OK);
    run(x);
    /* opportunistic/required wait for EHLO2; verified waits for CHAIN. */
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_NOT_EVALUATED, MXS_STEP_EHLO2, "");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_NOT_EVALUATED, MXS_STEP_CHAIN, "");
    /* Chain not verified yet: no name/trust findings from empty facts. */
    assert_null(find_d(x, "cert-name-mismatch", -2));
    assert_null(find_d(x, "chain-incomplete", -2));
    DONE;
}

static void t_stop_after_skipped(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_EHLO, MXS_ST_OK);
    for (int i = MXS_STEP_STARTTLS; i < MXS_STEP_COUNT; i++)
        x->in.state[i] = MXS_ST_SKIPPED;
    run(x);
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_NOT_EVALUATED, MXS_STEP_STARTTLS, "");
    has(x->v[MXS_POL_REQUIRED].words, "skipped");
    DONE;
}

/* ---- RESOLVE ------------------------------------------------------------------ */

static void t_dns_nxdomain(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_RESOLVE, MXS_ST_FAIL);
    x->dns.mx_answer.rcode = MXS_DNS_NXDOMAIN;
    x->dns.n_mx = 0;
    run(x);
    const struct mxs_finding *f = must(x, "dns-nxdomain", MXS_SEV_ERROR, MXS_STEP_RESOLVE);
    has(f->evidence, "NXDOMAIN");
    has(f->evidence, "example.test");
    for (int p = MXS_POL_OPPORTUNISTIC; p <= MXS_POL_VERIFIED; p++)
        verdict(x, (enum mxs_policy)p, MXS_OUT_NOT_DELIVERED, MXS_STEP_RESOLVE,
                "dns-nxdomain");
    assert_int_equal(x->v[MXS_POL_DANE].outcome, MXS_OUT_NOT_EVALUATED);
    DONE;
}

static void t_dns_servfail_timeout(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_RESOLVE, MXS_ST_FAIL);
    x->dns.mx_answer.rcode = MXS_DNS_SERVFAIL;
    x->dns.n_mx = 0;
    run(x);
    has(must(x, "dns-servfail", MXS_SEV_ERROR, MXS_STEP_RESOLVE)->evidence, "SERVFAIL");
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_NOT_DELIVERED, MXS_STEP_RESOLVE, "dns-servfail");
    x->dns.mx_answer.rcode = MXS_DNS_TIMEOUT;
    run(x);
    has(must(x, "dns-timeout", MXS_SEV_ERROR, MXS_STEP_RESOLVE)->evidence, "timeout");
    assert_null(find_d(x, "dns-servfail", -2));
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_NOT_DELIVERED, MXS_STEP_RESOLVE, "dns-timeout");
    /* Another rcode (REFUSED, FORMERR, a resolver error): dns-error. */
    x->dns.mx_answer.rcode = MXS_DNS_ERROR;
    run(x);
    const struct mxs_finding *f = must(x, "dns-error", MXS_SEV_ERROR, MXS_STEP_RESOLVE);
    has(f->evidence, "MX example.test: rcode ");
    has(f->advice, "check the zone answers for MX");
    assert_null(find_d(x, "dns-timeout", -2));
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_NOT_DELIVERED, MXS_STEP_RESOLVE, "dns-error");
    DONE;
}

static void t_mx_null_implicit(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_RESOLVE, MXS_ST_FAIL);
    x->dns.null_mx = 1;
    x->dns.n_mx = 0;
    run(x);
    has(must(x, "mx-null", MXS_SEV_ERROR, MXS_STEP_RESOLVE)->evidence, "0 .");
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_NOT_DELIVERED, MXS_STEP_RESOLVE, "mx-null");
    free(x);

    x = good_fx();
    x->dns.implicit_mx = 1;
    x->dns.mx_answer.rcode = MXS_DNS_NODATA;
    run(x);
    has(must(x, "mx-implicit", MXS_SEV_WARNING, MXS_STEP_RESOLVE)->evidence, "no MX records");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    DONE;
}

static void t_dnssec_bogus(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_RESOLVE, MXS_ST_FAIL);
    x->dns.mx_answer.rcode = MXS_DNS_SERVFAIL;
    x->dns.mx_answer.dnssec = MXS_DNSSEC_BOGUS;
    snprintf(x->dns.mx_answer.why_bogus, sizeof x->dns.mx_answer.why_bogus,
             "signature expired");
    x->dns.n_mx = 0;
    run(x);
    has(must(x, "dnssec-bogus", MXS_SEV_ERROR, MXS_STEP_RESOLVE)->evidence,
        "signature expired");
    assert_null(find_d(x, "dns-servfail", -2));
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_NOT_DELIVERED, MXS_STEP_RESOLVE, "dnssec-bogus");
    free(x);

    /* A bogus TLSA answer only stops DANE senders. */
    x = good_fx();
    x->dns.mx[0].tlsa.rcode = MXS_DNS_SERVFAIL;
    x->dns.mx[0].tlsa.dnssec = MXS_DNSSEC_BOGUS;
    snprintf(x->dns.mx[0].tlsa.why_bogus, sizeof x->dns.mx[0].tlsa.why_bogus, "no signatures");
    run(x);
    const struct mxs_finding *f = must(x, "dnssec-bogus", MXS_SEV_WARNING, MXS_STEP_RESOLVE);
    has(f->evidence, "_25._tcp.mx.example.test");
    has(f->evidence, "no signatures");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    verdict(x, MXS_POL_DANE, MXS_OUT_NOT_DELIVERED, MXS_STEP_RESOLVE, "dnssec-bogus");
    DONE;
}

static void t_mx_host_without_address(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_RESOLVE, MXS_ST_FAIL);
    x->dns.mx[0].n_addr = 0;
    x->dns.mx[0].a.rcode = MXS_DNS_NXDOMAIN;
    x->dns.mx[0].aaaa.rcode = MXS_DNS_NXDOMAIN;
    run(x);
    const struct mxs_finding *f = must(x, "dns-nxdomain", MXS_SEV_ERROR, MXS_STEP_RESOLVE);
    has(f->evidence, "mx.example.test");
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_NOT_DELIVERED, MXS_STEP_RESOLVE, "dns-nxdomain");
    DONE;
}

static void t_dane_secure_tlsa(void **st)
{
    (void)st;
    FX;
    x->dns.mx_answer.dnssec = MXS_DNSSEC_SECURE;
    x->dns.mx[0].tlsa.rcode = MXS_DNS_OK;
    x->dns.mx[0].tlsa.dnssec = MXS_DNSSEC_SECURE;
    x->dns.mx[0].n_tlsa = 2;
    x->dns.mx[0].tlsa_rr[0] = (struct mxs_tlsa){ .usage = 3, .selector = 1, .mtype = 1, .len = 32 };
    x->dns.mx[0].tlsa_rr[1] = (struct mxs_tlsa){ .usage = 2, .selector = 0, .mtype = 1, .len = 32 };
    run(x);
    /* the engine did not match them (no chain facts): not evaluated */
    verdict(x, MXS_POL_DANE, MXS_OUT_NOT_EVALUATED, MXS_STEP_CHAIN, "");
    has(x->v[MXS_POL_DANE].words, "2 TLSA records");
    /* a DANE-EE record matches the leaf */
    x->chain.dane_checked = 1;
    x->chain.dane_usable = 2;
    x->chain.dane_match = 1;
    x->chain.dane_match_rr = 0;
    x->chain.dane_match_depth = 0;
    run(x);
    verdict(x, MXS_POL_DANE, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    has(x->v[MXS_POL_DANE].words, "DANE-authenticated");
    has(x->v[MXS_POL_DANE].words, "TLSA 3 1 1");
    assert_null(find_d(x, "dane-mismatch", -2));
    /* none matches: DANE senders stop at CHAIN, nobody else does */
    x->chain.dane_match = 0;
    x->chain.dane_match_rr = x->chain.dane_match_depth = -1;
    snprintf(x->chain.dane_detail, sizeof x->chain.dane_detail, "no TLSA record matches");
    run(x);
    verdict(x, MXS_POL_DANE, MXS_OUT_NOT_DELIVERED, MXS_STEP_CHAIN, "dane-mismatch");
    has(must(x, "dane-mismatch", MXS_SEV_ERROR, MXS_STEP_CHAIN)->evidence, "TLSA 3 1 1");
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    /* no usable record: TLS mandatory, unauthenticated (RFC 7672 2.2) */
    x->chain.dane_usable = 0;
    run(x);
    verdict(x, MXS_POL_DANE, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    has(x->v[MXS_POL_DANE].words, "without authentication");
    assert_null(find_d(x, "dane-mismatch", -2));
    /* Insecure MX records: the TLSA records do not apply. */
    x->dns.mx_answer.dnssec = MXS_DNSSEC_INSECURE;
    run(x);
    has(x->v[MXS_POL_DANE].words, "no DANE policy (no secure TLSA records)");
    /* DANE requires TLS: without STARTTLS it is not delivered. */
    x->dns.mx_answer.dnssec = MXS_DNSSEC_SECURE;
    only_through(x, MXS_STEP_STARTTLS, MXS_ST_FAIL);
    memset(&x->smtp.caps, 0, sizeof x->smtp.caps);
    run(x);
    verdict(x, MXS_POL_DANE, MXS_OUT_NOT_DELIVERED, MXS_STEP_STARTTLS, "starttls-not-offered");
    DONE;
}

/* ---- CONNECT ------------------------------------------------------------------ */

static void t_connect(void **st)
{
    (void)st;
    static const struct { enum mxs_conn_error e; int err; const char *id; } c[] = {
        {MXS_CONN_REFUSED, ECONNREFUSED, "connect-refused"},
        {MXS_CONN_TIMEOUT, ETIMEDOUT, "connect-timeout"},
        {MXS_CONN_UNREACHABLE, EHOSTUNREACH, "connect-unreachable"}};
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        FX;
        only_through(x, MXS_STEP_CONNECT, MXS_ST_FAIL);
        x->conn.done = 1;
        x->conn.addr.family = 4;
        snprintf(x->conn.addr.text, sizeof x->conn.addr.text, "127.0.0.9");
        x->conn.port = 25;
        x->conn.error = c[i].e;
        x->conn.err_no = c[i].err;
        x->conn.attempts = 1;
        run(x);
        const struct mxs_finding *f = must(x, c[i].id, MXS_SEV_ERROR, MXS_STEP_CONNECT);
        has(f->evidence, "127.0.0.9");
        has(f->evidence, "port 25");
        has(f->evidence, strerror(c[i].err));
        for (int p = MXS_POL_OPPORTUNISTIC; p <= MXS_POL_VERIFIED; p++)
            verdict(x, (enum mxs_policy)p, MXS_OUT_NOT_DELIVERED, MXS_STEP_CONNECT, c[i].id);
        /* No successful attempt: done may stay 0, the error class decides. */
        x->conn.done = 0;
        run(x);
        must(x, c[i].id, MXS_SEV_ERROR, MXS_STEP_CONNECT);
        assert_null(find_d(x, "connect-failed", -2));
        DONE;
    }
}

/* ---- BANNER ------------------------------------------------------------------- */

static void t_banner_554(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_BANNER, MXS_ST_FAIL);
    set_reply(&x->smtp.banner, 554, "5.7.1 mx.example.test Service unavailable; client blocked");
    run(x);
    const struct mxs_finding *f = must(x, "banner-rejected", MXS_SEV_ERROR, MXS_STEP_BANNER);
    has(f->evidence, "554 5.7.1 mx.example.test Service unavailable; client blocked");
    has(f->message, "554");
    for (int p = MXS_POL_OPPORTUNISTIC; p <= MXS_POL_VERIFIED; p++)
        verdict(x, (enum mxs_policy)p, MXS_OUT_NOT_DELIVERED, MXS_STEP_BANNER, "banner-rejected");
    DONE;
}

static void t_banner_421_multiline(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_BANNER, MXS_ST_FAIL);
    set_reply(&x->smtp.banner, 421, "4.7.0 too many connections\nfrom your address");
    run(x);
    const struct mxs_finding *f = must(x, "banner-throttled", MXS_SEV_ERROR, MXS_STEP_BANNER);
    has(f->evidence, "421-4.7.0 too many connections\n421 from your address");
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_NOT_DELIVERED, MXS_STEP_BANNER, "banner-throttled");
    DONE;
}

static void t_banner_slow(void **st)
{
    (void)st;
    FX;
    x->smtp.banner_ms = 12500;
    run(x);
    const struct mxs_finding *f = must(x, "banner-slow", MXS_SEV_WARNING, MXS_STEP_BANNER);
    has(f->message, "12.5 s");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    /* At the threshold: not slow. */
    x->smtp.banner_ms = DIAG_BANNER_SLOW_MS;
    run(x);
    assert_null(find_d(x, "banner-slow", -2));
    DONE;
}

static void t_banner_timeout(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_BANNER, MXS_ST_FAIL);
    x->in.timed_out[MXS_STEP_BANNER] = 1;
    x->in.elapsed_ms[MXS_STEP_BANNER] = 60000;
    run(x);
    has(must(x, "banner-timeout", MXS_SEV_ERROR, MXS_STEP_BANNER)->evidence, "60.0 s");
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_NOT_DELIVERED, MXS_STEP_BANNER, "banner-timeout");
    DONE;
}

/* ---- EHLO --------------------------------------------------------------------- */

static void t_ehlo_rejected(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_EHLO, MXS_ST_FAIL);
    set_reply(&x->smtp.ehlo, 550, "5.7.1 probe.sender.test: Helo command rejected");
    x->smtp.used_helo = 1;
    set_reply(&x->smtp.helo, 550, "5.7.1 HELO also rejected");
    run(x);
    const struct mxs_finding *f = must(x, "ehlo-rejected", MXS_SEV_ERROR, MXS_STEP_EHLO);
    has(f->evidence, "550 5.7.1 probe.sender.test: Helo command rejected");
    has(f->evidence, "550 5.7.1 HELO also rejected");
    has(f->evidence, "EHLO probe.sender.test");
    for (int p = MXS_POL_OPPORTUNISTIC; p <= MXS_POL_VERIFIED; p++)
        verdict(x, (enum mxs_policy)p, MXS_OUT_NOT_DELIVERED, MXS_STEP_EHLO, "ehlo-rejected");
    DONE;
}

static void t_ehlo_masked(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_STARTTLS, MXS_ST_FAIL);
    memset(&x->smtp.caps, 0, sizeof x->smtp.caps);
    add_cap(&x->smtp.caps, "PIPELINING");
    add_cap(&x->smtp.caps, "XXXXXXXA");
    run(x);
    const struct mxs_finding *f = must(x, "ehlo-masked", MXS_SEV_ERROR, MXS_STEP_EHLO);
    has(f->evidence, "XXXXXXXA");
    must(x, "starttls-not-offered", MXS_SEV_ERROR, MXS_STEP_STARTTLS);
    /* the firewall that hides STARTTLS is named, not the MTA */
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_CLEAR, MXS_STEP_EHLO, "ehlo-masked");
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_NOT_DELIVERED, MXS_STEP_EHLO, "ehlo-masked");
    /* The parser's flag alone is enough. */
    memset(&x->smtp.caps, 0, sizeof x->smtp.caps);
    add_cap(&x->smtp.caps, "STARTTLS");
    x->smtp.caps.masked = 1;
    run(x);
    must(x, "ehlo-masked", MXS_SEV_WARNING, MXS_STEP_EHLO);
    DONE;
}

/* ---- STARTTLS ----------------------------------------------------------------- */

static void t_starttls_not_offered(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_STARTTLS, MXS_ST_FAIL);
    memset(&x->smtp.caps, 0, sizeof x->smtp.caps);
    add_cap(&x->smtp.caps, "PIPELINING");
    add_cap(&x->smtp.caps, "SIZE");
    x->in.state[MXS_STEP_HANDSHAKE] = MXS_ST_SKIPPED;
    run(x);
    const struct mxs_finding *f = must(x, "starttls-not-offered", MXS_SEV_ERROR,
                                       MXS_STEP_STARTTLS);
    has(f->evidence, "PIPELINING SIZE");
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_CLEAR, MXS_STEP_STARTTLS, "starttls-not-offered");
    has(x->v[MXS_POL_OPPORTUNISTIC].words, "unencrypted");
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_NOT_DELIVERED, MXS_STEP_STARTTLS, "starttls-not-offered");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_NOT_DELIVERED, MXS_STEP_STARTTLS, "starttls-not-offered");
    /* We send STARTTLS anyway: its refusal is evidence, not a second problem. */
    set_reply(&x->smtp.starttls, 502, "5.5.1 Error: command not implemented");
    run(x);
    has(must(x, "starttls-not-offered", MXS_SEV_ERROR, MXS_STEP_STARTTLS)->evidence,
        "502 5.5.1 Error: command not implemented");
    assert_null(find_d(x, "starttls-refused", -2));
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_NOT_DELIVERED, MXS_STEP_STARTTLS, "starttls-not-offered");
    /* Implicit TLS (465) has no STARTTLS to offer. */
    x->set.tls_on_connect = 1;
    run(x);
    assert_null(find_d(x, "starttls-not-offered", -2));
    DONE;
}

static void t_starttls_refused_454(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_STARTTLS, MXS_ST_FAIL);
    set_reply(&x->smtp.starttls, 454, "4.7.0 TLS not available due to local problem");
    run(x);
    const struct mxs_finding *f = must(x, "starttls-refused", MXS_SEV_ERROR, MXS_STEP_STARTTLS);
    has(f->message, "454");
    has(f->message, "broken");
    has(f->evidence, "454 4.7.0 TLS not available due to local problem");
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_CLEAR, MXS_STEP_STARTTLS, "starttls-refused");
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_NOT_DELIVERED, MXS_STEP_STARTTLS, "starttls-refused");
    DONE;
}

static void t_starttls_leftover(void **st)
{
    (void)st;
    FX;
    x->smtp.leftover_plain = 17;
    run(x);
    const struct mxs_finding *f = must(x, "starttls-plaintext-leftover", MXS_SEV_WARNING,
                                       MXS_STEP_STARTTLS);
    has(f->evidence, "17 plaintext bytes");
    has(f->message, "discarded");
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    DONE;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_names),
        cmocka_unit_test(t_good_tls13),
        cmocka_unit_test(t_host_given_resolve_skipped),
        cmocka_unit_test(t_partial_after_resolve),
        cmocka_unit_test(t_partial_after_handshake),
        cmocka_unit_test(t_stop_after_skipped),
        cmocka_unit_test(t_dns_nxdomain),
        cmocka_unit_test(t_dns_servfail_timeout),
        cmocka_unit_test(t_mx_null_implicit),
        cmocka_unit_test(t_dnssec_bogus),
        cmocka_unit_test(t_mx_host_without_address),
        cmocka_unit_test(t_dane_secure_tlsa),
        cmocka_unit_test(t_connect),
        cmocka_unit_test(t_banner_554),
        cmocka_unit_test(t_banner_421_multiline),
        cmocka_unit_test(t_banner_slow),
        cmocka_unit_test(t_banner_timeout),
        cmocka_unit_test(t_ehlo_rejected),
        cmocka_unit_test(t_ehlo_masked),
        cmocka_unit_test(t_starttls_not_offered),
        cmocka_unit_test(t_starttls_refused_454),
        cmocka_unit_test(t_starttls_leftover),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
