/*
 * domains_view.c - the console's Domains view: a list of partner domains
 * (`mxscope --domains LIST`, the `domains FILE` command) run by core's list
 * runner (core.h, "Domain lists") inside the console, one row per finished
 * domain, most urgent first; Enter opens the selected domain as the
 * session.  Owner: this file.
 *
 * How the list runs without blocking the console: the console's poll loop
 * calls domains_view_tick() on every pass, which calls mxs_domains_run(d, 0)
 * (advance everything, never wait) and takes the finished domains; while a
 * list runs the loop's timeout is capped at DV_TICK_MS.  Why not an API
 * exposing the runner's fds: mxs_domains_run() gathers them from every
 * engine of every domain in flight and applies its own deadlines between
 * two advances; handing them out would split that logic across the layer
 * boundary for a gain of at most DV_TICK_MS of latency per event, which an
 * operator watching a list does not see.
 *
 * The view is modal like the overlay (drawn over the panes, its own key
 * context KM_DOMAINS), but closing it keeps the list and its results: D or
 * `domains` with no file brings it back.  Esc / Ctrl-C cancel a running list
 * (mxs_domains_cancel: what finished stays), and close the view when
 * nothing runs.
 *
 * Ownership: the runner, the list's fd and every result (struct mxs_domain,
 * its survey included) are static here, freed by domains_view_free() or
 * when another list is opened.  Every name shown is escaped: a list line is
 * untrusted text.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "tui.h"

#define DV_CLS_REJECTED 3       /* after FAIL, WARN, OK                     */

struct dv_row {
    struct mxs_domain *r;
    int cls;                    /* enum mxs_domain_class, or DV_CLS_REJECTED */
    char label[400];            /* escaped: a-label (u-label) [settings]     */
    char finding[200];          /* the worst finding's id (rejected: why)    */
};

static struct dv_state {
    int open;                   /* the view is on screen                    */
    struct mxs_domains *d;
    int fd;
    int done;                   /* mxs_domains_run said finished            */
    int cancelled;
    char file[300];             /* escaped, for the title                   */
    struct dv_row *rows;
    int n, cap, sel, top;
    int moved;                  /* the operator moved the selection         */
    char search[128];           /* / in the view: case-insensitive          */
} dv = { .fd = -1 };
/* The runner's tuning for every list opened (domains_view_tune, which
 * console_run() calls before anything can open one). */
static struct mxs_domains_opts dv_tune;

int domains_view_is_open(void)
{
    return dv.open;
}

int domains_view_running(void)
{
    return dv.d && !dv.done;
}

void domains_view_free(void)
{
    for (int i = 0; i < dv.n; i++)
        mxs_domain_free(dv.rows[i].r);
    free(dv.rows);
    mxs_domains_free(dv.d);
    if (dv.fd >= 0)
        close(dv.fd);
    memset(&dv, 0, sizeof dv);
    dv.fd = -1;
}

/* The most severe finding of the probe the summary shows (or RESOLVE's),
 * and of the survey as a whole; the first of equals. */
static void dv_worst(const struct mxs_domain *r, char *out, size_t outlen)
{
    const struct engine *e = r->shown >= 0 ? survey_probe(r->survey, r->shown)
                                           : survey_resolver(r->survey);
    const struct mxs_finding *best = NULL;
    int n = 0;
    const struct mxs_finding *f = e ? engine_findings(e, &n) : NULL;
    for (int i = 0; f && i < n; i++)
        if (!best || f[i].severity > best->severity)
            best = &f[i];
    f = survey_findings(r->survey, &n);
    for (int i = 0; f && i < n; i++)
        if (!best || f[i].severity > best->severity)
            best = &f[i];
    if (!best || best->severity == MXS_SEV_INFO)
        snprintf(out, outlen, "-");
    else
        mxs_escape_str(best->id, out, outlen, 0);
}

static void dv_label(const struct mxs_domain *r, char *out, size_t outlen)
{
    struct buf b;
    buf_init(&b, 0);
    if (r->kind == MXS_DOMAIN_REJECTED) {
        buf_puts_escaped(&b, r->input);
        if (r->input_len > strlen(r->input))
            buf_puts(&b, "...");
    } else {
        buf_puts_escaped(&b, r->name);
        if (r->uname[0]) { /* the Unicode form beside the A-label */
            buf_puts(&b, " (");
            buf_puts_escaped(&b, r->uname);
            buf_puts(&b, ")");
        }
        if (r->options[0]) {
            buf_puts(&b, " [");
            buf_puts_escaped(&b, r->options);
            buf_puts(&b, "]");
        }
    }
    snprintf(out, outlen, "%s", b.failed ? "?" : buf_str(&b));
    buf_free(&b);
}

/* Most urgent first, as the batch summary: FAIL, WARN, ok; in each, no
 * certificate at all, then the leaf that expires first; then list order.
 * Rejected lines last. */
static int dv_cmp(const void *a, const void *b)
{
    const struct dv_row *x = a, *y = b;
    if (x->cls != y->cls)
        return x->cls < y->cls ? -1 : 1;
    if (x->r->has_leaf != y->r->has_leaf)
        return x->r->has_leaf ? 1 : -1;
    if (x->r->has_leaf && x->r->days_left != y->r->days_left)
        return x->r->days_left < y->r->days_left ? -1 : 1;
    return x->r->line < y->r->line ? -1 : x->r->line > y->r->line;
}

static void dv_add(struct mxs_domain *r)
{
    if (r->kind == MXS_DOMAIN_DUPLICATE) { /* its row is its first line's */
        mxs_domain_free(r);
        return;
    }
    if (dv.n == dv.cap) {
        int nc = dv.cap ? dv.cap * 2 : 64;
        struct dv_row *nr = realloc(dv.rows, (size_t)nc * sizeof *nr);
        if (!nr) {
            mxs_domain_free(r);
            return;
        }
        dv.rows = nr;
        dv.cap = nc;
    }
    struct mxs_domain *keep = dv.moved && dv.sel < dv.n ? dv.rows[dv.sel].r : NULL;
    struct dv_row *w = &dv.rows[dv.n++];
    memset(w, 0, sizeof *w);
    w->r = r;
    w->cls = r->kind == MXS_DOMAIN_REJECTED ? DV_CLS_REJECTED : (int)r->cls;
    dv_label(r, w->label, sizeof w->label);
    if (r->kind == MXS_DOMAIN_REJECTED)
        mxs_escape_str(r->why, w->finding, sizeof w->finding, 0);
    else
        dv_worst(r, w->finding, sizeof w->finding);
    qsort(dv.rows, (size_t)dv.n, sizeof *dv.rows, dv_cmp);
    /* Once the operator has moved it, the selection stays on its domain
     * while rows arrive; until then it stays on the most urgent one. */
    for (int i = 0; keep && i < dv.n; i++)
        if (dv.rows[i].r == keep)
            dv.sel = i;
}

void domains_view_tick(struct ui *ui)
{
    if (!dv.d || dv.done)
        return;
    int fin = mxs_domains_run(dv.d, 0);
    struct mxs_domain *r;
    while ((r = mxs_domains_next(dv.d))) {
        dv_add(r);
        ui->dirty = 1;
    }
    if (fin) {
        dv.done = 1;
        struct mxs_domains_stats st;
        mxs_domains_stats(dv.d, &st);
        ui_message(ui, 0, "list %s finished: %lu done, %lu failing, %lu warning, %lu rejected", dv.file, st.done,
                   st.failing, st.warning, st.rejected);
        ui->dirty = 1;
    }
}

static void dv_cancel(struct ui *ui)
{
    mxs_domains_cancel(dv.d);
    dv.cancelled = 1;
    domains_view_tick(ui); /* what finished before the cancel */
    dv.done = 1;
    struct mxs_domains_stats st;
    mxs_domains_stats(dv.d, &st);
    ui_message(ui, 0, "list cancelled: %lu finished, %lu running dropped", st.done, st.dropped);
    ui->dirty = 1;
}

void domains_view_tune(const struct mxs_domains_opts *o)
{
    if (o)
        dv_tune = *o;
    else
        mxs_domains_opts_init(&dv_tune);
}

int domains_view_open(struct ui *ui, const char *path, const struct mxs_settings *base)
{
    if (!path || !path[0]) {
        if (!dv.d) {
            ui_message(ui, 1, "no list open: domains FILE (one domain a line)");
            return -1;
        }
        dv.open = 1;
        ui->dirty = 1;
        return 0;
    }
    char shown[300], err[512];
    mxs_escape_str(path, shown, sizeof shown, 0);
    int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (fd < 0) {
        ui_message(ui, 1, "domains %s: %s", shown,
                   strcmp(path, "-") ? strerror(errno) : "the console reads a file, not stdin");
        return -1;
    }
    struct mxs_domains_opts o = dv_tune;
    struct mxs_settings s;
    if (base)
        s = *base;
    else
        mxs_settings_init(&s);
    s.target[0] = 0;
    s.target_is_host = 0;
    struct mxs_domains *d = mxs_domains_new(fd, &s, &o, err, sizeof err);
    if (!d) {
        char es[600];
        mxs_escape_str(err, es, sizeof es, 0);
        ui_message(ui, 1, "domains %s: %s", shown, es);
        close(fd);
        return -1;
    }
    domains_view_free();
    dv.d = d;
    dv.fd = fd;
    snprintf(dv.file, sizeof dv.file, "%s", shown);
    dv.open = 1;
    ui_message(ui, 0, "list %s: running (Esc cancels, q closes the view, D comes back)", shown);
    ui->dirty = 1;
    return 0;
}

/* Enter: the domain as the console's session, with its line's settings
 * (the RESOLVE engine's, which the runner made from the line), resolved at
 * once as `open DOMAIN` does; the operator steps on from there. */
static void dv_open_row(struct ui *ui)
{
    if (dv.sel < 0 || dv.sel >= dv.n)
        return;
    const struct mxs_domain *r = dv.rows[dv.sel].r;
    if (r->kind != MXS_DOMAIN_PROBED || !r->survey) {
        ui_message(ui, 1, "line %lu was not probed: %s", r->line, dv.rows[dv.sel].finding);
        return;
    }
    struct mxs_settings s = *engine_settings(survey_resolver(r->survey));
    s.stop_after = -1;
    mxs_settings_set(&s, "connect", "none", NULL, 0);
    mxs_settings_set(&s, "mx", "any", NULL, 0);
    mxs_settings_set(&s, "addr", "any", NULL, 0);
    struct engine *e = engine_new(&s);
    if (!e) {
        ui_message(ui, 1, "cannot create the engine (out of memory?)");
        return;
    }
    if (ui->cmd.engine && cmd_engine_busy(ui->cmd.engine))
        engine_cancel(ui->cmd.engine);
    cmd_ctx_adopt(&ui->cmd, e);
    ui->cmd.lab_scenario[0] = 0;
    panes_reset();
    ui->running = 0;
    ui->queued_steps = 0;
    engine_step(e); /* RESOLVE, then the operator steps */
    dv.open = 0;
    ui_message(ui, 0, "opened %s (line %lu of the list); D returns to the list", dv.rows[dv.sel].label,
               r->line);
    ui->dirty = 1;
}

static void dv_geometry(const struct ui *ui, int *y, int *x, int *h, int *w)
{
    *y = 1;
    *x = ui->cols >= 90 ? 3 : 1;
    *h = ui->rows - 3;
    *w = ui->cols - 2 * *x;
}

static const char *const dv_class_word[] = {"FAIL", "WARN", "ok", "REJECTED"};

static void dv_glyph(int cls, const char **g, attr_t *a)
{
    static const enum mxs_step_state st[] = {MXS_ST_FAIL, MXS_ST_WARN, MXS_ST_OK, MXS_ST_SKIPPED};
    static const enum role ro[] = {ROLE_ERROR, ROLE_WARN, ROLE_OK, ROLE_DIM};
    *g = screen_state_glyph(st[cls]);
    *a = screen_attr(ro[cls]);
}

void domains_view_draw(struct ui *ui)
{
    int y, x, h, w;
    dv_geometry(ui, &y, &x, &h, &w);
    if (h < 5 || w < 20)
        return;
    for (int i = 0; i < h; i++)
        mvhline(y + i, x, ' ', w);
    char title[400];
    snprintf(title, sizeof title, "Domains: %s  (Enter open, Esc cancel/close, q close, ? help)", dv.file);
    screen_box(y, x, h, w, title, 1);
    int inner = w - 4;
    struct mxs_domains_stats st;
    mxs_domains_stats(dv.d, &st);
    char line[1200], total[32];
    if (st.total == (unsigned long)-1)
        snprintf(total, sizeof total, "%lu+", st.done + st.running);
    else
        snprintf(total, sizeof total, "%lu", st.total);
    snprintf(line, sizeof line, "%lu/%s done, %lu failing, %lu warning, %lu running, %lu rejected - %s", st.done,
             total, st.failing, st.warning, st.running, st.rejected,
             dv.cancelled ? "CANCELLED (what finished is kept)" : dv.done ? "finished" : "running");
    screen_text(y + 1, x + 2, inner, line, screen_attr(dv.done ? ROLE_TITLE : ROLE_RUNNING));
    /* glyph, class, line, step and days are fixed; the domain and the
     * finding share the rest (an 80-column terminal keeps the days). */
    int avail = inner - 2 - 9 - 6 - 11 - 6;
    int findw = avail * 2 / 5 < 16 ? 16 : avail * 2 / 5 > 29 ? 29 : avail * 2 / 5;
    int namew = avail - findw - 1 < 12 ? 12 : avail - findw - 1;
    snprintf(line, sizeof line, "  %-8s %-5s %-*s %-10s %-*s %s", "class", "line", namew, "domain", "failed at",
             findw, "worst finding", "days");
    screen_text(y + 2, x + 2, inner, line, screen_attr(ROLE_TITLE));
    int vis = h - 5;
    if (dv.sel >= dv.n)
        dv.sel = dv.n ? dv.n - 1 : 0;
    if (dv.sel < dv.top)
        dv.top = dv.sel;
    if (dv.sel >= dv.top + vis)
        dv.top = dv.sel - vis + 1;
    for (int i = dv.top, row = 0; i < dv.n && row < vis; i++, row++) {
        const struct dv_row *rw = &dv.rows[i];
        const struct mxs_domain *r = rw->r;
        const char *g;
        attr_t ga;
        dv_glyph(rw->cls, &g, &ga);
        char name[800], days[16] = "-";
        screen_fit(rw->label, namew, name, sizeof name);
        int pad = namew - screen_width(name);
        if (r->kind == MXS_DOMAIN_PROBED && r->has_leaf)
            snprintf(days, sizeof days, "%d", r->days_left);
        const char *step = r->kind != MXS_DOMAIN_PROBED ? "-"
                           : r->deadline_passed ? "deadline"
                           : r->failed_step == MXS_STEP_NONE ? "-" : mxs_step_name(r->failed_step);
        char finding[200];
        screen_fit(rw->finding, findw, finding, sizeof finding);
        int fpad = findw - screen_width(finding);
        snprintf(line, sizeof line, "%-8s %-5lu %s%*s %-10s %s%*s %s", dv_class_word[rw->cls], r->line, name,
                 pad > 0 ? pad : 0, "", step, finding, fpad > 0 ? fpad : 0, "", days);
        /* ">" marks the selection without colours too (NO_COLOR, a dump). */
        attr_t a = i == dv.sel ? screen_attr(ROLE_SELECT) : A_NORMAL;
        screen_text(y + 3 + row, x + 1, 1, i == dv.sel ? ">" : " ", a);
        screen_text(y + 3 + row, x + 2, 2, g, i == dv.sel ? a : ga);
        screen_text(y + 3 + row, x + 4, inner - 2, line, a);
    }
    if (!dv.n)
        screen_text(y + 3, x + 4, inner - 2, dv.done ? "(no domain in the list)" : "(waiting for the first domain)",
                    screen_attr(ROLE_DIM));
}

/* The next row from the selection on (dir 1 or -1, round the end) whose
 * domain, class, step or finding has the search text: selected. */
static void dv_find(struct ui *ui, int dir)
{
    for (int k = 1; k <= dv.n; k++) {
        int i = ((dv.sel + dir * k) % dv.n + dv.n) % dv.n;
        const struct dv_row *rw = &dv.rows[i];
        const char *step = rw->r->failed_step == MXS_STEP_NONE ? "" : mxs_step_name(rw->r->failed_step);
        if (strcasestr(rw->label, dv.search) || strcasestr(rw->finding, dv.search) ||
            strcasestr(dv_class_word[rw->cls], dv.search) || (rw->r->kind == MXS_DOMAIN_PROBED &&
                                                              strcasestr(step, dv.search))) {
            ui_search_found(ui, i, dv.n, dir, dir > 0 ? i <= dv.sel : i >= dv.sel);
            dv.sel = i;
            dv.moved = 1;
            return;
        }
    }
    char es[140];
    mxs_escape_str(dv.search, es, sizeof es, 0);
    ui_message(ui, 1, "not found: %s", es);
}

static void dv_search_done(struct ui *ui, int accepted)
{
    if (accepted && dv.search[0] && dv.n)
        dv_find(ui, 1);
    ui->dirty = 1;
}

void domains_view_key(struct ui *ui, enum km_action a)
{
    int y, x, h, w;
    dv_geometry(ui, &y, &x, &h, &w);
    int vis = h - 5 > 1 ? h - 5 : 1;
    switch (a) {
    case KA_CANCEL:
        if (domains_view_running())
            dv_cancel(ui);
        else
            dv.open = 0;
        break;
    case KA_CLOSE:
        dv.open = 0;
        break;
    case KA_OPEN:
        dv_open_row(ui);
        break;
    case KA_HELP:
        console_exec(ui, "help");
        break;
    case KA_SEARCH:
        dv.search[0] = 0;
        prompt_open(ui, "search: /", dv.search, sizeof dv.search, dv_search_done);
        return;
    case KA_MATCH_NEXT: case KA_MATCH_PREV:
        if (!dv.search[0])
            ui_message(ui, 1, "no search: / starts one");
        else if (dv.n)
            dv_find(ui, a == KA_MATCH_NEXT ? 1 : -1);
        break;
    case KA_UP: case KA_DOWN: case KA_PAGE_UP: case KA_PAGE_DOWN:
        dv.moved = 1;
        dv.sel += a == KA_UP ? -1 : a == KA_DOWN ? 1 : a == KA_PAGE_UP ? -vis : vis;
        break;
    case KA_TOP: case KA_BOTTOM:
        dv.moved = 1;
        dv.sel = a == KA_TOP ? 0 : dv.n - 1;
        break;
    default:
        ui->dirty = 1;
        return; /* the view is modal */
    }
    if (dv.sel >= dv.n)
        dv.sel = dv.n - 1;
    if (dv.sel < 0)
        dv.sel = 0;
    ui->dirty = 1;
}
