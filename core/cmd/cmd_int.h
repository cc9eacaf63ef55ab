/*
 * cmd_int.h - inside core/cmd only: what cmd.c (the command table, the
 * session commands) and cmd_files.c (the commands that read and write files)
 * share.  Ownership is as in core.h's "Commands" group: a handler writes into
 * the caller's struct cmd_result and never frees the context's engine but
 * through cmd_ctx_adopt().
 */
#ifndef MXS_CMD_INT_H
#define MXS_CMD_INT_H
#include "core.h"

/* cmd.c: a failed command's message (printf-like, bounded). */
void cmd_fail(struct cmd_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* cmd.c: 1 (and a message in r) when no session is open. */
int cmd_need_engine(struct cmd_ctx *c, struct cmd_result *r);
/* cmd.c: the session in view has been saved (quit asks no more). */
void cmd_mark_saved(struct cmd_ctx *c);

/* cmd_files.c: the handlers, rows of cmd_table. */
void cmd_report(struct cmd_ctx *c, int argc, char **argv, struct cmd_result *r);
void cmd_save(struct cmd_ctx *c, int argc, char **argv, struct cmd_result *r);
void cmd_yank(struct cmd_ctx *c, int argc, char **argv, struct cmd_result *r);
void cmd_load(struct cmd_ctx *c, int argc, char **argv, struct cmd_result *r);
void cmd_diff(struct cmd_ctx *c, int argc, char **argv, struct cmd_result *r);
void cmd_load_report(struct cmd_ctx *c, int argc, char **argv, struct cmd_result *r);

#endif
