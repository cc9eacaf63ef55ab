/*
 * screen.c - every curses set-up and teardown call of the console.
 *
 * Why one file: the terminal must come back sane on every exit path (normal
 * quit, SIGTERM, a crash), and that is only checkable when the code that
 * changes terminal state sits in one place.  While curses owns the screen,
 * stderr goes to an unlinked temp file (a library warning would otherwise
 * scribble over the panes); it is replayed after endwin().
 * Owner: the console engineer (h6).
 */
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
#include <wchar.h>

#include "core.h"
#include "tui.h"

static int scr_on;
static int scr_colors;
static int scr_utf8;
static int scr_ascii_box;
static attr_t scr_attr[ROLE_COUNT];
static int scr_saved_stderr = -1;
static int scr_err_fd = -1;
static struct termios scr_tio;
static int scr_tio_ok;

/* ---- fatal signals: restore the terminal before dying ------------------- */

static void screen_fatal(int sig)
{
    /* Only async-signal-safe calls: termios back, leave the alternate
     * screen, show the cursor, then die of the same signal. */
    static const char reset[] = "\033[?1000l\033[?1006l\033[?1049l\033[?25h\033[0m\r\n";
    if (scr_tio_ok)
        tcsetattr(STDIN_FILENO, TCSANOW, &scr_tio);
    if (write(STDOUT_FILENO, reset, sizeof reset - 1) < 0) {
        /* nothing more to do */
    }
    if (scr_saved_stderr >= 0) {
        char b[4096];
        ssize_t n;
        dup2(scr_saved_stderr, STDERR_FILENO);
        if (scr_err_fd >= 0 && lseek(scr_err_fd, 0, SEEK_SET) == 0)
            while ((n = read(scr_err_fd, b, sizeof b)) > 0)
                if (write(STDERR_FILENO, b, (size_t)n) < 0)
                    break;
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void screen_fatal_install(void)
{
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = screen_fatal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
}

/* ---- stderr ------------------------------------------------------------- */

static void screen_stderr_redirect(void)
{
    char path[] = "/tmp/mxscope-stderr.XXXXXX";
    const char *tmpdir = getenv("TMPDIR");
    char p2[512];
    int fd = -1;
    if (tmpdir && *tmpdir && strlen(tmpdir) < 400) {
        snprintf(p2, sizeof p2, "%s/mxscope-stderr.XXXXXX", tmpdir);
        fd = mkstemp(p2);
        if (fd >= 0)
            unlink(p2);
    }
    if (fd < 0) {
        fd = mkstemp(path);
        if (fd >= 0)
            unlink(path);
    }
    if (fd < 0)
        return;
    fflush(stderr);
    scr_saved_stderr = dup(STDERR_FILENO);
    if (scr_saved_stderr < 0 || dup2(fd, STDERR_FILENO) < 0) {
        close(fd);
        if (scr_saved_stderr >= 0)
            close(scr_saved_stderr);
        scr_saved_stderr = -1;
        return;
    }
    scr_err_fd = fd;
}

static void screen_stderr_restore(void)
{
    if (scr_saved_stderr < 0)
        return;
    fflush(stderr);
    dup2(scr_saved_stderr, STDERR_FILENO);
    close(scr_saved_stderr);
    scr_saved_stderr = -1;
    if (scr_err_fd >= 0) {
        char b[4096];
        ssize_t n;
        if (lseek(scr_err_fd, 0, SEEK_SET) == 0)
            while ((n = read(scr_err_fd, b, sizeof b)) > 0)
                if (write(STDERR_FILENO, b, (size_t)n) < 0)
                    break;
        close(scr_err_fd);
        scr_err_fd = -1;
    }
}

/* ---- colours ------------------------------------------------------------ */

static void screen_colors_init(void)
{
    const char *nc = getenv("NO_COLOR");
    /* Monochrome fallback: the attributes alone keep roles apart. */
    scr_attr[ROLE_NORMAL] = A_NORMAL;
    scr_attr[ROLE_BORDER] = A_NORMAL;
    scr_attr[ROLE_TITLE] = A_BOLD;
    scr_attr[ROLE_FOCUS] = A_BOLD | A_REVERSE;
    scr_attr[ROLE_STATUS] = A_REVERSE;
    scr_attr[ROLE_CLIENT] = A_BOLD;
    scr_attr[ROLE_SERVER] = A_NORMAL;
    scr_attr[ROLE_DNS] = A_NORMAL;
    scr_attr[ROLE_TLS] = A_NORMAL;
    scr_attr[ROLE_NOTE] = A_DIM;
    scr_attr[ROLE_ERROR] = A_BOLD | A_UNDERLINE;
    scr_attr[ROLE_WARN] = A_BOLD;
    scr_attr[ROLE_OK] = A_NORMAL;
    scr_attr[ROLE_RUNNING] = A_BOLD;
    scr_attr[ROLE_SELECT] = A_REVERSE;
    scr_attr[ROLE_MATCH] = A_STANDOUT | A_UNDERLINE;
    scr_attr[ROLE_DIM] = A_DIM;
    scr_colors = 0;
    if ((nc && *nc) || !has_colors())
        return;
    if (start_color() != OK)
        return;
    use_default_colors();
    scr_colors = 1;
    static const struct { enum role r; short fg, bg; attr_t extra; } map[] = {
        {ROLE_BORDER, COLOR_BLUE, -1, 0},
        {ROLE_TITLE, COLOR_CYAN, -1, A_BOLD},
        {ROLE_FOCUS, COLOR_BLACK, COLOR_CYAN, A_BOLD},
        {ROLE_STATUS, COLOR_BLACK, COLOR_WHITE, 0},
        {ROLE_CLIENT, COLOR_CYAN, -1, A_BOLD},
        {ROLE_SERVER, COLOR_GREEN, -1, 0},
        {ROLE_DNS, COLOR_BLUE, -1, A_BOLD},
        {ROLE_TLS, COLOR_MAGENTA, -1, 0},
        {ROLE_ERROR, COLOR_RED, -1, A_BOLD},
        {ROLE_WARN, COLOR_YELLOW, -1, A_BOLD},
        {ROLE_OK, COLOR_GREEN, -1, A_BOLD},
        {ROLE_RUNNING, COLOR_YELLOW, -1, A_BOLD},
        {ROLE_MATCH, COLOR_BLACK, COLOR_YELLOW, 0},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        short pair = (short)(i + 1);
        if (init_pair(pair, map[i].fg, map[i].bg) == OK)
            scr_attr[map[i].r] = COLOR_PAIR(pair) | map[i].extra;
    }
}

attr_t screen_attr(enum role r)
{
    return r < ROLE_COUNT ? scr_attr[r] : A_NORMAL;
}

/* ---- set-up / teardown -------------------------------------------------- */

int screen_init(char *err, size_t errlen)
{
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        snprintf(err, errlen, "the console needs a terminal (use --batch for scripts)");
        return -1;
    }
    if (tcgetattr(STDIN_FILENO, &scr_tio) == 0)
        scr_tio_ok = 1;
    const char *cs = nl_langinfo(CODESET);
    scr_utf8 = cs && !strcmp(cs, "UTF-8");
    const char *ascii = getenv("MXS_ASCII");
    if (ascii && *ascii && strcmp(ascii, "0"))
        scr_utf8 = 0;
    scr_ascii_box = !scr_utf8;
    /* In a UTF-8 locale the lines are drawn as Unicode box characters, not
     * with the terminal's VT100 alternate charset: with TERM=vt100 under
     * tmux, screen or PuTTY in UTF-8 mode the charset switch is ignored and
     * the frames come out as "lqqqk". */
    if (scr_utf8 && !getenv("NCURSES_NO_UTF8_ACS"))
        setenv("NCURSES_NO_UTF8_ACS", "1", 1);
    /* Esc cancels a step: it must not wait a second for a sequence. */
    if (!getenv("ESCDELAY"))
        set_escdelay(25);
    screen_stderr_redirect();
    screen_fatal_install();
    if (!initscr()) {
        screen_stderr_restore();
        snprintf(err, errlen, "cannot initialise the terminal (TERM?)");
        return -1;
    }
    scr_on = 1;
    raw();           /* Ctrl-C is a key: it cancels the step, not the program */
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    intrflush(stdscr, FALSE);
    set_escdelay(getenv("ESCDELAY") ? ESCDELAY : 25);
    screen_colors_init();
    curs_set(0);
    return 0;
}

int screen_active(void)
{
    return scr_on;
}

void screen_end(void)
{
    if (!scr_on)
        return;
    curs_set(1);
    mousemask(0, NULL);  /* the terminal's own selection back */
    endwin();
    scr_on = 0;
    screen_stderr_restore();
}

void screen_resize(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
        resizeterm(ws.ws_row, ws.ws_col);
    clearok(curscr, TRUE);
}

/* ---- drawing ------------------------------------------------------------ */

/* Columns of one character at s (len bytes available); *adv gets bytes. */
static int screen_char(const char *s, size_t len, size_t *adv)
{
    mbstate_t st;
    wchar_t wc;
    memset(&st, 0, sizeof st);
    size_t n = mbrtowc(&wc, s, len, &st);
    if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
        *adv = 1;
        return 1; /* cannot happen with escaped text; count it as one */
    }
    *adv = n;
    int w = wcwidth(wc);
    return w < 0 ? 1 : w;
}

int screen_width(const char *s)
{
    int w = 0;
    size_t len = strlen(s), adv;
    while (len) {
        w += screen_char(s, len, &adv);
        s += adv;
        len -= adv;
    }
    return w;
}

void screen_fit(const char *s, int maxw, char *out, size_t outlen)
{
    size_t len = strlen(s), used = 0, adv;
    int w = 0, total = screen_width(s);
    const char *mark = scr_utf8 ? "\xe2\x80\xa6" : "~";   /* U+2026 */
    if (total <= maxw || maxw < 2) {
        snprintf(out, outlen, "%s", s);
        return;
    }
    while (used < len) {
        int cw = screen_char(s + used, len - used, &adv);
        if (w + cw > maxw - 1)
            break;
        w += cw;
        used += adv;
    }
    if (used + strlen(mark) + 1 > outlen)
        used = outlen > strlen(mark) + 1 ? outlen - strlen(mark) - 1 : 0;
    memcpy(out, s, used);
    snprintf(out + used, outlen - used, "%s", mark);
}

size_t screen_wrap(const char *s, int w, int *cols)
{
    size_t len = strlen(s), used = 0, adv, brk = 0;
    int width = 0, brk_w = 0, seen_word = 0;
    while (used < len) {
        int cw = screen_char(s + used, len - used, &adv);
        if (width + cw > w)
            break;
        if (s[used] == ' ' && seen_word) {
            brk = used;          /* the row may end before this space */
            brk_w = width;
        } else if (s[used] != ' ') {
            seen_word = 1;
        }
        width += cw;
        used += adv;
    }
    if (used < len && brk > 0) {
        used = brk;
        width = brk_w;
    }
    if (!used && len) {          /* not even one character fits: take one */
        screen_char(s, len, &adv);
        used = adv;
        width = 1;
    }
    if (cols)
        *cols = width;
    return used;
}

int screen_text(int y, int x, int maxw, const char *s, attr_t a)
{
    size_t len = strlen(s), used = 0, adv;
    int w = 0;
    if (maxw <= 0)
        return 0;
    while (used < len) {
        int cw = screen_char(s + used, len - used, &adv);
        if (w + cw > maxw)
            break;
        w += cw;
        used += adv;
    }
    attr_t old;
    short pair;
    attr_get(&old, &pair, NULL);
    attrset(a);
    if (!scr_utf8) {
        /* A non-UTF-8 terminal: non-ASCII bytes would be garbage, and the
         * text is escaped already, so show '?' for them. */
        move(y, x);
        for (size_t i = 0; i < used; i++) {
            unsigned char ch = (unsigned char)s[i];
            addch(ch < 0x80 ? ch : '?');
        }
    } else {
        mvaddnstr(y, x, s, (int)used);
    }
    attr_set(old, pair, NULL);
    return w;
}

void screen_box(int y, int x, int h, int w, const char *title, int focused)
{
    if (h < 2 || w < 2)
        return;
    attr_t a = screen_attr(ROLE_BORDER);
    attrset(a);
    if (scr_ascii_box) {
        mvhline(y, x + 1, '-', w - 2);
        mvhline(y + h - 1, x + 1, '-', w - 2);
        mvvline(y + 1, x, '|', h - 2);
        mvvline(y + 1, x + w - 1, '|', h - 2);
        mvaddch(y, x, '+');
        mvaddch(y, x + w - 1, '+');
        mvaddch(y + h - 1, x, '+');
        mvaddch(y + h - 1, x + w - 1, '+');
    } else {
        mvhline(y, x + 1, ACS_HLINE, w - 2);
        mvhline(y + h - 1, x + 1, ACS_HLINE, w - 2);
        mvvline(y + 1, x, ACS_VLINE, h - 2);
        mvvline(y + 1, x + w - 1, ACS_VLINE, h - 2);
        mvaddch(y, x, ACS_ULCORNER);
        mvaddch(y, x + w - 1, ACS_URCORNER);
        mvaddch(y + h - 1, x, ACS_LLCORNER);
        mvaddch(y + h - 1, x + w - 1, ACS_LRCORNER);
    }
    attrset(A_NORMAL);
    if (title && w > 6) {
        /* A title too long for the frame ends in an ellipsis, inside its
         * brackets: what is cut is never silently missing. */
        char fit[400], t[420];
        screen_fit(title, w - 6, fit, sizeof fit);
        snprintf(t, sizeof t, focused ? "[%s]" : " %s ", fit);
        screen_text(y, x + 2, w - 4, t, focused ? screen_attr(ROLE_FOCUS) : screen_attr(ROLE_TITLE));
    }
}

const char *screen_state_glyph(enum mxs_step_state s)
{
    static const char *const uni[] = {"\xc2\xb7", "\xe2\x96\xb6", "\xe2\x9c\x93", "!",
                                      "\xe2\x9c\x97", "-", "~"};
    static const char *const asc[] = {".", ">", "+", "!", "x", "-", "~"};
    if ((int)s < 0 || s > MXS_ST_CANCELLED)
        return "?";
    return scr_utf8 ? uni[s] : asc[s];
}

int screen_utf8(void)
{
    return scr_utf8;
}

/* Clicks and the wheel only: no motion reports, so a terminal with Shift
 * (most of them) still selects text with the pointer. */
int screen_mouse(int on)
{
    mmask_t want = on ? BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON1_DOUBLE_CLICKED |
                        BUTTON4_PRESSED
#ifdef BUTTON5_PRESSED
                        | BUTTON5_PRESSED
#endif
                      : 0;
    return mousemask(want, NULL) == want || !on ? 0 : -1;
}

int screen_osc52(const char *data, size_t len)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static const char head[] = "\033]52;c;";
    struct buf b;
    int rc = 0;
    if (!scr_on)
        return -1;
    buf_init(&b, 1u << 20);
    buf_puts(&b, head);
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned char)data[i] << 16;
        if (i + 1 < len)
            v |= (unsigned char)data[i + 1] << 8;
        if (i + 2 < len)
            v |= (unsigned char)data[i + 2];
        char q[4] = {b64[v >> 18 & 63], b64[v >> 12 & 63],
                     i + 1 < len ? b64[v >> 6 & 63] : '=', i + 2 < len ? b64[v & 63] : '='};
        buf_add(&b, q, 4);
    }
    buf_puts(&b, "\a");
    /* curses has written everything at the last refresh: the sequence goes
     * out whole, between two screens, and moves no cursor. */
    const char *p = buf_str(&b);
    size_t left = b.failed ? 0 : b.len;
    if (b.failed)
        rc = -1;
    while (left) {
        ssize_t n = write(STDOUT_FILENO, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = -1;
            break;
        }
        p += n;
        left -= (size_t)n;
    }
    buf_free(&b);
    return rc;
}

/* ---- dump --------------------------------------------------------------- */

int screen_dump(const char *path, char *err, size_t errlen)
{
    struct buf b;
    int rows, cols;
    getmaxyx(stdscr, rows, cols);
    if (rows < 1 || cols < 1 || cols > 10000)
        return snprintf(err, errlen, "no screen"), -1;
    buf_init(&b, 4u << 20);
    wchar_t *w = calloc((size_t)cols + 1, sizeof *w);
    cchar_t *cells = calloc((size_t)cols + 1, sizeof *cells);
    char *mb = malloc((size_t)cols * MB_LEN_MAX + 1);
    if (!w || !mb || !cells) {
        free(w);
        free(mb);
        free(cells);
        buf_free(&b);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int y = 0; y < rows; y++) {
        int n = 0;
        if (mvin_wchnstr(y, 0, cells, cols) != ERR) {
            for (; n < cols; n++) {
                wchar_t wch[CCHARW_MAX + 1];
                attr_t at;
                short pair;
                if (getcchar(&cells[n], wch, &at, &pair, NULL) == ERR || !wch[0])
                    break;
                /* Line-drawing cells hold the VT100 letters (q, x, l ...)
                 * with A_ALTCHARSET: write what the eye sees. */
                if (at & A_ALTCHARSET) {
                    switch (wch[0]) {
                    case 'q': wch[0] = scr_utf8 ? 0x2500 : '-'; break;
                    case 'x': wch[0] = scr_utf8 ? 0x2502 : '|'; break;
                    case 'l': wch[0] = scr_utf8 ? 0x250C : '+'; break;
                    case 'k': wch[0] = scr_utf8 ? 0x2510 : '+'; break;
                    case 'm': wch[0] = scr_utf8 ? 0x2514 : '+'; break;
                    case 'j': wch[0] = scr_utf8 ? 0x2518 : '+'; break;
                    default: break;
                    }
                }
                w[n] = wch[0];
            }
        }
        w[n] = 0;
        size_t m = wcstombs(mb, w, (size_t)cols * MB_LEN_MAX);
        if (m == (size_t)-1)
            m = 0;
        mb[m] = 0;
        while (m && mb[m - 1] == ' ')
            mb[--m] = 0;
        /* What is on the screen was escaped when drawn (a second mxs_escape
         * would double every backslash); control bytes, which cannot be
         * there, are still written as \xHH so the file is always safe. */
        for (size_t i = 0; i < m; i++) {
            unsigned char ch = (unsigned char)mb[i];
            if (ch < 0x20 || ch == 0x7f)
                buf_printf(&b, "\\x%02X", ch);
            else
                buf_add(&b, &mb[i], 1);
        }
        buf_puts(&b, "\n");
    }
    free(w);
    free(mb);
    free(cells);
    int rc = -1;
    if (b.failed)
        snprintf(err, errlen, "screen too large");
    else
        rc = savefile_write(path, b.data ? b.data : "", b.len, err, errlen);
    buf_free(&b);
    return rc;
}
