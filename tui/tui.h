/*
 * tui.h - shared state and internal interfaces of the console (the tui/ sources).
 *
 *   screen.c   every curses set-up/teardown call, colours, glyphs, stderr
 *              redirection, the fatal-signal terminal restore, screen dumps
 *   panes.c    the panes behind struct pane_ops, the overlay text view,
 *              the status bar and the layout
 *   cmdline.c  GNU readline fed by curses, one byte at a time
 *   console.c  console_run(): the poll loop, keys, signals, the engine
 *   script.c   --script (console) and --script --batch
 *
 * Ownership: struct ui lives on console_run()'s stack; its cmd_ctx holds
 * the current engine (see cmd.h for who frees which engine).
 * Owner: the console engineer (h6).
 */
#ifndef MXS_TUI_H
#define MXS_TUI_H
#include <curses.h>
#include <stddef.h>
#include "core.h"

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
int screen_unicode(void);                    /* UTF-8 glyphs allowed */
/* Draw already-escaped UTF-8 text at (y,x) in at most maxw columns. */
int screen_text(int y, int x, int maxw, const char *s, attr_t a);
/* Display width of escaped UTF-8 text. */
int screen_width(const char *s);
void screen_box(int y, int x, int h, int w, const char *title, int focused);
void screen_hline(int y, int x, int w, attr_t a);
const char *screen_state_glyph(enum mxs_step_state s);
/* The whole screen as escaped text into path (savefile, 0600). */
int screen_dump(const char *path, char *err, size_t errlen);

/* ---- panes.c ------------------------------------------------------------ */

enum focus { FOCUS_STEPS = 0, FOCUS_EXCHANGE, FOCUS_CHAIN, FOCUS_FINDINGS,
             FOCUS_CMDLINE, FOCUS_COUNT };

struct ui;

struct pane_ops {
    const char *name;
    void (*draw)(struct ui *ui, int focused);
    int (*key)(struct ui *ui, int ch);                  /* 1: handled */
    void (*resize)(struct ui *ui, int y, int x, int h, int w);
    void (*on_event)(struct ui *ui, const struct mxs_event *ev);
};

struct rect { int y, x, h, w; };

struct xline { char *text; unsigned char kind; };

struct textview {                /* overlay: help, certificate, output */
    int open;
    char title[128];
    char **lines;
    int n, top;
};

struct ui {
    struct cmd_ctx cmd;
    int rows, cols;
    int focus, prev_focus;
    int quit;
    int running;                 /* `run`: keep stepping until finished */
    int queued_steps;            /* n pressed while a step ran: typed ahead */
    int dirty;
    /* status bar message */
    char msg[1024];
    int msg_err;
    /* confirmation */
    int confirm;                 /* 0 none, 1 command, 2 quit */
    char confirm_cmd[CMD_MAX_LINE];
    /* exchange */
    struct xline *xl;
    size_t xl_n, xl_cap;
    const struct engine *xl_engine;
    int xl_top, xl_follow;
    char search[128];
    int search_input;            /* typing a search string */
    int search_hit;              /* line of the current match, -1 none */
    /* chain, findings */
    int chain_sel, find_top;
    /* geometry */
    struct rect r_steps, r_exchange, r_chain, r_findings;
    struct textview tv;
    /* --script in the console */
    char **script;
    int script_n, script_i;
};

extern const struct pane_ops *const panes[FOCUS_COUNT - 1];

void panes_layout(struct ui *ui);
void panes_draw_all(struct ui *ui);
void panes_on_event(struct ui *ui, const struct mxs_event *ev);
void panes_reset(struct ui *ui);             /* engine replaced */
void panes_free(struct ui *ui);
void tv_open(struct ui *ui, const char *title, const char *text);
void tv_close(struct ui *ui);
int tv_key(struct ui *ui, int ch);           /* 1: handled */
void ui_message(struct ui *ui, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ui_help_text(struct buf *out);
void ui_show_cert(struct ui *ui, int depth);

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
const char *cmdline_history_path(void);

/* ---- console.c ---------------------------------------------------------- */

/* Run one command line as typed; shared by the prompt and --script. */
void console_exec(struct ui *ui, const char *line);

/* ---- script.c ----------------------------------------------------------- */

/* Read a script into lines (malloc'd); returns the count or -1 with err. */
int script_read(const char *file, char ***lines, char *err, size_t errlen);
void script_free(char **lines, int n);

#endif
