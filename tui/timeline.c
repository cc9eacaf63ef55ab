/*
 * timeline.c - the timeline (key t): every step with its start offset,
 * how long it took, and a bar on one scale for the
 * whole run, so a slow banner or a handshake that waits shows as a long
 * bar and the idle time between steps as a gap.  The running step shows its
 * elapsed time and the time left to its deadline.
 *
 * Made from the engine's own timing: the start is the time of the step's
 * last "started" record (a re-run counts from its new start), counted from
 * the first step's (the wait for the operator's first key is no part of
 * the run), the duration
 * engine_step_elapsed_ms() (running: so far).  The overlay shows it as a
 * live view (overlay_open_live), made again at every draw.
 * Owner: the console engineer.
 */
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "tui.h"

/* Columns before the bar: glyph, name, start, duration. */
#define TL_LEFT 41

/* When each step last started, in ms since the session's start (-1:
 * never): one pass over the transcript. */
static void timeline_starts(const struct engine *e, int64_t *at)
{
    for (int s = 0; s < MXS_STEP_COUNT; s++)
        at[s] = -1;
    size_t n = engine_record_count(e);
    for (size_t i = 0; i < n; i++) {
        const struct mxs_record *r = engine_record(e, i);
        if (r && r->kind == MXS_REC_STEP && r->step >= 0 && r->step < MXS_STEP_COUNT &&
            r->data && strstr((const char *)r->data, " started"))
            at[r->step] = r->t_us / 1000;
    }
}

static void timeline_took(char *out, size_t outlen, enum mxs_step_state st, int64_t ms,
                          int left_ms)
{
    if (st == MXS_ST_RUNNING && left_ms >= 0)
        snprintf(out, outlen, "%.1fs in, %ds left", (double)ms / 1000.0, (left_ms + 999) / 1000);
    else if (st == MXS_ST_PENDING)
        snprintf(out, outlen, "pending");
    else if (st == MXS_ST_SKIPPED)
        snprintf(out, outlen, "skipped");
    else if (ms >= 10000)
        snprintf(out, outlen, "%.1f s", (double)ms / 1000.0);
    else
        snprintf(out, outlen, "%lld ms", (long long)ms);
}

void timeline_render(struct ui *ui, struct buf *out, int width)
{
    struct engine *e = ui->cmd.engine;
    if (!e) {
        buf_puts(out, "Nothing is open: no step has run.\n");
        return;
    }
    int64_t start[MXS_STEP_COUNT], dur[MXS_STEP_COUNT], total = 0, busy = 0, t0 = -1;
    timeline_starts(e, start);
    for (int s = 0; s < MXS_STEP_COUNT; s++) {
        enum mxs_step_state st = engine_step_state(e, (enum mxs_step)s);
        if (st == MXS_ST_PENDING || st == MXS_ST_SKIPPED)
            start[s] = -1;
        if (start[s] >= 0 && (t0 < 0 || start[s] < t0))
            t0 = start[s];
    }
    /* From the first step's start: the wait for the first key is no part
     * of the run. */
    for (int s = 0; s < MXS_STEP_COUNT; s++) {
        if (start[s] >= 0)
            start[s] -= t0;
        dur[s] = start[s] >= 0 ? engine_step_elapsed_ms(e, (enum mxs_step)s) : 0;
        if (dur[s] < 0)
            dur[s] = 0;
        if (start[s] >= 0 && start[s] + dur[s] > total)
            total = start[s] + dur[s];
        busy += dur[s];
    }
    int bw = width - TL_LEFT - 2;
    if (bw > 200)
        bw = 200;
    const char *fill = screen_utf8() ? "\xe2\x96\x88" : "#";     /* U+2588 */
    buf_printf(out, "Each step's start (from the first step's), how long it took, and a bar on\n"
                    "one scale for the whole run: the gaps are the time between steps.\n\n");
    if (bw >= 10) {
        char axis[64];
        snprintf(axis, sizeof axis, "%.3f s", (double)total / 1000.0);
        buf_printf(out, "%-*s 0 s%*s\n", TL_LEFT, "  step       start      took",
                   bw + 1 - 3, axis);
    }
    int left_ms = engine_timeout_ms(e);
    /* In run order, as the Steps pane: POLICY right after RESOLVE, and no
     * row when it is (or will be) skipped. */
    int hide_policy = panes_policy_hidden(e);
    for (int k = 0; k < MXS_STEP_COUNT; k++) {
        int s = (int)mxs_step_order(k);
        if (s == MXS_STEP_POLICY && hide_policy)
            continue;
        enum mxs_step_state st = engine_step_state(e, (enum mxs_step)s);
        char at[32] = "-", took[48], row[160];
        if (start[s] >= 0)
            snprintf(at, sizeof at, "+%.3fs", (double)start[s] / 1000.0);
        timeline_took(took, sizeof took, st, dur[s], left_ms);
        snprintf(row, sizeof row, "%s %-9s %9s  %-17s ", screen_state_glyph(st),
                 mxs_step_name((enum mxs_step)s), at, took);
        buf_puts(out, row);
        if (bw >= 10 && start[s] >= 0) {
            /* Cells [c0, c1) of bw, at least one: a 0 ms step shows too. */
            int64_t t = total > 0 ? total : 1;
            int c0 = (int)(start[s] * bw / t);
            int c1 = (int)(((start[s] + dur[s]) * bw + t - 1) / t);
            if (c0 >= bw)
                c0 = bw - 1;
            if (c1 <= c0)
                c1 = c0 + 1;
            if (c1 > bw)
                c1 = bw;
            buf_puts(out, "|");
            for (int c = 0; c < bw; c++)
                buf_puts(out, c >= c0 && c < c1 ? fill : " ");
            buf_puts(out, "|");
        }
        buf_puts(out, "\n");
    }
    buf_printf(out, "\nThe run so far: %.3f s from the first step's start; the steps themselves took %.3f s.\n",
               (double)total / 1000.0, (double)busy / 1000.0);
}
