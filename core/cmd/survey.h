/*
 * survey.h - its public declarations live in core.h (group "Survey"); this
 * header keeps the includes inside core/ working and declares what only
 * core uses: the non-blocking pieces the list runner (cmd/domains.c) drives
 * from its own poll loop, and the JSON tree (a jansson type, never in
 * core.h).  Front ends include core.h, never this file.
 *
 * Non-blocking use: survey_start() makes the RESOLVE engine and runs
 * nothing; the caller steps survey_engine(v, -1) to the end, then
 * survey_expand() makes one engine per (MX, address); the caller steps
 * each survey_engine(v, i) to the end, then survey_compare().  survey_new()
 * and survey_run() are exactly that, blocking.
 */
#ifndef MXS_SURVEY_H
#define MXS_SURVEY_H
#include <jansson.h>
#include "core.h"

struct survey *survey_start(const struct mxs_settings *s, char *err, size_t errlen);
/* Before its first step: run it as a list runs its domains (one libunbound
 * context sh for all, owned by the caller; the RSA-only side handshake only
 * when needed): engine_set_list_mode() in probe/engine_int.h. */
struct dns_shared;
void survey_list_mode(struct survey *v, struct dns_shared *sh);
void survey_expand(struct survey *v);
/* Probe i, or the RESOLVE engine for i < 0; owned by the survey. */
struct engine *survey_engine(struct survey *v, int i);
/* mx-hosts-disagree over the probes (every probe finished). */
void survey_compare(struct survey *v);
/* The --all --json document as a tree (new reference). */
json_t *survey_json_tree(const struct survey *v);

#endif
