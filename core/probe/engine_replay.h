/*
 * engine_replay.h - what the session module (core/session: saves, loads,
 * reports) may use of the engine beyond core.h.  struct engine stays opaque
 * here: a loader fills a read-only engine only through the replay API below
 * (engine_replay.c), and only the engine writes step state.
 *
 * Ownership: pointers returned are the engine's (valid until it changes);
 * facts handed to engine_replay_facts() are copied, except the chain, whose
 * certificates (and their DER) move into the engine.
 */
#ifndef MXS_ENGINE_REPLAY_H
#define MXS_ENGINE_REPLAY_H
#include <stdint.h>
#include <time.h>
#include "core.h"

struct diag_input;

/* ---- reading (engine.c) ---- */

/* A step's result as it stands: state, the elapsed time of its last end
 * (not the running clock), whether it timed out, its detail (raw). */
struct engine_step_info {
    enum mxs_step_state state;
    int64_t elapsed_ms;
    int timed_out;
    const char *detail;
};
void engine_step_info(const struct engine *e, enum mxs_step s, struct engine_step_info *out);
/* The MX host the probe is about ("" when none). */
const char *engine_mx_host(const struct engine *e);
/* The SNI the handshake sends (NULL: none; never an address literal). */
const char *engine_sni(const struct engine *e);
/* The diagnosis' view of the engine's facts (pointers into e). */
void engine_diag_input(const struct engine *e, struct diag_input *in);

/* ---- replay: a read-only engine from a saved file (engine_replay.c) ---- */

/* A read-only engine (engine_step does nothing, engine_is_replay is 1) with
 * these settings, started at that wall-clock time; no step has run. */
struct engine *engine_replay_new(const struct mxs_settings *s, time_t started);
/* Append a record as saved, at t_us after the start.  -1 once the
 * transcript is full (the engine's bound: the record became the "limit
 * reached" note or was dropped), else 0. */
int engine_replay_record(struct engine *e, enum mxs_rec_kind k, enum mxs_step s,
                         const void *data, size_t len, int64_t t_us);
/* A step's state as the file says; elapsed_ms -1 and detail NULL keep what
 * the step has. */
void engine_replay_step(struct engine *e, enum mxs_step s, enum mxs_step_state st,
                        int64_t elapsed_ms, const char *detail);
/* The facts the file carries; a NULL member keeps the engine's. */
struct engine_replay_facts {
    const struct mxs_settings *set;
    const struct mxs_dns_facts *dns;
    const struct mxs_connect_facts *conn;
    const struct mxs_smtp_facts *smtp;
    const struct mxs_tls_facts *tls;
    struct mxs_chain_facts *chain;  /* moved in: *chain is emptied */
    const struct mxs_policy_facts *policy;
};
void engine_replay_facts(struct engine *e, struct engine_replay_facts *f);
/* Findings and verdicts as they were saved (verdicts: [MXS_POL_COUNT]). */
void engine_replay_diagnosis(struct engine *e, const struct mxs_finding *f, int n,
                             const struct mxs_verdict *v);
/* The end of the file: a step still running was cut short (CANCELLED); the
 * FINISHED event is queued. */
void engine_replay_finish(struct engine *e);

#endif
