/*
 * labcert.c - throw-away certificates for the lab and the tests.
 * Owned by the lab module; see labcert.h.
 */
#include "lab/labcert.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/ecp.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/psa_util.h>
#include <mbedtls/rsa.h>
#include <mbedtls/sha1.h>
#include <mbedtls/sha256.h>
#include <psa/crypto.h>

#define LABCERT_DER_MAX 4096

static void labcert_err(char *err, size_t errlen, const char *what, int ret)
{
    char m[128];
    if (!err || errlen == 0)
        return;
    if (ret != 0) {
        mbedtls_strerror(ret, m, sizeof m);
        snprintf(err, errlen, "%s: %s (-0x%04x)", what, m, (unsigned)-ret);
    } else {
        snprintf(err, errlen, "%s", what);
    }
}

static void labcert_hex(const unsigned char *in, size_t n, char *out)
{
    static const char hx[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[in[i] >> 4];
        out[2 * i + 1] = hx[in[i] & 15];
    }
    out[2 * n] = '\0';
}

void labcert_sha1_hex(const unsigned char *der, size_t len, char out[41])
{
    unsigned char h[20];
    if (mbedtls_sha1(der, len, h) != 0) {
        out[0] = '\0';
        return;
    }
    labcert_hex(h, sizeof h, out);
}

void labcert_sha256_hex(const unsigned char *der, size_t len, char out[65])
{
    unsigned char h[32];
    if (mbedtls_sha256(der, len, h, 0) != 0) {
        out[0] = '\0';
        return;
    }
    labcert_hex(h, sizeof h, out);
}

int labcert_can_sha1(void)
{
#if defined(MBEDTLS_MD_CAN_SHA1)
    return 1;
#else
    return 0;
#endif
}

void labcert_init(struct labcert *c)
{
    memset(c, 0, sizeof *c);
    mbedtls_pk_init(&c->key);
}

void labcert_free(struct labcert *c)
{
    if (!c)
        return;
    free(c->der);
    mbedtls_pk_free(&c->key);
    memset(c, 0, sizeof *c);
    mbedtls_pk_init(&c->key);
}

/* "YYYYMMDDhhmmss" in UTC, the only format x509write accepts. */
static int labcert_time(time_t t, char out[16])
{
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return -1;
    if (strftime(out, 16, "%Y%m%d%H%M%S", &tm) != 14)
        return -1;
    return 0;
}

static int labcert_genkey(mbedtls_pk_context *pk, enum labcert_key kt)
{
    int ret;
    if (kt == LABCERT_EC_P256) {
        ret = mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
        if (ret == 0)
            ret = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*pk),
                                      mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE);
        return ret;
    }
    ret = mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA));
    if (ret == 0)
        ret = mbedtls_rsa_gen_key(mbedtls_pk_rsa(*pk), mbedtls_psa_get_random,
                                  MBEDTLS_PSA_RANDOM_STATE,
                                  kt == LABCERT_RSA_1024 ? 1024 : 2048, 65537);
    return ret;
}

int labcert_make(struct labcert *out, const struct labcert_spec *spec,
                 const struct labcert *issuer, char *err, size_t errlen)
{
    mbedtls_x509write_cert w;
    mbedtls_x509_san_list san[LABCERT_MAX_SAN];
    mbedtls_asn1_sequence eku[2];
    unsigned char serial[16];
    unsigned char *buf = NULL;
    char nb[16], na[16];
    int ret, n_san = 0, n_eku = 0;
    time_t now = time(NULL);
    time_t not_before = spec->not_before, not_after = spec->not_after;
    mbedtls_md_type_t md = spec->md == MBEDTLS_MD_NONE ? MBEDTLS_MD_SHA256 : spec->md;

    labcert_free(out);
    if (!spec->subject || strlen(spec->subject) >= sizeof out->subject) {
        labcert_err(err, errlen, "labcert: subject missing or too long", 0);
        return -1;
    }
    if (md == MBEDTLS_MD_SHA1 && !labcert_can_sha1()) {
        labcert_err(err, errlen, "labcert: this mbedTLS cannot sign with SHA-1", 0);
        return -1;
    }
    ret = (int)psa_crypto_init();
    if (ret != PSA_SUCCESS) {
        labcert_err(err, errlen, "labcert: psa_crypto_init failed", 0);
        return -1;
    }
    if (not_before == 0 && not_after == 0) {
        not_before = now - 86400;
        not_after = now + 90 * 86400;
    }
    if (labcert_time(not_before, nb) != 0 || labcert_time(not_after, na) != 0) {
        labcert_err(err, errlen, "labcert: validity dates out of range", 0);
        return -1;
    }

    ret = labcert_genkey(&out->key, spec->key);
    if (ret != 0) {
        labcert_err(err, errlen, "labcert: key generation", ret);
        goto fail_nowriter;
    }
    snprintf(out->subject, sizeof out->subject, "%s", spec->subject);

    mbedtls_x509write_crt_init(&w);
    mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&w, md);
    mbedtls_x509write_crt_set_subject_key(&w, &out->key);
    mbedtls_x509write_crt_set_issuer_key(&w, issuer ? (mbedtls_pk_context *)&issuer->key
                                                    : &out->key);

    /* A positive 128-bit random serial, like public CAs: distinct certificates
     * from one issuer must never share a serial. */
    ret = mbedtls_psa_get_random(MBEDTLS_PSA_RANDOM_STATE, serial, sizeof serial);
    if (ret != 0)
        goto fail;
    serial[0] = (unsigned char)((serial[0] & 0x7f) | 0x10);
    if ((ret = mbedtls_x509write_crt_set_serial_raw(&w, serial, sizeof serial)) != 0)
        goto fail;
    if ((ret = mbedtls_x509write_crt_set_validity(&w, nb, na)) != 0)
        goto fail;
    if ((ret = mbedtls_x509write_crt_set_subject_name(&w, spec->subject)) != 0)
        goto fail;
    if ((ret = mbedtls_x509write_crt_set_issuer_name(
             &w, issuer ? issuer->subject : spec->subject)) != 0)
        goto fail;
    if ((ret = mbedtls_x509write_crt_set_basic_constraints(
             &w, spec->is_ca ? 1 : 0, spec->is_ca ? spec->max_pathlen : -1)) != 0)
        goto fail;
    if ((ret = mbedtls_x509write_crt_set_subject_key_identifier(&w)) != 0)
        goto fail;
    if ((ret = mbedtls_x509write_crt_set_authority_key_identifier(&w)) != 0)
        goto fail;
    {
        unsigned ku;
        if (spec->is_ca)
            ku = MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN;
        else if (spec->key == LABCERT_EC_P256)
            ku = MBEDTLS_X509_KU_DIGITAL_SIGNATURE;
        else
            ku = MBEDTLS_X509_KU_DIGITAL_SIGNATURE | MBEDTLS_X509_KU_KEY_ENCIPHERMENT;
        if ((ret = mbedtls_x509write_crt_set_key_usage(&w, ku)) != 0)
            goto fail;
    }

    memset(san, 0, sizeof san);
    for (int i = 0; i < LABCERT_MAX_SAN && spec->san[i]; i++) {
        san[i].node.type = MBEDTLS_X509_SAN_DNS_NAME;
        san[i].node.san.unstructured_name.tag =
            MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_X509_SAN_DNS_NAME;
        san[i].node.san.unstructured_name.p = (unsigned char *)(uintptr_t)spec->san[i];
        san[i].node.san.unstructured_name.len = strlen(spec->san[i]);
        if (i > 0)
            san[i - 1].next = &san[i];
        n_san++;
    }
    if (n_san > 0 && (ret = mbedtls_x509write_crt_set_subject_alternative_name(&w, san)) != 0)
        goto fail;

    memset(eku, 0, sizeof eku);
    if (spec->eku & LABCERT_EKU_SERVER) {
        eku[n_eku].buf.tag = MBEDTLS_ASN1_OID;
        eku[n_eku].buf.p = (unsigned char *)(uintptr_t)MBEDTLS_OID_SERVER_AUTH;
        eku[n_eku].buf.len = MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH);
        n_eku++;
    }
    if (spec->eku & LABCERT_EKU_CLIENT) {
        eku[n_eku].buf.tag = MBEDTLS_ASN1_OID;
        eku[n_eku].buf.p = (unsigned char *)(uintptr_t)MBEDTLS_OID_CLIENT_AUTH;
        eku[n_eku].buf.len = MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH);
        n_eku++;
    }
    if (n_eku == 2)
        eku[0].next = &eku[1];
    if (n_eku > 0 && (ret = mbedtls_x509write_crt_set_ext_key_usage(&w, eku)) != 0)
        goto fail;

    buf = malloc(LABCERT_DER_MAX);
    if (!buf) {
        ret = MBEDTLS_ERR_X509_ALLOC_FAILED;
        goto fail;
    }
    /* x509write writes at the end of the buffer and returns the length. */
    ret = mbedtls_x509write_crt_der(&w, buf, LABCERT_DER_MAX, mbedtls_psa_get_random,
                                    MBEDTLS_PSA_RANDOM_STATE);
    if (ret <= 0) {
        if (ret == 0)
            ret = MBEDTLS_ERR_X509_BAD_INPUT_DATA;
        goto fail;
    }
    out->der_len = (size_t)ret;
    out->der = malloc(out->der_len);
    if (!out->der) {
        ret = MBEDTLS_ERR_X509_ALLOC_FAILED;
        goto fail;
    }
    memcpy(out->der, buf + LABCERT_DER_MAX - out->der_len, out->der_len);
    free(buf);
    mbedtls_x509write_crt_free(&w);
    labcert_sha1_hex(out->der, out->der_len, out->sha1);
    labcert_sha256_hex(out->der, out->der_len, out->sha256);
    return 0;

fail:
    labcert_err(err, errlen, "labcert: writing the certificate", ret);
    free(buf);
    mbedtls_x509write_crt_free(&w);
fail_nowriter:
    labcert_free(out);
    return -1;
}

int labcert_pem(const struct labcert *c, char *out, size_t outlen)
{
    size_t olen = 0;
    int ret = mbedtls_pem_write_buffer("-----BEGIN CERTIFICATE-----\n",
                                       "-----END CERTIFICATE-----\n", c->der, c->der_len,
                                       (unsigned char *)out, outlen, &olen);
    if (ret != 0 || olen == 0)
        return -1;
    return (int)(olen - 1); /* olen counts the NUL */
}

int labcert_chain_add(mbedtls_x509_crt *chain, const struct labcert *c)
{
    return mbedtls_x509_crt_parse_der(chain, c->der, c->der_len);
}
