/*
 * test_dns.c - the pure helpers of dns.c (cmocka): wire-format names, MX and
 * TLSA RDATA.  Owner: DNS module.  The network side is tested against a real
 * unbound in tests/integration/dns.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "probe/dns.h"

/* Build a wire name from dotted text (test side, no escapes). */
static size_t wire(const char *text, unsigned char *out)
{
    size_t o = 0;
    const char *p = text;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t l = dot ? (size_t)(dot - p) : strlen(p);
        out[o++] = (unsigned char)l;
        memcpy(out + o, p, l);
        o += l;
        p += l;
        if (*p == '.')
            p++;
    }
    out[o++] = 0;
    return o;
}

static void test_name_simple(void **state)
{
    unsigned char w[300];
    char out[256];
    size_t used = 99;
    size_t n = wire("mx1.example.test", w);
    (void)state;
    assert_int_equal(dns_name_to_text(w, n, &used, out, sizeof out), 0);
    assert_string_equal(out, "mx1.example.test");
    assert_int_equal(used, n);
    /* Extra bytes after the name are not consumed. */
    w[n] = 0x55;
    assert_int_equal(dns_name_to_text(w, n + 1, &used, out, sizeof out), 0);
    assert_int_equal(used, n);
}

static void test_name_root(void **state)
{
    const unsigned char root[1] = { 0 };
    char out[8];
    size_t used = 0;
    (void)state;
    assert_int_equal(dns_name_to_text(root, 1, &used, out, sizeof out), 0);
    assert_string_equal(out, ".");
    assert_int_equal(used, 1);
}

static void test_name_label_63_and_64(void **state)
{
    unsigned char w[80];
    char out[300];
    size_t used;
    (void)state;
    w[0] = 63;
    memset(w + 1, 'a', 63);
    w[64] = 0;
    assert_int_equal(dns_name_to_text(w, 65, &used, out, sizeof out), 0);
    assert_int_equal(strlen(out), 63);
    /* 64 = 0x40: an extended label type, not a length. */
    w[0] = 64;
    memset(w + 1, 'a', 64);
    w[65] = 0;
    assert_int_equal(dns_name_to_text(w, 66, &used, out, sizeof out), -1);
    /* A compression pointer is not allowed in libunbound's RDATA. */
    const unsigned char ptr[2] = { 0xC0, 0x0C };
    assert_int_equal(dns_name_to_text(ptr, 2, &used, out, sizeof out), -1);
}

/* 255 octets is the maximum (RFC 1035 3.1), 256 is one too many. */
static void test_name_max_length(void **state)
{
    unsigned char w[300];
    char out[1100];
    size_t used, o = 0;
    (void)state;
    for (int i = 0; i < 3; i++) {
        w[o++] = 63;
        memset(w + o, 'a' + i, 63);
        o += 63;
    }
    w[o++] = 61;
    memset(w + o, 'z', 61);
    o += 61;
    w[o++] = 0;
    assert_int_equal(o, 255);
    assert_int_equal(dns_name_to_text(w, o, &used, out, sizeof out), 0);
    assert_int_equal(used, 255);
    assert_int_equal(strlen(out), 253);

    /* One more byte in the last label: 256 octets. */
    o = 0;
    for (int i = 0; i < 3; i++) {
        w[o++] = 63;
        memset(w + o, 'a', 63);
        o += 63;
    }
    w[o++] = 62;
    memset(w + o, 'z', 62);
    o += 62;
    w[o++] = 0;
    assert_int_equal(o, 256);
    assert_int_equal(dns_name_to_text(w, o, &used, out, sizeof out), -1);
}

static void test_name_truncated(void **state)
{
    unsigned char w[64];
    char out[256];
    size_t used = 7;
    size_t n = wire("example.test", w);
    (void)state;
    assert_int_equal(dns_name_to_text(w, 0, &used, out, sizeof out), -1);
    assert_int_equal(used, 0);
    /* Every proper prefix is truncated: the root label is missing. */
    for (size_t k = 1; k < n; k++)
        assert_int_equal(dns_name_to_text(w, k, &used, out, sizeof out), -1);
    assert_int_equal(dns_name_to_text(w, n, &used, out, sizeof out), 0);
}

/* Dots, backslashes, controls and 8-bit bytes inside labels are escaped, so
 * the text is printable and means the same wire name. */
static void test_name_escapes(void **state)
{
    const unsigned char w[] = { 7, 'a', '.', 'b', '\\', 0x00, 0xFF, ' ', 4, 't', 'e', 's', 't', 0 };
    char out[64];
    size_t used;
    (void)state;
    assert_int_equal(dns_name_to_text(w, sizeof w, &used, out, sizeof out), 0);
    assert_string_equal(out, "a\\.b\\\\\\000\\255\\032.test");
    for (const char *p = out; *p; p++)
        assert_true(*p > 0x20 && *p < 0x7f);
    /* Format directives are plain bytes. */
    const unsigned char f[] = { 4, '%', 's', '%', 'n', 0 };
    assert_int_equal(dns_name_to_text(f, sizeof f, &used, out, sizeof out), 0);
    assert_string_equal(out, "%s%n");
}

static void test_name_outlen(void **state)
{
    unsigned char w[64];
    char out[32];
    size_t used;
    size_t n = wire("mx1.example.test", w);   /* 16 characters */
    (void)state;
    assert_int_equal(dns_name_to_text(w, n, &used, out, 17), 0);
    assert_string_equal(out, "mx1.example.test");
    memset(out, 'X', sizeof out);
    assert_int_equal(dns_name_to_text(w, n, &used, out, 16), -1);
    assert_int_equal(dns_name_to_text(w, n, &used, out, 1), -1);
    assert_int_equal(dns_name_to_text(w, n, &used, NULL, 10), -1);
    assert_int_equal(dns_name_to_text(NULL, n, &used, out, sizeof out), -1);
    /* used may be NULL. */
    assert_int_equal(dns_name_to_text(w, n, NULL, out, sizeof out), 0);
}

static void test_mx(void **state)
{
    unsigned char r[300];
    char host[256];
    uint16_t pref = 1;
    size_t n;
    (void)state;
    r[0] = 0; r[1] = 10;
    n = 2 + wire("mx1.example.test", r + 2);
    assert_int_equal(dns_parse_mx(r, n, &pref, host, sizeof host), 0);
    assert_int_equal(pref, 10);
    assert_string_equal(host, "mx1.example.test");

    r[0] = 0xFF; r[1] = 0xFF;
    assert_int_equal(dns_parse_mx(r, n, &pref, host, sizeof host), 0);
    assert_int_equal(pref, 65535);

    /* Trailing garbage after the name: malformed. */
    r[n] = 1;
    assert_int_equal(dns_parse_mx(r, n + 1, &pref, host, sizeof host), -1);
    /* Truncated name. */
    assert_int_equal(dns_parse_mx(r, n - 1, &pref, host, sizeof host), -1);
    /* Too short for a preference and a name. */
    assert_int_equal(dns_parse_mx(r, 2, &pref, host, sizeof host), -1);
    assert_int_equal(dns_parse_mx(r, 0, &pref, host, sizeof host), -1);
    /* A host buffer too small is an error, not a cut name. */
    assert_int_equal(dns_parse_mx(r, n, &pref, host, 8), -1);
}

static void test_mx_null(void **state)
{
    const unsigned char r[3] = { 0, 0, 0 };   /* "0 ." (RFC 7505) */
    char host[16];
    uint16_t pref = 7;
    (void)state;
    assert_int_equal(dns_parse_mx(r, sizeof r, &pref, host, sizeof host), 0);
    assert_int_equal(pref, 0);
    assert_string_equal(host, ".");
}

static void test_tlsa(void **state)
{
    unsigned char r[3 + 200];
    struct mxs_tlsa t;
    (void)state;
    r[0] = 3; r[1] = 1; r[2] = 1;
    for (int i = 0; i < 200; i++)
        r[3 + i] = (unsigned char)i;
    assert_int_equal(dns_parse_tlsa(r, 3 + 32, &t), 0);
    assert_int_equal(t.usage, 3);
    assert_int_equal(t.selector, 1);
    assert_int_equal(t.mtype, 1);
    assert_int_equal(t.len, 32);
    assert_int_equal(t.truncated, 0);
    assert_memory_equal(t.data, r + 3, 32);

    /* SHA-512 exactly fits. */
    assert_int_equal(dns_parse_tlsa(r, 3 + 64, &t), 0);
    assert_int_equal(t.len, 64);
    assert_int_equal(t.truncated, 0);

    /* A full certificate (3 0 0) is kept truncated to 64 bytes. */
    r[1] = 0; r[2] = 0;
    assert_int_equal(dns_parse_tlsa(r, sizeof r, &t), 0);
    assert_int_equal(t.len, 64);
    assert_int_equal(t.truncated, 1);
    assert_memory_equal(t.data, r + 3, 64);

    /* No association data / truncated fields. */
    assert_int_equal(dns_parse_tlsa(r, 3, &t), -1);
    assert_int_equal(dns_parse_tlsa(r, 2, &t), -1);
    assert_int_equal(dns_parse_tlsa(r, 0, &t), -1);
    assert_int_equal(dns_parse_tlsa(NULL, 10, &t), -1);
}

static void test_names_of_enums(void **state)
{
    (void)state;
    assert_string_equal(mxs_dnssec_name(MXS_DNSSEC_SECURE), "secure");
    assert_string_equal(mxs_dnssec_name(MXS_DNSSEC_INSECURE), "insecure");
    assert_string_equal(mxs_dnssec_name(MXS_DNSSEC_BOGUS), "bogus");
    assert_string_equal(mxs_dnssec_name(MXS_DNSSEC_UNKNOWN), "unknown");
    assert_string_equal(mxs_dns_rcode_name(MXS_DNS_NXDOMAIN), "NXDOMAIN");
    assert_string_equal(mxs_dns_rcode_name(MXS_DNS_SERVFAIL), "SERVFAIL");
    assert_string_equal(mxs_dns_rcode_name(MXS_DNS_TIMEOUT), "TIMEOUT");
    assert_string_equal(mxs_dns_rcode_name(MXS_DNS_NODATA), "NODATA");
    assert_string_equal(mxs_dns_rcode_name(MXS_DNS_OK), "NOERROR");
    assert_string_equal(mxs_dns_rcode_name((enum mxs_dns_rcode)99), "?");
}

/* dns_new/dns_start argument checks that need no network: a bad resolver
 * address is refused by libunbound at set-up. */
static void test_start_rejects(void **state)
{
    struct mxs_settings s;
    static struct mxs_dns_facts f;
    char err[256] = "";
    (void)state;
    memset(&s, 0, sizeof s);
    snprintf(s.resolver, sizeof s.resolver, "not-an-address");
    assert_null(dns_new(&s, err, sizeof err));
    assert_true(err[0] != '\0');

    snprintf(s.resolver, sizeof s.resolver, "127.0.0.1@9");
    struct dns_ctx *d = dns_new(&s, err, sizeof err);
    assert_non_null(d);
    assert_int_equal(dns_start(d, "", 0, 25, 0, &f, NULL, NULL, err, sizeof err), -1);
    assert_int_equal(dns_start(d, ".", 0, 25, 0, &f, NULL, NULL, err, sizeof err), -1);
    assert_int_equal(dns_start(d, "example.test", 0, 25, 5, &f, NULL, NULL, err, sizeof err), -1);
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(dns_start(d, longname, 0, 25, 0, &f, NULL, NULL, err, sizeof err), -1);
    dns_free(d);
}

/* MX targets judged as Postfix's valid_hostaddr()/valid_hostname() do,
 * from the presentation form dns_name_to_text() writes. */
static void test_host_check(void **state)
{
    /* name, verdict, the start of the reason ("" for OK/LITERAL). */
    static const struct { const char *name; int want; const char *why; } cases[] = {
        { "mx1.example.test", DNS_HOST_OK, "" },
        { "mx1.example.test.", DNS_HOST_OK, "" },
        { "_dmarc.x-y.example", DNS_HOST_OK, "" },
        { "127.0.0.1", DNS_HOST_LITERAL, "" },
        { "2001:db8::25", DNS_HOST_LITERAL, "" },
        { "\\027[31mevil.example", DNS_HOST_INVALID, "contains control bytes (0x1B)" },
        { "nul\\000.example", DNS_HOST_INVALID, "contains control bytes (0x00)" },
        { "mx\\195\\188.example", DNS_HOST_INVALID, "contains non-ASCII bytes (0xC3" },
        { "sp\\032ace.example", DNS_HOST_INVALID, "contains a space" },
        { "a\\.b.example", DNS_HOST_INVALID, "has a dot inside a label" },
        { "-bad.example", DNS_HOST_INVALID, "has a label that starts or ends with a hyphen" },
        { "bad-.example", DNS_HOST_INVALID, "has a label that starts or ends with a hyphen" },
        { "a..example", DNS_HOST_INVALID, "has an empty label" },
        { "mx@example", DNS_HOST_INVALID, "contains the character '@'" },
        { "123.456", DNS_HOST_INVALID, "is all digits" },
        { "", DNS_HOST_INVALID, "is empty" },
        { "bad\\", DNS_HOST_INVALID, "is not a domain name" },
    };
    char why[96];
    char raw[64];
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = dns_host_check(cases[i].name, why, sizeof why);
        if (got != cases[i].want || strncmp(why, cases[i].why, strlen(cases[i].why)) != 0 ||
            (cases[i].why[0] == '\0' && why[0] != '\0'))
            fail_msg("%s: got %d \"%s\", want %d \"%s...\"", cases[i].name, got, why,
                     cases[i].want, cases[i].why);
    }
    /* The raw bytes for the evidence: escapes decoded, '.' between labels. */
    assert_int_equal(dns_host_raw("\\027[31mx.a\\.b", raw, sizeof raw), 10);
    assert_memory_equal(raw, "\x1b[31mx.a.b", 10);
}

/* TXT: strings joined, bounded, the full size counted, malformed refused. */
static void test_txt(void **state)
{
    unsigned char rd[600];
    char out[8];
    size_t len = 99, total = 99;
    (void)state;
    memcpy(rd, "\x05v=STS\x04v1; ", 11);
    assert_int_equal(dns_parse_txt(rd, 11, out, sizeof out, &len, &total), 0);
    assert_int_equal(total, 9);
    assert_int_equal(len, 8);                       /* bounded by cap */
    assert_memory_equal(out, "v=STSv1;", 8);
    assert_int_equal(dns_parse_txt(rd, 11, NULL, 0, &len, &total), 0);
    assert_int_equal(len, 0);
    assert_int_equal(total, 9);
    rd[0] = 0x0b;                                   /* a string past the RDATA */
    assert_int_equal(dns_parse_txt(rd, 11, out, sizeof out, &len, &total), -1);
    assert_int_equal(dns_parse_txt(rd, 0, out, sizeof out, &len, &total), -1);
    rd[0] = 0;                                      /* one empty string is legal */
    assert_int_equal(dns_parse_txt(rd, 1, out, sizeof out, &len, &total), 0);
    assert_int_equal(total, 0);
    /* Two full strings: 510 bytes of text, 8 kept. */
    rd[0] = 255;
    memset(rd + 1, 'a', 255);
    rd[256] = 255;
    memset(rd + 257, 'b', 255);
    assert_int_equal(dns_parse_txt(rd, 512, out, sizeof out, &len, &total), 0);
    assert_int_equal(total, 510);
    assert_int_equal(len, 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_simple),
        cmocka_unit_test(test_name_root),
        cmocka_unit_test(test_name_label_63_and_64),
        cmocka_unit_test(test_name_max_length),
        cmocka_unit_test(test_name_truncated),
        cmocka_unit_test(test_name_escapes),
        cmocka_unit_test(test_name_outlen),
        cmocka_unit_test(test_mx),
        cmocka_unit_test(test_mx_null),
        cmocka_unit_test(test_tlsa),
        cmocka_unit_test(test_names_of_enums),
        cmocka_unit_test(test_start_rejects),
        cmocka_unit_test(test_host_check),
        cmocka_unit_test(test_txt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
