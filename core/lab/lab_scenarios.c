/*
 * lab_scenarios.c - the lab's scenarios: the table the operator sees
 * (lab_scenarios[]: name, story, the finding it demonstrates), what each one
 * does on the wire (lab_defs[]), and how a client is pointed at one
 * (lab_apply).  Adding a scenario starts here.  Owned by the lab module.
 */
#include "lab/lab_int.h"

#include <stdio.h>
#include <string.h>

const struct lab_scenario lab_scenarios[] = {
    [L_GOOD] = {"good", "a healthy receiver: STARTTLS, TLS 1.2 and 1.3, leaf + intermediate from the lab CA", ""},
    [L_EXPIRED] = {"expired", "the certificate expired yesterday and nobody renewed it", "cert-expired"},
    [L_EXPIRING_SOON] = {"expiring-soon", "the certificate is valid but expires in 10 days: renew now", "cert-expiring-soon"},
    [L_NOT_YET_VALID] = {"not-yet-valid", "a certificate that only becomes valid tomorrow (installed early, or a wrong clock)", "cert-not-yet-valid"},
    [L_WRONG_NAME] = {"wrong-name", "the certificate is for other.example.net, not for the MX host name", "cert-name-mismatch"},
    [L_SELF_SIGNED] = {"self-signed", "a self-signed certificate, as many appliances ship out of the box", "cert-self-signed"},
    [L_UNTRUSTED_ROOT] = {"untrusted-root", "a certificate from a private CA the sender does not trust", "cert-untrusted-root"},
    [L_MISSING_INTERMEDIATE] = {"missing-intermediate", "the server sends its leaf certificate without the intermediate CA", "chain-incomplete"},
    [L_CHAIN_ORDER] = {"chain-order", "the chain is sent out of order: leaf, then the root, then the intermediate", "chain-order"},
    [L_WEAK_KEY] = {"weak-key", "the certificate has a 1024-bit RSA key", "cert-weak-key"},
    [L_WEAK_SIGNATURE] = {"weak-signature", "the certificate is signed with SHA-1", "cert-weak-signature"},
    [L_NOT_SERVER_AUTH] = {"not-server-auth", "the certificate is only for TLS clients (EKU clientAuth), not for servers", "cert-not-server-auth"},
    [L_NO_STARTTLS] = {"no-starttls", "EHLO does not offer STARTTLS: mail to this server travels in clear text", "starttls-not-offered"},
    [L_STARTTLS_REFUSED] = {"starttls-refused", "STARTTLS is offered but answered 454 4.7.0 (TLS not available due to local problem)", "starttls-refused"},
    [L_PLAINTEXT_AFTER_STARTTLS] = {"plaintext-after-starttls", "the 220 to STARTTLS comes with two extra plaintext lines in the same packet (injection)", "starttls-plaintext-leftover"},
    [L_TLS12_ONLY] = {"tls12-only", "the server speaks TLS 1.2 at most (fine unless the sender requires TLS 1.3)", ""},
    [L_TLS13_ONLY] = {"tls13-only", "the server speaks TLS 1.3 only (fine unless the sender is limited to TLS 1.2)", ""},
    [L_TLS10_ONLY] = {"tls10-only", "an old server that only speaks TLS 1.0: modern senders cannot encrypt to it", "tls-obsolete-only"},
    [L_CLIENT_CERT_REQUIRED] = {"client-cert-required", "the server demands a client certificate, so ordinary senders fail the handshake", "tls-client-cert-required"},
    [L_BANNER_REJECTED] = {"banner-rejected", "the server greets with 554: it refuses all mail from this address", "banner-rejected"},
    [L_BANNER_THROTTLED] = {"banner-throttled", "the server greets with 421 (too many connections) and hangs up", "banner-throttled"},
    [L_SLOW_BANNER] = {"slow-banner", "the greeting arrives only after 5 seconds (overloaded server or slow DNS lookups)", "banner-slow"},
    [L_MASKED_EHLO] = {"masked-ehlo", "a firewall's SMTP fixup masks EHLO: STARTTLS shows as XXXXXXXA and is blocked", "ehlo-masked"},
    [L_FINGERPRINT_AFTER_RENEWAL] = {"fingerprint-after-renewal", "the certificate was renewed yesterday but the server still serves the old one", "fingerprint-mismatch"},
    /* MTA-STS (RFC 8461) and TLS-RPT (RFC 8460): a mail domain, lab.mxscope.test,
     * with its DNS data and policy host (lab_https.c). */
    [L_STS_ENFORCE] = {"sts-enforce", "lab.mxscope.test publishes an MTA-STS policy in enforce mode that covers its MX, and TLS-RPT: MTA-STS senders deliver", ""},
    [L_STS_MX_NOT_COVERED] = {"sts-mx-not-covered", "the MX moved to mx.lab.mxscope.test but the enforced MTA-STS policy still lists mail.lab.mxscope.test: MTA-STS senders refuse", "sts-mx-not-covered"},
    [L_STS_TESTING] = {"sts-testing", "MTA-STS in testing mode and the MX certificate has the wrong name: refused under enforce, today only reported", "sts-testing"},
    [L_STS_NO_TLSRPT] = {"sts-no-tlsrpt", "MTA-STS is enforced but no _smtp._tls record says where senders report TLS failures", "tlsrpt-missing"},
    [L_STS_POLICY_404] = {"sts-policy-404", "the _mta-sts record is published but the policy host answers 404 for the policy", "sts-policy-fetch"},
    [L_STS_WEBPKI_INVALID] = {"sts-webpki-invalid", "the policy host serves a certificate for another name, so senders cannot fetch the policy", "sts-webpki-invalid"},
    {NULL, NULL, NULL}
};

_Static_assert(sizeof lab_scenarios / sizeof lab_scenarios[0] == L_COUNT + 1,
               "lab_scenarios must list every scenario");

#define CH(a, b, c) {a, b, c, -1}

const struct lab_def lab_defs[L_COUNT] = {
    [L_GOOD] = {G_OK, S_OFFER, CH(C_GOOD, C_INTER, -1), 0, 0, 0},
    [L_EXPIRED] = {G_OK, S_OFFER, CH(C_EXPIRED, C_INTER, -1), 0, 0, 0},
    [L_EXPIRING_SOON] = {G_OK, S_OFFER, CH(C_SOON, C_INTER, -1), 0, 0, 0},
    [L_NOT_YET_VALID] = {G_OK, S_OFFER, CH(C_FUTURE, C_INTER, -1), 0, 0, 0},
    [L_WRONG_NAME] = {G_OK, S_OFFER, CH(C_WRONGNAME, C_INTER, -1), 0, 0, 0},
    [L_SELF_SIGNED] = {G_OK, S_OFFER, CH(C_SELF, -1, -1), 0, 0, 0},
    [L_UNTRUSTED_ROOT] = {G_OK, S_OFFER, CH(C_UNTRUSTED, C_ROOT2, -1), 0, 0, 0},
    [L_MISSING_INTERMEDIATE] = {G_OK, S_OFFER, CH(C_GOOD, -1, -1), 0, 0, 0},
    /* mbedTLS sends the configured list as it is, but the first entry must be
     * the leaf (its key signs the handshake): so the wrong order we can send
     * is "leaf, root, intermediate".  mbedTLS (and most clients) still build
     * the path, so this verifies; the problem is only visible in the order. */
    [L_CHAIN_ORDER] = {G_OK, S_OFFER, CH(C_GOOD, C_ROOT, C_INTER), 0, 0, 0},
    [L_WEAK_KEY] = {G_OK, S_OFFER, CH(C_WEAKKEY, C_INTER, -1), 0, 0, 0},
    [L_WEAK_SIGNATURE] = {G_OK, S_OFFER, CH(C_WEAKMD, C_INTER, -1), 0, 0, 0},
    [L_NOT_SERVER_AUTH] = {G_OK, S_OFFER, CH(C_CLIENTAUTH, C_INTER, -1), 0, 0, 0},
    [L_NO_STARTTLS] = {G_OK, S_NONE, CH(-1, -1, -1), 0, 0, 0},
    [L_STARTTLS_REFUSED] = {G_OK, S_REFUSE, CH(-1, -1, -1), 0, 0, 0},
    [L_PLAINTEXT_AFTER_STARTTLS] = {G_OK, S_INJECT, CH(C_GOOD, C_INTER, -1), 0, 0, 0},
    [L_TLS12_ONLY] = {G_OK, S_OFFER, CH(C_GOOD, C_INTER, -1), 12, 12, 0},
    [L_TLS13_ONLY] = {G_OK, S_OFFER, CH(C_GOOD, C_INTER, -1), 13, 13, 0},
    [L_TLS10_ONLY] = {G_OK, S_TLS10, CH(-1, -1, -1), 0, 0, 0},
    /* TLS 1.2 at most: an mbedTLS 3.6 TLS 1.3 server sends its alert after
     * the client has finished, under keys the mbedTLS client rejects (bad
     * MAC on its first read), which hides the problem.  In TLS 1.2 the
     * CertificateRequest and the handshake_failure alert are plaintext. */
    [L_CLIENT_CERT_REQUIRED] = {G_OK, S_OFFER, CH(C_GOOD, C_INTER, -1), 0, 12, 1},
    [L_BANNER_REJECTED] = {G_REJECT, S_OFFER, CH(-1, -1, -1), 0, 0, 0},
    [L_BANNER_THROTTLED] = {G_THROTTLE, S_OFFER, CH(-1, -1, -1), 0, 0, 0},
    [L_SLOW_BANNER] = {G_SLOW, S_OFFER, CH(C_GOOD, C_INTER, -1), 0, 0, 0},
    [L_MASKED_EHLO] = {G_OK, S_MASKED, CH(-1, -1, -1), 0, 0, 0},
    [L_FINGERPRINT_AFTER_RENEWAL] = {G_OK, S_OFFER, CH(C_OLD, C_INTER, -1), 0, 0, 0},
    [L_STS_ENFORCE] = {G_OK, S_OFFER, CH(C_GOOD, C_INTER, -1), 0, 0, 0},
    [L_STS_MX_NOT_COVERED] = {G_OK, S_OFFER, CH(C_GOOD, C_INTER, -1), 0, 0, 0},
    [L_STS_TESTING] = {G_OK, S_OFFER, CH(C_WRONGNAME, C_INTER, -1), 0, 0, 0},
    [L_STS_NO_TLSRPT] = {G_OK, S_OFFER, CH(C_GOOD, C_INTER, -1), 0, 0, 0},
    [L_STS_POLICY_404] = {G_OK, S_OFFER, CH(C_GOOD, C_INTER, -1), 0, 0, 0},
    [L_STS_WEBPKI_INVALID] = {G_OK, S_OFFER, CH(C_GOOD, C_INTER, -1), 0, 0, 0},
};

#define STS_POLICY(mode, mx) \
    "version: STSv1\r\nmode: " mode "\r\nmx: " mx "\r\nmax_age: 86400\r\n"

const struct lab_sts lab_sts[L_COUNT] = {
    [L_STS_ENFORCE] = {STS_POLICY("enforce", LAB_HOST), 200, C_STS, 1},
    [L_STS_MX_NOT_COVERED] = {STS_POLICY("enforce", "mail." LAB_DOMAIN), 200, C_STS, 1},
    [L_STS_TESTING] = {STS_POLICY("testing", LAB_HOST), 200, C_STS, 1},
    [L_STS_NO_TLSRPT] = {STS_POLICY("enforce", LAB_HOST), 200, C_STS, 0},
    [L_STS_POLICY_404] = {STS_POLICY("enforce", LAB_HOST), 404, C_STS, 1},
    [L_STS_WEBPKI_INVALID] = {STS_POLICY("enforce", LAB_HOST), 200, C_WRONGNAME, 1},
};

#undef STS_POLICY

#undef CH

const struct lab_scenario *lab_find(const char *name)
{
    if (!name)
        return NULL;
    for (int i = 0; lab_scenarios[i].name; i++)
        if (strcmp(lab_scenarios[i].name, name) == 0)
            return &lab_scenarios[i];
    return NULL;
}

static int lab_index(const char *name)
{
    const struct lab_scenario *s = lab_find(name);
    return s ? (int)(s - lab_scenarios) : -1;
}

const char *lab_host(void)
{
    return LAB_HOST;
}

uint16_t lab_port(const struct lab *l, const char *scenario)
{
    int i = lab_index(scenario);
    return (l && i >= 0) ? l->port[i] : 0;
}

const char *lab_ca_file(const struct lab *l)
{
    return l ? l->cafile : "";
}

const char *lab_expected_fingerprint(const struct lab *l)
{
    return l ? l->expected_fp : "";
}

static int lab_copy(char *dst, size_t n, const char *src)
{
    size_t len = strlen(src);
    if (len >= n)
        return -1;
    memcpy(dst, src, len + 1);
    return 0;
}

int lab_apply(const struct lab *l, const char *scenario, struct mxs_settings *s, char *err,
              size_t errlen)
{
    char dummy[8];
    int i = lab_index(scenario);
    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof dummy;
    }
    if (!l || !s) {
        snprintf(err, errlen, "lab: not running");
        return -1;
    }
    if (i < 0) {
        snprintf(err, errlen, "lab: no scenario \"%.64s\" (try --lab --list)",
                 scenario ? scenario : "");
        return -1;
    }
    int sts = lab_sts[i].policy != NULL;
    /* An sts-* scenario is a mail domain, looked up like any other (MX,
     * TXT, the policy host) but in the lab's own DNS data; the others are
     * the MX host at a pinned address, as before. */
    if (lab_copy(s->target, sizeof s->target, sts ? LAB_DOMAIN : LAB_HOST) != 0 ||
        lab_copy(s->connect_addr, sizeof s->connect_addr, sts ? "" : "127.0.0.1") != 0 ||
        lab_copy(s->cafile, sizeof s->cafile, l->cafile) != 0 ||
        (sts && lab_copy(s->unbound_conf, sizeof s->unbound_conf, l->ubconf[i]) != 0)) {
        snprintf(err, errlen, "lab: a setting does not fit");
        return -1;
    }
    s->target_is_host = !sts;
    s->port = l->port[i];
    if (sts) {
        s->policy_port = l->hport[i];
    } else {
        /* An earlier sts-* scenario's DNS data and policy port are ours:
         * not carried over (the caller's own stay). */
        for (int k = 0; k < L_COUNT; k++)
            if (lab_sts[k].policy && s->policy_port == l->hport[k] &&
                strcmp(s->unbound_conf, l->ubconf[k]) == 0) {
                s->unbound_conf[0] = '\0';
                s->policy_port = 443;
            }
    }
    if (i == L_FINGERPRINT_AFTER_RENEWAL)
        (void)lab_copy(s->expect_fp, sizeof s->expect_fp, l->expected_fp);
    else if (strcmp(s->expect_fp, l->expected_fp) == 0)
        s->expect_fp[0] = '\0';  /* ours, from an earlier scenario: not carried over */
    return 0;
}

/* The lab as the command table reaches it (cmd_set_lab_provider): core's
 * client archives never call the lab directly. */
const struct mxs_lab_ops lab_ops = {
    .scenarios = lab_scenarios,
    .start = lab_start,
    .stop = lab_stop,
    .apply = lab_apply,
};
