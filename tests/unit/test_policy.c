/*
 * test_policy.c - MTA-STS and TLS-RPT parsers (core/policy), read as
 * RFC 8461 and RFC 8460 say senders read them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "policy/policy.h"

#define S(x) (x), (sizeof(x) - 1)

static void test_txt_pick(void **st)
{
    (void)st;
    const char *r[] = { "v=spf1 -all", "v=STSv1; id=1", "v=STSv10; id=2", "v=STSv1" };
    size_t l[] = { 11, 13, 14, 7 };
    int idx, others;
    assert_int_equal(policy_txt_pick("v=STSv1", r, l, 3, &idx, &others), POLICY_TXT_ONE);
    assert_int_equal(idx, 1);
    assert_int_equal(others, 2);   /* "v=STSv10" does not begin with "v=STSv1;" */
    assert_int_equal(policy_txt_pick("v=STSv1", r, l, 4, &idx, &others), POLICY_TXT_SEVERAL);
    assert_int_equal(idx, -1);
    assert_int_equal(policy_txt_pick("v=STSv1", r, l, 1, &idx, &others), POLICY_TXT_NONE);
    assert_int_equal(policy_txt_pick("v=TLSRPTv1", r, l, 0, &idx, &others), POLICY_TXT_NONE);
}

static void test_sts_txt(void **st)
{
    struct sts_txt t;
    (void)st;
    assert_int_equal(sts_txt_parse(S("v=STSv1; id=20160831085700Z;"), &t), 0);
    assert_string_equal(t.id, "20160831085700Z");
    assert_int_equal(sts_txt_parse(S("v=STSv1;id=abc ; ext_1=x:y"), &t), 0);
    assert_string_equal(t.id, "abc");
    assert_int_equal(t.n_ext, 1);
    assert_int_equal(sts_txt_parse(S("v=STSv1;"), &t), -1);
    assert_non_null(strstr(t.error, "no id="));
    assert_int_equal(sts_txt_parse(S("id=1; v=STSv1"), &t), -1);
    assert_non_null(strstr(t.error, "start with v=STSv1"));
    assert_int_equal(sts_txt_parse(S("v=STSv1; id=123456789012345678901234567890123"), &t), -1);
    assert_non_null(strstr(t.error, "33 characters"));
    assert_int_equal(sts_txt_parse(S("v=STSv1; id=ab-c"), &t), -1);
    assert_int_equal(sts_txt_parse(S("v=STSv1; id=a; id=b"), &t), -1);
    assert_non_null(strstr(t.error, "twice"));
    assert_int_equal(sts_txt_parse(S("v=STSv1;; id=a"), &t), -1);
    assert_int_equal(sts_txt_parse(S("v=STSv1; id=a; x=\x1b[31m"), &t), -1);
    assert_null(strchr(t.error, 0x1b));    /* errors are our words */
    assert_int_equal(sts_txt_parse(S(""), &t), -1);
}

static void test_sts_policy_good(void **st)
{
    struct sts_policy p;
    (void)st;
    const char crlf[] = "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\n"
                        "mx: *.example.net\r\nmax_age: 604800\r\n";
    assert_int_equal(sts_policy_parse(S(crlf), &p), 0);
    assert_int_equal(p.mode, STS_MODE_ENFORCE);
    assert_int_equal(p.max_age, 604800);
    assert_int_equal(p.n_mx, 2);
    assert_string_equal(p.mx[1], "*.example.net");
    assert_int_equal(p.crlf, 5);
    assert_int_equal(p.n_problems_total, 0);
    /* LF, no final line end, unknown keys ignored, value whitespace trimmed */
    const char lf[] = "version: STSv1\nmode:testing\nfoo_bar: anything\nmx:  a.example  \nmax_age: 0";
    assert_int_equal(sts_policy_parse(S(lf), &p), 0);
    assert_int_equal(p.mode, STS_MODE_TESTING);
    assert_string_equal(p.mx[0], "a.example");
    assert_int_equal(p.max_age, 0);
    assert_int_equal(p.lf, 4);
    /* mode none needs no mx */
    assert_int_equal(sts_policy_parse(S("version: STSv1\nmode: none\nmax_age: 86400\n"), &p), 0);
}

static void test_sts_policy_bad(void **st)
{
    struct sts_policy p;
    (void)st;
    const char bad[] = "version: STSv1\nmode: enforce\nthis line is wrong\nmax_age: 31557601\n"
                       "mx : mx.example\nmx: -bad-.example\nmode: testing\n";
    assert_int_equal(sts_policy_parse(S(bad), &p), -1);
    assert_false(p.valid);
    int lines[8] = { 0 }, n = 0;
    for (int i = 0; i < p.n_problems && n < 8; i++)
        lines[n++] = p.problem[i].line;
    /* each bad line named with its number, in order, then the whole-file ones */
    assert_int_equal(lines[0], 3);
    assert_int_equal(lines[1], 4);
    assert_int_equal(lines[2], 5);
    assert_int_equal(lines[3], 6);
    assert_int_equal(lines[4], 7);
    assert_int_equal(lines[5], 0);  /* no usable mx */
    assert_int_equal(p.problem[0].raw_len, strlen("this line is wrong"));
    assert_memory_equal(p.problem[0].raw, "this line is wrong", p.problem[0].raw_len);
    assert_non_null(strstr(p.problem[1].what, "31557600"));
    assert_false(p.problem[3].fatal);     /* a bad pattern only matches nothing */
    assert_non_null(strstr(p.problem[4].what, "twice"));

    assert_int_equal(sts_policy_parse(S("version: STSv2\nmode: enforce\nmx: a.b\nmax_age: 1\n"), &p), -1);
    assert_int_equal(sts_policy_parse(S("mode: enforce\nmx: a.b\nmax_age: 1\n"), &p), -1);
    assert_non_null(strstr(p.problem[0].what, "version"));
    assert_int_equal(sts_policy_parse(S("version: STSv1\nmode: enforce\nmax_age: 1\n"), &p), -1);
    assert_non_null(strstr(p.problem[0].what, "no \"mx\" line"));
    assert_int_equal(sts_policy_parse(S("version: STSv1\nmode: enforce\nmx: a.b\n"), &p), -1);
    assert_int_equal(sts_policy_parse(S("version: STSv1\rmode: enforce\nmx: a.b\nmax_age: 1"), &p), -1);
    assert_int_equal(sts_policy_parse(S("version: STSv1\nmode: enf\x00rce\nmx: a.b\nmax_age: 1"), &p), -1);
    assert_int_equal(sts_policy_parse(S("version: STSv1\nmode: enforce\nmax_age: 12a\nmx: a.b\n"), &p), -1);
    assert_int_equal(sts_policy_parse("", 0, &p), -1);
}

static void test_sts_policy_bounds(void **st)
{
    static char big[STS_POLICY_MAX + 4096];
    struct sts_policy p;
    (void)st;
    size_t n = (size_t)snprintf(big, sizeof big, "version: STSv1\nmode: enforce\nmax_age: 10\n");
    while (n + 32 < STS_POLICY_MAX)
        n += (size_t)snprintf(big + n, sizeof big - n, "mx: m%05zu.example\n", n);
    assert_int_equal(sts_policy_parse(big, n, &p), 0);
    assert_int_equal(p.n_mx, STS_MAX_MX);
    assert_true(p.n_mx_total > STS_MAX_MX);
    int lines = p.lines;
    /* past 64 KiB nothing is read (a sender refuses such a body; the caller
     * says so): more input gives no more lines */
    while (n + 32 < sizeof big)
        n += (size_t)snprintf(big + n, sizeof big - n, "mx: m%05zu.example\n", n);
    (void)sts_policy_parse(big, n, &p);
    assert_true(p.lines <= lines + 3); /* the 32 bytes left before the cap */
    /* many bad lines: kept up to the bound, all counted */
    n = 0;
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(big + n, sizeof big - n, "bad line %d\n", i);
    assert_int_equal(sts_policy_parse(big, n, &p), -1);
    assert_int_equal(p.n_problems, STS_MAX_PROBLEMS);
    assert_true(p.n_problems_total >= 100);
}

static void test_sts_mx_match(void **st)
{
    (void)st;
    assert_true(sts_mx_match("*.example.com", "mx.example.com"));
    assert_true(sts_mx_match("*.example.com", "MX.Example.COM."));
    assert_false(sts_mx_match("*.example.com", "a.mx.example.com"));
    assert_false(sts_mx_match("*.example.com", "example.com"));
    assert_false(sts_mx_match("*.example.com", ".example.com"));
    assert_false(sts_mx_match("*.example.com", "mxexample.com"));
    assert_true(sts_mx_match("mail.example.com", "mail.example.com."));
    assert_false(sts_mx_match("mail.example.com", "mail.example.co"));
    assert_false(sts_mx_match("mail.example.com", "xmail.example.com"));
    assert_false(sts_mx_match("", ""));
    struct sts_policy p;
    assert_int_equal(sts_policy_parse(S("version: STSv1\nmode: enforce\nmax_age: 1\n"
                                        "mx: a.example\nmx: *.b.example\n"), &p), 0);
    assert_int_equal(sts_policy_match(&p, "x.b.example"), 1);
    assert_int_equal(sts_policy_match(&p, "a.example"), 0);
    assert_int_equal(sts_policy_match(&p, "b.example"), -1);
}

static void test_tlsrpt(void **st)
{
    struct tlsrpt_txt t;
    (void)st;
    assert_int_equal(tlsrpt_txt_parse(S("v=TLSRPTv1; rua=mailto:tls@example.com,https://r.example/tlsrpt"), &t), 0);
    assert_int_equal(t.n_rua, 2);
    assert_int_equal(t.rua[0].kind, TLSRPT_URI_MAILTO);
    assert_int_equal(t.rua[1].kind, TLSRPT_URI_HTTPS);
    assert_true(t.rua[0].ok && t.rua[1].ok);
    assert_memory_equal(t.rua[1].uri, "https://r.example/tlsrpt", t.rua[1].len);
    assert_int_equal(tlsrpt_txt_parse(S("v=TLSRPTv1;rua=mailto:a@b , ftp://x;ext=1;"), &t), 0);
    assert_int_equal(t.rua[1].kind, TLSRPT_URI_OTHER);
    assert_int_equal(t.n_ext, 1);
    assert_int_equal(tlsrpt_txt_parse(S("v=TLSRPTv1"), &t), -1);
    assert_non_null(strstr(t.error, "no rua="));
    assert_int_equal(tlsrpt_txt_parse(S("v=TLSRPTv2; rua=mailto:a@b"), &t), -1);
    assert_int_equal(tlsrpt_txt_parse(S("v=TLSRPTv1; rua=ftp://x"), &t), -1);
    assert_int_equal(tlsrpt_txt_parse(S("v=TLSRPTv1; rua=mailto:a@b,"), &t), -1);
    assert_int_equal(tlsrpt_txt_parse(S("v=TLSRPTv1; rua=mailto:nobody"), &t), -1);
    /* many URIs: kept to the bound, counted; raw bytes kept raw */
    char rec[2048];
    size_t n = (size_t)snprintf(rec, sizeof rec, "v=TLSRPTv1; rua=");
    for (int i = 0; i < 20; i++)
        n += (size_t)snprintf(rec + n, sizeof rec - n, "%smailto:r%d@example.com", i ? "," : "", i);
    assert_int_equal(tlsrpt_txt_parse(rec, n, &t), 0);
    assert_int_equal(t.n_rua, TLSRPT_MAX_RUA);
    assert_int_equal(t.n_rua_total, 20);
    assert_int_equal(tlsrpt_txt_parse(S("v=TLSRPTv1; rua=mailto:a\x1b@b"), &t), -1);
    assert_false(t.rua[0].ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_txt_pick),
        cmocka_unit_test(test_sts_txt),
        cmocka_unit_test(test_sts_policy_good),
        cmocka_unit_test(test_sts_policy_bad),
        cmocka_unit_test(test_sts_policy_bounds),
        cmocka_unit_test(test_sts_mx_match),
        cmocka_unit_test(test_tlsrpt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
