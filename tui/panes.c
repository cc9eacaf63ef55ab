/*
 * panes.c - the console's panes, each behind struct pane_ops, plus the
 * overlay text view (help, certificate detail, command output), the status
 * bar and the layout.
 *
 * Every string that came from the network or a certificate reaches the
 * screen through mxs_escape() (directly, or through render_record_line /
 * render_cert_detail which escape).  Drawing is a full repaint of stdscr
 * each time something changed; curses sends only the differences.
 * Owner: the console engineer (h6).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wchar.h>

#include "core.h"
#include "tui.h"

#define XL_MAX 200000   /* exchange lines kept for display */

static struct engine *ui_engine(struct ui *ui)
{
    return ui->cmd.engine;
}

void ui_message(struct ui *ui, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ui->msg, sizeof ui->msg, fmt, ap);
    va_end(ap);
    /* One line in the status bar: the rest goes to an output view. */
    char *nl = strchr(ui->msg, '\n');
    if (nl)
        *nl = 0;
    ui->msg_err = err;
    ui->dirty = 1;
}

/* Bytes of escaped UTF-8 text s that fit in maxw columns. */
static size_t cut_cols(const char *s, int maxw, int *used)
{
    size_t len = strlen(s), o = 0;
    int w = 0;
    while (o < len) {
        mbstate_t st;
        wchar_t wc;
        memset(&st, 0, sizeof st);
        size_t n = mbrtowc(&wc, s + o, len - o, &st);
        int cw = 1;
        if (n == (size_t)-1 || n == (size_t)-2 || n == 0)
            n = 1;
        else if ((cw = wcwidth(wc)) < 0)
            cw = 1;
        if (w + cw > maxw)
            break;
        w += cw;
        o += n;
    }
    if (used)
        *used = w;
    return o;
}

/* ---- layout --------------------------------------------------------------- */

void panes_layout(struct ui *ui)
{
    getmaxyx(stdscr, ui->rows, ui->cols);
    int H = ui->rows - 2;          /* status bar and command line below */
    if (H < 10)
        H = 10;
    int fh = H / 4;
    if (fh < 5)
        fh = 5;
    int th = H - fh;
    int lw = ui->cols * 34 / 100;
    if (lw < 26)
        lw = 26;
    if (lw > 44)
        lw = 44;
    int sh = MXS_STEP_COUNT + 2;
    if (sh > th - 4)
        sh = th - 4;
    if (sh < 4)
        sh = 4;
    ui->r_steps = (struct rect){0, 0, sh, lw};
    ui->r_chain = (struct rect){sh, 0, th - sh, lw};
    ui->r_exchange = (struct rect){0, lw, th, ui->cols - lw};
    ui->r_findings = (struct rect){th, 0, fh, ui->cols};
    for (int i = 0; i < FOCUS_COUNT - 1; i++) {
        const struct rect *r = i == FOCUS_STEPS ? &ui->r_steps :
                               i == FOCUS_EXCHANGE ? &ui->r_exchange :
                               i == FOCUS_CHAIN ? &ui->r_chain : &ui->r_findings;
        if (panes[i]->resize)
            panes[i]->resize(ui, r->y, r->x, r->h, r->w);
    }
}

/* ---- Steps ------------------------------------------------------------------ */

static void steps_draw(struct ui *ui, int focused)
{
    struct rect r = ui->r_steps;
    struct engine *e = ui_engine(ui);
    screen_box(r.y, r.x, r.h, r.w, "Steps", focused);
    if (!e)
        return;
    enum mxs_step cur = engine_current_step(e);
    for (int s = 0; s < MXS_STEP_COUNT && s < r.h - 2; s++) {
        enum mxs_step_state st = engine_step_state(e, (enum mxs_step)s);
        enum role role = st == MXS_ST_OK ? ROLE_OK : st == MXS_ST_WARN ? ROLE_WARN :
                         st == MXS_ST_FAIL ? ROLE_ERROR : st == MXS_ST_RUNNING ? ROLE_RUNNING :
                         st == MXS_ST_CANCELLED ? ROLE_WARN : ROLE_DIM;
        char info[48] = "";
        if (st == MXS_ST_RUNNING) {
            int t = engine_timeout_ms(e);
            /* The live countdown to the stage deadline: the operator sees
             * how long a stalled server has left before we give up. */
            if (t >= 0)
                snprintf(info, sizeof info, "%ds left", (t + 999) / 1000);
            else
                snprintf(info, sizeof info, "running");
        } else if (st != MXS_ST_PENDING) {
            int64_t ms = engine_step_elapsed_ms(e, (enum mxs_step)s);
            if (st == MXS_ST_SKIPPED)
                snprintf(info, sizeof info, "skipped");
            else if (st == MXS_ST_CANCELLED)
                snprintf(info, sizeof info, "cancelled");
            else if (ms >= 10000)
                snprintf(info, sizeof info, "%.1fs", (double)ms / 1000.0);
            else
                snprintf(info, sizeof info, "%lld ms", (long long)ms);
        }
        char line[96];
        snprintf(line, sizeof line, "%s %-9s %s", screen_state_glyph(st),
                 mxs_step_name((enum mxs_step)s), info);
        attr_t a = screen_attr(role);
        if (s == (int)cur && st == MXS_ST_PENDING && !engine_finished(e))
            a = screen_attr(ROLE_TITLE);
        screen_text(r.y + 1 + s, r.x + 1, r.w - 2, line, a);
    }
}

static const struct pane_ops steps_ops = {"Steps", steps_draw, NULL, NULL, NULL};

/* ---- Exchange --------------------------------------------------------------- */

static void xl_clear(struct ui *ui)
{
    for (size_t i = 0; i < ui->xl_n; i++)
        free(ui->xl[i].text);
    free(ui->xl);
    ui->xl = NULL;
    ui->xl_n = ui->xl_cap = 0;
    ui->xl_engine = NULL;
}

static void xl_sync(struct ui *ui)
{
    struct engine *e = ui_engine(ui);
    if (!e) {
        xl_clear(ui);
        return;
    }
    size_t n = engine_record_count(e);
    if (ui->xl_engine != e || n < ui->xl_n) {
        xl_clear(ui);
        ui->xl_engine = e;
        ui->search_hit = -1;
    }
    for (size_t i = ui->xl_n; i < n && ui->xl_n < XL_MAX; i++) {
        const struct mxs_record *rec = engine_record(e, i);
        if (!rec)
            break;
        if (ui->xl_n == ui->xl_cap) {
            size_t nc = ui->xl_cap ? ui->xl_cap * 2 : 256;
            struct xline *nx = realloc(ui->xl, nc * sizeof *nx);
            if (!nx)
                return;
            ui->xl = nx;
            ui->xl_cap = nc;
        }
        struct buf b;
        buf_init(&b, 64 * 1024);
        render_record_line(rec, &b);
        ui->xl[ui->xl_n].text = b.data ? b.data : calloc(1, 1);
        ui->xl[ui->xl_n].kind = (unsigned char)rec->kind;
        if (!ui->xl[ui->xl_n].text)
            return;
        ui->xl_n++;
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

static int xl_visible(const struct ui *ui)
{
    int v = ui->r_exchange.h - 2;
    return v < 1 ? 1 : v;
}

static void exchange_draw(struct ui *ui, int focused)
{
    struct rect r = ui->r_exchange;
    char title[200];
    xl_sync(ui);
    int vis = xl_visible(ui);
    int n = (int)ui->xl_n;
    if (ui->xl_follow || ui->xl_top > n - vis)
        ui->xl_top = n - vis;
    if (ui->xl_top < 0)
        ui->xl_top = 0;
    char where[48] = "";
    if (n > vis)
        snprintf(where, sizeof where, " %d-%d/%d", ui->xl_top + 1,
                 ui->xl_top + vis < n ? ui->xl_top + vis : n, n);
    if (ui->search[0]) {
        char es[100];
        mxs_escape_str(ui->search, es, sizeof es, 0);
        snprintf(title, sizeof title, "Exchange%s /%s", where, es);
    } else {
        snprintf(title, sizeof title, "Exchange%s", where);
    }
    screen_box(r.y, r.x, r.h, r.w, title, focused);
    if (!ui_engine(ui)) {
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
    for (int i = 0; i < vis && ui->xl_top + i < n; i++) {
        const struct xline *l = &ui->xl[ui->xl_top + i];
        attr_t a = screen_attr(kind_role(l->kind));
        if (ui->xl_top + i == ui->search_hit)
            a = screen_attr(ROLE_MATCH);
        screen_text(r.y + 1 + i, r.x + 1, r.w - 2, l->text, a);
    }
}

static int exchange_find(struct ui *ui, int from, int dir)
{
    int n = (int)ui->xl_n;
    if (!ui->search[0] || n == 0)
        return -1;
    for (int k = 0; k < n; k++) {
        int i = ((from + dir * k) % n + n) % n;
        if (strcasestr(ui->xl[i].text, ui->search))
            return i;
    }
    return -1;
}

static void exchange_goto_match(struct ui *ui, int from, int dir)
{
    xl_sync(ui);
    int i = exchange_find(ui, from, dir);
    if (i < 0) {
        char es[100];
        mxs_escape_str(ui->search, es, sizeof es, 0);
        ui_message(ui, 1, "not found: %s", es);
        ui->search_hit = -1;
        return;
    }
    ui->search_hit = i;
    ui->xl_follow = 0;
    int vis = xl_visible(ui);
    if (i < ui->xl_top || i >= ui->xl_top + vis)
        ui->xl_top = i - vis / 3;
    if (ui->xl_top < 0)
        ui->xl_top = 0;
    ui_message(ui, 0, "match at line %d of %d", i + 1, (int)ui->xl_n);
}

/* The search prompt typed in the status bar; Enter searches. */
static int exchange_search_key(struct ui *ui, int ch)
{
    size_t n = strlen(ui->search);
    if (ch == 27 || ch == 3) {
        ui->search_input = 0;
        ui->search[0] = 0;
        ui->search_hit = -1;
    } else if (ch == '\r' || ch == '\n' || ch == KEY_ENTER) {
        ui->search_input = 0;
        if (ui->search[0])
            exchange_goto_match(ui, ui->xl_top + (ui->search_hit >= 0 ? 1 : 0), 1);
    } else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
        if (n)
            ui->search[n - 1] = 0;
    } else if (ch >= 0x20 && ch < 0x7f && n + 1 < sizeof ui->search) {
        ui->search[n] = (char)ch;
        ui->search[n + 1] = 0;
    }
    ui->dirty = 1;
    return 1;
}

static int exchange_key(struct ui *ui, int ch)
{
    int vis = xl_visible(ui);
    int n = (int)ui->xl_n;
    if (ui->search_input)
        return exchange_search_key(ui, ch);
    switch (ch) {
    case KEY_UP: case 'k': ui->xl_top--; ui->xl_follow = 0; break;
    case KEY_DOWN: case 'j': ui->xl_top++; break;
    case KEY_PPAGE: ui->xl_top -= vis - 1; ui->xl_follow = 0; break;
    case KEY_NPAGE: ui->xl_top += vis - 1; break;
    case KEY_HOME: case 'g': ui->xl_top = 0; ui->xl_follow = 0; break;
    case KEY_END: case 'G': ui->xl_follow = 1; break;
    case '/':
        ui->search_input = 1;
        ui->search[0] = 0;
        ui->search_hit = -1;
        break;
    case '\r': case '\n': case KEY_ENTER: {
        /* Long lines are cut at the pane's edge: Enter shows the whole
         * transcript wrapped, opened at the first line in view (the text
         * transcript has 3 header lines, then one line per record). */
        struct engine *e = ui_engine(ui);
        if (!e)
            return 1;
        struct buf b;
        buf_init(&b, 16u << 20);
        render_transcript_text(e, &b);
        tv_open(ui, "Transcript (whole lines)", buf_str(&b));
        buf_free(&b);
        ui->tv.top = ui->xl_top + 3 < ui->tv.n ? ui->xl_top + 3 : 0;
        return 1;
    }
    case 'n': case 'N':
        if (!ui->search[0])
            return 0; /* n steps when there is nothing to search for */
        exchange_goto_match(ui, (ui->search_hit >= 0 ? ui->search_hit : ui->xl_top) + (ch == 'n' ? 1 : -1),
                            ch == 'n' ? 1 : -1);
        break;
    default:
        return 0;
    }
    if (ui->xl_top < 0)
        ui->xl_top = 0;
    if (ui->xl_top >= n - vis) {
        ui->xl_top = n - vis < 0 ? 0 : n - vis;
        if (ch == KEY_DOWN || ch == 'j' || ch == KEY_NPAGE)
            ui->xl_follow = 1;
    }
    ui->dirty = 1;
    return 1;
}

static const struct pane_ops exchange_ops = {"Exchange", exchange_draw, exchange_key, NULL, NULL};

/* ---- Chain ---------------------------------------------------------------- */

static void chain_draw(struct ui *ui, int focused)
{
    struct rect r = ui->r_chain;
    struct engine *e = ui_engine(ui);
    const struct mxs_chain_facts *ch = e ? engine_chain(e) : NULL;
    char title[160] = "Chain";
    if (ch && ch->n > 0) {
        char flags[120];
        mxs_verify_flags_text(ch->verify_result, flags, sizeof flags);
        if (ch->verify_result == 0 && ch->trusted)
            snprintf(title, sizeof title, "Chain: trusted");
        else
            snprintf(title, sizeof title, "Chain: %s", flags);
    }
    screen_box(r.y, r.x, r.h, r.w, title, focused);
    if (r.h < 3)
        return;
    if (!ch || ch->n == 0) {
        screen_text(r.y + 1, r.x + 2, r.w - 3, "(no certificates yet)", screen_attr(ROLE_DIM));
        return;
    }
    int vis = r.h - 2;
    if (ui->chain_sel >= ch->n)
        ui->chain_sel = ch->n - 1;
    if (ui->chain_sel < 0)
        ui->chain_sel = 0;
    int top = ui->chain_sel >= vis ? ui->chain_sel - vis + 1 : 0;
    for (int i = 0; i < vis && top + i < ch->n; i++) {
        const struct mxs_cert *c = &ch->cert[top + i];
        char cn[128], line[256], days[24];
        mxs_escape_str(c->cn[0] ? c->cn : c->subject, cn, sizeof cn, 0);
        unsigned f = c->verify_flags;
        enum mxs_step_state g = f == 0 ? MXS_ST_OK :
            (f & (MXS_V_EXPIRED | MXS_V_FUTURE | MXS_V_NOT_TRUSTED | MXS_V_NAME | MXS_V_REVOKED))
            ? MXS_ST_FAIL : MXS_ST_WARN;
        snprintf(days, sizeof days, "%dd", c->days_left);
        /* Depth and name on the left, days and verdict glyph on the right. */
        int inner = r.w - 2;
        int right = (int)strlen(days) + 3;
        snprintf(line, sizeof line, "%d %s", c->depth, cn);
        int sel = focused && top + i == ui->chain_sel;
        attr_t a = sel ? screen_attr(ROLE_SELECT) : A_NORMAL;
        if (sel)
            mvhline(r.y + 1 + i, r.x + 1, ' ' | a, inner);
        screen_text(r.y + 1 + i, r.x + 1, inner - right, line, a);
        char tail[48];
        snprintf(tail, sizeof tail, "%s %s", days, screen_state_glyph(g));
        attr_t ta = sel ? a : screen_attr(g == MXS_ST_OK ? ROLE_OK : g == MXS_ST_FAIL ? ROLE_ERROR : ROLE_WARN);
        screen_text(r.y + 1 + i, r.x + 1 + inner - right + 1, right - 1, tail, ta);
    }
}

void ui_show_cert(struct ui *ui, int depth)
{
    struct engine *e = ui_engine(ui);
    const struct mxs_chain_facts *ch = e ? engine_chain(e) : NULL;
    if (!ch || depth < 0 || depth >= ch->n)
        return;
    struct buf b;
    buf_init(&b, 1u << 20);
    render_cert_detail(&ch->cert[depth], &b);
    char title[64];
    snprintf(title, sizeof title, "Certificate depth %d", depth);
    tv_open(ui, title, b.data ? b.data : "");
    buf_free(&b);
}

static int chain_key(struct ui *ui, int ch)
{
    struct engine *e = ui_engine(ui);
    const struct mxs_chain_facts *cf = e ? engine_chain(e) : NULL;
    int n = cf ? cf->n : 0;
    switch (ch) {
    case KEY_UP: case 'k': if (ui->chain_sel > 0) ui->chain_sel--; break;
    case KEY_DOWN: case 'j': if (ui->chain_sel < n - 1) ui->chain_sel++; break;
    case '\r': case '\n': case KEY_ENTER:
        if (n > 0)
            ui_show_cert(ui, ui->chain_sel);
        else
            ui_message(ui, 1, "no certificates yet: run to the CHAIN step first");
        break;
    default:
        return 0;
    }
    ui->dirty = 1;
    return 1;
}

static const struct pane_ops chain_ops = {"Chain", chain_draw, chain_key, NULL, NULL};

/* ---- Findings / verdict --------------------------------------------------- */

static const char *outcome_short(enum mxs_outcome o)
{
    switch (o) {
    case MXS_OUT_ENCRYPTED: return "encrypted";
    case MXS_OUT_CLEAR: return "CLEAR";
    case MXS_OUT_NOT_DELIVERED: return "NOT DELIVERED";
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
static int findings_lines(struct ui *ui, struct buf *b)
{
    struct engine *e = ui_engine(ui);
    int lines = 0;
    if (!e)
        return 0;
    const struct mxs_verdict *v = engine_verdicts(e);
    if (v) {
        buf_puts(b, "Verdict:");
        for (int p = 0; p < MXS_POL_COUNT; p++) {
            buf_printf(b, "  %s: %s", mxs_policy_name((enum mxs_policy)p), outcome_short(v[p].outcome));
            if (v[p].outcome == MXS_OUT_NOT_DELIVERED && v[p].step != MXS_STEP_NONE)
                buf_printf(b, " (%s)", mxs_step_name(v[p].step));
        }
        buf_puts(b, "\n");
        lines++;
    }
    int n = 0;
    const struct mxs_finding *f = engine_findings(e, &n);
    int width = ui->r_findings.w - 2;
    for (int i = 0; f && i < n; i++) {
        char head[80];
        snprintf(head, sizeof head, "%c %s: ",
                 f[i].severity == MXS_SEV_ERROR ? 'E' : f[i].severity == MXS_SEV_WARNING ? 'W' : 'i', f[i].id);
        wrap_add(b, f[i].message, width, head, "  ", &lines);
        if (f[i].advice[0]) {
            wrap_add(b, f[i].advice, width, "    -> ", "       ", &lines);
        }
    }
    if (n == 0) {
        buf_puts(b, engine_finished(e) ? "(no findings: nothing wrong was seen)\n" : "(no findings yet)\n");
        lines++;
    }
    return lines;
}

static void findings_draw(struct ui *ui, int focused)
{
    struct rect r = ui->r_findings;
    screen_box(r.y, r.x, r.h, r.w, "Findings & verdict", focused);
    struct buf b;
    buf_init(&b, 1u << 20);
    int n = findings_lines(ui, &b);
    int vis = r.h - 2;
    if (ui->find_top > n - vis)
        ui->find_top = n - vis;
    if (ui->find_top < 0)
        ui->find_top = 0;
    const char *p = b.data ? b.data : "";
    for (int i = 0; *p && i < ui->find_top + vis; i++) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (i >= ui->find_top) {
            char line[2048];
            if (len >= sizeof line)
                len = sizeof line - 1;
            memcpy(line, p, len);
            line[len] = 0;
            enum role role = line[0] == 'E' && line[1] == ' ' ? ROLE_ERROR :
                             line[0] == 'W' && line[1] == ' ' ? ROLE_WARN :
                             !strncmp(line, "Verdict", 7) ? ROLE_TITLE :
                             line[0] == ' ' ? ROLE_DIM : ROLE_NORMAL;
            screen_text(r.y + 1 + i - ui->find_top, r.x + 1, r.w - 2, line, screen_attr(role));
        }
        p = nl ? nl + 1 : p + len;
    }
    buf_free(&b);
}

static int findings_key(struct ui *ui, int ch)
{
    int vis = ui->r_findings.h - 2;
    switch (ch) {
    case KEY_UP: case 'k': ui->find_top--; break;
    case KEY_DOWN: case 'j': ui->find_top++; break;
    case KEY_PPAGE: ui->find_top -= vis; break;
    case KEY_NPAGE: ui->find_top += vis; break;
    case KEY_HOME: ui->find_top = 0; break;
    case '\r': case '\n': case KEY_ENTER: {
        struct engine *e = ui_engine(ui);
        if (!e)
            return 1;
        struct buf b;
        buf_init(&b, 1u << 20);
        render_report_text(e, &b);
        tv_open(ui, "Report", b.data ? b.data : "");
        buf_free(&b);
        break;
    }
    default:
        return 0;
    }
    ui->dirty = 1;
    return 1;
}

static const struct pane_ops findings_ops = {"Findings", findings_draw, findings_key, NULL, NULL};

const struct pane_ops *const panes[FOCUS_COUNT - 1] = {
    &steps_ops, &exchange_ops, &chain_ops, &findings_ops
};

/* ---- overlay text view ------------------------------------------------------ */

void tv_close(struct ui *ui)
{
    for (int i = 0; i < ui->tv.n; i++)
        free(ui->tv.lines[i]);
    free(ui->tv.lines);
    memset(&ui->tv, 0, sizeof ui->tv);
    ui->dirty = 1;
}

void tv_open(struct ui *ui, const char *title, const char *text)
{
    tv_close(ui);
    snprintf(ui->tv.title, sizeof ui->tv.title, "%s", title);
    int cap = 16;
    ui->tv.lines = malloc((size_t)cap * sizeof *ui->tv.lines);
    if (!ui->tv.lines)
        return;
    const char *p = text;
    while (*p && ui->tv.n < 100000) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (ui->tv.n == cap) {
            char **nlines = realloc(ui->tv.lines, (size_t)cap * 2 * sizeof *nlines);
            if (!nlines)
                break;
            ui->tv.lines = nlines;
            cap *= 2;
        }
        char *l = malloc(len + 1);
        if (!l)
            break;
        memcpy(l, p, len);
        l[len] = 0;
        /* Tabs from render output: spaces keep the columns honest. */
        for (char *t = l; *t; t++)
            if (*t == '\t')
                *t = ' ';
        ui->tv.lines[ui->tv.n++] = l;
        p = nl ? nl + 1 : p + len;
    }
    ui->tv.open = 1;
    ui->dirty = 1;
}

static void tv_geometry(const struct ui *ui, int *y, int *x, int *h, int *w)
{
    *y = 1;
    *x = ui->cols >= 90 ? 3 : 1;
    *h = ui->rows - 3;
    *w = ui->cols - 2 * *x;
}

/* Rows a logical line takes when wrapped at w columns. */
static int tv_rows(const char *s, int w)
{
    int width = screen_width(s);
    return width <= w ? 1 : (width + w - 1) / w;
}

static void tv_draw(struct ui *ui)
{
    int y, x, h, w;
    tv_geometry(ui, &y, &x, &h, &w);
    for (int i = 0; i < h; i++)
        mvhline(y + i, x, ' ', w);
    char title[200];
    snprintf(title, sizeof title, "%s  (q/Esc close, arrows/PgUp/PgDn scroll)", ui->tv.title);
    screen_box(y, x, h, w, title, 1);
    int inner = w - 4, row = 0, vis = h - 2;
    if (inner < 4)
        return;
    for (int i = ui->tv.top; i < ui->tv.n && row < vis; i++) {
        const char *s = ui->tv.lines[i];
        do {
            int used;
            size_t bytes = cut_cols(s, inner, &used);
            char part[1024];
            if (bytes >= sizeof part)
                bytes = sizeof part - 1;
            if (!bytes && *s)
                bytes = 1;
            memcpy(part, s, bytes);
            part[bytes] = 0;
            screen_text(y + 1 + row, x + 2, inner, part, A_NORMAL);
            s += bytes;
            row++;
        } while (*s && row < vis);
    }
    if (ui->tv.n > 0 && (ui->tv.top > 0 || row >= vis)) {
        char pos[48];
        snprintf(pos, sizeof pos, " %d/%d ", ui->tv.top + 1, ui->tv.n);
        screen_text(y + h - 1, x + w - 2 - (int)strlen(pos), (int)strlen(pos), pos, screen_attr(ROLE_TITLE));
    }
}

int tv_key(struct ui *ui, int ch)
{
    int y, x, h, w;
    tv_geometry(ui, &y, &x, &h, &w);
    int vis = h - 2;
    switch (ch) {
    case 'q': case 27: case '\r': case '\n': case KEY_ENTER: case 3:
        tv_close(ui);
        return 1;
    case KEY_UP: case 'k': ui->tv.top--; break;
    case KEY_DOWN: case 'j': case ' ': ui->tv.top++; break;
    case KEY_PPAGE: case 'b': ui->tv.top -= vis - 1; break;
    case KEY_NPAGE: ui->tv.top += vis - 1; break;
    case KEY_HOME: case 'g': ui->tv.top = 0; break;
    case KEY_END: case 'G': ui->tv.top = ui->tv.n - vis; break;
    default:
        return 1; /* the overlay is modal */
    }
    /* Keep at least one screenful when the lines wrap. */
    int rows = 0, last = ui->tv.n;
    while (last > 0 && rows + tv_rows(ui->tv.lines[last - 1], w - 4) <= vis)
        rows += tv_rows(ui->tv.lines[--last], w - 4);
    if (ui->tv.top > last)
        ui->tv.top = last;
    if (ui->tv.top < 0)
        ui->tv.top = 0;
    ui->dirty = 1;
    return 1;
}

/* ---- help --------------------------------------------------------------------- */

void ui_help_text(struct buf *out)
{
    buf_puts(out,
        "Keys (panes)\n"
        "  n, Space      run the next step\n"
        "  r             run every remaining step\n"
        "  R             restart from RESOLVE\n"
        "  Esc, Ctrl-C   cancel the running step (the console stays usable)\n"
        "  Tab, S-Tab    move the focus: Steps, Exchange, Chain, Findings, command line\n"
        "  :             type a command (any other unbound letter starts one too)\n"
        "  ?             this help\n"
        "  q             quit (asks when the session is not saved)\n"
        "  Up/Down j/k   move or scroll in the focused pane\n"
        "  PgUp/PgDn     scroll the Exchange (also from the command line)\n"
        "  Home/End      top / follow the end of the Exchange\n"
        "  /  n  N       search the Exchange, next / previous match\n"
        "  Enter         Chain: certificate detail; Findings: the full report;\n"
        "                Exchange: the whole transcript, long lines wrapped\n"
        "\n"
        "Keys (command line)\n"
        "  Enter         run the command      Tab      complete\n"
        "  Up/Down       history              Esc      back to the panes\n"
        "  Ctrl-C        cancel a running step, else clear the line\n"
        "  Shift-Tab     back to the panes    (readline keys and ~/.inputrc work)\n"
        "\n"
        "Commands\n");
    cmd_help_text(NULL, out);
}

/* ---- status bar ----------------------------------------------------------------- */

static void status_draw(struct ui *ui)
{
    int y = ui->rows - 2;
    attr_t a = screen_attr(ROLE_STATUS);
    attrset(a);
    mvhline(y, 0, ' ', ui->cols);
    attrset(A_NORMAL);
    struct engine *e = ui_engine(ui);
    char left[512], tgt[300];
    if (e) {
        const struct mxs_settings *s = engine_settings(e);
        mxs_escape_str(s->target, tgt, sizeof tgt, 0);
        enum mxs_step cur = engine_current_step(e);
        char stepinfo[64];
        if (engine_is_replay(e))
            snprintf(stepinfo, sizeof stepinfo, "replay");
        else if (engine_finished(e))
            snprintf(stepinfo, sizeof stepinfo, "finished");
        else if (cur >= 0 && cur < MXS_STEP_COUNT)
            snprintf(stepinfo, sizeof stepinfo, "%s %s", mxs_step_name(cur),
                     mxs_step_state_name(engine_step_state(e, cur)));
        else
            snprintf(stepinfo, sizeof stepinfo, "-");
        char lab[80] = "";
        if (ui->cmd.lab_scenario[0])
            snprintf(lab, sizeof lab, " [lab:%s]", ui->cmd.lab_scenario);
        if (s->target_is_host)
            snprintf(left, sizeof left, " %s:%u%s | %s ", tgt, s->port, lab, stepinfo);
        else
            snprintf(left, sizeof left, " %s%s | %s ", tgt, lab, stepinfo);
    } else {
        snprintf(left, sizeof left, " mxscope | nothing open ");
    }
    int used = screen_text(y, 0, ui->cols, left, a);
    char right[1200];
    attr_t ra = a;
    if (ui->confirm) {
        snprintf(right, sizeof right, "| %s", ui->msg);
        ra = a | A_BOLD;
    } else if (ui->search_input) {
        char es[140];
        mxs_escape_str(ui->search, es, sizeof es, 0);
        snprintf(right, sizeof right, "| search: /%s", es);
    } else if (ui->msg[0]) {
        snprintf(right, sizeof right, "| %s", ui->msg);
        if (ui->msg_err)
            ra = a | A_BOLD;
    } else if (ui->focus == FOCUS_CMDLINE) {
        snprintf(right, sizeof right, "| Enter run  Tab complete  Esc panes  ? help");
    } else {
        snprintf(right, sizeof right, "| n step  r run  R restart  Esc cancel  Tab focus  : cmd  ? help  q quit");
    }
    screen_text(y, used, ui->cols - used, right, ra);
}

/* ---- all ---------------------------------------------------------------------- */

void panes_draw_all(struct ui *ui)
{
    erase();
    for (int i = 0; i < FOCUS_COUNT - 1; i++)
        panes[i]->draw(ui, ui->focus == i);
    status_draw(ui);
    cmdline_draw(ui);
    if (ui->tv.open)
        tv_draw(ui);
    if (ui->focus == FOCUS_CMDLINE && !ui->tv.open && !ui->confirm && !ui->search_input) {
        curs_set(1);
        cmdline_place_cursor(ui);
    } else {
        curs_set(0);
    }
    refresh();
    ui->dirty = 0;
}

void panes_on_event(struct ui *ui, const struct mxs_event *ev)
{
    for (int i = 0; i < FOCUS_COUNT - 1; i++)
        if (panes[i]->on_event)
            panes[i]->on_event(ui, ev);
    ui->dirty = 1;
}

void panes_reset(struct ui *ui)
{
    xl_clear(ui);
    ui->xl_follow = 1;
    ui->xl_top = 0;
    ui->search_hit = -1;
    ui->chain_sel = 0;
    ui->find_top = 0;
    ui->dirty = 1;
}

void panes_free(struct ui *ui)
{
    xl_clear(ui);
    tv_close(ui);
}
