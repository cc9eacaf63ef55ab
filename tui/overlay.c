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

#include "core.h"
#include "tui.h"

static struct overlay_state {
    int open;
    char title[128];
    char **lines;
    int n, top;
    char search[128];            /* / in the overlay: case-insensitive     */
    int hit;                     /* line of the current match, -1          */
    /* a live view (the timeline): its text made again at every draw */
    void (*render)(struct ui *ui, struct buf *out, int width);
} tv;

/* Continuation rows of a wrapped line start under its text (its leading
 * spaces), unless that leaves less than half the width. */
static int overlay_indent(const char *s, int w)
{
    int ind = 0;
    while (s[ind] == ' ')
        ind++;
    return ind < w / 2 ? ind : 0;
}

/* Rows one logical line takes at width w, the same way overlay_draw draws
 * it (word wrap, hanging indent). */
static int overlay_rows(const char *s, int w)
{
    int ind = overlay_indent(s, w), rows = 0;
    const char *p = s;
    do {
        int avail = rows ? w - ind : w;
        p += screen_wrap(p, avail, NULL);
        while (*p == ' ')
            p++;
        rows++;
    } while (*p && rows < 10000);
    return rows;
}

static void overlay_free_lines(void)
{
    for (int i = 0; i < tv.n; i++)
        free(tv.lines[i]);
    free(tv.lines);
    tv.lines = NULL;
    tv.n = 0;
}

void overlay_close(struct ui *ui)
{
    overlay_free_lines();
    memset(&tv, 0, sizeof tv);
    tv.hit = -1;
    ui->dirty = 1;
}

/* The view's lines from text (a copy each). */
static void overlay_set_text(const char *text)
{
    overlay_free_lines();
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
}

void overlay_open(struct ui *ui, const char *title, const char *text)
{
    overlay_close(ui);
    snprintf(tv.title, sizeof tv.title, "%s", title);
    overlay_set_text(text);
    tv.open = 1;
    ui->dirty = 1;
}

static void overlay_geometry(const struct ui *ui, int *y, int *x, int *h, int *w);
static void overlay_goto_match(struct ui *ui, int from, int dir);

/* Make a live view's text again, at the width it is drawn at. */
static void overlay_rerender(struct ui *ui)
{
    int y, x, h, w;
    struct buf b;
    overlay_geometry(ui, &y, &x, &h, &w);
    buf_init(&b, 1u << 20);
    tv.render(ui, &b, w - 4);
    overlay_set_text(buf_str(&b));
    buf_free(&b);
    if (tv.hit >= tv.n)
        tv.hit = -1;
}

void overlay_open_live(struct ui *ui, const char *title,
                       void (*render)(struct ui *ui, struct buf *out, int width))
{
    overlay_open(ui, title, "");
    tv.render = render;
    overlay_rerender(ui);
}

void overlay_find(struct ui *ui, const char *s)
{
    snprintf(tv.search, sizeof tv.search, "%s", s);
    overlay_goto_match(ui, 0, 1);
}

static void overlay_geometry(const struct ui *ui, int *y, int *x, int *h, int *w)
{
    *y = 1;
    *x = ui->cols >= 90 ? 3 : 1;
    *h = ui->rows - 3;
    *w = ui->cols - 2 * *x;
}

void overlay_draw(struct ui *ui)
{
    int y, x, h, w;
    if (tv.render)
        overlay_rerender(ui);
    overlay_geometry(ui, &y, &x, &h, &w);
    for (int i = 0; i < h; i++)
        mvhline(y + i, x, ' ', w);
    char title[200];
    snprintf(title, sizeof title, "%s  (q/Esc close, arrows/PgUp/PgDn/g/G scroll, / search)", tv.title);
    screen_box(y, x, h, w, title, 1);
    int inner = w - 4, row = 0, vis = h - 2;
    if (inner < 4)
        return;
    for (int i = tv.top; i < tv.n && row < vis; i++) {
        const char *s = tv.lines[i];
        int ind = overlay_indent(s, inner), first = 1;
        attr_t a = i == tv.hit ? screen_attr(ROLE_MATCH) : A_NORMAL;
        do {
            int off = first ? 0 : ind;
            size_t bytes = screen_wrap(s, inner - off, NULL);
            char part[1024];
            if (bytes >= sizeof part)
                bytes = sizeof part - 1;
            memcpy(part, s, bytes);
            part[bytes] = 0;
            screen_text(y + 1 + row, x + 2 + off, inner - off, part, a);
            s += bytes;
            while (*s == ' ')
                s++;
            row++;
            first = 0;
        } while (*s && row < vis);
    }
    if (tv.n > 0 && (tv.top > 0 || row >= vis)) {
        char pos[48];
        snprintf(pos, sizeof pos, " %d/%d ", tv.top + 1, tv.n);
        screen_text(y + h - 1, x + w - 2 - (int)strlen(pos), (int)strlen(pos), pos, screen_attr(ROLE_TITLE));
    }
}

/* ---- search (/ n N, as in less) ---------------------------------------- */

static void overlay_goto_match(struct ui *ui, int from, int dir)
{
    if (!tv.search[0] || tv.n == 0)
        return;
    for (int k = 0; k < tv.n; k++) {
        int i = from + dir * k;
        int wrapped = i >= tv.n || i < 0;
        i = (i % tv.n + tv.n) % tv.n;
        if (!strcasestr(tv.lines[i], tv.search))
            continue;
        tv.hit = i;
        tv.top = i > 2 ? i - 2 : 0;
        ui_search_found(ui, i, tv.n, dir, wrapped);
        return;
    }
    char es[140];
    mxs_escape_str(tv.search, es, sizeof es, 0);
    ui_message(ui, 1, "not found: %s", es);
    tv.hit = -1;
}

static void overlay_search_done(struct ui *ui, int accepted)
{
    if (!accepted || !tv.search[0]) {
        tv.search[0] = 0;
        tv.hit = -1;
        ui->dirty = 1;
        return;
    }
    overlay_goto_match(ui, tv.top, 1);
    ui->dirty = 1;
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
    case KA_SEARCH:
        tv.search[0] = 0;
        tv.hit = -1;
        prompt_open(ui, "search: /", tv.search, sizeof tv.search, overlay_search_done);
        return;
    case KA_MATCH_NEXT: case KA_MATCH_PREV:
        if (!tv.search[0]) {
            ui_message(ui, 1, "no search: / starts one");
            return;
        }
        overlay_goto_match(ui, (tv.hit >= 0 ? tv.hit : tv.top) + (a == KA_MATCH_NEXT ? 1 : -1),
                           a == KA_MATCH_NEXT ? 1 : -1);
        break;
    case KA_UP: tv.top--; break;
    case KA_DOWN: tv.top++; break;
    case KA_PAGE_UP: tv.top -= vis - 1; break;
    case KA_PAGE_DOWN: tv.top += vis - 1; break;
    case KA_TOP: tv.top = 0; break;
    case KA_BOTTOM: tv.top = tv.n - vis; break;
    default:
        return; /* the overlay is modal */
    }
    /* Keep at least one screenful when the lines wrap: `last` is the
     * first line of the last screenful, which is also where End goes. */
    int rows = 0, last = tv.n;
    while (last > 0 && rows + overlay_rows(tv.lines[last - 1], w - 4) <= vis)
        rows += overlay_rows(tv.lines[--last], w - 4);
    if (tv.top > last || a == KA_BOTTOM)
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

/* The TLSA records of the MX probed that name this certificate (DANE). */
static void overlay_cert_tlsa(struct engine *e, const struct mxs_chain_facts *ch, int depth,
                              struct buf *b)
{
    const struct mxs_dns_facts *d = engine_dns(e);
    const struct mxs_connect_facts *cn = engine_connection(e);
    if (!ch->dane_checked || cn->mx_index < 0 || cn->mx_index >= d->n_mx)
        return;
    const struct mxs_mx *m = &d->mx[cn->mx_index];
    int shown = 0;
    for (int k = 0; k < ch->n_dane_rr && k < m->n_tlsa; k++) {
        const struct mxs_dane_rr *r = &ch->dane_rr[k];
        const struct mxs_tlsa *t = &m->tlsa_rr[k];
        if (r->match_depth != depth)
            continue;
        buf_printf(b, "%s    record %d: %u %u %u ", shown++ ? "" : "  TLSA:\n", k, t->usage,
                   t->selector, t->mtype);
        for (size_t i = 0; i < t->len && i < 32; i++)
            buf_printf(b, "%02X", t->data[i]);
        buf_puts(b, r->ok ? " (authenticates the chain)\n" : " (does not authenticate: ");
        if (!r->ok) {
            buf_puts_escaped(b, r->why);
            buf_puts(b, ")\n");
        }
    }
    if (!shown)
        buf_puts(b, "  TLSA:         no record of the MX names this certificate\n");
}

/* Under the leaf: the server's second certificate (the RSA-only
 * handshake of a dual RSA + ECDSA server) and what each TLSA record
 * matched in its chain, as a DANE sender that negotiates it sees. */
static void overlay_cert_second(struct engine *e, const struct mxs_chain_facts *ch, struct buf *b)
{
    const struct mxs_cert *a = &ch->alt_leaf;
    buf_printf(b, "\n  2nd certificate (RSA-only handshake, senders that offer only RSA):\n"
               "    %s %d, SHA-1 %s\n    SHA-256 %s\n    key (TLSA 3 1 1) %s\n", a->key_type,
               a->key_bits, a->sha1, a->sha256, a->spki_sha256);
    const struct mxs_dns_facts *d = engine_dns(e);
    const struct mxs_connect_facts *cn = engine_connection(e);
    if (!ch->alt_dane_checked || cn->mx_index < 0 || cn->mx_index >= d->n_mx)
        return;
    const struct mxs_mx *m = &d->mx[cn->mx_index];
    buf_printf(b, "    TLSA against its chain: %s\n", ch->alt_dane_match ? "a record authenticates it"
               : "no record authenticates it: DANE senders that get it defer");
    for (int k = 0; k < ch->n_alt_dane_rr && k < m->n_tlsa; k++) {
        const struct mxs_dane_rr *r = &ch->alt_dane_rr[k];
        const struct mxs_tlsa *t = &m->tlsa_rr[k];
        buf_printf(b, "    record %d: %u %u %u ", k, t->usage, t->selector, t->mtype);
        for (size_t i = 0; i < t->len && i < 32; i++)
            buf_printf(b, "%02X", t->data[i]);
        if (r->ok)
            buf_printf(b, " (matches its certificate %d, authenticates)\n", r->match_depth);
        else {
            buf_puts(b, " (");
            buf_puts_escaped(b, r->why);
            buf_puts(b, ")\n");
        }
    }
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
    overlay_cert_tlsa(e, ch, depth, &b);
    if (depth == 0 && ch->alt_present)
        overlay_cert_second(e, ch, &b);
    char title[64];
    snprintf(title, sizeof title, "Certificate depth %d", depth);
    overlay_open(ui, title, b.data ? b.data : "");
    buf_free(&b);
}
