/*
 * panes.c - the console's panes taken together: the list (in focus order),
 * the layout that gives each its rectangle through its resize op, drawing
 * them all, handing a key action to one; and the status bar below them with
 * its one-line prompt (the Exchange's search).
 *
 * Each pane lives in its own file (pane_*.c) with private state; this file
 * knows them only as struct pane_ops.  It never calls the command line:
 * console.c puts the screen together.
 * Owner: the console engineer (h6).
 */
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "tui.h"

static const struct pane_ops *const panes[PANE_COUNT] = {
    [FOCUS_STEPS] = &pane_steps,
    [FOCUS_EXCHANGE] = &pane_exchange,
    [FOCUS_CHAIN] = &pane_chain,
    [FOCUS_FINDINGS] = &pane_findings,
};

void panes_create(void)
{
    for (int i = 0; i < PANE_COUNT; i++)
        panes[i]->create();
}

void panes_destroy(void)
{
    for (int i = 0; i < PANE_COUNT; i++)
        if (panes[i]->destroy)
            panes[i]->destroy();
}

void panes_reset(void)
{
    for (int i = 0; i < PANE_COUNT; i++)
        if (panes[i]->reset)
            panes[i]->reset();
}

enum km_ctx panes_keys(int pane)
{
    return pane >= 0 && pane < PANE_COUNT ? panes[pane]->keys : KM_PANES;
}

int panes_key(struct ui *ui, int pane, enum km_action a)
{
    if (pane < 0 || pane >= PANE_COUNT || !panes[pane]->key)
        return 0;
    return panes[pane]->key(ui, a);
}

/* ---- layout --------------------------------------------------------------- */

static struct rect pane_rect[PANE_COUNT];

/* Sized by content, at every draw (the content grows as steps run): the
 * Steps pane has a row per step; the Chain the rows its certificates take
 * (a thumbprint row under each); Findings the rows its verdict and advice
 * take, up to all that is left under Steps and Chain, and never fewer than
 * the verdict's rows plus one: the verdict is never cut.  The Exchange, a
 * scrolling transcript, takes what neither needs.  When the Findings cannot
 * have all they need, the Chain keeps only its content (no empty rows). */
static void panes_place(struct ui *ui)
{
    int H = ui->rows - 2;          /* status bar and command line below */
    if (H < 10)
        H = 10;
    int lw = ui->cols * 34 / 100;
    if (lw < 26)
        lw = 26;
    if (lw > 44)
        lw = 44;
    int sh = MXS_STEP_COUNT + 2;
    int must = 0;
    int cw = 2 + panes[FOCUS_CHAIN]->want(ui, lw - 2, &must);
    must = 0;
    int fw = 2 + panes[FOCUS_FINDINGS]->want(ui, ui->cols - 2, &must);
    int fmin = 2 + must + 1;
    if (fmin > fw)
        fmin = fw;
    if (cw < 3)
        cw = 3;
    int fh = fw;
    if (H - fh < sh + cw) {
        fh = H - sh - cw;         /* Findings get the rest ...            */
        if (fh < fmin)
            fh = fmin;            /* ... and the verdict whole, always    */
    }
    if (fh > H - 6)
        fh = H - 6;
    int th = H - fh;
    if (sh > th - 3)
        sh = th - 3;
    if (sh < 3)
        sh = 3;
    pane_rect[FOCUS_STEPS] = (struct rect){0, 0, sh, lw};
    pane_rect[FOCUS_CHAIN] = (struct rect){sh, 0, th - sh, lw};
    pane_rect[FOCUS_EXCHANGE] = (struct rect){0, lw, th, ui->cols - lw};
    pane_rect[FOCUS_FINDINGS] = (struct rect){th, 0, fh, ui->cols};
    for (int i = 0; i < PANE_COUNT; i++)
        panes[i]->resize(pane_rect[i]);
}

void panes_layout(struct ui *ui)
{
    getmaxyx(stdscr, ui->rows, ui->cols);
    panes_place(ui);
}

int panes_at(int y, int x)
{
    for (int i = 0; i < PANE_COUNT; i++) {
        struct rect r = pane_rect[i];
        if (y >= r.y && y < r.y + r.h && x >= r.x && x < r.x + r.w)
            return i;
    }
    return -1;
}

void panes_click(struct ui *ui, int pane, int y, int x)
{
    if (pane < 0 || pane >= PANE_COUNT)
        return;
    ui->focus = ui->prev_focus = pane;
    ui->dirty = 1;
    struct rect r = pane_rect[pane];
    /* On the frame: only the focus. */
    if (panes[pane]->click && y > r.y && y < r.y + r.h - 1 && x > r.x && x < r.x + r.w - 1)
        panes[pane]->click(ui, y - r.y - 1, x - r.x - 1);
}

/* ---- the prompt ------------------------------------------------------------- */

static struct {
    const char *label;
    char *buf;
    size_t len;
    void (*done)(struct ui *ui, int accepted);
} pr;

void prompt_open(struct ui *ui, const char *label, char *buf, size_t len,
                 void (*done)(struct ui *ui, int accepted))
{
    pr.label = label;
    pr.buf = buf;
    pr.len = len;
    pr.done = done;
    ui->dirty = 1;
}

int prompt_active(void)
{
    return pr.buf != NULL;
}

void prompt_key(struct ui *ui, enum km_action a, int ch)
{
    if (!pr.buf)
        return;
    size_t n = strlen(pr.buf);
    void (*done)(struct ui *, int) = pr.done;
    switch (a) {
    case KA_PROMPT_ACCEPT:
    case KA_PROMPT_ABORT:
        pr.buf = NULL; /* closed before done() runs: it may open another */
        done(ui, a == KA_PROMPT_ACCEPT);
        break;
    case KA_PROMPT_ERASE:
        if (n)
            pr.buf[n - 1] = 0;
        break;
    case KA_PROMPT_TYPE:
        if (n + 1 < pr.len) {
            pr.buf[n] = (char)ch;
            pr.buf[n + 1] = 0;
        }
        break;
    default:
        break; /* the prompt is modal: other keys do nothing */
    }
    ui->dirty = 1;
}

/* ---- status bar ----------------------------------------------------------------- */

/* The key hints: the keys come from the keymap, so they stay true; a
 * focused pane may put its own in force (pane_ops.hints). */
static const struct key_hint hints_panes[] = {
    {KM_PANES, KA_STEP, "step"}, {KM_PANES, KA_RUN, "run"},
    {KM_PANES, KA_RESTART, "restart"}, {KM_PANES, KA_CANCEL, "cancel"},
    {KM_PANES, KA_FOCUS_NEXT, "focus"}, {KM_PANES, KA_COMMAND, "cmd"},
    {KM_PANES, KA_HELP, "help"}, {KM_PANES, KA_QUIT, "quit"},
};
static const struct key_hint hints_cmdline[] = {
    {KM_CMDLINE, KA_CL_RUN, "run"}, {KM_CMDLINE, KA_CL_EDIT, "complete"},
    {KM_CMDLINE, KA_CL_ESC, "panes"}, {KM_PANES, KA_HELP, "help"},
};

static void status_hints(char *out, size_t outlen, const struct key_hint *h, size_t n)
{
    size_t o = (size_t)snprintf(out, outlen, "|");
    for (size_t i = 0; i < n && o < outlen; i++) {
        char key[32];
        if (h[i].key)
            snprintf(key, sizeof key, "%s", h[i].key);
        if (h[i].key || keymap_action_key(h[i].ctx, h[i].action, key, sizeof key))
            o += (size_t)snprintf(out + o, outlen - o, "%s%s %s", i ? "  " : " ", key, h[i].word);
    }
}

static void status_draw(struct ui *ui)
{
    int y = ui->rows - 2;
    attr_t a = screen_attr(ROLE_STATUS);
    attrset(a);
    mvhline(y, 0, ' ', ui->cols);
    attrset(A_NORMAL);
    struct engine *e = ui->cmd.engine;
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
    char right[1200];
    attr_t ra = a;
    if (ui->confirm) {
        snprintf(right, sizeof right, "| %s", ui->msg);
        ra = a | A_BOLD;
    } else if (pr.buf) {
        char es[140];
        mxs_escape_str(pr.buf, es, sizeof es, 0);
        snprintf(right, sizeof right, "| %s%s", pr.label, es);
    } else if (ui->msg[0]) {
        snprintf(right, sizeof right, "| %s", ui->msg);
        if (ui->msg_err)
            ra = a | A_BOLD;
    } else if (ui->focus == FOCUS_CMDLINE) {
        status_hints(right, sizeof right, hints_cmdline, sizeof hints_cmdline / sizeof hints_cmdline[0]);
    } else {
        size_t nh = 0;
        const struct key_hint *h = NULL;
        if (ui->focus < PANE_COUNT && panes[ui->focus]->hints)
            h = panes[ui->focus]->hints(&nh);
        if (h)
            status_hints(right, sizeof right, h, nh);
        else
            status_hints(right, sizeof right, hints_panes, sizeof hints_panes / sizeof hints_panes[0]);
    }
    /* A message or a question keeps half of a narrow bar (a third from 100
     * columns): the target part gives way to it.  Key hints never push the
     * target.  Whatever is cut ends in an ellipsis. */
    int is_msg = ui->confirm || pr.buf || ui->msg[0];
    int lw = screen_width(left), rw = screen_width(right);
    if (is_msg && lw + rw > ui->cols) {
        int want = ui->cols >= 100 ? ui->cols / 3 : ui->cols / 2;
        int room = rw < want ? rw : want;
        int keep = ui->cols - room;
        if (keep < lw) {
            char cut[500];
            screen_fit(left, keep - 1, cut, sizeof cut);
            snprintf(left, sizeof left, "%.500s ", cut);
        }
    }
    int used = screen_text(y, 0, ui->cols, left, a);
    char rfit[1200];
    screen_fit(right, ui->cols - used, rfit, sizeof rfit);
    screen_text(y, used, ui->cols - used, rfit, ra);
}

void panes_draw(struct ui *ui)
{
    panes_place(ui);
    for (int i = 0; i < PANE_COUNT; i++)
        panes[i]->draw(ui, ui->focus == i);
    status_draw(ui);
}
