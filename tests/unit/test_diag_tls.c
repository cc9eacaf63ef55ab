/*
 * test_diag_tls.c - diagnosis: every finding id of HANDSHAKE, CHAIN and
 * EHLO2, the fallback for failed steps, NULL facts, hostile text, the
 * problem report and several MX hosts (test_diag.c: the earlier steps and
 * the verdicts).
 * Owner: diagnosis.
 *
 * Facts are built by hand (no network, diagfx.h), as in test_diag.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "diagfx.h"

/* ---- HANDSHAKE ---------------------------------------------------------------- */

static void hs_fail(struct fx *x)
{
    only_through(x, MXS_STEP_HANDSHAKE, MXS_ST_FAIL);
    x->tls.attempted = 1;
    x->tls.ok = 0;
    x->tls.mbedtls_error = -0x7780;
    snprintf(x->tls.error, sizeof x->tls.error, "SSL - A fatal alert message was received from our peer");
}

static void t_tls_handshake_failed(void **st)
{
    (void)st;
    FX;
    hs_fail(x);
    x->tls.alert_received = 40;
    snprintf(x->tls.alert_name, sizeof x->tls.alert_name, "handshake_failure");
    run(x);
    const struct mxs_finding *f = must(x, "tls-handshake-failed", MXS_SEV_ERROR,
                                       MXS_STEP_HANDSHAKE);
    has(f->evidence, "handshake_failure(40)");
    has(f->evidence, "-0x7780");
    has(f->evidence, "fatal alert message");
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_CLEAR, MXS_STEP_HANDSHAKE, "tls-handshake-failed");
    has(x->v[MXS_POL_OPPORTUNISTIC].words, "retries");
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_NOT_DELIVERED, MXS_STEP_HANDSHAKE, "tls-handshake-failed");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_NOT_DELIVERED, MXS_STEP_HANDSHAKE, "tls-handshake-failed");
    /* Implicit TLS: no clear fallback. */
    x->set.tls_on_connect = 1;
    run(x);
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_NOT_DELIVERED, MXS_STEP_HANDSHAKE,
            "tls-handshake-failed");
    DONE;
}

static void t_tls_no_common_version(void **st)
{
    (void)st;
    FX;
    hs_fail(x);
    x->tls.alert_received = 70;
    snprintf(x->tls.alert_name, sizeof x->tls.alert_name, "protocol_version");
    run(x);
    has(must(x, "tls-no-common-version", MXS_SEV_ERROR, MXS_STEP_HANDSHAKE)->evidence,
        "protocol_version(70)");
    assert_null(find_d(x, "tls-handshake-failed", -2));
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_NOT_DELIVERED, MXS_STEP_HANDSHAKE, "tls-no-common-version");
    /* Server picks 1.2 while we demand 1.3. */
    x->tls.alert_received = -1;
    x->tls.alert_name[0] = 0;
    x->tls.server_hello_version = 12;
    x->set.tls_min = 13;
    run(x);
    has(must(x, "tls-no-common-version", MXS_SEV_ERROR, MXS_STEP_HANDSHAKE)->message,
        "TLS 1.2");
    DONE;
}

static void t_tls_obsolete_only(void **st)
{
    (void)st;
    FX;
    hs_fail(x);
    x->tls.server_hello_version = 10;
    run(x);
    const struct mxs_finding *f = must(x, "tls-obsolete-only", MXS_SEV_ERROR, MXS_STEP_HANDSHAKE);
    has(f->message, "TLS 1.0");
    has(f->evidence, "ServerHello version: TLS 1.0");
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_CLEAR, MXS_STEP_HANDSHAKE, "tls-obsolete-only");
    x->tls.server_hello_version = 11;
    run(x);
    has(must(x, "tls-obsolete-only", MXS_SEV_ERROR, MXS_STEP_HANDSHAKE)->message, "TLS 1.1");
    DONE;
}

static void t_tls_client_cert_required(void **st)
{
    (void)st;
    FX;
    hs_fail(x);
    x->tls.cert_requested = 1;
    x->tls.alert_received = 116;
    run(x);
    const struct mxs_finding *f = must(x, "tls-client-cert-required", MXS_SEV_ERROR,
                                       MXS_STEP_HANDSHAKE);
    has(f->evidence, "certificate_required(116)");
    has(f->message, "certificate_required(116)");
    has(f->evidence, "CertificateRequest");
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_NOT_DELIVERED, MXS_STEP_HANDSHAKE,
            "tls-client-cert-required");
    /* bad_certificate after a CertificateRequest. */
    x->tls.alert_received = 42;
    run(x);
    has(must(x, "tls-client-cert-required", MXS_SEV_ERROR, MXS_STEP_HANDSHAKE)->evidence,
        "bad_certificate(42)");
    DONE;
}

/* Postfix smtpd_tls_req_ccert over TLS 1.3: the handshake completes, the
 * post-TLS EHLO is refused. */
static void t_tls_client_cert_after_handshake(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_EHLO2, MXS_ST_FAIL);
    x->tls.cert_requested = 1;
    set_reply(&x->smtp.ehlo2, 421, "4.7.1 mx Error: No client certificate presented");
    run(x);
    const struct mxs_finding *f = must(x, "tls-client-cert-required", MXS_SEV_ERROR,
                                       MXS_STEP_HANDSHAKE);
    has(f->evidence, "No client certificate presented");
    for (int p = MXS_POL_OPPORTUNISTIC; p <= MXS_POL_VERIFIED; p++)
        verdict(x, (enum mxs_policy)p, MXS_OUT_NOT_DELIVERED, MXS_STEP_HANDSHAKE,
                "tls-client-cert-required");
    /* with our certificate sent, a refused EHLO is something else */
    x->tls.client_cert_sent = 1;
    run(x);
    assert_null(find_d(x, "tls-client-cert-required", -1));
    DONE;
}

/* ---- CHAIN -------------------------------------------------------------------- */

static void t_cert_expired(void **st)
{
    (void)st;
    FX;
    x->chain.cert[0].not_after = NOW - 10 * DAY; /* 2023-11-04T22:13:20Z */
    x->chain.cert[0].days_left = -10;
    x->chain.cert[0].verify_flags = MXS_V_EXPIRED;
    x->chain.verify_result = MXS_V_EXPIRED;
    x->in.state[MXS_STEP_CHAIN] = MXS_ST_FAIL;
    run(x);
    const struct mxs_finding *f = must(x, "cert-expired", MXS_SEV_ERROR, MXS_STEP_CHAIN);
    assert_int_equal(f->cert_depth, 0);
    has(f->message, "2023-11-04T22:13:20Z");
    has(f->evidence, "2023-11-04T22:13:20Z");
    has(f->evidence, "not after 2023-11-04T22:13:20Z (-10 days left)");
    has(f->message, "(-10 days left)");
    has(f->evidence, LEAF_SHA1);
    has(f->advice, "Enable-ExchangeCertificate");
    assert_null(find_d(x, "cert-expiring-soon", -2));
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_NOT_DELIVERED, MXS_STEP_CHAIN, "cert-expired");
    DONE;
}

static void t_cert_not_yet_valid(void **st)
{
    (void)st;
    FX;
    x->chain.cert[0].not_before = NOW + 2 * DAY;
    x->chain.cert[0].verify_flags = MXS_V_FUTURE;
    run(x);
    const struct mxs_finding *f = must(x, "cert-not-yet-valid", MXS_SEV_ERROR, MXS_STEP_CHAIN);
    has(f->evidence, "2023-11-16T22:13:20Z");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_NOT_DELIVERED, MXS_STEP_CHAIN, "cert-not-yet-valid");
    DONE;
}

static void t_cert_expiring_soon(void **st)
{
    (void)st;
    FX;
    x->chain.cert[0].not_after = NOW + 12 * DAY + 3600; /* 2023-11-26T23:13:20Z */
    x->chain.cert[0].days_left = 12;
    run(x);
    const struct mxs_finding *f = must(x, "cert-expiring-soon", MXS_SEV_WARNING, MXS_STEP_CHAIN);
    has(f->message, "2023-11-26T23:13:20Z");
    has(f->message, "12 days");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    has(x->v[MXS_POL_VERIFIED].words, "12 days");
    /* Without a reference time, days_left decides. */
    x->in.now = 0;
    x->chain.cert[0].days_left = -2;
    run(x);
    must(x, "cert-expired", MXS_SEV_ERROR, MXS_STEP_CHAIN);
    x->in.now = NOW;
    x->chain.cert[0].days_left = 12;
    /* The threshold follows the setting. */
    x->set.expiry_warn_days = 10;
    run(x);
    assert_null(find_d(x, "cert-expiring-soon", -2));
    DONE;
}

static void t_cert_name_mismatch(void **st)
{
    (void)st;
    FX;
    x->chain.name_matches_mx = 0;
    x->chain.name_matches_domain = 1;
    snprintf(x->chain.cert[0].san[0], sizeof x->chain.cert[0].san[0], "example.test");
    snprintf(x->chain.cert[0].san[1], sizeof x->chain.cert[0].san[1], "www.example.test");
    x->chain.cert[0].n_san = x->chain.cert[0].n_san_total = 2;
    x->chain.cert[0].verify_flags = MXS_V_NAME;
    run(x);
    const struct mxs_finding *f = must(x, "cert-name-mismatch", MXS_SEV_ERROR, MXS_STEP_CHAIN);
    has(f->message, "mx.example.test");
    has(f->evidence, "example.test, www.example.test");
    has(f->evidence, "IS covered");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_NOT_DELIVERED, MXS_STEP_CHAIN, "cert-name-mismatch");
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    x->chain.name_matches_domain = 0;
    run(x);
    has(find_d(x, "cert-name-mismatch", 0)->evidence, "is not either");
    DONE;
}

static void t_cert_self_signed(void **st)
{
    (void)st;
    FX;
    x->chain.n = 1;
    make_cert(&x->chain.cert[0], 0, "CN=mx.example.test", "CN=mx.example.test", LEAF_SHA1);
    x->chain.cert[0].verify_flags = MXS_V_NOT_TRUSTED;
    x->chain.trusted = 0;
    run(x);
    const struct mxs_finding *f = must(x, "cert-self-signed", MXS_SEV_ERROR, MXS_STEP_CHAIN);
    has(f->evidence, LEAF_SHA1);
    assert_null(find_d(x, "chain-incomplete", -2));
    assert_null(find_d(x, "cert-untrusted-root", -2));
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_NOT_DELIVERED, MXS_STEP_CHAIN, "cert-self-signed");
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    DONE;
}

static void t_cert_untrusted_root(void **st)
{
    (void)st;
    FX;
    make_cert(&x->chain.cert[1], 1, "CN=Corp Root CA", "CN=Corp Root CA", INT_SHA1);
    x->chain.cert[1].is_ca = 1;
    snprintf(x->chain.cert[0].issuer, sizeof x->chain.cert[0].issuer, "CN=Corp Root CA");
    x->chain.trusted = 0;
    run(x);
    const struct mxs_finding *f = must(x, "cert-untrusted-root", MXS_SEV_ERROR, MXS_STEP_CHAIN);
    assert_int_equal(f->cert_depth, 1);
    has(f->message, "CN=Corp Root CA");
    has(f->evidence, INT_SHA1);
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_NOT_DELIVERED, MXS_STEP_CHAIN, "cert-untrusted-root");
    DONE;
}

static void t_chain_incomplete(void **st)
{
    (void)st;
    FX;
    x->chain.n = 1;
    x->chain.trusted = 0;
    x->chain.cert[0].verify_flags = MXS_V_NOT_TRUSTED;
    run(x);
    const struct mxs_finding *f = must(x, "chain-incomplete", MXS_SEV_ERROR, MXS_STEP_CHAIN);
    assert_int_equal(f->cert_depth, 0);
    has(f->message, "CN=Test Intermediate CA");
    has(f->advice, "smtpd_tls_chain_files");
    has(f->advice, "Intermediate Certification Authorities");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_NOT_DELIVERED, MXS_STEP_CHAIN, "chain-incomplete");
    DONE;
}

static void t_chain_order(void **st)
{
    (void)st;
    FX;
    x->chain.n = 3;
    make_cert(&x->chain.cert[1], 1, "CN=Test Root CA", "CN=Test Root CA", "11");
    make_cert(&x->chain.cert[2], 2, "CN=Test Intermediate CA", "CN=Test Root CA", INT_SHA1);
    run(x);
    const struct mxs_finding *f = must(x, "chain-order", MXS_SEV_WARNING, MXS_STEP_CHAIN);
    assert_int_equal(f->cert_depth, 1);
    has(f->evidence, "certificate 1: CN=Test Root CA");
    has(f->message, "certificate 2 (CN=Test Intermediate CA) is the issuer of certificate 0 "
        "but is sent at position 2, not 1");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    DONE;
}

/* Issue 14: a path deeper than Postfix's smtp_tls_scert_verifydepth (9)
 * is a warning naming the count; 10 certificates (anchor at depth 9) is
 * not.  Without the engine's count (a session from an older file) the
 * name walk over the certificates kept decides. */
static void t_chain_too_long(void **st)
{
    (void)st;
    FX;
    x->chain.path_len = 12;
    x->chain.n_total = 12;
    run(x);
    const struct mxs_finding *f = must(x, "chain-too-long", MXS_SEV_WARNING, MXS_STEP_CHAIN);
    has(f->message, "12 certificates long (the trust anchor at depth 11)");
    has(f->message, "limit(10)");
    has(f->evidence, "certificates sent: 12");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    x->chain.path_len = 10;
    run(x);
    assert_null(find_d(x, "chain-too-long", -2));
    x->chain.path_len = 0;       /* not known: leaf + intermediate by names */
    run(x);
    assert_null(find_d(x, "chain-too-long", -2));
    DONE;
}

/* Leaf, root, intermediate, untrusted: the path by names ends at the root
 * sent at position 1: an untrusted root there, never chain-incomplete. */
static void t_chain_incomplete_only_when_absent(void **st)
{
    (void)st;
    FX;
    x->chain.n = 3;
    x->chain.trusted = 0;
    make_cert(&x->chain.cert[1], 1, "CN=Test Root CA", "CN=Test Root CA", "11");
    x->chain.cert[1].is_ca = 1;
    make_cert(&x->chain.cert[2], 2, "CN=Test Intermediate CA", "CN=Test Root CA", INT_SHA1);
    run(x);
    assert_null(find_d(x, "chain-incomplete", -2));
    const struct mxs_finding *f = must(x, "cert-untrusted-root", MXS_SEV_ERROR, MXS_STEP_CHAIN);
    assert_int_equal(f->cert_depth, 1);
    must(x, "chain-order", MXS_SEV_WARNING, MXS_STEP_CHAIN);
    DONE;
}

/* A repeated intermediate: chain-order names the repeat, filed at it. */
static void t_chain_repeat(void **st)
{
    (void)st;
    FX;
    x->chain.n = 3;
    x->chain.cert[2] = x->chain.cert[1];
    x->chain.cert[2].depth = 2;
    run(x);
    const struct mxs_finding *f = must(x, "chain-order", MXS_SEV_WARNING, MXS_STEP_CHAIN);
    assert_int_equal(f->cert_depth, 2);
    has(f->message, "certificate 2 repeats certificate 1");
    has(f->evidence, "(repeat)");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    DONE;
}

static void t_cert_weak_key_sig_eku(void **st)
{
    (void)st;
    FX;
    x->chain.cert[0].key_bits = 1024;
    x->chain.cert[0].verify_flags = MXS_V_BAD_KEY;
    x->chain.cert[1].sig_weak = 1;
    snprintf(x->chain.cert[1].sig_alg, sizeof x->chain.cert[1].sig_alg, "RSA with SHA1");
    x->chain.cert[1].verify_flags = MXS_V_BAD_MD;
    x->chain.cert[0].eku = MXS_EKU_CLIENT;
    run(x);
    const struct mxs_finding *k = must(x, "cert-weak-key", MXS_SEV_ERROR, MXS_STEP_CHAIN);
    assert_int_equal(k->cert_depth, 0);
    has(k->evidence, "RSA 1024 bits");
    const struct mxs_finding *s = must(x, "cert-weak-signature", MXS_SEV_ERROR, MXS_STEP_CHAIN);
    assert_int_equal(s->cert_depth, 1);
    has(s->evidence, "RSA with SHA1");
    const struct mxs_finding *e = must(x, "cert-not-server-auth", MXS_SEV_ERROR, MXS_STEP_CHAIN);
    has(e->evidence, "clientAuth");
    assert_int_equal(x->v[MXS_POL_VERIFIED].outcome, MXS_OUT_NOT_DELIVERED);
    free(x);

    /* Weak but not rejected by the verifier: only warnings. */
    x = good_fx();
    x->chain.cert[0].key_bits = 1024;
    x->chain.cert[0].sig_weak = 1;
    run(x);
    must(x, "cert-weak-key", MXS_SEV_WARNING, MXS_STEP_CHAIN);
    must(x, "cert-weak-signature", MXS_SEV_WARNING, MXS_STEP_CHAIN);
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    /* EKU flag from the verifier alone. */
    x->chain.cert[0].verify_flags = MXS_V_EXT_KEY_USAGE;
    run(x);
    must(x, "cert-not-server-auth", MXS_SEV_ERROR, MXS_STEP_CHAIN);
    DONE;
}

static void t_cert_verify_other(void **st)
{
    (void)st;
    FX;
    x->chain.cert[0].verify_flags = MXS_V_REVOKED;
    run(x);
    must(x, "cert-verify-failed", MXS_SEV_ERROR, MXS_STEP_CHAIN);
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_NOT_DELIVERED, MXS_STEP_CHAIN, "cert-verify-failed");
    DONE;
}

static void t_fingerprint_mismatch(void **st)
{
    (void)st;
    FX;
    snprintf(x->set.expect_fp, sizeof x->set.expect_fp, "9999999999AAAAAAAAAABBBBBBBBBBCCCCCCCCCC");
    x->chain.fp_expected = 1;
    x->chain.fp_match = 0;
    run(x);
    const struct mxs_finding *f = must(x, "fingerprint-mismatch", MXS_SEV_ERROR, MXS_STEP_CHAIN);
    has(f->message, "9999999999AAAAAAAAAABBBBBBBBBBCCCCCCCCCC");
    has(f->message, LEAF_SHA1);
    has(f->evidence, "expected: 9999999999AAAAAAAAAABBBBBBBBBBCCCCCCCCCC");
    has(f->evidence, LEAF_SHA1);
    has(f->evidence, LEAF_SHA256);
    has(f->advice, "Enable-ExchangeCertificate -Thumbprint <new> -Services SMTP");
    has(f->advice, "smtpd_tls_chain_files");
    has(f->advice, "<new> is 9999999999AAAAAAAAAABBBBBBBBBBCCCCCCCCCC");
    /* The expected thumbprint is the operator's check, not a sender policy
     * (issue: a PKIX sender delivers to the old, valid certificate). */
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    /* Pin matches: nothing. */
    x->chain.fp_match = 1;
    run(x);
    assert_null(find_d(x, "fingerprint-mismatch", -2));
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    DONE;
}

/* Certificate names in the evidence of chain-order, fingerprint-mismatch,
 * cert-untrusted-root and cert-dual-differs: raw with their whole length
 * (core.h), escaped once like cert_ident's: a NUL is "\x00" and what follows
 * it stays, a cut name says its length (issue 14: never lose a name
 * silently; they were cut at the NUL, and a cut had no marker). */
static void t_cert_names_whole_in_evidence(void **st)
{
    (void)st;
    FX;
    static const char nul_name[] = "CN=mx\0evil";     /* 11 bytes, a NUL inside */
    struct mxs_cert *leaf = &x->chain.cert[0];
    memcpy(leaf->subject, nul_name, sizeof nul_name);
    leaf->subject_len = sizeof nul_name - 1;
    snprintf(x->set.expect_fp, sizeof x->set.expect_fp, "9999999999AAAAAAAAAABBBBBBBBBBCCCCCCCCCC");
    x->chain.fp_expected = 1;
    x->chain.fp_match = 0;
    /* Wrong order: the intermediate at position 2; at position 1 a
     * certificate whose subject was cut (the field full, 5,000 bytes). */
    x->chain.n = 3;
    make_cert(&x->chain.cert[1], 1, "CN=Test Root CA", "CN=Test Root CA", "11");
    make_cert(&x->chain.cert[2], 2, "CN=Test Intermediate CA", "CN=Test Root CA", INT_SHA1);
    memset(x->chain.cert[1].subject, 'r', sizeof x->chain.cert[1].subject - 1);
    x->chain.cert[1].subject[sizeof x->chain.cert[1].subject - 1] = 0;
    x->chain.cert[1].subject_len = 5000;
    run(x);
    const struct mxs_finding *f = must(x, "fingerprint-mismatch", MXS_SEV_ERROR, MXS_STEP_CHAIN);
    has(f->evidence, "served subject CN=mx\\x00evil");
    f = must(x, "chain-order", MXS_SEV_WARNING, MXS_STEP_CHAIN);
    has(f->evidence, "certificate 0: CN=mx\\x00evil");
    has(f->evidence, "rrrr\xe2\x80\xa6 (5000 bytes, cut)");
    DONE;
}

static void t_every_cert_listed(void **st)
{
    (void)st;
    FX;
    for (int i = 0; i < 2; i++) {
        x->chain.cert[i].not_after = NOW - 3 * DAY;
        x->chain.cert[i].days_left = -3;
        x->chain.cert[i].verify_flags = MXS_V_EXPIRED;
    }
    x->chain.cert[1].key_bits = 1024; /* warning only */
    x->smtp.banner_ms = 5000;         /* warning at an earlier step */
    run(x);
    assert_non_null(find_d(x, "cert-expired", 0));
    assert_non_null(find_d(x, "cert-expired", 1));
    assert_non_null(find_d(x, "cert-weak-key", 1));
    /* Errors first within CHAIN, steps in order. */
    assert_string_equal(x->f[0].id, "banner-slow");
    assert_int_equal(x->f[1].severity, MXS_SEV_ERROR);
    assert_int_equal(x->f[x->n - 1].severity, MXS_SEV_WARNING);
    DONE;
}

static void t_small_out_keeps_verdicts(void **st)
{
    (void)st;
    FX;
    x->smtp.banner_ms = 5000;
    x->chain.cert[0].verify_flags = MXS_V_EXPIRED;
    x->chain.cert[0].not_after = NOW - DAY;
    x->chain.cert[0].days_left = -1;
    x->n = diag_run(&x->in, x->f, 1, x->v);
    assert_int_equal(x->n, 1);
    assert_string_equal(x->f[0].id, "cert-expired"); /* the error displaced the warning */
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_NOT_DELIVERED, MXS_STEP_CHAIN, "cert-expired");
    x->n = diag_run(&x->in, NULL, 0, x->v);
    assert_int_equal(x->n, 0);
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_NOT_DELIVERED, MXS_STEP_CHAIN, "cert-expired");
    DONE;
}

/* ---- EHLO2, fallback, NULL facts -------------------------------------------------- */

static void t_ehlo2_caps_changed(void **st)
{
    (void)st;
    FX;
    x->smtp.caps_changed = 1;
    add_cap(&x->smtp.caps2, "AUTH");
    run(x);
    const struct mxs_finding *f = must(x, "ehlo2-capabilities-changed", MXS_SEV_WARNING,
                                       MXS_STEP_EHLO2);
    has(f->evidence, "+AUTH");
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    DONE;
}

static void t_fallback_and_ehlo2_rejected(void **st)
{
    (void)st;
    FX;
    x->in.state[MXS_STEP_EHLO2] = MXS_ST_FAIL;
    x->in.timed_out[MXS_STEP_EHLO2] = 1;
    memset(&x->smtp.ehlo2, 0, sizeof x->smtp.ehlo2);
    run(x);
    must(x, "ehlo2-timeout", MXS_SEV_ERROR, MXS_STEP_EHLO2);
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_NOT_DELIVERED, MXS_STEP_EHLO2, "ehlo2-timeout");
    x->in.timed_out[MXS_STEP_EHLO2] = 0;
    set_reply(&x->smtp.ehlo2, 554, "5.5.1 no");
    run(x);
    has(must(x, "ehlo2-rejected", MXS_SEV_ERROR, MXS_STEP_EHLO2)->evidence, "554 5.5.1 no");
    assert_null(find_d(x, "ehlo2-failed", -2));
    DONE;
}

/* A completed handshake without a certificate, and CHAIN marked FAIL with
 * no flag to explain it (the fallback, with the generic advice). */
static void t_chain_empty_and_failed(void **st)
{
    (void)st;
    FX;
    x->in.state[MXS_STEP_CHAIN] = MXS_ST_FAIL;
    run(x);
    const struct mxs_finding *f = must(x, "chain-failed", MXS_SEV_ERROR, MXS_STEP_CHAIN);
    has(f->advice, "If it is your server: check the MTA log at the time of this test.");
    has(f->advice, DIAG_ADVICE_THIRD "send this report (mxscope `report`)");
    has(f->advice, "deliver to example.test with opportunistic TLS");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_NOT_DELIVERED, MXS_STEP_CHAIN, "chain-failed");
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    x->in.timed_out[MXS_STEP_CHAIN] = 1; /* no chain-timeout: still chain-failed */
    run(x);
    must(x, "chain-failed", MXS_SEV_ERROR, MXS_STEP_CHAIN);
    x->in.timed_out[MXS_STEP_CHAIN] = 0;
    memset(&x->chain, 0, sizeof x->chain);
    run(x);
    has(must(x, "chain-empty", MXS_SEV_ERROR, MXS_STEP_CHAIN)->evidence, "0 certificates");
    assert_null(find_d(x, "chain-failed", -2));
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_NOT_DELIVERED, MXS_STEP_CHAIN, "chain-empty");
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    DONE;
}

static void t_null_facts(void **st)
{
    (void)st;
    struct diag_input in;
    struct mxs_verdict v[MXS_POL_COUNT];
    struct mxs_finding f[8];
    memset(&in, 0, sizeof in);
    assert_int_equal(diag_run(&in, f, 8, v), 0);
    for (int p = 0; p < MXS_POL_COUNT; p++)
        assert_int_equal(v[p].outcome, MXS_OUT_NOT_EVALUATED);
    /* A FAIL with no facts still gets a finding behind the verdict. */
    in.state[MXS_STEP_RESOLVE] = MXS_ST_FAIL;
    snprintf(in.step_error[MXS_STEP_RESOLVE], sizeof in.step_error[0], "no resolver");
    int n = diag_run(&in, f, 8, v);
    assert_int_equal(n, 1);
    assert_string_equal(f[0].id, "dns-failed");
    assert_non_null(strstr(f[0].evidence, "no resolver"));
    assert_string_equal(v[MXS_POL_REQUIRED].finding, "dns-failed");
}

/* ---- hostile text, report ------------------------------------------------------------ */

static void t_hostile_banner_escaped(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_BANNER, MXS_ST_FAIL);
    set_reply(&x->smtp.banner, 554, "5.7.1 \x1b[2J\x1b]0;pwned\x07 go away \xe2\x80\xae");
    run(x);
    const struct mxs_finding *f = must(x, "banner-rejected", MXS_SEV_ERROR, MXS_STEP_BANNER);
    assert_null(strchr(f->evidence, 0x1b));
    assert_null(strchr(f->message, 0x1b));
    has(f->evidence, "go away");
    DONE; /* findings_printable: no raw control or non-ASCII byte anywhere */
}

static void report(struct fx *x, struct buf *b)
{
    buf_init(b, 1 << 20);
    diag_report(&x->in, x->f, x->n, x->v, NOW, "probe.sender.test", b);
    assert_false(b->failed);
    assert_non_null(b->data);
}

static void t_report_fingerprint(void **st)
{
    (void)st;
    FX;
    snprintf(x->set.expect_fp, sizeof x->set.expect_fp, "9999999999AAAAAAAAAABBBBBBBBBBCCCCCCCCCC");
    x->chain.fp_expected = 1;
    x->smtp.banner_ms = 4000; /* a warning at an earlier step */
    run(x);
    struct buf b;
    report(x, &b);
    has(b.data, "Subject: ");
    /* Errors come first in the report, whatever their step. */
    assert_non_null(strstr(b.data, "* [error] fingerprint-mismatch"));
    assert_true(strstr(b.data, "* [error] fingerprint-mismatch") <
                strstr(b.data, "* [warning] banner-slow"));
    has(b.data, "fingerprint-mismatch");
    has(b.data, "9999999999AAAAAAAAAABBBBBBBBBBCCCCCCCCCC");
    has(b.data, LEAF_SHA1);
    has(b.data, LEAF_SHA256);
    has(b.data, "2023-11-14T22:13:20Z");    /* when */
    has(b.data, "probe.sender.test");       /* from */
    has(b.data, "mx.example.test");
    has(b.data, "127.0.0.1 port 25");
    has(b.data, "verified       delivered-encrypted");
    has(b.data, "Enable-ExchangeCertificate");
    /* The receiving side gets their fix, not our workaround. */
    assert_null(strstr(b.data, "If it is a third party"));
    all_printable(b.data, b.len);
    buf_free(&b);
    DONE;
}

static void t_report_hostile_banner(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_BANNER, MXS_ST_FAIL);
    set_reply(&x->smtp.banner, 554, "\x1b[31mblocked\x1b[0m\r\nX");
    snprintf(x->dns.mx[0].host, sizeof x->dns.mx[0].host, "mx\x1b[1m.example.test");
    x->in.mx_host = x->dns.mx[0].host;
    run(x);
    struct buf b;
    report(x, &b);
    has(b.data, "banner-rejected at BANNER");
    has(b.data, "blocked");
    assert_null(memchr(b.data, 0x1b, b.len));
    assert_null(memchr(b.data, '\r', b.len));
    all_printable(b.data, b.len);
    buf_free(&b);
    DONE;
}

static void t_report_good(void **st)
{
    (void)st;
    FX;
    run(x);
    struct buf b;
    report(x, &b);
    has(b.data, "no problem found");
    has(b.data, "delivered-encrypted");
    all_printable(b.data, b.len);
    buf_free(&b);
    /* Without a known sending address the From line says so: it is never
     * made up from the EHLO name, which is shown as what it is. */
    buf_init(&b, 1 << 20);
    diag_report(&x->in, x->f, x->n, x->v, NOW, NULL, &b);
    has(b.data, "  From:         (unknown to mxscope: the host that ran the test)\n");
    has(b.data, "  EHLO name:    probe.sender.test\n");
    assert_null(strstr(b.data, "From:         probe.sender.test"));
    buf_free(&b);
    DONE;
}

/* ---- several MX hosts ------------------------------------------------------------------ */

static void t_compare(void **st)
{
    (void)st;
    struct fx *a = good_fx(), *b = good_fx();
    snprintf(b->chain.cert[0].sha1, sizeof b->chain.cert[0].sha1, "%s", INT_SHA1);
    struct diag_probe p[2] = {
        {"mx1.example.test", "127.0.0.1", &a->smtp, &a->tls, &a->chain},
        {"mx2.example.test", "127.0.0.2", &b->smtp, &b->tls, &b->chain}};
    struct mxs_finding f[4];
    int n = diag_compare(p, 2, f, 4);
    assert_int_equal(n, 1);
    filed_from_rows(f, n);
    assert_string_equal(f[0].id, "mx-hosts-disagree");
    assert_int_equal(f[0].step, MXS_STEP_CHAIN);
    has(f[0].evidence, LEAF_SHA1);
    has(f[0].evidence, INT_SHA1);
    has(f[0].evidence, "127.0.0.2");
    /* Identical probes agree. */
    p[1].chain = &a->chain;
    assert_int_equal(diag_compare(p, 2, f, 4), 0);
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_tls_handshake_failed),
        cmocka_unit_test(t_tls_no_common_version),
        cmocka_unit_test(t_tls_obsolete_only),
        cmocka_unit_test(t_tls_client_cert_required),
        cmocka_unit_test(t_tls_client_cert_after_handshake),
        cmocka_unit_test(t_cert_expired),
        cmocka_unit_test(t_cert_not_yet_valid),
        cmocka_unit_test(t_cert_expiring_soon),
        cmocka_unit_test(t_cert_name_mismatch),
        cmocka_unit_test(t_cert_self_signed),
        cmocka_unit_test(t_cert_untrusted_root),
        cmocka_unit_test(t_chain_incomplete),
        cmocka_unit_test(t_chain_order),
        cmocka_unit_test(t_chain_too_long),
        cmocka_unit_test(t_chain_incomplete_only_when_absent),
        cmocka_unit_test(t_chain_repeat),
        cmocka_unit_test(t_cert_weak_key_sig_eku),
        cmocka_unit_test(t_cert_verify_other),
        cmocka_unit_test(t_fingerprint_mismatch),
        cmocka_unit_test(t_cert_names_whole_in_evidence),
        cmocka_unit_test(t_every_cert_listed),
        cmocka_unit_test(t_small_out_keeps_verdicts),
        cmocka_unit_test(t_ehlo2_caps_changed),
        cmocka_unit_test(t_fallback_and_ehlo2_rejected),
        cmocka_unit_test(t_chain_empty_and_failed),
        cmocka_unit_test(t_null_facts),
        cmocka_unit_test(t_hostile_banner_escaped),
        cmocka_unit_test(t_report_fingerprint),
        cmocka_unit_test(t_report_hostile_banner),
        cmocka_unit_test(t_report_good),
        cmocka_unit_test(t_compare),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
