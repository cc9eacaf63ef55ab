/*
 * esc.h - the one escaping function every output path goes through.
 *
 * Server- and certificate-supplied bytes never reach a terminal, a file or a
 * JSON string raw.  mxs_escape() turns them into printable, visible text:
 *   - printable ASCII passes through (backslash becomes "\\");
 *   - C0 controls, DEL, C1 controls become "\xHH" (TAB too, unless
 *     MXS_ESC_KEEP_TAB);
 *   - valid UTF-8 passes through, except C1 encoded as UTF-8 (U+0080-U+009F),
 *     bidi controls (U+202A-U+202E, U+2066-U+2069, U+200E/F, U+061C),
 *     zero-width and invisible characters (U+200B-U+200D, U+2060-U+2064,
 *     U+FEFF, U+00AD), line/paragraph separators (U+2028/9), unassigned
 *     surrogates and non-characters, plus other invisible or data-hiding
 *     code points (U+034F, U+061C, U+115F/60, U+17B4/5, U+180B-180F,
 *     U+206A-206F, U+3164, U+FFA0, U+FE00-FE0F, U+FFF0-FFFB, tags and
 *     VS supplement U+E0000-E0FFF, private use): these become "<U+XXXX>"
 *     (5 or 6 hex digits above U+FFFF);
 *   - invalid UTF-8 (overlong, surrogates, truncated, > U+10FFFF) becomes
 *     "\xHH" for each offending byte;
 *   - with MXS_ESC_ASCII, every non-ASCII code point becomes "<U+XXXX>";
 *   - with MXS_ESC_KEEP_NL, LF passes through (CR is still "\x0D").
 * Output is always NUL-terminated and never longer than outlen-1; when it
 * does not fit it ends at a character boundary.  Returns the length the
 * complete escaped text needs (like snprintf, without the NUL), so callers
 * can detect cuts: result >= outlen means cut.  outlen 0 (out may be NULL)
 * only measures.
 * Pure: no allocation, no locale, no global state.
 */
#ifndef MXS_ESC_H
#define MXS_ESC_H
#include <stddef.h>

enum { MXS_ESC_KEEP_TAB = 1, MXS_ESC_ASCII = 2, MXS_ESC_KEEP_NL = 4 };

size_t mxs_escape(const void *in, size_t len, char *out, size_t outlen, int flags);
/* Same, into a malloc'd string the caller frees (NULL on allocation failure). */
char *mxs_escape_dup(const void *in, size_t len, int flags);
/* For NUL-terminated input. */
size_t mxs_escape_str(const char *in, char *out, size_t outlen, int flags);
/* 1 if s (len bytes) would pass through mxs_escape unchanged. */
int mxs_is_safe(const void *s, size_t len, int flags);

/* The inverse of mxs_escape(..., 0) for its output (loading a saved text
 * transcript back): "\xHH" becomes that byte (either case of hex digit),
 * "\\" one backslash, "<U+XXXX>" the UTF-8 encoding of the code point;
 * everything else, invalid or truncated sequences included, is copied as it
 * is.  "<U+...>" is decoded only in the exact form mxs_escape writes (upper-
 * case, 4 digits up to U+FFFF, 5 up to U+FFFFF, else 6) and only for code
 * points mxs_escape hides: a server that sent the literal text "<U+0041>"
 * must not get "A" back, so mxs_escape(mxs_unescape(t)) == t for every t
 * that mxs_escape(..., 0) produced.  The output never exceeds the input
 * length; it is not NUL-terminated; pieces are written whole (never half a
 * UTF-8 sequence) and writing stops at the first that does not fit in
 * outlen.  Returns the number of bytes written. */
size_t mxs_unescape(const char *in, size_t len, unsigned char *out, size_t outlen);

#endif
