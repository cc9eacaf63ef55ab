/*
 * survey.h - every MX host and every address, probed side by side.
 *
 * Operators ask for it first: "try every MX and every address, and show
 * which address was tested" (nodes behind a balancer that differ).  One
 * RESOLVE, then one engine per (MX, address), all run at once from one
 * poll() loop (the engines never block), then the nodes are compared
 * (diag_compare: mx-hosts-disagree).
 *
 * Ownership: struct survey owns its engines; survey_free() frees them.
 */
#ifndef MXS_SURVEY_H
#define MXS_SURVEY_H
#include "core.h"

struct buf;
struct survey;

#define SURVEY_MAX_PROBES 32

/* Resolves s->target (blocking, with the RESOLVE deadline).  NULL with err
 * when even that is impossible (no target). */
struct survey *survey_new(const struct mxs_settings *s, char *err, size_t errlen);
void survey_free(struct survey *v);
/* Run every probe to the end, concurrently (blocking). */
void survey_run(struct survey *v);

/* The RESOLVE engine (DNS facts, its findings when the lookup failed). */
const struct engine *survey_resolver(const struct survey *v);
int survey_count(const struct survey *v);
const struct engine *survey_probe(const struct survey *v, int i);
/* mx-hosts-disagree findings over all probes. */
const struct mxs_finding *survey_findings(const struct survey *v, int *n);
/* 0 when every probe passed; else the exit code of the first probe (in MX
 * and address order) that failed; RESOLVE's when there was nothing to probe. */
int survey_exit_code(const struct survey *v);

/* A matrix, one line per probe, then the disagreements and each probe's
 * findings. */
void survey_render_text(const struct survey *v, struct buf *out);
/* {"survey": true, "target": ..., "dns": <RESOLVE document>, "probes": [<one
 * document per probe, docs/json.md>], "findings": [...], "exit_code": N} */
char *survey_render_json(const struct survey *v);

#endif
