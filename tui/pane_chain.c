/*
 * pane_chain.c - the Chain pane: one line per certificate (depth, CN, days
 * left, verdict glyph) with a selection; Enter opens the selected one's
 * detail in the overlay.
 * Owner: the console engineer (h6).
 */
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "tui.h"

static struct chain_state {
    struct rect r;
    int sel;                      /* the selected certificate's depth */
    int top, rows_per;            /* as last drawn: for a click's row */
} ch_st;

int chain_selected(void)
{
    return ch_st.sel;
}

static void chain_create(void)
{
    ch_st = (struct chain_state){{0, 0, 0, 0}, 0, 0, 1};
}

static void chain_reset(void)
{
    ch_st.sel = 0;
}

static void chain_resize(struct rect r)
{
    ch_st.r = r;
}

/* The name a row shows: the CN (else the subject), escaped once, an IDN
 * with its U-label.  A name cut by the core (core.h: longer than its
 * field) keeps its marker in view: the name is shortened to cols columns
 * minus the marker, "…(5120 bytes)" (shorter than the report's
 * "… (5120 bytes, cut)": the pane is narrow). */
static void chain_name(const struct mxs_cert *c, int cols, char *out, size_t outlen)
{
    int use_cn = c->cn_len > 0 || c->cn[0];
    const char *f = use_cn ? c->cn : c->subject;
    size_t cap = use_cn ? sizeof c->cn : sizeof c->subject;
    size_t len = use_cn ? c->cn_len : c->subject_len;
    size_t stored = mxs_name_stored(f, cap, len);
    if (len <= stored) {
        mxs_escape_name(f, cap, len, out, outlen, MXS_ESC_IDN);
        return;
    }
    char mark[64];
    snprintf(mark, sizeof mark, "\xE2\x80\xA6(%zu bytes)", len);
    int avail = cols - screen_width(mark);
    size_t room = outlen > sizeof mark ? outlen - sizeof mark : 1;
    mxs_escape_name(f, cap, len, out, room, 0);
    size_t n = strlen(out);
    while (n > 0 && screen_width(out) > (avail > 0 ? avail : 0)) {
        do
            n--;
        while (n > 0 && ((unsigned char)out[n] & 0xC0) == 0x80);
        out[n] = 0;
    }
    snprintf(out + n, outlen - n, "%s", mark);
}

static void chain_draw(struct ui *ui, int focused)
{
    struct rect r = ch_st.r;
    struct engine *e = ui->cmd.engine;
    const struct mxs_chain_facts *ch = e ? engine_chain(e) : NULL;
    char title[160] = "Chain";
    if (ch && ch->n > 0) {
        char flags[120];
        mxs_verify_flags_text(ch->verify_result, flags, sizeof flags);
        if (ch->verify_result == 0 && ch->trusted)
            snprintf(title, sizeof title, "Chain: trusted");
        else
            snprintf(title, sizeof title, "Chain: %s", flags);
        if (ch->dane_checked) {     /* DANE: how many TLSA records authenticate */
            int okn = 0;
            for (int k = 0; k < ch->n_dane_rr; k++)
                okn += ch->dane_rr[k].ok;
            size_t tl = strlen(title);
            snprintf(title + tl, sizeof title - tl, ", DANE %d/%d TLSA", okn, ch->n_dane_rr);
        }
        if (ch->alt_dane_checked) { /* the second certificate's, the same way */
            int okn = 0;
            for (int k = 0; k < ch->n_alt_dane_rr; k++)
                okn += ch->alt_dane_rr[k].ok;
            size_t tl = strlen(title);
            snprintf(title + tl, sizeof title - tl, ", 2nd %d/%d", okn, ch->n_alt_dane_rr);
        }
        if (ch->n_total > ch->n) {  /* more sent than kept: say so */
            size_t tl = strlen(title);
            snprintf(title + tl, sizeof title - tl, " (%d sent, %d shown)", ch->n_total, ch->n);
        }
    }
    screen_box(r.y, r.x, r.h, r.w, title, focused);
    if (r.h < 3)
        return;
    if (!ch || ch->n == 0) {
        screen_text(r.y + 1, r.x + 2, r.w - 3, "(no certificates yet)", screen_attr(ROLE_DIM));
        return;
    }
    int vis = r.h - 2;
    if (ch_st.sel >= ch->n)
        ch_st.sel = ch->n - 1;
    if (ch_st.sel < 0)
        ch_st.sel = 0;
    /* The thumbprint an Exchange operator looks for first: a row under
     * each certificate when the pane has the rows (SHA-256 too when it is
     * wide enough); cut with an ellipsis when narrow, whole in the detail. */
    int rows_per = vis >= 2 * ch->n + (ch->alt_present ? 1 : 0) ? 2 : 1;
    int certs_vis = vis / rows_per;
    int top = ch_st.sel >= certs_vis ? ch_st.sel - certs_vis + 1 : 0;
    ch_st.top = top;
    ch_st.rows_per = rows_per;
    for (int i = 0; i < certs_vis && top + i < ch->n; i++) {
        const struct mxs_cert *c = &ch->cert[top + i];
        if (rows_per == 2) {
            char fp[200], fit[220];
            int inner = r.w - 2;
            if (inner >= 3 + 6 + 40 + 10 + 64)
                snprintf(fp, sizeof fp, "  SHA-1 %s  SHA-256 %s", c->sha1, c->sha256);
            else
                snprintf(fp, sizeof fp, "  SHA-1 %s", c->sha1);
            screen_fit(fp, inner, fit, sizeof fit);
            screen_text(r.y + 2 + 2 * i, r.x + 1, inner, fit, screen_attr(ROLE_DIM));
        }
        char cn[200], line[256], days[24];
        unsigned f = c->verify_flags;
        enum mxs_step_state g = f == 0 ? MXS_ST_OK :
            (f & (MXS_V_EXPIRED | MXS_V_FUTURE | MXS_V_NOT_TRUSTED | MXS_V_NAME | MXS_V_REVOKED))
            ? MXS_ST_FAIL : MXS_ST_WARN;
        snprintf(days, sizeof days, "%dd", c->days_left);
        /* Depth and name on the left, days and verdict glyph on the right. */
        int inner = r.w - 2;
        /* A certificate a TLSA record matched: "T" before its days (the
         * records themselves: the detail overlay, Enter). */
        int tlsa = 0;
        for (int k = 0; k < ch->n_dane_rr && !tlsa; k++)
            tlsa = ch->dane_rr[k].match_depth == c->depth;
        int right = (int)strlen(days) + 3 + (tlsa ? 2 : 0);
        int lead = snprintf(line, sizeof line, "%d ", c->depth);
        chain_name(c, inner - right - lead, cn, sizeof cn);
        snprintf(line, sizeof line, "%d %s", c->depth, cn);
        int sel = focused && top + i == ch_st.sel;
        attr_t a = sel ? screen_attr(ROLE_SELECT) : A_NORMAL;
        int y = r.y + 1 + rows_per * i;
        if (sel)
            mvhline(y, r.x + 1, ' ' | a, inner);
        screen_text(y, r.x + 1, inner - right, line, a);
        char tail[48];
        snprintf(tail, sizeof tail, "%s%s %s", tlsa ? "T " : "", days, screen_state_glyph(g));
        attr_t ta = sel ? a : screen_attr(g == MXS_ST_OK ? ROLE_OK : g == MXS_ST_FAIL ? ROLE_ERROR : ROLE_WARN);
        screen_text(y, r.x + 1 + inner - right + 1, right - 1, tail, ta);
    }
    /* A second certificate (dual RSA + ECDSA server): its leaf on the row
     * after the chain, marked "2nd" and its key type; "T" when a TLSA
     * record authenticates its chain, "noT" (and a warning) when records
     * bind DANE senders and none does (dane-second-cert-unmatched). */
    int shown = (ch->n - top < certs_vis ? ch->n - top : certs_vis) * rows_per;
    if (ch->alt_present && shown < vis) {
        const struct mxs_cert *c = &ch->alt_leaf;
        char cn[200], line[256], days[24], tail[48];
        int not = ch->alt_dane_checked && !ch->alt_dane_match && ch->dane_usable;
        enum mxs_step_state g = c->verify_flags ? MXS_ST_FAIL : not ? MXS_ST_WARN : MXS_ST_OK;
        const char *mark = ch->alt_dane_match ? "T " : not ? "noT " : "";
        snprintf(days, sizeof days, "%dd", c->days_left);
        int inner = r.w - 2, right = (int)strlen(days) + 3 + (int)strlen(mark);
        chain_name(c, inner - right - 5 - (int)strlen(c->key_type), cn, sizeof cn);
        snprintf(line, sizeof line, "2nd %s %s", c->key_type, cn);
        screen_text(r.y + 1 + shown, r.x + 1, inner - right, line, screen_attr(ROLE_DIM));
        snprintf(tail, sizeof tail, "%s%s %s", mark, days, screen_state_glyph(g));
        screen_text(r.y + 1 + shown, r.x + 1 + inner - right + 1, right - 1, tail,
                    screen_attr(g == MXS_ST_OK ? ROLE_OK : g == MXS_ST_WARN ? ROLE_WARN : ROLE_ERROR));
    }
}

/* Its rows: a name row and a thumbprint row per certificate, and one for a
 * second certificate's leaf; one for "(no certificates yet)". */
static int chain_want(struct ui *ui, int w, int *must)
{
    (void)w;
    const struct mxs_chain_facts *ch = ui->cmd.engine ? engine_chain(ui->cmd.engine) : NULL;
    *must = 1;
    if (!ch || ch->n == 0)
        return 1;
    return 2 * ch->n + (ch->alt_present ? 1 : 0);
}

/* A click selects the certificate on that row (its name or its
 * thumbprint row). */
static void chain_click(struct ui *ui, int row, int col)
{
    (void)col;
    const struct mxs_chain_facts *ch = ui->cmd.engine ? engine_chain(ui->cmd.engine) : NULL;
    int i = ch_st.top + row / (ch_st.rows_per > 0 ? ch_st.rows_per : 1);
    if (ch && i >= 0 && i < ch->n)
        ch_st.sel = i;
}

static int chain_key(struct ui *ui, enum km_action a)
{
    struct engine *e = ui->cmd.engine;
    const struct mxs_chain_facts *cf = e ? engine_chain(e) : NULL;
    int n = cf ? cf->n : 0;
    switch (a) {
    case KA_UP: if (ch_st.sel > 0) ch_st.sel--; break;
    case KA_DOWN: if (ch_st.sel < n - 1) ch_st.sel++; break;
    case KA_TOP: case KA_PAGE_UP: ch_st.sel = 0; break;
    case KA_BOTTOM: case KA_PAGE_DOWN: ch_st.sel = n > 0 ? n - 1 : 0; break;
    case KA_OPEN:
        if (n > 0)
            overlay_show_cert(ui, ch_st.sel);
        else
            ui_message(ui, 1, "no certificates yet: run to the CHAIN step first");
        break;
    default:
        return 0;
    }
    ui->dirty = 1;
    return 1;
}

const struct pane_ops pane_chain = {
    .keys = KM_CHAIN,
    .create = chain_create,
    .reset = chain_reset,
    .resize = chain_resize,
    .draw = chain_draw,
    .key = chain_key,
    .want = chain_want,
    .click = chain_click,
};
