/*
 * engine_replay.c - the replay API (probe/engine_replay.h): a read-only
 * engine filled from a saved session by the loaders of core/session.
 * Owner: the engine.  The loaders parse; this file is the only way their
 * results get into struct engine, and step state goes through the one
 * state setter, engine_step_set() (engine.c).
 */
#include <string.h>

#include "probe/engine_int.h"

struct engine *engine_replay_new(const struct mxs_settings *s, time_t started)
{
    struct engine *e = engine_new(s);
    if (!e)
        return NULL;
    e->replay = 1;
    e->finished = 1;
    e->next_idx = MXS_STEP_COUNT;
    e->started_wall = started;
    return e;
}

int engine_is_replay(const struct engine *e) { return e->replay; }

int engine_replay_record(struct engine *e, enum mxs_rec_kind k, enum mxs_step s,
                         const void *data, size_t len, int64_t t_us)
{
    size_t before = e->n_rec;
    engine_rec_add(e, k, s, data, len);
    if (e->n_rec > before)
        e->rec[e->n_rec - 1].t_us = t_us;
    return e->rec_truncated ? -1 : 0;
}

void engine_replay_step(struct engine *e, enum mxs_step s, enum mxs_step_state st,
                        int64_t elapsed_ms, const char *detail)
{
    engine_step_set(e, s, st, elapsed_ms, detail);
}

void engine_replay_facts(struct engine *e, struct engine_replay_facts *f)
{
    if (f->set)
        e->set = *f->set;
    if (f->dns)
        e->dns = *f->dns;
    if (f->conn)
        e->conn = *f->conn;
    if (f->smtp)
        e->smtp = *f->smtp;
    if (f->tls)
        e->tls = *f->tls;
    if (f->chain) {
        engine_chain_clear(e);
        e->chain = *f->chain;
        memset(f->chain, 0, sizeof *f->chain);
    }
    if (f->policy)
        e->pol = *f->policy;
}

void engine_replay_diagnosis(struct engine *e, const struct mxs_finding *f, int n,
                             const struct mxs_verdict *v)
{
    if (n < 0)
        n = 0;
    if (n > MXS_MAX_FINDINGS)
        n = MXS_MAX_FINDINGS;
    memcpy(e->findings, f, (size_t)n * sizeof *f);
    e->n_findings = n;
    memcpy(e->verdicts, v, sizeof e->verdicts);
}

void engine_replay_finish(struct engine *e)
{
    for (int i = 0; i < MXS_STEP_COUNT; i++)
        if (e->st[i] == MXS_ST_RUNNING)
            engine_step_set(e, (enum mxs_step)i, MXS_ST_CANCELLED, -1, NULL);
    engine_event(e, MXS_EV_FINISHED, MXS_STEP_NONE, MXS_ST_PENDING, 0);
}
