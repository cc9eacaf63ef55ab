/*
 * names.c - every name table of core.h in one place: steps, step states,
 * transcript record kinds, severities, sender policies, outcomes, DNSSEC
 * states, DNS answer codes, connect errors and certificate verify flags.  The JSON writer,
 * both session loaders, the console and the diagnosis all read these; a name
 * changed here changes everywhere, and a loader can never know a name the
 * writer does not.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core.h"

/* ---- steps, states, record kinds ---------------------------------------- */

static const char *const step_names[MXS_STEP_COUNT] = {
    "RESOLVE", "CONNECT", "BANNER", "EHLO", "STARTTLS",
    "HANDSHAKE", "CHAIN", "EHLO2", "QUIT", "POLICY"
};

/* The plain run order (engine.c's order_plain): POLICY right after RESOLVE. */
static const enum mxs_step step_order[MXS_STEP_COUNT] = {
    MXS_STEP_RESOLVE, MXS_STEP_POLICY, MXS_STEP_CONNECT, MXS_STEP_BANNER, MXS_STEP_EHLO,
    MXS_STEP_STARTTLS, MXS_STEP_HANDSHAKE, MXS_STEP_CHAIN, MXS_STEP_EHLO2, MXS_STEP_QUIT
};

enum mxs_step mxs_step_order(int i)
{
    return i >= 0 && i < MXS_STEP_COUNT ? step_order[i] : MXS_STEP_NONE;
}

int mxs_step_rank(enum mxs_step s)
{
    for (int i = 0; i < MXS_STEP_COUNT; i++)
        if (step_order[i] == s)
            return i;
    return MXS_STEP_COUNT;   /* NONE and unknown after every step */
}

const char *mxs_step_name(enum mxs_step s)
{
    if (s < 0 || s >= MXS_STEP_COUNT)
        return "-";
    return step_names[s];
}

int mxs_step_from_name(const char *name)
{
    for (int i = 0; i < MXS_STEP_COUNT; i++)
        if (strcasecmp(name, step_names[i]) == 0)
            return i;
    return -1;
}

/* Exact (case-sensitive) lookup of name in a table of n names; -1 if absent. */
static int name_index(const char *const *names, int n, const char *name)
{
    for (int i = 0; name && i < n; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

static const char *const state_names[] = { "pending", "running", "ok", "warn", "fail",
                                           "skipped", "cancelled" };
#define N_STATES ((int)(sizeof state_names / sizeof state_names[0]))

const char *mxs_step_state_name(enum mxs_step_state s)
{
    if ((unsigned)s >= (unsigned)N_STATES)
        return "?";
    return state_names[s];
}

int mxs_step_state_from_name(const char *name)
{
    return name_index(state_names, N_STATES, name);
}

static const char *const kind_names[MXS_REC_KIND_COUNT] = {
    "step", "dns", "smtp-in", "smtp-out", "tls-in", "tls-out", "tls-info",
    "cert", "finding", "note", "error", "http-out", "http-in"
};

const char *mxs_rec_kind_name(enum mxs_rec_kind k)
{
    if ((unsigned)k >= MXS_REC_KIND_COUNT)
        return "?";
    return kind_names[k];
}

int mxs_rec_kind_from_name(const char *name)
{
    return name_index(kind_names, MXS_REC_KIND_COUNT, name);
}


/* ---- DNS -------------------------------------------------------------- */

const char *mxs_dnssec_name(enum mxs_dnssec d)
{
    switch (d) {
    case MXS_DNSSEC_UNKNOWN: return "unknown";
    case MXS_DNSSEC_INSECURE: return "insecure";
    case MXS_DNSSEC_SECURE: return "secure";
    case MXS_DNSSEC_BOGUS: return "bogus";
    }
    return "?";
}

const char *mxs_dns_rcode_name(enum mxs_dns_rcode r)
{
    switch (r) {
    case MXS_DNS_OK: return "NOERROR";
    case MXS_DNS_NODATA: return "NODATA";
    case MXS_DNS_NXDOMAIN: return "NXDOMAIN";
    case MXS_DNS_SERVFAIL: return "SERVFAIL";
    case MXS_DNS_TIMEOUT: return "TIMEOUT";
    case MXS_DNS_ERROR: return "ERROR";
    }
    return "?";
}

/* ---- the MTA-STS policy fetch ------------------------------------------ */

static const char *const fetch_names[] = {
    [MXS_FETCH_NONE] = "none", [MXS_FETCH_OK] = "ok", [MXS_FETCH_DNS] = "dns",
    [MXS_FETCH_CONNECT] = "connect", [MXS_FETCH_TLS] = "tls", [MXS_FETCH_CERT] = "certificate",
    [MXS_FETCH_HTTP] = "http-status", [MXS_FETCH_TOO_BIG] = "too-big",
    [MXS_FETCH_TIMEOUT] = "timeout", [MXS_FETCH_OTHER] = "other"
};
#define N_FETCH ((int)(sizeof fetch_names / sizeof fetch_names[0]))

const char *mxs_fetch_name(enum mxs_fetch f)
{
    return (unsigned)f < (unsigned)N_FETCH ? fetch_names[f] : "?";
}

int mxs_fetch_from_name(const char *name)
{
    return name_index(fetch_names, N_FETCH, name);
}

/* ---- connect ------------------------------------------------------------ */

const char *mxs_conn_error_name(enum mxs_conn_error c)
{
    switch (c) {
    case MXS_CONN_OK: return NULL;
    case MXS_CONN_REFUSED: return "refused";
    case MXS_CONN_TIMEOUT: return "timeout";
    case MXS_CONN_UNREACHABLE: return "unreachable";
    case MXS_CONN_OTHER: return "other";
    }
    return NULL;
}

/* ---- diagnosis -------------------------------------------------------- */

static const char *const severity_names[] = {
    [MXS_SEV_INFO] = "info", [MXS_SEV_WARNING] = "warning", [MXS_SEV_ERROR] = "error"
};
#define N_SEVERITIES ((int)(sizeof severity_names / sizeof severity_names[0]))

const char *mxs_severity_name(enum mxs_severity s)
{
    return (unsigned)s < (unsigned)N_SEVERITIES ? severity_names[s] : "?";
}

int mxs_severity_from_name(const char *name)
{
    return name_index(severity_names, N_SEVERITIES, name);
}

static const char *const policy_names[MXS_POL_COUNT] = {
    [MXS_POL_OPPORTUNISTIC] = "opportunistic", [MXS_POL_REQUIRED] = "required",
    [MXS_POL_VERIFIED] = "verified", [MXS_POL_DANE] = "dane", [MXS_POL_MTASTS] = "mta-sts"
};

const char *mxs_policy_name(enum mxs_policy p)
{
    return (unsigned)p < MXS_POL_COUNT ? policy_names[p] : "?";
}

int mxs_policy_from_name(const char *name)
{
    return name_index(policy_names, MXS_POL_COUNT, name);
}

static const char *const outcome_names[] = {
    [MXS_OUT_ENCRYPTED] = "delivered-encrypted", [MXS_OUT_CLEAR] = "delivered-clear",
    [MXS_OUT_NOT_DELIVERED] = "not-delivered", [MXS_OUT_NOT_EVALUATED] = "not-evaluated"
};
#define N_OUTCOMES ((int)(sizeof outcome_names / sizeof outcome_names[0]))

const char *mxs_outcome_name(enum mxs_outcome o)
{
    return (unsigned)o < (unsigned)N_OUTCOMES ? outcome_names[o] : "?";
}

int mxs_outcome_from_name(const char *name)
{
    return name_index(outcome_names, N_OUTCOMES, name);
}

/* ---- certificate verify flags (the MXS_V_* bits of core.h) ---------------- */

static const struct {
    unsigned bit;
    const char *name;
    const char *words;
} verify_flag_table[] = {
    { MXS_V_EXPIRED, "expired", "the certificate has expired" },
    { MXS_V_FUTURE, "not-yet-valid", "the certificate is not valid yet (its start date is in the future)" },
    { MXS_V_NAME, "name-mismatch", "the certificate does not cover the host name that was checked" },
    { MXS_V_NOT_TRUSTED, "not-trusted",
      "no chain to a trusted root: an intermediate is missing or the root is not trusted" },
    { MXS_V_REVOKED, "revoked", "the certificate has been revoked" },
    { MXS_V_KEY_USAGE, "key-usage", "the key usage extension does not allow this use" },
    { MXS_V_EXT_KEY_USAGE, "ext-key-usage",
      "the extended key usage does not allow TLS server authentication" },
    { MXS_V_BAD_MD, "weak-hash", "the signature uses a weak hash (MD5 or SHA-1)" },
    { MXS_V_BAD_PK, "bad-pk-alg", "the signature uses a public-key algorithm that is not accepted" },
    { MXS_V_BAD_KEY, "weak-key", "the key is too short or uses a curve that is not accepted" },
    { MXS_V_MISSING, "missing", "no certificate was presented" },
    { MXS_V_SKIPPED, "skipped", "certificate verification was skipped" },
    { MXS_V_OTHER, "other", "another verification problem (see the TLS library's message)" },
};

const char *mxs_verify_flag_name(unsigned bit)
{
    for (size_t i = 0; i < sizeof verify_flag_table / sizeof verify_flag_table[0]; i++)
        if (verify_flag_table[i].bit == bit)
            return verify_flag_table[i].name;
    return NULL;
}

unsigned mxs_verify_flag_from_name(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof verify_flag_table / sizeof verify_flag_table[0]; i++)
        if (strlen(verify_flag_table[i].name) == len && !memcmp(verify_flag_table[i].name, name, len))
            return verify_flag_table[i].bit;
    return 0;
}

const char *mxs_verify_flag_words(unsigned bit)
{
    for (size_t i = 0; i < sizeof verify_flag_table / sizeof verify_flag_table[0]; i++)
        if (verify_flag_table[i].bit == bit)
            return verify_flag_table[i].words;
    return NULL;
}

/* Like snprintf: returns the length the full text needs; out is always
 * NUL-terminated (when outlen > 0) and cut if short.  Built in a local
 * buffer first: 13 names plus separators fit in 256 with room to spare. */
size_t mxs_verify_flags_text(unsigned flags, char *out, size_t outlen)
{
    char buf[256];
    size_t n = 0;
    unsigned unknown = 0;

    if (flags == 0) {
        if (outlen > 0)
            snprintf(out, outlen, "ok");
        return 2;
    }
    buf[0] = '\0';
    for (unsigned b = 0; b < 32; b++) {
        unsigned bit = 1u << b;
        const char *name;
        if (!(flags & bit))
            continue;
        name = mxs_verify_flag_name(bit);
        if (name == NULL) {
            unknown |= bit;
            continue;
        }
        int k = snprintf(buf + n, sizeof buf - n, "%s%s", n > 0 ? ", " : "", name);
        if (k > 0 && (size_t)k < sizeof buf - n)
            n += (size_t)k;
    }
    if (unknown != 0) {
        int k = snprintf(buf + n, sizeof buf - n, "%sunknown(0x%X)", n > 0 ? ", " : "",
                         unknown);
        if (k > 0 && (size_t)k < sizeof buf - n)
            n += (size_t)k;
    }
    if (outlen > 0)
        snprintf(out, outlen, "%s", buf);
    return n;
}
