/*
 * buf.c - bounded growable text buffer.  Owner: core (buf.h).
 * Every failure mode (allocation, cap) ends in the same sticky "failed"
 * state so renderers can append freely and check once at the end.
 */
#include "base/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/esc.h"

void buf_init(struct buf *b, size_t max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max ? max : BUF_DEFAULT_MAX;
    if (b->max > SIZE_MAX / 4)
        b->max = SIZE_MAX / 4;  /* keeps len + want + 1 from wrapping */
    b->failed = 0;
}

void buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    b->failed = 0;
    if (b->data)
        b->data[0] = '\0';
}

const char *buf_str(const struct buf *b)
{
    return b->data ? b->data : "";
}

/* Make room for want more bytes (+NUL), bounded by max.  Returns how many
 * of them can be written (may be less than want when max is reached). */
static size_t buf_room(struct buf *b, size_t want)
{
    if (b->failed)
        return 0;
    size_t avail = b->max - b->len;     /* len <= max always */
    if (want > avail)
        want = avail;
    size_t need = b->len + want + 1;
    if (need > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc < need)
            nc = nc > (SIZE_MAX / 2) ? need : nc * 2;
        if (nc > b->max + 1)
            nc = b->max + 1;
        char *d = realloc(b->data, nc);
        if (!d) {
            b->failed = 1;
            return 0;
        }
        b->data = d;
        b->cap = nc;
    }
    return want;
}

/* Length of the longest prefix of p[0..n) that does not end inside a UTF-8
 * sequence (we only look back, at most 3 bytes). */
static size_t buf_utf8_cut(const unsigned char *p, size_t n)
{
    size_t i = n, back = 0;
    while (i > 0 && back < 4 && (p[i - 1] & 0xC0) == 0x80) {
        i--;
        back++;
    }
    if (i == 0 || back >= 4)
        return n;   /* not UTF-8 anyway: keep the bytes */
    unsigned char lead = p[i - 1];
    size_t seq = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (seq > 1 && back + 1 < seq)
        return i - 1;   /* the last sequence is incomplete: drop it */
    return n;
}

void buf_add(struct buf *b, const void *p, size_t n)
{
    if (b->failed)
        return;
    size_t k = buf_room(b, n);
    if (b->failed)
        return;
    if (k < n)
        k = buf_utf8_cut(p, k);
    if (k)
        memcpy(b->data + b->len, p, k);
    b->len += k;
    if (b->data)
        b->data[b->len] = '\0';
    if (k < n)
        b->failed = 1;
}

void buf_puts(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    if (b->failed)
        return;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    size_t k = buf_room(b, (size_t)n);
    if (b->failed)
        return;
    /* vsnprintf writes k bytes + NUL into the room buf_room made. */
    vsnprintf(b->data + b->len, k + 1, fmt, ap);
    if (k < (size_t)n) {
        k = buf_utf8_cut((const unsigned char *)b->data + b->len, k);
        b->failed = 1;
    }
    b->len += k;
    b->data[b->len] = '\0';
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void buf_add_escaped(struct buf *b, const void *p, size_t n, int flags)
{
    if (b->failed)
        return;
    size_t need = mxs_escape(p, n, NULL, 0, flags);
    size_t k = buf_room(b, need);
    if (b->failed)
        return;
    /* mxs_escape cuts on an escape boundary by itself. */
    size_t full = mxs_escape(p, n, b->data + b->len, k + 1, flags);
    b->len += strlen(b->data + b->len);
    if (full > k)
        b->failed = 1;
}

void buf_puts_escaped(struct buf *b, const char *s)
{
    buf_add_escaped(b, s, strlen(s), 0);
}
