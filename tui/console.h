/*
 * console.h - the interactive ncurses console (tui/console*.c).
 *
 * console_run() owns the terminal from initscr() to endwin() and the one
 * poll() loop: keyboard, SIGWINCH, and the engine's fds and deadline.
 * Ownership: the engine stays the caller's; the console never frees it.
 */
#ifndef MXS_CONSOLE_H
#define MXS_CONSOLE_H
#include "core.h"

struct lab;

struct console_opts {
    struct engine *engine;        /* may be NULL: opened empty, with a hint  */
    struct lab *lab;              /* the built-in lab, when --lab            */
    const char *lab_scenario;     /* scenario the engine is set up for       */
    int stop_after_resolve;       /* `mxscope DOMAIN`: stop after RESOLVE    */
    const char *script;           /* --script FILE: commands fed at start    */
    const char *load;             /* --load FILE: replay read-only           */
    const char *notice;           /* shown on the status bar at start, or NULL */
    int no_mouse;                 /* --no-mouse: no clicks, no wheel         */
    int osc52;                    /* --osc52: yank sets the clipboard too    */
    const char *domains;          /* --domains LIST: open the Domains view   */
    const struct mxs_settings *domains_base; /* the settings its lines start from
                                     (and `domains FILE`s when nothing is open) */
    const struct mxs_domains_opts *domains_tune; /* --parallel ...; NULL: defaults */
};

/* Returns the process exit code. */
int console_run(struct console_opts *o);

#endif
