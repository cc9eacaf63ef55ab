/*
 * keymap.c - the console's key table, its look-up and the help screen's
 * key list made from it (see keymap.h).
 *
 * One entry per key code: Enter arrives as '\r', '\n' or KEY_ENTER
 * depending on the terminal, so it has three entries with the same help,
 * which the help screen shows as one "Enter".  Adding a key means adding a
 * line here and handling its action where that context's actions are
 * handled (console.c, a pane's key op, overlay.c).
 * Owner: the console engineer (h6).
 */
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "keymap.h"

#define ENTER(ctx, act, help) \
    {'\r', ctx, act, help}, {'\n', ctx, act, help}, {KEY_ENTER, ctx, act, help}
/* The arrows with their vi letters, and the page keys. */
#define UP_K(ctx, help) {KEY_UP, ctx, KA_UP, help}, {'k', ctx, KA_UP, help}
#define DOWN_J(ctx, help) {KEY_DOWN, ctx, KA_DOWN, help}, {'j', ctx, KA_DOWN, help}
#define PAGES(ctx, help) {KEY_PPAGE, ctx, KA_PAGE_UP, help}, {KEY_NPAGE, ctx, KA_PAGE_DOWN, help}
#define HOME_G(ctx, help) {KEY_HOME, ctx, KA_TOP, help}, {'g', ctx, KA_TOP, help}
#define END_G(ctx, help) {KEY_END, ctx, KA_BOTTOM, help}, {'G', ctx, KA_BOTTOM, help}

const struct km_binding km_bindings[] = {
    /* Every pane: the console's own keys. */
    {'n', KM_PANES, KA_STEP, "run the next step (while one runs: queued, up to 9; Esc clears)"},
    {' ', KM_PANES, KA_STEP, "run the next step (while one runs: queued, up to 9; Esc clears)"},
    {'r', KM_PANES, KA_RUN, "run every remaining step; stops before QUIT (keep-open)"},
    {'R', KM_PANES, KA_RESTART, "restart from RESOLVE"},
    {KM_KEY_ESC, KM_PANES, KA_CANCEL, "cancel the running step (the console stays usable)"},
    {KM_CTRL('C'), KM_PANES, KA_CANCEL, "cancel the running step (the console stays usable)"},
    {'\t', KM_PANES, KA_FOCUS_NEXT, "move the focus round the panes: Steps, Exchange, Chain, Findings"},
    {KEY_BTAB, KM_PANES, KA_FOCUS_PREV, "move the focus back round the panes"},
    {':', KM_PANES, KA_COMMAND, "type a command"},
    {'?', KM_PANES, KA_HELP, "this help"},
    {'q', KM_PANES, KA_QUIT, "quit (asks when the session is not saved)"},
    {'D', KM_PANES, KA_DOMAINS, "back to the Domains view (a list opened with `domains FILE` or --domains)"},
    {'t', KM_PANES, KA_TIMELINE, "the timeline: each step's start, duration and a bar (live while a step runs)"},
    {KM_MOUSE_CLICK, KM_PANES, KA_MOUSE_FOCUS, "focus the pane under it; select a certificate, a finding, a step (its lines)"},
    {KM_MOUSE_DOUBLE, KM_PANES, KA_MOUSE_OPEN, "open what is under the pointer, as Enter does"},
    {KM_WHEEL_UP, KM_PANES, KA_MOUSE_UP, "scroll the pane under the pointer (--no-mouse: off; Shift+drag selects text)"},
    {KM_WHEEL_DOWN, KM_PANES, KA_MOUSE_DOWN, "scroll the pane under the pointer (--no-mouse: off; Shift+drag selects text)"},

    /* The Exchange pane. */
    UP_K(KM_EXCHANGE, "scroll up"),
    DOWN_J(KM_EXCHANGE, "scroll down (past the end: follow new lines)"),
    PAGES(KM_EXCHANGE, "page up, page down"),
    HOME_G(KM_EXCHANGE, "top"),
    END_G(KM_EXCHANGE, "follow the end"),
    {'/', KM_EXCHANGE, KA_SEARCH, "search (case-insensitive)"},
    {'n', KM_EXCHANGE, KA_MATCH_NEXT, "next match (with no search active, n runs the next step)"},
    {'N', KM_EXCHANGE, KA_MATCH_PREV, "previous match"},
    {KM_KEY_ESC, KM_EXCHANGE, KA_SEARCH_CLEAR, "clear the search (with no search active, Esc cancels)"},
    ENTER(KM_EXCHANGE, KA_OPEN, "the whole transcript, long lines wrapped"),

    /* The Chain pane. */
    UP_K(KM_CHAIN, "select the certificate above"),
    DOWN_J(KM_CHAIN, "select the certificate below"),
    HOME_G(KM_CHAIN, "select the leaf"),
    END_G(KM_CHAIN, "select the last certificate sent"),
    {KEY_PPAGE, KM_CHAIN, KA_PAGE_UP, "select the leaf"},
    {KEY_NPAGE, KM_CHAIN, KA_PAGE_DOWN, "select the last certificate sent"},
    ENTER(KM_CHAIN, KA_OPEN, "certificate detail (every field, SHA-1, SHA-256, verify flags)"),

    /* The Findings pane. */
    UP_K(KM_FINDINGS, "scroll up"),
    DOWN_J(KM_FINDINGS, "scroll down"),
    PAGES(KM_FINDINGS, "page up, page down"),
    HOME_G(KM_FINDINGS, "top"),
    END_G(KM_FINDINGS, "end"),
    ENTER(KM_FINDINGS, KA_OPEN, "the full report"),

    /* The search prompt (after / in the Exchange). */
    ENTER(KM_PROMPT, KA_PROMPT_ACCEPT, "search forward from the top line in view"),
    {KM_KEY_ESC, KM_PROMPT, KA_PROMPT_ABORT, "drop the search"},
    {KM_CTRL('C'), KM_PROMPT, KA_PROMPT_ABORT, "drop the search"},
    {KEY_BACKSPACE, KM_PROMPT, KA_PROMPT_ERASE, "delete the last character"},
    {KM_KEY_DEL, KM_PROMPT, KA_PROMPT_ERASE, "delete the last character"},
    {KM_CTRL('H'), KM_PROMPT, KA_PROMPT_ERASE, "delete the last character"},

    /* The command line (GNU readline). */
    ENTER(KM_CMDLINE, KA_CL_RUN, "run the command, then return to the panes"),
    {'\t', KM_CMDLINE, KA_CL_EDIT, "complete commands, settings, values, lab scenarios, MX hosts, files"},
    {KEY_UP, KM_CMDLINE, KA_CL_EDIT, "history"},
    {KEY_DOWN, KM_CMDLINE, KA_CL_EDIT, "history"},
    {KM_KEY_ESC, KM_CMDLINE, KA_CL_ESC, "back to the panes (cancels first if a step is running)"},
    {KEY_BTAB, KM_CMDLINE, KA_CL_BACK, "back to the panes"},
    {KM_CTRL('C'), KM_CMDLINE, KA_CL_INTR, "cancel a running step, else clear the line"},
    {KM_CTRL('D'), KM_CMDLINE, KA_CL_DELETE, "delete the character under the cursor (nothing on an empty line)"},
    PAGES(KM_CMDLINE, "scroll the Exchange"),

    /* Overlays: help, certificate, report, command output. */
    {'q', KM_OVERLAY, KA_CLOSE, "close"},
    {KM_KEY_ESC, KM_OVERLAY, KA_CLOSE, "close"},
    ENTER(KM_OVERLAY, KA_CLOSE, "close"),
    {KM_CTRL('C'), KM_OVERLAY, KA_CLOSE_CANCEL, "close, and cancel a running step"},
    UP_K(KM_OVERLAY, "scroll up"),
    {KM_WHEEL_UP, KM_OVERLAY, KA_UP, "scroll up"},
    DOWN_J(KM_OVERLAY, "scroll down"),
    {' ', KM_OVERLAY, KA_DOWN, "scroll down"},
    {KM_WHEEL_DOWN, KM_OVERLAY, KA_DOWN, "scroll down"},
    {KEY_PPAGE, KM_OVERLAY, KA_PAGE_UP, "page up"},
    {'b', KM_OVERLAY, KA_PAGE_UP, "page up"},
    {KEY_NPAGE, KM_OVERLAY, KA_PAGE_DOWN, "page down"},
    HOME_G(KM_OVERLAY, "top"),
    END_G(KM_OVERLAY, "end"),
    {'/', KM_OVERLAY, KA_SEARCH, "search (case-insensitive); the match is highlighted"},
    {'n', KM_OVERLAY, KA_MATCH_NEXT, "next match (at the end: continues at the top, and says so)"},
    {'N', KM_OVERLAY, KA_MATCH_PREV, "previous match"},

    /* The Domains view (a list of partner domains). */
    UP_K(KM_DOMAINS, "select the domain above"),
    DOWN_J(KM_DOMAINS, "select the domain below"),
    PAGES(KM_DOMAINS, "page up, page down"),
    HOME_G(KM_DOMAINS, "the first (most urgent) domain"),
    END_G(KM_DOMAINS, "the last domain"),
    ENTER(KM_DOMAINS, KA_OPEN, "open the selected domain as the session (its line's settings), to step through it"),
    {KM_KEY_ESC, KM_DOMAINS, KA_CANCEL, "cancel the list while it runs (what finished stays), else close the view"},
    {KM_CTRL('C'), KM_DOMAINS, KA_CANCEL, "cancel the list while it runs (what finished stays), else close the view"},
    {'/', KM_DOMAINS, KA_SEARCH, "search the rows (domain, class, step, finding; case-insensitive): selects the match"},
    {'n', KM_DOMAINS, KA_MATCH_NEXT, "next match (round the end: says so)"},
    {'N', KM_DOMAINS, KA_MATCH_PREV, "previous match"},
    {'q', KM_DOMAINS, KA_CLOSE, "close the view (the list keeps running; D comes back)"},
    {'?', KM_DOMAINS, KA_HELP, "this help"},

    /* A question in the status bar ("Quit anyway?", "send DATA?"). */
    {'y', KM_CONFIRM, KA_YES, "yes"},
    {'Y', KM_CONFIRM, KA_YES, "yes"},
};

const int km_nbindings = (int)(sizeof km_bindings / sizeof km_bindings[0]);

const struct km_context km_contexts[KM_CTX_COUNT] = {
    [KM_PANES] = {"Keys (panes)", KA_TYPE_COMMAND,
                  "start a command with that letter (printable keys)"},
    [KM_EXCHANGE] = {"Keys (Exchange)", KA_NONE, NULL},
    [KM_CHAIN] = {"Keys (Chain)", KA_NONE, NULL},
    [KM_FINDINGS] = {"Keys (Findings)", KA_NONE, NULL},
    [KM_PROMPT] = {"Keys (search prompt, after /)", KA_PROMPT_TYPE,
                   "typed into the search (printable keys)"},
    [KM_CMDLINE] = {"Keys (command line)", KA_CL_EDIT,
                    "readline editing (your ~/.inputrc applies)"},
    [KM_OVERLAY] = {"Keys (help, certificate, report, command output)", KA_IGNORE,
                    "ignored: the view stays until it is closed"},
    [KM_CONFIRM] = {"Keys (a question in the status bar)", KA_NO, "no"},
    [KM_DOMAINS] = {"Keys (Domains view)", KA_IGNORE, "ignored"},
};

enum km_action keymap_bound(enum km_ctx ctx, int key)
{
    for (int i = 0; i < km_nbindings; i++)
        if (km_bindings[i].ctx == ctx && km_bindings[i].key == key)
            return km_bindings[i].action;
    return KA_NONE;
}

enum km_action keymap_lookup(enum km_ctx ctx, int key)
{
    enum km_action a = keymap_bound(ctx, key);
    if (a != KA_NONE || ctx < 0 || ctx >= KM_CTX_COUNT)
        return a;
    a = km_contexts[ctx].fallback;
    /* The typing fallbacks take text, not function or control keys. */
    if (a == KA_TYPE_COMMAND && !(key >= 0x21 && key < 0x7f))
        return KA_NONE;
    if (a == KA_PROMPT_TYPE && !(key >= 0x20 && key < 0x7f))
        return KA_NONE;
    return a;
}

const char *keymap_key_name(int key, char *out, size_t outlen)
{
    const char *n = NULL;
    switch (key) {
    case ' ': n = "Space"; break;
    case KM_KEY_ESC: n = "Esc"; break;
    case '\t': n = "Tab"; break;
    case '\r': case '\n': case KEY_ENTER: n = "Enter"; break;
    case KEY_BTAB: n = "Shift-Tab"; break;
    case KEY_UP: n = "Up"; break;
    case KEY_DOWN: n = "Down"; break;
    case KEY_LEFT: n = "Left"; break;
    case KEY_RIGHT: n = "Right"; break;
    case KEY_PPAGE: n = "PgUp"; break;
    case KEY_NPAGE: n = "PgDn"; break;
    case KEY_HOME: n = "Home"; break;
    case KEY_END: n = "End"; break;
    case KEY_DC: n = "Delete"; break;
    case KEY_BACKSPACE: case KM_KEY_DEL: n = "Backspace"; break;
    case KM_MOUSE_CLICK: n = "Click"; break;
    case KM_MOUSE_DOUBLE: n = "Double-click"; break;
    case KM_WHEEL_UP: n = "Wheel up"; break;
    case KM_WHEEL_DOWN: n = "Wheel down"; break;
    default: break;
    }
    if (n)
        snprintf(out, outlen, "%s", n);
    else if (key >= 1 && key <= 26)
        snprintf(out, outlen, "Ctrl-%c", 'A' + key - 1);
    else if (key > 0x20 && key < 0x7f)
        snprintf(out, outlen, "%c", key);
    else
        snprintf(out, outlen, "key %d", key);
    return out;
}

const char *keymap_action_key(enum km_ctx ctx, enum km_action action,
                              char *out, size_t outlen)
{
    for (int i = 0; i < km_nbindings; i++)
        if (km_bindings[i].ctx == ctx && km_bindings[i].action == action)
            return keymap_key_name(km_bindings[i].key, out, outlen);
    return NULL;
}

#define KM_HELP_KEYCOL 17

static void keymap_help_line(struct buf *out, const char *keys, const char *help)
{
    buf_printf(out, "  %-*s ", KM_HELP_KEYCOL, keys);
    buf_puts(out, help);
    buf_puts(out, "\n");
}

void keymap_help_text(struct buf *out)
{
    int first = 1;
    for (int c = 0; c < KM_CTX_COUNT; c++) {
        const struct km_context *kc = &km_contexts[c];
        int any = kc->fallback_help != NULL;
        for (int i = 0; !any && i < km_nbindings; i++)
            any = km_bindings[i].ctx == (enum km_ctx)c;
        if (!any)
            continue;
        buf_printf(out, "%s%s\n", first ? "" : "\n", kc->title);
        first = 0;
        for (int i = 0; i < km_nbindings; ) {
            const struct km_binding *b = &km_bindings[i];
            if (b->ctx != (enum km_ctx)c) {
                i++;
                continue;
            }
            /* Neighbours with the same help share a line: "n, Space". */
            char keys[128] = "", name[32];
            int j = i;
            for (; j < km_nbindings && km_bindings[j].ctx == b->ctx &&
                   !strcmp(km_bindings[j].help, b->help); j++) {
                keymap_key_name(km_bindings[j].key, name, sizeof name);
                int dup = 0;
                for (int k = i; k < j && !dup; k++) {
                    char prev[32];
                    dup = !strcmp(keymap_key_name(km_bindings[k].key, prev, sizeof prev), name);
                }
                if (!dup) {
                    size_t l = strlen(keys);
                    snprintf(keys + l, sizeof keys - l, "%s%s", l ? ", " : "", name);
                }
            }
            keymap_help_line(out, keys, b->help);
            i = j;
        }
        if (kc->fallback_help)
            keymap_help_line(out, "other keys", kc->fallback_help);
    }
}
