/*
 * pane_steps.c - the Steps pane: one line per step with its state glyph and
 * time, and a live countdown to the running step's deadline.
 *
 * It has no keys of its own (the console's keys work while it has the
 * focus); a click selects a step and shows its lines in the Exchange.
 * Owner: the console engineer (h6).
 */
#include <stdio.h>
#include <string.h>

#include "tui.h"

static struct steps_state {
    struct rect r;
    int sel;                      /* the step a click selected, -1 */
} steps;

static void steps_create(void)
{
    steps = (struct steps_state){{0, 0, 0, 0}, -1};
}

static void steps_reset(void)
{
    steps.sel = -1;
}

/* A click on a step's row selects it and shows its lines in the Exchange
 * (tig's habit: the list drives the detail view). */
static void steps_click(struct ui *ui, int row, int col)
{
    (void)col;
    struct engine *e = ui->cmd.engine;
    if (row < 0 || !e)
        return;
    /* Rows are in run order, a hidden POLICY taking none (steps_draw). */
    int hide_policy = panes_policy_hidden(e);
    for (int k = 0; k < MXS_STEP_COUNT; k++) {
        enum mxs_step s = mxs_step_order(k);
        if (s == MXS_STEP_POLICY && hide_policy)
            continue;
        if (row-- == 0) {
            steps.sel = (int)s;
            exchange_goto_step(ui, s);
            return;
        }
    }
}

static void steps_resize(struct rect r)
{
    steps.r = r;
}

static void steps_draw(struct ui *ui, int focused)
{
    struct rect r = steps.r;
    struct engine *e = ui->cmd.engine;
    screen_box(r.y, r.x, r.h, r.w, "Steps", focused);
    if (!e)
        return;
    enum mxs_step cur = engine_current_step(e);
    /* In run order (POLICY right after RESOLVE); POLICY takes no row when
     * it is (or will be) skipped (panes_policy_hidden). */
    int hide_policy = panes_policy_hidden(e);
    int row = 0;
    for (int k = 0; k < MXS_STEP_COUNT && row < r.h - 2; k++) {
        int s = (int)mxs_step_order(k);
        enum mxs_step_state st = engine_step_state(e, (enum mxs_step)s);
        if (s == MXS_STEP_POLICY && hide_policy)
            continue;
        enum role role = st == MXS_ST_OK ? ROLE_OK : st == MXS_ST_WARN ? ROLE_WARN :
                         st == MXS_ST_FAIL ? ROLE_ERROR : st == MXS_ST_RUNNING ? ROLE_RUNNING :
                         st == MXS_ST_CANCELLED ? ROLE_WARN : ROLE_DIM;
        char info[48] = "";
        if (st == MXS_ST_RUNNING) {
            int t = engine_timeout_ms(e);
            /* The live countdown to the stage deadline: the operator sees
             * how long a stalled server has left before we give up. */
            int64_t in = engine_step_elapsed_ms(e, (enum mxs_step)s) / 1000;
            int room = r.w - 2 - 12;          /* after the glyph and the name */
            if (t >= 0) {
                /* Time in as well as time left, when the row has room: how
                 * long the server has been silent is the evidence. */
                snprintf(info, sizeof info, "%llds in, %ds left", (long long)in, (t + 999) / 1000);
                if ((int)strlen(info) > room)
                    snprintf(info, sizeof info, "%ds left", (t + 999) / 1000);
            } else {
                snprintf(info, sizeof info, "running %llds", (long long)in);
            }
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
        if (focused && s == steps.sel) {
            a = screen_attr(ROLE_SELECT);
            mvhline(r.y + 1 + row, r.x + 1, ' ' | a, r.w - 2);
        }
        screen_text(r.y + 1 + row, r.x + 1, r.w - 2, line, a);
        row++;
    }
}

const struct pane_ops pane_steps = {
    .keys = KM_PANES,
    .create = steps_create,
    .reset = steps_reset,
    .resize = steps_resize,
    .draw = steps_draw,
    .click = steps_click,
};
