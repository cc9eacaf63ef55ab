/*
 * tui.h - shared state and internal interfaces of the console (the tui/ sources).
 *
 *   screen.c      every curses set-up/teardown call, colours, glyphs, stderr
 *                 redirection, the fatal-signal terminal restore, screen dumps
 *   console.c     console_run(): the poll loop, the engine, signals; keys are
 *                 looked up in the keymap and their actions carried out here
 *                 or handed to a pane, the overlay or the prompt; the one
 *                 place that puts the screen together (console_draw)
 *   keymap.c      every key: code, context, action, help text (keymap.h);
 *                 the help screen's key list is made from it
 *   panes.c       the list of panes and their layout (sized by content), the
 *                 status bar and its one-line prompt, the mouse on the panes
 *   pane_steps.c, pane_exchange.c, pane_chain.c, pane_findings.c
 *                 one pane each: private static state behind struct pane_ops
 *   overlay.c     the modal text view (help, certificate, report, output)
 *   domains_view.c the Domains view: a list of partner domains run in the
 *                 poll loop, one row per domain; Enter opens it as the session
 *   timeline.c    the timeline's text (each step's start, duration, a bar)
 *   cmdline.c     GNU readline fed by curses, one byte at a time
 *   script.c      --script (console) and --script --batch
 *
 * Who calls whom: console.c calls panes.c, overlay.c and cmdline.c; the panes
 * call overlay.c and the prompt (panes.c); everything may call ui_message()
 * (console.c).  cmdline.c and the panes never call each other.
 *
 * Ownership: struct ui lives on console_run()'s stack; its cmd_ctx holds
 * the current engine (see cmd.h for who frees which engine).  Each pane's,
 * the overlay's, the prompt's and the command line's state is static in its
 * own file, set up and freed through its functions.
 * Owner: the console engineer (h6).
 */
#ifndef MXS_TUI_H
#define MXS_TUI_H
#include <curses.h>
#include <stddef.h>
#include "core.h"
#include "keymap.h"

/* ---- screen.c ----------------------------------------------------------- */

enum role {
    ROLE_NORMAL = 0, ROLE_BORDER, ROLE_TITLE, ROLE_FOCUS, ROLE_STATUS,
    ROLE_CLIENT, ROLE_SERVER, ROLE_DNS, ROLE_TLS, ROLE_NOTE, ROLE_ERROR,
    ROLE_WARN, ROLE_OK, ROLE_RUNNING, ROLE_SELECT, ROLE_MATCH, ROLE_DIM,
    ROLE_COUNT
};

int screen_init(char *err, size_t errlen);   /* 0, or -1 with err */
void screen_end(void);                       /* endwin + replay stderr */
int screen_active(void);
void screen_resize(void);                    /* after SIGWINCH */
attr_t screen_attr(enum role r);
/* Draw already-escaped UTF-8 text at (y,x) in at most maxw columns. */
int screen_text(int y, int x, int maxw, const char *s, attr_t a);
/* Display width of escaped UTF-8 text. */
int screen_width(const char *s);
/* s cut to maxw columns, ending in an ellipsis ("…", "~" without UTF-8)
 * when it does not fit: what is cut shows that it is. */
void screen_fit(const char *s, int maxw, char *out, size_t outlen);
/* Word wrap: the bytes of s that make its next row at width w, broken
 * after the last space that fits when all of s does not, so a hash, an
 * address or a host name moves whole to the next row; a word wider than w
 * is cut (the only split).  *cols gets the row's width.  The caller skips
 * the spaces at the start of the next row. */
size_t screen_wrap(const char *s, int w, int *cols);
void screen_box(int y, int x, int h, int w, const char *title, int focused);
const char *screen_state_glyph(enum mxs_step_state s);
int screen_utf8(void);                       /* UTF-8 glyphs in use */
/* Mouse reporting on (the console's clicks and wheel) or off; 0 or -1. */
int screen_mouse(int on);
/* data (len bytes) to the terminal's clipboard: OSC 52, written straight
 * to the terminal between two refreshes (it moves no cursor). 0 or -1. */
int screen_osc52(const char *data, size_t len);
/* The whole screen as escaped text into path (savefile, 0600). */
int screen_dump(const char *path, char *err, size_t errlen);

/* ---- the shared state ------------------------------------------------- */

/* The panes in focus order; Tab goes round them (the command line is `:`). */
enum focus { FOCUS_STEPS = 0, FOCUS_EXCHANGE, FOCUS_CHAIN, FOCUS_FINDINGS,
             FOCUS_CMDLINE, FOCUS_COUNT };
#define PANE_COUNT FOCUS_CMDLINE

struct ui {
    struct cmd_ctx cmd;
    int rows, cols;
    int focus, prev_focus;
    int quit;
    int running;                 /* `run`: keep stepping until finished */
    int queued_steps;            /* n pressed while a step ran: typed ahead */
    int dirty;                   /* repaint before waiting again */
    /* status bar message */
    char msg[1024];
    int msg_err;
    /* confirmation */
    int confirm;                 /* 0 none, 1 command, 2 quit */
    char confirm_cmd[CMD_MAX_LINE];
    /* --script in the console */
    char **script;
    int script_n, script_i;
    int osc52;                   /* --osc52: yank also sets the clipboard */
};

/* ---- one pane (pane_*.c) ------------------------------------------------ */

struct rect { int y, x, h, w; };

/* A pane keeps its state private (static in its file); the console reaches
 * it only through these.  Optional slots are NULL where a pane has nothing
 * to do.  The panes draw from the engine's state (engine_record(),
 * engine_chain() ...), so engine events need no slot: they only make the
 * console repaint. */
/* One key hint of the status bar: the key comes from the keymap (key NULL)
 * or is named (when the keymap's first key for the action means something
 * else right now, as n does during a search). */
struct key_hint { enum km_ctx ctx; enum km_action action; const char *word; const char *key; };

struct pane_ops {
    enum km_ctx keys;                            /* its own keymap context;
                                                    KM_PANES: none */
    /* optional: the hints in force while focused, NULL for the console's */
    const struct key_hint *(*hints)(size_t *n);
    void (*create)(void);                        /* set up the state */
    void (*destroy)(void);                       /* optional: free it */
    void (*reset)(void);                         /* optional: new engine */
    void (*resize)(struct rect r);               /* its place on screen */
    void (*draw)(struct ui *ui, int focused);
    int (*key)(struct ui *ui, enum km_action a); /* optional; 1: handled */
    /* optional: the rows its content takes at inner width w (the layout
     * sizes the pane from it); *must gets the rows never to cut */
    int (*want)(struct ui *ui, int w, int *must);
    /* optional: a click on the inner row/col (0-based) of the pane */
    void (*click)(struct ui *ui, int row, int col);
};

extern const struct pane_ops pane_steps, pane_exchange, pane_chain, pane_findings;

/* ---- panes.c: the panes together, the status bar, the prompt ----------- */

void panes_create(void);
void panes_destroy(void);
void panes_reset(void);                      /* the engine was replaced */
void panes_layout(struct ui *ui);            /* sets ui->rows/cols too */
/* 1 when the Steps pane shows no POLICY row (skipped, or will be: a host). */
int panes_policy_hidden(const struct engine *e);
void panes_draw(struct ui *ui);              /* every pane, the status bar */
enum km_ctx panes_keys(int pane);            /* the pane's own context */
int panes_key(struct ui *ui, int pane, enum km_action a); /* 1: handled */
/* The pane at screen row y, column x, or -1 (the status bar, the command
 * line). */
int panes_at(int y, int x);
/* A click on the pane at (y, x): focus it, then the pane's own click. */
void panes_click(struct ui *ui, int pane, int y, int x);
/* The Exchange from the line where step s last started. */
void exchange_goto_step(struct ui *ui, enum mxs_step s);
/* The depth of the certificate selected in the Chain pane (0: the leaf). */
int chain_selected(void);

/* A one-line prompt in the status bar that edits buf (len bytes, printable
 * ASCII) in place; done(ui, 1) on Enter, done(ui, 0) on Esc. */
void prompt_open(struct ui *ui, const char *label, char *buf, size_t len,
                 void (*done)(struct ui *ui, int accepted));
int prompt_active(void);
void prompt_key(struct ui *ui, enum km_action a, int ch);

/* ---- overlay.c: the modal text view ------------------------------------- */

void overlay_open(struct ui *ui, const char *title, const char *text);
void overlay_scroll_to(int line);            /* the first line shown */
int overlay_is_open(void);
void overlay_close(struct ui *ui);
void overlay_draw(struct ui *ui);
void overlay_key(struct ui *ui, enum km_action a);
void overlay_show_cert(struct ui *ui, int depth);
/* A live view: render(ui, out, width) makes its text again at every draw
 * (the timeline while a step runs); scrolling and search as for text. */
void overlay_open_live(struct ui *ui, const char *title,
                       void (*render)(struct ui *ui, struct buf *out, int width));
/* Search the open overlay for s from its top, as / does. */
void overlay_find(struct ui *ui, const char *s);

/* ---- domains_view.c: the Domains view ------------------------------------ */

/* Open the list at path (base: the settings each line starts from, NULL:
 * defaults) and show the view; path "" shows the list already open.
 * 0, or -1 after saying why on the status bar. */
int domains_view_open(struct ui *ui, const char *path, const struct mxs_settings *base);
/* The tuning every list the console opens runs with (--parallel,
 * --per-host, --domain-timeout); NULL: the runner's defaults.  Copied;
 * called once before any list is opened (console_run). */
void domains_view_tune(const struct mxs_domains_opts *o);
int domains_view_is_open(void);
int domains_view_running(void);              /* a list is still running */
/* Advance the list without waiting (the poll loop, every pass). */
void domains_view_tick(struct ui *ui);
void domains_view_draw(struct ui *ui);
void domains_view_key(struct ui *ui, enum km_action a);
void domains_view_free(void);
/* While a list runs the poll loop wakes at least this often. */
#define DV_TICK_MS 50

/* ---- timeline.c ---------------------------------------------------------- */

/* Each step's start offset (from the first step's start), its duration, and a
 * bar scaled to the whole run, at width columns; the running step with its
 * elapsed time and the time left to its deadline. */
void timeline_render(struct ui *ui, struct buf *out, int width);

/* ---- cmdline.c ---------------------------------------------------------- */

int cmdline_init(struct ui *ui);
void cmdline_end(void);
void cmdline_key(int ch);                    /* a curses key for readline */
void cmdline_draw(struct ui *ui);            /* the bottom line */
void cmdline_place_cursor(struct ui *ui);
void cmdline_clear(void);
int cmdline_empty(void);
/* A line accepted by readline, if any (returns 1 and copies it). */
int cmdline_take(char *out, size_t outlen);

/* ---- console.c ---------------------------------------------------------- */

/* Run one command line as typed; shared by the prompt and --script. */
void console_exec(struct ui *ui, const char *line);
/* The status bar's message: its first line only. */
void ui_message(struct ui *ui, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A search's result in the status bar, the same words in every view:
 * "match at line L of N", or going round the end "search hit BOTTOM,
 * continuing at TOP" (dir > 0) / "search hit TOP, continuing at BOTTOM". */
void ui_search_found(struct ui *ui, int line, int n, int dir, int wrapped);

/* ---- script.c ----------------------------------------------------------- */

/* Read a script into lines (malloc'd); returns the count or -1 with err. */
int script_read(const char *file, char ***lines, char *err, size_t errlen);
void script_free(char **lines, int n);

#endif
