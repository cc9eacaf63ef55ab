/*
 * x509view.h - DER certificate to the plain struct mxs_cert (core.h).
 *
 * The only module besides tls.c that includes mbedTLS headers.  Decoding and
 * formatting are apart: x509view_decode() fills the struct with raw values
 * (strings NUL-terminated but not escaped), the text/JSON writers format.
 * Bounded: at most MXS_CERT_MAX_SAN SANs are stored (n_san_total counts all),
 * every string is cut to its field.
 */
#ifndef MXS_X509VIEW_H
#define MXS_X509VIEW_H
#include <stddef.h>
#include <time.h>
#include "core.h"

/* Decode der (copied into c->der, which the caller later frees with
 * x509view_clear).  now: the reference time for days_left.
 * Returns 0, or -1 with an mbedTLS error text in err. */
int x509view_decode(const unsigned char *der, size_t len, time_t now,
                    struct mxs_cert *c, char *err, size_t errlen);
void x509view_clear(struct mxs_cert *c);

/* Does the certificate cover host name (SAN dNSName, wildcard in the left-
 * most label only as RFC 6125; CN only when there is no dNSName SAN)? */
int x509view_matches_name(const struct mxs_cert *c, const char *host);

/* Map mbedTLS MBEDTLS_X509_BADCERT_* flags to MXS_V_* flags. */
unsigned x509view_map_flags(uint32_t mbedtls_flags);

/* PEM text of a DER certificate into out (NUL-terminated); returns length
 * or -1 when it does not fit. */
int x509view_pem(const unsigned char *der, size_t len, char *out, size_t outlen);

/* SHA-1 / SHA-256 of der as uppercase hex. */
void x509view_fingerprints(const unsigned char *der, size_t len, char sha1[41],
                           char sha256[65]);

#endif
