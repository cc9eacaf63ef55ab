/*
 * buf.h - a growable byte buffer with a hard cap, for rendering text.
 * Ownership: the buffer owns data; buf_free() releases it.
 */
#ifndef MXS_BUF_H
#define MXS_BUF_H
#include <stdarg.h>
#include <stddef.h>

struct buf {
    char *data;     /* always NUL-terminated when non-NULL */
    size_t len, cap, max;
    int failed;     /* allocation failed or max reached */
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append untrusted bytes through mxs_escape(). */
void buf_add_escaped(struct buf *b, const void *p, size_t n, int flags);
void buf_puts_escaped(struct buf *b, const char *s);

#endif
