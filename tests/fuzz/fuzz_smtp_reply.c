/*
 * fuzz_smtp_reply.c - the SMTP reply parser on arbitrary bytes.
 * Checks: replies are well-formed and bounded, the parser always makes
 * progress (no endless loop), and chunking never changes the result: the
 * input fed whole and fed in small pieces must give the same replies.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/smtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_REPLIES 64

struct fz_run {
    int n;                      /* replies */
    struct mxs_reply r[FZ_MAX_REPLIES];
    enum smtp_feed_result last;
    size_t pending, lines;
};

static void fz_line(void *arg, const char *line, size_t len, int cut)
{
    struct fz_run *run = arg;
    (void)cut;
    if (len > MXS_SMTP_MAX_LINE || line[len] != '\0')
        abort();
    run->lines++;
}

static void fz_check_reply(const struct mxs_reply *r)
{
    if (r->code < 100 || r->code > 599) abort();
    if (r->n_lines < 1 || r->bytes < (size_t)r->n_lines) abort();   /* a line is >= 1 byte */
    size_t tl = strnlen(r->text, sizeof r->text);
    if (tl >= sizeof r->text) abort();
    size_t el = strnlen(r->enhanced, sizeof r->enhanced);
    if (el >= sizeof r->enhanced) abort();
    if (el && r->enhanced[0] - '0' != r->code / 100) abort();
    int nl = 1;
    for (size_t i = 0; i < tl; i++)
        nl += r->text[i] == '\n';
    if (nl > MXS_REPLY_MAX_LINES || nl > r->n_lines) abort();
}

static void fz_run(const uint8_t *d, size_t n, size_t chunk, struct fz_run *run)
{
    struct smtp_parser p;
    smtp_parser_reset(&p);
    p.line_cb = fz_line;
    p.line_arg = run;
    memset(run, 0, sizeof *run);
    size_t off = 0;
    enum smtp_feed_result r = SMTP_NEED_MORE;
    int spins = 0;
    while (off < n || r == SMTP_REPLY) {
        size_t k = n - off < chunk ? n - off : chunk, used = 9999999;
        struct mxs_reply rep;
        r = smtp_parser_feed(&p, d + off, k, &used, &rep);
        if (used > k) abort();
        off += used;
        if (r == SMTP_REPLY) {
            fz_check_reply(&rep);
            if (run->n < FZ_MAX_REPLIES)
                run->r[run->n] = rep;
            run->n++;
            if (run->n > (int)n + 1) abort();    /* each reply eats a byte */
        } else if (r == SMTP_NEED_MORE) {
            if (used != k) abort();
        } else {
            if (used != k) abort();
            break;
        }
        if (used == 0 && r != SMTP_REPLY && ++spins > 2) abort();
    }
    run->last = r;
    run->pending = smtp_parser_pending(&p);
    if (run->pending > n) abort();
    size_t disc = smtp_parser_discard(&p);
    if (disc != run->pending || smtp_parser_pending(&p) != 0) abort();
}

static int fz_same(const struct fz_run *a, const struct fz_run *b)
{
    if (a->n != b->n || a->last != b->last || a->pending != b->pending ||
        a->lines != b->lines)
        return 0;
    int m = a->n < FZ_MAX_REPLIES ? a->n : FZ_MAX_REPLIES;
    for (int i = 0; i < m; i++)
        if (memcmp(&a->r[i], &b->r[i], sizeof a->r[i]))
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fz_run whole, piece;
    if (size == 0) {
        fz_run(data, 0, 1, &whole);
        return 0;
    }
    size_t chunk = 1 + data[0] % 13;
    fz_run(data, size, size, &whole);
    fz_run(data, size, chunk, &piece);
    if (!fz_same(&whole, &piece))
        abort();
    return 0;
}
