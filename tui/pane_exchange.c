/*
 * pane_exchange.c - the Exchange pane: the transcript, one line per record,
 * coloured by direction; it follows the end unless scrolled up, searches
 * (/ n N, the search string typed in the status bar's prompt), and Enter
 * shows the whole transcript wrapped in the overlay.
 *
 * Lines are rendered once (render_record_line escapes them) and kept here
 * until the engine is replaced; they are synced from the engine's record
 * list when drawn or searched.
 * Owner: the console engineer (h6).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core.h"
#include "tui.h"

#define XL_MAX 200000   /* exchange lines kept for display */

struct xline { char *text; unsigned char kind; };

static struct exchange_state {
    struct rect r;
    struct xline *xl;
    size_t n, cap;
    const struct engine *engine;  /* whose records xl holds */
    int top, follow;
    char search[128];
    int hit;                      /* line of the current match, -1 none */
} ex;

static void xl_clear(void)
{
    for (size_t i = 0; i < ex.n; i++)
        free(ex.xl[i].text);
    free(ex.xl);
    ex.xl = NULL;
    ex.n = ex.cap = 0;
    ex.engine = NULL;
}

static void xl_sync(struct ui *ui)
{
    struct engine *e = ui->cmd.engine;
    if (!e) {
        xl_clear();
        return;
    }
    size_t n = engine_record_count(e);
    if (ex.engine != e || n < ex.n) {
        xl_clear();
        ex.engine = e;
        ex.hit = -1;
    }
    for (size_t i = ex.n; i < n && ex.n < XL_MAX; i++) {
        const struct mxs_record *rec = engine_record(e, i);
        if (!rec)
            break;
        if (ex.n == ex.cap) {
            size_t nc = ex.cap ? ex.cap * 2 : 256;
            struct xline *nx = realloc(ex.xl, nc * sizeof *nx);
            if (!nx)
                return;
            ex.xl = nx;
            ex.cap = nc;
        }
        struct buf b;
        buf_init(&b, 64 * 1024);
        render_record_line(rec, &b);
        ex.xl[ex.n].text = b.data ? b.data : calloc(1, 1);
        ex.xl[ex.n].kind = (unsigned char)rec->kind;
        if (!ex.xl[ex.n].text)
            return;
        ex.n++;
    }
}

static enum role kind_role(int kind)
{
    switch (kind) {
    case MXS_REC_SMTP_OUT: return ROLE_CLIENT;
    case MXS_REC_SMTP_IN: return ROLE_SERVER;
    case MXS_REC_DNS: return ROLE_DNS;
    case MXS_REC_TLS_IN: case MXS_REC_TLS_OUT: case MXS_REC_TLS_INFO:
    case MXS_REC_CERT: return ROLE_TLS;
    case MXS_REC_ERROR: return ROLE_ERROR;
    case MXS_REC_FINDING: return ROLE_WARN;
    case MXS_REC_STEP: return ROLE_TITLE;
    default: return ROLE_NOTE;
    }
}

static int xl_visible(void)
{
    int v = ex.r.h - 2;
    return v < 1 ? 1 : v;
}

/* ---- ops ------------------------------------------------------------------ */

static void exchange_create(void)
{
    memset(&ex, 0, sizeof ex);
    ex.follow = 1;
    ex.hit = -1;
}

static void exchange_destroy(void)
{
    xl_clear();
}

/* A new engine (open, load, restart): its transcript from the end, and no
 * search: a match in another session's transcript means nothing here. */
static void exchange_reset(void)
{
    xl_clear();
    ex.follow = 1;
    ex.top = 0;
    ex.hit = -1;
    ex.search[0] = 0;
}

static void exchange_resize(struct rect r)
{
    ex.r = r;
}

static void exchange_draw(struct ui *ui, int focused)
{
    struct rect r = ex.r;
    char title[200];
    xl_sync(ui);
    int vis = xl_visible();
    int n = (int)ex.n;
    if (ex.follow || ex.top > n - vis)
        ex.top = n - vis;
    if (ex.top < 0)
        ex.top = 0;
    char where[48] = "";
    if (n > vis)
        snprintf(where, sizeof where, " %d-%d/%d", ex.top + 1,
                 ex.top + vis < n ? ex.top + vis : n, n);
    if (ex.search[0]) {
        char es[100];
        mxs_escape_str(ex.search, es, sizeof es, 0);
        snprintf(title, sizeof title, "Exchange%s /%s", where, es);
    } else {
        snprintf(title, sizeof title, "Exchange%s", where);
    }
    screen_box(r.y, r.x, r.h, r.w, title, focused);
    if (!ui->cmd.engine) {
        static const char *const hint[] = {
            "Nothing is open yet.",
            "",
            "  :open example.org         probe a mail domain (MX lookup)",
            "  :open host mx.example.org:25",
            "  :open lab:good            the built-in lab (also lab:expired ...)",
            "  :load FILE.json           replay a saved session",
            "",
            "Press ? for every key and command.",
        };
        for (int i = 0; i < (int)(sizeof hint / sizeof hint[0]) && i < r.h - 2; i++)
            screen_text(r.y + 1 + i, r.x + 2, r.w - 3, hint[i],
                        i == 0 ? screen_attr(ROLE_TITLE) : A_NORMAL);
        return;
    }
    for (int i = 0; i < vis && ex.top + i < n; i++) {
        const struct xline *l = &ex.xl[ex.top + i];
        attr_t a = screen_attr(kind_role(l->kind));
        if (ex.top + i == ex.hit)
            a = screen_attr(ROLE_MATCH);
        screen_text(r.y + 1 + i, r.x + 1, r.w - 2, l->text, a);
    }
}

/* ---- search ------------------------------------------------------------------ */

/* The next line matching from `from` in direction dir, round the end;
 * *wrapped says the search went round. */
static int exchange_find(int from, int dir, int *wrapped)
{
    int n = (int)ex.n;
    if (!ex.search[0] || n == 0)
        return -1;
    for (int k = 0; k < n; k++) {
        int i = from + dir * k;
        *wrapped = i >= n || i < 0;
        i = (i % n + n) % n;
        if (strcasestr(ex.xl[i].text, ex.search))
            return i;
    }
    return -1;
}

static void exchange_goto_match(struct ui *ui, int from, int dir)
{
    xl_sync(ui);
    int wrapped = 0;
    int i = exchange_find(from, dir, &wrapped);
    if (i < 0) {
        char es[100];
        mxs_escape_str(ex.search, es, sizeof es, 0);
        ui_message(ui, 1, "not found: %s", es);
        ex.hit = -1;
        return;
    }
    ex.hit = i;
    ex.follow = 0;
    int vis = xl_visible();
    if (i < ex.top || i >= ex.top + vis)
        ex.top = i - vis / 3;
    if (ex.top < 0)
        ex.top = 0;
    ui_search_found(ui, i, (int)ex.n, dir, wrapped);
}

/* The prompt edited ex.search in place (the title shows it as typed). */
static void exchange_search_done(struct ui *ui, int accepted)
{
    if (!accepted) {
        ex.search[0] = 0;
        ex.hit = -1;
    } else if (ex.search[0]) {
        exchange_goto_match(ui, ex.top + (ex.hit >= 0 ? 1 : 0), 1);
    }
}

/* The Exchange from where step s last started (a click on its row in the
 * Steps pane): the line of its "started" record on top, not following. */
void exchange_goto_step(struct ui *ui, enum mxs_step s)
{
    struct engine *e = ui->cmd.engine;
    xl_sync(ui);
    int at = -1;
    for (size_t i = 0; e && i < ex.n; i++) {
        const struct mxs_record *rec = engine_record(e, i);
        if (rec && rec->kind == MXS_REC_STEP && rec->step == s)
            if (at < 0 || strstr((const char *)rec->data, " started"))
                at = (int)i;
    }
    if (at < 0) {
        ui_message(ui, 0, "%s has no lines yet", mxs_step_name(s));
        return;
    }
    ex.top = at;
    ex.follow = 0;
    ui_message(ui, 0, "Exchange at %s: line %d of %zu", mxs_step_name(s), at + 1, ex.n);
}

/* ---- keys ----------------------------------------------------------------------- */

static void exchange_open_transcript(struct ui *ui)
{
    /* Long lines are cut at the pane's edge: Enter shows the whole
     * transcript wrapped, opened at the first line in view (the text
     * transcript has 3 header lines, then one line per record). */
    struct buf b;
    buf_init(&b, 16u << 20);
    render_transcript_text(ui->cmd.engine, &b);
    overlay_open(ui, "Transcript (whole lines)", buf_str(&b));
    buf_free(&b);
    overlay_scroll_to(ex.top + 3);
}

static int exchange_key(struct ui *ui, enum km_action a)
{
    int vis = xl_visible();
    int n = (int)ex.n;
    switch (a) {
    case KA_UP: ex.top--; ex.follow = 0; break;
    case KA_DOWN: ex.top++; break;
    case KA_PAGE_UP: ex.top -= vis - 1; ex.follow = 0; break;
    case KA_PAGE_DOWN: ex.top += vis - 1; break;
    case KA_TOP: ex.top = 0; ex.follow = 0; break;
    case KA_BOTTOM: ex.follow = 1; break;
    case KA_SEARCH:
        ex.search[0] = 0;
        ex.hit = -1;
        prompt_open(ui, "search: /", ex.search, sizeof ex.search, exchange_search_done);
        break;
    case KA_OPEN:
        if (ui->cmd.engine)
            exchange_open_transcript(ui);
        return 1;
    case KA_SEARCH_CLEAR:
        if (!ex.search[0])
            return 0; /* Esc cancels when there is no search to clear */
        ex.search[0] = 0;
        ex.hit = -1;
        ui_message(ui, 0, "search cleared: n steps again");
        break;
    case KA_MATCH_NEXT: case KA_MATCH_PREV: {
        if (!ex.search[0])
            return 0; /* n steps when there is nothing to search for */
        int dir = a == KA_MATCH_NEXT ? 1 : -1;
        exchange_goto_match(ui, (ex.hit >= 0 ? ex.hit : ex.top) + dir, dir);
        break;
    }
    default:
        return 0;
    }
    if (ex.top < 0)
        ex.top = 0;
    if (ex.top >= n - vis) {
        ex.top = n - vis < 0 ? 0 : n - vis;
        if (a == KA_DOWN || a == KA_PAGE_DOWN)
            ex.follow = 1;
    }
    ui->dirty = 1;
    return 1;
}

/* During a search n and N mean next and previous match and Esc clears it:
 * the status bar says so, and that Space still steps. */
static const struct key_hint *exchange_hints(size_t *n)
{
    static const struct key_hint searching[] = {
        {KM_EXCHANGE, KA_MATCH_NEXT, "next match", NULL}, {KM_EXCHANGE, KA_MATCH_PREV, "previous", NULL},
        {KM_EXCHANGE, KA_SEARCH_CLEAR, "clear search", NULL}, {KM_PANES, KA_STEP, "step", "Space"},
        {KM_PANES, KA_RUN, "run", NULL}, {KM_PANES, KA_FOCUS_NEXT, "focus", NULL},
        {KM_PANES, KA_COMMAND, "cmd", NULL}, {KM_PANES, KA_HELP, "help", NULL},
    };
    if (!ex.search[0])
        return NULL;
    *n = sizeof searching / sizeof searching[0];
    return searching;
}

const struct pane_ops pane_exchange = {
    .keys = KM_EXCHANGE,
    .hints = exchange_hints,
    .create = exchange_create,
    .destroy = exchange_destroy,
    .reset = exchange_reset,
    .resize = exchange_resize,
    .draw = exchange_draw,
    .key = exchange_key,
};
