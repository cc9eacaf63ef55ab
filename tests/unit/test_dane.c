/*
 * test_dane.c - TLSA matching (RFC 6698 selectors and matching types) and
 * DANE-TA chain verification up to the matched anchor, on certificates made
 * at test time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <time.h>

#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>

#include "core.h"
#include "lab/labcert.h"
#include "probe/x509view.h"

static struct labcert root, mid, leaf, other;

static int setup(void **st)
{
    (void)st;
    char err[256];
    labcert_init(&root); labcert_init(&mid); labcert_init(&leaf); labcert_init(&other);
    struct labcert_spec rs = { .subject = "CN=dane root", .is_ca = 1, .max_pathlen = -1 };
    struct labcert_spec ms = { .subject = "CN=dane intermediate", .is_ca = 1, .max_pathlen = 0 };
    struct labcert_spec ls = { .subject = "CN=mx.example.test", .san = { "mx.example.test", NULL } };
    if (labcert_make(&root, &rs, NULL, err, sizeof err) || labcert_make(&mid, &ms, &root, err, sizeof err) ||
        labcert_make(&leaf, &ls, &mid, err, sizeof err) || labcert_make(&other, &ls, &root, err, sizeof err))
        return -1;
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    labcert_free(&root); labcert_free(&mid); labcert_free(&leaf); labcert_free(&other);
    return 0;
}

static void unhex(const char *h, uint8_t *out)
{
    for (size_t i = 0; h[2 * i]; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

static void test_match_selectors(void **st)
{
    (void)st;
    struct mxs_cert c;
    char err[128];
    assert_int_equal(x509view_decode(leaf.der, leaf.der_len, time(NULL), &c, err, sizeof err), 0);
    struct mxs_tlsa t = { .usage = 3, .selector = 1, .mtype = 1, .len = 32 };
    unhex(c.spki_sha256, t.data);
    assert_int_equal(x509view_tlsa_match(leaf.der, leaf.der_len, &t), 1);   /* 3 1 1 */
    assert_int_equal(x509view_tlsa_match(other.der, other.der_len, &t), 0); /* other key */
    t.data[31] ^= 1;
    assert_int_equal(x509view_tlsa_match(leaf.der, leaf.der_len, &t), 0);
    t.selector = 0;                                                         /* 3 0 1 */
    unhex(c.sha256, t.data);
    assert_int_equal(x509view_tlsa_match(leaf.der, leaf.der_len, &t), 1);
    t.mtype = 2;                                                            /* 3 0 2 */
    t.len = 64;
    assert_int_equal(mbedtls_sha512(leaf.der, leaf.der_len, t.data, 0), 0);
    assert_int_equal(x509view_tlsa_match(leaf.der, leaf.der_len, &t), 1);
    t.len = 32; /* a SHA-512 record of the wrong length never matches */
    assert_int_equal(x509view_tlsa_match(leaf.der, leaf.der_len, &t), 0);
    t.mtype = 0;                                                            /* exact, cut */
    t.truncated = 1;
    assert_int_equal(x509view_tlsa_match(leaf.der, leaf.der_len, &t), -1);
    t.truncated = 0;
    t.selector = 7;
    assert_int_equal(x509view_tlsa_match(leaf.der, leaf.der_len, &t), -1);
    t.selector = 1;
    t.mtype = 9;
    assert_int_equal(x509view_tlsa_match(leaf.der, leaf.der_len, &t), -1);
    x509view_clear(&c);
}

static void test_verify_to_anchor(void **st)
{
    (void)st;
    const unsigned char *d[2] = { leaf.der, mid.der };
    size_t l[2] = { leaf.der_len, mid.der_len };
    /* anchor = the intermediate: the leaf alone verifies up to it */
    assert_int_equal(x509view_verify_to_anchor(d, l, 1, mid.der, mid.der_len), 0);
    /* anchor = the root: leaf + intermediate verify */
    assert_int_equal(x509view_verify_to_anchor(d, l, 2, root.der, root.der_len), 0);
    /* the leaf alone does not reach the root (intermediate missing) */
    assert_true(x509view_verify_to_anchor(d, l, 1, root.der, root.der_len) & MXS_V_NOT_TRUSTED);
    /* a certificate of another issuer never verifies to the intermediate */
    const unsigned char *o[1] = { other.der };
    size_t ol[1] = { other.der_len };
    assert_true(x509view_verify_to_anchor(o, ol, 1, mid.der, mid.der_len) != 0);
    /* garbage */
    const unsigned char junk[8] = { 0x30, 0x03, 1, 2, 3 };
    const unsigned char *j[1] = { junk };
    size_t jl[1] = { sizeof junk };
    assert_int_equal(x509view_verify_to_anchor(j, jl, 1, mid.der, mid.der_len), MXS_V_OTHER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_selectors),
        cmocka_unit_test(test_verify_to_anchor),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
