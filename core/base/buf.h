/*
 * buf.h - a growable byte buffer with a hard cap, for rendering text.
 * Ownership: the buffer owns data; buf_free() releases it.
 *
 * Bounding: data never holds more than max bytes (plus the NUL).  When an
 * append does not fit, as much as fits is kept, cut back to a UTF-8
 * character boundary (escaped appends cut on an escape boundary), failed is
 * set, and every later append is ignored: the text is always a clean prefix
 * of what was asked for.  max 0 means BUF_DEFAULT_MAX.
 */
#ifndef MXS_BUF_H
#define MXS_BUF_H
#include <stdarg.h>
#include <stddef.h>

#define BUF_DEFAULT_MAX (16u * 1024 * 1024)

struct buf {
    char *data;     /* always NUL-terminated when non-NULL; NULL until the
                       first append: use buf_str() to read               */
    size_t len, cap, max;
    int failed;     /* allocation failed or max reached */
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
/* Forget the content (keeps the memory) and clear failed. */
void buf_reset(struct buf *b);
/* The text, "" when nothing was appended: never NULL. */
const char *buf_str(const struct buf *b);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Append untrusted bytes through mxs_escape(). */
void buf_add_escaped(struct buf *b, const void *p, size_t n, int flags);
void buf_puts_escaped(struct buf *b, const char *s);

#endif
