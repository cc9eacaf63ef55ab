/*
 * session_int.h - what the files of the session module (render.c,
 * session_json.c, session_text.c) share; nothing outside core/session
 * includes it.  Defined in render.c.
 */
#ifndef MXS_SESSION_INT_H
#define MXS_SESSION_INT_H
#include <stddef.h>
#include <time.h>

struct buf;

/* "2026-11-28T17:56:12Z" (UTC), "?" if the time cannot be shown. */
void session_iso_time(time_t t, char *out, size_t len);
/* 1 when s[0..n) is what diag.c writes: printable ASCII and '\n' only, so
 * it is shown as it is (escaping it again would double every backslash). */
int session_diag_text_ok(const char *s, size_t n);
/* Write b to path whole or not at all (savefile.h), then free b. */
int session_save_buf(struct buf *b, const char *path, char *err, size_t errlen);
/* The record kind of a transcript mark ("S:", "T<" ...) at p (n bytes
 * available), from the one table render_record_line() writes; -1 if none. */
int session_mark_kind(const char *p, size_t n);

/* The appendix's "# fact NAME VALUE" lines (session_text.c: one table for
 * writing them and reading them back). */
struct engine;
void session_text_facts(const struct engine *e, struct buf *out);
/* The JSON "policy" object (session_json_policy.c): written (null when
 * POLICY asked nothing) and read back into p (zeroed when absent). */
struct json_t;
struct mxs_policy_facts;
struct json_t *session_json_policy(const struct engine *e);
void session_json_policy_load(struct json_t *o, struct mxs_policy_facts *p);
/* The JSON "dns" object read back into f (session_json_load.c); the text
 * loader reads the same object from its "# fact dns.json" line. */
struct mxs_dns_facts;
void session_json_load_dns(struct json_t *d, struct mxs_dns_facts *f);
/* verification.dane read back into ch (the text loader's dane.json too). */
struct mxs_chain_facts;
void session_json_load_dane(struct json_t *dn, struct mxs_chain_facts *ch);
/* The POLICY step's facts in the batch report (render_policy.c). */
void render_policy_facts(const struct engine *e, struct buf *out);

#endif
