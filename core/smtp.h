/*
 * smtp.h - SMTP reply parser and EHLO capability parser.  Pure: no sockets.
 *
 * The parser is fed raw bytes in any chunking and yields complete replies.
 * It bounds everything: a line longer than MXS_SMTP_MAX_LINE is cut (the rest
 * of it is counted and dropped), a reply of more than MXS_SMTP_MAX_REPLY_LINES
 * lines is an error (endless "250-" stream), and a reply whose lines carry
 * different codes is flagged (mixed_codes).  Lines may end in CRLF or bare LF.
 * Bytes that follow the final line of a reply stay buffered and are reported
 * by smtp_parser_pending(): the STARTTLS guard discards and reports them.
 *
 * Ownership: struct smtp_parser is the caller's (stack or embedded), holds no
 * heap memory; smtp_parser_reset() clears it.
 */
#ifndef MXS_SMTP_H
#define MXS_SMTP_H
#include <stddef.h>
#include "core.h"

#define MXS_SMTP_MAX_LINE 2048         /* RFC 5321: 512; we are lenient      */
#define MXS_SMTP_MAX_REPLY_LINES 256   /* more: "endless reply" error        */
#define MXS_SMTP_BUF 8192

enum smtp_feed_result {
    SMTP_NEED_MORE = 0,   /* no complete reply yet                          */
    SMTP_REPLY,           /* *reply is complete                             */
    SMTP_ERR_SYNTAX,      /* a line that is not "DDD[ -]..." (garbage)      */
    SMTP_ERR_TOO_LONG     /* more than MXS_SMTP_MAX_REPLY_LINES lines       */
};

/* Called for every complete line as received (without CRLF), for the
 * transcript; len is the stored (possibly cut) length. */
typedef void (*smtp_line_cb)(void *arg, const char *line, size_t len, int cut);

struct smtp_parser {
    unsigned char buf[MXS_SMTP_BUF];
    size_t len;                 /* bytes buffered                          */
    size_t cut_bytes;           /* bytes dropped from the current long line */
    int in_long_line;
    struct mxs_reply cur;       /* reply being assembled                   */
    int cur_lines;
    int err;                    /* sticky error                            */
    smtp_line_cb line_cb;
    void *line_arg;
};

void smtp_parser_reset(struct smtp_parser *p);
/* Feed n bytes; *used tells how many were consumed (the rest must be fed
 * again after a reply was taken).  On SMTP_REPLY, *reply is filled and the
 * parser is ready for the next reply. */
enum smtp_feed_result smtp_parser_feed(struct smtp_parser *p, const void *data,
                                       size_t n, size_t *used,
                                       struct mxs_reply *reply);
/* Bytes received after the last complete reply and not yet part of one. */
size_t smtp_parser_pending(const struct smtp_parser *p);
/* Throw those away (after STARTTLS): returns how many were discarded. */
size_t smtp_parser_discard(struct smtp_parser *p);

/* Parse the lines of an EHLO reply (text as in struct mxs_reply: lines
 * joined by '\n', the first line is the greeting and is skipped). */
void smtp_caps_parse(const struct mxs_reply *ehlo, struct mxs_caps *caps);
/* 1 when a and b differ in any keyword other than STARTTLS; describes the
 * difference ("+AUTH -CHUNKING") in out. */
int smtp_caps_diff(const struct mxs_caps *a, const struct mxs_caps *b, char *out,
                   size_t outlen);

/* Extract an enhanced status code "X.Y.Z" from the start of text (RFC 3463);
 * returns 1 and writes it, or 0. */
int smtp_enhanced_code(const char *text, char out[16]);

#endif
