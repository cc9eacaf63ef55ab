/*
 * batch.h - the batch front end (--batch): no console, the engine runs to
 * the end, render.c turns facts into text or JSON, and the exit code names
 * the failing stage.  Everything it prints was escaped by render.c.
 * A lab (--lab) is the caller's: its address and files are in the settings.
 */
#ifndef MXS_BATCH_H
#define MXS_BATCH_H

struct engine;
struct front_opts;

/* Run --batch as the options say; returns the process exit code. */
int batch_run(const struct front_opts *o);
/* --tlsrpt FILE [--recheck] [--json]: the exit code. */
int batch_tlsrpt(const struct front_opts *o);
/* --diff A B: the exit code (0, or 2 when a file does not load). */
int batch_diff(const struct front_opts *o);

/* --domains LIST (domains_out.c): the exit code. */
int batch_domains(const struct front_opts *o);
/* The list runner's tuning from --parallel, --per-host and --domain-timeout
 * (the runner's defaults for those not given), the descriptor limit raised
 * for it: 0, or the exit code after saying why on stderr.  The batch run
 * and the console's Domains view both take it. */
struct mxs_domains_opts;
int domains_tuning(const struct front_opts *o, struct mxs_domains_opts *dopt);
/* Print b on stdout (UTF-8, or <U+XXXX> on another terminal) and free it:
 * 0, or EXIT_LOCAL when stdout failed. */
struct buf;
int batch_print_buf(struct buf *b);

/* --load: the saved session, or NULL after saying why on stderr (the
 * console's --load uses it too). */
struct engine *batch_load(const char *path);

#endif
