/*
 * script.h - `mxscope --script FILE`: the same commands as the console's
 * command line (core/cmd.h), read from a file.
 *
 * In the console (console_opts.script) the lines are fed at start, each once
 * the engine is idle.  With --batch, script_run_batch() runs them without
 * curses: every command's message and every new transcript line is printed
 * to stdout, escaped; errors go to stdout too, prefixed "error: ", so the
 * output reads as one story.  A command that needs confirmation (send DATA)
 * is refused in batch unless written `send --yes DATA`.
 *
 * Ownership: the engine is the caller's; engines made by `open`/`load` and
 * a lab started by `open lab:NAME` are freed before returning.
 * Owner: the console engineer (h6).
 */
#ifndef MXS_SCRIPT_H
#define MXS_SCRIPT_H

struct engine;
struct lab;

/* Returns 0 when every command succeeded, 1 when one failed (the script
 * goes on), 2 when the file cannot be read. */
int script_run_batch(struct engine *e, const char *file);
/* Same, with the built-in lab already running (`--lab --batch`). */
int script_run_batch_lab(struct engine *e, struct lab *lab,
                         const char *scenario, const char *file);

#endif
