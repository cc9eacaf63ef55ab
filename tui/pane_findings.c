/*
 * pane_findings.c - the Findings & verdict pane: the verdict per sender
 * policy, then each finding with its advice, word-wrapped to the pane;
 * Enter opens the full report in the overlay.
 * Owner: the console engineer (h6).
 */
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "tui.h"

static struct findings_state {
    struct rect r;
    int top;                      /* first line shown */
    int sel;                      /* the finding a click selected, -1 */
    int first[MXS_MAX_FINDINGS + 1]; /* its first line, as last drawn */
    int nf;
} fs;

static void findings_create(void)
{
    fs = (struct findings_state){.sel = -1};
}

static void findings_reset(void)
{
    fs.top = 0;
    fs.sel = -1;
}

static void findings_resize(struct rect r)
{
    fs.r = r;
}

static const char *outcome_short(enum mxs_outcome o)
{
    switch (o) {
    case MXS_OUT_ENCRYPTED: return "encrypted";
    case MXS_OUT_CLEAR: return "in clear";
    case MXS_OUT_NOT_DELIVERED: return "not delivered";
    default: return "-";
    }
}

/* Diagnosis text (diag.c escapes it to printable ASCII with '\n' as its
 * own line break) word-wrapped to the pane: an operator reads the advice
 * whole, not cut at the border.  Anything else in it (a bug) is escaped. */
static void wrap_add(struct buf *b, const char *text, int width, const char *first,
                     const char *indent, int *lines)
{
    int ind = (int)strlen(indent);
    const char *pfx = first;
    if (width < ind + 20)
        width = ind + 20;
    for (const char *p = text; ; ) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        for (;;) {
            int room = width - (int)strlen(pfx);
            size_t take = len;
            if ((int)take > room) {
                take = (size_t)room;
                while (take > 0 && p[take] != ' ')
                    take--;
                if (take == 0)
                    take = (size_t)room; /* one long word: cut it */
            }
            buf_puts(b, pfx);
            int safe = 1;
            for (size_t i = 0; i < take; i++)
                if (p[i] < 0x20 || p[i] > 0x7e)
                    safe = 0;
            if (safe)
                buf_add(b, p, take);
            else
                buf_add_escaped(b, p, take, 0);
            buf_puts(b, "\n");
            (*lines)++;
            pfx = indent;
            p += take;
            len -= take;
            while (len && *p == ' ') {
                p++;
                len--;
            }
            if (!len)
                break;
        }
        if (!nl)
            break;
        p = nl + 1;
    }
}

/* The findings pane's lines, escaped: verdict first, then each finding and
 * its advice. */
static int findings_lines(struct ui *ui, struct buf *b, int pw, int *verdict_rows)
{
    struct engine *e = ui->cmd.engine;
    int lines = 0;
    *verdict_rows = 0;
    if (!e)
        return 0;
    const struct mxs_verdict *v = engine_verdicts(e);
    if (v) {
        /* Never cut: a policy's words that do not fit go whole to the next
         * row, under the first (at 80 columns "verified: not delivered
         * (CHAIN)" is read whole, not "NOT DELIVER"). */
        int col = 8;
        buf_puts(b, "Verdict:");
        for (int p = 0; p < MXS_POL_COUNT; p++) {
            char item[96];
            int n = snprintf(item, sizeof item, "%s: %s", mxs_policy_name((enum mxs_policy)p),
                             outcome_short(v[p].outcome));
            if (v[p].outcome == MXS_OUT_NOT_DELIVERED && v[p].step != MXS_STEP_NONE && n > 0 &&
                (size_t)n < sizeof item)
                snprintf(item + n, sizeof item - (size_t)n, " (%s)", mxs_step_name(v[p].step));
            int iw = (int)strlen(item);
            if (col > 8 && col + 2 + iw > pw) {
                buf_puts(b, "\n        ");
                lines++;
                col = 8;
            }
            buf_printf(b, "  %s", item);
            col += 2 + iw;
        }
        buf_puts(b, "\n");
        lines++;
        *verdict_rows = lines;
    }
    int n = 0;
    const struct mxs_finding *f = engine_findings(e, &n);
    int width = pw;
    fs.nf = 0;
    for (int i = 0; f && i < n; i++) {
        char head[80];
        if (i < MXS_MAX_FINDINGS) {
            fs.first[i] = lines;
            fs.nf = i + 1;
        }
        snprintf(head, sizeof head, "%c %s: ",
                 f[i].severity == MXS_SEV_ERROR ? 'E' : f[i].severity == MXS_SEV_WARNING ? 'W' : 'i', f[i].id);
        wrap_add(b, f[i].message, width, head, "  ", &lines);
        if (f[i].advice[0]) {
            wrap_add(b, f[i].advice, width, "    -> ", "       ", &lines);
        }
    }
    fs.first[fs.nf] = lines;
    if (n == 0) {
        buf_puts(b, engine_finished(e) ? "(no findings: nothing wrong was seen)\n" : "(no findings yet)\n");
        lines++;
    }
    return lines;
}

/* The rows the pane's content takes at inner width w (the layout sizes the
 * pane from it); *must: the verdict's rows, never cut. */
static int findings_want(struct ui *ui, int w, int *must)
{
    struct buf b;
    buf_init(&b, 1u << 20);
    int n = findings_lines(ui, &b, w, must);
    buf_free(&b);
    return n;
}

static void findings_draw(struct ui *ui, int focused)
{
    struct rect r = fs.r;
    struct buf b;
    int must;
    buf_init(&b, 1u << 20);
    int n = findings_lines(ui, &b, r.w - 2, &must);
    int vis = r.h - 2;
    if (fs.top > n - vis)
        fs.top = n - vis;
    if (fs.top < 0)
        fs.top = 0;
    /* What does not fit is never silently missing: the title says which
     * rows are in view, as the Exchange's does. */
    char title[80] = "Findings & verdict";
    if (n > vis && vis > 0)
        snprintf(title, sizeof title, "Findings & verdict %d-%d/%d", fs.top + 1,
                 fs.top + vis < n ? fs.top + vis : n, n);
    screen_box(r.y, r.x, r.h, r.w, title, focused);
    const char *p = b.data ? b.data : "";
    for (int i = 0; *p && i < fs.top + vis; i++) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (i >= fs.top) {
            char line[2048];
            if (len >= sizeof line)
                len = sizeof line - 1;
            memcpy(line, p, len);
            line[len] = 0;
            enum role role = line[0] == 'E' && line[1] == ' ' ? ROLE_ERROR :
                             line[0] == 'W' && line[1] == ' ' ? ROLE_WARN :
                             !strncmp(line, "Verdict", 7) ? ROLE_TITLE :
                             line[0] == ' ' ? ROLE_DIM : ROLE_NORMAL;
            attr_t a = screen_attr(role);
            /* The finding a click selected: its rows highlighted. */
            if (focused && fs.sel >= 0 && fs.sel < fs.nf && i >= fs.first[fs.sel] &&
                i < fs.first[fs.sel + 1]) {
                a = screen_attr(ROLE_SELECT);
                mvhline(r.y + 1 + i - fs.top, r.x + 1, ' ' | a, r.w - 2);
            }
            screen_text(r.y + 1 + i - fs.top, r.x + 1, r.w - 2, line, a);
        }
        p = nl ? nl + 1 : p + len;
    }
    buf_free(&b);
}

/* A click selects the finding on that row (its message or its advice). */
static void findings_click(struct ui *ui, int row, int col)
{
    (void)ui;
    (void)col;
    int line = fs.top + row;
    fs.sel = -1;
    for (int i = 0; i < fs.nf; i++)
        if (line >= fs.first[i] && line < fs.first[i + 1])
            fs.sel = i;
}

static int findings_key(struct ui *ui, enum km_action a)
{
    int vis = fs.r.h - 2;
    switch (a) {
    case KA_UP: fs.top--; break;
    case KA_DOWN: fs.top++; break;
    case KA_PAGE_UP: fs.top -= vis; break;
    case KA_PAGE_DOWN: fs.top += vis; break;
    case KA_TOP: fs.top = 0; break;
    case KA_BOTTOM: fs.top = 1 << 20; break;  /* clamped to the last screenful when drawn */
    case KA_OPEN: {
        struct engine *e = ui->cmd.engine;
        if (!e)
            return 1;
        struct buf b;
        buf_init(&b, 1u << 20);
        render_report_text(e, &b);
        overlay_open(ui, "Step-by-step report (as --batch prints it)", b.data ? b.data : "");
        buf_free(&b);
        /* Opened on the finding a click selected. */
        int nf = 0;
        const struct mxs_finding *f = engine_findings(e, &nf);
        if (f && fs.sel >= 0 && fs.sel < nf) {
            char id[96];
            snprintf(id, sizeof id, " %s ", f[fs.sel].id);
            overlay_find(ui, id);
        }
        break;
    }
    default:
        return 0;
    }
    ui->dirty = 1;
    return 1;
}

const struct pane_ops pane_findings = {
    .keys = KM_FINDINGS,
    .create = findings_create,
    .reset = findings_reset,
    .resize = findings_resize,
    .draw = findings_draw,
    .key = findings_key,
    .want = findings_want,
    .click = findings_click,
};
