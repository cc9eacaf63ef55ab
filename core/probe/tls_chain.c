/*
 * tls_chain.c - the certificates of a TLS client (tls.c): the chain as
 * sent, copied between handshake steps (tls_capture_chain); a Certificate
 * message mbedTLS refused, named (tls_cert_msg_scan, tls_refused_analyse);
 * and the path we build over the chain as OpenSSL does, each link verified
 * by mbedTLS (verify_path), read out by tls_client_chain, tls_client_path
 * and tls_client_verify_result (tls.h).
 *
 * Apart from tls.c because it judges certificates, not the connection:
 * the handshake driver only calls the two hooks of tls_int.h.  Private
 * access as in tls.c: the chain of a handshake that failed half-way is only
 * in session_negotiate, and the refused message only in in_msg.
 */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS
#include <stdlib.h>
#include <string.h>

#include <mbedtls/oid.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "probe/tls.h"
#include "probe/tls_int.h"
#include "probe/x509view.h"

/* Copy the certificates the server sent, once, as soon as mbedTLS holds
 * them: in TLS 1.2 session_negotiate->peer_cert is set once the whole
 * Certificate message parsed, in TLS 1.3 while it is parsed (a failure
 * half-way keeps the ones before); after the handshake they move to
 * session.  A handshake failing after the Certificate message (key
 * exchange, a missing client certificate) still shows the chain. */
void tls_capture_chain(struct tls_client *c)
{
    if (c->n_chain_total > 0)
        return;
    const mbedtls_x509_crt *p = NULL;
    if (c->ssl.session_negotiate && c->ssl.session_negotiate->peer_cert)
        p = c->ssl.session_negotiate->peer_cert;
    else if (c->ssl.session && c->ssl.session->peer_cert)
        p = c->ssl.session->peer_cert;
    for (; p && p->raw.p; p = p->next) {
        c->n_chain_total++;
        if (c->n_chain >= TLS_MAX_SENT)
            continue;
        unsigned char *d = malloc(p->raw.len);
        if (!d)
            continue;
        memcpy(d, p->raw.p, p->raw.len);
        c->chain[c->n_chain].der = d;
        c->chain[c->n_chain].len = p->raw.len;
        c->chain[c->n_chain].path_pos = -1;
        c->n_chain++;
    }
}

/* One DER TLV at p (n bytes): tag, header and content length; -1 if it
 * does not fit. */
static int der_tlv(const unsigned char *p, size_t n, int *tag, size_t *hdr, size_t *len)
{
    if (n < 2)
        return -1;
    *tag = p[0];
    size_t l = p[1], h = 2;
    if (l & 0x80) {
        size_t k = l & 0x7f;
        if (k == 0 || k > 3 || n < 2 + k)
            return -1;
        l = 0;
        for (size_t i = 0; i < k; i++)
            l = l << 8 | p[2 + i];
        h += k;
    }
    if (l > n - h)
        return -1;
    *hdr = h;
    *len = l;
    return 0;
}

/* An iPAddress SAN entry of a length other than 4 or 16 in one DER
 * certificate: the entry's index (0-based) and length, or -1.  Minimal on
 * purpose: mbedTLS refused the certificate, this only names why. */
static int odd_ip_san(const unsigned char *der, size_t n, int *entry_len)
{
    static const unsigned char oid[] = { 0x06, 0x03, 0x55, 0x1d, 0x11 };
    for (size_t i = 0; i + sizeof oid < n; i++) {
        if (memcmp(der + i, oid, sizeof oid))
            continue;
        const unsigned char *p = der + i + sizeof oid;
        size_t left = n - i - sizeof oid, h, l;
        int tag;
        if (left >= 3 && p[0] == 0x01 && p[1] == 0x01) /* critical */
            p += 3, left -= 3;
        if (der_tlv(p, left, &tag, &h, &l) || tag != 0x04)
            return -1;
        p += h, left = l;
        if (der_tlv(p, left, &tag, &h, &l) || tag != 0x30)
            return -1;
        p += h, left = l;
        for (int k = 0; left > 0; k++) {
            if (der_tlv(p, left, &tag, &h, &l))
                return -1;
            if (tag == 0x87 && l != 4 && l != 16) {
                *entry_len = (int)l;
                return k;
            }
            p += h + l, left -= h + l;
        }
        return -1;
    }
    return -1;
}

int tls_cert_msg_scan(const unsigned char *p, size_t n, int tls13, int *cert, int *entry,
                      int *entry_len)
{
    size_t off = 0;
    *entry = -1;
    *entry_len = 0;
    if (tls13) {                 /* certificate_request_context */
        if (n < 1 || (size_t)p[0] + 1 > n)
            return 0;
        off = (size_t)p[0] + 1;
    }
    if (off + 3 > n)
        return 0;
    off += 3;                    /* certificate_list length */
    for (int i = 0; off + 3 <= n; i++) {
        size_t l = (size_t)p[off] << 16 | (size_t)p[off + 1] << 8 | p[off + 2];
        off += 3;
        if (l > n - off)
            return 0;
        mbedtls_x509_crt t;
        mbedtls_x509_crt_init(&t);
        int r = mbedtls_x509_crt_parse_der(&t, p + off, l);
        mbedtls_x509_crt_free(&t);
        if (r != 0) {
            *cert = i;
            *entry = odd_ip_san(p + off, l, entry_len);
            if (*entry < 0)
                *entry_len = 0;
            return 1;
        }
        off += l;
        if (tls13) {             /* per-certificate extensions */
            if (off + 2 > n)
                return 0;
            off += 2 + ((size_t)p[off] << 8 | p[off + 1]);
        }
    }
    return 0;
}

/* The handshake failed while mbedTLS held a Certificate message (in_msg,
 * decrypted in TLS 1.3): keep its declared length, and name the
 * certificate it could not parse.  mbedTLS 3.6 parses every certificate
 * whatever the authmode, so such a chain cannot be completed; OpenSSL
 * accepts an odd iPAddress entry. */
void tls_refused_analyse(struct tls_client *c)
{
    const unsigned char *m = c->ssl.in_msg;
    if (!m || c->ssl.in_msglen < 4 || m[0] != MBEDTLS_SSL_HS_CERTIFICATE)
        return;
    c->cert_msg_hdr_len = (size_t)m[1] << 16 | (size_t)m[2] << 8 | m[3];
    size_t n = c->ssl.in_msglen - 4;
    if (c->cert_msg_hdr_len < n)
        n = c->cert_msg_hdr_len;
    c->refused_seen = tls_cert_msg_scan(m + 4, n, c->ssl.tls_version == MBEDTLS_SSL_VERSION_TLS1_3,
                                        &c->refused_cert, &c->refused_san_entry,
                                        &c->refused_san_len);
}

/* Flags of one link: child verified with parent as its only trust anchor
 * (or against the store when parent is NULL).  mbedTLS checks signature,
 * validity, CA bit, key usage and the profile; per link, so its limit of 8
 * intermediates per verification never applies.  *anchor_flags gets what
 * it found about the parent (expired anchor ...). */
struct link_flags { uint32_t child, parent; };

static int link_cb(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    struct link_flags *lf = ctx;
    (void)crt;
    if (depth == 0)
        lf->child |= *flags;
    else
        lf->parent |= *flags;
    *flags = 0;  /* collect all: the outcome is ours to judge */
    return 0;
}

static struct link_flags verify_link(struct tls_client *c, mbedtls_x509_crt *child,
                                     mbedtls_x509_crt *trust)
{
    struct link_flags lf = { 0, 0 };
    uint32_t fl = 0;
    int r = mbedtls_x509_crt_verify_with_profile(child, trust, NULL,
                                                 &mbedtls_x509_crt_profile_default, NULL,
                                                 &fl, link_cb, &lf);
    (void)c;
    /* No parent at all: mbedTLS calls back for the child only, with
     * NOT_TRUSTED; any other error without flags is still a failure. */
    if (r != 0 && lf.child == 0 && lf.parent == 0)
        lf.child = fl ? fl : MBEDTLS_X509_BADCERT_OTHER;
    return lf;
}

/* The key usage the negotiated key exchange needs of the leaf, as mbedTLS
 * checks it under OPTIONAL (mbedtls_ssl_check_cert_usage): signing for TLS
 * 1.3 and (EC)DHE, encipherment for RSA key transport, agreement for
 * static ECDH; 0 when not known (no completed handshake). */
static unsigned leaf_key_usage(struct tls_client *c)
{
    if (!c->handshake_done)
        return 0;
    if (mbedtls_ssl_get_version_number(&c->ssl) == MBEDTLS_SSL_VERSION_TLS1_3)
        return MBEDTLS_X509_KU_DIGITAL_SIGNATURE;
    const char *cs = mbedtls_ssl_get_ciphersuite(&c->ssl);
    if (!cs)
        return 0;
    if (strstr(cs, "-ECDHE-") || strstr(cs, "-DHE-"))
        return MBEDTLS_X509_KU_DIGITAL_SIGNATURE;
    if (!strncmp(cs, "TLS-RSA-", 8))
        return MBEDTLS_X509_KU_KEY_ENCIPHERMENT;
    if (!strncmp(cs, "TLS-ECDH-", 9))
        return MBEDTLS_X509_KU_KEY_AGREEMENT;
    return 0;
}

/* Build the path as OpenSSL and so Postfix do: from the leaf (the first
 * certificate sent), take each issuer from the trust store first (OpenSSL's
 * trusted-first default), else from the certificates sent in ANY position,
 * skipping duplicates and certificates already used; stop at a trust
 * anchor, or where no issuer is found.  Every link is verified by mbedTLS. */
static void verify_path(struct tls_client *c)
{
    if (c->verify_ran || c->n_chain == 0)
        return;
    c->verify_ran = 1;
    int n = c->n_chain;
    mbedtls_x509_crt *crt = calloc((size_t)n, sizeof *crt);
    int *ok = calloc((size_t)n, sizeof *ok);
    int *used = calloc((size_t)n, sizeof *used);
    if (!crt || !ok || !used) {
        free(crt);
        free(ok);
        free(used);
        c->verify_flags = MXS_V_OTHER;
        return;
    }
    for (int i = 0; i < n; i++) {
        mbedtls_x509_crt_init(&crt[i]);
        ok[i] = mbedtls_x509_crt_parse_der(&crt[i], c->chain[i].der, c->chain[i].len) == 0;
    }
    unsigned all = 0;
    int cur = 0;
    c->path_len = 0;
    while (ok[cur] && c->path_len < TLS_MAX_SENT) {
        used[cur] = 1;
        c->chain[cur].path_pos = c->path_len++;
        /* The store first: an issuer there ends the path. */
        struct link_flags lf = verify_link(c, &crt[cur], c->ca);
        if (!(lf.child & MBEDTLS_X509_BADCERT_NOT_TRUSTED)) {
            unsigned f = x509view_map_flags(lf.child);
            c->chain[cur].flags = f;
            all |= f | x509view_map_flags(lf.parent);
            c->path_anchored = 1;
            /* A sent certificate that is itself in the store (the root
             * sent along) is the anchor: no stored one above it. */
            int self_anchor = 0;
            for (const mbedtls_x509_crt *t = c->ca; t && t->raw.p; t = t->next)
                if (t->raw.len == crt[cur].raw.len &&
                    !memcmp(t->raw.p, crt[cur].raw.p, t->raw.len))
                    self_anchor = 1;
            if (!self_anchor) {
                c->path_anchor_stored = 1;
                c->path_len++;
            }
            break;
        }
        /* Else an issuer among the certificates sent, any position. */
        int next = -1;
        struct link_flags nf = { 0, 0 };
        for (int j = 0; j < n && next < 0; j++) {
            if (used[j] || !ok[j] || j == cur)
                continue;
            int dup = 0;  /* the same certificate again: skip */
            for (int k = 0; k < n && !dup; k++)
                if (used[k] && c->chain[k].len == c->chain[j].len &&
                    !memcmp(c->chain[k].der, c->chain[j].der, c->chain[j].len))
                    dup = 1;
            if (dup || crt[j].subject_raw.len != crt[cur].issuer_raw.len ||
                memcmp(crt[j].subject_raw.p, crt[cur].issuer_raw.p, crt[j].subject_raw.len))
                continue;
            /* A self-signed certificate is its own issuer: not a link. */
            if (crt[cur].subject_raw.len == crt[cur].issuer_raw.len &&
                !memcmp(crt[cur].subject_raw.p, crt[cur].issuer_raw.p, crt[cur].issuer_raw.len))
                continue;
            mbedtls_x509_crt *save = crt[j].next;
            crt[j].next = NULL;
            nf = verify_link(c, &crt[cur], &crt[j]);
            crt[j].next = save;
            if (!(nf.child & MBEDTLS_X509_BADCERT_NOT_TRUSTED))
                next = j;
        }
        if (next < 0) {
            /* No issuer: the store's verdict (not trusted) stands. */
            unsigned f = x509view_map_flags(lf.child);
            c->chain[cur].flags = f;
            all |= f;
            break;
        }
        unsigned f = x509view_map_flags(nf.child);
        c->chain[cur].flags = f;
        all |= f;
        cur = next;
    }
    if (!ok[0])
        all |= MXS_V_OTHER;
    /* What mbedTLS's TLS layer checked on the leaf under OPTIONAL: a server
     * certificate needs serverAuth (if it has an EKU at all). */
    if (ok[0] && mbedtls_x509_crt_check_extended_key_usage(&crt[0], MBEDTLS_OID_SERVER_AUTH,
                                                           MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)) != 0) {
        c->chain[0].flags |= MXS_V_EXT_KEY_USAGE;
        all |= MXS_V_EXT_KEY_USAGE;
    }
    unsigned ku = ok[0] ? leaf_key_usage(c) : 0;
    if (ku && mbedtls_x509_crt_check_key_usage(&crt[0], ku) != 0) {
        c->chain[0].flags |= MXS_V_KEY_USAGE;
        all |= MXS_V_KEY_USAGE;
    }
    c->verify_flags = all;
    for (int i = 0; i < n; i++)
        mbedtls_x509_crt_free(&crt[i]);
    free(crt);
    free(ok);
    free(used);
}

int tls_client_chain(struct tls_client *c, const unsigned char **der, size_t *len,
                     unsigned *flags, int max, int *total)
{
    verify_path(c);
    int n = c->n_chain < max ? c->n_chain : max;
    for (int i = 0; i < n; i++) {
        der[i] = c->chain[i].der;
        len[i] = c->chain[i].len;
        flags[i] = c->chain[i].flags & ~(unsigned)MXS_V_NAME;
    }
    *total = c->n_chain_total;
    return n;
}

int tls_client_path(struct tls_client *c, int *pos, int max, int *anchored, int *anchor_stored)
{
    verify_path(c);
    for (int i = 0; i < max; i++)
        pos[i] = i < c->n_chain ? c->chain[i].path_pos : -1;
    *anchored = c->path_anchored;
    *anchor_stored = c->path_anchor_stored;
    return c->path_len;
}

int tls_client_verify_result(struct tls_client *c, unsigned *flags)
{
    verify_path(c);
    if (!c->verify_ran)
        return -1;
    *flags = c->verify_flags & ~(unsigned)MXS_V_NAME;
    return 0;
}
