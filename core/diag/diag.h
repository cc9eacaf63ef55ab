/*
 * diag.h - diagnosis: findings and a verdict per sender policy.
 * Owner: diagnosis (core/diag/; the names of severities, policies and
 * outcomes are in base/names.c).
 *
 * Pure: reads the facts the engine gathered (never a host name, only
 * evidence) and writes findings {id, severity, step, evidence, advice} and
 * one verdict per policy (opportunistic, required, verified, DANE) naming
 * the first failing step and the finding behind it.  The engine calls
 * diag_run() after every step, so the findings pane fills as the probe goes:
 * partial facts are normal, a step that has not run yields "not-evaluated"
 * for every verdict that depends on it.
 * Findings are ordered: by step, then most severe first; every problem of
 * every certificate is listed (one finding per problem per certificate,
 * cert_depth set).
 *
 * Text of findings and verdicts: every network-, certificate- or
 * operator-supplied string in message/evidence/advice/words has already
 * been passed through mxs_escape(), so the text is escaped text
 * (mxs_is_escaped_text): printable ASCII, '\n' (our
 * own line separator in evidence and advice) and, in certificate names
 * only, their valid UTF-8, as the chain lines, the JSON and the console show
 * them ("xn--mnchen-3ya.example (münchen.example)": one notation
 * everywhere); every other string is escaped to ASCII (MXS_ESC_ASCII).
 * Front ends print it as is on a UTF-8 terminal and through
 * mxs_text_to_ascii() on another; escaping it again is harmless but doubles
 * backslashes.
 *
 * Advice speaks to both sides: the first part ("If it is your server: ...")
 * gives Exchange / Postfix steps, the part after DIAG_ADVICE_THIRD ("If it is
 * a third party's server: ...") what the sender can do.  diag_report() keeps
 * only the first part, since the report goes to the receiving side.
 *
 * Finding ids are stable; the catalogue (catalog.c, struct diag_entry
 * below) lists every one with its step, severity and advice, and
 * docs/findings.md documents each (tests/unit/test_catalog.c checks both
 * ways).
 * The "*-failed" / "*-timeout" ids without a more specific cause are the
 * fallback for a step the engine marked FAIL: every failed step has at least
 * one finding, so every verdict can name one.
 *
 * Verdicts (v[policy]):
 *  - outcome ENCRYPTED: step NONE, finding "".
 *  - outcome CLEAR (opportunistic only): step/finding say where TLS was lost.
 *  - outcome NOT_DELIVERED: the first failing step and the finding behind it.
 *  - outcome NOT_EVALUATED: step is the step still missing (pending, running,
 *    skipped or cancelled), finding "" - or, for DANE, NONE.
 * DANE (RFC 7672): without DNSSEC-secure TLSA records (or with an MX answer
 * that is not secure) there is no DANE policy: not-evaluated, step NONE.
 * A bogus TLSA answer: not-delivered at RESOLVE (DANE senders defer).  With
 * a policy: not-delivered where TLS fails, delivered-encrypted when a usable
 * record matches the chain (or none is usable: TLS without
 * authentication), not-delivered at CHAIN (dane-mismatch) otherwise.
 *
 * Files: diag.c (context, filing, verdicts, diag_run), check_net.c
 * (RESOLVE to STARTTLS, EHLO2, fallback), check_tls.c (HANDSHAKE, CHAIN),
 * catalog.c (the rows), report.c (diag_report), compare.c (diag_compare);
 * diag_int.h is what they share.
 *
 * Ownership: the input points at the engine's facts; nothing is kept.  Any
 * fact pointer may be NULL (treated as "nothing known yet").
 */
#ifndef MXS_DIAG_H
#define MXS_DIAG_H
#include <time.h>
#include "core.h"

struct buf;

#define DIAG_BANNER_SLOW_MS 3000   /* greeting later than this: banner-slow */
#define DIAG_EXPIRY_WARN_DAYS 30   /* when settings->expiry_warn_days is 0  */
#define DIAG_ADVICE_THIRD "\nIf it is a third party's server: "

struct diag_input {
    const struct mxs_settings *settings;
    enum mxs_step_state state[MXS_STEP_COUNT];
    int64_t elapsed_ms[MXS_STEP_COUNT];
    int timed_out[MXS_STEP_COUNT];       /* the stage deadline passed       */
    int reset[MXS_STEP_COUNT];           /* peer closed / reset mid-stage   */
    char step_error[MXS_STEP_COUNT][256];/* engine's words for a failure    */
    const struct mxs_dns_facts *dns;
    const struct mxs_connect_facts *conn;
    const struct mxs_smtp_facts *smtp;
    const struct mxs_tls_facts *tls;
    const struct mxs_chain_facts *chain;
    const struct mxs_policy_facts *policy; /* POLICY (MTA-STS, TLS-RPT)     */
    const char *mx_host;                 /* the MX host probed (for names)  */
    const char *domain;                  /* the mail domain, "" if --host   */
    time_t now;                          /* reference time for cert dates   */
};

/* Fill out[0..max) and v[MXS_POL_COUNT]; returns the number of findings.
 * Verdicts are computed from every finding even when more than max were
 * found; then the least severe ones are dropped from out. */
int diag_run(const struct diag_input *in, struct mxs_finding *out, int max,
             struct mxs_verdict v[MXS_POL_COUNT]);

/* A short, email-ready problem report for the other side's admins: what was
 * tested, when, from where, what failed, the evidence, what to fix.  Every
 * network-supplied string goes through mxs_escape(); the text is plain
 * ASCII.  from: our side (EHLO name / host), may be NULL. */
void diag_report(const struct diag_input *in, const struct mxs_finding *f, int n,
                 const struct mxs_verdict v[MXS_POL_COUNT], time_t started,
                 const char *from, struct buf *out);

/* ---- Several MX hosts / addresses: mx-hosts-disagree ------------------
 * Hook for a later multi-probe mode (the engine probes one MX and one
 * address per run today): the front end keeps the facts of several runs and
 * asks whether the nodes agree.  One mx-hosts-disagree finding (WARNING)
 * per aspect that differs: STARTTLS offered (step STARTTLS), TLS outcome
 * and version (HANDSHAKE), the leaf certificate served and whether it
 * verified (CHAIN).  Probes whose facts for an aspect are missing (NULL or
 * that step not reached) are left out of that comparison. */
struct diag_probe {
    const char *mx_host;                 /* raw, escaped by diag            */
    const char *addr;                    /* address literal                 */
    const struct mxs_smtp_facts *smtp;
    const struct mxs_tls_facts *tls;
    const struct mxs_chain_facts *chain;
};
int diag_compare(const struct diag_probe *p, int n, struct mxs_finding *out,
                 int max);

/* ---- The catalogue --------------------------------------------------
 * Everything constant about a finding id.  Blocks: the policies a finding
 * stops when filed at the row's severity (filed as a warning below it, it
 * stops none).  ALL: no policy delivers (DNS, TCP, greeting, EHLO).  TLS:
 * no TLS session (an opportunistic sender goes on in clear).  VERIFY: the
 * certificate does not authenticate the server. */
/* ALL: no policy delivers; TLS: no TLS session; VERIFY: the certificate
 * does not authenticate the server; LOCAL: a problem on our side (our
 * resolver, our files) hides what the partner does: the verdicts from that
 * step on are "not evaluated", never blamed on the partner. */
enum { DIAG_BLK_ALL = 1, DIAG_BLK_TLS = 2, DIAG_BLK_VERIFY = 4, DIAG_BLK_LOCAL = 8 };

struct diag_entry {
    const char *id;              /* "cert-expired"                          */
    const char *variant;         /* NULL: the id's own row; else the case
                                    whose advice differs ("intermediate")   */
    enum mxs_step step;          /* filed under; NONE: per aspect           */
    enum mxs_severity severity;  /* as filed when it blocks                 */
    unsigned blocks;             /* DIAG_BLK_* bits                         */
    const char *title;           /* one line; NULL on variant rows          */
    /* Advice templates: {domain} {name} {what} {port} {expected} {spki}
     * stand for facts.  advice_own: for the receiving side's admins (an
     * Exchange / Postfix admin: "If it is your server: ..."); advice_third:
     * for the sender when the server is a third party's. */
    const char *advice_own;
    const char *advice_third;
};

/* The id's own row, or NULL for an unknown id (static storage). */
const struct diag_entry *diag_find_id(const char *id);
/* Every row, variants included; *n gets their number. */
const struct diag_entry *diag_catalog(int *n);
/* The RFC 8460 result type of a finding id (tlsrpt_map.c), NULL for none;
 * *classified (may be NULL) is 0 for an id the table does not know. */
const char *diag_tlsrpt_type(const char *id, int *classified);

#endif
