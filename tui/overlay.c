/*
 * overlay.c - the modal text view over the panes: help, certificate detail,
 * the report, the whole transcript, a command's output.
 *
 * The text is escaped already (render_* and cmd output escape); lines
 * longer than the view wrap.  While it is open every key goes here (the
 * KM_OVERLAY context); keys it does not know are swallowed.
 * Owner: the console engineer (h6).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "core.h"
#include "tui.h"

static struct overlay_state {
    int open;
    char title[128];
    char **lines;
    int n, top;
} tv;

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

void overlay_close(struct ui *ui)
{
    for (int i = 0; i < tv.n; i++)
        free(tv.lines[i]);
    free(tv.lines);
    memset(&tv, 0, sizeof tv);
    ui->dirty = 1;
}

void overlay_open(struct ui *ui, const char *title, const char *text)
{
    overlay_close(ui);
    snprintf(tv.title, sizeof tv.title, "%s", title);
    int cap = 16;
    tv.lines = malloc((size_t)cap * sizeof *tv.lines);
    if (!tv.lines)
        return;
    const char *p = text;
    while (*p && tv.n < 100000) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (tv.n == cap) {
            char **nlines = realloc(tv.lines, (size_t)cap * 2 * sizeof *nlines);
            if (!nlines)
                break;
            tv.lines = nlines;
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
        tv.lines[tv.n++] = l;
        p = nl ? nl + 1 : p + len;
    }
    tv.open = 1;
    ui->dirty = 1;
}

static void overlay_geometry(const struct ui *ui, int *y, int *x, int *h, int *w)
{
    *y = 1;
    *x = ui->cols >= 90 ? 3 : 1;
    *h = ui->rows - 3;
    *w = ui->cols - 2 * *x;
}

/* Rows a logical line takes when wrapped at w columns. */
static int overlay_rows(const char *s, int w)
{
    int width = screen_width(s);
    return width <= w ? 1 : (width + w - 1) / w;
}

void overlay_draw(struct ui *ui)
{
    int y, x, h, w;
    overlay_geometry(ui, &y, &x, &h, &w);
    for (int i = 0; i < h; i++)
        mvhline(y + i, x, ' ', w);
    char title[200];
    snprintf(title, sizeof title, "%s  (q/Esc close, arrows/PgUp/PgDn scroll)", tv.title);
    screen_box(y, x, h, w, title, 1);
    int inner = w - 4, row = 0, vis = h - 2;
    if (inner < 4)
        return;
    for (int i = tv.top; i < tv.n && row < vis; i++) {
        const char *s = tv.lines[i];
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
    if (tv.n > 0 && (tv.top > 0 || row >= vis)) {
        char pos[48];
        snprintf(pos, sizeof pos, " %d/%d ", tv.top + 1, tv.n);
        screen_text(y + h - 1, x + w - 2 - (int)strlen(pos), (int)strlen(pos), pos, screen_attr(ROLE_TITLE));
    }
}

void overlay_key(struct ui *ui, enum km_action a)
{
    int y, x, h, w;
    overlay_geometry(ui, &y, &x, &h, &w);
    int vis = h - 2;
    switch (a) {
    case KA_CLOSE: case KA_CLOSE_CANCEL:
        overlay_close(ui);
        return;
    case KA_UP: tv.top--; break;
    case KA_DOWN: tv.top++; break;
    case KA_PAGE_UP: tv.top -= vis - 1; break;
    case KA_PAGE_DOWN: tv.top += vis - 1; break;
    case KA_TOP: tv.top = 0; break;
    case KA_BOTTOM: tv.top = tv.n - vis; break;
    default:
        return; /* the overlay is modal */
    }
    /* Keep at least one screenful when the lines wrap. */
    int rows = 0, last = tv.n;
    while (last > 0 && rows + overlay_rows(tv.lines[last - 1], w - 4) <= vis)
        rows += overlay_rows(tv.lines[--last], w - 4);
    if (tv.top > last)
        tv.top = last;
    if (tv.top < 0)
        tv.top = 0;
    ui->dirty = 1;
}

void overlay_scroll_to(int line)
{
    tv.top = line < tv.n ? line : 0;
}

int overlay_is_open(void)
{
    return tv.open;
}

void overlay_show_cert(struct ui *ui, int depth)
{
    struct engine *e = ui->cmd.engine;
    const struct mxs_chain_facts *ch = e ? engine_chain(e) : NULL;
    if (!ch || depth < 0 || depth >= ch->n)
        return;
    struct buf b;
    buf_init(&b, 1u << 20);
    render_cert_detail(&ch->cert[depth], &b);
    char title[64];
    snprintf(title, sizeof title, "Certificate depth %d", depth);
    overlay_open(ui, title, b.data ? b.data : "");
    buf_free(&b);
}
