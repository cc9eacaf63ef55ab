/*
 * render.h - the public header of the session module (core/session): the
 * transcript and facts as text, JSON and PEM (render.c, session_text.c,
 * session_json.c); saving them whole (savefile.h); loading a saved session,
 * JSON or text, back into a read-only engine (session_json.c,
 * session_text.c, through the engine's replay API).
 *
 * Every network- or certificate-supplied string passes through mxs_escape().
 * Ownership: returned strings are malloc'd, the caller frees them; buffers
 * passed in are the caller's.
 */
#ifndef MXS_RENDER_H
#define MXS_RENDER_H
#include <stddef.h>
#include "core.h"

struct buf;

/* The readable step-by-step report the batch front end prints. */
void render_report_text(const struct engine *e, struct buf *out);
/* The transcript as text: "+0.012s BANNER S: 220 ..." with direction marks
 * (C: client, S: server, D: DNS, T: TLS, !: error, #: note, *: finding). */
void render_transcript_text(const struct engine *e, struct buf *out);
/* One transcript record as a single escaped line (no newline); used by the
 * console's Exchange pane and the text transcript alike. */
void render_record_line(const struct mxs_record *r, struct buf *out);
/* The JSON document of docs/json.md (malloc'd, NUL-terminated). */
char *render_json(const struct engine *e);
/* The same document as a jansson tree (core only: the survey nests them). */
struct json_t;
struct json_t *render_json_tree(const struct engine *e);
/* PEM of every certificate the server sent, leaf first. */
void render_chain_pem(const struct engine *e, struct buf *out);
/* Certificate detail: every field of the view, every verify flag in words. */
void render_cert_detail(const struct mxs_cert *c, struct buf *out);

/* Saves: write whole or not at all, mode 0600.  Return 0 or -1 with err. */
int render_save_text(const struct engine *e, const char *path, char *err, size_t errlen);
int render_save_json(const struct engine *e, const char *path, char *err, size_t errlen);
int render_save_chain(const struct engine *e, const char *path, char *err, size_t errlen);
int render_save_report(const struct engine *e, const char *path, char *err, size_t errlen);
/* The email-ready problem report (diag_report) into out. */
void render_problem_report(const struct engine *e, struct buf *out);

/* Exit code of the batch front end: 0 all passed, 3 cancelled, 10 + step
 * index of the first failed step (10 RESOLVE ... 17 EHLO2). */
int render_exit_code(const struct engine *e);

/* Load a session saved as JSON: returns a read-only engine (engine_step does
 * nothing; facts, steps, findings and transcript are the saved ones), or
 * NULL with a clear error for a damaged or hostile file. */
struct engine *engine_load(const char *path, char *err, size_t errlen);
/* The same from memory (path only names it in errors): fuzzed. */
struct engine *engine_load_buffer(const char *text, size_t len, const char *path, char *err,
                                  size_t errlen);
/* A text transcript (render_transcript_text) back into a read-only engine:
 * records, step states, findings, verdicts and the PEM chain (session_text.c). */
struct engine *engine_load_text(const char *text, size_t len, const char *path, char *err,
                                size_t errlen);

#endif
