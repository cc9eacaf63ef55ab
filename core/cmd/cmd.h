/*
 * cmd.h - the one command table shared by the console's command line and
 * the `--script` / `--batch` front end (in the spirit of tmux's command
 * entries: name, alias, usage, help, argument bounds, handler, completion).
 *
 * core/ never prints: a handler fills a struct cmd_result with a status, a
 * message (already escaped, safe to show) and an action code for the things
 * only a front end can do (show a certificate pane, the help screen, quit,
 * ask for confirmation, dump the screen, drive the engine without blocking).
 *
 * Two modes (struct cmd_ctx.blocking):
 *   - blocking (batch): `step`, `run`, `send` and `open` drive the engine to
 *     completion here, in poll(), bounded by the engine's stage deadlines;
 *   - non-blocking (console): they start the work and return CMD_ACT_STEP /
 *     CMD_ACT_RUN / CMD_ACT_WAIT; the console's poll loop advances it.
 *
 * Ownership: the ctx holds the current engine.  The engine it was created
 * with belongs to the caller and is never freed here; engines made by
 * `open` and `load`, and a lab started by `open lab:NAME`, belong to the ctx
 * and are freed by cmd_ctx_free() (or when replaced).
 * Owner of this file: the console engineer (h6).
 */
#ifndef MXS_CMD_H
#define MXS_CMD_H
#include <stddef.h>
#include "base/buf.h"
#include "core.h"

struct lab;

#define CMD_MAX_ARGS 16
#define CMD_MAX_LINE 4096

enum cmd_status { CMD_OK = 0, CMD_ERROR, CMD_NEEDS_CONFIRM };

enum cmd_action {
    CMD_ACT_NONE = 0,
    CMD_ACT_STEP,       /* console: one step was started, keep advancing it  */
    CMD_ACT_RUN,        /* console: run to the end, step after step          */
    CMD_ACT_WAIT,       /* console: a raw command was sent, advance to reply */
    CMD_ACT_SHOW_CERT,  /* open the certificate pane for depth `arg`         */
    CMD_ACT_HELP,       /* show the help screen (message holds the text)     */
    CMD_ACT_OUTPUT,     /* a multi-line message worth a scrollable view      */
    CMD_ACT_QUIT,
    CMD_ACT_CONFIRM,    /* ask; if yes, run `confirm` (status NEEDS_CONFIRM) */
    CMD_ACT_DUMP        /* write the screen as text to `path`                */
};

struct cmd_result {
    enum cmd_status status;
    enum cmd_action action;
    int arg;                 /* SHOW_CERT: depth                              */
    int engine_changed;      /* open/load replaced ctx->engine: reset views   */
    int cancelled;           /* engine_cancel was called                      */
    char path[1024];         /* DUMP: file                                    */
    char confirm[CMD_MAX_LINE]; /* CONFIRM: the command line to run on "yes" */
    struct buf msg;          /* escaped text for the operator; may be empty  */
};

struct cmd_ctx {
    struct engine *engine;   /* current engine (NULL: nothing opened)        */
    struct lab *lab;         /* lab in use (caller's or owned)                */
    char lab_scenario[64];   /* "" when the target is not the lab             */
    int blocking;            /* 1: batch, drive the engine here               */
    /* private */
    struct engine *caller_engine; /* never freed here                         */
    int own_lab;
    size_t saved_records;    /* engine_record_count at the last save          */
    int saved_engine_gen, engine_gen;
};

typedef void (*cmd_fn)(struct cmd_ctx *c, int argc, char **argv,
                       struct cmd_result *r);

enum cmd_complete_kind {
    CMD_CPL_NONE = 0,
    CMD_CPL_COMMAND,         /* help CMD */
    CMD_CPL_SETTING,         /* set KEY */
    CMD_CPL_FILE,            /* save/load/dump: the front end's file names */
    CMD_CPL_WORDS,           /* fixed first words (entry.words)             */
    CMD_CPL_OPEN             /* open: "host", "lab:NAME", MX host names     */
};

struct cmd_entry {
    const char *name;
    const char *alias;       /* NULL: none */
    const char *usage;       /* arguments, e.g. "KEY [VALUE]" */
    const char *help;        /* one line */
    int min_args, max_args;  /* words after the name */
    cmd_fn fn;
    enum cmd_complete_kind complete;
    const char *words;       /* CMD_CPL_WORDS: space-separated first words */
};

extern const struct cmd_entry cmd_table[]; /* NULL name terminates */

void cmd_ctx_init(struct cmd_ctx *c, struct engine *e, struct lab *lab,
                  const char *lab_scenario, int blocking);
void cmd_ctx_free(struct cmd_ctx *c);
/* 1 when the transcript has records that were never saved. */
int cmd_unsaved(const struct cmd_ctx *c);
/* Replace the current engine (front end's --load at start); the ctx owns it. */
void cmd_ctx_adopt(struct cmd_ctx *c, struct engine *e);

void cmd_result_init(struct cmd_result *r);
void cmd_result_free(struct cmd_result *r);

/* Split a line into words: blanks separate, '...' is literal, "..." allows
 * \" and \\, a backslash outside quotes escapes the next byte, '#' at the
 * start of a word begins a comment.  Words are written into store (NUL
 * separated).  Returns the word count, or -1 with err (unterminated quote,
 * too many words, line too long). */
int cmd_tokenize(const char *line, char *store, size_t storelen, char **argv,
                 int maxargs, char *err, size_t errlen);

const struct cmd_entry *cmd_find(const char *name);

/* Parse and run one command line.  r must be cmd_result_init'ed; the caller
 * frees it.  Empty lines and comments are CMD_OK with no message. */
void cmd_exec(struct cmd_ctx *c, const char *line, struct cmd_result *r);

/* Completion for the word that starts at byte `start` of `line` (the text
 * before the cursor; `word` is line+start).  Fills out[] with up to max
 * candidates (each escaped, NUL-terminated, < 256 bytes) and returns their
 * number; *want_files is set when the front end should complete file names
 * instead. */
#define CMD_CPL_LEN 256
int cmd_complete(const struct cmd_ctx *c, const char *line, size_t start,
                 char out[][CMD_CPL_LEN], int max, int *want_files);

/* Help text: every command (name == NULL) or one command. */
void cmd_help_text(const char *name, struct buf *out);

/* Default transcript name: mxscope-<target>-<UTC YYYYmmddTHHMMSSZ>.txt, the
 * target reduced to [A-Za-z0-9.-_]. */
void cmd_default_save_name(const struct engine *e, char *out, size_t outlen);

/* Drive the engine while a step or a raw command is in flight (blocking,
 * poll()); used by the batch front end.  Bounded by the engine's deadlines. */
void cmd_drive(struct engine *e);
/* 1 while a step or raw command is in flight (a deadline is pending). */
int cmd_engine_busy(const struct engine *e);

#endif
