/*
 * console.c - console_run(): the one poll() loop of the interactive console.
 *
 * The loop waits on the keyboard, a self-pipe fed by the signal handlers
 * (SIGWINCH, SIGTERM, SIGINT, SIGHUP) and the engine's fds, with a timeout
 * that is the engine's deadline (capped, so the countdown ticks).  It only
 * calls engine_step() while a step is in flight, or when the operator asks
 * for the next one: engine_step() on an idle engine starts a new step.
 * A partner list (the Domains view, domains_view.c) is advanced on every
 * pass without waiting; while it runs the timeout is at most DV_TICK_MS.
 *
 * Keys: each key is looked up in the keymap (keymap.c) for the context it
 * was pressed in; the action is carried out here (the console's own: step,
 * run, focus, the command line ...) or handed to the overlay, the prompt
 * or the focused pane.  This file also puts the screen together
 * (console_draw), so the panes and the command line never call each other.
 * Owner: the console engineer (h6).
 */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "console.h"
#include "tui.h"

static int sig_pipe[2] = {-1, -1};
/* The command line's settings (--resolver ...): `domains FILE` starts
 * each line from them when no session is open. */
static const struct mxs_settings *console_base;

static void console_on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    if (sig_pipe[1] >= 0 && write(sig_pipe[1], &b, 1) < 0) {
        /* full pipe: a wake-up is already pending */
    }
    errno = saved;
}

static int console_signals(void)
{
    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK))
        return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = console_on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    /* Installed before initscr(): ncurses then leaves SIGWINCH to us. */
    sigaction(SIGWINCH, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static void console_signals_off(void)
{
    signal(SIGWINCH, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    for (int i = 0; i < 2; i++)
        if (sig_pipe[i] >= 0) {
            close(sig_pipe[i]);
            sig_pipe[i] = -1;
        }
}

static int console_busy(struct ui *ui)
{
    return cmd_engine_busy(ui->cmd.engine);
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

void ui_search_found(struct ui *ui, int line, int n, int dir, int wrapped)
{
    if (wrapped)
        ui_message(ui, 0, dir > 0 ? "search hit BOTTOM, continuing at TOP: line %d of %d"
                                  : "search hit TOP, continuing at BOTTOM: line %d of %d",
                   line + 1, n);
    else
        ui_message(ui, 0, "match at line %d of %d", line + 1, n);
}

/* The whole screen, back to front: panes and status bar, the command line,
 * the overlay; then the cursor, shown only where something is typed. */
static void console_draw(struct ui *ui)
{
    erase();
    panes_draw(ui);
    cmdline_draw(ui);
    if (domains_view_is_open())
        domains_view_draw(ui);
    if (overlay_is_open())
        overlay_draw(ui);
    if (ui->focus == FOCUS_CMDLINE && !overlay_is_open() && !domains_view_is_open() && !ui->confirm &&
        !prompt_active()) {
        curs_set(1);
        cmdline_place_cursor(ui);
    } else {
        curs_set(0);
    }
    refresh();
    ui->dirty = 0;
}

static void console_dump(struct ui *ui, const char *path)
{
    char err[256] = "";
    console_draw(ui);
    if (screen_dump(path, err, sizeof err)) {
        char es[300];
        mxs_escape_str(err, es, sizeof es, 0);
        ui_message(ui, 1, "dump: %s", es);
    } else {
        char ep[300];
        mxs_escape_str(path, ep, sizeof ep, 0);
        ui_message(ui, 0, "screen written to %s", ep);
    }
}

static void console_cancel(struct ui *ui)
{
    struct engine *e = ui->cmd.engine;
    ui->running = 0;
    ui->queued_steps = 0;
    if (e && console_busy(ui)) {
        enum mxs_step s = engine_current_step(e);
        engine_cancel(e);
        ui_message(ui, 0, "%s cancelled", mxs_step_name(s));
    }
}

static void console_want_quit(struct ui *ui)
{
    if (cmd_unsaved(&ui->cmd)) {
        ui->confirm = 2;
        ui_message(ui, 0, "Session not saved. Quit anyway? (y/N)");
        return;
    }
    ui->quit = 1;
}

void console_exec(struct ui *ui, const char *line)
{
    struct cmd_result r;
    cmd_result_init(&r);
    ui->msg[0] = 0;
    ui->cmd.cert_sel = chain_selected(); /* what `yank` copies */
    cmd_exec(&ui->cmd, line, &r);
    const char *msg = r.msg.data ? r.msg.data : "";
    if (r.engine_changed) {
        panes_reset();
        ui->running = 0;
    }
    if (r.cancelled)
        ui->running = 0;
    switch (r.action) {
    case CMD_ACT_RUN:
        ui->running = 1;
        break;
    case CMD_ACT_SHOW_CERT:
        overlay_show_cert(ui, r.arg);
        msg = "";
        break;
    case CMD_ACT_HELP: {
        if (strchr(line, ' ') && strspn(line, " \t") < strlen(line)) {
            /* help CMD: the one entry */
            overlay_open(ui, "Help", msg);
        } else {
            /* The key list comes from the keymap, so it cannot drift. */
            struct buf b;
            buf_init(&b, 1u << 20);
            keymap_help_text(&b);
            buf_puts(&b, "\nCommands\n");
            cmd_help_text(NULL, &b);
            overlay_open(ui, "Help", b.data ? b.data : "");
            buf_free(&b);
        }
        msg = "";
        break;
    }
    case CMD_ACT_OUTPUT: {
        char title[128];
        mxs_escape_str(line, title, sizeof title, 0);
        overlay_open(ui, title, msg);
        msg = "";
        break;
    }
    case CMD_ACT_QUIT:
        console_want_quit(ui);
        msg = ui->confirm ? ui->msg : "";
        break;
    case CMD_ACT_CONFIRM:
        ui->confirm = 1;
        snprintf(ui->confirm_cmd, sizeof ui->confirm_cmd, "%s", r.confirm);
        break;
    case CMD_ACT_DUMP:
        console_dump(ui, r.path);
        msg = ui->msg;
        break;
    case CMD_ACT_DOMAINS: {
        /* A new list starts from this session's settings, as `open` does. */
        const struct engine *e = ui->cmd.engine;
        domains_view_open(ui, r.path, e && !engine_is_replay(e) && !ui->cmd.lab_scenario[0]
                                          ? engine_settings(e) : console_base);
        msg = ui->msg;
        break;
    }
    case CMD_ACT_YANK:
        /* The clipboard only when asked for (--osc52): the words first,
         * the value after (the status bar may cut it; the file has it). */
        if (!ui->osc52)
            ui_message(ui, 0, "%s%s", r.path[0] ? "" : "not copied (start with --osc52): ", msg);
        else if (screen_osc52(buf_str(&r.data), r.data.len))
            ui_message(ui, 1, "not copied (cannot write to the terminal): %s", msg);
        else
            ui_message(ui, 0, "copied (OSC 52): %s", msg);
        msg = ui->msg;
        break;
    default:
        break;
    }
    if (msg != ui->msg) {
        if (strchr(msg, '\n') && r.action == CMD_ACT_NONE) {
            /* A multi-line answer (send's replies): status bar gets the
             * first line, all of it is in the Exchange anyway. */
        }
        ui_message(ui, r.status == CMD_ERROR, "%s", msg);
    }
    cmd_result_free(&r);
    ui->dirty = 1;
}

static void console_focus(struct ui *ui, int f)
{
    if (f != FOCUS_CMDLINE)
        ui->prev_focus = f;
    ui->focus = f;
    ui->dirty = 1;
}

/* n while a step is still running is typed ahead, not refused: an operator
 * pressing n n n expects three steps, however fast the server is. */
#define MAX_QUEUED_STEPS 9
static void console_step(struct ui *ui)
{
    struct engine *e = ui->cmd.engine;
    if (e && (console_busy(ui) || ui->running)) {
        if (ui->queued_steps < MAX_QUEUED_STEPS)
            ui->queued_steps++;
        ui_message(ui, 0, "%s is running; %d more step%s queued (Esc cancels)",
                   mxs_step_name(engine_current_step(e)), ui->queued_steps,
                   ui->queued_steps == 1 ? "" : "s");
        return;
    }
    console_exec(ui, "step");
}

/* A yes/no question in the status bar: quit (2) or a command (1). */
static void console_confirm(struct ui *ui, enum km_action a)
{
    int kind = ui->confirm;
    ui->confirm = 0;
    ui->msg[0] = 0;
    if (a == KA_YES) {
        if (kind == 2)
            ui->quit = 1;
        else
            console_exec(ui, ui->confirm_cmd);
    } else {
        ui_message(ui, 0, kind == 2 ? "not quitting" : "not sent");
    }
    ui->dirty = 1;
}

static void console_cmdline_action(struct ui *ui, enum km_action a, int ch)
{
    switch (a) {
    case KA_CL_ESC:
        if (console_busy(ui))
            console_cancel(ui);
        else
            console_focus(ui, ui->prev_focus);
        break;
    case KA_CL_INTR:
        if (console_busy(ui) || ui->running)
            console_cancel(ui);
        else
            cmdline_clear();
        break;
    case KA_CL_DELETE:
        if (!cmdline_empty())
            cmdline_key(ch);
        break;
    case KA_CL_BACK:
        console_focus(ui, ui->prev_focus);
        break;
    case KA_PAGE_UP: case KA_PAGE_DOWN:
        panes_key(ui, FOCUS_EXCHANGE, a);
        break;
    case KA_CL_RUN: {
        char line[CMD_MAX_LINE];
        cmdline_key('\r');
        if (cmdline_take(line, sizeof line)) {
            /* An empty Enter goes back to the panes. */
            /* The prompt is transient (like vi's `:`): after a
             * command the single keys (n, r, ...) work again. */
            console_focus(ui, ui->prev_focus);
            if (line[strspn(line, " \t")] != 0)
                console_exec(ui, line);
        }
        break;
    }
    default:
        cmdline_key(ch); /* KA_CL_EDIT: readline's own keys */
        break;
    }
    ui->dirty = 1;
}

/* The console's own keys, in any pane. */
static void console_pane_action(struct ui *ui, enum km_action a, int ch)
{
    switch (a) {
    case KA_STEP:
        console_step(ui);
        break;
    case KA_RUN:
        console_exec(ui, "run");
        break;
    case KA_RESTART:
        console_exec(ui, "restart");
        break;
    case KA_CANCEL:
        if (console_busy(ui) || ui->running)
            console_cancel(ui);
        else
            ui_message(ui, 0, "nothing is running");
        break;
    /* Tab goes round the panes and back, as in htop or tig; the command
     * line is `:`'s (Tab there completes, so it would never come back). */
    case KA_FOCUS_NEXT:
        console_focus(ui, ui->focus >= PANE_COUNT ? 0 : (ui->focus + 1) % PANE_COUNT);
        break;
    case KA_FOCUS_PREV:
        console_focus(ui, ui->focus >= PANE_COUNT ? PANE_COUNT - 1 : (ui->focus + PANE_COUNT - 1) % PANE_COUNT);
        break;
    case KA_HELP:
        console_exec(ui, "help");
        break;
    case KA_QUIT:
        console_want_quit(ui);
        break;
    case KA_COMMAND:
        console_focus(ui, FOCUS_CMDLINE);
        break;
    case KA_TYPE_COMMAND:
        /* Any other printable key starts a command with that letter. */
        console_focus(ui, FOCUS_CMDLINE);
        cmdline_key(ch);
        break;
    case KA_TIMELINE:
        overlay_open_live(ui, "Timeline", timeline_render);
        break;
    case KA_DOMAINS:
        console_exec(ui, "domains");
        break;
    default:
        break;
    }
}

/* A mouse event as a key of the table (KM_MOUSE_CLICK ...), at (*y, *x);
 * 0 for events the console does not use (a release, a drag). */
static int console_mouse_key(int *y, int *x)
{
    MEVENT me;
    if (getmouse(&me) != OK)
        return 0;
    *y = me.y;
    *x = me.x;
    if (me.bstate & BUTTON1_DOUBLE_CLICKED)
        return KM_MOUSE_DOUBLE;
    if (me.bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED))
        return KM_MOUSE_CLICK;
    if (me.bstate & BUTTON4_PRESSED)
        return KM_WHEEL_UP;
#ifdef BUTTON5_PRESSED
    if (me.bstate & BUTTON5_PRESSED)
        return KM_WHEEL_DOWN;
#endif
    return 0;
}

/* The mouse on the panes: it acts on the pane under the pointer, whatever
 * has the focus (the command line included: a click leaves it). */
static void console_mouse(struct ui *ui, int key, int y, int x)
{
    int pane = panes_at(y, x);
    enum km_action a = keymap_bound(KM_PANES, key);
    if (pane < 0 || a == KA_NONE)
        return;
    ui->msg[0] = 0;
    switch (a) {
    case KA_MOUSE_FOCUS:
        panes_click(ui, pane, y, x);
        break;
    case KA_MOUSE_OPEN:
        panes_click(ui, pane, y, x);
        panes_key(ui, pane, KA_OPEN);
        break;
    case KA_MOUSE_UP: case KA_MOUSE_DOWN:
        for (int i = 0; i < 3; i++)
            panes_key(ui, pane, a == KA_MOUSE_UP ? KA_UP : KA_DOWN);
        break;
    default:
        break;
    }
    ui->dirty = 1;
}

/* One key.  Order: confirmation, overlay, prompt, command line, the
 * focused pane's own keys, then the console's keys for every pane. */
static void console_key(struct ui *ui, int ch)
{
    if (ch == KEY_RESIZE) { /* not a key: the terminal changed size */
        panes_layout(ui);
        ui->dirty = 1;
        return;
    }
    int my = 0, mx = 0;
    if (ch == KEY_MOUSE && !(ch = console_mouse_key(&my, &mx)))
        return;
    /* A question or a typed search waits for keys: the mouse is not an
     * answer.  Over an overlay the wheel scrolls it (its table). */
    int mouse = ch >= KM_MOUSE_CLICK && ch <= KM_WHEEL_DOWN;
    if (mouse && (ui->confirm || prompt_active()))
        return;
    if (mouse && !overlay_is_open()) {
        console_mouse(ui, ch, my, mx);
        return;
    }
    if (ui->confirm) {
        console_confirm(ui, keymap_lookup(KM_CONFIRM, ch));
        return;
    }
    /* The prompt before the overlay: a search typed over the help or a
     * report takes the keys until Enter or Esc. */
    if (prompt_active()) {
        prompt_key(ui, keymap_lookup(KM_PROMPT, ch), ch);
        return;
    }
    if (overlay_is_open()) {
        enum km_action a = keymap_lookup(KM_OVERLAY, ch);
        if (a == KA_CLOSE_CANCEL)
            console_cancel(ui);
        for (int i = 0; i < (mouse ? 3 : 1); i++) /* a wheel notch: 3 lines */
            overlay_key(ui, a);
        return;
    }
    if (domains_view_is_open()) { /* modal, like the overlay */
        if (!mouse)
            domains_view_key(ui, keymap_lookup(KM_DOMAINS, ch));
        return;
    }
    if (ch != ERR)
        ui->msg[0] = 0;
    if (ui->focus == FOCUS_CMDLINE) {
        console_cmdline_action(ui, keymap_lookup(KM_CMDLINE, ch), ch);
        return;
    }
    enum km_ctx own = panes_keys(ui->focus);
    if (own != KM_PANES) {
        enum km_action a = keymap_bound(own, ch);
        if (a != KA_NONE && panes_key(ui, ui->focus, a))
            return;
    }
    console_pane_action(ui, keymap_lookup(KM_PANES, ch), ch);
}

static void console_drain_events(struct ui *ui)
{
    struct engine *e = ui->cmd.engine;
    struct mxs_event ev;
    /* The panes draw from the engine's state: an event only means the
     * screen is out of date. */
    for (int i = 0; e && i < 100000 && engine_next_event(e, &ev); i++)
        ui->dirty = 1;
}

/* Run-to-end and the --script queue move on only when the engine is idle. */
static void console_advance(struct ui *ui)
{
    struct engine *e = ui->cmd.engine;
    if (ui->running && e && !console_busy(ui)) {
        if (engine_finished(e) || engine_is_replay(e)) {
            ui->running = 0;
        } else {
            enum mxs_step s = engine_current_step(e);
            if (s >= 0 && s < MXS_STEP_COUNT &&
                engine_step_state(e, s) == MXS_ST_PENDING) {
                if (engine_step(e) == MXS_PROG_FINISHED)
                    ui->running = 0;
            } else {
                ui->running = 0;
            }
        }
        ui->dirty = 1;
    }
    if (!ui->running && ui->queued_steps > 0 && e && !console_busy(ui) && !ui->confirm) {
        ui->queued_steps--;
        if (engine_finished(e) || engine_is_replay(e))
            ui->queued_steps = 0;
        else
            console_exec(ui, "step");
        ui->dirty = 1;
    }
    while (!ui->running && !console_busy(ui) && !ui->confirm && !ui->quit &&
           ui->script && ui->script_i < ui->script_n) {
        console_exec(ui, ui->script[ui->script_i++]);
    }
}

static void console_signal_read(struct ui *ui)
{
    unsigned char b[64];
    ssize_t n;
    while ((n = read(sig_pipe[0], b, sizeof b)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (b[i] == SIGWINCH) {
                screen_resize();
                panes_layout(ui);
                ui->dirty = 1;
            } else {
                ui->quit = 1; /* SIGTERM/SIGINT/SIGHUP: leave cleanly */
            }
        }
    }
}

int console_run(struct console_opts *o)
{
    struct ui ui;
    char err[256] = "";
    memset(&ui, 0, sizeof ui);
    setlocale(LC_ALL, "");
    cmd_ctx_init(&ui.cmd, o->engine, o->lab, o->lab_scenario, 0);
    ui.focus = ui.prev_focus = FOCUS_STEPS;

    if (o->load && !o->engine) {
        struct engine *e = engine_load(o->load, err, sizeof err);
        if (!e) {
            char es[600];
            mxs_escape_str(err, es, sizeof es, 0);
            fprintf(stderr, "mxscope: %s\n", es);
            cmd_ctx_free(&ui.cmd);
            return 2;
        }
        cmd_ctx_adopt(&ui.cmd, e);
    }
    if (o->script) {
        ui.script_n = script_read(o->script, &ui.script, err, sizeof err);
        if (ui.script_n < 0) {
            char es[600];
            mxs_escape_str(err, es, sizeof es, 0);
            fprintf(stderr, "mxscope: %s\n", es);
            cmd_ctx_free(&ui.cmd);
            return 2;
        }
    }
    if (console_signals()) {
        fprintf(stderr, "mxscope: pipe: %s\n", strerror(errno));
        cmd_ctx_free(&ui.cmd);
        return 1;
    }
    if (screen_init(err, sizeof err)) {
        console_signals_off();
        fprintf(stderr, "mxscope: %s\n", err);
        cmd_ctx_free(&ui.cmd);
        script_free(ui.script, ui.script_n);
        return 1;
    }
    panes_create();
    panes_layout(&ui);
    cmdline_init(&ui);
    const char *nm = getenv("MXS_NO_MOUSE");
    if (!o->no_mouse && !(nm && *nm && strcmp(nm, "0")))
        screen_mouse(1);
    const char *osc = getenv("MXS_OSC52");
    ui.osc52 = o->osc52 || (osc && *osc && strcmp(osc, "0"));
    if (o->stop_after_resolve && ui.cmd.engine && !o->load &&
        !engine_is_replay(ui.cmd.engine))
        engine_step(ui.cmd.engine); /* RESOLVE, then wait for the operator */
    if (ui.cmd.engine && engine_is_replay(ui.cmd.engine))
        ui_message(&ui, 0, "replaying a saved session (read-only)");
    if (o->notice)
        ui_message(&ui, 0, "%s", o->notice);
    console_base = o->domains_base;
    domains_view_tune(o->domains_tune);
    if (o->domains)
        domains_view_open(&ui, o->domains, o->domains_base);

    ui.dirty = 1;

    while (!ui.quit) {
        domains_view_tick(&ui);
        console_drain_events(&ui);
        console_advance(&ui);
        console_drain_events(&ui);
        if (ui.quit)
            break;
        int busy = console_busy(&ui);
        if (ui.dirty || busy)
            console_draw(&ui);

        struct pollfd fds[20];
        int nf = 0;
        fds[nf++] = (struct pollfd){STDIN_FILENO, POLLIN, 0};
        fds[nf++] = (struct pollfd){sig_pipe[0], POLLIN, 0};
        int timeout = -1;
        if (busy && ui.cmd.engine) {
            int n = engine_pollfds(ui.cmd.engine, fds + nf, 16);
            if (n > 0)
                nf += n;
            int t = engine_timeout_ms(ui.cmd.engine);
            /* Wake at least every 250 ms so the countdown ticks. */
            timeout = (t < 0 || t > 250) ? 250 : t;
        } else if (ui.running || ui.queued_steps > 0) {
            timeout = 0; /* a step that ended at once: go on without a key */
        }
        if (domains_view_running() && (timeout < 0 || timeout > DV_TICK_MS))
            timeout = DV_TICK_MS; /* the list advances from the loop's passes */
        int pr = poll(fds, (nfds_t)nf, timeout);
        if (pr < 0 && errno != EINTR)
            break;
        if (fds[1].revents)
            console_signal_read(&ui);
        if (pr > 0 && fds[0].revents & (POLLHUP | POLLERR | POLLNVAL))
            ui.quit = 1; /* the terminal went away */
        if (pr > 0 && fds[0].revents & POLLIN) {
            /* Drain every key that is there: a paste or an escape sequence
             * must not wait for the next wake-up. */
            int ch, guard = 0;
            while (!ui.quit && (ch = getch()) != ERR && guard++ < 4096)
                console_key(&ui, ch);
        }
        if (ui.cmd.engine && console_busy(&ui)) {
            engine_step(ui.cmd.engine);
            ui.dirty = 1;
        }
    }

    const char *dump = getenv("MXS_DUMP_ON_EXIT");
    if (dump && *dump) {
        char derr[256];
        console_draw(&ui);
        screen_dump(dump, derr, sizeof derr);
    }
    cmdline_end();
    screen_end();
    console_signals_off();
    overlay_close(&ui);
    domains_view_free();
    panes_destroy();
    script_free(ui.script, ui.script_n);
    cmd_ctx_free(&ui.cmd);
    return 0;
}
