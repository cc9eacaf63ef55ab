/*
 * fuzz_escape.c - mxs_escape() never lets a control byte, an invalid UTF-8
 * sequence or a bidi/invisible code point through, never writes past
 * outlen, and always cuts to a prefix of the complete output.
 * mxs_escape_name() (certificate names: IDN U-labels, the cut marker)
 * keeps the same promises.  The first byte picks the flags; the rest is
 * the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/esc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fz_bad_cp(uint32_t c)
{
    return (c >= 0x80 && c <= 0x9F) || (c >= 0x202A && c <= 0x202E) ||
           (c >= 0x2066 && c <= 0x2069) || c == 0x200E || c == 0x200F ||
           c == 0x061C || (c >= 0x200B && c <= 0x200D) || c == 0x2060 ||
           c == 0xFEFF || c == 0x00AD || c == 0x2028 || c == 0x2029 ||
           (c >= 0xD800 && c <= 0xDFFF) || (c >= 0xE0000 && c <= 0xE007F);
}

static void fz_check(const unsigned char *s, size_t n, int flags)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            if ((c < 0x20 || c == 0x7F) &&
                !(c == '\t' && (flags & MXS_ESC_KEEP_TAB)) &&
                !(c == '\n' && (flags & MXS_ESC_KEEP_NL)))
                abort();
            i++;
            continue;
        }
        if (flags & MXS_ESC_ASCII) abort();
        size_t k;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) { k = 2; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { k = 3; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { k = 4; cp = c & 0x07; }
        else abort();
        if (i + k > n) abort();
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) abort();
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if ((k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000) || cp > 0x10FFFF)
            abort();
        if (fz_bad_cp(cp)) abort();
        i += k;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    int flags = data[0] & 7;
    const uint8_t *in = data + 1;
    size_t n = size - 1;

    size_t full = mxs_escape(in, n, NULL, 0, flags);
    if (full < n || full > n * 10) abort();     /* each byte: 1..10 bytes */
    char *ref = malloc(full + 1);
    if (!ref) return 0;
    if (mxs_escape(in, n, ref, full + 1, flags) != full) abort();
    if (strlen(ref) != full) abort();
    fz_check((const unsigned char *)ref, full, flags);
    if (mxs_is_safe(in, n, flags) != (full == n && !memcmp(ref, in, n))) abort();

    /* a few cut sizes, each into an exact-size heap buffer */
    size_t sizes[4] = { 1, 2 + data[0] % 7, full / 2 + 1, full };
    for (int i = 0; i < 4; i++) {
        size_t ol = sizes[i];
        if (ol == 0) {
            if (mxs_escape(in, n, NULL, 0, flags) != full) abort();
            continue;
        }
        char *o = malloc(ol);
        if (!o) break;
        if (mxs_escape(in, n, o, ol, flags) != full) abort();
        size_t l = strnlen(o, ol);
        if (l >= ol || memcmp(o, ref, l)) abort();
        fz_check((const unsigned char *)o, l, flags);
        free(o);
    }
    free(ref);

    /* The same bytes as a certificate name (mxs_escape_name): whole with
     * the U-label of any A-label (libidn2 on hostile Punycode), and cut to
     * a field of data[0] bytes with the marker.  Output as safe as above. */
    int nflags = (flags & MXS_ESC_ASCII) | MXS_ESC_IDN | MXS_ESC_CUTMARK;
    char *field = malloc(n + 1);
    if (!field) return 0;
    memcpy(field, in, n);
    field[n] = 0;
    size_t caps[2] = { n + 1, (size_t)data[0] % (n + 1) + 1 };
    for (int i = 0; i < 2; i++) {
        char *t = mxs_escape_name_dup(field, caps[i], n, nflags);
        if (!t) break;
        if (strlen(t) != mxs_escape_name(field, caps[i], n, NULL, 0, nflags)) abort();
        fz_check((const unsigned char *)t, strlen(t), nflags);
        /* and into a buffer too small for it (the marker moves in) */
        size_t ol = (size_t)data[0] % 64 + 1;
        char *o = malloc(ol);
        if (o) {
            mxs_escape_name(field, caps[i], n, o, ol, nflags);
            if (strnlen(o, ol) >= ol) abort();
            fz_check((const unsigned char *)o, strlen(o), nflags);
            free(o);
        }
        free(t);
    }
    free(field);
    return 0;
}
