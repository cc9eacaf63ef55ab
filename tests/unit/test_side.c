/*
 * test_side.c - the hand-built legacy ClientHello of side.c: every length
 * consistent, the version asked for, SNI carried, bad input refused.  (What
 * real servers answer to it: tests/integration/sideprobe.sh.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "probe/side.h"
#include "probe/tls.h"

static unsigned get16(const unsigned char *b) { return (unsigned)b[0] << 8 | b[1]; }

static void check_hello(int v, const char *sni)
{
    unsigned char rnd[32], out[600];
    memset(rnd, 0xab, sizeof rnd);
    size_t n = side_hello_build(v, sni, rnd, out, sizeof out);
    assert_true(n > 60);
    assert_int_equal(out[0], 22);
    assert_int_equal(get16(out + 1), 0x0301);
    assert_int_equal(get16(out + 3), n - 5);
    assert_int_equal(out[5], 1);                         /* client_hello */
    size_t hl = (size_t)out[6] << 16 | (size_t)out[7] << 8 | out[8];
    assert_int_equal(hl, n - 9);
    assert_int_equal(get16(out + 9), (unsigned)v);
    assert_memory_equal(out + 11, rnd, 32);
    size_t o = 43;
    assert_int_equal(out[o], 0);                         /* session id */
    o++;
    unsigned cs = get16(out + o);
    assert_true(cs >= 2 && cs % 2 == 0);
    o += 2 + cs;
    assert_int_equal(out[o], 1);
    assert_int_equal(out[o + 1], 0);
    o += 2;
    unsigned el = get16(out + o);
    o += 2;
    assert_int_equal(o + el, n);
    int seen_sni = 0, seen_groups = 0;
    while (o < n) {
        unsigned type = get16(out + o), len = get16(out + o + 2);
        assert_true(o + 4 + len <= n);
        if (type == 0) {
            unsigned nl = get16(out + o + 7);
            assert_int_equal(nl, strlen(sni));
            assert_memory_equal(out + o + 9, sni, nl);
            seen_sni = 1;
        }
        if (type == 0x000a)
            seen_groups = 1;
        o += 4 + len;
    }
    assert_int_equal(seen_sni, sni && *sni);
    assert_true(seen_groups);
}

static void test_hello_tls10_sni(void **st) { (void)st; check_hello(0x0301, "mx1.example.test"); }
static void test_hello_tls11_sni(void **st) { (void)st; check_hello(0x0302, "a.b"); }
static void test_hello_no_sni(void **st) { (void)st; check_hello(0x0301, ""); }

static void test_hello_refuses(void **st)
{
    unsigned char rnd[32] = { 0 }, out[600];
    char longname[300];
    (void)st;
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(side_hello_build(0x0303, NULL, rnd, out, sizeof out), 0);
    assert_int_equal(side_hello_build(0x0300, NULL, rnd, out, sizeof out), 0);
    assert_int_equal(side_hello_build(0x0301, longname, rnd, out, sizeof out), 0);
    assert_int_equal(side_hello_build(0x0301, "x.test", rnd, out, 40), 0);
}

/* IANA spelling of the cipher suite, everywhere a person reads it. */
static void test_iana_cipher(void **st)
{
    char b[96];
    (void)st;
    tls_iana_cipher("TLS1-3-CHACHA20-POLY1305-SHA256", b, sizeof b);
    assert_string_equal(b, "TLS_CHACHA20_POLY1305_SHA256");
    tls_iana_cipher("TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384", b, sizeof b);
    assert_string_equal(b, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
    tls_iana_cipher(NULL, b, sizeof b);
    assert_string_equal(b, "");
    tls_iana_cipher("TLS1-3-AES-128-GCM-SHA256", b, 8);
    assert_string_equal(b, "TLS_AES");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello_tls10_sni),
        cmocka_unit_test(test_hello_tls11_sni),
        cmocka_unit_test(test_hello_no_sni),
        cmocka_unit_test(test_hello_refuses),
        cmocka_unit_test(test_iana_cipher),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
