/*
 * test_diag_dane.c - DANE over time (check_dane.c) from hand-built facts:
 * the per-record matches the engine found (mxs_chain_facts.dane_rr[]) judged
 * for the renewal to come (dane-next-key-missing, dane-full-cert,
 * dane-ta-not-issuer), for --days N (dane-days), and an MX target with an
 * underscore (mx-target-underscore), and a dual RSA + ECDSA server whose
 * second chain no record authenticates (dane-second-cert-unmatched).  The
 * same findings against the test world: tests/integration/dane_time.sh,
 * dane_dual.sh.
 * Owner: diagnosis.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "diagfx.h"

#define SPKI "5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A5A"

/* Secure MX and TLSA, and n records each with what it matched (depth, ok). */
struct rr { int usage, selector, mtype, depth, ok; };
static void rr_fill(struct mxs_dane_rr *d, const struct rr *r)
{
    memset(d, 0, sizeof *d);
    d->usable = 1;
    d->match_depth = r->depth;
    d->ok = r->ok;
    if (!d->ok)
        snprintf(d->why, sizeof d->why, "matches none of the certificates sent");
}

static void dane_fx(struct fx *x, const struct rr *r, int n)
{
    struct mxs_mx *m = &x->dns.mx[0];
    x->dns.mx_answer.dnssec = MXS_DNSSEC_SECURE;
    m->tlsa.rcode = MXS_DNS_OK;
    m->tlsa.dnssec = MXS_DNSSEC_SECURE;
    snprintf(m->tlsa_name, sizeof m->tlsa_name, "_25._tcp.mx.example.test");
    snprintf(x->chain.cert[0].spki_sha256, sizeof x->chain.cert[0].spki_sha256, SPKI);
    m->n_tlsa = x->chain.n_dane_rr = n;
    x->chain.dane_checked = 1;
    x->chain.dane_usable = x->chain.dane_match = 0;
    x->chain.dane_match_rr = x->chain.dane_match_depth = -1;
    for (int i = 0; i < n; i++) {
        m->tlsa_rr[i] = (struct mxs_tlsa){ .usage = (uint8_t)r[i].usage,
            .selector = (uint8_t)r[i].selector, .mtype = (uint8_t)r[i].mtype, .len = 32 };
        m->tlsa_rr[i].data[0] = (uint8_t)(0x10 + i);
        struct mxs_dane_rr *d = &x->chain.dane_rr[i];
        rr_fill(d, &r[i]);
        x->chain.dane_usable++;
        if (d->ok && !x->chain.dane_match) {
            x->chain.dane_match = 1;
            x->chain.dane_match_rr = i;
            x->chain.dane_match_depth = d->match_depth;
        }
    }
}

static void leaf_days(struct fx *x, int days)
{
    x->chain.cert[0].not_after = NOW + (int64_t)days * DAY;
    x->chain.cert[0].days_left = days;
}

static void t_next_key(void **st)
{
    (void)st;
    FX;
    dane_fx(x, (const struct rr[]){ { 3, 1, 1, 0, 1 } }, 1);
    leaf_days(x, 20);
    run(x);
    const struct mxs_finding *f = must(x, "dane-next-key-missing", MXS_SEV_WARNING, MXS_STEP_CHAIN);
    has(f->message, "expires in 20 days");
    has(f->evidence, "keep: 3 1 1 " SPKI);
    has(f->advice, "keep `3 1 1 " SPKI "`");
    verdict(x, MXS_POL_DANE, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    /* outside the warning window: nothing to say yet */
    leaf_days(x, 31);
    run(x);
    assert_null(find_d(x, "dane-next-key-missing", -2));
    /* the next key's record published beside it: prepared */
    dane_fx(x, (const struct rr[]){ { 3, 1, 1, 0, 1 }, { 3, 1, 1, -1, 0 } }, 2);
    leaf_days(x, 20);
    run(x);
    assert_null(find_d(x, "dane-next-key-missing", -2));
    /* a DANE-TA record that authenticates too: a new key under the same CA works */
    dane_fx(x, (const struct rr[]){ { 3, 1, 1, 0, 1 }, { 2, 0, 1, 1, 1 } }, 2);
    run(x);
    assert_null(find_d(x, "dane-next-key-missing", -2));
    /* TLSA records that do not bind (insecure): no lifecycle finding */
    dane_fx(x, (const struct rr[]){ { 3, 1, 1, 0, 1 } }, 1);
    x->dns.mx[0].tlsa.dnssec = MXS_DNSSEC_INSECURE;
    run(x);
    assert_null(find_d(x, "dane-next-key-missing", -2));
    DONE;
}

static void t_full_cert_and_foreign_ta(void **st)
{
    (void)st;
    FX;
    dane_fx(x, (const struct rr[]){ { 3, 0, 1, 0, 1 }, { 3, 1, 1, 0, 1 } }, 2);
    run(x);
    has(must(x, "dane-full-cert", MXS_SEV_WARNING, MXS_STEP_CHAIN)->message, "(3 0 1 10");
    assert_null(find_d(x, "dane-ta-not-issuer", -2));
    /* a 2 0 1 no certificate sent matches, beside a good 3 1 1: stale */
    dane_fx(x, (const struct rr[]){ { 2, 0, 1, -1, 0 }, { 3, 1, 1, 0, 1 } }, 2);
    run(x);
    const struct mxs_finding *f = must(x, "dane-ta-not-issuer", MXS_SEV_WARNING, MXS_STEP_CHAIN);
    has(f->message, "stale record");
    has(f->evidence, "certificate 1 issued by CN=Test Root CA");
    assert_null(find_d(x, "dane-full-cert", -2));
    verdict(x, MXS_POL_DANE, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    /* alone: dane-mismatch is the error, this finding says which record */
    dane_fx(x, (const struct rr[]){ { 2, 0, 1, -1, 0 } }, 1);
    x->chain.dane_match = 0;
    run(x);
    has(must(x, "dane-ta-not-issuer", MXS_SEV_WARNING, MXS_STEP_CHAIN)->message,
        "No other record authenticates");
    has(must(x, "dane-mismatch", MXS_SEV_ERROR, MXS_STEP_CHAIN)->evidence,
        "TLSA 2 0 1 10");
    verdict(x, MXS_POL_DANE, MXS_OUT_NOT_DELIVERED, MXS_STEP_CHAIN, "dane-mismatch");
    DONE;
}

/* A dual RSA + ECDSA server: ours (ECDSA) and the second chain (RSA), each
 * record's result for the second as alt[] (depth, ok); n records as dane_fx. */
#define ALT_SPKI "A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1"
static void dual_fx(struct fx *x, const struct rr *ours, const struct rr *alt, int n)
{
    dane_fx(x, ours, n);
    snprintf(x->chain.cert[0].key_type, sizeof x->chain.cert[0].key_type, "EC");
    struct mxs_cert *a = &x->chain.alt_leaf;
    *a = x->chain.cert[0];
    snprintf(a->key_type, sizeof a->key_type, "RSA");
    snprintf(a->spki_sha256, sizeof a->spki_sha256, ALT_SPKI);
    snprintf(a->sha256, sizeof a->sha256, "%064d", 7);
    x->chain.alt_probed = x->chain.alt_ok = x->chain.alt_present = 1;
    x->chain.alt_name_matches = 1;
    x->chain.alt_dane_checked = 1;
    x->chain.alt_dane_match = 0;
    x->chain.alt_dane_match_rr = -1;
    x->chain.n_alt_dane_rr = n;
    for (int i = 0; i < n; i++) {
        struct mxs_dane_rr *d = &x->chain.alt_dane_rr[i];
        rr_fill(d, &alt[i]);
        if (d->ok && !x->chain.alt_dane_match) {
            x->chain.alt_dane_match = 1;
            x->chain.alt_dane_match_rr = i;
        }
    }
}

static void t_second_cert(void **st)
{
    (void)st;
    FX;
    /* DANE-TA: the CA of ours is named, the RSA certificate comes from
     * another CA (a 2 0 1 left for one certificate only) */
    dual_fx(x, (const struct rr[]){ { 2, 0, 1, 1, 1 } }, (const struct rr[]){ { 2, 0, 1, -1, 0 } }, 1);
    run(x);
    const struct mxs_finding *f = must(x, "dane-second-cert-unmatched", MXS_SEV_WARNING, MXS_STEP_CHAIN);
    has(f->message, "The RSA certificate that mx.example.test gives senders that offer only RSA "
        "signatures matches no TLSA record");
    has(f->message, "authenticated by TLSA 2 0 1 10");
    has(f->evidence, "TLSA 2 0 1 10");
    has(f->evidence, "ECDSA chain matches certificate 1, authenticates; RSA chain matches none");
    has(f->evidence, "RSA leaf (RSA-only handshake): SHA-256 0000000000000000000000000000000000000000000000000000000000000007");
    has(f->advice, "3 1 1 " ALT_SPKI);
    assert_null(mxs_tlsrpt_result_type(f));
    /* the verdict stays ours */
    verdict(x, MXS_POL_DANE, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    assert_null(find_d(x, "dane-mismatch", -2));
    /* a record for each: nothing to say */
    dual_fx(x, (const struct rr[]){ { 3, 1, 1, 0, 1 }, { 3, 1, 1, -1, 0 } },
            (const struct rr[]){ { 3, 1, 1, -1, 0 }, { 3, 1, 1, 0, 1 } }, 2);
    run(x);
    assert_null(find_d(x, "dane-second-cert-unmatched", -2));
    /* only the RSA one: ours fails (dane-mismatch), which names the second */
    dual_fx(x, (const struct rr[]){ { 3, 1, 1, -1, 0 } }, (const struct rr[]){ { 3, 1, 1, 0, 1 } }, 1);
    run(x);
    has(must(x, "dane-mismatch", MXS_SEV_ERROR, MXS_STEP_CHAIN)->message,
        "Its second certificate (RSA, which senders that offer only RSA get) matches TLSA record 0");
    assert_null(find_d(x, "dane-second-cert-unmatched", -2));
    verdict(x, MXS_POL_DANE, MXS_OUT_NOT_DELIVERED, MXS_STEP_CHAIN, "dane-mismatch");
    /* neither: dane-mismatch alone, both chains in its evidence */
    dual_fx(x, (const struct rr[]){ { 3, 1, 1, -1, 0 } }, (const struct rr[]){ { 3, 1, 1, -1, 0 } }, 1);
    run(x);
    f = must(x, "dane-mismatch", MXS_SEV_ERROR, MXS_STEP_CHAIN);
    has(f->evidence, "ECDSA chain matches none of the certificates sent; RSA chain matches none");
    assert_null(strstr(f->message, "second certificate"));
    assert_null(find_d(x, "dane-second-cert-unmatched", -2));
    /* records that bind nobody (TLSA not secure): nothing */
    dual_fx(x, (const struct rr[]){ { 3, 1, 1, 0, 1 } }, (const struct rr[]){ { 3, 1, 1, -1, 0 } }, 1);
    x->dns.mx[0].tlsa.dnssec = MXS_DNSSEC_INSECURE;
    run(x);
    assert_null(find_d(x, "dane-second-cert-unmatched", -2));
    /* a match index outside the records (a hostile file): no finding, no read past them */
    dual_fx(x, (const struct rr[]){ { 3, 1, 1, 0, 1 } }, (const struct rr[]){ { 3, 1, 1, -1, 0 } }, 1);
    x->chain.dane_match_rr = 5000;
    run(x);
    assert_null(find_d(x, "dane-second-cert-unmatched", -2));
    DONE;
}

/* The dane-days finding of --days N: a warning (no record sure to hold). */
static const struct mxs_finding *days_warn(struct fx *x, int n)
{
    x->set.dane_days = n;
    run(x);
    return must(x, "dane-days", MXS_SEV_WARNING, MXS_STEP_CHAIN);
}

/* The dane-days finding of --days N, filed as information (a record holds). */
static const struct mxs_finding *days_info(struct fx *x, int n)
{
    x->set.dane_days = n;
    run(x);
    const struct mxs_finding *f = find_d(x, "dane-days", -2);
    assert_non_null(f);
    assert_int_equal(f->severity, MXS_SEV_INFO);
    return f;
}

static void t_days(void **st)
{
    (void)st;
    FX;
    dane_fx(x, (const struct rr[]){ { 3, 0, 1, 0, 1 }, { 3, 1, 1, 0, 1 } }, 2);
    leaf_days(x, 60);
    run(x);
    assert_null(find_d(x, "dane-days", -2));        /* not asked */
    const struct mxs_finding *f = days_info(x, 30);
    has(f->message, "2 records hold");
    f = days_warn(x, 90);
    has(f->evidence, "TLSA 3 0 1 10");
    has(f->evidence, ": fails: the certificate expires");
    has(f->evidence, ": holds only if the renewal keeps the key");
    has(f->evidence, "reference time 2023-11-14T22:13:20Z + 90 days = 2024-02-12T22:13:20Z");
    /* DANE-TA: the CA's expiry (1000 days) decides, not the leaf's */
    dane_fx(x, (const struct rr[]){ { 2, 1, 1, 1, 1 }, { 3, 1, 1, -1, 0 } }, 2);
    f = days_info(x, 90);
    has(f->evidence, "holds if the renewed leaf");
    has(f->evidence, "TLSA 3 1 1 1100");
    has(f->evidence, "00: fails already today (matches none of the certificates sent)");
    f = days_warn(x, 1200);
    has(f->evidence, "holds only if the CA renews with the same key: certificate 1 (a CA) expires");
    has(f->message, "unless the renewal keeps the key");
    DONE;
}

static void t_mx_underscore(void **st)
{
    (void)st;
    FX;
    snprintf(x->dns.mx[0].host, sizeof x->dns.mx[0].host, "mx_1.example.test");
    run(x);
    has(must(x, "mx-target-underscore", MXS_SEV_WARNING, MXS_STEP_RESOLVE)->message,
        "mx_1.example.test contains an underscore");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    /* a host given with --host is not an MX target */
    x->set.target_is_host = 1;
    run(x);
    assert_null(find_d(x, "mx-target-underscore", -2));
    x->set.target_is_host = 0;
    /* an IP address as MX target: named (mx-target-literal), and no DANE */
    snprintf(x->dns.mx[0].host, sizeof x->dns.mx[0].host, "192.0.2.25");
    x->dns.mx[0].literal = 1;
    x->dns.mx_answer.dnssec = MXS_DNSSEC_SECURE;
    run(x);
    assert_null(find_d(x, "mx-target-underscore", -2));
    must(x, "mx-target-literal", MXS_SEV_WARNING, MXS_STEP_RESOLVE);
    has(x->v[MXS_POL_DANE].words, "the MX target is an IP address, which has no TLSA records");
    x->dns.mx[0].literal = 0;
    snprintf(x->dns.mx[0].host, sizeof x->dns.mx[0].host, "mx.example.test");
    run(x);
    assert_null(find_d(x, "mx-target-underscore", -2));
    DONE;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_next_key),
        cmocka_unit_test(t_full_cert_and_foreign_ta),
        cmocka_unit_test(t_days),
        cmocka_unit_test(t_mx_underscore),
        cmocka_unit_test(t_second_cert),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
