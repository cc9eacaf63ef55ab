/*
 * x509view.h - DER certificate to the plain struct mxs_cert (core.h).
 * Owner: x509view.c (certificate view).  Also implements
 * mxs_verify_flag_name() and mxs_verify_flags_text() of core.h.
 *
 * The only module besides tls.c / tls_chain.c that includes mbedTLS headers.  Decoding and
 * formatting are apart: x509view_decode() fills the struct with raw values
 * (strings NUL-terminated but not escaped), the text/JSON writers format.
 * Bounded: at most MXS_CERT_MAX_SAN SANs are stored (n_san_total counts all),
 * every name is cut to its field with its whole length kept.
 *
 * Field conventions of x509view_decode():
 *   san[]      dNSName entries as they are; iPAddress entries as "IP:" +
 *              the literal ("IP:192.0.2.1", "IP:2001:db8::1"), so a view
 *              can tell them apart.  n_san_total counts every dNSName and
 *              iPAddress entry (other SAN types are ignored).
 *   cn         the last (most specific) CN of the subject, "" if none.
 *   subject, issuer  "CN=mx.example, O=Example": attributes in certificate
 *              order, ", " between RDNs, " + " inside a multi-valued one,
 *              short names from mbedTLS (else the dotted OID), values raw
 *              (no RFC 4514 quoting; non-string values as "#" + hex).
 *   Every name is raw bytes with its length (core.h, struct mxs_cert):
 *   NUL bytes stay NUL ("a.com\0.evil" is 12 bytes, never "a.com"),
 *   BMPString/UniversalString values become UTF-8, nothing is escaped;
 *   a name longer than its field keeps its first bytes and its whole
 *   length (subject/issuer 511 bytes, CN and SAN 255).  Show them only
 *   through mxs_escape_name().
 *   max_pathlen  RFC 5280 value; -1 when unlimited or not a CA.
 *   key_type   "RSA", "EC" (curve: "secp256r1" ...), else mbedTLS's name.
 *   sig_alg    "RSA with SHA-256", "ECDSA with SHA-384", "RSASSA-PSS" ...
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
/* Details of x509view_matches_name():
 *  - when c->der is set, the SAN list is read again from the DER, so every
 *    SAN counts (not only the MXS_CERT_MAX_SAN stored) and SAN types are
 *    exact; otherwise the stored san[] / cn are used;
 *  - case-insensitive (ASCII), one trailing dot on either side ignored;
 *  - "*" only as the whole left-most label, matching exactly one non-empty
 *    label, and only with at least two labels after it ("*.com" never
 *    matches); "f*.example.com" never matches anything;
 *  - an IP literal host matches iPAddress SANs only (never dNSName or CN);
 *  - CN is used only when the certificate has no dNSName SAN;
 *  - NUL bytes inside a name, empty labels, a '*' in host: no match. */

/* Map mbedTLS MBEDTLS_X509_BADCERT_* flags to MXS_V_* flags. */
unsigned x509view_map_flags(uint32_t mbedtls_flags);

/* PEM text of a DER certificate into out (NUL-terminated); returns length
 * or -1 when it does not fit. */
int x509view_pem(const unsigned char *der, size_t len, char *out, size_t outlen);

/* The base64 body of a PEM block (its lines joined, without the BEGIN and
 * END lines) into out: strict RFC 4648 base64, '=' padding only at the end,
 * nothing else (no spaces, no line breaks).  0 and *olen, or -1 (bad input,
 * or out too small: 3 bytes per 4 characters are enough).  The transcript
 * loader (session_text_appendix.c) reads the saved chain with it. */
int x509view_pem_base64(const char *in, size_t n, unsigned char *out, size_t outlen, size_t *olen);

/* SHA-1 / SHA-256 of der as uppercase hex. */
void x509view_fingerprints(const unsigned char *der, size_t len, char sha1[41],
                           char sha256[65]);

/* DANE (RFC 6698/7671): does the certificate der match a TLSA record's
 * selector (0 full certificate, 1 SubjectPublicKeyInfo) and matching type
 * (0 exact, 1 SHA-256, 2 SHA-512) with data?  1 match, 0 no match, -1 the
 * record cannot be used (unknown selector/type, exact data cut short). */
int x509view_tlsa_match(const unsigned char *der, size_t len, const struct mxs_tlsa *t);

/* DANE-TA(2): do the certificates chain[0..n) (leaf first) verify up to
 * anchor, the certificate a TLSA record matched?  0 yes, else the mbedTLS
 * verify flags mapped to MXS_V_* (name not checked: the caller does). */
unsigned x509view_verify_to_anchor(const unsigned char *const *der, const size_t *len, int n,
                                   const unsigned char *anchor, size_t alen);

#endif
