/*
 * esc.c - mxs_escape(): the only way hostile bytes become displayable text.
 * Owner: core (esc.h).  Pure: no allocation except the *_dup functions and
 * libidn2's for an A-label (mxs_escape_name with MXS_ESC_IDN), no locale.
 *
 * The UTF-8 decoder is written out by hand (no mbrtowc) because the result
 * must not depend on the locale of whoever runs the tool, and because the C
 * library accepts things we do not (e.g. some accept surrogates).
 */
#include "base/esc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

/* Output cursor.  Pieces are written whole or not at all, and once a piece
 * did not fit nothing more is written: the output is a prefix of the full
 * escaped text that ends on a piece (character) boundary. */
struct esc_out {
    char *p;
    size_t cap;     /* outlen: room including the NUL                    */
    size_t len;     /* bytes written                                     */
    size_t total;   /* bytes the complete text needs                     */
    int full;
};

static void esc_emit(struct esc_out *o, const char *s, size_t n)
{
    if (!o->full && o->cap > 0 && n <= o->cap - 1 - o->len) {
        memcpy(o->p + o->len, s, n);
        o->len += n;
    } else {
        o->full = 1;
    }
    o->total += n;
}

static const char esc_hex[] = "0123456789ABCDEF";

static void esc_emit_byte(struct esc_out *o, unsigned char c)
{
    char t[4] = { '\\', 'x', esc_hex[c >> 4], esc_hex[c & 15] };
    esc_emit(o, t, 4);
}

static void esc_emit_cp(struct esc_out *o, uint32_t cp)
{
    /* "<U+XXXX>", or up to six hex digits above the BMP. */
    char t[12];
    size_t n = 0;
    int digits = cp > 0xFFFFF ? 6 : cp > 0xFFFF ? 5 : 4;
    t[n++] = '<';
    t[n++] = 'U';
    t[n++] = '+';
    for (int i = digits - 1; i >= 0; i--)
        t[n++] = esc_hex[(cp >> (4 * i)) & 15];
    t[n++] = '>';
    esc_emit(o, t, n);
}

/* Strict UTF-8 (RFC 3629): returns the sequence length and the code point,
 * or 0 when s does not start with a valid, shortest-form, non-surrogate
 * sequence.  Overlongs (C0, C1, E0 80..9F, F0 80..8F), surrogates
 * (ED A0..BF) and > U+10FFFF (F4 90.., F5..FF) are all rejected here. */
static size_t esc_utf8(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF;
    uint32_t v;

    if (c >= 0xC2 && c <= 0xDF) { need = 2; v = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 3; v = c & 0x0F;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4; v = c & 0x07;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (n < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        unsigned char d = s[i];
        if (i == 1 ? (d < lo || d > hi) : (d < 0x80 || d > 0xBF))
            return 0;
        v = (v << 6) | (d & 0x3F);
    }
    *cp = v;
    return need;
}

/* Code points that are valid UTF-8 but must not reach a terminal as such:
 * they are invisible, reorder text (bidi "Trojan source"), act as controls,
 * or hide data (tags, variation selectors).  Private use is included because
 * its glyph depends on the viewer's fonts. */
static int esc_cp_hidden(uint32_t c)
{
    if (c < 0x20 || (c >= 0x7F && c <= 0x9F)) return 1;  /* C0/DEL/C1 */
    if (c == 0x00AD || c == 0x034F || c == 0x061C) return 1;
    if (c == 0x115F || c == 0x1160 || c == 0x17B4 || c == 0x17B5) return 1;
    if (c >= 0x180B && c <= 0x180F) return 1;   /* Mongolian FVS, MVS      */
    if (c >= 0x200B && c <= 0x200F) return 1;   /* ZWSP ZWNJ ZWJ LRM RLM   */
    if (c >= 0x2028 && c <= 0x202E) return 1;   /* LS PS LRE RLE PDF LRO RLO */
    if (c >= 0x2060 && c <= 0x206F) return 1;   /* WJ, invisible ops, LRI..PDI */
    if (c == 0x3164 || c == 0xFFA0) return 1;   /* Hangul fillers           */
    if (c >= 0xD800 && c <= 0xDFFF) return 1;   /* surrogates (defensive)  */
    if (c >= 0xE000 && c <= 0xF8FF) return 1;   /* private use              */
    if (c >= 0xFDD0 && c <= 0xFDEF) return 1;   /* non-characters          */
    if (c >= 0xFE00 && c <= 0xFE0F) return 1;   /* variation selectors     */
    if (c == 0xFEFF) return 1;                  /* BOM / ZWNBSP            */
    if (c >= 0xFFF0 && c <= 0xFFFB) return 1;   /* interlinear annotation  */
    if ((c & 0xFFFE) == 0xFFFE) return 1;       /* U+xFFFE, U+xFFFF        */
    if (c >= 0x1BCA0 && c <= 0x1BCA3) return 1; /* shorthand format        */
    if (c >= 0x1D173 && c <= 0x1D17A) return 1; /* musical format          */
    if (c >= 0xE0000 && c <= 0xE0FFF) return 1; /* tags, VS supplement     */
    if (c >= 0xF0000) return 1;                 /* supplementary private   */
    return 0;
}

/* 1 when the ASCII byte c passes through unchanged. */
static int esc_ascii_ok(unsigned char c, int flags)
{
    if (c >= 0x20 && c < 0x7F && c != '\\') return 1;
    if (c == '\t' && (flags & MXS_ESC_KEEP_TAB)) return 1;
    if (c == '\n' && (flags & MXS_ESC_KEEP_NL)) return 1;
    return 0;
}

/* The escaping itself, appended to o. */
static void esc_run(struct esc_out *o_, const unsigned char *s, size_t len, int flags)
{
    struct esc_out o = *o_;
    size_t i = 0;

    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            if (esc_ascii_ok(c, flags)) esc_emit(&o, (const char *)&s[i], 1);
            else if (c == '\\') esc_emit(&o, "\\\\", 2);
            else esc_emit_byte(&o, c);
            i++;
            continue;
        }
        uint32_t cp;
        size_t k = esc_utf8(s + i, len - i, &cp);
        if (k == 0) {
            /* Invalid: show this byte, resynchronise on the next one. */
            esc_emit_byte(&o, c);
            i++;
        } else {
            if ((flags & MXS_ESC_ASCII) || esc_cp_hidden(cp))
                esc_emit_cp(&o, cp);
            else
                esc_emit(&o, (const char *)&s[i], k);
            i += k;
        }
    }
    *o_ = o;
}

size_t mxs_escape(const void *in, size_t len, char *out, size_t outlen, int flags)
{
    struct esc_out o = { out, out ? outlen : 0, 0, 0, 0 };

    if (in)
        esc_run(&o, in, len, flags);
    if (o.cap > 0)
        o.p[o.len] = '\0';
    return o.total;
}

char *mxs_escape_dup(const void *in, size_t len, int flags)
{
    size_t n = mxs_escape(in, len, NULL, 0, flags);
    if (n == SIZE_MAX)
        return NULL;
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    mxs_escape(in, len, p, n + 1, flags);
    return p;
}

size_t mxs_escape_str(const char *in, char *out, size_t outlen, int flags)
{
    return mxs_escape(in, in ? strlen(in) : 0, out, outlen, flags);
}

/* mxs_is_safe(); with escaped, a backslash passes too: it is the
 * escaper's own notation in text it wrote (mxs_is_escaped_text). */
static int esc_is_safe(const unsigned char *s, size_t len, int flags, int escaped)
{
    size_t i = 0;

    if (!s)
        return len == 0;
    while (i < len) {
        if (s[i] < 0x80) {
            if (!esc_ascii_ok(s[i], flags) && !(escaped && s[i] == '\\'))
                return 0;
            i++;
            continue;
        }
        uint32_t cp;
        size_t k = esc_utf8(s + i, len - i, &cp);
        if (k == 0 || (flags & MXS_ESC_ASCII) || esc_cp_hidden(cp))
            return 0;
        i += k;
    }
    return 1;
}

int mxs_is_safe(const void *in, size_t len, int flags)
{
    return esc_is_safe(in, len, flags, 0);
}

int mxs_is_escaped_text(const void *in, size_t len)
{
    return esc_is_safe(in, len, MXS_ESC_KEEP_NL, 1);
}

size_t mxs_text_to_ascii(const char *in, size_t len, char *out, size_t outlen)
{
    const unsigned char *s = (const unsigned char *)in;
    struct esc_out o = { out, out ? outlen : 0, 0, 0, 0 };
    size_t i = 0;

    while (s && i < len) {
        uint32_t cp;
        size_t k = s[i] < 0x80 ? 1 : esc_utf8(s + i, len - i, &cp);
        if (s[i] < 0x80)
            esc_emit(&o, (const char *)s + i, 1);
        else if (k)
            esc_emit_cp(&o, cp);
        else
            esc_emit_byte(&o, s[i]);
        i += k ? k : 1;
    }
    if (o.cap > 0)
        o.p[o.len] = '\0';
    return o.total;
}

/* ---- certificate names ------------------------------------------------ */

size_t mxs_name_stored(const char *field, size_t cap, size_t len)
{
    if (!field || cap == 0)
        return 0;
    if (len == 0)
        return strnlen(field, cap - 1);
    return len < cap - 1 ? len : cap - 1;
}

/* A cut can fall inside a UTF-8 character: drop that incomplete tail, so
 * the name does not end in "\xC3", a byte the certificate has in a whole
 * character. */
static size_t esc_trim_partial(const unsigned char *s, size_t n)
{
    for (size_t back = 1; back <= 3 && back <= n; back++) {
        unsigned char c = s[n - back];
        if ((c & 0xC0) == 0x80)
            continue;
        size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 1;
        return need > back ? n - back : n;
    }
    return n;
}

static int esc_is_alabel(const unsigned char *s, size_t n)
{
    return n > 4 && (s[0] | 0x20) == 'x' && (s[1] | 0x20) == 'n' && s[2] == '-' && s[3] == '-';
}

/* The U-label form of a host name with A-labels, label by label through
 * libidn2 (no hand-written Punycode); nothing when there is no A-label, a
 * label does not decode, or the name is not plain ASCII (NUL included). */
static void esc_idn(struct esc_out *o, const unsigned char *s, size_t n, int flags)
{
    char u[1024], label[64];
    size_t un = 0, any = 0;

    if (n == 0 || n > 253)
        return;
    for (size_t i = 0; i < n; i++)
        if (s[i] == 0 || s[i] >= 0x80)
            return;
    for (size_t i = 0; i <= n;) {
        const unsigned char *dot = memchr(s + i, '.', n - i);
        size_t ln = dot ? (size_t)(dot - (s + i)) : n - i;
        const char *put = (const char *)s + i;
        size_t pn = ln;
        char *dec = NULL;
        if (esc_is_alabel(s + i, ln) && ln < sizeof label) {
            /* Lower case first: DNS names ignore case, and Punycode would
             * keep "MNCHEN" upper case around the ü. */
            for (size_t k = 0; k < ln; k++)
                label[k] = (char)(s[i + k] >= 'A' && s[i + k] <= 'Z' ? s[i + k] + 32 : s[i + k]);
            label[ln] = 0;
            if (idn2_to_unicode_8z8z(label, &dec, 0) != IDN2_OK || !dec) {
                idn2_free(dec);
                return;
            }
            put = dec;
            pn = strlen(dec);
            any = 1;
        }
        if (un + pn + 1 >= sizeof u) {
            idn2_free(dec);
            return;
        }
        memcpy(u + un, put, pn);
        un += pn;
        idn2_free(dec);
        if (!dot)
            break;
        u[un++] = '.';
        i += ln + 1;
    }
    if (!any)
        return;
    esc_emit(o, " (", 2);
    esc_run(o, (const unsigned char *)u, un, flags);
    esc_emit(o, ")", 1);
}

size_t mxs_escape_name(const char *field, size_t cap, size_t len, char *out,
                       size_t outlen, int flags)
{
    struct esc_out o = { out, out ? outlen : 0, 0, 0, 0 };
    const unsigned char *s = (const unsigned char *)field;
    size_t n = mxs_name_stored(field, cap, len);
    int cut = len > n;

    char t[64];
    int k = snprintf(t, sizeof t, "%s (%zu bytes, cut)",
                     (flags & MXS_ESC_ASCII) ? "..." : "\xE2\x80\xA6", len ? len : n);

    if (cut)
        n = esc_trim_partial(s, n);
    if (n)
        esc_run(&o, s, n, flags);
    if (cut && (flags & MXS_ESC_CUTMARK))
        esc_emit(&o, t, (size_t)k);
    else if (!cut && (flags & MXS_ESC_IDN))
        esc_idn(&o, s, n, flags);
    if ((flags & MXS_ESC_CUTMARK) && o.full && o.cap > (size_t)k + 1) {
        /* out is too small for the whole text: a shorter prefix, and the
         * marker still at its end, so even a bounded evidence line never
         * loses a name silently. */
        struct esc_out p = { out, o.cap - (size_t)k, 0, 0, 0 };
        if (n)
            esc_run(&p, s, n, flags);
        memcpy(out + p.len, t, (size_t)k);
        o.len = p.len + (size_t)k;
    }
    if (o.cap > 0)
        o.p[o.len] = '\0';
    return o.total;
}

char *mxs_escape_name_dup(const char *field, size_t cap, size_t len, int flags)
{
    size_t n = mxs_escape_name(field, cap, len, NULL, 0, flags);
    char *p = n == SIZE_MAX ? NULL : malloc(n + 1);
    if (p)
        mxs_escape_name(field, cap, len, p, n + 1, flags);
    return p;
}

/* ---- the inverse: loading a saved text transcript ---------------------- */

static int esc_hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* "<U+XXXX>" at in[0..len): the code point, or -1 when this is not exactly
 * what mxs_escape(..., 0) writes for a hidden code point (uppercase hex,
 * 4 digits up to U+FFFF, 5 up to U+FFFFF, else 6; a valid scalar value that
 * esc_cp_hidden() hides).  Anything else is literal text a server sent, and
 * decoding it would change the text on the next escape ("<U+0041>" would
 * come back as "A"). */
static long esc_parse_cp(const unsigned char *in, size_t len, size_t *used)
{
    if (len < 8 || in[0] != '<' || in[1] != 'U' || in[2] != '+')
        return -1;
    uint32_t cp = 0;
    size_t n = 0;
    while (n < 6 && 3 + n < len) {
        unsigned char c = in[3 + n];
        int v = (c >= '0' && c <= '9') ? c - '0' : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
        if (v < 0)
            break;
        cp = cp << 4 | (uint32_t)v;
        n++;
    }
    if (n < 4 || 3 + n >= len || in[3 + n] != '>')
        return -1;
    size_t canon = cp > 0xFFFFF ? 6 : cp > 0xFFFF ? 5 : 4;
    if (n != canon || cp < 0x80 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) ||
        !esc_cp_hidden(cp))
        return -1;
    *used = 4 + n;
    return (long)cp;
}

static size_t esc_utf8_put(uint32_t cp, unsigned char t[4])
{
    if (cp < 0x800) {
        t[0] = (unsigned char)(0xC0 | cp >> 6);
        t[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        t[0] = (unsigned char)(0xE0 | cp >> 12);
        t[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        t[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    t[0] = (unsigned char)(0xF0 | cp >> 18);
    t[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    t[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    t[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t mxs_unescape(const char *in, size_t len, unsigned char *out, size_t outlen)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t i = 0, o = 0;

    if (!s || !out)
        return 0;
    while (i < len) {
        unsigned char t[4];
        size_t tn = 1, used = 1;
        long cp;
        t[0] = s[i];
        if (s[i] == '\\' && i + 1 < len && s[i + 1] == '\\') {
            used = 2;
        } else if (s[i] == '\\' && i + 3 < len && s[i + 1] == 'x' && esc_hexval(s[i + 2]) >= 0 &&
                   esc_hexval(s[i + 3]) >= 0) {
            t[0] = (unsigned char)(esc_hexval(s[i + 2]) << 4 | esc_hexval(s[i + 3]));
            used = 4;
        } else if (s[i] == '<' && (cp = esc_parse_cp(s + i, len - i, &used)) >= 0) {
            tn = esc_utf8_put((uint32_t)cp, t);
        }
        /* Pieces are written whole or not at all: a cut never leaves half
         * a UTF-8 sequence behind. */
        if (tn > outlen - o)
            break;
        memcpy(out + o, t, tn);
        o += tn;
        i += used;
    }
    return o;
}
