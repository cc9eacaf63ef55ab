/*
 * smtp.c - SMTP reply parser and EHLO capability parser.  Owner: core
 * (smtp.h).  Pure: no sockets, no allocation, every size bounded.
 *
 * Why the parser owns a buffer and stops after one reply: the STARTTLS guard
 * must know exactly which bytes followed "220 Ready to start TLS" (a response
 * injection, CVE-2011-0411 style), so bytes after a final line are never
 * silently folded into the next reply.
 */
#include "probe/smtp.h"

#include <ctype.h>
#include <limits.h>
#include <string.h>

void smtp_parser_reset(struct smtp_parser *p)
{
    memset(p, 0, sizeof *p);
}

size_t smtp_parser_pending(const struct smtp_parser *p)
{
    return (p->len - p->start) + (p->in_long_line ? p->cut_bytes : 0) +
           p->cur_raw;
}

static void smtp_cur_clear(struct smtp_parser *p)
{
    memset(&p->cur, 0, sizeof p->cur);
    p->cur_lines = 0;
    p->cur_raw = 0;
    p->cur_enh[0] = '\0';
}

size_t smtp_parser_discard(struct smtp_parser *p)
{
    size_t n = smtp_parser_pending(p);
    p->start = p->len = 0;
    p->in_long_line = 0;
    p->cut_bytes = 0;
    smtp_cur_clear(p);
    return n;
}

int smtp_enhanced_code(const char *text, char out[16])
{
    const char *s = text;
    size_t n = 0;

    memset(out, 0, 16);     /* whole array: reply structs are compared bytewise */
    if (!s || (*s != '2' && *s != '4' && *s != '5') || s[1] != '.')
        return 0;
    s += 2;
    for (int part = 0; part < 2; part++) {
        int d = 0;
        while (d < 4 && isdigit((unsigned char)s[d]))
            d++;
        if (d < 1 || d > 3)
            return 0;
        s += d;
        if (part == 0) {
            if (*s != '.')
                return 0;
            s++;
        }
    }
    if (*s != '\0' && *s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
        return 0;
    n = (size_t)(s - text);     /* at most 1+1+3+1+3 = 9 */
    memcpy(out, text, n);
    out[n] = '\0';
    return 1;
}

/* Append text bytes to the reply, NUL shown as U+FFFD (a NUL would end the
 * C string and hide what follows). */
static void smtp_text_add(struct mxs_reply *r, size_t *tl, const unsigned char *s,
                          size_t n)
{
    static const unsigned char repl[3] = { 0xEF, 0xBF, 0xBD };
    for (size_t i = 0; i < n; i++) {
        const unsigned char *c = s[i] ? &s[i] : repl;
        size_t k = s[i] ? 1 : 3;
        if (*tl + k > MXS_REPLY_MAX_TEXT - 1) {
            r->truncated = 1;
            break;
        }
        memcpy(r->text + *tl, c, k);
        *tl += k;
    }
    r->text[*tl] = '\0';
}

/* One complete line (terminator removed, line[n] writable and set to NUL by
 * the caller).  raw is how many wire bytes it took. */
static enum smtp_feed_result smtp_line(struct smtp_parser *p, const unsigned char *l,
                                       size_t n, int cut, size_t raw,
                                       struct mxs_reply *out)
{
    struct mxs_reply *r = &p->cur;
    if (n < 3 || l[0] < '1' || l[0] > '5' || !isdigit(l[1]) || !isdigit(l[2]) ||
        (n > 3 && l[3] != ' ' && l[3] != '-')) {
        if (p->line_cb)
            p->line_cb(p->line_arg, (const char *)l, n, cut);
        return SMTP_ERR_SYNTAX;
    }
    int code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
    int final = (n == 3 || l[3] == ' ');

    /* Past the bound a line is read, counted and dropped: a sender (Postfix's
     * smtp_chat_resp) reads a multi-line reply to its end whatever its
     * length, so the bound must not decide the verdict.  The final line is
     * always passed on: its code decides. */
    if (r->n_lines < INT_MAX)
        r->n_lines++;
    p->cur_raw += raw;
    if (p->line_cb && (r->n_lines <= MXS_SMTP_MAX_REPLY_LINES || final))
        p->line_cb(p->line_arg, (const char *)l, n, cut);
    if (r->n_lines > 1 && code != r->code)
        r->mixed_codes = 1;
    r->code = code;
    if (cut)
        r->truncated = 1;

    const unsigned char *t = n > 4 ? l + 4 : l + n;
    size_t tn = n > 4 ? n - 4 : 0;
    if (p->cur_lines < MXS_REPLY_MAX_LINES) {
        size_t tl = strlen(r->text);
        if (p->cur_lines > 0)
            smtp_text_add(r, &tl, (const unsigned char *)"\n", 1);
        smtp_text_add(r, &tl, t, tn);
        p->cur_lines++;
    } else {
        r->truncated = 1;
    }
    if (!p->cur_enh[0]) {
        char e[16];
        /* l[n] is NUL, so the text is a C string (an embedded NUL only
         * shortens it, which is fine for a prefix match). */
        if (smtp_enhanced_code((const char *)t, e))
            memcpy(p->cur_enh, e, sizeof e);
    }
    if (!final)
        return SMTP_NEED_MORE;

    /* RFC 3463: the class must match the reply's first digit. */
    if (p->cur_enh[0] && p->cur_enh[0] - '0' == code / 100)
        memcpy(r->enhanced, p->cur_enh, sizeof r->enhanced);
    r->bytes = p->cur_raw;
    *out = *r;
    smtp_cur_clear(p);
    return SMTP_REPLY;
}

enum smtp_feed_result smtp_parser_feed(struct smtp_parser *p, const void *data,
                                       size_t n, size_t *used,
                                       struct mxs_reply *reply)
{
    const unsigned char *in = data;
    size_t off = 0;
    struct mxs_reply scratch;
    enum smtp_feed_result r;

    if (!reply)
        reply = &scratch;
    if (!in)
        n = 0;
    if (p->err) {
        if (used)
            *used = n;
        return (enum smtp_feed_result)p->err;
    }
    for (;;) {
        /* 1. Complete lines already buffered. */
        while (!p->in_long_line && p->start < p->len) {
            unsigned char *b = p->buf + p->start;
            size_t avail = p->len - p->start;
            unsigned char *lf = memchr(b, '\n', avail);
            if (!lf)
                break;
            size_t ln = (size_t)(lf - b), raw = ln + 1;
            int cut = 0;
            if (ln > 0 && b[ln - 1] == '\r')
                ln--;
            if (ln > MXS_SMTP_MAX_LINE) {
                ln = MXS_SMTP_MAX_LINE;
                cut = 1;
            }
            p->start += raw;
            b[ln] = '\0';           /* inside the consumed bytes */
            r = smtp_line(p, b, ln, cut, raw, reply);
            if (p->start == p->len)
                p->start = p->len = 0;
            if (r == SMTP_REPLY)
                goto out;
            if (r != SMTP_NEED_MORE)
                goto error;
        }
        /* A partial line over the limit: keep its head, drop the rest as
         * it comes (never buffer an unbounded line). */
        /* +1: a line of exactly MXS_SMTP_MAX_LINE bytes may still be
         * waiting for the LF after its CR; it is not too long. */
        if (!p->in_long_line && p->len - p->start > MXS_SMTP_MAX_LINE + 1) {
            memmove(p->buf, p->buf + p->start, MXS_SMTP_MAX_LINE);
            p->cut_bytes = p->len - p->start - MXS_SMTP_MAX_LINE;
            p->start = 0;
            p->len = MXS_SMTP_MAX_LINE;
            p->in_long_line = 1;
        }
        /* 2. The tail of a long line: count and drop up to LF. */
        if (p->in_long_line) {
            if (off == n) {
                r = SMTP_NEED_MORE;
                goto out;
            }
            const unsigned char *lf = memchr(in + off, '\n', n - off);
            if (!lf) {
                p->cut_bytes += n - off;
                off = n;
                r = SMTP_NEED_MORE;
                goto out;
            }
            p->cut_bytes += (size_t)(lf - (in + off)) + 1;
            off = (size_t)(lf - in) + 1;
            p->in_long_line = 0;
            unsigned char *b = p->buf + p->start;   /* start is 0 here */
            size_t ln = p->len - p->start;
            size_t raw = ln + p->cut_bytes;
            p->start = p->len = 0;
            p->cut_bytes = 0;
            b[ln] = '\0';   /* ln == MXS_SMTP_MAX_LINE < MXS_SMTP_BUF */
            r = smtp_line(p, b, ln, 1, raw, reply);
            if (r == SMTP_REPLY)
                goto out;
            if (r != SMTP_NEED_MORE)
                goto error;
            continue;
        }
        /* 3. More input into the buffer (what is left there is a partial
         * line of at most MXS_SMTP_MAX_LINE bytes, so there is room). */
        if (off == n) {
            r = SMTP_NEED_MORE;
            goto out;
        }
        if (p->start > 0) {
            memmove(p->buf, p->buf + p->start, p->len - p->start);
            p->len -= p->start;
            p->start = 0;
        }
        size_t room = sizeof p->buf - 1 - p->len;   /* 1: for line NULs */
        size_t k = n - off < room ? n - off : room;
        memcpy(p->buf + p->len, in + off, k);
        p->len += k;
        off += k;
    }
error:
    /* Nothing after a protocol error is trusted: drop it all, so the state
     * does not depend on how the input was chunked. */
    p->err = (int)r;
    smtp_parser_discard(p);
    off = n;
out:
    if (used)
        *used = off;
    return r;
}

/* ---- EHLO capabilities ------------------------------------------------- */

static int smtp_masked(const char *kw)
{
    size_t n = strlen(kw), x = 0;
    if (strchr(kw, '*'))
        return 1;   /* '*' is never part of an ehlo-keyword */
    for (size_t i = 0; i < n; i++)
        x += kw[i] == 'X';
    return n >= 4 && kw[0] == 'X' && kw[1] == 'X' && x + 1 >= n;
}

static void smtp_copy_cut(char *dst, size_t dstlen, const char *s, size_t n)
{
    if (n > dstlen - 1)
        n = dstlen - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

static int smtp_caps_find(const struct mxs_caps *c, const char *name)
{
    int n = c->n < 0 ? 0 : c->n > MXS_MAX_CAPS ? MXS_MAX_CAPS : c->n;
    for (int i = 0; i < n; i++)
        if (!strncmp(c->name[i], name, sizeof c->name[i]))
            return i;
    return -1;
}

void smtp_caps_parse(const struct mxs_reply *ehlo, struct mxs_caps *caps)
{
    memset(caps, 0, sizeof *caps);
    caps->size = -1;
    if (!ehlo)
        return;
    /* text is NUL-terminated within its array; never trust that blindly. */
    const char *s = ehlo->text;
    const char *end = s + strnlen(s, sizeof ehlo->text);
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    if (!nl)
        return;     /* greeting only */
    s = nl + 1;
    while (s < end) {
        const char *le = memchr(s, '\n', (size_t)(end - s));
        if (!le)
            le = end;
        const char *k = s;
        while (k < le && (*k == ' ' || *k == '\t' || *k == '\r'))
            k++;
        const char *ke = k;
        while (ke < le && *ke != ' ' && *ke != '\t' && *ke != '\r')
            ke++;
        const char *a = ke;
        while (a < le && (*a == ' ' || *a == '\t'))
            a++;
        const char *ae = le;
        while (ae > a && (ae[-1] == ' ' || ae[-1] == '\t' || ae[-1] == '\r'))
            ae--;
        s = le < end ? le + 1 : end;
        if (ke == k)
            continue;

        char name[32], args[96];
        smtp_copy_cut(name, sizeof name, k, (size_t)(ke - k));
        smtp_copy_cut(args, sizeof args, a, (size_t)(ae - a));
        for (char *c = name; *c; c++)
            if (*c >= 'a' && *c <= 'z')
                *c = (char)(*c - 'a' + 'A');

        /* A repeated keyword: the first one counts (and a diff of a list
         * with itself stays empty). */
        if (smtp_caps_find(caps, name) >= 0)
            continue;
        if (smtp_masked(name))
            caps->masked = 1;
        if (!strcmp(name, "STARTTLS")) caps->starttls = 1;
        else if (!strcmp(name, "PIPELINING")) caps->pipelining = 1;
        else if (!strcmp(name, "CHUNKING")) caps->chunking = 1;
        else if (!strcmp(name, "SMTPUTF8")) caps->smtputf8 = 1;
        else if (!strcmp(name, "REQUIRETLS")) caps->requiretls = 1;
        else if (!strcmp(name, "8BITMIME")) caps->eightbitmime = 1;
        else if (!strcmp(name, "SIZE")) {
            /* RFC 1870: no argument (or 0) means no fixed limit. */
            long v = 0;
            for (const char *d = a; d < ae && isdigit((unsigned char)*d); d++) {
                if (v > (LONG_MAX - 9) / 10) {
                    v = LONG_MAX;
                    break;
                }
                v = v * 10 + (*d - '0');
            }
            caps->size = v;
        }
        if (caps->n < MXS_MAX_CAPS) {
            memcpy(caps->name[caps->n], name, sizeof name);
            memcpy(caps->args[caps->n], args, sizeof args);
            caps->n++;
        }
    }
}

/* Append " <sign><name>" to out, whole words only. */
static void smtp_diff_word(char *out, size_t outlen, size_t *ol, int *full,
                           char sign, const char *name)
{
    size_t nl = strnlen(name, 32);
    size_t need = (*ol ? 1 : 0) + 1 + nl;
    if (!out || outlen == 0 || *full || *ol + need > outlen - 1) {
        *full = 1;
        return;
    }
    if (*ol)
        out[(*ol)++] = ' ';
    out[(*ol)++] = sign;
    memcpy(out + *ol, name, nl);
    *ol += nl;
    out[*ol] = '\0';
}

int smtp_caps_diff(const struct mxs_caps *a, const struct mxs_caps *b, char *out,
                   size_t outlen)
{
    size_t ol = 0;
    int full = 0, diff = 0;
    if (out && outlen)
        out[0] = '\0';
    int na = a->n < 0 ? 0 : a->n > MXS_MAX_CAPS ? MXS_MAX_CAPS : a->n;
    int nb = b->n < 0 ? 0 : b->n > MXS_MAX_CAPS ? MXS_MAX_CAPS : b->n;

    for (int i = 0; i < nb; i++) {
        if (!strcmp(b->name[i], "STARTTLS") || smtp_caps_find(a, b->name[i]) >= 0)
            continue;
        diff = 1;
        smtp_diff_word(out, outlen, &ol, &full, '+', b->name[i]);
    }
    for (int pass = 0; pass < 2; pass++) {     /* removed, then changed */
        for (int i = 0; i < na; i++) {
            if (!strcmp(a->name[i], "STARTTLS"))
                continue;
            int j = smtp_caps_find(b, a->name[i]);
            if (pass == 0 && j < 0) {
                diff = 1;
                smtp_diff_word(out, outlen, &ol, &full, '-', a->name[i]);
            } else if (pass == 1 && j >= 0 &&
                       strncmp(a->args[i], b->args[j], sizeof a->args[i])) {
                diff = 1;
                smtp_diff_word(out, outlen, &ol, &full, '~', a->name[i]);
            }
        }
    }
    return diff;
}
