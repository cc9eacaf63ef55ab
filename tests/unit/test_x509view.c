/*
 * test_x509view.c - certificate view, name matching, PEM, flags.
 *
 * Every certificate is made here, now, with mbedTLS' writer (no committed
 * certificates): EC P-256 keys for speed, one RSA-1024 key for the weak-key
 * and SHA-1 cases, one P-384 key for "ECDSA with SHA-384".  Expected values
 * come from what we asked the writer for, fingerprints from PSA's hash API
 * and from the openssl command line (an independent implementation).
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/x509_crt.h>
#include <psa/crypto.h>

#include "probe/x509view.h"

/* ---- certificate factory ------------------------------------------------ */

static mbedtls_entropy_context t_entropy;
static mbedtls_ctr_drbg_context t_drbg;
static mbedtls_pk_context t_ec, t_ec2, t_p384, t_rsa;
static time_t t_now;

struct spec {
    const char *subject, *issuer;  /* issuer NULL: = subject (self-signed) */
    mbedtls_pk_context *key, *issuer_key; /* issuer_key NULL: = key */
    int64_t nb, na;                /* unix times */
    mbedtls_md_type_t md;          /* 0: SHA-256 */
    const char *const *dns;        /* dNSName SANs */
    int n_dns;
    const size_t *dns_len;         /* optional explicit lengths (NUL inside) */
    const char *const *ips;        /* iPAddress SANs as text */
    int n_ips;
    int gen_dns;                   /* >0: that many generated dNSNames */
    const char *const *eku;        /* OIDs */
    int n_eku;
    int bc;                        /* 0 none, 1 CA:false, 2 CA:true */
    int pathlen;                   /* with bc == 2; -1 unlimited */
    const unsigned char *serial;
    size_t serial_len;
    const char *extra_cn;          /* a second CN, just before the last RDN */
};

static void t_timestr(int64_t t, char out[16])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 16, "%Y%m%d%H%M%S", &tm);
}

/* mbedTLS' writer emits ASN.1 back to front, so the SAN list it is given
 * ends up reversed in the DER: prepend, and the DER has insertion order. */
static void t_san_add(mbedtls_x509_san_list **head, mbedtls_x509_san_list *n)
{
    n->next = *head;
    *head = n;
}

/* Build a DER certificate; returns a malloc'd buffer and its length. */
static unsigned char *t_make(const struct spec *s, size_t *len)
{
    mbedtls_x509write_cert w;
    char nb[16], na[16];
    size_t cap = 64 * 1024 + (size_t)s->gen_dns * 40;
    unsigned char *buf = malloc(cap), *out;
    mbedtls_x509_san_list *sans = NULL;
    mbedtls_asn1_sequence *ekus = NULL, **etail = &ekus;
    unsigned char ipb[8][16];
    char (*names)[32] = NULL;
    static const unsigned char defserial[] = { 0x01, 0x02, 0x03 };
    int ret;

    assert_non_null(buf);
    mbedtls_x509write_crt_init(&w);
    mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&w, s->md ? s->md : MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&w, s->key);
    mbedtls_x509write_crt_set_issuer_key(&w, s->issuer_key ? s->issuer_key : s->key);
    assert_int_equal(mbedtls_x509write_crt_set_subject_name(&w, s->subject), 0);
    assert_int_equal(mbedtls_x509write_crt_set_issuer_name(&w, s->issuer ? s->issuer : s->subject), 0);
    if (s->extra_cn != NULL) {
        /* The string parser merges repeated attribute types, so a second CN
         * is spliced into the writer's list by hand.  The list head is the
         * last RDN of the DER. */
        mbedtls_asn1_named_data *head = w.MBEDTLS_PRIVATE(subject);
        mbedtls_asn1_named_data *n = calloc(1, sizeof *n);
        size_t vl = strlen(s->extra_cn), ol = MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_CN);
        assert_non_null(head);
        assert_non_null(n);
        n->oid.tag = MBEDTLS_ASN1_OID;
        n->oid.len = ol;
        n->oid.p = malloc(ol);
        assert_non_null(n->oid.p);
        memcpy(n->oid.p, MBEDTLS_OID_AT_CN, ol);
        n->val.tag = MBEDTLS_ASN1_UTF8_STRING;
        n->val.len = vl;
        n->val.p = malloc(vl);
        assert_non_null(n->val.p);
        memcpy(n->val.p, s->extra_cn, vl);
        n->next = head->next;
        head->next = n;
    }
    t_timestr(s->nb, nb);
    t_timestr(s->na, na);
    assert_int_equal(mbedtls_x509write_crt_set_validity(&w, nb, na), 0);
    {
        unsigned char ser[20];
        size_t sl = s->serial ? s->serial_len : sizeof defserial;
        memcpy(ser, s->serial ? s->serial : defserial, sl);
        assert_int_equal(mbedtls_x509write_crt_set_serial_raw(&w, ser, sl), 0);
    }
    for (int i = 0; i < s->n_dns; i++) {
        mbedtls_x509_san_list *n = calloc(1, sizeof *n);
        assert_non_null(n);
        n->node.type = MBEDTLS_X509_SAN_DNS_NAME;
        n->node.san.unstructured_name.p = (unsigned char *)(uintptr_t)s->dns[i];
        n->node.san.unstructured_name.len = s->dns_len ? s->dns_len[i] : strlen(s->dns[i]);
        t_san_add(&sans, n);
    }
    if (s->gen_dns > 0) {
        names = calloc((size_t)s->gen_dns, sizeof *names);
        assert_non_null(names);
        for (int i = 0; i < s->gen_dns; i++) {
            mbedtls_x509_san_list *n = calloc(1, sizeof *n);
            assert_non_null(n);
            snprintf(names[i], sizeof names[i], "h%05d.example.com", i);
            n->node.type = MBEDTLS_X509_SAN_DNS_NAME;
            n->node.san.unstructured_name.p = (unsigned char *)names[i];
            n->node.san.unstructured_name.len = strlen(names[i]);
            t_san_add(&sans, n);
        }
    }
    assert_true(s->n_ips <= 8);
    for (int i = 0; i < s->n_ips; i++) {
        mbedtls_x509_san_list *n = calloc(1, sizeof *n);
        assert_non_null(n);
        n->node.type = MBEDTLS_X509_SAN_IP_ADDRESS;
        n->node.san.unstructured_name.p = ipb[i];
        if (inet_pton(AF_INET, s->ips[i], ipb[i]) == 1)
            n->node.san.unstructured_name.len = 4;
        else {
            assert_int_equal(inet_pton(AF_INET6, s->ips[i], ipb[i]), 1);
            n->node.san.unstructured_name.len = 16;
        }
        t_san_add(&sans, n);
    }
    if (sans != NULL)
        assert_int_equal(mbedtls_x509write_crt_set_subject_alternative_name(&w, sans), 0);
    for (int i = 0; i < s->n_eku; i++) {
        mbedtls_asn1_sequence *e = calloc(1, sizeof *e);
        assert_non_null(e);
        e->buf.tag = MBEDTLS_ASN1_OID;
        e->buf.p = (unsigned char *)(uintptr_t)s->eku[i];
        e->buf.len = strlen(s->eku[i]); /* the OIDs used here hold no NUL */
        *etail = e;
        etail = &e->next;
    }
    if (ekus != NULL)
        assert_int_equal(mbedtls_x509write_crt_set_ext_key_usage(&w, ekus), 0);
    if (s->bc)
        assert_int_equal(mbedtls_x509write_crt_set_basic_constraints(&w, s->bc == 2,
                                                                     s->bc == 2 ? s->pathlen : 0), 0);
    ret = mbedtls_x509write_crt_der(&w, buf, cap, mbedtls_ctr_drbg_random, &t_drbg);
    assert_true(ret > 0);
    out = malloc((size_t)ret);
    assert_non_null(out);
    memcpy(out, buf + cap - (size_t)ret, (size_t)ret);
    *len = (size_t)ret;
    mbedtls_x509write_crt_free(&w);
    while (sans) {
        mbedtls_x509_san_list *n = sans->next;
        free(sans);
        sans = n;
    }
    while (ekus) {
        mbedtls_asn1_sequence *n = ekus->next;
        free(ekus);
        ekus = n;
    }
    free(names);
    free(buf);
    return out;
}

static void t_gen_ec(mbedtls_pk_context *pk, mbedtls_ecp_group_id g)
{
    mbedtls_pk_init(pk);
    assert_int_equal(mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)), 0);
    assert_int_equal(mbedtls_ecp_gen_key(g, mbedtls_pk_ec(*pk), mbedtls_ctr_drbg_random, &t_drbg), 0);
}

static int group_setup(void **state)
{
    (void)state;
    if (psa_crypto_init() != PSA_SUCCESS)
        return -1;
    mbedtls_entropy_init(&t_entropy);
    mbedtls_ctr_drbg_init(&t_drbg);
    if (mbedtls_ctr_drbg_seed(&t_drbg, mbedtls_entropy_func, &t_entropy,
                              (const unsigned char *)"x509view", 8) != 0)
        return -1;
    t_gen_ec(&t_ec, MBEDTLS_ECP_DP_SECP256R1);
    t_gen_ec(&t_ec2, MBEDTLS_ECP_DP_SECP256R1);
    t_gen_ec(&t_p384, MBEDTLS_ECP_DP_SECP384R1);
    mbedtls_pk_init(&t_rsa);
    if (mbedtls_pk_setup(&t_rsa, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA)) != 0 ||
        mbedtls_rsa_gen_key(mbedtls_pk_rsa(t_rsa), mbedtls_ctr_drbg_random, &t_drbg, 1024,
                            65537) != 0)
        return -1;
    t_now = time(NULL);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    mbedtls_pk_free(&t_ec);
    mbedtls_pk_free(&t_ec2);
    mbedtls_pk_free(&t_p384);
    mbedtls_pk_free(&t_rsa);
    mbedtls_ctr_drbg_free(&t_drbg);
    mbedtls_entropy_free(&t_entropy);
    mbedtls_psa_crypto_free();
    return 0;
}

static void t_hex(const unsigned char *in, size_t n, char *out)
{
    static const char d[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[in[i] >> 4];
        out[2 * i + 1] = d[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static void t_decode_ok(const unsigned char *der, size_t len, time_t now, struct mxs_cert *c)
{
    char err[256] = "untouched";
    int rc = x509view_decode(der, len, now, c, err, sizeof err);
    if (rc != 0)
        fail_msg("decode failed: %s", err);
    assert_string_equal(err, "");
    assert_non_null(c->der);
    assert_int_equal(c->der_len, len);
    assert_memory_equal(c->der, der, len);
}

/* ---- tests ------------------------------------------------------------- */

static void test_leaf_fields(void **state)
{
    (void)state;
    static const char *const dns[] = { "mx.example.com", "mail.example.com" };
    static const char *const ips[] = { "192.0.2.25", "2001:db8::25" };
    static const char *const eku[] = { MBEDTLS_OID_SERVER_AUTH, MBEDTLS_OID_CLIENT_AUTH };
    static const unsigned char serial[] = { 0x0A, 0xBC, 0xDE, 0xF0, 0x12 };
    struct spec ca = { .subject = "C=DE,O=Test CA,CN=Test Root", .key = &t_ec2,
                       .nb = t_now - 86400, .na = t_now + 3650 * 86400LL,
                       .bc = 2, .pathlen = 2 };
    struct spec s = { .subject = "C=DE,O=Example,CN=mx.example.com",
                      .issuer = "C=DE,O=Test CA,CN=Test Root",
                      .key = &t_ec, .issuer_key = &t_ec2,
                      .nb = t_now - 10 * 86400LL, .na = t_now + 90 * 86400LL + 3600,
                      .dns = dns, .n_dns = 2, .ips = ips, .n_ips = 2,
                      .eku = eku, .n_eku = 2, .bc = 1,
                      .serial = serial, .serial_len = sizeof serial };
    size_t len, calen;
    unsigned char *der = t_make(&s, &len), *cader = t_make(&ca, &calen);
    struct mxs_cert c, cc;

    t_decode_ok(der, len, t_now, &c);
    assert_string_equal(c.subject, "C=DE, O=Example, CN=mx.example.com");
    assert_string_equal(c.issuer, "C=DE, O=Test CA, CN=Test Root");
    assert_string_equal(c.cn, "mx.example.com");
    assert_int_equal(c.n_san, 4);
    assert_int_equal(c.n_san_total, 4);
    assert_string_equal(c.san[0], "mx.example.com");
    assert_string_equal(c.san[1], "mail.example.com");
    assert_string_equal(c.san[2], "IP:192.0.2.25");
    assert_string_equal(c.san[3], "IP:2001:db8::25");
    assert_string_equal(c.serial, "0ABCDEF012");
    assert_int_equal(c.not_before, (int64_t)t_now - 10 * 86400LL);
    assert_int_equal(c.not_after, (int64_t)t_now + 90 * 86400LL + 3600);
    assert_int_equal(c.days_left, 90);
    assert_string_equal(c.key_type, "EC");
    assert_int_equal(c.key_bits, 256);
    assert_string_equal(c.curve, "secp256r1");
    assert_string_equal(c.sig_alg, "ECDSA with SHA-256");
    assert_int_equal(c.sig_weak, 0);
    assert_int_equal(c.has_eku, 1);
    assert_int_equal(c.eku, MXS_EKU_SERVER | MXS_EKU_CLIENT);
    assert_int_equal(c.has_basic_constraints, 1);
    assert_int_equal(c.is_ca, 0);
    assert_int_equal(c.max_pathlen, -1);
    assert_int_equal(c.self_issued, 0);
    assert_int_equal(c.verify_flags, 0);
    assert_int_equal(c.depth, 0);

    /* the CA: self-issued, pathlen 2, no EKU, 3650 days minus the day it
     * has been "valid" for ... computed from its own dates */
    t_decode_ok(cader, calen, t_now, &cc);
    assert_int_equal(cc.self_issued, 1);
    assert_int_equal(cc.has_basic_constraints, 1);
    assert_int_equal(cc.is_ca, 1);
    assert_int_equal(cc.max_pathlen, 2);
    assert_int_equal(cc.has_eku, 0);
    assert_int_equal(cc.eku, 0);
    assert_int_equal(cc.n_san, 0);
    assert_int_equal(cc.n_san_total, 0);
    assert_string_equal(cc.subject, c.issuer);
    assert_int_equal(cc.days_left, 3650);

    /* days_left relative to the given now, floor: one second before the
     * end -> 0, at the end -> 0, one second after -> -1 */
    x509view_clear(&c);
    t_decode_ok(der, len, (time_t)(s.na - 1), &c);
    assert_int_equal(c.days_left, 0);
    x509view_clear(&c);
    t_decode_ok(der, len, (time_t)s.na, &c);
    assert_int_equal(c.days_left, 0);
    x509view_clear(&c);
    t_decode_ok(der, len, (time_t)(s.na + 1), &c);
    assert_int_equal(c.days_left, -1);
    x509view_clear(&c);
    assert_null(c.der);
    assert_int_equal(c.der_len, 0);
    x509view_clear(&c); /* twice is harmless */
    x509view_clear(&cc);
    free(der);
    free(cader);
}

static void test_expired_and_future(void **state)
{
    (void)state;
    struct spec ex = { .subject = "CN=expired.example", .key = &t_ec,
                       .nb = t_now - 400 * 86400LL, .na = t_now - 86400 - 1 };
    struct spec fu = { .subject = "CN=future.example", .key = &t_ec,
                       .nb = t_now + 5 * 86400LL, .na = t_now + 400 * 86400LL };
    size_t l1, l2;
    unsigned char *d1 = t_make(&ex, &l1), *d2 = t_make(&fu, &l2);
    struct mxs_cert c;

    t_decode_ok(d1, l1, t_now, &c);
    assert_int_equal(c.days_left, -2); /* -1 day -1 s, floored */
    assert_true(c.not_after < (int64_t)t_now);
    assert_int_equal(c.self_issued, 1);
    assert_int_equal(c.has_basic_constraints, 0);
    assert_int_equal(c.max_pathlen, -1);
    x509view_clear(&c);

    t_decode_ok(d2, l2, t_now, &c);
    assert_int_equal(c.not_before, (int64_t)t_now + 5 * 86400LL);
    assert_true(c.not_before > (int64_t)t_now);
    assert_int_equal(c.days_left, 400);
    x509view_clear(&c);

    /* mbedTLS verification of the real certificates, mapped to our flags */
    mbedtls_x509_crt crt, trust;
    uint32_t flags = 0;
    mbedtls_x509_crt_init(&crt);
    mbedtls_x509_crt_init(&trust);
    assert_int_equal(mbedtls_x509_crt_parse_der(&crt, d1, l1), 0);
    assert_int_equal(mbedtls_x509_crt_parse_der(&trust, d2, l2), 0);
    (void)mbedtls_x509_crt_verify(&crt, &trust, NULL, "other.example", &flags, NULL, NULL);
    unsigned m = x509view_map_flags(flags);
    assert_true(m & MXS_V_EXPIRED);
    assert_true(m & MXS_V_NAME);
    assert_true(m & MXS_V_NOT_TRUSTED);
    char txt[128];
    mxs_verify_flags_text(m, txt, sizeof txt);
    assert_non_null(strstr(txt, "expired"));
    assert_non_null(strstr(txt, "name-mismatch"));
    mbedtls_x509_crt_free(&crt);
    mbedtls_x509_crt_free(&trust);
    free(d1);
    free(d2);
}

static void test_generalized_time(void **state)
{
    (void)state;
    /* 2060: GeneralizedTime; 2049-12-31 23:59:59: last UTCTime second */
    struct spec s = { .subject = "CN=long.example", .key = &t_ec,
                      .nb = 2524607999LL, .na = 2840140800LL };
    size_t l;
    unsigned char *d = t_make(&s, &l);
    struct mxs_cert c;
    t_decode_ok(d, l, (time_t)2524607999LL, &c);
    assert_int_equal(c.not_before, 2524607999LL);
    assert_int_equal(c.not_after, 2840140800LL);
    assert_int_equal(c.days_left, (int)((2840140800LL - 2524607999LL) / 86400));
    x509view_clear(&c);
    free(d);
}

static void test_rsa_weak(void **state)
{
    (void)state;
    struct spec s1 = { .subject = "CN=sha1.example", .key = &t_rsa,
                       .nb = t_now - 86400, .na = t_now + 86400, .md = MBEDTLS_MD_SHA1 };
    struct spec s2 = { .subject = "CN=rsa256.example", .key = &t_rsa,
                       .nb = t_now - 86400, .na = t_now + 86400, .md = MBEDTLS_MD_SHA256 };
    struct spec s3 = { .subject = "CN=p384.example", .key = &t_p384,
                       .nb = t_now - 86400, .na = t_now + 86400, .md = MBEDTLS_MD_SHA384 };
    size_t l;
    unsigned char *d;
    struct mxs_cert c;

    d = t_make(&s1, &l);
    t_decode_ok(d, l, t_now, &c);
    assert_string_equal(c.key_type, "RSA");
    assert_int_equal(c.key_bits, 1024);
    assert_string_equal(c.curve, "");
    assert_string_equal(c.sig_alg, "RSA with SHA-1");
    assert_int_equal(c.sig_weak, 1);
    x509view_clear(&c);
    free(d);

    d = t_make(&s2, &l);
    t_decode_ok(d, l, t_now, &c);
    assert_string_equal(c.sig_alg, "RSA with SHA-256");
    assert_int_equal(c.sig_weak, 0);
    assert_int_equal(c.key_bits, 1024);
    x509view_clear(&c);
    free(d);

    d = t_make(&s3, &l);
    t_decode_ok(d, l, t_now, &c);
    assert_string_equal(c.sig_alg, "ECDSA with SHA-384");
    assert_string_equal(c.key_type, "EC");
    assert_int_equal(c.key_bits, 384);
    assert_string_equal(c.curve, "secp384r1");
    x509view_clear(&c);
    free(d);
}

static void test_eku_variants(void **state)
{
    (void)state;
    static const char *const client[] = { MBEDTLS_OID_CLIENT_AUTH };
    static const char *const other[] = { MBEDTLS_OID_EMAIL_PROTECTION, MBEDTLS_OID_SERVER_AUTH };
    struct spec s = { .subject = "CN=client.example", .key = &t_ec,
                      .nb = t_now - 86400, .na = t_now + 86400, .eku = client, .n_eku = 1 };
    size_t l;
    unsigned char *d = t_make(&s, &l);
    struct mxs_cert c;
    t_decode_ok(d, l, t_now, &c);
    assert_int_equal(c.has_eku, 1);
    assert_int_equal(c.eku, MXS_EKU_CLIENT);
    x509view_clear(&c);
    free(d);

    s.eku = other;
    s.n_eku = 2;
    d = t_make(&s, &l);
    t_decode_ok(d, l, t_now, &c);
    assert_int_equal(c.eku, MXS_EKU_OTHER | MXS_EKU_SERVER);
    x509view_clear(&c);
    free(d);
}

static void test_ca_unlimited_pathlen(void **state)
{
    (void)state;
    struct spec s = { .subject = "CN=ca.example", .key = &t_ec, .nb = t_now - 86400,
                      .na = t_now + 86400, .bc = 2, .pathlen = -1 };
    size_t l;
    unsigned char *d = t_make(&s, &l);
    struct mxs_cert c;
    t_decode_ok(d, l, t_now, &c);
    assert_int_equal(c.is_ca, 1);
    assert_int_equal(c.max_pathlen, -1);
    x509view_clear(&c);
    s.pathlen = 0;
    free(d);
    d = t_make(&s, &l);
    t_decode_ok(d, l, t_now, &c);
    assert_int_equal(c.is_ca, 1);
    assert_int_equal(c.max_pathlen, 0);
    x509view_clear(&c);
    free(d);
}

static void test_serial_high_bit(void **state)
{
    (void)state;
    static const unsigned char ser[] = { 0x80, 0x00, 0xFF };
    struct spec s = { .subject = "CN=s.example", .key = &t_ec, .nb = t_now - 86400,
                      .na = t_now + 86400, .serial = ser, .serial_len = sizeof ser };
    size_t l;
    unsigned char *d = t_make(&s, &l);
    struct mxs_cert c;
    t_decode_ok(d, l, t_now, &c);
    assert_string_equal(c.serial, "8000FF");
    x509view_clear(&c);
    free(d);
}

/* Fingerprints: against PSA's hash API, and against openssl's. */
static void test_fingerprints(void **state)
{
    (void)state;
    struct spec s = { .subject = "CN=fp.example", .key = &t_ec, .nb = t_now - 86400,
                      .na = t_now + 86400 };
    size_t l, hl;
    unsigned char *d = t_make(&s, &l), h1[20], h2[32];
    char x1[41], x2[65], line[512];
    struct mxs_cert c;

    t_decode_ok(d, l, t_now, &c);
    assert_int_equal(psa_hash_compute(PSA_ALG_SHA_1, d, l, h1, sizeof h1, &hl), PSA_SUCCESS);
    t_hex(h1, 20, x1);
    assert_int_equal(psa_hash_compute(PSA_ALG_SHA_256, d, l, h2, sizeof h2, &hl), PSA_SUCCESS);
    t_hex(h2, 32, x2);
    assert_string_equal(c.sha1, x1);
    assert_string_equal(c.sha256, x2);
    assert_int_equal(strlen(c.sha1), 40);
    assert_int_equal(strlen(c.sha256), 64);

    char f1[41], f2[65];
    x509view_fingerprints(d, l, f1, f2);
    assert_string_equal(f1, x1);
    assert_string_equal(f2, x2);

    /* openssl x509 -fingerprint, colons removed */
    char tmpl[] = "/tmp/mxs-x509fp.XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, d, l), (ssize_t)l);
    close(fd);
    const char *algs[2] = { "-sha1", "-sha256" };
    const char *want[2] = { x1, x2 };
    for (int i = 0; i < 2; i++) {
        char cmd[256], got[128];
        size_t g = 0;
        snprintf(cmd, sizeof cmd,
                 "openssl x509 -inform DER -noout -fingerprint %s -in %s", algs[i], tmpl);
        FILE *p = popen(cmd, "r");
        assert_non_null(p);
        line[0] = '\0';
        if (fgets(line, sizeof line, p) == NULL)
            line[0] = '\0';
        int rc = pclose(p);
        if (rc != 0)
            fail_msg("openssl failed (%d): is openssl installed? line: %s", rc, line);
        char *eq = strchr(line, '=');
        assert_non_null(eq);
        for (char *q = eq + 1; *q && *q != '\n' && g + 1 < sizeof got; q++)
            if (*q != ':')
                got[g++] = *q;
        got[g] = '\0';
        assert_string_equal(got, want[i]);
    }
    unlink(tmpl);
    x509view_clear(&c);
    free(d);
}

static void test_many_sans(void **state)
{
    (void)state;
    struct spec s = { .subject = "CN=many.example", .key = &t_ec, .nb = t_now - 86400,
                      .na = t_now + 86400, .gen_dns = 10000 };
    size_t l;
    unsigned char *d = t_make(&s, &l);
    struct mxs_cert c;
    struct timespec a, b;

    clock_gettime(CLOCK_MONOTONIC, &a);
    t_decode_ok(d, l, t_now, &c);
    int m1 = x509view_matches_name(&c, "h09999.example.com");
    int m0 = x509view_matches_name(&c, "h10000.example.com");
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    printf("# 10,000-SAN certificate: %zu bytes, decode + 2 matches %.1f ms\n", l, ms);
    assert_true(ms < 2000.0);
    assert_int_equal(c.n_san, MXS_CERT_MAX_SAN);
    assert_int_equal(c.n_san_total, 10000);
    assert_string_equal(c.san[0], "h00000.example.com");
    assert_string_equal(c.san[MXS_CERT_MAX_SAN - 1], "h00063.example.com");
    /* the last SAN is far beyond the stored ones: found through the DER */
    assert_int_equal(m1, 1);
    assert_int_equal(m0, 0);
    assert_int_equal(x509view_matches_name(&c, "h00063.example.com"), 1);
    assert_int_equal(x509view_matches_name(&c, "many.example"), 0); /* CN ignored */
    /* without the DER only the stored ones can be checked (documented) */
    struct mxs_cert v = c;
    v.der = NULL;
    v.der_len = 0;
    assert_int_equal(x509view_matches_name(&v, "h00063.example.com"), 1);
    assert_int_equal(x509view_matches_name(&v, "h09999.example.com"), 0);
    assert_int_equal(x509view_matches_name(&v, "many.example"), 0);
    x509view_clear(&c);
    free(d);
}

struct mcase {
    const char *host;
    int want;
};

static void t_cases(const struct mxs_cert *c, const struct mcase *mc, size_t n, int also_view)
{
    struct mxs_cert v;
    for (size_t i = 0; i < n; i++) {
        int got = x509view_matches_name(c, mc[i].host);
        if (got != mc[i].want)
            fail_msg("matches_name(%s) = %d, want %d", mc[i].host ? mc[i].host : "NULL",
                     got, mc[i].want);
    }
    if (!also_view)
        return;
    v = *c;
    v.der = NULL;
    v.der_len = 0;
    for (size_t i = 0; i < n; i++) {
        int got = x509view_matches_name(&v, mc[i].host);
        if (got != mc[i].want)
            fail_msg("view-only matches_name(%s) = %d, want %d",
                     mc[i].host ? mc[i].host : "NULL", got, mc[i].want);
    }
}

static void test_match_sans(void **state)
{
    (void)state;
    static const char *const dns[] = { "mx.example.com", "*.mail.example.org",
                                       "Upper.Example.NET", "trailing.example.", "*.com",
                                       "f*.partial.example", "*.*.double.example",
                                       "www.*.inner.example", "*", "xn--bcher-kva.example" };
    static const char *const ips[] = { "192.0.2.7", "2001:db8::25" };
    struct spec s = { .subject = "CN=cn-ignored.example.com", .key = &t_ec,
                      .nb = t_now - 86400, .na = t_now + 86400, .dns = dns, .n_dns = 10,
                      .ips = ips, .n_ips = 2 };
    static const struct mcase mc[] = {
        { "mx.example.com", 1 }, { "MX.EXAMPLE.COM", 1 }, { "mx.example.com.", 1 },
        { "Mx.Example.Com.", 1 }, { "x.mx.example.com", 0 }, { "example.com", 0 },
        { "mx.example.co", 0 }, { "mx.example.comm", 0 }, { "mmx.example.com", 0 },
        { "a.mail.example.org", 1 }, { "A.Mail.Example.ORG.", 1 },
        { "mail.example.org", 0 }, { "a.b.mail.example.org", 0 },
        { ".mail.example.org", 0 }, { "amail.example.org", 0 },
        { "upper.example.net", 1 }, { "UPPER.EXAMPLE.NET", 1 },
        { "trailing.example", 1 }, { "trailing.example.", 1 },
        { "example.com", 0 }, { "foo.com", 0 },              /* "*.com" refused */
        { "foo.partial.example", 0 }, { "f.partial.example", 0 },
        { "a.b.double.example", 0 }, { "www.x.inner.example", 0 },
        { "localhost", 0 }, { "xn--bcher-kva.example", 1 },
        { "cn-ignored.example.com", 0 },                       /* dNSName present */
        { "192.0.2.7", 1 }, { "192.0.2.8", 0 }, { "2001:db8::25", 1 },
        { "2001:DB8:0::25", 1 }, { "2001:db8::26", 0 },
        { "", 0 }, { ".", 0 }, { "*.mail.example.org", 0 }, { "mx..example.com", 0 },
        { ".mx.example.com", 0 }, { "mx.example.com..", 0 }, { NULL, 0 },
    };
    size_t l;
    unsigned char *d = t_make(&s, &l);
    struct mxs_cert c;
    t_decode_ok(d, l, t_now, &c);
    assert_int_equal(c.n_san, 12);
    assert_int_equal(c.n_san_total, 12);
    t_cases(&c, mc, sizeof mc / sizeof mc[0], 1);
    assert_int_equal(x509view_matches_name(NULL, "mx.example.com"), 0);
    x509view_clear(&c);
    free(d);
}

static void test_match_cn_only(void **state)
{
    (void)state;
    struct spec s = { .subject = "O=Org,CN=cn-only.example.com", .key = &t_ec,
                      .extra_cn = "first.example", .nb = t_now - 86400, .na = t_now + 86400 };
    static const struct mcase mc[] = {
        { "cn-only.example.com", 1 }, { "CN-ONLY.example.com.", 1 },
        { "first.example", 0 },       /* the last CN is the one */
        { "other.example.com", 0 }, { "example.com", 0 }, { "192.0.2.1", 0 },
    };
    size_t l;
    unsigned char *d = t_make(&s, &l);
    struct mxs_cert c;
    t_decode_ok(d, l, t_now, &c);
    assert_string_equal(c.subject, "O=Org, CN=first.example, CN=cn-only.example.com");
    assert_string_equal(c.cn, "cn-only.example.com");
    assert_int_equal(c.n_san, 0);
    t_cases(&c, mc, sizeof mc / sizeof mc[0], 1);
    x509view_clear(&c);
    free(d);

    /* wildcard CN, no SAN */
    struct spec w = { .subject = "CN=*.wild.example", .key = &t_ec, .nb = t_now - 86400,
                      .na = t_now + 86400 };
    static const struct mcase mw[] = {
        { "a.wild.example", 1 }, { "wild.example", 0 }, { "a.b.wild.example", 0 },
    };
    d = t_make(&w, &l);
    t_decode_ok(d, l, t_now, &c);
    t_cases(&c, mw, sizeof mw / sizeof mw[0], 1);
    x509view_clear(&c);
    free(d);

    /* only an iPAddress SAN: no dNSName, so the CN still counts for names,
     * and the IP only through the iPAddress SAN */
    static const char *const ips[] = { "198.51.100.1" };
    struct spec ip = { .subject = "CN=ipcn.example", .key = &t_ec, .nb = t_now - 86400,
                       .na = t_now + 86400, .ips = ips, .n_ips = 1 };
    static const struct mcase mi[] = {
        { "ipcn.example", 1 }, { "198.51.100.1", 1 }, { "198.51.100.2", 0 },
    };
    d = t_make(&ip, &l);
    t_decode_ok(d, l, t_now, &c);
    t_cases(&c, mi, sizeof mi / sizeof mi[0], 1);
    x509view_clear(&c);
    free(d);

    /* a CN that is an IP address never matches that IP */
    struct spec cip = { .subject = "CN=192.0.2.9", .key = &t_ec, .nb = t_now - 86400,
                        .na = t_now + 86400 };
    d = t_make(&cip, &l);
    t_decode_ok(d, l, t_now, &c);
    assert_int_equal(x509view_matches_name(&c, "192.0.2.9"), 0);
    x509view_clear(&c);
    free(d);
}

static void test_match_embedded_nul(void **state)
{
    (void)state;
    static const char nulname[] = "good.example\0.evil.example";
    static const char *const dns[] = { nulname };
    static const size_t lens[] = { sizeof nulname - 1 };
    struct spec s = { .subject = "CN=good.example", .key = &t_ec, .nb = t_now - 86400,
                      .na = t_now + 86400, .dns = dns, .n_dns = 1, .dns_len = lens };
    size_t l;
    unsigned char *d = t_make(&s, &l);
    struct mxs_cert c;
    t_decode_ok(d, l, t_now, &c);
    /* Kept raw with its length (not the text "\\x00", which was escaped
     * again on output), shown once escaped. */
    assert_int_equal(c.san_len[0], sizeof nulname - 1);
    assert_memory_equal(c.san[0], nulname, sizeof nulname - 1);
    char t[80];
    mxs_escape_name(MXS_CERT_NAME(c.san[0], c.san_len[0]), t, sizeof t, 0);
    assert_string_equal(t, "good.example\\x00.evil.example");
    static const struct mcase mc[] = {
        { "good.example", 0 }, { "evil.example", 0 }, { ".evil.example", 0 },
    };
    t_cases(&c, mc, sizeof mc / sizeof mc[0], 1);
    x509view_clear(&c);
    free(d);
}

static void test_pem_round_trip(void **state)
{
    (void)state;
    static const char *const dns[] = { "pem.example" };
    struct spec s = { .subject = "CN=pem.example", .key = &t_ec, .nb = t_now - 86400,
                      .na = t_now + 86400, .dns = dns, .n_dns = 1 };
    size_t l;
    unsigned char *d = t_make(&s, &l);
    char pem[8192];
    int n = x509view_pem(d, l, pem, sizeof pem);
    assert_true(n > 0);
    assert_int_equal((size_t)n, strlen(pem));
    assert_true(strncmp(pem, "-----BEGIN CERTIFICATE-----\n", 28) == 0);
    assert_non_null(strstr(pem, "\n-----END CERTIFICATE-----\n"));
    assert_int_equal(pem[n - 1], '\n');
    /* base64 lines: 64 characters each except the last */
    const char *p = pem + 28;
    int full = 0, lines = 0, last = 0;
    while (strncmp(p, "-----END", 8) != 0) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        int ll = (int)(nl - p);
        assert_true(ll > 0 && ll <= 64);
        if (ll == 64)
            full++;
        last = ll;
        lines++;
        p = nl + 1;
    }
    assert_true(lines >= 2);
    assert_true(full == lines || (full == lines - 1 && last < 64));

    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    assert_int_equal(mbedtls_x509_crt_parse(&crt, (const unsigned char *)pem, (size_t)n + 1), 0);
    assert_int_equal(crt.raw.len, l);
    assert_memory_equal(crt.raw.p, d, l);
    mbedtls_x509_crt_free(&crt);

    /* too small: -1 and an empty string, never an overflow */
    char small[64];
    memset(small, 'Z', sizeof small);
    assert_int_equal(x509view_pem(d, l, small, sizeof small), -1);
    assert_int_equal(small[0], '\0');
    /* exactly fitting buffer works, one less does not */
    char *exact = malloc((size_t)n + 1);
    assert_non_null(exact);
    assert_int_equal(x509view_pem(d, l, exact, (size_t)n + 1), n);
    assert_string_equal(exact, pem);
    assert_int_equal(x509view_pem(d, l, exact, (size_t)n), -1);
    free(exact);
    free(d);
}

/* The PEM body decoder the transcript loader uses: mbedTLS's base64, held
 * to strict RFC 4648 (padding only at the end, nothing but the alphabet). */
static void test_pem_base64(void **state)
{
    (void)state;
    unsigned char o[16];
    size_t n = 99;
    assert_int_equal(x509view_pem_base64("TWFu", 4, o, sizeof o, &n), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(o, "Man", 3);
    assert_int_equal(x509view_pem_base64("TWFuTWE=", 8, o, sizeof o, &n), 0);
    assert_int_equal(n, 5);
    assert_memory_equal(o, "ManMa", 5);
    assert_int_equal(x509view_pem_base64("TQ==", 4, o, sizeof o, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(x509view_pem_base64("", 0, o, sizeof o, &n), 0);
    assert_int_equal(n, 0);
    static const char *const bad[] = {
        "TWE",       /* no padding: mbedTLS alone takes it */
        "TWFu ",     /* a space at the end: mbedTLS alone takes it */
        "TW\nFuTWE=", /* a line break inside */
        "TWFu\r\n",
        "TQ=A",      /* data after '=' */
        "T===",      /* three '=' */
        "TW-u",      /* not the alphabet (base64url) */
        "TWF\x80",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = 99;
        if (x509view_pem_base64(bad[i], strlen(bad[i]), o, sizeof o, &n) != -1)
            fail_msg("\"%s\" decoded", bad[i]);
        assert_int_equal(n, 0);
    }
    /* out too small */
    assert_int_equal(x509view_pem_base64("TWFuTWFu", 8, o, 5, &n), -1);
}

static void test_garbage(void **state)
{
    (void)state;
    struct mxs_cert c;
    char err[256];
    unsigned char junk[512];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)(i * 37 + 11);
    memset(&c, 0x55, sizeof c); /* decode must not trust what was there */
    assert_int_equal(x509view_decode(junk, sizeof junk, t_now, &c, err, sizeof err), -1);
    assert_true(strlen(err) > 0);
    assert_non_null(strstr(err, "cannot decode the certificate: "));
    assert_null(c.der);
    assert_int_equal(c.n_san, 0);
    x509view_clear(&c);
    assert_int_equal(x509view_decode(junk, 0, t_now, &c, err, sizeof err), -1);
    assert_string_equal(err, "empty certificate");
    assert_int_equal(x509view_decode(NULL, 10, t_now, &c, err, sizeof err), -1);
    /* an empty SEQUENCE, and a truncated real certificate */
    static const unsigned char seq0[] = { 0x30, 0x00 };
    assert_int_equal(x509view_decode(seq0, sizeof seq0, t_now, &c, err, sizeof err), -1);
    struct spec s = { .subject = "CN=t.example", .key = &t_ec, .nb = t_now - 86400,
                      .na = t_now + 86400 };
    size_t l;
    unsigned char *d = t_make(&s, &l);
    for (size_t cut = 1; cut < l; cut += 7) {
        assert_int_equal(x509view_decode(d, cut, t_now, &c, err, sizeof err), -1);
        assert_null(c.der);
    }
    /* one flipped bit in the signature algorithm OID area must not crash */
    for (size_t i = 0; i < l; i += 3) {
        d[i] ^= 0x41;
        if (x509view_decode(d, l, t_now, &c, err, sizeof err) == 0) {
            (void)x509view_matches_name(&c, "t.example");
            x509view_clear(&c);
        }
        d[i] ^= 0x41;
    }
    /* err may be NULL */
    assert_int_equal(x509view_decode(junk, sizeof junk, t_now, &c, NULL, 0), -1);
    free(d);
}

static void test_flags(void **state)
{
    (void)state;
    char buf[256];
    assert_int_equal(x509view_map_flags(0), 0);
    assert_int_equal(x509view_map_flags(MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_NOT_TRUSTED),
                     MXS_V_EXPIRED | MXS_V_NOT_TRUSTED);
    assert_int_equal(x509view_map_flags(MBEDTLS_X509_BADCERT_FUTURE), MXS_V_FUTURE);
    assert_int_equal(x509view_map_flags(MBEDTLS_X509_BADCERT_CN_MISMATCH), MXS_V_NAME);
    assert_int_equal(x509view_map_flags(MBEDTLS_X509_BADCERT_REVOKED), MXS_V_REVOKED);
    assert_int_equal(x509view_map_flags(MBEDTLS_X509_BADCERT_KEY_USAGE), MXS_V_KEY_USAGE);
    assert_int_equal(x509view_map_flags(MBEDTLS_X509_BADCERT_EXT_KEY_USAGE), MXS_V_EXT_KEY_USAGE);
    assert_int_equal(x509view_map_flags(MBEDTLS_X509_BADCERT_BAD_MD), MXS_V_BAD_MD);
    assert_int_equal(x509view_map_flags(MBEDTLS_X509_BADCERT_BAD_PK), MXS_V_BAD_PK);
    assert_int_equal(x509view_map_flags(MBEDTLS_X509_BADCERT_BAD_KEY), MXS_V_BAD_KEY);
    assert_int_equal(x509view_map_flags(MBEDTLS_X509_BADCERT_MISSING), MXS_V_MISSING);
    assert_int_equal(x509view_map_flags(MBEDTLS_X509_BADCERT_SKIP_VERIFY), MXS_V_SKIPPED);
    assert_int_equal(x509view_map_flags(MBEDTLS_X509_BADCERT_OTHER), MXS_V_OTHER);
    assert_int_equal(x509view_map_flags(MBEDTLS_X509_BADCRL_EXPIRED), MXS_V_OTHER);
    assert_int_equal(x509view_map_flags(1u << 30), MXS_V_OTHER);

    static const char *const names[] = { "expired", "not-yet-valid", "name-mismatch",
        "not-trusted", "revoked", "key-usage", "ext-key-usage", "weak-hash", "bad-pk-alg",
        "weak-key", "missing", "skipped", "other" };
    for (unsigned b = 0; b < 13; b++) {
        assert_string_equal(mxs_verify_flag_name(1u << b), names[b]);
        const char *w = mxs_verify_flag_words(1u << b);
        assert_non_null(w);
        assert_true(strlen(w) > strlen(names[b]));
    }
    assert_null(mxs_verify_flag_name(0));
    assert_null(mxs_verify_flag_name(1u << 13));
    assert_null(mxs_verify_flag_name(MXS_V_EXPIRED | MXS_V_FUTURE));
    assert_null(mxs_verify_flag_words(0));
    assert_string_equal(mxs_verify_flag_words(MXS_V_EXPIRED), "the certificate has expired");
    assert_string_equal(mxs_verify_flag_words(MXS_V_NOT_TRUSTED),
                        "no chain to a trusted root: an intermediate is missing or the root is not trusted");

    assert_int_equal(mxs_verify_flags_text(0, buf, sizeof buf), 2);
    assert_string_equal(buf, "ok");
    assert_int_equal(mxs_verify_flags_text(MXS_V_EXPIRED | MXS_V_NOT_TRUSTED, buf, sizeof buf),
                     strlen("expired, not-trusted"));
    assert_string_equal(buf, "expired, not-trusted");
    mxs_verify_flags_text(MXS_V_OTHER | (1u << 20), buf, sizeof buf);
    assert_string_equal(buf, "other, unknown(0x100000)");
    /* cut like snprintf */
    char small[8];
    size_t need = mxs_verify_flags_text(MXS_V_EXPIRED | MXS_V_FUTURE, small, sizeof small);
    assert_int_equal(need, strlen("expired, not-yet-valid"));
    assert_string_equal(small, "expired");
    assert_int_equal(mxs_verify_flags_text(MXS_V_EXPIRED, NULL, 0), 7);
    /* all 13 at once fit */
    need = mxs_verify_flags_text((1u << 13) - 1, buf, sizeof buf);
    assert_int_equal(need, strlen(buf));
    assert_non_null(strstr(buf, "expired, not-yet-valid, name-mismatch"));
    assert_non_null(strstr(buf, "skipped, other"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leaf_fields),
        cmocka_unit_test(test_expired_and_future),
        cmocka_unit_test(test_generalized_time),
        cmocka_unit_test(test_rsa_weak),
        cmocka_unit_test(test_eku_variants),
        cmocka_unit_test(test_ca_unlimited_pathlen),
        cmocka_unit_test(test_serial_high_bit),
        cmocka_unit_test(test_fingerprints),
        cmocka_unit_test(test_many_sans),
        cmocka_unit_test(test_match_sans),
        cmocka_unit_test(test_match_cn_only),
        cmocka_unit_test(test_match_embedded_nul),
        cmocka_unit_test(test_pem_round_trip),
        cmocka_unit_test(test_pem_base64),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_flags),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
