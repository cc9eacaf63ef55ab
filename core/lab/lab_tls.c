/*
 * lab_tls.c - the lab's TLS side: the throw-away certificates, one mbedTLS
 * server configuration per scenario (each bent the way its story needs),
 * the non-blocking handshake, and the TLS 1.0 ServerHello that mbedTLS 3.x
 * cannot produce, built by hand.  Owned by the lab module.
 */
#include "lab/lab_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/oid.h>
#include <mbedtls/psa_util.h>
#include <psa/crypto.h>

/* ---- TLS plumbing ------------------------------------------------------- */

static int lab_bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    struct lab_conn *c = ctx;
    ssize_t r = send(c->fd, buf, len, MSG_NOSIGNAL);
    if (r < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return MBEDTLS_ERR_SSL_WANT_WRITE;
        return MBEDTLS_ERR_NET_SEND_FAILED;
    }
    return (int)r;
}

static int lab_bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    struct lab_conn *c = ctx;
    ssize_t r = recv(c->fd, buf, len, 0);
    if (r < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return MBEDTLS_ERR_SSL_WANT_READ;
        return MBEDTLS_ERR_NET_RECV_FAILED;
    }
    return (int)r;
}

int lab_tls_begin(struct lab *l, struct lab_conn *c)
{
    mbedtls_ssl_init(&c->ssl);
    c->ssl_init = 1;
    int ok = c->https ? l->hconf_ok[c->sc] : l->conf_ok[c->sc];
    if (!ok || mbedtls_ssl_setup(&c->ssl, c->https ? &l->hconf[c->sc] : &l->conf[c->sc]) != 0)
        return -1;
    mbedtls_ssl_set_bio(&c->ssl, c, lab_bio_send, lab_bio_recv, NULL);
    c->phase = P_HANDSHAKE;
    return 0;
}

int lab_tls_handshake(struct lab_conn *c, int64_t now)
{
    int r = mbedtls_ssl_handshake(&c->ssl);
    if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE) {
        c->tls_want_write = (r == MBEDTLS_ERR_SSL_WANT_WRITE);
        return 0;
    }
    if (r == MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE &&
        mbedtls_ssl_get_version_number(&c->ssl) != MBEDTLS_SSL_VERSION_TLS1_3) {
        /* mbedTLS 3.6's TLS 1.2 server just hangs up when a required
         * client certificate is missing; OpenSSL (Postfix) says
         * handshake_failure first, and that is what senders log. */
        (void)mbedtls_ssl_send_alert_message(&c->ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
                                             MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE);
    }
    if (r != 0) {
        /* mbedTLS has sent its alert (or we did, above).  Closing now, with the client's
         * next flight unread, would make the kernel send a RST that
         * can destroy the alert before the client reads it: half-close
         * and drain instead, as a well-behaved server does. */
        (void)shutdown(c->fd, SHUT_WR);
        c->in_len = 0;
        c->phase = P_SINK;
        c->deadline = now + LAB_LINGER_MS;
        return 0;
    }
    /* RFC 3207 4.2: forget everything learnt before TLS. */
    c->tls_active = 1;
    c->tls_want_write = 0;
    c->helo = c->mail = c->rcpt = c->data = 0;
    c->in_len = 0;
    c->phase = c->https ? P_HTTP : P_SMTP;
    return 1;
}

/* A TLS 1.0 ServerHello, built by hand because mbedTLS 3.x cannot speak
 * TLS 1.0: record version 3.1, server_version 3.1, TLS_RSA_WITH_AES_128_CBC_SHA,
 * no compression, an empty renegotiation_info extension. */
void lab_tls10_hello(struct lab_conn *c)
{
    unsigned char m[5 + 4 + 77];
    unsigned char *p = m;
    uint32_t t = (uint32_t)time(NULL);
    *p++ = 0x16; *p++ = 0x03; *p++ = 0x01; *p++ = 0x00; *p++ = 4 + 77;
    *p++ = 0x02; *p++ = 0x00; *p++ = 0x00; *p++ = 77;
    *p++ = 0x03; *p++ = 0x01;
    *p++ = (unsigned char)(t >> 24); *p++ = (unsigned char)(t >> 16);
    *p++ = (unsigned char)(t >> 8); *p++ = (unsigned char)t;
    if (psa_generate_random(p, 28 + 32) != PSA_SUCCESS)
        memset(p, 0x5a, 28 + 32);
    p[28] = 0x20;                   /* session_id length, then 32 bytes      */
    if (psa_generate_random(p + 29, 32) != PSA_SUCCESS)
        memset(p + 29, 0xa5, 32);
    p += 28 + 1 + 32;
    *p++ = 0x00; *p++ = 0x2f;       /* TLS_RSA_WITH_AES_128_CBC_SHA          */
    *p++ = 0x00;                    /* compression: null                     */
    *p++ = 0x00; *p++ = 0x05;       /* extensions length                     */
    *p++ = 0xff; *p++ = 0x01; *p++ = 0x00; *p++ = 0x01; *p++ = 0x00;
    lab_queue(c, (const char *)m, (size_t)(p - m));
}

/* ---- certificates and server configurations ----------------------------- */

int lab_make_certs(struct lab *l, char *err, size_t errlen)
{
    time_t now = time(NULL);
    const time_t day = 86400;
    const char *mx[] = {LAB_HOST, NULL};
    struct {
        int id, issuer;
        struct labcert_spec s;
    } t[] = {
        {C_ROOT, -1, {.subject = "CN=mxscope lab root CA,O=mxscope lab", .not_before = now - 30 * day,
                      .not_after = now + 3650 * day, .is_ca = 1, .max_pathlen = -1}},
        {C_INTER, C_ROOT, {.subject = "CN=mxscope lab intermediate CA,O=mxscope lab",
                           .not_before = now - 30 * day, .not_after = now + 1825 * day,
                           .is_ca = 1, .max_pathlen = 0}},
        {C_GOOD, C_INTER, {.subject = "CN=" LAB_HOST ",O=mxscope lab", .san = {LAB_HOST},
                           .not_before = now - day, .not_after = now + 90 * day,
                           .eku = LABCERT_EKU_SERVER}},
        {C_EXPIRED, C_INTER, {.subject = "CN=" LAB_HOST ",O=mxscope lab (expired)",
                              .san = {LAB_HOST}, .not_before = now - 91 * day,
                              .not_after = now - day, .eku = LABCERT_EKU_SERVER}},
        /* An hour over ten days, so "days left" rounds down to exactly 10. */
        {C_SOON, C_INTER, {.subject = "CN=" LAB_HOST ",O=mxscope lab (expiring soon)",
                           .san = {LAB_HOST}, .not_before = now - 80 * day,
                           .not_after = now + 10 * day + 3600, .eku = LABCERT_EKU_SERVER}},
        {C_FUTURE, C_INTER, {.subject = "CN=" LAB_HOST ",O=mxscope lab (not yet valid)",
                             .san = {LAB_HOST}, .not_before = now + day,
                             .not_after = now + 91 * day, .eku = LABCERT_EKU_SERVER}},
        {C_WRONGNAME, C_INTER, {.subject = "CN=other.example.net,O=mxscope lab",
                                .san = {"other.example.net"}, .not_before = now - day,
                                .not_after = now + 90 * day, .eku = LABCERT_EKU_SERVER}},
        {C_SELF, -1, {.subject = "CN=" LAB_HOST ",O=mxscope lab (self-signed)",
                      .san = {LAB_HOST}, .not_before = now - day, .not_after = now + 3650 * day,
                      .eku = LABCERT_EKU_SERVER}},
        {C_ROOT2, -1, {.subject = "CN=mxscope lab private root CA,O=not trusted by anyone",
                       .not_before = now - 30 * day, .not_after = now + 3650 * day,
                       .is_ca = 1, .max_pathlen = -1}},
        {C_UNTRUSTED, C_ROOT2, {.subject = "CN=" LAB_HOST ",O=mxscope lab (private CA)",
                                .san = {LAB_HOST}, .not_before = now - day,
                                .not_after = now + 90 * day, .eku = LABCERT_EKU_SERVER}},
        {C_WEAKKEY, C_INTER, {.subject = "CN=" LAB_HOST ",O=mxscope lab (RSA 1024)",
                              .san = {LAB_HOST}, .not_before = now - day,
                              .not_after = now + 90 * day, .key = LABCERT_RSA_1024,
                              .eku = LABCERT_EKU_SERVER}},
        {C_WEAKMD, C_INTER, {.subject = "CN=" LAB_HOST ",O=mxscope lab (SHA-1)",
                             .san = {LAB_HOST}, .not_before = now - day,
                             .not_after = now + 90 * day, .md = MBEDTLS_MD_SHA1,
                             .eku = LABCERT_EKU_SERVER}},
        {C_CLIENTAUTH, C_INTER, {.subject = "CN=" LAB_HOST ",O=mxscope lab (client only)",
                                 .san = {LAB_HOST}, .not_before = now - day,
                                 .not_after = now + 90 * day, .eku = LABCERT_EKU_CLIENT}},
        {C_OLD, C_INTER, {.subject = "CN=" LAB_HOST ",O=mxscope lab (before renewal)",
                          .san = {LAB_HOST}, .not_before = now - 300 * day,
                          .not_after = now + 65 * day, .eku = LABCERT_EKU_SERVER}},
        {C_RENEWED, C_INTER, {.subject = "CN=" LAB_HOST ",O=mxscope lab (renewed)",
                              .san = {LAB_HOST}, .not_before = now - day,
                              .not_after = now + 365 * day, .eku = LABCERT_EKU_SERVER}},
        /* The MTA-STS policy host of the sts-* scenarios (lab_https.c). */
        {C_STS, C_INTER, {.subject = "CN=" LAB_STS_HOST ",O=mxscope lab (policy host)",
                          .san = {LAB_STS_HOST}, .not_before = now - day,
                          .not_after = now + 90 * day, .eku = LABCERT_EKU_SERVER}},
    };
    (void)mx;
    _Static_assert(sizeof t / sizeof t[0] == C_COUNT, "every certificate has a spec");
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        const struct labcert *iss = t[i].issuer >= 0 ? &l->cert[t[i].issuer] : NULL;
        if (labcert_make(&l->cert[t[i].id], &t[i].s, iss, err, errlen) != 0)
            return -1;
    }
    memcpy(l->expected_fp, l->cert[C_RENEWED].sha1, sizeof l->expected_fp);
    return 0;
}

int lab_write_ca(struct lab *l, char *err, size_t errlen)
{
    char pem[4096];
    const char *tmp = getenv("TMPDIR");
    int len, fd;
    if (!tmp || !*tmp || strlen(tmp) > 200)
        tmp = "/tmp";
    snprintf(l->dir, sizeof l->dir, "%s/mxscope-lab.XXXXXX", tmp);
    if (!mkdtemp(l->dir)) {
        snprintf(err, errlen, "lab: mkdtemp in %s: %s", tmp, strerror(errno));
        l->dir[0] = '\0';
        return -1;
    }
    (void)chmod(l->dir, 0700);
    len = labcert_pem(&l->cert[C_ROOT], pem, sizeof pem);
    if (len < 0) {
        snprintf(err, errlen, "lab: CA certificate does not fit the PEM buffer");
        return -1;
    }
    snprintf(l->cafile, sizeof l->cafile, "%s/lab-ca.pem", l->dir);
    fd = open(l->cafile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "lab: %s: %s", l->cafile, strerror(errno));
        l->cafile[0] = '\0';
        return -1;
    }
    if (write(fd, pem, (size_t)len) != (ssize_t)len) {
        snprintf(err, errlen, "lab: writing %s: %s", l->cafile, strerror(errno));
        close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

int lab_make_conf(struct lab *l, int sc, char *err, size_t errlen)
{
    const struct lab_def *d = &lab_defs[sc];
    mbedtls_ssl_config *conf = &l->conf[sc];
    int ret;
    if (d->chain[0] < 0)
        return 0;   /* no TLS in this scenario */
    for (int i = 0; i < 4 && d->chain[i] >= 0; i++) {
        ret = labcert_chain_add(&l->chain[sc], &l->cert[d->chain[i]]);
        if (ret != 0)
            goto fail;
    }
    if (sc == L_NOT_SERVER_AUTH) {
        /* An mbedTLS server refuses to use its own certificate when the EKU
         * lacks serverAuth (TLS 1.2: no suitable ciphersuite; TLS 1.3: no
         * certificate), so it answers handshake_failure and the client never
         * sees the certificate.  Other servers (Postfix/OpenSSL) send it.  To
         * imitate them, hide the EKU from our own server-side parsed copy:
         * the DER that goes on the wire (crt->raw) is unchanged.  This uses
         * a private field of mbedTLS 3.6; test_lab checks the effect. */
        l->chain[sc].MBEDTLS_PRIVATE(ext_types) &= ~MBEDTLS_X509_EXT_EXTENDED_KEY_USAGE;
    }
    ret = mbedtls_ssl_config_defaults(conf, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                      MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret != 0)
        goto fail;
    mbedtls_ssl_conf_rng(conf, mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE);
    ret = mbedtls_ssl_conf_own_cert(conf, &l->chain[sc], &l->cert[d->chain[0]].key);
    if (ret != 0)
        goto fail;
    if (mbedtls_pk_get_type(&l->cert[d->chain[0]].key) == MBEDTLS_PK_RSA) {
        /* mbedTLS 3.6 as a TLS 1.3 server picks the client's first RSA-PSS
         * hash even when the key is too short for it (PSS-SHA512 needs a
         * salt of 64 bytes: 130 > 128 bytes of an RSA-1024 key) and the
         * client rejects the signature.  Offer SHA-256 only, as a real
         * server with such a key effectively does. */
        static const uint16_t rsa_sig_algs[] = {
            MBEDTLS_TLS1_3_SIG_RSA_PSS_RSAE_SHA256, MBEDTLS_TLS1_3_SIG_RSA_PKCS1_SHA256,
            MBEDTLS_TLS1_3_SIG_NONE};
        mbedtls_ssl_conf_sig_algs(conf, rsa_sig_algs);
    }
    if (d->tls_min == 12)
        mbedtls_ssl_conf_min_tls_version(conf, MBEDTLS_SSL_VERSION_TLS1_2);
    if (d->tls_min == 13)
        mbedtls_ssl_conf_min_tls_version(conf, MBEDTLS_SSL_VERSION_TLS1_3);
    if (d->tls_max == 12)
        mbedtls_ssl_conf_max_tls_version(conf, MBEDTLS_SSL_VERSION_TLS1_2);
    if (d->tls_max == 13)
        mbedtls_ssl_conf_max_tls_version(conf, MBEDTLS_SSL_VERSION_TLS1_3);
    if (d->client_cert) {
        mbedtls_ssl_conf_authmode(conf, MBEDTLS_SSL_VERIFY_REQUIRED);
        mbedtls_ssl_conf_ca_chain(conf, &l->trust, NULL);
    } else {
        mbedtls_ssl_conf_authmode(conf, MBEDTLS_SSL_VERIFY_NONE);
    }
    l->conf_ok[sc] = 1;
    return 0;
fail: {
        char m[128];
        mbedtls_strerror(ret, m, sizeof m);
        snprintf(err, errlen, "lab: TLS set-up for %s: %s", lab_scenarios[sc].name, m);
        return -1;
    }
}
