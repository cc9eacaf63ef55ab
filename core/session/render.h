/*
 * render.h - what the session module (core/session: render.c, session_json.c,
 * session_text.c) offers the rest of core and nothing else.  The public
 * output functions (text, JSON, PEM, saves, loading a saved session, JSON or
 * text, back into a read-only engine through the engine's replay API) are
 * declared in core.h, group "Output"; the jansson tree below stays inside
 * core so that no jansson type is ever public.
 *
 * Ownership: the returned tree belongs to the caller (json_decref).
 */
#ifndef MXS_RENDER_H
#define MXS_RENDER_H
#include "core.h"

/* The JSON document of docs/json.md as a jansson tree (the survey nests
 * them in its own document). */
struct json_t;
struct json_t *render_json_tree(const struct engine *e);

#endif
