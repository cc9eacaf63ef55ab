/*
 * diag.h - diagnosis: findings and a verdict per sender policy.
 *
 * Pure: reads the facts the engine gathered (never a host name, only
 * evidence) and writes findings {id, severity, step, evidence, advice} and
 * one verdict per policy (opportunistic, required, verified, DANE) naming
 * the first failing step and the finding behind it.  The engine calls
 * diag_run() after every step, so the findings pane fills as the probe goes.
 * Findings are ordered: by step, then most severe first; every problem of
 * every certificate is listed.
 *
 * Ownership: the input points at the engine's facts; nothing is kept.
 */
#ifndef MXS_DIAG_H
#define MXS_DIAG_H
#include <time.h>
#include "core.h"

struct buf;

#define DIAG_BANNER_SLOW_MS 3000   /* greeting later than this: banner-slow */

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
    const char *mx_host;                 /* the MX host probed (for names)  */
    const char *domain;                  /* the mail domain, "" if --host   */
    time_t now;
};

/* Fill out[0..max) and v[MXS_POL_COUNT]; returns the number of findings. */
int diag_run(const struct diag_input *in, struct mxs_finding *out, int max,
             struct mxs_verdict v[MXS_POL_COUNT]);

/* A short, email-ready problem report for the other side's admins: what was
 * tested, when, from where, what failed, the evidence, what to fix.  Every
 * network-supplied string goes through mxs_escape(). */
void diag_report(const struct diag_input *in, const struct mxs_finding *f, int n,
                 const struct mxs_verdict v[MXS_POL_COUNT], time_t started,
                 const char *from, struct buf *out);

#endif
