/*
 * diag_int.h - what the files of core/diag/ share; not for other modules.
 * Owner: diagnosis.
 *
 * diag.c holds the context, the text helpers, filing (diag_start /
 * diag_file) and the verdicts; check_net.c, check_tls.c and check_dane.c decide which
 * findings hold and write their message and evidence; catalog.c has the
 * rows (enum diag_row indexes diag_rows[]) and fills the advice templates.
 */
#ifndef MXS_DIAG_INT_H
#define MXS_DIAG_INT_H
#include <stddef.h>
#include <stdint.h>

#include "diag/diag.h"

/* ---- the catalogue (catalog.c) ------------------------------------------ */

enum diag_row {
    D_DNS_NXDOMAIN, D_DNS_SERVFAIL, D_DNS_TIMEOUT, D_DNS_TIMEOUT_FB, D_DNS_ERROR,
    D_DNS_NO_ADDRESS, D_MX_NULL, D_MX_IMPLICIT, D_DNSSEC_BOGUS,
    D_DNSSEC_BOGUS_TLSA, D_RESOLVER_NO_DNSSEC, D_DNS_FAILED,
    D_MX_TARGET_INVALID, D_MX_TARGET_LITERAL, D_MX_TARGET_CNAME, D_DNS_CNAME_LOOP,
    D_MX_MANY, D_DNS_SLOW,
    D_CONNECT_REFUSED, D_CONNECT_TIMEOUT, D_CONNECT_TIMEOUT_FB,
    D_CONNECT_UNREACHABLE, D_CONNECT_FAILED, D_CONNECT_FAILED_FB,
    D_BANNER_REJECTED, D_BANNER_THROTTLED, D_BANNER_SLOW, D_BANNER_TIMEOUT,
    D_BANNER_TIMEOUT_FB, D_BANNER_CLOSED, D_BANNER_FAILED, D_BANNER_FAILED_FB,
    D_EHLO_REJECTED, D_EHLO_MASKED, D_EHLO_TIMEOUT, D_EHLO_FAILED,
    D_STARTTLS_NOT_OFFERED, D_STARTTLS_REFUSED, D_STARTTLS_LEFTOVER,
    D_STARTTLS_TIMEOUT, D_STARTTLS_FAILED,
    D_TLS_LOCAL_FILES, D_TLS_OBSOLETE_ONLY, D_TLS_NO_COMMON_VERSION, D_TLS_CLIENT_CERT,
    D_TLS_CLIENT_CERT_AFTER, D_TLS_CERT_MSG_BIG, D_TLS_CERT_MSG_LOCAL, D_CERT_SAN_IP_LOCAL, D_TLS_HANDSHAKE_FAILED, D_TLS_HANDSHAKE_FAILED_FB,
    D_CERT_EXPIRED, D_CERT_EXPIRED_INTERMEDIATE, D_CERT_NOT_YET_VALID,
    D_CERT_EXPIRING_SOON, D_CERT_NAME_MISMATCH, D_CERT_SELF_SIGNED,
    D_CERT_UNTRUSTED_ROOT, D_CHAIN_INCOMPLETE, D_CHAIN_ORDER, D_CHAIN_TOO_LONG,
    D_CERT_WEAK_KEY,
    D_CERT_WEAK_SIGNATURE, D_CERT_NOT_SERVER_AUTH, D_CERT_VERIFY_FAILED,
    D_FINGERPRINT_MISMATCH, D_FINGERPRINT_MISMATCH_SHA1, D_CHAIN_EMPTY,
    D_CHAIN_FAILED, D_DANE_MISMATCH, D_CERT_DUAL_DIFFERS, D_CERT_DUAL_DIFFERS_W,
    D_EHLO2_REJECTED, D_EHLO2_CAPS_CHANGED, D_EHLO2_TIMEOUT, D_EHLO2_FAILED,
    D_TLS_KEY_UPDATE,
    /* POLICY: MTA-STS and TLS-RPT (check_policy.c) */
    D_STS_TXT_MISSING, D_STS_TXT_MULTIPLE, D_STS_TXT_INVALID, D_STS_POLICY_FETCH,
    D_STS_POLICY_REDIRECT, D_STS_POLICY_INVALID, D_STS_WEBPKI_INVALID,
    D_STS_MX_NOT_COVERED, D_STS_TESTING, D_TLSRPT_MISSING, D_TLSRPT_INVALID,
    D_MX_HOSTS_DISAGREE,
    /* DANE over time and MX names (check_dane.c) */
    D_DANE_NEXT_KEY, D_DANE_FULL_CERT, D_DANE_TA_NOT_ISSUER, D_DANE_DAYS,
    D_MX_TARGET_UNDERSCORE, D_DANE_SECOND_CERT,
    D_COUNT
};
extern const struct diag_entry diag_rows[D_COUNT];

/* The facts an advice template names (NULL: the key is left as written). */
struct diag_vars {
    const char *domain, *name, *what, *expected, *spki;
    unsigned port;
};
/* Append "If it is your server: <own>" DIAG_ADVICE_THIRD "<third>" to
 * f->advice, the templates filled from v (may be NULL). */
void diag_advise(struct mxs_finding *f, const struct diag_entry *e,
                 const struct diag_vars *v);

/* ---- context (diag.c) ----------------------------------------------------- */

enum { DIAG_CLS_ALL = 0, DIAG_CLS_TLS, DIAG_CLS_VERIFY, DIAG_CLS_COUNT };

/* Per step and class of policies: the first finding that blocks it. */
struct diag_block {
    int set;
    char id[40];
    char message[200];
};

struct diag_ctx {
    const struct diag_input *in;
    const struct mxs_settings *set;     /* never NULL: zero facts stand in */
    const struct mxs_dns_facts *dns;
    const struct mxs_connect_facts *conn;
    const struct mxs_smtp_facts *smtp;
    const struct mxs_tls_facts *tls;
    const struct mxs_chain_facts *chain;
    const struct mxs_policy_facts *policy;
    struct mxs_finding *out;
    int max, n, dropped;
    int per_step[MXS_STEP_COUNT];       /* findings filed, dropped included */
    struct diag_block blk[MXS_STEP_COUNT][DIAG_CLS_COUNT];
    struct diag_block local;            /* first LOCAL finding: our side    */
    int local_step;
    int mx_i;                           /* probed MX index, -1 none         */
    char dom[300], mx[300];             /* escaped names                    */
    int warn_days;
};

/* out may be NULL (max 0): the report only wants the names. */
void diag_ctx_init(struct diag_ctx *c, const struct diag_input *in,
                   struct mxs_finding *out, int max);

/* Start a finding from its row (id, step, severity), cert_depth depth. */
void diag_start(struct mxs_finding *f, enum diag_row r, int depth);
/* Write its advice from the row (v->domain defaults to the mail domain) and
 * file it: kept in out[] sorted, and blocking the row's policies unless it
 * was downgraded below the row's severity.  The message must be complete. */
void diag_file(struct diag_ctx *c, struct mxs_finding *f, enum diag_row r,
               const struct diag_vars *v);

/* ---- text helpers (diag.c) ------------------------------------------------ */

/* Append to a fixed field, cut silently at its end (fields are bounded). */
void diag_app(char *dst, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define APP(field, ...) diag_app((field), sizeof(field), __VA_ARGS__)
/* Escape a NUL-terminated untrusted string into tmp (ASCII only). */
const char *diag_esc(char *tmp, size_t n, const char *s);
/* A certificate name field (raw, with its whole length: core.h) into tmp:
 * escaped once as everywhere (a NUL as \x00, never a cut at it), a cut one
 * with its length, an IDN with its U-label; ASCII like all diagnosis text. */
const char *diag_cert_name(char *tmp, size_t n, const char *field, size_t cap, size_t len);
#define DIAG_CERT_NAME(tmp, field, len) diag_cert_name((tmp), sizeof(tmp), MXS_CERT_NAME(field, len))
const char *diag_iso(int64_t t, char out[32]);   /* 2026-01-02T03:04:05Z */
const char *diag_secs(int64_t ms, char out[32]); /* "1.2 s"              */
/* An SMTP reply as the operator saw it: "554-line1\n554 line2", escaped. */
void diag_reply_lines(const struct mxs_reply *r, char *dst, size_t cap);
/* First line of a reply, escaped, for one-line messages. */
const char *diag_reply_first(const struct mxs_reply *r, char *out, size_t n);
int diag_is_final(enum mxs_step_state s);

/* ---- the checks, one per step, in diag_run's order ------------------------ */

void diag_check_resolve(struct diag_ctx *c);   /* check_net.c */
void diag_check_connect(struct diag_ctx *c);
void diag_check_banner(struct diag_ctx *c);
void diag_check_ehlo(struct diag_ctx *c);
void diag_check_starttls(struct diag_ctx *c);
void diag_check_handshake(struct diag_ctx *c); /* check_tls.c */
void diag_check_chain(struct diag_ctx *c);
void diag_check_ehlo2(struct diag_ctx *c);     /* check_net.c */
void diag_check_fallback(struct diag_ctx *c);
void diag_check_dane(struct diag_ctx *c);      /* check_dane.c, from CHAIN's */
void diag_check_mx_names(struct diag_ctx *c);  /* check_dane.c, after RESOLVE's */
void diag_check_policy(struct diag_ctx *c);    /* check_policy.c */
/* The MTA-STS verdict (check_policy.c), after the other four. */
void diag_verdict_mtasts(struct diag_ctx *c, struct mxs_verdict v[MXS_POL_COUNT]);

#endif
