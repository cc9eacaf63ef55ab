/*
 * labcert.h - certificate factory for the built-in lab and the tests.
 *
 * Makes throw-away certificates with mbedTLS x509write: CAs, leaves with
 * chosen names, validity windows, key types, signature hashes and EKU.
 * Nothing is ever stored in the repository: callers make what they need at
 * run time (the lab at lab_start(), unit tests in their set-up).
 * Randomness comes from PSA (mbedtls_psa_get_random), which is thread-safe
 * in this build, so a lab thread and a client thread can both make or use
 * keys; psa_crypto_init() is called here (it is idempotent).
 *
 * Ownership: struct labcert owns its DER bytes and its private key;
 * labcert_free() releases both.  Owned by the lab module (core/lab.c).
 */
#ifndef MXS_LABCERT_H
#define MXS_LABCERT_H
#include <stddef.h>
#include <time.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

enum labcert_key {
    LABCERT_EC_P256 = 0,   /* default: key generation takes a millisecond   */
    LABCERT_RSA_1024,      /* the weak-key scenario                         */
    LABCERT_RSA_2048
};

enum { LABCERT_EKU_SERVER = 1, LABCERT_EKU_CLIENT = 2 };

#define LABCERT_MAX_SAN 4

struct labcert_spec {
    const char *subject;           /* "CN=mx.lab.mxscope.test,O=mxscope lab" */
    const char *san[LABCERT_MAX_SAN + 1]; /* dNSNames, NULL-terminated       */
    time_t not_before, not_after;  /* UTC; 0/0: yesterday .. +90 days       */
    enum labcert_key key;
    mbedtls_md_type_t md;          /* issuer's signature hash; NONE: SHA-256 */
    int is_ca;                     /* basicConstraints CA, keyCertSign      */
    int max_pathlen;               /* CAs only; -1: no limit                */
    unsigned eku;                  /* LABCERT_EKU_* bits; 0: no extension   */
};

struct labcert {
    unsigned char *der;            /* the certificate, DER                  */
    size_t der_len;
    mbedtls_pk_context key;        /* its private key                       */
    char subject[256];             /* as given in the spec (issuer name of children) */
    char sha1[41];                 /* uppercase hex thumbprint of der       */
    char sha256[65];
};

void labcert_init(struct labcert *c);
void labcert_free(struct labcert *c);

/* Make a certificate into out (labcert_init()ed; an old content is freed).
 * issuer NULL: self-signed with the new key.
 * Returns 0, or -1 with a reason in err. */
int labcert_make(struct labcert *out, const struct labcert_spec *spec,
                 const struct labcert *issuer, char *err, size_t errlen);

/* 1 when this mbedTLS can hash (and so sign) with SHA-1. */
int labcert_can_sha1(void);

/* PEM of the certificate into out (NUL-terminated); returns the length
 * without the NUL, or -1 when out is too small. */
int labcert_pem(const struct labcert *c, char *out, size_t outlen);

/* Append DER certificates, in the given order, to an initialised chain (what
 * a server sends).  Returns 0, or an mbedTLS error. */
int labcert_chain_add(mbedtls_x509_crt *chain, const struct labcert *c);

/* Uppercase hex SHA-1 / SHA-256 of arbitrary DER (out: 41 / 65 bytes). */
void labcert_sha1_hex(const unsigned char *der, size_t len, char out[41]);
void labcert_sha256_hex(const unsigned char *der, size_t len, char out[65]);

#endif
