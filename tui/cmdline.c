/*
 * cmdline.c - GNU readline on the console's bottom line, inside curses.
 *
 * curses owns the terminal and reads every key; readline only edits.  Keys
 * are turned back into the bytes a terminal would send and queued; readline
 * reads them through rl_getc_function in callback mode
 * (rl_callback_handler_install + rl_callback_read_char) and draws through
 * our rl_redisplay_function into the curses line.  Readline must not touch
 * the terminal itself: no signal handlers, no LINES/COLUMNS, no termios
 * (prep/deprep hooks are NULL), no output (rl_outstream is /dev/null, the
 * completion list goes to the status bar).
 * History lives in $XDG_STATE_HOME/mxscope/history (mode 0600).
 * Owner: the console engineer (h6).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "core.h"
#include "tui.h"

#define CL_QUEUE 256
#define CL_HISTORY_MAX 1000

static struct ui *cl_ui;
static unsigned char cl_q[CL_QUEUE];
static size_t cl_qh, cl_qt;          /* head (read), tail (write) */
static unsigned char cl_mb[8];        /* an incomplete UTF-8 character */
static size_t cl_mb_n, cl_mb_want;
static char cl_line[CMD_MAX_LINE];
static int cl_have_line;
static FILE *cl_null;
static char cl_hist[1024];
static int cl_on;

static const char cl_prompt[] = "mxscope> ";

/* ---- readline hooks ------------------------------------------------------ */

static int cl_getc(FILE *f)
{
    (void)f;
    if (cl_qh == cl_qt)
        return EOF; /* never asked for more than was queued */
    unsigned char ch = cl_q[cl_qh];
    cl_qh = (cl_qh + 1) % CL_QUEUE;
    return ch;
}

static int cl_input_available(void)
{
    return cl_qh != cl_qt;
}

static void cl_redisplay(void)
{
    if (cl_ui && screen_active()) {
        cmdline_draw(cl_ui);
        if (cl_ui->focus == FOCUS_CMDLINE)
            cmdline_place_cursor(cl_ui);
        refresh();
    }
}

static void cl_on_line(char *line)
{
    if (!line)
        return; /* Ctrl-D on an empty line: ignored, q or `quit` leave */
    if (*line) {
        HIST_ENTRY *last = history_length > 0 ? history_get(history_base + history_length - 1) : NULL;
        if (!last || strcmp(last->line, line))
            add_history(line);
    }
    snprintf(cl_line, sizeof cl_line, "%s", line);
    cl_have_line = 1;
    free(line);
}

/* Completion: cmd_complete() knows the words; readline does the rest. */
static char cl_cands[64][CMD_CPL_LEN];
static int cl_ncands;

static char *cl_generator(const char *text, int state)
{
    static int idx;
    (void)text;
    if (!state)
        idx = 0;
    while (idx < cl_ncands)
        return strdup(cl_cands[idx++]);
    return NULL;
}

static char **cl_complete(const char *text, int start, int end)
{
    char line[CMD_MAX_LINE + 1];
    int want_files = 0;
    size_t n = (size_t)end < sizeof line - 1 ? (size_t)end : sizeof line - 1;
    memcpy(line, rl_line_buffer, n);
    line[n] = 0;
    (void)text;
    cl_ncands = cmd_complete(&cl_ui->cmd, line, (size_t)start < n ? (size_t)start : n,
                             cl_cands, 64, &want_files);
    if (cl_ncands == 0 && want_files) {
        rl_attempted_completion_over = 0; /* readline's file names */
        return NULL;
    }
    rl_attempted_completion_over = 1;
    if (cl_ncands == 0)
        return NULL;
    /* "MAIL FROM:<" wants the address next, not a space. */
    if (cl_ncands == 1) {
        size_t l = strlen(cl_cands[0]);
        if (l && (cl_cands[0][l - 1] == '<' || cl_cands[0][l - 1] == ':'))
            rl_completion_append_character = '\0';
    }
    return rl_completion_matches(text, cl_generator);
}

/* Several matches: list them in the status bar, never on the terminal. */
static void cl_display_matches(char **matches, int num, int maxlen)
{
    struct buf b;
    (void)maxlen;
    buf_init(&b, 4096);
    for (int i = 1; i <= num && b.len < 900; i++) {
        buf_puts(&b, i > 1 ? "  " : "");
        buf_puts_escaped(&b, matches[i]);
    }
    if (cl_ui)
        ui_message(cl_ui, 0, "%s", b.data ? b.data : "");
    buf_free(&b);
    if (cl_ui)
        cl_ui->dirty = 1;
    rl_forced_update_display();
}

/* ---- history file -------------------------------------------------------- */

static int cl_mkdirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(path, 0700) && errno != EEXIST) {
            *p = '/';
            return -1;
        }
        *p = '/';
    }
    return 0;
}

static void cl_history_path(void)
{
    const char *st = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    cl_hist[0] = 0;
    if (st && st[0] == '/')
        snprintf(cl_hist, sizeof cl_hist, "%s/mxscope/history", st);
    else if (home && home[0] == '/')
        snprintf(cl_hist, sizeof cl_hist, "%s/.local/state/mxscope/history", home);
}

/* ---- API ------------------------------------------------------------------ */

int cmdline_init(struct ui *ui)
{
    cl_ui = ui;
    cl_null = fopen("/dev/null", "r+");
    /* Readline must leave signals, the environment and the tty to us. */
    rl_catch_signals = 0;
    rl_catch_sigwinch = 0;
    rl_change_environment = 0;
    rl_prep_term_function = NULL;
    rl_deprep_term_function = NULL;
    rl_getc_function = cl_getc;
    rl_input_available_hook = cl_input_available;
    rl_redisplay_function = cl_redisplay;
    rl_attempted_completion_function = cl_complete;
    /* Words break at blanks only: "MAIL FROM:<" and "TO:<a@b>" are one
     * word each for completion (readline's default breaks at < : = @). */
    rl_completer_word_break_characters = (char *)" \t\n";
    rl_completion_display_matches_hook = cl_display_matches;
    rl_readline_name = "mxscope";
    if (cl_null) {
        rl_instream = cl_null;
        rl_outstream = cl_null;
    }
    using_history();
    stifle_history(CL_HISTORY_MAX);
    cl_history_path();
    if (cl_hist[0]) {
        char tmp[1024];
        snprintf(tmp, sizeof tmp, "%s", cl_hist);
        cl_mkdirs(tmp);
        /* Created 0600 before readline writes it: commands can hold host
         * names and paths the operator may not want others to read. */
        int fd = open(cl_hist, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd >= 0)
            close(fd);
        read_history(cl_hist);
    }
    rl_callback_handler_install(cl_prompt, cl_on_line);
    /* The bell would go to the terminal behind curses' back. */
    rl_variable_bind("bell-style", "none");
    /* No partial completion to add: list the choices at once (there is no
     * bell to hear, so the second Tab readline waits for is never known). */
    rl_variable_bind("show-all-if-unmodified", "on");
    cl_on = 1;
    return 0;
}

void cmdline_end(void)
{
    if (!cl_on)
        return;
    rl_callback_handler_remove();
    if (cl_hist[0]) {
        if (write_history(cl_hist) == 0)
            history_truncate_file(cl_hist, CL_HISTORY_MAX);
        chmod(cl_hist, 0600);
    }
    if (cl_null) {
        fclose(cl_null);
        cl_null = NULL;
    }
    cl_on = 0;
}

static void cl_push(const char *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t next = (cl_qt + 1) % CL_QUEUE;
        if (next == cl_qh)
            return; /* full: drop (a paste flood) */
        cl_q[cl_qt] = (unsigned char)bytes[i];
        cl_qt = next;
    }
}

void cmdline_key(int ch)
{
    const char *seq = NULL;
    char one[2];
    switch (ch) {
    case KEY_UP: seq = "\033[A"; break;
    case KEY_DOWN: seq = "\033[B"; break;
    case KEY_RIGHT: seq = "\033[C"; break;
    case KEY_LEFT: seq = "\033[D"; break;
    case KEY_HOME: seq = "\033[H"; break;
    case KEY_END: seq = "\033[F"; break;
    case KEY_DC: seq = "\033[3~"; break;
    case KEY_BACKSPACE: seq = "\177"; break;
    case KEY_ENTER: seq = "\r"; break;
    default:
        if (ch < 0 || ch > 255)
            return; /* other function keys mean nothing to the line */
        /* A UTF-8 character arrives one byte per getch(); readline wants it
         * whole, so collect the continuation bytes first. */
        if (cl_mb_want) {
            if ((ch & 0xC0) == 0x80) {
                cl_mb[cl_mb_n++] = (unsigned char)ch;
                if (cl_mb_n == cl_mb_want) {
                    cl_push((const char *)cl_mb, cl_mb_n);
                    cl_mb_n = cl_mb_want = 0;
                    break;
                }
                return;
            }
            cl_mb_n = cl_mb_want = 0; /* broken sequence: drop it */
        }
        if (ch >= 0xC2 && ch <= 0xF4) {
            cl_mb[0] = (unsigned char)ch;
            cl_mb_n = 1;
            cl_mb_want = ch >= 0xF0 ? 4 : ch >= 0xE0 ? 3 : 2;
            return;
        }
        if (ch >= 0x80)
            return;
        one[0] = (char)ch;
        one[1] = 0;
        seq = one;
        break;
    }
    if (seq)
        cl_push(seq, strlen(seq));
    while (cl_qh != cl_qt)
        rl_callback_read_char();
}

int cmdline_take(char *out, size_t outlen)
{
    if (!cl_have_line)
        return 0;
    snprintf(out, outlen, "%s", cl_line);
    cl_have_line = 0;
    return 1;
}

void cmdline_clear(void)
{
    rl_replace_line("", 0);
    rl_point = rl_end = 0;
    rl_mark = 0;
    cl_redisplay();
}

int cmdline_empty(void)
{
    return !rl_line_buffer || rl_end == 0;
}

/* The line as shown: prompt + the buffer with control bytes made visible;
 * *cursor gets the column of rl_point (wcwidth, not bytes). */
static void cl_render(char *out, size_t outlen, int *cursor)
{
    char before[CMD_MAX_LINE * 4 + 64], after[CMD_MAX_LINE * 4];
    const char *lb = rl_line_buffer ? rl_line_buffer : "";
    size_t pt = (size_t)(rl_point >= 0 ? rl_point : 0);
    size_t end = strlen(lb);
    if (pt > end)
        pt = end;
    size_t o = (size_t)snprintf(before, sizeof before, "%s", cl_prompt);
    mxs_escape(lb, pt, before + o, sizeof before - o, 0);
    mxs_escape(lb + pt, end - pt, after, sizeof after, 0);
    *cursor = screen_width(before);
    snprintf(out, outlen, "%s%s", before, after);
}

void cmdline_draw(struct ui *ui)
{
    static char line[CMD_MAX_LINE * 8 + 128];
    int y = ui->rows - 1, cursor;
    move(y, 0);
    clrtoeol();
    if (ui->focus != FOCUS_CMDLINE && cmdline_empty()) {
        /* The idle prompt teaches: in the lab, where the broken servers are. */
        const char *hint = ui->cmd.lab_scenario[0] && !strcmp(ui->cmd.lab_scenario, "good")
            ? ": command   (try: open lab:expired - Tab completes, ? help)"
            : ui->cmd.engine ? ": command   (Tab completes, ? help)"
                             : ": command   (open DOMAIN | host NAME | lab:good - ? help)";
        screen_text(y, 0, ui->cols, hint, screen_attr(ROLE_DIM));
        return;
    }
    cl_render(line, sizeof line, &cursor);
    /* Scroll horizontally so the cursor stays visible. */
    int skip = cursor >= ui->cols - 1 ? cursor - (ui->cols - 1) + 1 : 0;
    const char *p = line;
    int w = 0;
    while (*p && w < skip) {
        char one[8];
        size_t n = 1;
        while ((p[n] & 0xC0) == 0x80)
            n++;
        memcpy(one, p, n);
        one[n] = 0;
        w += screen_width(one);
        p += n;
    }
    screen_text(y, 0, ui->cols, p, ui->focus == FOCUS_CMDLINE ? A_NORMAL : screen_attr(ROLE_DIM));
}

void cmdline_place_cursor(struct ui *ui)
{
    static char line[CMD_MAX_LINE * 8 + 128];
    int cursor;
    cl_render(line, sizeof line, &cursor);
    int skip = cursor >= ui->cols - 1 ? cursor - (ui->cols - 1) + 1 : 0;
    move(ui->rows - 1, cursor - skip);
}
