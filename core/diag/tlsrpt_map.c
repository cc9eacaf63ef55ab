/*
 * tlsrpt_map.c - each finding's RFC 8460 §4.3 result type: the words a
 * sender's TLS-RPT report uses for the same failure.
 *
 * Why a table apart from the catalogue: the mapping is a fact about RFC 8460,
 * reviewed on its own; tests/unit/test_catalog.c checks that every catalogue
 * id is in exactly one of the two lists below, so a new finding cannot ship
 * unclassified.
 */
#include <string.h>

#include "diag/diag.h"
#include "diag/diag_int.h"

/* Failures a sender reports, by RFC 8460 §4.3.1 (negotiation) and §4.3.2
 * (policy) result type. */
static const struct { const char *id, *type; } tlsrpt_map[] = {
    { "starttls-not-offered", "starttls-not-supported" },
    { "starttls-refused", "starttls-not-supported" },
    { "ehlo-masked", "starttls-not-supported" },
    { "starttls-timeout", "starttls-not-supported" },
    { "starttls-failed", "starttls-not-supported" },
    { "cert-expired", "certificate-expired" },
    { "cert-name-mismatch", "certificate-host-mismatch" },
    { "cert-self-signed", "certificate-not-trusted" },
    { "cert-untrusted-root", "certificate-not-trusted" },
    { "chain-incomplete", "certificate-not-trusted" },
    { "chain-empty", "certificate-not-trusted" },
    /* "a general failure for a reason not matching a category above" */
    { "cert-not-yet-valid", "validation-failure" },
    { "cert-weak-key", "validation-failure" },
    { "cert-weak-signature", "validation-failure" },
    { "cert-not-server-auth", "validation-failure" },
    { "cert-verify-failed", "validation-failure" },
    { "chain-failed", "validation-failure" },
    { "cert-dual-differs", "validation-failure" },
    { "tls-handshake-failed", "validation-failure" },
    { "tls-no-common-version", "validation-failure" },
    { "tls-obsolete-only", "validation-failure" },
    { "tls-client-cert-required", "validation-failure" },
    { "tls-cert-message-too-big", "validation-failure" },
    /* a warning here; a Postfix sender at its default depth 9 fails it */
    { "chain-too-long", "validation-failure" },
    /* DANE policy failures */
    { "dane-mismatch", "tlsa-invalid" },
    /* what a DANE sender that negotiates the second certificate reports;
     * filed as a warning here (our handshake authenticates), so no type */
    { "dane-second-cert-unmatched", "tlsa-invalid" },
    { "dnssec-bogus", "dnssec-invalid" },
    /* MTA-STS policy failures (RFC 8460 4.3.2.2) */
    { "sts-policy-fetch", "sts-policy-fetch-error" },
    { "sts-policy-redirect", "sts-policy-fetch-error" },
    { "sts-policy-invalid", "sts-policy-invalid" },
    { "sts-webpki-invalid", "sts-webpki-invalid" },
    /* no MX pattern matches: the general type (4.3.2.3) */
    { "sts-mx-not-covered", "validation-failure" },
};

/* Findings no sender reports over TLS-RPT: DNS and connection failures
 * (no TLS was tried), SMTP replies, warnings, what only we check, and our
 * own side (our files, our resolver). */
static const char *const tlsrpt_none[] = {
    "dns-nxdomain", "dns-servfail", "dns-timeout", "dns-error", "dns-no-address",
    "dns-failed", "mx-null", "mx-implicit", "resolver-no-dnssec", "mx-target-invalid",
    "mx-target-literal", "mx-target-cname", "dns-cname-loop", "mx-many", "dns-slow",
    "connect-refused", "connect-timeout", "connect-unreachable", "connect-failed",
    "banner-rejected", "banner-throttled", "banner-slow", "banner-timeout", "banner-closed",
    "banner-failed", "ehlo-rejected", "ehlo-timeout", "ehlo-failed", "starttls-plaintext-leftover",
    "tls-local-files", "tls-cert-message-local", "cert-san-ip-length", "tls-key-update-unsupported",
    "cert-expiring-soon", "chain-order", "fingerprint-mismatch", "ehlo2-rejected", "ehlo2-timeout",
    "ehlo2-failed", "ehlo2-capabilities-changed", "mx-hosts-disagree",
    /* DANE over time: warnings about a renewal to come; the failure of
     * today is dane-mismatch (tlsa-invalid) */
    "dane-next-key-missing", "dane-full-cert", "dane-ta-not-issuer", "dane-days",
    "mx-target-underscore",
    /* no policy is no failure; TXT problems leave senders without a policy;
     * testing mode and TLS-RPT are advice */
    "sts-txt-missing", "sts-txt-multiple", "sts-txt-invalid", "sts-testing",
    "tlsrpt-missing", "tlsrpt-invalid",
};

const char *diag_tlsrpt_type(const char *id, int *classified)
{
    for (size_t i = 0; i < sizeof tlsrpt_map / sizeof tlsrpt_map[0]; i++)
        if (!strcmp(tlsrpt_map[i].id, id)) {
            if (classified) *classified = 1;
            return tlsrpt_map[i].type;
        }
    for (size_t i = 0; i < sizeof tlsrpt_none / sizeof tlsrpt_none[0]; i++)
        if (!strcmp(tlsrpt_none[i], id)) {
            if (classified) *classified = 1;
            return NULL;
        }
    if (classified) *classified = 0;
    return NULL;
}

const char *mxs_tlsrpt_result_type(const struct mxs_finding *f)
{
    /* Only failures: a finding filed as a warning is not what a report says
     * went wrong (dnssec-bogus on a TLSA name, an expired second certificate). */
    if (f->severity != MXS_SEV_ERROR)
        return NULL;
    return diag_tlsrpt_type(f->id, NULL);
}
