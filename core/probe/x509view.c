/*
 * x509view.c - DER certificate to struct mxs_cert, name matching, PEM,
 * fingerprints, verify-flag words.
 *
 * Owner: the certificate-view module (x509view.h).  This file and tls.c
 * (with tls_chain.c) are the only places that include mbedTLS headers, so a
 * move to mbedTLS 4.x stays local.  Everything here treats the certificate as hostile: every
 * copy is bounded by its destination, lists are walked once, and nothing is
 * printed (core never writes to stdout/stderr).
 */
#include "probe/x509view.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/asn1.h>
#include <mbedtls/base64.h>
#include <mbedtls/ecp.h>
#include <mbedtls/error.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha1.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>
#include <mbedtls/x509.h>
#include <mbedtls/x509_crt.h>

/* A certificate larger than this is not something a TLS server can send in
 * practice (a handshake message tops out at 16 MiB, mbedTLS' default input
 * buffer at 16 KiB); the cap keeps a hostile caller from making us copy and
 * parse arbitrary amounts.  A 10,000-SAN certificate is about 250 KiB. */
#define X509VIEW_MAX_DER (4u * 1024u * 1024u)

static const char x509view_hexdig[] = "0123456789ABCDEF";

/* Uppercase hex of in[0..len) into out (outlen bytes incl. NUL); bytes that
 * do not fit are dropped whole, never half a byte. */
static void x509view_hex(const unsigned char *in, size_t len, char *out,
                         size_t outlen)
{
    size_t o = 0;
    if (outlen == 0)
        return;
    for (size_t i = 0; i < len && o + 2 < outlen; i++) {
        out[o++] = x509view_hexdig[in[i] >> 4];
        out[o++] = x509view_hexdig[in[i] & 15];
    }
    out[o] = '\0';
}

/* A raw name into a bounded field: the first bytes that fit (NUL bytes
 * included, so "good.example\0.evil.example" keeps its tail), then a NUL;
 * *total counts every byte offered, so a cut is never silent. */
struct x509view_put {
    char *dst;
    size_t cap, n;      /* stored bytes (at most cap - 1) */
    size_t *total;
};

static void x509view_put(struct x509view_put *w, const void *p, size_t len)
{
    size_t room = w->cap > w->n + 1 ? w->cap - 1 - w->n : 0;
    size_t k = len < room ? len : room;
    memcpy(w->dst + w->n, p, k);
    w->n += k;
    w->dst[w->n] = '\0';
    *w->total += len;
}

static void x509view_put_cp(struct x509view_put *w, uint32_t cp)
{
    unsigned char t[4];
    size_t n;
    if (cp < 0x80) { t[0] = (unsigned char)cp; n = 1; }
    else if (cp < 0x800) { t[0] = (unsigned char)(0xC0 | cp >> 6); t[1] = (unsigned char)(0x80 | (cp & 0x3F)); n = 2; }
    else if (cp < 0x10000) {
        t[0] = (unsigned char)(0xE0 | cp >> 12);
        t[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        t[2] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        t[0] = (unsigned char)(0xF0 | cp >> 18);
        t[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        t[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        t[3] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    x509view_put(w, t, n);
}

/* A BMPString (UCS-2) or UniversalString (UCS-4), big-endian, as UTF-8;
 * 0 when it is not a well-formed one (odd length, a surrogate, beyond
 * U+10FFFF): then the caller keeps the bytes as they are. */
static uint32_t x509view_ucs_at(const unsigned char *p, size_t unit)
{
    return unit == 2 ? (uint32_t)p[0] << 8 | p[1]
                     : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int x509view_put_ucs(struct x509view_put *w, const unsigned char *p, size_t len,
                            size_t unit)
{
    if (len % unit != 0)
        return 0;
    for (size_t i = 0; i < len; i += unit) {
        uint32_t cp = x509view_ucs_at(p + i, unit);
        if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            return 0;
    }
    for (size_t i = 0; i < len; i += unit)
        x509view_put_cp(w, x509view_ucs_at(p + i, unit));
    return 1;
}

/* One attribute value as text: the string types as their bytes (BMP and
 * Universal strings converted to UTF-8), anything else as "#" and hex
 * (RFC 4514's form for a value that is not a string). */
static void x509view_put_value(struct x509view_put *w, const mbedtls_asn1_buf *v)
{
    switch (v->tag) {
    case MBEDTLS_ASN1_BMP_STRING:
        if (x509view_put_ucs(w, v->p, v->len, 2))
            return;
        break;
    case MBEDTLS_ASN1_UNIVERSAL_STRING:
        if (x509view_put_ucs(w, v->p, v->len, 4))
            return;
        break;
    case MBEDTLS_ASN1_UTF8_STRING:
    case MBEDTLS_ASN1_PRINTABLE_STRING:
    case MBEDTLS_ASN1_IA5_STRING:
    case MBEDTLS_ASN1_T61_STRING:
    case 0x1A: /* VisibleString */
    case 0x12: /* NumericString */
        break;
    default: {
        x509view_put(w, "#", 1);
        for (size_t i = 0; i < v->len; i++) {
            char h[2] = { x509view_hexdig[v->p[i] >> 4], x509view_hexdig[v->p[i] & 15] };
            x509view_put(w, h, 2);
        }
        return;
    }
    }
    x509view_put(w, v->p, v->len);
}

/* A raw name (one value) into dst, its whole length into *total. */
static void x509view_copy_raw(char *dst, size_t dstlen, const unsigned char *src, size_t len,
                              size_t *total)
{
    struct x509view_put w = { dst, dstlen, 0, total };
    *total = 0;
    dst[0] = '\0';
    x509view_put(&w, src, len);
}

/* The distinguished name as "CN=mx.example, O=Example", in certificate
 * order, attributes of one multi-valued RDN joined by " + " (mbedTLS's
 * layout).  Built here from the attribute list and not with
 * mbedtls_x509_dn_gets(), which escapes (so we escaped twice), keeps
 * nothing when a value exceeds its 256-byte buffer, and stops at a NUL.
 * Values are kept raw, without RFC 4514 quoting: they are escaped once
 * when shown (mxs_escape_name). */
static void x509view_dn(char *dst, size_t dstlen, size_t *total, const mbedtls_x509_name *dn)
{
    struct x509view_put w = { dst, dstlen, 0, total };
    int first = 1, merged = 0;

    *total = 0;
    dst[0] = '\0';
    for (const mbedtls_x509_name *n = dn; n != NULL; n = n->next) {
        const char *sn = NULL;
        if (n->oid.p == NULL)
            continue;
        if (!first)
            x509view_put(&w, merged ? " + " : ", ", merged ? 3 : 2);
        first = 0;
        if (mbedtls_oid_get_attr_short_name(&n->oid, &sn) == 0 && sn != NULL) {
            x509view_put(&w, sn, strlen(sn));
        } else {
            char oid[64];
            int k = mbedtls_oid_get_numeric_string(oid, sizeof oid, &n->oid);
            x509view_put(&w, k > 0 ? oid : "?", k > 0 ? (size_t)k : 1);
        }
        x509view_put(&w, "=", 1);
        x509view_put_value(&w, &n->val);
        merged = n->MBEDTLS_PRIVATE(next_merged) != 0;
    }
}

static int64_t x509view_time(const mbedtls_x509_time *t)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = t->year - 1900;
    tm.tm_mon = t->mon - 1;
    tm.tm_mday = t->day;
    tm.tm_hour = t->hour;
    tm.tm_min = t->min;
    tm.tm_sec = t->sec;
    /* timegm: the certificate's times are UTC; mktime would apply the local
     * zone and DST of whoever runs the tool. */
    return (int64_t)timegm(&tm);
}


static const char *x509view_md_name(mbedtls_md_type_t md)
{
    switch (md) {
    case MBEDTLS_MD_MD5: return "MD5";
    case MBEDTLS_MD_SHA1: return "SHA-1";
    case MBEDTLS_MD_SHA224: return "SHA-224";
    case MBEDTLS_MD_SHA256: return "SHA-256";
    case MBEDTLS_MD_SHA384: return "SHA-384";
    case MBEDTLS_MD_SHA512: return "SHA-512";
    case MBEDTLS_MD_RIPEMD160: return "RIPEMD-160";
    case MBEDTLS_MD_SHA3_224: return "SHA3-224";
    case MBEDTLS_MD_SHA3_256: return "SHA3-256";
    case MBEDTLS_MD_SHA3_384: return "SHA3-384";
    case MBEDTLS_MD_SHA3_512: return "SHA3-512";
    default: return "unknown hash";
    }
}

static void x509view_sig(const mbedtls_x509_crt *crt, struct mxs_cert *c)
{
    mbedtls_md_type_t md = MBEDTLS_MD_NONE;
    mbedtls_pk_type_t pk = MBEDTLS_PK_NONE;
    const char *alg;

    if (mbedtls_oid_get_sig_alg(&crt->sig_oid, &md, &pk) != 0) {
        snprintf(c->sig_alg, sizeof c->sig_alg, "unknown");
        return;
    }
    /* For RSASSA-PSS the hash is in the parameters, not in the OID: only
     * the parsed certificate knows it (a private field in 3.6). */
    if (pk == MBEDTLS_PK_RSASSA_PSS)
        md = crt->MBEDTLS_PRIVATE(sig_md);
    switch (pk) {
    case MBEDTLS_PK_RSA: alg = "RSA"; break;
    case MBEDTLS_PK_ECDSA: alg = "ECDSA"; break;
    case MBEDTLS_PK_RSASSA_PSS: alg = "RSASSA-PSS"; break;
    default: alg = "unknown"; break;
    }
    snprintf(c->sig_alg, sizeof c->sig_alg, "%s with %s", alg, x509view_md_name(md));
    c->sig_weak = (md == MBEDTLS_MD_MD5 || md == MBEDTLS_MD_SHA1);
}

static void x509view_key(const mbedtls_x509_crt *crt, struct mxs_cert *c)
{
    mbedtls_pk_type_t t = mbedtls_pk_get_type(&crt->pk);
    c->key_bits = (int)mbedtls_pk_get_bitlen(&crt->pk);
    switch (t) {
    case MBEDTLS_PK_RSA:
        snprintf(c->key_type, sizeof c->key_type, "RSA");
        break;
    case MBEDTLS_PK_ECKEY:
    case MBEDTLS_PK_ECKEY_DH:
    case MBEDTLS_PK_ECDSA: {
        const mbedtls_ecp_keypair *kp = mbedtls_pk_ec(crt->pk);
        snprintf(c->key_type, sizeof c->key_type, "EC");
        if (kp != NULL) {
            const mbedtls_ecp_curve_info *ci =
                mbedtls_ecp_curve_info_from_grp_id(mbedtls_ecp_keypair_get_group_id(kp));
            if (ci != NULL)
                snprintf(c->curve, sizeof c->curve, "%s", ci->name);
        }
        break;
    }
    default: {
        const char *n = mbedtls_pk_get_name(&crt->pk);
        snprintf(c->key_type, sizeof c->key_type, "%s", n ? n : "unknown");
        break;
    }
    }
}

static int x509view_is_tag(const mbedtls_x509_buf *b, int san_type)
{
    return b->tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | san_type);
}

/* Text for an iPAddress SAN: "IP:" + literal; odd lengths (hostile or
 * name-constraint style address+mask) as hex so nothing is lost. */
static void x509view_ip_text(const mbedtls_x509_buf *b, char *out, size_t outlen)
{
    char lit[INET6_ADDRSTRLEN];
    if (b->len == 4 && inet_ntop(AF_INET, b->p, lit, sizeof lit) != NULL) {
        snprintf(out, outlen, "IP:%s", lit);
    } else if (b->len == 16 && inet_ntop(AF_INET6, b->p, lit, sizeof lit) != NULL) {
        snprintf(out, outlen, "IP:%s", lit);
    } else {
        char hex[2 * 32 + 1];
        x509view_hex(b->p, b->len, hex, sizeof hex);
        snprintf(out, outlen, "IP:?%s", hex);
    }
}

static void x509view_sans(const mbedtls_x509_crt *crt, struct mxs_cert *c)
{
    /* One pass over however many entries there are: count all, store the
     * first MXS_CERT_MAX_SAN.  No per-entry allocation or sorting, so a
     * 10,000-entry SAN costs a linear walk. */
    for (const mbedtls_x509_sequence *s = &crt->subject_alt_names; s != NULL; s = s->next) {
        const mbedtls_x509_buf *b = &s->buf;
        int dns = x509view_is_tag(b, MBEDTLS_X509_SAN_DNS_NAME);
        int ip = x509view_is_tag(b, MBEDTLS_X509_SAN_IP_ADDRESS);
        if (b->p == NULL || (!dns && !ip))
            continue;
        if (c->n_san_total < INT_MAX)
            c->n_san_total++;
        if (c->n_san >= MXS_CERT_MAX_SAN)
            continue;
        if (dns)
            x509view_copy_raw(c->san[c->n_san], sizeof c->san[0], b->p, b->len,
                              &c->san_len[c->n_san]);
        else
            x509view_ip_text(b, c->san[c->n_san], sizeof c->san[0]);
        if (!dns)
            c->san_len[c->n_san] = strlen(c->san[c->n_san]);
        c->n_san++;
    }
}

static void x509view_cn(const mbedtls_x509_crt *crt, struct mxs_cert *c)
{
    /* The last CN is the most specific one (RFC 6125 6.4.4). */
    const mbedtls_x509_name *last = NULL;
    for (const mbedtls_x509_name *n = &crt->subject; n != NULL; n = n->next) {
        if (n->oid.p != NULL && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0)
            last = n;
    }
    if (last != NULL) {
        struct x509view_put w = { c->cn, sizeof c->cn, 0, &c->cn_len };
        x509view_put_value(&w, &last->val);
    }
}

static void x509view_eku(const mbedtls_x509_crt *crt, struct mxs_cert *c)
{
    c->has_eku = mbedtls_x509_crt_has_ext_type(crt, MBEDTLS_X509_EXT_EXTENDED_KEY_USAGE) != 0;
    if (!c->has_eku)
        return;
    for (const mbedtls_x509_sequence *s = &crt->ext_key_usage; s != NULL; s = s->next) {
        if (s->buf.p == NULL)
            continue;
        if (MBEDTLS_OID_CMP(MBEDTLS_OID_SERVER_AUTH, &s->buf) == 0)
            c->eku |= MXS_EKU_SERVER;
        else if (MBEDTLS_OID_CMP(MBEDTLS_OID_CLIENT_AUTH, &s->buf) == 0)
            c->eku |= MXS_EKU_CLIENT;
        else
            c->eku |= MXS_EKU_OTHER;
    }
}

static void x509view_basic(const mbedtls_x509_crt *crt, struct mxs_cert *c)
{
    c->max_pathlen = -1;
    c->has_basic_constraints =
        mbedtls_x509_crt_has_ext_type(crt, MBEDTLS_X509_EXT_BASIC_CONSTRAINTS) != 0;
    if (!c->has_basic_constraints)
        return;
    c->is_ca = mbedtls_x509_crt_get_ca_istrue(crt) == 1;
    /* mbedTLS stores pathLenConstraint + 1, and 0 for "absent"; there is no
     * public accessor in 3.6. */
    int mp = crt->MBEDTLS_PRIVATE(max_pathlen);
    if (c->is_ca && mp > 0)
        c->max_pathlen = mp - 1;
}

int x509view_decode(const unsigned char *der, size_t len, time_t now,
                    struct mxs_cert *c, char *err, size_t errlen)
{
    mbedtls_x509_crt crt;
    int ret;

    memset(c, 0, sizeof *c);
    c->max_pathlen = -1;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (der == NULL || len == 0) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "empty certificate");
        return -1;
    }
    if (len > X509VIEW_MAX_DER) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "certificate of %zu bytes is larger than %u",
                     len, X509VIEW_MAX_DER);
        return -1;
    }

    mbedtls_x509_crt_init(&crt);
    ret = mbedtls_x509_crt_parse_der(&crt, der, len);
    if (ret != 0) {
        if (err != NULL && errlen > 0) {
            char e[160];
            mbedtls_strerror(ret, e, sizeof e);
            snprintf(err, errlen, "cannot decode the certificate: %s (-0x%04X)", e, (unsigned)-ret);
        }
        mbedtls_x509_crt_free(&crt);
        return -1;
    }
    c->der = malloc(len);
    if (c->der == NULL) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "out of memory");
        mbedtls_x509_crt_free(&crt);
        return -1;
    }
    memcpy(c->der, der, len);
    c->der_len = len;

    x509view_dn(c->subject, sizeof c->subject, &c->subject_len, &crt.subject);
    x509view_dn(c->issuer, sizeof c->issuer, &c->issuer_len, &crt.issuer);
    x509view_cn(&crt, c);
    x509view_sans(&crt, c);
    {
        /* A positive serial with its top bit set carries a 0x00 sign byte
         * in DER; the number (and what openssl and mbedTLS print) has none. */
        const unsigned char *sp = crt.serial.p;
        size_t sl = crt.serial.len;
        while (sl > 1 && sp[0] == 0x00) {
            sp++;
            sl--;
        }
        x509view_hex(sp, sl, c->serial, sizeof c->serial);
    }
    c->not_before = x509view_time(&crt.valid_from);
    c->not_after = x509view_time(&crt.valid_to);
    c->days_left = mxs_days_left(c->not_after, (int64_t)now);
    x509view_key(&crt, c);
    x509view_sig(&crt, c);
    x509view_fingerprints(der, len, c->sha1, c->sha256);
    {
        unsigned char h[32];
        if (mbedtls_sha256(crt.pk_raw.p, crt.pk_raw.len, h, 0) == 0)
            x509view_hex(h, sizeof h, c->spki_sha256, sizeof c->spki_sha256);
    }
    x509view_eku(&crt, c);
    x509view_basic(&crt, c);
    c->self_issued = crt.subject_raw.len == crt.issuer_raw.len &&
                     (crt.subject_raw.len == 0 ||
                      memcmp(crt.subject_raw.p, crt.issuer_raw.p, crt.subject_raw.len) == 0);
    mbedtls_x509_crt_free(&crt);
    return 0;
}

void x509view_clear(struct mxs_cert *c)
{
    if (c == NULL)
        return;
    free(c->der);
    c->der = NULL;
    c->der_len = 0;
}

/* ---- name matching (RFC 6125) ----------------------------------------- */

struct x509view_host {
    char name[256];     /* lower-cased, no trailing dot */
    size_t len;
    int family;         /* 0 name, 4 or 6 IP literal */
    unsigned char ip[16];
};

static int x509view_lower(int ch)
{
    return (ch >= 'A' && ch <= 'Z') ? ch - 'A' + 'a' : ch;
}

static int x509view_host_prepare(const char *host, struct x509view_host *h)
{
    size_t n;
    if (host == NULL)
        return -1;
    n = strlen(host);
    if (n > 0 && host[n - 1] == '.')
        n--;
    if (n == 0 || n >= sizeof h->name)
        return -1;
    for (size_t i = 0; i < n; i++)
        h->name[i] = (char)x509view_lower((unsigned char)host[i]);
    h->name[n] = '\0';
    h->len = n;
    h->family = 0;
    if (inet_pton(AF_INET, h->name, h->ip) == 1) {
        h->family = 4;
        return 0;
    }
    if (inet_pton(AF_INET6, h->name, h->ip) == 1) {
        h->family = 6;
        return 0;
    }
    /* A reference identifier with a wildcard or an empty label is not a
     * host name; never let it match (it could match a literal "*" SAN). */
    if (memchr(h->name, '*', n) != NULL || h->name[0] == '.' ||
        strstr(h->name, "..") != NULL)
        return -1;
    return 0;
}

static int x509view_eq_ci(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (x509view_lower((unsigned char)a[i]) != x509view_lower((unsigned char)b[i]))
            return 0;
    return 1;
}

/* One presented DNS identifier (raw bytes, may hold anything) against a
 * prepared host name. */
static int x509view_match_pattern(const unsigned char *p, size_t plen,
                                  const struct x509view_host *h)
{
    const char *pat = (const char *)p;
    if (h->family != 0)
        return 0;
    if (plen > 0 && pat[plen - 1] == '.')
        plen--;
    if (plen == 0 || memchr(pat, '\0', plen) != NULL)
        return 0;
    if (plen >= 2 && pat[0] == '*' && pat[1] == '.') {
        const char *rest = pat + 2;
        size_t rlen = plen - 2;
        const char *dot;
        /* At least two labels after the wildcard: "*.com" is refused. */
        if (rlen == 0 || memchr(rest, '*', rlen) != NULL ||
            memchr(rest, '.', rlen) == NULL || rest[0] == '.')
            return 0;
        dot = memchr(h->name, '.', h->len);
        if (dot == NULL || dot == h->name) /* one label, non-empty */
            return 0;
        if (h->len - (size_t)(dot + 1 - h->name) != rlen)
            return 0;
        return x509view_eq_ci(dot + 1, rest, rlen);
    }
    if (memchr(pat, '*', plen) != NULL) /* partial or inner wildcard */
        return 0;
    return plen == h->len && x509view_eq_ci(pat, h->name, plen);
}

/* Matching against the DER: every SAN, exact types.  Returns 1/0, or -1
 * when the DER cannot be parsed (the caller falls back to the view). */
static int x509view_match_der(const struct mxs_cert *c, const struct x509view_host *h)
{
    mbedtls_x509_crt crt;
    int have_dns = 0, match = 0;

    mbedtls_x509_crt_init(&crt);
    if (mbedtls_x509_crt_parse_der(&crt, c->der, c->der_len) != 0) {
        mbedtls_x509_crt_free(&crt);
        return -1;
    }
    for (const mbedtls_x509_sequence *s = &crt.subject_alt_names; s != NULL && !match;
         s = s->next) {
        const mbedtls_x509_buf *b = &s->buf;
        if (b->p == NULL)
            continue;
        if (x509view_is_tag(b, MBEDTLS_X509_SAN_DNS_NAME)) {
            have_dns = 1;
            match = x509view_match_pattern(b->p, b->len, h);
        } else if (x509view_is_tag(b, MBEDTLS_X509_SAN_IP_ADDRESS) && h->family != 0) {
            size_t want = h->family == 4 ? 4 : 16;
            match = b->len == want && memcmp(b->p, h->ip, want) == 0;
        }
    }
    if (!match && !have_dns && h->family == 0) {
        const mbedtls_x509_name *last = NULL;
        for (const mbedtls_x509_name *n = &crt.subject; n != NULL; n = n->next)
            if (n->oid.p != NULL && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0)
                last = n;
        if (last != NULL)
            match = x509view_match_pattern(last->val.p, last->val.len, h);
    }
    mbedtls_x509_crt_free(&crt);
    return match;
}

/* Matching against the stored view only (no DER): san[] holds dNSNames and
 * "IP:" entries; only the stored ones can be checked. */
static int x509view_match_view(const struct mxs_cert *c, const struct x509view_host *h)
{
    int have_dns = 0;
    int n = c->n_san;
    if (n < 0)
        n = 0;
    if (n > MXS_CERT_MAX_SAN)
        n = MXS_CERT_MAX_SAN;
    for (int i = 0; i < n; i++) {
        const char *s = c->san[i];
        size_t sl = mxs_name_stored(s, sizeof c->san[0], c->san_len[i]);
        if (c->san_len[i] > sl)
            continue; /* cut: its prefix is not the name */
        if (sl >= 3 && memcmp(s, "IP:", 3) == 0) {
            unsigned char ip[16];
            if (h->family == 4 && inet_pton(AF_INET, s + 3, ip) == 1 &&
                memcmp(ip, h->ip, 4) == 0)
                return 1;
            if (h->family == 6 && inet_pton(AF_INET6, s + 3, ip) == 1 &&
                memcmp(ip, h->ip, 16) == 0)
                return 1;
            continue;
        }
        have_dns = 1;
        if (x509view_match_pattern((const unsigned char *)s, sl, h))
            return 1;
    }
    if (!have_dns && c->n_san_total <= c->n_san && h->family == 0)
        return c->cn_len <= mxs_name_stored(c->cn, sizeof c->cn, c->cn_len) &&
               x509view_match_pattern((const unsigned char *)c->cn,
                                      mxs_name_stored(c->cn, sizeof c->cn, c->cn_len), h);
    return 0;
}

int x509view_matches_name(const struct mxs_cert *c, const char *host)
{
    struct x509view_host h;
    if (c == NULL || x509view_host_prepare(host, &h) != 0)
        return 0;
    if (c->der != NULL && c->der_len > 0 && c->der_len <= X509VIEW_MAX_DER) {
        int r = x509view_match_der(c, &h);
        if (r >= 0)
            return r;
    }
    return x509view_match_view(c, &h);
}

/* ---- flags ------------------------------------------------------------ */

unsigned x509view_map_flags(uint32_t f)
{
    static const struct { uint32_t from; unsigned to; } map[] = {
        { MBEDTLS_X509_BADCERT_EXPIRED, MXS_V_EXPIRED },
        { MBEDTLS_X509_BADCERT_FUTURE, MXS_V_FUTURE },
        { MBEDTLS_X509_BADCERT_CN_MISMATCH, MXS_V_NAME },
        { MBEDTLS_X509_BADCERT_NOT_TRUSTED, MXS_V_NOT_TRUSTED },
        { MBEDTLS_X509_BADCERT_REVOKED, MXS_V_REVOKED },
        { MBEDTLS_X509_BADCERT_KEY_USAGE, MXS_V_KEY_USAGE },
        { MBEDTLS_X509_BADCERT_EXT_KEY_USAGE, MXS_V_EXT_KEY_USAGE },
        /* Netscape cert type is a usage restriction like EKU. */
        { MBEDTLS_X509_BADCERT_NS_CERT_TYPE, MXS_V_EXT_KEY_USAGE },
        { MBEDTLS_X509_BADCERT_BAD_MD, MXS_V_BAD_MD },
        { MBEDTLS_X509_BADCERT_BAD_PK, MXS_V_BAD_PK },
        { MBEDTLS_X509_BADCERT_BAD_KEY, MXS_V_BAD_KEY },
        { MBEDTLS_X509_BADCERT_MISSING, MXS_V_MISSING },
        { MBEDTLS_X509_BADCERT_SKIP_VERIFY, MXS_V_SKIPPED },
        { MBEDTLS_X509_BADCERT_OTHER, MXS_V_OTHER },
    };
    unsigned out = 0;
    uint32_t known = 0;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        known |= map[i].from;
        if (f & map[i].from)
            out |= map[i].to;
    }
    /* CRL flags (we load no CRLs) and bits a later mbedTLS may add: never
     * drop a failure silently. */
    if (f & ~known)
        out |= MXS_V_OTHER;
    return out;
}


/* ---- PEM and fingerprints --------------------------------------------- */

int x509view_pem(const unsigned char *der, size_t len, char *out, size_t outlen)
{
    size_t olen = 0;
    if (der == NULL || out == NULL || outlen == 0 || len > X509VIEW_MAX_DER)
        return -1;
    /* mbedtls_pem_write_buffer: base64 in 64-character lines, '\n' ends,
     * olen counts the terminating NUL. */
    if (mbedtls_pem_write_buffer("-----BEGIN CERTIFICATE-----\n",
                                 "-----END CERTIFICATE-----\n", der, len,
                                 (unsigned char *)out, outlen, &olen) != 0) {
        out[0] = '\0';
        return -1;
    }
    if (olen == 0 || olen > (size_t)INT_MAX) {
        out[0] = '\0';
        return -1;
    }
    out[olen - 1] = '\0';
    return (int)strlen(out);
}

int x509view_pem_base64(const char *in, size_t n, unsigned char *out, size_t outlen, size_t *olen)
{
    /* mbedtls_base64_decode() is lenient where a PEM reader may be: it
     * skips line breaks and spaces before them and takes a body without its
     * '=' padding.  The loaders hand over the lines joined, so either is
     * damage here: refused before mbedTLS decodes (it refuses any other
     * character, more than two '=' and anything after one). */
    *olen = 0;
    if (n % 4 != 0 || memchr(in, ' ', n) || memchr(in, '\r', n) || memchr(in, '\n', n))
        return -1;
    size_t got = 0;
    if (mbedtls_base64_decode(out, outlen, &got, (const unsigned char *)in, n) != 0)
        return -1;
    *olen = got;
    return 0;
}

void x509view_fingerprints(const unsigned char *der, size_t len, char sha1[41],
                           char sha256[65])
{
    unsigned char h1[20], h256[32];
    if (mbedtls_sha1(der, len, h1) != 0)
        memset(h1, 0, sizeof h1);
    if (mbedtls_sha256(der, len, h256, 0) != 0)
        memset(h256, 0, sizeof h256);
    x509view_hex(h1, sizeof h1, sha1, 41);
    x509view_hex(h256, sizeof h256, sha256, 65);
}

/* ---- DANE ------------------------------------------------------------- */

int x509view_tlsa_match(const unsigned char *der, size_t len, const struct mxs_tlsa *t)
{
    mbedtls_x509_crt crt;
    const unsigned char *sel;
    size_t sel_len;
    unsigned char h[64];
    int r = -1;

    if (t->selector > 1 || t->mtype > 2 || der == NULL || len == 0 || len > X509VIEW_MAX_DER)
        return -1;
    if (t->mtype == 0 && t->truncated)
        return -1; /* the exact data did not fit the facts: cannot compare */
    mbedtls_x509_crt_init(&crt);
    if (mbedtls_x509_crt_parse_der_nocopy(&crt, der, len) != 0) {
        mbedtls_x509_crt_free(&crt);
        return 0;
    }
    if (t->selector == 0) {
        sel = der;
        sel_len = len;
    } else {
        sel = crt.pk_raw.p;
        sel_len = crt.pk_raw.len;
    }
    switch (t->mtype) {
    case 0:
        r = sel_len == t->len && memcmp(sel, t->data, sel_len) == 0;
        break;
    case 1:
        r = mbedtls_sha256(sel, sel_len, h, 0) == 0 && t->len == 32 && memcmp(h, t->data, 32) == 0;
        break;
    case 2:
        r = mbedtls_sha512(sel, sel_len, h, 0) == 0 && t->len == 64 && memcmp(h, t->data, 64) == 0;
        break;
    }
    mbedtls_x509_crt_free(&crt);
    return r;
}

unsigned x509view_verify_to_anchor(const unsigned char *const *der, const size_t *len, int n,
                                   const unsigned char *anchor, size_t alen)
{
    mbedtls_x509_crt chain, ta;
    uint32_t flags = 0;
    unsigned out;
    mbedtls_x509_crt_init(&chain);
    mbedtls_x509_crt_init(&ta);
    for (int i = 0; i < n; i++)
        if (mbedtls_x509_crt_parse_der(&chain, der[i], len[i]) != 0) {
            out = MXS_V_OTHER;
            goto done;
        }
    if (n == 0 || mbedtls_x509_crt_parse_der(&ta, anchor, alen) != 0) {
        out = MXS_V_OTHER;
        goto done;
    }
    /* The TLSA record makes the anchor trusted; no host name here. */
    if (mbedtls_x509_crt_verify(&chain, &ta, NULL, NULL, &flags, NULL, NULL) == 0)
        out = 0;
    else
        out = x509view_map_flags(flags) ? x509view_map_flags(flags) : MXS_V_OTHER;
done:
    mbedtls_x509_crt_free(&chain);
    mbedtls_x509_crt_free(&ta);
    return out;
}
