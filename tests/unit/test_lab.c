/*
 * test_lab.c - the built-in lab, seen from a client: every scenario is
 * connected to with a plain socket (SMTP side) and, where there is TLS, a
 * real mbedTLS client handshake (VERIFY_OPTIONAL, trusting lab_ca_file()).
 * Owned by the lab module.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <mbedtls/debug.h>
#include <mbedtls/oid.h>
#include <mbedtls/psa_util.h>
#include <mbedtls/sha1.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <psa/crypto.h>

#include "core.h"
#include "lab/lab.h"
#include "lab/labcert.h"

static struct lab *g_lab;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- plain socket helpers --------------------------------------------- */

static int tcp_connect_port(uint16_t port)
{
    assert_true(port != 0);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct timeval tv = {8, 0};  /* no test waits forever */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static int tcp_connect(const char *scenario)
{
    return tcp_connect_port(lab_port(g_lab, scenario));
}

/* 1 when buf holds a complete SMTP reply (last line "DDD " ... CRLF). */
static int reply_complete(const char *buf, size_t len)
{
    if (len < 2 || buf[len - 2] != '\r' || buf[len - 1] != '\n')
        return 0;
    size_t start = len - 2;
    while (start > 0 && buf[start - 1] != '\n')
        start--;
    return len - start >= 6 && buf[start + 3] == ' ';
}

/* Read one reply into buf (NUL-terminated); returns its code or -1. */
static int read_reply(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    while (len + 1 < cap) {
        ssize_t r = recv(fd, buf + len, cap - 1 - len, 0);
        if (r <= 0)
            return -1;
        len += (size_t)r;
        buf[len] = '\0';
        if (reply_complete(buf, len))
            return atoi(buf);
    }
    return -1;
}

static int cmd(int fd, const char *line, char *buf, size_t cap)
{
    char l[512];
    snprintf(l, sizeof l, "%s\r\n", line);
    assert_int_equal(send(fd, l, strlen(l), MSG_NOSIGNAL), (ssize_t)strlen(l));
    return read_reply(fd, buf, cap);
}

/* Banner, EHLO (must offer STARTTLS), STARTTLS -> 220. */
static int smtp_to_starttls(const char *scenario)
{
    char b[4096];
    int fd = tcp_connect(scenario);
    assert_int_equal(read_reply(fd, b, sizeof b), 220);
    assert_int_equal(cmd(fd, "EHLO client.test", b, sizeof b), 250);
    assert_non_null(strstr(b, "250-STARTTLS\r\n"));
    assert_int_equal(cmd(fd, "STARTTLS", b, sizeof b), 220);
    assert_string_equal(b, "220 2.0.0 Ready to start TLS\r\n");
    return fd;
}

/* ---- TLS client ---------------------------------------------------------- */

struct cli {
    int fd;
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt ca;
    unsigned char first[16384]; /* the first bytes the server sent */
    size_t first_len;
    unsigned char last[64];    /* the last bytes received */
    size_t last_len;
};

static int cli_send(void *ctx, const unsigned char *b, size_t n)
{
    struct cli *c = ctx;
    ssize_t r = send(c->fd, b, n, MSG_NOSIGNAL);
    return r < 0 ? MBEDTLS_ERR_SSL_INTERNAL_ERROR : (int)r;
}

static int cli_recv(void *ctx, unsigned char *b, size_t n)
{
    struct cli *c = ctx;
    ssize_t r = recv(c->fd, b, n, 0);
    if (r < 0)
        return MBEDTLS_ERR_SSL_TIMEOUT;
    for (ssize_t i = 0; i < r; i++) {
        if (c->last_len == sizeof c->last) {
            memmove(c->last, c->last + 1, sizeof c->last - 1);
            c->last_len--;
        }
        c->last[c->last_len++] = b[i];
    }
    if (r > 0 && c->first_len < sizeof c->first) {
        size_t k = (size_t)r;
        if (k > sizeof c->first - c->first_len)
            k = sizeof c->first - c->first_len;
        memcpy(c->first + c->first_len, b, k);
        c->first_len += k;
    }
    return (int)r;
}

/* MXS_LAB_DEBUG=4 shows the client's mbedTLS debug output. */
static void cli_debug(void *ctx, int level, const char *file, int line, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "# mbedtls %d %s:%d: %s", level, file, line, msg);
}

/* Set up and run the handshake; returns mbedtls_ssl_handshake's result. */
static int cli_handshake(struct cli *c, int fd, mbedtls_ssl_protocol_version min,
                         mbedtls_ssl_protocol_version max)
{
    memset(c, 0, sizeof *c);
    c->fd = fd;
    mbedtls_ssl_init(&c->ssl);
    mbedtls_ssl_config_init(&c->conf);
    mbedtls_x509_crt_init(&c->ca);
    assert_int_equal(mbedtls_x509_crt_parse_file(&c->ca, lab_ca_file(g_lab)), 0);
    assert_int_equal(mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_CLIENT,
                                                 MBEDTLS_SSL_TRANSPORT_STREAM,
                                                 MBEDTLS_SSL_PRESET_DEFAULT), 0);
    mbedtls_ssl_conf_rng(&c->conf, mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE);
    mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_OPTIONAL);
    if (getenv("MXS_LAB_DEBUG")) {
        mbedtls_ssl_conf_dbg(&c->conf, cli_debug, NULL);
        mbedtls_debug_set_threshold(atoi(getenv("MXS_LAB_DEBUG")));
    }
    mbedtls_ssl_conf_ca_chain(&c->conf, &c->ca, NULL);
    if (min)
        mbedtls_ssl_conf_min_tls_version(&c->conf, min);
    if (max)
        mbedtls_ssl_conf_max_tls_version(&c->conf, max);
    assert_int_equal(mbedtls_ssl_setup(&c->ssl, &c->conf), 0);
    assert_int_equal(mbedtls_ssl_set_hostname(&c->ssl, lab_host()), 0);
    mbedtls_ssl_set_bio(&c->ssl, c, cli_send, cli_recv, NULL);
    return mbedtls_ssl_handshake(&c->ssl);
}

static void cli_free(struct cli *c)
{
    mbedtls_ssl_free(&c->ssl);
    mbedtls_ssl_config_free(&c->conf);
    mbedtls_x509_crt_free(&c->ca);
    close(c->fd);
}

static int tls_cmd(struct cli *c, const char *line, char *buf, size_t cap)
{
    char l[256];
    size_t len = 0;
    snprintf(l, sizeof l, "%s\r\n", line);
    assert_int_equal(mbedtls_ssl_write(&c->ssl, (const unsigned char *)l, strlen(l)),
                     (int)strlen(l));
    buf[0] = '\0';
    while (len + 1 < cap) {
        int r = mbedtls_ssl_read(&c->ssl, (unsigned char *)buf + len, cap - 1 - len);
        if (r <= 0)
            return r == 0 ? -1 : r;
        len += (size_t)r;
        buf[len] = '\0';
        if (reply_complete(buf, len))
            return atoi(buf);
    }
    return -1;
}

/* ---- tests --------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    char err[256];
    if (psa_crypto_init() != PSA_SUCCESS)
        return -1;
    int64_t t0 = now_ms();
    g_lab = lab_start(err, sizeof err);
    int64_t dt = now_ms() - t0;
    if (!g_lab) {
        printf("# lab_start failed: %s\n", err);
        return -1;
    }
    printf("# lab_start (all certificates, all listeners) took %lld ms\n", (long long)dt);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char dir[1100];
    snprintf(dir, sizeof dir, "%s", lab_ca_file(g_lab));
    lab_stop(g_lab);
    g_lab = NULL;
    /* The private folder and the CA file are gone. */
    struct stat st;
    if (stat(dir, &st) == 0) {
        printf("# %s still exists after lab_stop\n", dir);
        return -1;
    }
    return 0;
}

static void test_table(void **state)
{
    (void)state;
    int n = 0;
    uint16_t seen[64] = {0};
    for (const struct lab_scenario *s = lab_scenarios; s->name; s++, n++) {
        assert_true(n < 64);
        assert_ptr_equal(lab_find(s->name), s);
        assert_true(strlen(s->story) > 10);
        assert_non_null(s->expect);
        uint16_t p = lab_port(g_lab, s->name);
        assert_true(p != 0);
        for (int i = 0; i < n; i++)
            assert_true(seen[i] != p);
        seen[n] = p;
    }
    assert_int_equal(n, 30);
    assert_null(lab_find("no-such-scenario"));
    assert_int_equal(lab_port(g_lab, "no-such-scenario"), 0);
    assert_string_equal(lab_host(), "mx.lab.mxscope.test");
    assert_string_equal(lab_find("expired")->expect, "cert-expired");
    assert_string_equal(lab_find("good")->expect, "");
    assert_string_equal(lab_find("tls12-only")->expect, "");

    struct stat st;
    assert_int_equal(stat(lab_ca_file(g_lab), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char dir[1100];
    snprintf(dir, sizeof dir, "%s", lab_ca_file(g_lab));
    *strrchr(dir, '/') = '\0';
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
}

static void test_apply(void **state)
{
    (void)state;
    struct mxs_settings s;
    char err[256];
    memset(&s, 0, sizeof s);
    s.port = 25;
    s.tls_max = 12;                       /* the caller's: must survive */
    snprintf(s.ehlo_name, sizeof s.ehlo_name, "client.test");
    assert_int_equal(lab_apply(g_lab, "expired", &s, err, sizeof err), 0);
    assert_string_equal(s.target, "mx.lab.mxscope.test");
    assert_int_equal(s.target_is_host, 1);
    assert_string_equal(s.connect_addr, "127.0.0.1");
    assert_int_equal(s.port, lab_port(g_lab, "expired"));
    assert_string_equal(s.cafile, lab_ca_file(g_lab));
    assert_string_equal(s.expect_fp, "");
    assert_int_equal(s.tls_max, 12);
    assert_string_equal(s.ehlo_name, "client.test");
    assert_int_equal(lab_apply(g_lab, "fingerprint-after-renewal", &s, err, sizeof err), 0);
    assert_string_equal(s.expect_fp, lab_expected_fingerprint(g_lab));
    /* Switching away drops the lab's own thumbprint, but not the caller's. */
    assert_int_equal(lab_apply(g_lab, "good", &s, err, sizeof err), 0);
    assert_string_equal(s.expect_fp, "");
    snprintf(s.expect_fp, sizeof s.expect_fp, "00112233445566778899AABBCCDDEEFF00112233");
    assert_int_equal(lab_apply(g_lab, "good", &s, err, sizeof err), 0);
    assert_string_equal(s.expect_fp, "00112233445566778899AABBCCDDEEFF00112233");
    /* An sts-* scenario is a mail domain with the lab's DNS data and its
     * own policy host port; switching back to an MX scenario drops both. */
    s.policy_port = 443;
    assert_int_equal(lab_apply(g_lab, "sts-enforce", &s, err, sizeof err), 0);
    assert_string_equal(s.target, "lab.mxscope.test");
    assert_int_equal(s.target_is_host, 0);
    assert_string_equal(s.connect_addr, "");
    assert_int_equal(s.port, lab_port(g_lab, "sts-enforce"));
    assert_true(s.policy_port != 443 && s.policy_port != 0 && s.policy_port != s.port);
    struct stat st;
    assert_int_equal(stat(s.unbound_conf, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(lab_apply(g_lab, "good", &s, err, sizeof err), 0);
    assert_string_equal(s.unbound_conf, "");
    assert_int_equal(s.policy_port, 443);
    assert_int_equal(s.target_is_host, 1);
    assert_int_equal(lab_apply(g_lab, "nope", &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "nope"));
}

/* The lab as the console registers it (cmd_set_lab_provider(&lab_ops)):
 * `open lab:NAME` reaches this lab through the provider, never by name. */
static void test_provider(void **state)
{
    (void)state;
    assert_ptr_equal(lab_ops.scenarios, lab_scenarios);
    assert_ptr_equal(lab_ops.start, lab_start);
    assert_ptr_equal(lab_ops.stop, lab_stop);
    assert_ptr_equal(lab_ops.apply, lab_apply);

    struct cmd_ctx c;
    struct cmd_result r;
    cmd_set_lab_provider(&lab_ops);
    cmd_ctx_init(&c, NULL, g_lab, NULL, 0);
    cmd_result_init(&r);
    cmd_exec(&c, "open lab:fingerprint-after-renewal", &r);
    assert_int_equal(r.status, CMD_OK);
    assert_ptr_equal(c.lab, g_lab);
    assert_string_equal(c.lab_scenario, "fingerprint-after-renewal");
    const struct mxs_settings *s = engine_settings(c.engine);
    assert_int_equal(s->port, lab_port(g_lab, "fingerprint-after-renewal"));
    assert_string_equal(s->cafile, lab_ca_file(g_lab));
    assert_string_equal(s->expect_fp, lab_expected_fingerprint(g_lab));
    cmd_result_free(&r);
    cmd_ctx_free(&c);                     /* g_lab is ours: still running */
    assert_true(lab_port(g_lab, "good") != 0);
    cmd_set_lab_provider(NULL);
}

static void test_good_session(void **state)
{
    (void)state;
    char b[4096];
    struct cli c;
    int fd = tcp_connect("good");
    assert_int_equal(read_reply(fd, b, sizeof b), 220);
    assert_non_null(strstr(b, "mx.lab.mxscope.test"));
    assert_int_equal(cmd(fd, "MAIL FROM:<a@b.test>", b, sizeof b), 503); /* no EHLO yet */
    assert_int_equal(cmd(fd, "EHLO client.test", b, sizeof b), 250);
    assert_non_null(strstr(b, "250-STARTTLS\r\n"));
    assert_non_null(strstr(b, "PIPELINING"));
    assert_int_equal(cmd(fd, "NOOP", b, sizeof b), 250);
    assert_int_equal(cmd(fd, "STARTTLS", b, sizeof b), 220);
    assert_int_equal(cli_handshake(&c, fd, 0, 0), 0);
    assert_int_equal(mbedtls_ssl_get_verify_result(&c.ssl), 0);
    assert_int_equal(mbedtls_ssl_get_version_number(&c.ssl), MBEDTLS_SSL_VERSION_TLS1_3);
    /* RFC 3207: a fresh state; the new EHLO has no STARTTLS. */
    assert_int_equal(tls_cmd(&c, "MAIL FROM:<a@b.test>", b, sizeof b), 503);
    assert_int_equal(tls_cmd(&c, "EHLO client.test", b, sizeof b), 250);
    assert_null(strstr(b, "STARTTLS"));
    assert_int_equal(tls_cmd(&c, "STARTTLS", b, sizeof b), 554);
    assert_int_equal(tls_cmd(&c, "MAIL FROM:<a@b.test>", b, sizeof b), 250);
    assert_int_equal(tls_cmd(&c, "DATA", b, sizeof b), 503);
    assert_int_equal(tls_cmd(&c, "RCPT TO:<c@d.test>", b, sizeof b), 250);
    assert_int_equal(tls_cmd(&c, "DATA", b, sizeof b), 354);
    assert_int_equal(tls_cmd(&c, "Subject: x\r\n\r\nhello\r\n..dot\r\n.", b, sizeof b), 250);
    assert_int_equal(tls_cmd(&c, "RSET", b, sizeof b), 250);
    assert_int_equal(tls_cmd(&c, "QUIT", b, sizeof b), 221);
    cli_free(&c);
}

struct tls_case {
    const char *scenario;
    uint32_t flags;        /* exactly these verify flags */
};

static void test_tls_verify_flags(void **state)
{
    (void)state;
    static const struct tls_case cases[] = {
        {"good", 0},
        {"expired", MBEDTLS_X509_BADCERT_EXPIRED},
        {"expiring-soon", 0},
        {"not-yet-valid", MBEDTLS_X509_BADCERT_FUTURE},
        {"wrong-name", MBEDTLS_X509_BADCERT_CN_MISMATCH},
        {"self-signed", MBEDTLS_X509_BADCERT_NOT_TRUSTED},
        {"untrusted-root", MBEDTLS_X509_BADCERT_NOT_TRUSTED},
        {"missing-intermediate", MBEDTLS_X509_BADCERT_NOT_TRUSTED},
        {"chain-order", 0},
        {"weak-key", MBEDTLS_X509_BADCERT_BAD_KEY},
        {"weak-signature", MBEDTLS_X509_BADCERT_BAD_MD},
        {"not-server-auth", MBEDTLS_X509_BADCERT_EXT_KEY_USAGE},
        {"fingerprint-after-renewal", 0},
        {"tls12-only", 0},
        {"tls13-only", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int v = 12; v <= 13; v++) {
            struct cli c;
            mbedtls_ssl_protocol_version ver =
                v == 12 ? MBEDTLS_SSL_VERSION_TLS1_2 : MBEDTLS_SSL_VERSION_TLS1_3;
            if ((v == 13 && strcmp(cases[i].scenario, "tls12-only") == 0) ||
                (v == 12 && strcmp(cases[i].scenario, "tls13-only") == 0))
                continue;  /* tested in test_versions */
            int fd = smtp_to_starttls(cases[i].scenario);
            int r = cli_handshake(&c, fd, ver, ver);
            if (r != 0)
                printf("# %s TLS 1.%d: handshake -0x%04x\n", cases[i].scenario, v - 10,
                       (unsigned)-r);
            assert_int_equal(r, 0);
            uint32_t f = mbedtls_ssl_get_verify_result(&c.ssl);
            if (f != cases[i].flags)
                printf("# %s TLS 1.%d: flags 0x%x, want 0x%x\n", cases[i].scenario, v - 10,
                       (unsigned)f, (unsigned)cases[i].flags);
            assert_int_equal(f, cases[i].flags);
            /* The session works: a post-TLS EHLO. */
            char b[2048];
            assert_int_equal(tls_cmd(&c, "EHLO client.test", b, sizeof b), 250);
            assert_null(strstr(b, "STARTTLS"));
            cli_free(&c);
        }
    }
}

/* Certificate details the flags do not show: days left, chain order,
 * what was sent. */
static void test_tls_chains(void **state)
{
    (void)state;
    struct cli c;
    const mbedtls_x509_crt *p;
    char b[512];
    time_t now = time(NULL);

    /* expiring-soon: 10 days left (floor). */
    int fd = smtp_to_starttls("expiring-soon");
    assert_int_equal(cli_handshake(&c, fd, 0, 0), 0);
    p = mbedtls_ssl_get_peer_cert(&c.ssl);
    assert_non_null(p);
    struct tm tm = {0};
    tm.tm_year = p->valid_to.year - 1900;
    tm.tm_mon = p->valid_to.mon - 1;
    tm.tm_mday = p->valid_to.day;
    tm.tm_hour = p->valid_to.hour;
    tm.tm_min = p->valid_to.min;
    tm.tm_sec = p->valid_to.sec;
    long days = (long)((timegm(&tm) - now) / 86400);
    assert_int_equal(days, 10);
    cli_free(&c);

    /* chain-order: leaf, root, intermediate. */
    fd = smtp_to_starttls("chain-order");
    assert_int_equal(cli_handshake(&c, fd, 0, 0), 0);
    p = mbedtls_ssl_get_peer_cert(&c.ssl);
    assert_non_null(p);
    assert_non_null(p->next);
    assert_non_null(p->next->next);
    assert_null(p->next->next->next);
    mbedtls_x509_dn_gets(b, sizeof b, &p->next->subject);
    assert_non_null(strstr(b, "root CA"));
    mbedtls_x509_dn_gets(b, sizeof b, &p->next->next->subject);
    assert_non_null(strstr(b, "intermediate CA"));
    /* ...so the second certificate is not the leaf's issuer. */
    assert_int_not_equal(p->issuer_raw.len == p->next->subject_raw.len &&
                             memcmp(p->issuer_raw.p, p->next->subject_raw.p,
                                    p->issuer_raw.len) == 0, 1);
    cli_free(&c);

    /* missing-intermediate: the leaf alone; good: leaf + intermediate. */
    fd = smtp_to_starttls("missing-intermediate");
    assert_int_equal(cli_handshake(&c, fd, 0, 0), 0);
    p = mbedtls_ssl_get_peer_cert(&c.ssl);
    assert_non_null(p);
    assert_null(p->next);
    cli_free(&c);
    fd = smtp_to_starttls("good");
    assert_int_equal(cli_handshake(&c, fd, 0, 0), 0);
    p = mbedtls_ssl_get_peer_cert(&c.ssl);
    assert_non_null(p);
    assert_non_null(p->next);
    assert_null(p->next->next);
    assert_int_equal(p->issuer_raw.len, p->next->subject_raw.len);
    assert_memory_equal(p->issuer_raw.p, p->next->subject_raw.p, p->issuer_raw.len);
    cli_free(&c);

    /* weak-key: RSA 1024; weak-signature: SHA-1; wrong-name: other.example.net */
    fd = smtp_to_starttls("weak-key");
    assert_int_equal(cli_handshake(&c, fd, 0, 0), 0);
    p = mbedtls_ssl_get_peer_cert(&c.ssl);
    assert_int_equal(mbedtls_pk_get_type(&p->pk), MBEDTLS_PK_RSA);
    assert_int_equal((int)mbedtls_pk_get_bitlen(&p->pk), 1024);
    cli_free(&c);
    fd = smtp_to_starttls("weak-signature");
    assert_int_equal(cli_handshake(&c, fd, 0, 0), 0);
    p = mbedtls_ssl_get_peer_cert(&c.ssl);
    assert_int_equal(p->sig_oid.len, MBEDTLS_OID_SIZE(MBEDTLS_OID_ECDSA_SHA1));
    assert_memory_equal(p->sig_oid.p, MBEDTLS_OID_ECDSA_SHA1, p->sig_oid.len);
    cli_free(&c);
    fd = smtp_to_starttls("wrong-name");
    assert_int_equal(cli_handshake(&c, fd, 0, 0), 0);
    p = mbedtls_ssl_get_peer_cert(&c.ssl);
    assert_int_equal(p->subject_alt_names.buf.len, strlen("other.example.net"));
    assert_memory_equal(p->subject_alt_names.buf.p, "other.example.net", 17);
    assert_null(p->subject_alt_names.next);
    cli_free(&c);
}

static void test_fingerprint(void **state)
{
    (void)state;
    struct cli c;
    char served[41];
    const char *want = lab_expected_fingerprint(g_lab);
    assert_int_equal(strlen(want), 40);
    for (int i = 0; i < 40; i++)
        assert_non_null(strchr("0123456789ABCDEF", want[i]));
    int fd = smtp_to_starttls("fingerprint-after-renewal");
    assert_int_equal(cli_handshake(&c, fd, 0, 0), 0);
    const mbedtls_x509_crt *p = mbedtls_ssl_get_peer_cert(&c.ssl);
    assert_non_null(p);
    labcert_sha1_hex(p->raw.p, p->raw.len, served);
    assert_int_equal(strlen(served), 40);
    assert_string_not_equal(served, want);
    /* The served one is the old certificate: issued long before the renewal. */
    mbedtls_x509_time t = p->valid_from;
    struct tm tm = {0};
    tm.tm_year = t.year - 1900;
    tm.tm_mon = t.mon - 1;
    tm.tm_mday = t.day;
    assert_true(timegm(&tm) < time(NULL) - 200L * 86400);
    cli_free(&c);
}

static void test_versions(void **state)
{
    (void)state;
    struct cli c;
    /* tls12-only: 1.2 by default, no common version when 1.3 is required. */
    int fd = smtp_to_starttls("tls12-only");
    assert_int_equal(cli_handshake(&c, fd, 0, 0), 0);
    assert_int_equal(mbedtls_ssl_get_version_number(&c.ssl), MBEDTLS_SSL_VERSION_TLS1_2);
    cli_free(&c);
    fd = smtp_to_starttls("tls12-only");
    assert_int_not_equal(cli_handshake(&c, fd, MBEDTLS_SSL_VERSION_TLS1_3,
                                       MBEDTLS_SSL_VERSION_TLS1_3), 0);
    cli_free(&c);
    /* tls13-only: 1.3, and a 1.2-only client fails. */
    fd = smtp_to_starttls("tls13-only");
    assert_int_equal(cli_handshake(&c, fd, 0, 0), 0);
    assert_int_equal(mbedtls_ssl_get_version_number(&c.ssl), MBEDTLS_SSL_VERSION_TLS1_3);
    cli_free(&c);
    fd = smtp_to_starttls("tls13-only");
    assert_int_not_equal(cli_handshake(&c, fd, MBEDTLS_SSL_VERSION_TLS1_2,
                                       MBEDTLS_SSL_VERSION_TLS1_2), 0);
    cli_free(&c);
    /* good speaks both. */
    fd = smtp_to_starttls("good");
    assert_int_equal(cli_handshake(&c, fd, MBEDTLS_SSL_VERSION_TLS1_2,
                                   MBEDTLS_SSL_VERSION_TLS1_2), 0);
    assert_int_equal(mbedtls_ssl_get_version_number(&c.ssl), MBEDTLS_SSL_VERSION_TLS1_2);
    cli_free(&c);
}

static void test_tls10(void **state)
{
    (void)state;
    struct cli c;
    int fd = smtp_to_starttls("tls10-only");
    int r = cli_handshake(&c, fd, 0, 0);
    printf("# tls10-only: mbedTLS client handshake -0x%04x\n", (unsigned)-r);
    assert_int_equal(r, MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION);
    /* What came back is a TLS 1.0 ServerHello record. */
    assert_true(c.first_len >= 11);
    assert_int_equal(c.first[0], 0x16);              /* handshake record   */
    assert_int_equal(c.first[1], 0x03);
    assert_int_equal(c.first[2], 0x01);              /* record version 1.0 */
    assert_int_equal(c.first[5], 0x02);              /* ServerHello        */
    assert_int_equal(c.first[9], 0x03);
    assert_int_equal(c.first[10], 0x01);             /* server_version 1.0 */
    size_t rec = ((size_t)c.first[3] << 8) | c.first[4];
    size_t body = ((size_t)c.first[6] << 16) | ((size_t)c.first[7] << 8) | c.first[8];
    assert_int_equal(rec, body + 4);
    cli_free(&c);
}

static void test_client_cert_required(void **state)
{
    (void)state;
    static const unsigned char alert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28};
    for (int v = 12; v <= 13; v++) {
        struct cli c;
        int fd = smtp_to_starttls("client-cert-required");
        /* v 13: the client's default range 1.2-1.3; the server caps at 1.2 */
        int r = cli_handshake(&c, fd, v == 12 ? MBEDTLS_SSL_VERSION_TLS1_2 : 0, 0);
        assert_int_equal(r, MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE);
        /* The server asked for a certificate: a CertificateRequest (13) in
         * its plaintext handshake records... */
        int saw_req = 0;
        for (size_t p = 0; p + 5 <= c.first_len;) {
            size_t rl = ((size_t)c.first[p + 3] << 8) | c.first[p + 4];
            if (c.first[p] == 0x16 && p + 5 + rl <= c.first_len)
                for (size_t h = p + 5; h + 4 <= p + 5 + rl;) {
                    size_t hl = ((size_t)c.first[h + 1] << 16) |
                                ((size_t)c.first[h + 2] << 8) | c.first[h + 3];
                    if (c.first[h] == 13)
                        saw_req = 1;
                    h += 4 + hl;
                }
            p += 5 + rl;
        }
        assert_true(saw_req);
        /* ...and said handshake_failure (40) in a plaintext fatal alert. */
        assert_true(c.last_len >= sizeof alert);
        assert_memory_equal(c.last + c.last_len - sizeof alert, alert, sizeof alert);
        cli_free(&c);
    }
    /* A TLS 1.3-only client finds no common version. */
    struct cli c;
    int fd = smtp_to_starttls("client-cert-required");
    assert_int_not_equal(cli_handshake(&c, fd, MBEDTLS_SSL_VERSION_TLS1_3, 0), 0);
    cli_free(&c);
}

static void test_no_starttls(void **state)
{
    (void)state;
    char b[2048];
    int fd = tcp_connect("no-starttls");
    assert_int_equal(read_reply(fd, b, sizeof b), 220);
    assert_int_equal(cmd(fd, "EHLO client.test", b, sizeof b), 250);
    assert_null(strstr(b, "STARTTLS"));
    assert_non_null(strstr(b, "8BITMIME"));
    assert_int_equal(cmd(fd, "STARTTLS", b, sizeof b), 502);
    assert_int_equal(cmd(fd, "HELO client.test", b, sizeof b), 250);
    assert_int_equal(cmd(fd, "QUIT", b, sizeof b), 221);
    close(fd);
}

static void test_starttls_refused(void **state)
{
    (void)state;
    char b[2048];
    int fd = tcp_connect("starttls-refused");
    assert_int_equal(read_reply(fd, b, sizeof b), 220);
    assert_int_equal(cmd(fd, "EHLO client.test", b, sizeof b), 250);
    assert_non_null(strstr(b, "250-STARTTLS\r\n"));
    assert_int_equal(cmd(fd, "STARTTLS", b, sizeof b), 454);
    assert_string_equal(b, "454 4.7.0 TLS not available due to local problem\r\n");
    assert_int_equal(cmd(fd, "NOOP", b, sizeof b), 250);  /* still in plaintext */
    close(fd);
}

static void test_plaintext_after_starttls(void **state)
{
    (void)state;
    char b[2048];
    struct cli c;
    static const char want[] = "220 2.0.0 Ready to start TLS\r\n250-injected\r\n250 pipelined\r\n";
    int fd = tcp_connect("plaintext-after-starttls");
    assert_int_equal(read_reply(fd, b, sizeof b), 220);
    assert_int_equal(cmd(fd, "EHLO client.test", b, sizeof b), 250);
    assert_non_null(strstr(b, "250-STARTTLS\r\n"));
    assert_int_equal(send(fd, "STARTTLS\r\n", 10, 0), 10);
    /* One read gets the 220 and the injected lines: one write on the server. */
    ssize_t r = recv(fd, b, sizeof b - 1, 0);
    assert_int_equal(r, (ssize_t)strlen(want));
    b[r] = '\0';
    assert_string_equal(b, want);
    /* Then the server does TLS all the same. */
    assert_int_equal(cli_handshake(&c, fd, 0, 0), 0);
    assert_int_equal(mbedtls_ssl_get_verify_result(&c.ssl), 0);
    cli_free(&c);
}

static void test_banners(void **state)
{
    (void)state;
    char b[2048];
    int fd = tcp_connect("banner-rejected");
    assert_int_equal(read_reply(fd, b, sizeof b), 554);
    assert_string_equal(b, "554 5.7.1 lab.mxscope.test: no SMTP service here\r\n");
    assert_int_equal(cmd(fd, "EHLO client.test", b, sizeof b), 503);
    assert_int_equal(cmd(fd, "QUIT", b, sizeof b), 221);
    assert_int_equal(recv(fd, b, sizeof b, 0), 0);
    close(fd);

    fd = tcp_connect("banner-throttled");
    assert_int_equal(read_reply(fd, b, sizeof b), 421);
    assert_string_equal(b, "421 4.7.0 lab.mxscope.test: too many connections, try later\r\n");
    assert_int_equal(recv(fd, b, sizeof b, 0), 0);   /* and it hangs up */
    close(fd);

    fd = tcp_connect("masked-ehlo");
    assert_int_equal(read_reply(fd, b, sizeof b), 220);
    assert_int_equal(cmd(fd, "EHLO client.test", b, sizeof b), 250);
    assert_non_null(strstr(b, "250-XXXXXXXA\r\n"));
    assert_non_null(strstr(b, "250-**********\r\n"));
    assert_null(strstr(b, "STARTTLS"));
    assert_int_equal(cmd(fd, "STARTTLS", b, sizeof b), 500);
    close(fd);
}

static void test_slow_banner(void **state)
{
    (void)state;
    char b[2048];
    int64_t t0 = now_ms();
    int fd = tcp_connect("slow-banner");
    struct pollfd p = {fd, POLLIN, 0};
    assert_int_equal(poll(&p, 1, 1000), 0);          /* silent for 1 s */
    assert_int_equal(poll(&p, 1, 6000), 1);          /* greets within 7 s */
    assert_int_equal(read_reply(fd, b, sizeof b), 220);
    int64_t dt = now_ms() - t0;
    printf("# slow-banner greeted after %lld ms\n", (long long)dt);
    assert_true(dt >= 4900 && dt <= 7000);
    /* and is a working server afterwards, TLS included */
    assert_int_equal(cmd(fd, "EHLO client.test", b, sizeof b), 250);
    assert_non_null(strstr(b, "250-STARTTLS\r\n"));
    close(fd);
}

/* Hostile input: long lines, NULs, pipelining, early talkers, many clients. */
/* One request to an sts-* scenario's policy host over TLS; the whole
 * answer (the responder closes after it) into buf. */
static size_t https_ask(uint16_t port, const char *req, size_t req_len, char *buf, size_t cap)
{
    struct cli c;
    size_t len = 0;
    assert_int_equal(cli_handshake(&c, tcp_connect_port(port), 0, 0), 0);
    assert_int_equal(mbedtls_ssl_get_verify_result(&c.ssl) & ~MBEDTLS_X509_BADCERT_CN_MISMATCH, 0);
    assert_int_equal(mbedtls_ssl_write(&c.ssl, (const unsigned char *)req, req_len), (int)req_len);
    for (;;) {
        int r = mbedtls_ssl_read(&c.ssl, (unsigned char *)buf + len, cap - 1 - len);
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    buf[len] = '\0';
    cli_free(&c);
    return len;
}

/* The policy host of the sts-* scenarios: the policy, 404 elsewhere, a
 * head without an end cut at the buffer, junk that is not TLS dropped. */
static void test_policy_host(void **state)
{
    (void)state;
    struct mxs_settings s;
    char err[256], b[8192], big[5000];
    memset(&s, 0, sizeof s);
    assert_int_equal(lab_apply(g_lab, "sts-enforce", &s, err, sizeof err), 0);
    uint16_t port = s.policy_port;
    static const char get[] = "GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: mta-sts.lab.mxscope.test\r\n\r\n";
    https_ask(port, get, strlen(get), b, sizeof b);
    assert_true(strncmp(b, "HTTP/1.1 200 OK\r\n", 17) == 0);
    assert_non_null(strstr(b, "\r\nContent-Type: text/plain\r\n"));
    assert_non_null(strstr(b, "\r\n\r\nversion: STSv1\r\nmode: enforce\r\nmx: mx.lab.mxscope.test\r\n"));
    static const char other[] = "GET /index.html HTTP/1.1\r\n\r\n";
    https_ask(port, other, strlen(other), b, sizeof b);
    assert_true(strncmp(b, "HTTP/1.1 404 ", 13) == 0);
    memset(big, 'A', sizeof big);
    https_ask(port, big, sizeof big, b, sizeof b);
    assert_true(strncmp(b, "HTTP/1.1 431 ", 13) == 0);
    /* not TLS at all: the handshake fails, the connection closes */
    int fd = tcp_connect_port(port);
    assert_int_equal(send(fd, "GET / HTTP/1.0\r\n\r\n", 18, 0), 18);
    while (recv(fd, b, sizeof b, 0) > 0)
        ;
    close(fd);
    /* sts-policy-404 answers the policy path with 404 */
    assert_int_equal(lab_apply(g_lab, "sts-policy-404", &s, err, sizeof err), 0);
    https_ask(s.policy_port, get, strlen(get), b, sizeof b);
    assert_true(strncmp(b, "HTTP/1.1 404 Not Found\r\n", 24) == 0);
    /* and the first one still serves */
    https_ask(port, get, strlen(get), b, sizeof b);
    assert_true(strncmp(b, "HTTP/1.1 200 OK\r\n", 17) == 0);
}

static void test_robustness(void **state)
{
    (void)state;
    char b[4096], big[9000];
    int fd = tcp_connect("good");
    assert_int_equal(read_reply(fd, b, sizeof b), 220);
    memset(big, 'A', sizeof big);
    assert_int_equal(send(fd, big, sizeof big, 0), (ssize_t)sizeof big);
    assert_int_equal(cmd(fd, "", b, sizeof b), 500);         /* line too long, once */
    assert_int_equal(cmd(fd, "NOOP", b, sizeof b), 250);
    assert_int_equal(send(fd, "NO\0OP\r\n", 7, 0), 7);
    assert_int_equal(read_reply(fd, b, sizeof b), 500);
    /* Pipelined commands are answered in order. */
    static const char pipe[] = "EHLO a.test\r\nMAIL FROM:<>\r\nRCPT TO:<x@y.test>\r\nRSET\r\n";
    assert_int_equal(send(fd, pipe, strlen(pipe), 0), (ssize_t)strlen(pipe));
    /* Replies may arrive together: read until four final lines are there. */
    char all[8192];
    size_t len = 0;
    int got = 0;
    while (got < 4) {
        ssize_t r = recv(fd, all + len, sizeof all - 1 - len, 0);
        assert_true(r > 0);
        len += (size_t)r;
        all[len] = '\0';
        got = 0;
        for (char *q = all; q; q = strstr(q, "\r\n")) {
            if (q != all)
                q += 2;
            if (strncmp(q, "250 ", 4) == 0)
                got++;
            if (!*q)
                break;
        }
    }
    assert_non_null(strstr(all, "250-PIPELINING\r\n"));
    assert_non_null(strstr(all, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok\r\n"));
    assert_int_equal(got, 4);
    /* STARTTLS with pipelined plaintext after it: the server drops it. */
    assert_int_equal(send(fd, "STARTTLS\r\nNOOP\r\n", 16, 0), 16);
    assert_int_equal(read_reply(fd, b, sizeof b), 220);
    assert_string_equal(b, "220 2.0.0 Ready to start TLS\r\n");
    close(fd);

    /* Back-pressure: 3000 pipelined NOOPs (45 KB of replies) all answered. */
    fd = tcp_connect("no-starttls");
    assert_int_equal(read_reply(fd, b, sizeof b), 220);
    {
        enum { K = 3000 };
        static char many[K * 6];
        for (int i = 0; i < K; i++)
            memcpy(many + 6 * i, "NOOP\r\n", 6);
        assert_int_equal(send(fd, many, sizeof many, 0), (ssize_t)sizeof many);
        size_t want = (size_t)K * strlen("250 2.0.0 Ok\r\n"), have = 0;
        while (have < want) {
            ssize_t r = recv(fd, b, sizeof b, 0);
            assert_true(r > 0);
            have += (size_t)r;
        }
        assert_int_equal(have, want);
    }
    /* DATA is counted and thrown away: 1 MB is fine, 11 MB is too big. */
    assert_int_equal(cmd(fd, "EHLO c.test", b, sizeof b), 250);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(cmd(fd, "MAIL FROM:<a@b.test>", b, sizeof b), 250);
        assert_int_equal(cmd(fd, "RCPT TO:<c@d.test>", b, sizeof b), 250);
        assert_int_equal(cmd(fd, "DATA", b, sizeof b), 354);
        static char line[1002];
        memset(line, 'x', 1000);
        line[1000] = '\r';
        line[1001] = '\n';
        int lines = round == 0 ? 1000 : 11000;
        for (int i = 0; i < lines; i++)
            assert_int_equal(send(fd, line, sizeof line, 0), (ssize_t)sizeof line);
        assert_int_equal(cmd(fd, ".", b, sizeof b), round == 0 ? 250 : 552);
    }
    close(fd);

    /* A half-close after QUIT still gets its 221. */
    fd = tcp_connect("good");
    assert_int_equal(read_reply(fd, b, sizeof b), 220);
    assert_int_equal(send(fd, "QUIT\r\n", 6, 0), 6);
    assert_int_equal(shutdown(fd, SHUT_WR), 0);
    assert_int_equal(read_reply(fd, b, sizeof b), 221);
    close(fd);

    /* Many clients at once. */
    enum { N = 40 };
    int fds[N];
    for (int i = 0; i < N; i++)
        fds[i] = tcp_connect(i % 2 ? "good" : "no-starttls");
    for (int i = 0; i < N; i++) {
        assert_int_equal(read_reply(fds[i], b, sizeof b), 220);
        assert_int_equal(cmd(fds[i], "EHLO c.test", b, sizeof b), 250);
    }
    for (int i = 0; i < N; i++)
        close(fds[i]);

    /* A client that drops mid-handshake does not hurt the next one. */
    fd = smtp_to_starttls("good");
    assert_int_equal(send(fd, "\x16\x03\x01\x00\x05", 5, 0), 5);
    close(fd);
    struct cli c;
    fd = smtp_to_starttls("good");
    assert_int_equal(cli_handshake(&c, fd, 0, 0), 0);
    cli_free(&c);
}

/* The certificate factory on its own. */
static void test_labcert(void **state)
{
    (void)state;
    struct labcert ca, leaf;
    char err[256];
    labcert_init(&ca);
    labcert_init(&leaf);
    struct labcert_spec s = {.subject = "CN=t root", .is_ca = 1, .max_pathlen = -1};
    assert_int_equal(labcert_make(&ca, &s, NULL, err, sizeof err), 0);
    struct labcert_spec ls = {.subject = "CN=t leaf", .san = {"a.test", "b.test"},
                              .eku = LABCERT_EKU_SERVER | LABCERT_EKU_CLIENT};
    assert_int_equal(labcert_make(&leaf, &ls, &ca, err, sizeof err), 0);
    mbedtls_x509_crt chain, trust;
    mbedtls_x509_crt_init(&chain);
    mbedtls_x509_crt_init(&trust);
    assert_int_equal(labcert_chain_add(&chain, &leaf), 0);
    assert_int_equal(labcert_chain_add(&trust, &ca), 0);
    uint32_t flags = 0;
    assert_int_equal(mbedtls_x509_crt_verify(&chain, &trust, NULL, "b.test", &flags, NULL, NULL), 0);
    assert_int_equal(mbedtls_x509_crt_check_extended_key_usage(
                         &chain, MBEDTLS_OID_CLIENT_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)), 0);
    assert_int_not_equal(mbedtls_x509_crt_verify(&chain, &trust, NULL, "c.test", &flags, NULL, NULL), 0);
    assert_int_equal(flags, MBEDTLS_X509_BADCERT_CN_MISMATCH);
    char sha1[41];
    labcert_sha1_hex(leaf.der, leaf.der_len, sha1);
    assert_string_equal(sha1, leaf.sha1);
    char pem[4096];
    assert_true(labcert_pem(&leaf, pem, sizeof pem) > 100);
    assert_non_null(strstr(pem, "-----BEGIN CERTIFICATE-----"));
    assert_int_equal(labcert_pem(&leaf, pem, 64), -1);
    assert_int_equal(labcert_can_sha1(), 1);   /* weak-signature needs it */
    mbedtls_x509_crt_free(&chain);
    mbedtls_x509_crt_free(&trust);
    labcert_free(&leaf);
    labcert_free(&ca);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_apply),
        cmocka_unit_test(test_provider),
        cmocka_unit_test(test_labcert),
        cmocka_unit_test(test_good_session),
        cmocka_unit_test(test_tls_verify_flags),
        cmocka_unit_test(test_tls_chains),
        cmocka_unit_test(test_fingerprint),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_tls10),
        cmocka_unit_test(test_client_cert_required),
        cmocka_unit_test(test_no_starttls),
        cmocka_unit_test(test_starttls_refused),
        cmocka_unit_test(test_plaintext_after_starttls),
        cmocka_unit_test(test_banners),
        cmocka_unit_test(test_slow_banner),
        cmocka_unit_test(test_policy_host),
        cmocka_unit_test(test_robustness),
    };
    return cmocka_run_group_tests_name("lab", tests, setup, teardown);
}
