/*
 * keymap.h - every key the console knows, as one table (tui/keymap.c).
 *
 * Like htop's key bindings: each entry is a key code, the context it works
 * in, the action it triggers and its help text.  console.c dispatches keys
 * by looking them up here (no switch on key codes anywhere else), and the
 * help screen's key list is generated from the same table, so the two
 * cannot drift apart.  A context also names what happens to keys the table
 * does not list (its fallback), with help text of its own.
 *
 * keymap.c uses only curses' KEY_* constants (no curses calls): the unit
 * test tests/unit/test_keymap.c includes it without linking ncurses.
 * Ownership: the table is static const data; nothing to free.
 * Owner: the console engineer (h6).
 */
#ifndef MXS_KEYMAP_H
#define MXS_KEYMAP_H
#include <curses.h>
#include <stddef.h>

struct buf;

/* Key codes curses has no name for. */
#define KM_KEY_ESC 27
#define KM_KEY_DEL 127
#define KM_CTRL(c) ((c) & 0x1f)
/* The mouse as keys (codes above curses' own): console.c turns each
 * KEY_MOUSE event into one of these, so the mouse is in the table, and in
 * the help, like any key.  Where it happened is in the event (mouse.c). */
#define KM_MOUSE_CLICK (KEY_MAX + 1)
#define KM_MOUSE_DOUBLE (KEY_MAX + 2)
#define KM_WHEEL_UP (KEY_MAX + 3)
#define KM_WHEEL_DOWN (KEY_MAX + 4)

/* Where a key is pressed, in the order of the help screen.  The console
 * looks in this order: confirmation, overlay, prompt, command line, the
 * focused pane's own context, then KM_PANES (console_key). */
enum km_ctx {
    KM_PANES = 0,      /* every pane (the console's own keys) */
    KM_EXCHANGE,       /* one pane's own keys, tried before KM_PANES */
    KM_CHAIN,
    KM_FINDINGS,
    KM_PROMPT,         /* the Exchange's search prompt in the status bar */
    KM_CMDLINE,        /* the readline command line */
    KM_OVERLAY,        /* help, certificate, report, command output */
    KM_CONFIRM,        /* a yes/no question in the status bar */
    KM_DOMAINS,        /* the Domains view (domains_view.c) */
    KM_CTX_COUNT
};

enum km_action {
    KA_NONE = 0,       /* not bound: the context's fallback applies */
    /* console (KM_PANES) */
    KA_STEP, KA_RUN, KA_RESTART, KA_CANCEL, KA_FOCUS_NEXT, KA_FOCUS_PREV,
    KA_COMMAND, KA_HELP, KA_QUIT, KA_TYPE_COMMAND, KA_TIMELINE,
    /* the mouse, on the pane under the pointer */
    KA_MOUSE_FOCUS, KA_MOUSE_OPEN, KA_MOUSE_UP, KA_MOUSE_DOWN,
    /* panes and the overlay: movement */
    KA_UP, KA_DOWN, KA_PAGE_UP, KA_PAGE_DOWN, KA_TOP, KA_BOTTOM,
    KA_SEARCH, KA_MATCH_NEXT, KA_MATCH_PREV, KA_SEARCH_CLEAR, KA_OPEN,
    /* overlay */
    KA_CLOSE, KA_CLOSE_CANCEL, KA_IGNORE,
    /* line prompt */
    KA_PROMPT_ACCEPT, KA_PROMPT_ABORT, KA_PROMPT_ERASE, KA_PROMPT_TYPE,
    /* command line */
    KA_CL_RUN, KA_CL_ESC, KA_CL_INTR, KA_CL_DELETE, KA_CL_BACK, KA_CL_EDIT,
    /* confirmation */
    KA_YES, KA_NO,
    /* the Domains view */
    KA_DOMAINS,
    KA_COUNT
};

struct km_binding {
    int key;                   /* curses key code */
    enum km_ctx ctx;
    enum km_action action;
    const char *help;          /* never empty: the help screen shows it */
};

struct km_context {
    const char *title;         /* the help section's heading */
    enum km_action fallback;   /* for keys not in the table */
    const char *fallback_help; /* NULL when the fallback is KA_NONE */
};

extern const struct km_binding km_bindings[];
extern const int km_nbindings;
extern const struct km_context km_contexts[KM_CTX_COUNT];

/* The action bound to key in ctx, or the context's fallback (which may
 * still decline the key: KA_TYPE_COMMAND and KA_PROMPT_TYPE take only
 * printable ASCII). */
enum km_action keymap_lookup(enum km_ctx ctx, int key);
/* Only the table: KA_NONE when key is not bound in ctx. */
enum km_action keymap_bound(enum km_ctx ctx, int key);
/* A key's name as the help shows it ("Esc", "Ctrl-C", "PgUp", "q"). */
const char *keymap_key_name(int key, char *out, size_t outlen);
/* The name of the first key bound to action in ctx (the status bar's
 * hints), or NULL when none is. */
const char *keymap_action_key(enum km_ctx ctx, enum km_action action,
                              char *out, size_t outlen);
/* The key list of the help screen, one section per context.  Entries next
 * to each other with the same context and help text share a line. */
void keymap_help_text(struct buf *out);

#endif
