/*
 * test_x509names.c - certificate names from x509view_decode() to text:
 * kept raw with their whole length, escaped once (mxs_escape_name), a long
 * one cut with its length, BMPString as UTF-8, an IDN with its U-label
 * (cmocka).
 *
 * Certificates come from the lab's factory (labcert) with placeholder
 * values, then the placeholder bytes are overwritten in the DER with the
 * hostile ones (same length, so every DER length stays right; the
 * signature no longer matches, which x509view_decode does not check).
 * mbedTLS's name writer cannot carry a NUL, and this way every byte is
 * exactly what the test says.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <mbedtls/psa_util.h>
#include <mbedtls/x509_crt.h>

#include "labcert.h"
#include "probe/x509view.h"
#include "session/render.h"

static struct labcert t_ca;

static int t_setup(void **state)
{
    (void)state;
    char err[256];
    struct labcert_spec cs = { .subject = "CN=names test CA", .is_ca = 1, .max_pathlen = -1 };
    labcert_init(&t_ca);
    return labcert_make(&t_ca, &cs, NULL, err, sizeof err);
}

static int t_teardown(void **state)
{
    (void)state;
    labcert_free(&t_ca);
    return 0;
}

/* A DER string at der[j] the placeholders sit in: a DN attribute's value
 * (right after its OID 2.5.4.x: 06 03 55 04 xx), or a SAN's rfc822Name /
 * dNSName (whose placeholders are too long to come by chance). */
static int t_value_at(const unsigned char *der, size_t j)
{
    unsigned char t = der[j];
    if (t == 0x81 || t == 0x82)
        return 1;
    return (t == 0x0C || t == 0x13 || t == 0x14 || t == 0x16 || t == 0x1E) && j >= 5 &&
           der[j - 5] == 0x06 && der[j - 4] == 0x03 && der[j - 3] == 0x55 && der[j - 2] == 0x04;
}

/* Overwrite every occurrence of ph (a placeholder) inside a string value of
 * der with rep (same length); tag: when not 0, that value's tag becomes it
 * (a short length: the byte two before).  Only string values are searched:
 * the same bytes by chance in the serial, the key or the signature ("QQ"
 * is in one certificate of a few hundred) are left alone.  Returns how
 * many were replaced. */
static int t_patch(unsigned char *der, size_t len, const char *ph, const void *rep, size_t n,
                   unsigned char tag)
{
    int k = 0;
    assert_int_equal(strlen(ph), n);
    for (size_t j = 0; j + 2 <= len; j++) {
        size_t vl = der[j + 1];
        if (!t_value_at(der, j) || vl >= 0x80 || vl < n || j + 2 + vl > len)
            continue;
        for (size_t i = j + 2; i + n <= j + 2 + vl; i++)
            if (!memcmp(der + i, ph, n)) {
                memcpy(der + i, rep, n);
                if (tag) {
                    assert_int_equal(der[i - 1], n);
                    der[i - 2] = tag;
                }
                k++;
            }
    }
    return k;
}

static void t_leaf(struct labcert *leaf, const char *subject, const char *san0)
{
    char err[256];
    struct labcert_spec ls = { .subject = subject, .san = { san0, NULL } };
    labcert_init(leaf);
    assert_int_equal(labcert_make(leaf, &ls, &t_ca, err, sizeof err), 0);
}

static void t_decode(const struct labcert *leaf, struct mxs_cert *c)
{
    char err[256];
    assert_int_equal(x509view_decode(leaf->der, leaf->der_len, time(NULL), c, err, sizeof err), 0);
}

static void t_name(const char *field, size_t cap, size_t len, int flags, const char *want)
{
    char out[2048];
    mxs_escape_name(field, cap, len, out, sizeof out, flags);
    assert_string_equal(out, want);
}

/* The report's certificate detail of c contains want (and, when not NULL,
 * never has). */
static void t_detail(const struct mxs_cert *c, const char *want, const char *never)
{
    struct buf b;
    buf_init(&b, 0);
    render_cert_detail(c, &b);
    if (!strstr(buf_str(&b), want))
        fail_msg("detail lacks \"%s\":\n%s", want, buf_str(&b));
    if (never && strstr(buf_str(&b), never))
        fail_msg("detail has \"%s\":\n%s", never, buf_str(&b));
    buf_free(&b);
}

/* ESC, UTF-8, NUL and a backslash in the CN; an ESC in the O: the DN is
 * built from the raw values, so the only escaping is mxs_escape's.  The
 * old view showed "CN=a\\1B\\C3\\BC" here (mbedTLS escaped, we escaped its
 * backslashes) and stopped at the NUL. */
static void test_dn_escaped_once(void **state)
{
    (void)state;
    struct labcert leaf;
    struct mxs_cert c;
    static const char cn[] = "a\x1B\xC3\xBC\0b\\c!";     /* 9 bytes */
    t_leaf(&leaf, "CN=PPPPPPPPP,O=Org QQ", "mx.example.test");
    assert_int_equal(t_patch(leaf.der, leaf.der_len, "PPPPPPPPP", cn, 9, 0), 1);
    assert_int_equal(t_patch(leaf.der, leaf.der_len, "QQ", "\x1B!", 2, 0), 1);
    t_decode(&leaf, &c);
    assert_int_equal(c.cn_len, 9);
    assert_memory_equal(c.cn, cn, 9);
    assert_int_equal(c.subject_len, strlen("CN=, O=Org ..") + 9);
    t_name(MXS_CERT_NAME(c.subject, c.subject_len), 0,
           "CN=a\\x1B\xC3\xBC\\x00b\\\\c!, O=Org \\x1B!");
    t_name(MXS_CERT_NAME(c.subject, c.subject_len), MXS_ESC_ASCII,
           "CN=a\\x1B<U+00FC>\\x00b\\\\c!, O=Org \\x1B!");
    t_name(MXS_CERT_NAME(c.cn, c.cn_len), 0, "a\\x1B\xC3\xBC\\x00b\\\\c!");
    t_name(MXS_CERT_NAME(c.issuer, c.issuer_len), 0, "CN=names test CA");

    /* The report's certificate detail: the same text, once. */
    t_detail(&c, "  Subject:      CN=a\\x1B\xC3\xBC\\x00b\\\\c!, O=Org \\x1B!\n", "\\\\x");
    x509view_clear(&c);
    labcert_free(&leaf);
}

/* A BMPString (UCS-2) value comes out as UTF-8; an odd-length one (not
 * UCS-2) keeps its bytes, escaped. */
static void test_bmp_string(void **state)
{
    (void)state;
    struct labcert leaf;
    struct mxs_cert c;
    t_leaf(&leaf, "CN=PPPP,O=QQQ", "mx.example.test");
    assert_int_equal(t_patch(leaf.der, leaf.der_len, "PPPP", "\x00\xFC\x00" "a", 4, 0x1E), 1);
    assert_int_equal(t_patch(leaf.der, leaf.der_len, "QQQ", "\x00\xFC\x00", 3, 0x1E), 1);
    t_decode(&leaf, &c);
    assert_int_equal(c.cn_len, 3);
    assert_string_equal(c.cn, "\xC3\xBC" "a");
    t_name(MXS_CERT_NAME(c.subject, c.subject_len), 0, "CN=\xC3\xBC" "a, O=\\x00\\xFC\\x00");
    x509view_clear(&c);
    labcert_free(&leaf);
}

/* A subject longer than its field: the first 511 bytes and the whole
 * length, shown with the marker; mbedtls_x509_dn_gets kept nothing past
 * its 256-byte value buffer, and a cut was silent. */
static void test_long_subject(void **state)
{
    (void)state;
    struct labcert leaf;
    struct mxs_cert c;
    char subj[1200], v[201];
    memset(v, 'v', 200);
    v[200] = 0;
    /* Four attribute types: the writer's parser keeps one value per type. */
    snprintf(subj, sizeof subj, "CN=mx.example.test,OU=%s,O=%s,L=%s,ST=%s", v, v, v, v);
    /* labcert keeps a subject of at most 255 characters: write this one
     * here, self-signed with the CA's key (the signature is not checked). */
    mbedtls_x509write_cert w;
    unsigned char buf[4096];
    mbedtls_x509write_crt_init(&w);
    mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&w, &t_ca.key);
    mbedtls_x509write_crt_set_issuer_key(&w, &t_ca.key);
    assert_int_equal(mbedtls_x509write_crt_set_subject_name(&w, subj), 0);
    assert_int_equal(mbedtls_x509write_crt_set_issuer_name(&w, "CN=names test CA"), 0);
    assert_int_equal(mbedtls_x509write_crt_set_serial_raw(&w, (unsigned char *)"\x01", 1), 0);
    assert_int_equal(mbedtls_x509write_crt_set_validity(&w, "20200101000000", "20400101000000"), 0);
    int dl = mbedtls_x509write_crt_der(&w, buf, sizeof buf, mbedtls_psa_get_random,
                                       MBEDTLS_PSA_RANDOM_STATE);
    assert_true(dl > 0);
    mbedtls_x509write_crt_free(&w);
    labcert_init(&leaf);
    leaf.der = malloc((size_t)dl);
    assert_non_null(leaf.der);
    memcpy(leaf.der, buf + sizeof buf - (size_t)dl, (size_t)dl);
    leaf.der_len = (size_t)dl;
    t_decode(&leaf, &c);
    size_t whole = strlen("CN=mx.example.test") + 4 * (2 + 200) + strlen("OU=O=L=ST=");
    assert_int_equal(c.subject_len, whole);
    assert_int_equal(strlen(c.subject), sizeof c.subject - 1);
    char out[1024], want[64];
    mxs_escape_name(MXS_CERT_NAME(c.subject, c.subject_len), out, sizeof out, MXS_ESC_CUTMARK);
    snprintf(want, sizeof want, "\xE2\x80\xA6 (%zu bytes, cut)", whole);
    assert_int_equal(strlen(out), sizeof c.subject - 1 + strlen(want));
    assert_string_equal(out + sizeof c.subject - 1, want);
    /* The CN, short, is whole. */
    t_name(MXS_CERT_NAME(c.cn, c.cn_len), MXS_ESC_CUTMARK, "mx.example.test");

    t_detail(&c, want, NULL);
    x509view_clear(&c);
    labcert_free(&leaf);
}

/* An IDN SAN and CN: the A-label kept (it is what the name check uses),
 * the U-label next to it in the detail; a SAN with a NUL never matches
 * its prefix, from the DER or from the stored view. */
static void test_idn_and_nul_san(void **state)
{
    (void)state;
    struct labcert leaf;
    struct mxs_cert c;
    t_leaf(&leaf, "CN=xn--mnchen-3ya.example", "mx.example.test@evil.example");
    assert_int_equal(t_patch(leaf.der, leaf.der_len, "test@evil", "test\0evil", 9, 0), 1);
    t_decode(&leaf, &c);
    assert_int_equal(c.san_len[0], strlen("mx.example.test@evil.example"));
    assert_int_equal(x509view_matches_name(&c, "mx.example.test"), 0);
    struct mxs_cert v = c;
    v.der = NULL;
    v.der_len = 0;
    assert_int_equal(x509view_matches_name(&v, "mx.example.test"), 0);

    t_detail(&c, "  CN:           xn--mnchen-3ya.example (m\xC3\xBCnchen.example)\n", NULL);
    t_detail(&c, "  SAN:          mx.example.test\\x00evil.example\n", NULL);
    x509view_clear(&c);
    labcert_free(&leaf);

    /* An IDN dNSName is matched as its A-label. */
    t_leaf(&leaf, "CN=x", "xn--mnchen-3ya.example");
    t_decode(&leaf, &c);
    assert_int_equal(x509view_matches_name(&c, "XN--MNCHEN-3YA.example"), 1);
    t_detail(&c, "  SAN:          xn--mnchen-3ya.example (m\xC3\xBCnchen.example)\n", "  CN:");
    x509view_clear(&c);
    labcert_free(&leaf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dn_escaped_once),
        cmocka_unit_test(test_bmp_string),
        cmocka_unit_test(test_long_subject),
        cmocka_unit_test(test_idn_and_nul_san),
    };
    return cmocka_run_group_tests(tests, t_setup, t_teardown);
}
