/*
 * tls.c - mbedTLS 3.6 client for the HANDSHAKE step.
 *
 * Why private access: mbedTLS 3.6 has no API for the alert a peer sent; after
 * MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE the alert is in ssl->in_msg[0..1].  For
 * TLS 1.2 and clear TLS 1.3 alerts the raw record decoder sees it too; this is
 * the fallback for encrypted TLS 1.3 alerts.  Pinned to the 3.6 LTS line.
 *
 * This file owns the client's life and the handshake driver: set-up (our
 * own files, the offered signature algorithms), the BIO through tlsrec.c,
 * the stepped handshake, reads and writes, and the facts of the session.
 * The chain as sent, the path we build over it and its verification are in
 * tls_chain.c (what both share: tls_int.h), apart because they judge
 * certificates, not the connection, and read like a separate algorithm.
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
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>
#include <psa/crypto.h>

#include "probe/tls.h"
#include "probe/tls_ca.h"
#include "probe/tls_int.h"
#include "probe/x509view.h"

#define SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

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
        /* Parsed into the shared store (tls_ca.h): a list checks each line's
         * settings, and the probes then find it parsed. */
        struct tls_ca *ca = tls_ca_get(s->cafile, e, sizeof e);
        if (!ca) {
            snprintf(err, errlen, "--cafile %s: no certificate could be read (%s)", s->cafile, e);
            goto out;
        }
        tls_ca_put(ca);
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
    const char *cafile = s->cafile[0] ? s->cafile : SYSTEM_CA_BUNDLE;
    char why[128];
    c->ca_ref = tls_ca_get(cafile, why, sizeof why);
    if (!c->ca_ref) {
        snprintf(err, errlen, "CA file %s: %s", cafile, why);
        goto fail;
    }
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

int tls_client_handshake(struct tls_client *c)
{
    int r = 0;
    /* mbedtls_ssl_handshake() is this loop; stepping ourselves lets us copy
     * the chain between the steps. */
    while (!mbedtls_ssl_is_handshake_over(&c->ssl)) {
        r = mbedtls_ssl_handshake_step(&c->ssl);
        tls_capture_chain(c);
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
        tls_refused_analyse(c);
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

const struct tlsrec_facts *tls_client_raw(const struct tls_client *c)
{
    return &c->rf;
}
