/*
 * test_tlsrpt_report.c - reading aggregate TLS-RPT reports (RFC 8460 §4.4,
 * core/policy/tlsrpt_report.c): the RFC's own example, gzip as mailed, and
 * hostile files (gzip bombs, truncated or bad gzip, deep JSON, not JSON,
 * not a report, oversized lists, control bytes kept raw for escaping).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>

#include "policy/tlsrpt_report.h"

static const char rfc_example[] =
    "{\"organization-name\": \"Company-X\",\n"
    " \"date-range\": {\"start-datetime\": \"2016-04-01T00:00:00Z\",\n"
    "                \"end-datetime\": \"2016-04-01T23:59:59Z\"},\n"
    " \"contact-info\": \"sts-reporting@company-x.example\",\n"
    " \"report-id\": \"5065427c-23d3-47ca-b6e0-946ea0e8c4be\",\n"
    " \"policies\": [{\n"
    "   \"policy\": {\"policy-type\": \"sts\",\n"
    "     \"policy-string\": [\"version: STSv1\", \"mode: testing\",\n"
    "                         \"mx: *.mail.company-y.example\", \"max_age: 86400\"],\n"
    "     \"policy-domain\": \"company-y.example\",\n"
    "     \"mx-host\": [\"*.mail.company-y.example\"]},\n"
    "   \"summary\": {\"total-successful-session-count\": 5326,\n"
    "               \"total-failure-session-count\": 303},\n"
    "   \"failure-details\": [\n"
    "     {\"result-type\": \"certificate-expired\", \"sending-mta-ip\": \"2001:db8:abcd:0012::1\",\n"
    "      \"receiving-mx-hostname\": \"mx1.mail.company-y.example\", \"failed-session-count\": 100},\n"
    "     {\"result-type\": \"starttls-not-supported\", \"sending-mta-ip\": \"2001:db8:abcd:0013::1\",\n"
    "      \"receiving-mx-hostname\": \"mx2.mail.company-y.example\",\n"
    "      \"receiving-ip\": \"203.0.113.56\", \"failed-session-count\": 200,\n"
    "      \"additional-information\": \"https://reports.company-x.example/report_info?id=5065427c-23d3#StarttlsNotSupported\"},\n"
    "     {\"result-type\": \"validation-failure\", \"sending-mta-ip\": \"198.51.100.62\",\n"
    "      \"receiving-ip\": \"203.0.113.58\",\n"
    "      \"receiving-mx-hostname\": \"mx-backup.mail.company-y.example\",\n"
    "      \"failed-session-count\": 3,\n"
    "      \"failure-reason-code\": \"X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED\"}]}]}\n";

static unsigned char *gz(const void *in, size_t len, size_t *outlen)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&zs, (uLong)len) + 64;
    unsigned char *out = malloc(cap);
    assert_non_null(out);
    zs.next_in = (unsigned char *)in;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    *outlen = cap - zs.avail_out;
    deflateEnd(&zs);
    return out;
}

static struct tlsrpt_report *rep(void)
{
    static struct tlsrpt_report r;
    return &r;
}

static void check_example(const struct tlsrpt_report *r)
{
    assert_string_equal(r->org, "Company-X");
    assert_string_equal(r->report_id, "5065427c-23d3-47ca-b6e0-946ea0e8c4be");
    assert_string_equal(r->start, "2016-04-01T00:00:00Z");
    assert_int_equal(r->n_pol, 1);
    const struct tlsrpt_rpolicy *p = &r->pol[0];
    assert_string_equal(p->type, "sts");
    assert_string_equal(p->domain, "company-y.example");
    assert_int_equal(p->n_strings, 4);
    assert_string_equal(p->strings[1], "mode: testing");
    assert_int_equal(p->ok_sessions, 5326);
    assert_int_equal(p->failed_sessions, 303);
    assert_int_equal(p->n_fail, 3);
    assert_string_equal(p->fail[1].result_type, "starttls-not-supported");
    assert_true(p->fail[1].type_known);
    assert_string_equal(p->fail[1].receiving_ip, "203.0.113.56");
    assert_int_equal(p->fail[2].count, 3);
    assert_string_equal(p->fail[2].reason_code, "X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED");
    assert_int_equal(r->n_problems, 0);
}

static void test_rfc_example(void **st)
{
    char err[256];
    (void)st;
    assert_int_equal(tlsrpt_report_parse((const unsigned char *)rfc_example, sizeof rfc_example - 1,
                                         rep(), err, sizeof err), 0);
    check_example(rep());
    assert_false(rep()->gzipped);
    tlsrpt_report_free(rep());
}

static void test_gzip(void **st)
{
    char err[256];
    size_t n;
    (void)st;
    unsigned char *z = gz(rfc_example, sizeof rfc_example - 1, &n);
    assert_int_equal(tlsrpt_report_parse(z, n, rep(), err, sizeof err), 0);
    check_example(rep());
    assert_true(rep()->gzipped);
    assert_int_equal(rep()->json_bytes, sizeof rfc_example - 1);
    tlsrpt_report_free(rep());
    /* truncated: the stream stops inside the compressed data */
    assert_int_equal(tlsrpt_report_parse(z, n / 2, rep(), err, sizeof err), -1);
    assert_non_null(strstr(err, "truncated"));
    /* corrupted after the header */
    z[n / 2] ^= 0xff;
    z[n / 2 + 1] ^= 0xff;
    assert_int_equal(tlsrpt_report_parse(z, n, rep(), err, sizeof err), -1);
    assert_non_null(strstr(err, "gzip"));
    free(z);
    /* a bomb: 40 MiB of spaces compress to ~40 KiB and stop at the cap */
    size_t big = 40u << 20;
    char *sp = malloc(big);
    assert_non_null(sp);
    memset(sp, ' ', big);
    z = gz(sp, big, &n);
    free(sp);
    assert_true(n < (1u << 20));
    assert_int_equal(tlsrpt_report_parse(z, n, rep(), err, sizeof err), -1);
    assert_non_null(strstr(err, "uncompressed"));
    free(z);
}

static void test_not_reports(void **st)
{
    char err[256];
    (void)st;
    const char *bad[] = { "not json at all", "[1, 2, 3]", "{\"policies\": 5}", "{}",
                          "{\"a\": 1, \"a\": 2, \"policies\": []}", "{\"policies\": [] } trailing" };
    const char *why[] = { "not valid JSON", "no \"policies\" array", "no \"policies\" array",
                          "no \"policies\" array", "not valid JSON", "not valid JSON" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(tlsrpt_report_parse((const unsigned char *)bad[i], strlen(bad[i]), rep(),
                                             err, sizeof err), -1);
        if (!strstr(err, why[i]))
            fail_msg("input %zu: \"%s\" does not say \"%s\"", i, err, why[i]);
    }
    /* nested 100,000 deep: jansson's depth bound refuses it, no crash */
    size_t depth = 100000;
    char *deep = malloc(2 * depth + 1);
    assert_non_null(deep);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    assert_int_equal(tlsrpt_report_parse((unsigned char *)deep, 2 * depth, rep(), err, sizeof err), -1);
    assert_non_null(strstr(err, "not valid JSON"));
    free(deep);
}

static void test_bounds_and_raw(void **st)
{
    char err[256];
    (void)st;
    size_t cap = 1 << 20, n = 0;
    char *j = malloc(cap);
    assert_non_null(j);
    n += (size_t)snprintf(j + n, cap - n, "{\"organization-name\": \"Evil\\u001b[31mCorp\", "
                          "\"policies\": [{\"policy\": {\"policy-type\": \"tlsa\"}, \"failure-details\": [");
    for (int i = 0; i < 300; i++)
        n += (size_t)snprintf(j + n, cap - n, "%s{\"result-type\": \"%s\", \"failed-session-count\": %d}",
                              i ? "," : "", i == 0 ? "made-up-type" : "tlsa-invalid", i);
    n += (size_t)snprintf(j + n, cap - n, "]}]}");
    assert_int_equal(tlsrpt_report_parse((unsigned char *)j, n, rep(), err, sizeof err), 0);
    const struct tlsrpt_report *r = rep();
    assert_string_equal(r->org, "Evil\x1b[31mCorp");   /* raw: escaped at output */
    assert_int_equal(r->pol[0].n_fail, TLSRPT_REPORT_MAX_FAILURES);
    assert_int_equal(r->pol[0].n_fail_total, 300);
    assert_false(r->pol[0].fail[0].type_known);
    assert_true(r->pol[0].fail[1].type_known);
    /* missing fields are format problems, not refusals */
    assert_true(r->n_problems > 0);
    tlsrpt_report_free(rep());
    free(j);
    assert_true(tlsrpt_result_type_known("sts-webpki-invalid"));
    assert_false(tlsrpt_result_type_known("certificate-revoked"));
}

static void test_load_file(void **st)
{
    char err[256];
    (void)st;
    assert_int_equal(tlsrpt_report_load("/nonexistent/r.json", rep(), err, sizeof err), -1);
    assert_non_null(strstr(err, "No such file"));
    assert_int_equal(tlsrpt_report_load("/", rep(), err, sizeof err), -1);
    assert_non_null(strstr(err, "folder"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_example),
        cmocka_unit_test(test_gzip),
        cmocka_unit_test(test_not_reports),
        cmocka_unit_test(test_bounds_and_raw),
        cmocka_unit_test(test_load_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
