/*
 * smtp.h - SMTP reply parser and EHLO capability parser.  Pure: no sockets.
 *
 * The parser is fed raw bytes in any chunking and yields complete replies.
 * It bounds everything: a line longer than MXS_SMTP_MAX_LINE is cut (the rest
 * of it is counted and dropped); of a reply longer than
 * MXS_SMTP_MAX_REPLY_LINES lines, the lines past the bound are read, counted
 * (n_lines, bytes) and dropped without reaching the line callback, the final
 * line excepted (an endless "250-" stream is the caller's deadline to end, as
 * a sender reads a reply to its end); and a reply whose lines carry
 * different codes is flagged (mixed_codes).  Lines may end in CRLF or bare LF.
 *
 * Feeding model.  smtp_parser_feed() copies input into the parser's own
 * buffer (*used = bytes copied) and then works on that buffer.  It returns
 * as soon as ONE reply is complete; bytes after that reply's final line stay
 * in the parser buffer, unprocessed: smtp_parser_pending() counts them (plus
 * any input not yet copied is still the caller's: n - *used).  Typical loop:
 *
 *     size_t off = 0, used;
 *     for (;;) {
 *         r = smtp_parser_feed(p, data + off, n - off, &used, &reply);
 *         off += used;
 *         if (r != SMTP_REPLY) break;     // NEED_MORE: off == n, all taken
 *         handle(&reply);                  // then loop: more may be buffered
 *     }
 *
 * On SMTP_NEED_MORE all input was consumed (*used == n).  Feeding n == 0 is
 * fine and yields a reply already buffered.  The STARTTLS guard: after the
 * "220" reply, smtp_parser_pending(p) + (n - off) bytes were sent by the
 * server before the handshake; smtp_parser_discard() drops the buffered ones
 * (the caller drops its n - off itself).
 *
 * Text.  struct mxs_reply holds at most MXS_REPLY_MAX_LINES lines and
 * MXS_REPLY_MAX_TEXT-1 bytes of text (truncated is set when lines, bytes or
 * a cut long line were dropped); n_lines counts every line received and
 * bytes every byte of them (terminators included).  The
 * reply code is the final line's; mixed_codes is set when lines disagree.
 * A NUL byte inside a line is stored as U+FFFD in the text (the line
 * callback sees the raw bytes).  enhanced: the RFC 3463 code of the first
 * line carrying one whose class matches the reply's first digit.
 *
 * Errors are sticky: after SMTP_ERR_*, every feed consumes all input and
 * returns the same error until smtp_parser_reset(); buffered bytes are
 * dropped at the error (pending() is then 0).
 *
 * Ownership: struct smtp_parser is the caller's (stack or embedded), holds no
 * heap memory; smtp_parser_reset() clears it.
 */
#ifndef MXS_SMTP_H
#define MXS_SMTP_H
#include <stddef.h>
#include "core.h"

#define MXS_SMTP_MAX_LINE 2048         /* RFC 5321: 512; we are lenient      */
#define MXS_SMTP_MAX_REPLY_LINES 256   /* lines passed to line_cb; later ones
                                          * (but the final) are only counted  */
#define MXS_SMTP_BUF 8192

enum smtp_feed_result {
    SMTP_NEED_MORE = 0,   /* no complete reply yet                          */
    SMTP_REPLY,           /* *reply is complete                             */
    SMTP_ERR_SYNTAX       /* a line that is not "DDD[ -]..." (garbage)      */
};

/* Called for every complete line as received (without CRLF), for the
 * transcript; len is the stored (possibly cut) length; line[len] is a NUL
 * but the line itself may contain NUL bytes.  Also called for the garbage
 * line that causes SMTP_ERR_SYNTAX. */
typedef void (*smtp_line_cb)(void *arg, const char *line, size_t len, int cut);

struct smtp_parser {
    unsigned char buf[MXS_SMTP_BUF];
    size_t start, len;          /* unprocessed bytes: buf[start..len)      */
    size_t cut_bytes;           /* bytes dropped from the current long line */
    int in_long_line;
    struct mxs_reply cur;       /* reply being assembled                   */
    int cur_lines;              /* lines of cur stored in cur.text         */
    size_t cur_raw;             /* wire bytes of cur's lines (pending)     */
    char cur_enh[16];           /* first enhanced code seen in cur         */
    int err;                    /* sticky error                            */
    smtp_line_cb line_cb;
    void *line_arg;
};

/* Clears everything, line_cb included: call it first, then set line_cb. */
void smtp_parser_reset(struct smtp_parser *p);
/* Feed n bytes; *used tells how many were consumed (the rest must be fed
 * again after a reply was taken).  On SMTP_REPLY, *reply is filled and the
 * parser is ready for the next reply. */
enum smtp_feed_result smtp_parser_feed(struct smtp_parser *p, const void *data,
                                       size_t n, size_t *used,
                                       struct mxs_reply *reply);
/* Bytes received after the last complete reply and not yet part of one:
 * buffered bytes, the dropped tail of a line being cut, and the lines of an
 * incomplete multi-line reply. */
size_t smtp_parser_pending(const struct smtp_parser *p);
/* Throw those away (after STARTTLS), incomplete reply included: returns how
 * many were discarded.  A sticky error stays. */
size_t smtp_parser_discard(struct smtp_parser *p);

/* Parse the lines of an EHLO reply (text as in struct mxs_reply: lines
 * joined by '\n', the first line is the greeting and is skipped).  At most
 * MXS_MAX_CAPS keywords are kept (later ones still set the flags); names
 * and args are cut to fit.  masked: a keyword containing '*' or made of
 * X's (at most one other last character), as a Cisco PIX/ASA "fixup"
 * rewrites them ("XXXXXXXA", "****"); such keywords are kept as received. */
void smtp_caps_parse(const struct mxs_reply *ehlo, struct mxs_caps *caps);
/* 1 when a and b differ in any keyword other than STARTTLS; describes the
 * difference ("+AUTH -CHUNKING ~SIZE") in out: + only in b, - only in a,
 * ~ in both with other arguments (an argument change counts as a change).
 * out may be NULL/0; it is cut at a word boundary when short. */
int smtp_caps_diff(const struct mxs_caps *a, const struct mxs_caps *b, char *out,
                   size_t outlen);

/* Extract an enhanced status code "X.Y.Z" from the start of text (RFC 3463:
 * class 2/4/5, subject and detail 1-3 digits, then end, space or tab);
 * returns 1 and writes it, or 0 (out[0] = 0). */
int smtp_enhanced_code(const char *text, char out[16]);

#endif
