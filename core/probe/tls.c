/*
 * tls.c - mbedTLS 3.6 client for the HANDSHAKE step.
 *
 * Why private access: mbedTLS 3.6 has no API for the alert a peer sent; after
 * MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE the alert is in ssl->in_msg[0..1].  For
 * TLS 1.2 and clear TLS 1.3 alerts the raw record decoder sees it too; this is
 * the fallback for encrypted TLS 1.3 alerts.  Pinned to the 3.6 LTS line.
 */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/debug.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>
#include <psa/crypto.h>

#include "probe/tls.h"
#include "probe/tls_ca.h"
#include "probe/x509view.h"

#define SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

/* How many certificates we keep and verify: OpenSSL's default verify depth
 * is 100; a server sending more is counted (n_chain_total), not kept. */
#define TLS_MAX_SENT 100

struct captured {
    unsigned char *der;
    size_t len;
    unsigned flags;      /* MXS_V_* of its link in the path we built (0: not in it) */
    int path_pos;        /* position in that path (0 = leaf), -1 if not in it */
};

struct tls_client {
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    struct tls_ca *ca_ref;      /* the trust store, shared (tls_ca.h)       */
    mbedtls_x509_crt *ca;       /* its chain, read-only                     */
    mbedtls_x509_crt own;
    mbedtls_pk_context own_key;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    struct net_transport *t;
    struct tlsrec_stream rs_in, rs_out;
    struct tlsrec_facts rf;
    tlsrec_record_cb cb;
    void *cbarg;
    int last_err;
    int io_errno;
    int peer_eof;
    int handshake_done;
    int verify_ran;
    unsigned verify_flags;
    char sni[256];
    /* The chain as sent, copied as soon as mbedTLS has parsed it (see
     * capture_chain), and what our own path building made of it. */
    struct captured chain[TLS_MAX_SENT];
    int n_chain, n_chain_total;
    int path_len;               /* leaf .. trust anchor (sent or stored)    */
    int path_anchored;          /* ends at a trust anchor                   */
    int path_anchor_stored;     /* that anchor is from the store, not sent  */
    /* A certificate mbedTLS refused to parse (refused_analyse). */
    int refused_seen, refused_cert, refused_san_entry, refused_san_len;
    size_t cert_msg_hdr_len;    /* Certificate message length from in_msg   */
    size_t dbg_cert_msg_len;    /* the same from mbedTLS's debug trail      */
    int client_cert_loaded;
    int cert_req_seen;          /* from mbedTLS's debug trail (TLS 1.3) */
    size_t bytes_in, bytes_out;
};

static pthread_once_t psa_once = PTHREAD_ONCE_INIT;
static int psa_status = -1;
static void psa_init_once(void)
{
    psa_status = psa_crypto_init() == PSA_SUCCESS ? 0 : -1;
    /* Level 3 carries "got a certificate request": in TLS 1.3 the request is
     * encrypted, and no API says whether the server asked for a client
     * certificate.  Only configs with a debug callback (ours) pay for it. */
    mbedtls_debug_set_threshold(3);
}

static void dbg_cb(void *ctx, int level, const char *file, int line, const char *str)
{
    struct tls_client *c = ctx;
    (void)level; (void)file; (void)line;
    if (strstr(str, "got a certificate request"))
        c->cert_req_seen = 1;
    /* The length of the server's Certificate message, also in TLS 1.3
     * where it is encrypted and a message over mbedTLS's input buffer
     * fails before any API could tell ("handshake message: msglen = N,
     * type = 11, hslen = M", M with the 4-byte header). */
    const char *h = strstr(str, "handshake message: msglen = ");
    size_t ml, hl;
    unsigned type;
    if (h && !c->dbg_cert_msg_len &&
        sscanf(h, "handshake message: msglen = %zu, type = %u, hslen = %zu", &ml, &type, &hl) == 3 &&
        type == MBEDTLS_SSL_HS_CERTIFICATE && hl > 4)
        c->dbg_cert_msg_len = hl - 4;
}

int tls_global_init(void)
{
    pthread_once(&psa_once, psa_init_once);
    return psa_status;
}

const char *tls_library_version(void) { return MBEDTLS_VERSION_STRING_FULL; }

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    struct tls_client *c = ctx;
    ssize_t n = c->t->ops->write(c->t->ctx, buf, len);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return MBEDTLS_ERR_SSL_WANT_WRITE;
        c->io_errno = errno;
        return MBEDTLS_ERR_NET_SEND_FAILED;
    }
    c->bytes_out += (size_t)n;
    tlsrec_feed(&c->rs_out, 0, buf, (size_t)n, &c->rf, c->cb, c->cbarg);
    return (int)n;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    struct tls_client *c = ctx;
    ssize_t n = c->t->ops->read(c->t->ctx, buf, len);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return MBEDTLS_ERR_SSL_WANT_READ;
        c->io_errno = errno;
        return errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_RECV_FAILED;
    }
    if (n == 0) {
        c->peer_eof = 1;
        return 0;  /* mbedTLS: MBEDTLS_ERR_SSL_CONN_EOF */
    }
    c->bytes_in += (size_t)n;
    tlsrec_feed(&c->rs_in, 1, buf, (size_t)n, &c->rf, c->cb, c->cbarg);
    return (int)n;
}

/* Signature algorithms we offer, PKCS#1 before PSS.  mbedTLS 3.6.6 offers
 * rsa_pss_rsae_* but then rejects them in a TLS 1.2 ServerKeyExchange
 * (illegal_parameter; fixed upstream after 3.6.6, Mbed-TLS PR 10674).  An
 * OpenSSL server (Postfix, Exchange's peers) takes the first of our list it
 * can use: in TLS 1.2 that is now PKCS#1, while TLS 1.3, where PKCS#1 is not
 * allowed in CertificateVerify, still gets PSS. */
static const uint16_t sig_algs[] = {
    MBEDTLS_TLS1_3_SIG_ECDSA_SECP256R1_SHA256, MBEDTLS_TLS1_3_SIG_ECDSA_SECP384R1_SHA384,
    MBEDTLS_TLS1_3_SIG_ECDSA_SECP521R1_SHA512,
    MBEDTLS_TLS1_3_SIG_RSA_PKCS1_SHA256, MBEDTLS_TLS1_3_SIG_RSA_PKCS1_SHA384,
    MBEDTLS_TLS1_3_SIG_RSA_PKCS1_SHA512,
    MBEDTLS_TLS1_3_SIG_RSA_PSS_RSAE_SHA256, MBEDTLS_TLS1_3_SIG_RSA_PSS_RSAE_SHA384,
    MBEDTLS_TLS1_3_SIG_RSA_PSS_RSAE_SHA512,
    MBEDTLS_TLS1_3_SIG_NONE
};

/* Restricted offers for side handshakes (side.c): only ECDSA or only RSA
 * signatures make a dual-certificate server (RSA + ECDSA, as Postfix's
 * smtpd_tls_eccert_file or Exchange) show each of its certificates; PKCS#1
 * only is the TLS 1.2 retry for a server that insists on RSA-PSS, which
 * mbedTLS 3.6.6 wrongly refuses in TLS 1.2. */
static const uint16_t sig_algs_ecdsa[] = {
    MBEDTLS_TLS1_3_SIG_ECDSA_SECP256R1_SHA256, MBEDTLS_TLS1_3_SIG_ECDSA_SECP384R1_SHA384,
    MBEDTLS_TLS1_3_SIG_ECDSA_SECP521R1_SHA512, MBEDTLS_TLS1_3_SIG_NONE
};
static const uint16_t sig_algs_rsa[] = {
    MBEDTLS_TLS1_3_SIG_RSA_PKCS1_SHA256, MBEDTLS_TLS1_3_SIG_RSA_PKCS1_SHA384,
    MBEDTLS_TLS1_3_SIG_RSA_PKCS1_SHA512,
    MBEDTLS_TLS1_3_SIG_RSA_PSS_RSAE_SHA256, MBEDTLS_TLS1_3_SIG_RSA_PSS_RSAE_SHA384,
    MBEDTLS_TLS1_3_SIG_RSA_PSS_RSAE_SHA512, MBEDTLS_TLS1_3_SIG_NONE
};
static const uint16_t sig_algs_pkcs1[] = {
    MBEDTLS_TLS1_3_SIG_ECDSA_SECP256R1_SHA256, MBEDTLS_TLS1_3_SIG_ECDSA_SECP384R1_SHA384,
    MBEDTLS_TLS1_3_SIG_ECDSA_SECP521R1_SHA512,
    MBEDTLS_TLS1_3_SIG_RSA_PKCS1_SHA256, MBEDTLS_TLS1_3_SIG_RSA_PKCS1_SHA384,
    MBEDTLS_TLS1_3_SIG_RSA_PKCS1_SHA512, MBEDTLS_TLS1_3_SIG_NONE
};

void tls_client_set_transport(struct tls_client *c, struct net_transport *t,
                              tlsrec_record_cb cb, void *cbarg)
{
    c->t = t;
    c->cb = cb;
    c->cbarg = cbarg;
}

void tls_client_offer(struct tls_client *c, enum tls_sigset set)
{
    switch (set) {
    case TLS_SIG_ECDSA: mbedtls_ssl_conf_sig_algs(&c->conf, sig_algs_ecdsa); break;
    case TLS_SIG_RSA: mbedtls_ssl_conf_sig_algs(&c->conf, sig_algs_rsa); break;
    case TLS_SIG_PKCS1: mbedtls_ssl_conf_sig_algs(&c->conf, sig_algs_pkcs1); break;
    case TLS_SIG_ALL: mbedtls_ssl_conf_sig_algs(&c->conf, sig_algs); break;
    }
}

/* Our own files, checked before any probe: a missing client certificate is
 * our mistake, not the partner's failed handshake. */
int tls_check_local_files(const struct mxs_settings *s, char *err, size_t errlen)
{
    mbedtls_x509_crt crt;
    mbedtls_pk_context key;
    mbedtls_entropy_context ent;
    mbedtls_ctr_drbg_context drbg;
    char e[128];
    int r, rc = -1;

    if (tls_global_init() != 0) {
        snprintf(err, errlen, "psa_crypto_init failed");
        return -1;
    }
    mbedtls_x509_crt_init(&crt);
    mbedtls_pk_init(&key);
    mbedtls_entropy_init(&ent);
    mbedtls_ctr_drbg_init(&drbg);
    if (s->cafile[0]) {
        struct stat sb;
        if (access(s->cafile, R_OK) != 0) {
            snprintf(err, errlen, "--cafile %s: %s", s->cafile, strerror(errno));
            goto out;
        }
        if (stat(s->cafile, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            snprintf(err, errlen, "--cafile %s: is a folder (give a file of PEM certificates)",
                     s->cafile);
            goto out;
        }
        if ((r = mbedtls_x509_crt_parse_file(&crt, s->cafile)) < 0) {
            mbedtls_strerror(r, e, sizeof e);
            snprintf(err, errlen, "--cafile %s: no certificate could be read (%s)", s->cafile, e);
            goto out;
        }
        mbedtls_x509_crt_free(&crt);
        mbedtls_x509_crt_init(&crt);
    }
    if (!s->client_cert[0]) {
        if (s->client_key[0]) {
            snprintf(err, errlen, "--key %s given without --cert", s->client_key);
            goto out;
        }
        rc = 0;
        goto out;
    }
    if (access(s->client_cert, R_OK) != 0) {
        snprintf(err, errlen, "--cert %s: %s", s->client_cert, strerror(errno));
        goto out;
    }
    if ((r = mbedtls_x509_crt_parse_file(&crt, s->client_cert)) != 0) {
        mbedtls_strerror(r, e, sizeof e);
        snprintf(err, errlen, "--cert %s: not a certificate we can read (%s)", s->client_cert, e);
        goto out;
    }
    const char *kf = s->client_key[0] ? s->client_key : s->client_cert;
    const char *opt = s->client_key[0] ? "--key" : "--cert (no --key: the key is read from it)";
    if (access(kf, R_OK) != 0) {
        snprintf(err, errlen, "%s %s: %s", opt, kf, strerror(errno));
        goto out;
    }
    if ((r = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &ent,
                                   (const unsigned char *)"mxscope-check", 13)) != 0 ||
        (r = mbedtls_pk_parse_keyfile(&key, kf, NULL, mbedtls_ctr_drbg_random, &drbg)) != 0) {
        mbedtls_strerror(r, e, sizeof e);
        snprintf(err, errlen, "%s %s: no private key we can read (%s)", opt, kf, e);
        goto out;
    }
    if ((r = mbedtls_pk_check_pair(&crt.pk, &key, mbedtls_ctr_drbg_random, &drbg)) != 0) {
        snprintf(err, errlen, "%s %s: the key does not match the certificate in %s", opt, kf,
                 s->client_cert);
        goto out;
    }
    rc = 0;
out:
    mbedtls_x509_crt_free(&crt);
    mbedtls_pk_free(&key);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&ent);
    return rc;
}

/* The IANA name a person reads everywhere (OpenSSL's -ciphersuites, RFCs,
 * Exchange logs): mbedTLS spells TLS_CHACHA20_POLY1305_SHA256 as
 * "TLS1-3-CHACHA20-POLY1305-SHA256" and TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
 * as "TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384": the same words, its own
 * separators and TLS 1.3 prefix. */
void tls_iana_cipher(const char *mbed, char *out, size_t outlen)
{
    size_t o = 0;
    if (!mbed)
        mbed = "";
    if (!strncmp(mbed, "TLS1-3-", 7))
        mbed += 7, o = (size_t)snprintf(out, outlen, "TLS_");
    else
        out[0] = 0;
    for (; *mbed && o + 1 < outlen; mbed++)
        out[o++] = *mbed == '-' ? '_' : *mbed;
    if (outlen)
        out[o < outlen ? o : outlen - 1] = 0;
}

static int version_to_mbed(int v)
{
    return v == 13 ? MBEDTLS_SSL_VERSION_TLS1_3 : MBEDTLS_SSL_VERSION_TLS1_2;
}

struct tls_client *tls_client_new(const struct mxs_settings *s, const char *sni,
                                  struct net_transport *t, tlsrec_record_cb cb,
                                  void *cbarg, char *err, size_t errlen)
{
    struct tls_client *c = calloc(1, sizeof *c);
    int r;
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (tls_global_init() != 0) {
        snprintf(err, errlen, "psa_crypto_init failed");
        free(c);
        return NULL;
    }
    c->t = t;
    c->cb = cb;
    c->cbarg = cbarg;
    tlsrec_stream_init(&c->rs_in);
    tlsrec_stream_init(&c->rs_out);
    tlsrec_facts_init(&c->rf);
    mbedtls_ssl_init(&c->ssl);
    mbedtls_ssl_config_init(&c->conf);
    mbedtls_x509_crt_init(&c->own);
    mbedtls_pk_init(&c->own_key);
    mbedtls_entropy_init(&c->entropy);
    mbedtls_ctr_drbg_init(&c->drbg);

    if ((r = mbedtls_ctr_drbg_seed(&c->drbg, mbedtls_entropy_func, &c->entropy,
                                   (const unsigned char *)"mxscope", 7)) != 0)
        goto fail_r;
    if ((r = mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_CLIENT,
                                         MBEDTLS_SSL_TRANSPORT_STREAM,
                                         MBEDTLS_SSL_PRESET_DEFAULT)) != 0)
        goto fail_r;
    mbedtls_ssl_conf_rng(&c->conf, mbedtls_ctr_drbg_random, &c->drbg);
    /* NONE: mbedTLS never verifies inside the handshake.  With OPTIONAL a
     * path deeper than its compile-time 8 intermediates is a fatal error
     * that fails the handshake, where OpenSSL (verify depth 100) completes
     * it; we build and verify the path ourselves (verify_path). */
    mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_NONE);
    mbedtls_ssl_conf_dbg(&c->conf, dbg_cb, c);
    mbedtls_ssl_conf_sig_algs(&c->conf, sig_algs);
    /* A probe has no use for resumption, and TLS 1.3 tickets arriving after
     * the handshake would only interrupt the post-TLS EHLO. */
    mbedtls_ssl_conf_session_tickets(&c->conf, MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
    if (s->tls_min)
        mbedtls_ssl_conf_min_tls_version(&c->conf, version_to_mbed(s->tls_min));
    if (s->tls_max)
        mbedtls_ssl_conf_max_tls_version(&c->conf, version_to_mbed(s->tls_max));

    /* Parsed once per file for the whole process (tls_ca.h). */
    c->ca_ref = tls_ca_get(s->cafile[0] ? s->cafile : SYSTEM_CA_BUNDLE, err, errlen);
    if (!c->ca_ref)
        goto fail;
    c->ca = tls_ca_chain(c->ca_ref);
    mbedtls_ssl_conf_ca_chain(&c->conf, c->ca, NULL);

    if (s->client_cert[0]) {
        if ((r = mbedtls_x509_crt_parse_file(&c->own, s->client_cert)) != 0) {
            char e[128];
            mbedtls_strerror(r, e, sizeof e);
            snprintf(err, errlen, "client certificate %s: %s", s->client_cert, e);
            goto fail;
        }
        const char *kf = s->client_key[0] ? s->client_key : s->client_cert;
        if ((r = mbedtls_pk_parse_keyfile(&c->own_key, kf, NULL, mbedtls_ctr_drbg_random,
                                          &c->drbg)) != 0) {
            char e[128];
            mbedtls_strerror(r, e, sizeof e);
            snprintf(err, errlen, "client key %s: %s", kf, e);
            goto fail;
        }
        if ((r = mbedtls_ssl_conf_own_cert(&c->conf, &c->own, &c->own_key)) != 0)
            goto fail_r;
        c->client_cert_loaded = 1;
    }
    if ((r = mbedtls_ssl_setup(&c->ssl, &c->conf)) != 0)
        goto fail_r;
    /* 3.6.3+ refuses to verify without a host name unless told explicitly
     * that there is none; the engine checks the name against the MX host
     * itself, so SNI is free to be anything, or nothing. */
    if ((r = mbedtls_ssl_set_hostname(&c->ssl, sni && *sni ? sni : NULL)) != 0)
        goto fail_r;
    if (sni)
        snprintf(c->sni, sizeof c->sni, "%s", sni);
    mbedtls_ssl_set_bio(&c->ssl, c, bio_send, bio_recv, NULL);
    return c;

fail_r: {
        char e[128];
        mbedtls_strerror(r, e, sizeof e);
        snprintf(err, errlen, "TLS set-up: %s", e);
    }
fail:
    tls_client_free(c);
    return NULL;
}

void tls_client_free(struct tls_client *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->n_chain; i++)
        free(c->chain[i].der);
    mbedtls_ssl_free(&c->ssl);
    mbedtls_ssl_config_free(&c->conf);
    tls_ca_put(c->ca_ref);
    mbedtls_x509_crt_free(&c->own);
    mbedtls_pk_free(&c->own_key);
    mbedtls_ctr_drbg_free(&c->drbg);
    mbedtls_entropy_free(&c->entropy);
    tlsrec_stream_free(&c->rs_in);
    tlsrec_stream_free(&c->rs_out);
    free(c);
}

static int map_ret(struct tls_client *c, int r)
{
    if (r == MBEDTLS_ERR_SSL_WANT_READ)
        return TLS_WANT_READ;
    if (r == MBEDTLS_ERR_SSL_WANT_WRITE)
        return TLS_WANT_WRITE;
    c->last_err = r;
    if (r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || r == MBEDTLS_ERR_SSL_CONN_EOF)
        return TLS_EOF;
    return TLS_FAIL;
}

/* Copy the certificates the server sent, once, as soon as mbedTLS holds
 * them: in TLS 1.2 session_negotiate->peer_cert is set once the whole
 * Certificate message parsed, in TLS 1.3 while it is parsed (a failure
 * half-way keeps the ones before); after the handshake they move to
 * session.  A handshake failing after the Certificate message (key
 * exchange, a missing client certificate) still shows the chain. */
static void capture_chain(struct tls_client *c)
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
static void refused_analyse(struct tls_client *c)
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

int tls_client_handshake(struct tls_client *c)
{
    int r = 0;
    /* mbedtls_ssl_handshake() is this loop; stepping ourselves lets us copy
     * the chain between the steps. */
    while (!mbedtls_ssl_is_handshake_over(&c->ssl)) {
        r = mbedtls_ssl_handshake_step(&c->ssl);
        capture_chain(c);
        if (r != 0)
            break;
    }
    if (r == 0) {
        c->handshake_done = 1;
        /* The trail was read for the handshake's messages (dbg_cb); past
         * it, level-3 formatting of every record is cost with no reader. */
        mbedtls_ssl_conf_dbg(&c->conf, NULL, NULL);
        return TLS_OK;
    }
    if (r != MBEDTLS_ERR_SSL_WANT_READ && r != MBEDTLS_ERR_SSL_WANT_WRITE)
        refused_analyse(c);
    r = map_ret(c, r);
    if (r == TLS_EOF)
        r = TLS_FAIL; /* EOF mid-handshake is a failure, not a clean end */
    return r;
}

ssize_t tls_client_read(struct tls_client *c, void *buf, size_t n)
{
    for (int tries = 0; tries < 8; tries++) {
        int r = mbedtls_ssl_read(&c->ssl, buf, n);
        if (r > 0)
            return r;
        if (r == 0)
            return TLS_EOF;
        /* Ignored: tickets are off, but a server may still send them. */
        if (r == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
            continue;
        return map_ret(c, r);
    }
    return TLS_WANT_READ;
}

/* The plaintext that came after good records, raw (NUL shown as '.'):
 * every output escapes step words and errors itself. */
static const char *late_raw(const struct tls_client *c, char *raw)
{
    size_t k;
    for (k = 0; k < c->rf.n_late; k++)
        raw[k] = c->rf.late_bytes[k] ? (char)c->rf.late_bytes[k] : '.';
    raw[k] = 0;
    return raw;
}

/* TLS 1.3 handshake message type of a KeyUpdate (RFC 8446 4.6.3). */
#define HS_KEY_UPDATE 24

enum tls_fail_kind tls_client_fail(struct tls_client *c, char *words, size_t n, int *sys_errno)
{
    char e[160], raw[sizeof c->rf.late_bytes + 1];
    *sys_errno = 0;
    if (n)
        words[0] = 0;
    if (c->rf.late_not_tls) {
        snprintf(words, n, "not a TLS record: the server sent '%s' in the clear inside the TLS "
                 "session", late_raw(c, raw));
        return TLS_FK_NOT_TLS;
    }
    /* mbedTLS 3.6 has no KeyUpdate (Mbed-TLS issue #10881): a post-handshake
     * handshake message other than NewSessionTicket is "unexpected"; the
     * decrypted message is still in in_msg (private access, as for alerts). */
    if (c->handshake_done && c->last_err == MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE &&
        c->ssl.in_msgtype == MBEDTLS_SSL_MSG_HANDSHAKE && c->ssl.in_msg &&
        c->ssl.in_msg[0] == HS_KEY_UPDATE) {
        snprintf(words, n, "the server sent a TLS 1.3 KeyUpdate (legal; OpenSSL/Postfix senders "
                 "follow it), which our TLS library, %s, cannot follow (Mbed-TLS#10881)",
                 MBEDTLS_VERSION_STRING_FULL);
        return TLS_FK_KEY_UPDATE;
    }
    if (c->last_err == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE && c->ssl.in_msg) {
        const char *an = tlsrec_alert_name(c->ssl.in_msg[1]);
        snprintf(words, n, "the server sent the alert %s(%d)", an ? an : "unknown",
                 c->ssl.in_msg[1]);
        return TLS_FK_ALERT;
    }
    if (c->io_errno) {
        *sys_errno = c->io_errno;
        snprintf(words, n, "%s", strerror(c->io_errno));
        return TLS_FK_SYSCALL;
    }
    if (c->peer_eof || c->last_err == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ||
        c->last_err == MBEDTLS_ERR_SSL_CONN_EOF) {
        snprintf(words, n, "the server closed the connection%s",
                 c->last_err == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ? " (TLS close_notify)" : "");
        return TLS_FK_EOF;
    }
    mbedtls_strerror(c->last_err, e, sizeof e);
    snprintf(words, n, "TLS error -0x%04X: %s", (unsigned)-c->last_err, e);
    return TLS_FK_OTHER;
}

ssize_t tls_client_write(struct tls_client *c, const void *buf, size_t n)
{
    int r = mbedtls_ssl_write(&c->ssl, buf, n);
    if (r >= 0)
        return r;
    return map_ret(c, r);
}

size_t tls_client_pending(struct tls_client *c)
{
    return mbedtls_ssl_get_bytes_avail(&c->ssl);
}

void tls_client_close_notify(struct tls_client *c)
{
    /* Best effort on a non-blocking socket: one try. */
    (void)mbedtls_ssl_close_notify(&c->ssl);
}

static int mbed_version_num(mbedtls_ssl_protocol_version v)
{
    return v == MBEDTLS_SSL_VERSION_TLS1_3 ? 13 : v == MBEDTLS_SSL_VERSION_TLS1_2 ? 12 : 0;
}

static int wire_version_num(int v)
{
    switch (v) {
    case 0x0300: return 3; /* SSLv3 */
    case 0x0301: return 10;
    case 0x0302: return 11;
    case 0x0303: return 12;
    case 0x0304: return 13;
    default: return 0;
    }
}

void tls_client_facts(struct tls_client *c, struct mxs_tls_facts *f)
{
    f->attempted = 1;
    f->ok = c->handshake_done;
    f->bytes_in = c->bytes_in;
    f->bytes_out = c->bytes_out;
    snprintf(f->sni_sent, sizeof f->sni_sent, "%s", c->sni);
    if (c->handshake_done) {
        f->version = mbed_version_num(mbedtls_ssl_get_version_number(&c->ssl));
        snprintf(f->version_name, sizeof f->version_name, "%s", mbedtls_ssl_get_version(&c->ssl));
        tls_iana_cipher(mbedtls_ssl_get_ciphersuite(&c->ssl), f->cipher, sizeof f->cipher);
    }
    if (c->rf.sh_seen)
        f->server_hello_version = wire_version_num(c->rf.sh_selected_version);
    int g = c->rf.sh_group > 0 ? c->rf.sh_group : c->rf.ske_group;
    if (g > 0) {
        const char *gn = tlsrec_group_name(g);
        if (gn)
            snprintf(f->group, sizeof f->group, "%s", gn);
        else
            snprintf(f->group, sizeof f->group, "group-%d", g);
    }
    f->cert_requested = c->rf.cert_request_seen || c->cert_req_seen;
    f->client_cert_sent = c->client_cert_loaded;
    f->alert_received = -1;
    f->alert_sent = -1;
    if (c->rf.alert_desc >= 0) {
        f->alert_received = c->rf.alert_desc;
    } else if (c->last_err == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE && c->ssl.in_msg) {
        /* Encrypted (TLS 1.3) alert: mbedTLS decrypted it into in_msg. */
        f->alert_received = c->ssl.in_msg[1];
    }
    if (f->alert_received >= 0) {
        const char *an = tlsrec_alert_name(f->alert_received);
        snprintf(f->alert_name, sizeof f->alert_name, "%s", an ? an : "unknown");
        if (f->alert_received == 116) /* certificate_required: TLS 1.3 */
            f->cert_requested = 1;
    }
    if (c->rf.client_alert_desc >= 0) {
        f->alert_sent = c->rf.client_alert_desc;
        const char *an = tlsrec_alert_name(f->alert_sent);
        snprintf(f->alert_sent_name, sizeof f->alert_sent_name, "%s", an ? an : "unknown");
    }
    f->mbedtls_error = c->last_err;
    /* A handshake message must fit mbedTLS's input buffer (header
     * included); OpenSSL takes up to max_cert_list (100 KiB). */
    f->cert_msg_bytes = c->rf.cert_msg_len ? c->rf.cert_msg_len
                        : c->dbg_cert_msg_len ? c->dbg_cert_msg_len : c->cert_msg_hdr_len;
    f->cert_msg_limit = MBEDTLS_SSL_IN_CONTENT_LEN - 4;
    f->refused = c->refused_seen;
    /* 0 when not known: a session loaded back has the same facts */
    int odd = c->refused_seen && c->refused_san_entry >= 0;
    f->refused_cert = c->refused_seen ? c->refused_cert : 0;
    f->refused_san = odd;
    f->refused_san_entry = odd ? c->refused_san_entry : 0;
    f->refused_san_len = odd ? c->refused_san_len : 0;
    if (c->last_err && c->refused_seen && c->refused_san_entry >= 0) {
        char e[160];
        mbedtls_strerror(c->last_err, e, sizeof e);
        snprintf(f->error, sizeof f->error, "our TLS library refuses certificate %d: its "
                 "subjectAltName entry %d is an iPAddress of %d bytes (%s)", c->refused_cert,
                 c->refused_san_entry, c->refused_san_len, e);
    } else if (c->last_err && c->refused_seen) {
        char e[160];
        mbedtls_strerror(c->last_err, e, sizeof e);
        snprintf(f->error, sizeof f->error, "our TLS library cannot parse certificate %d "
                 "of the Certificate message (%s)", c->refused_cert, e);
    } else if (c->last_err && !c->handshake_done && f->cert_msg_bytes > f->cert_msg_limit) {
        char e[160];
        mbedtls_strerror(c->last_err, e, sizeof e);
        snprintf(f->error, sizeof f->error, "the server's Certificate message is %zu bytes, "
                 "over our TLS library's limit of %zu (%s)", f->cert_msg_bytes,
                 f->cert_msg_limit, e);
    } else if (c->last_err) {
        char e[160];
        mbedtls_strerror(c->last_err, e, sizeof e);
        char raw[sizeof c->rf.late_bytes + 1];
        if (c->rf.not_tls)
            snprintf(f->error, sizeof f->error, "the server answered with something that is not TLS (%s)", e);
        else if (c->rf.late_not_tls)
            snprintf(f->error, sizeof f->error, "not a TLS record: the server sent '%s' in the "
                     "clear (%.100s)", late_raw(c, raw), e);
        else if (c->io_errno)
            snprintf(f->error, sizeof f->error, "%s (%s)", e, strerror(c->io_errno));
        else if (c->peer_eof)
            snprintf(f->error, sizeof f->error, "%s (the server closed the connection)", e);
        else
            snprintf(f->error, sizeof f->error, "%s", e);
    }
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

const struct tlsrec_facts *tls_client_raw(const struct tls_client *c)
{
    return &c->rf;
}
