/*
 * lab_https.c - the lab's MTA-STS side (issue 12): for each sts-* scenario
 * a policy host (an HTTPS responder on its own loopback port, certificate
 * for mta-sts.lab.mxscope.test from the lab CA) and the DNS data a real
 * domain would publish, as a libunbound configuration file the client's
 * resolver reads (--unbound-conf): MX, the MX host's and the policy host's
 * A records, _mta-sts and (when the scenario has one) _smtp._tls TXT, in a
 * static local zone so nothing under lab.mxscope.test is asked of the
 * network.  The client then does what it does for any domain: TXT lookups,
 * the HTTPS fetch with PKIX validation, the parse, the verdict; only the
 * port of the fetch differs (--policy-port: 443 needs privileges).
 *
 * The responder is a test server inside our lab, not an HTTP client: it
 * reads one request head (bounded by LAB_IN_MAX), answers the policy path
 * with the scenario's status and body and everything else with 404, in a
 * minimal HTTP/1.1 response with Connection: close, then closes.  Owned by
 * the lab module.
 */
#include "lab/lab_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/error.h>
#include <mbedtls/psa_util.h>

#define LAB_POLICY_PATH "/.well-known/mta-sts.txt"

/* One libunbound file per scenario: what LAB_DOMAIN publishes. */
static int lab_write_ubconf(struct lab *l, int sc, char *err, size_t errlen)
{
    char conf[1024];
    int n = snprintf(conf, sizeof conf,
                     "server:\n"
                     "    local-zone: \"" LAB_DOMAIN ".\" static\n"
                     "    local-data: \"" LAB_DOMAIN ". 300 IN MX 10 " LAB_HOST ".\"\n"
                     "    local-data: \"" LAB_HOST ". 300 IN A 127.0.0.1\"\n"
                     "    local-data: \"" LAB_STS_HOST ". 300 IN A 127.0.0.1\"\n"
                     "    local-data: '_mta-sts." LAB_DOMAIN ". 300 IN TXT \"v=STSv1; id=mxscopelab%d\"'\n"
                     "%s",
                     sc, lab_sts[sc].tlsrpt
                     ? "    local-data: '_smtp._tls." LAB_DOMAIN ". 300 IN TXT "
                       "\"v=TLSRPTv1; rua=mailto:tlsrpt@" LAB_DOMAIN "\"'\n" : "");
    if (n < 0 || (size_t)n >= sizeof conf)
        return snprintf(err, errlen, "lab: DNS data does not fit"), -1;
    snprintf(l->ubconf[sc], sizeof l->ubconf[sc], "%s/%s.ubconf", l->dir, lab_scenarios[sc].name);
    int fd = open(l->ubconf[sc], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "lab: %s: %s", l->ubconf[sc], strerror(errno));
        l->ubconf[sc][0] = '\0';
        return -1;
    }
    int ok = write(fd, conf, (size_t)n) == (ssize_t)n;
    close(fd);
    if (!ok)
        return snprintf(err, errlen, "lab: writing %s", l->ubconf[sc]), -1;
    return 0;
}

static int lab_https_conf(struct lab *l, int sc, char *err, size_t errlen)
{
    mbedtls_ssl_config *conf = &l->hconf[sc];
    int ret = labcert_chain_add(&l->hchain[sc], &l->cert[lab_sts[sc].cert]);
    if (ret == 0)
        ret = labcert_chain_add(&l->hchain[sc], &l->cert[C_INTER]);
    if (ret == 0)
        ret = mbedtls_ssl_config_defaults(conf, MBEDTLS_SSL_IS_SERVER,
                                          MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret == 0) {
        mbedtls_ssl_conf_rng(conf, mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE);
        mbedtls_ssl_conf_authmode(conf, MBEDTLS_SSL_VERIFY_NONE);
        ret = mbedtls_ssl_conf_own_cert(conf, &l->hchain[sc], &l->cert[lab_sts[sc].cert].key);
    }
    if (ret != 0) {
        char m[128];
        mbedtls_strerror(ret, m, sizeof m);
        snprintf(err, errlen, "lab: HTTPS set-up for %s: %s", lab_scenarios[sc].name, m);
        return -1;
    }
    l->hconf_ok[sc] = 1;
    return 0;
}

int lab_https_setup(struct lab *l, char *err, size_t errlen)
{
    for (int i = 0; i < L_COUNT; i++)
        if (lab_sts[i].policy &&
            (lab_https_conf(l, i, err, errlen) != 0 || lab_write_ubconf(l, i, err, errlen) != 0))
            return -1;
    return 0;
}

static const char *lab_http_reason(int status)
{
    return status == 200 ? "OK" : status == 404 ? "Not Found" : status == 400 ? "Bad Request"
           : status == 431 ? "Request Header Fields Too Large" : "Error";
}

static void lab_http_answer(struct lab_conn *c, int status, const char *body)
{
    char head[256];
    size_t blen = strlen(body);
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n", status, lab_http_reason(status), blen);
    lab_queue(c, head, (size_t)n);
    lab_queue(c, body, blen);
    c->phase = P_CLOSING;
}

int lab_http_service(struct lab_conn *c)
{
    int r = lab_read(c);
    const char *end = c->in_len >= 4 ? memmem(c->in, c->in_len, "\r\n\r\n", 4) : NULL;
    if (!end) {
        if (c->in_len == LAB_IN_MAX) {
            lab_http_answer(c, 431, "request head too large\n");
            return 0;
        }
        return r < 0 ? -1 : 0;  /* EOF before a whole head: nothing to answer */
    }
    /* "GET /.well-known/mta-sts.txt HTTP/1.1": the method and the path. */
    static const char want[] = "GET " LAB_POLICY_PATH " ";
    const struct lab_sts *s = &lab_sts[c->sc];
    if (c->in_len >= sizeof want - 1 && memcmp(c->in, want, sizeof want - 1) == 0)
        lab_http_answer(c, s->status, s->status == 200 ? s->policy : "no policy here\n");
    else if (c->in_len >= 4 && memcmp(c->in, "GET ", 4) == 0)
        lab_http_answer(c, 404, "not found\n");
    else
        lab_http_answer(c, 400, "GET only\n");
    c->in_len = 0;
    return 0;
}
