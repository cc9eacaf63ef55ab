/*
 * session_int.h - what the files of the session module (render.c,
 * session_json*.c, session_text*.c) share; nothing outside core/session
 * includes it.  Defined in render.c unless said otherwise.
 */
#ifndef MXS_SESSION_INT_H
#define MXS_SESSION_INT_H
#include <stddef.h>
#include <time.h>

#include "core.h"

struct buf;

/* "2026-11-28T17:56:12Z" (UTC), "?" if the time cannot be shown. */
void session_iso_time(time_t t, char *out, size_t len);
/* Write b to path whole or not at all (savefile.h), then free b. */
int session_save_buf(struct buf *b, const char *path, char *err, size_t errlen);
/* The record kind of a transcript mark ("S:", "T<" ...) at p (n bytes
 * available), from the one table render_record_line() writes; -1 if none. */
int session_mark_kind(const char *p, size_t n);

/* The appendix's "# fact NAME VALUE" lines (session_text_facts.c: one
 * table for writing them and reading them back). */
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
/* second_certificate read back into ch (the text loader's second.json too). */
void session_json_load_second(struct json_t *alt, struct mxs_chain_facts *ch);
/* The POLICY step's facts in the batch report (render_policy.c). */
void render_policy_facts(const struct engine *e, struct buf *out);
/* --diff's DNS and MTA-STS / TLS-RPT sections (session_diff_facts.c): the
 * lines of what RESOLVE and POLICY found changed from a to b; returns how
 * many (each a difference). */
int session_diff_dns(struct buf *out, const struct engine *a, const struct engine *b);
int session_diff_policy(struct buf *out, const struct engine *a, const struct engine *b);
/* " X -> Y\n" after a line's head: each escaped once, "(none)" when empty
 * (session_diff.c; the facts sections write their lines with it too). */
void session_diff_arrow(struct buf *out, const char *x, const char *y);

/* ---- the text transcript's loader: session_text.c (the line reader,
 * pass 2, the engine), session_text_appendix.c (pass 1: header and
 * appendix), session_text_facts.c (the "# fact" lines) ---------------- */
#define LT_MAX_LINE (64u * 1024u)

struct lt_line {
    const char *p;
    size_t n;      /* without the newline (and a CR before it) */
    unsigned no;   /* 1-based line number                      */
};

struct lt_iter {
    const char *text;
    size_t len, off;
    unsigned no;
};

/* What the file says, collected over both passes and handed to the engine
 * at the end (engine_load_text owns it). */
struct smtp_parser;
struct lt_state {
    struct engine *e;        /* made after pass 1 (the header is read) */
    const char *path;
    char *err;
    size_t errlen;
    unsigned char *ubuf;     /* unescape buffer, LT_MAX_LINE */
    int n_x;                 /* "X:" lines seen (pass 2)      */
    int chain_announced;     /* "# chain: N" (-1: no line)     */
    int verdicts_seen;
    /* SMTP replies rebuilt from the S: lines */
    struct smtp_parser *sp;
    enum mxs_step sp_step;
    int reply_done[MXS_STEP_COUNT + 1]; /* + the HELO reply */
    int helo_pending;
    /* What the file says, handed to the engine at the end. */
    struct mxs_settings set;
    time_t started;
    struct mxs_connect_facts conn;
    struct mxs_smtp_facts smtp;
    struct mxs_tls_facts tls;
    struct mxs_chain_facts chain;  /* the DER is ours until handed over */
    struct mxs_finding findings[MXS_MAX_FINDINGS];
    int n_findings;
    struct mxs_verdict verdicts[MXS_POL_COUNT];
    /* "# fact dns.json" / "# fact policy.json": the RESOLVE and POLICY
     * facts, and CHAIN's per-TLSA-record ones ("# fact dane.json"), as
     * the JSON document has them (NULL: not in the file) */
    char *dns_json, *policy_json, *dane_json, *second_json;
};

/* session_text.c: next line; 0 at the end, -1 for a line over LT_MAX_LINE
 * (l->no is set). */
int session_text_next(struct lt_iter *it, struct lt_line *l);
int session_text_starts(const struct lt_line *l, const char *pfx);
int session_text_is(const struct lt_line *l, const char *s);
/* A short, escaped excerpt of hostile text for an error message. */
void session_text_quote(const char *p, size_t n, char *out, size_t outlen);
/* The whitespace-separated token at *p (< end); advances past it. */
size_t session_text_token(const char **p, const char *end, const char **tok);
int session_text_tokeq(const char *tok, size_t n, const char *s);
/* A token looked up by one of names.c's *_from_name functions; -1 if
 * unknown (or too long to be a name). */
int session_text_lookup(const char *tok, size_t n, int (*from_name)(const char *));
/* The error "PATH: line N: WHAT" into st->err; returns -1. */
int session_text_fail(struct lt_state *st, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* session_text_appendix.c: pass 1, the header lines and the appendix.
 * Returns the number of record lines, or -1 (st->err says why). */
long session_text_pass1(struct lt_state *st, const char *text, size_t len);
/* session_text_facts.c: one "# fact NAME VALUE" line into st; 0, or -1. */
int session_text_fact_line(struct lt_state *st, const struct lt_line *l);

#endif
