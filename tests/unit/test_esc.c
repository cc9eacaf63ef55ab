/*
 * test_esc.c - mxs_escape() against hostile input, mxs_escape_name() for
 * certificate names (cmocka).
 *
 * The checker below is written independently of esc.c: it validates the
 * output as UTF-8 itself and rejects every forbidden byte and code point, so
 * a bug in esc.c's decoder cannot hide itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/esc.h"

/* ---- independent checker ---------------------------------------------- */

static int forbidden_cp(uint32_t c)
{
    return (c >= 0x80 && c <= 0x9F) || (c >= 0x202A && c <= 0x202E) ||
           (c >= 0x2066 && c <= 0x2069) || c == 0x200E || c == 0x200F ||
           c == 0x061C || (c >= 0x200B && c <= 0x200D) || c == 0x2060 ||
           c == 0xFEFF || c == 0x00AD || c == 0x2028 || c == 0x2029 ||
           (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF ||
           (c >= 0xE0000 && c <= 0xE007F);
}

/* Returns NULL when s[0..n) is acceptable output, else a reason. */
static const char *check_output(const unsigned char *s, size_t n, int flags)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            if (c == '\t' && (flags & MXS_ESC_KEEP_TAB)) { i++; continue; }
            if (c == '\n' && (flags & MXS_ESC_KEEP_NL)) { i++; continue; }
            if (c < 0x20) return "raw C0 byte";
            if (c == 0x7F) return "raw DEL";
            i++;
            continue;
        }
        if (flags & MXS_ESC_ASCII) return "non-ASCII with MXS_ESC_ASCII";
        size_t k;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) { k = 2; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { k = 3; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { k = 4; cp = c & 0x07; }
        else return "invalid UTF-8 lead / raw C1 byte";
        if (i + k > n) return "truncated UTF-8";
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return "bad continuation";
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if ((k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000)) return "overlong";
        if (forbidden_cp(cp)) return "forbidden code point survived";
        i += k;
    }
    return NULL;
}

/* Escape s with every outlen from 0 to full+2 into exactly-sized heap
 * buffers (ASan sees any overflow), and check each result. */
static void check_all(const unsigned char *s, size_t n, int flags)
{
    size_t full = mxs_escape(s, n, NULL, 0, flags);
    char *ref = malloc(full + 1);
    assert_non_null(ref);
    assert_int_equal(mxs_escape(s, n, ref, full + 1, flags), full);
    assert_int_equal(strlen(ref), full);
    const char *why = check_output((const unsigned char *)ref, full, flags);
    if (why) {
        fprintf(stderr, "bad output (%s) for input of %zu bytes\n", why, n);
        fail();
    }
    /* Long outputs: test the small sizes and a few around the end. */
    for (size_t ol = 0; ol <= full + 2; ol++) {
        if (ol > 40 && ol + 6 < full)
            ol = full - 6;
        char *o = ol ? malloc(ol) : NULL;
        if (ol)
            memset(o, 'Z', ol);
        size_t r = mxs_escape(s, n, o, ol, flags);
        assert_int_equal(r, full);
        if (ol) {
            size_t l = strnlen(o, ol);
            assert_true(l < ol);                 /* NUL-terminated inside */
            assert_memory_equal(o, ref, l);      /* a prefix of the whole */
            if (ol > full)
                assert_int_equal(l, full);
            assert_null(check_output((const unsigned char *)o, l, flags));
        }
        free(o);
    }
    char *d = mxs_escape_dup(s, n, flags);
    assert_non_null(d);
    assert_string_equal(d, ref);
    free(d);
    /* is_safe must agree with "output equals input". */
    int same = full == n && memcmp(ref, s, n) == 0;
    assert_int_equal(mxs_is_safe(s, n, flags), same);
    free(ref);
}

static void put_utf8(unsigned char *b, size_t *n, uint32_t cp)
{
    if (cp < 0x80) b[(*n)++] = (unsigned char)cp;
    else if (cp < 0x800) {
        b[(*n)++] = (unsigned char)(0xC0 | cp >> 6);
        b[(*n)++] = (unsigned char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        b[(*n)++] = (unsigned char)(0xE0 | cp >> 12);
        b[(*n)++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[(*n)++] = (unsigned char)(0x80 | (cp & 0x3F));
    } else {
        b[(*n)++] = (unsigned char)(0xF0 | cp >> 18);
        b[(*n)++] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        b[(*n)++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[(*n)++] = (unsigned char)(0x80 | (cp & 0x3F));
    }
}

static size_t n_hostile;

static void hostile(const void *s, size_t n)
{
    check_all(s, n, 0);
    check_all(s, n, MXS_ESC_KEEP_TAB | MXS_ESC_KEEP_NL);
    check_all(s, n, MXS_ESC_ASCII);
    n_hostile++;
}
#define HOSTILE_LIT(lit) hostile(lit, sizeof(lit) - 1)

static void test_hostile_generated(void **state)
{
    (void)state;
    unsigned char b[64];
    size_t n;
    n_hostile = 0;

    /* Every single byte, alone and between letters. */
    for (int c = 0; c < 256; c++) {
        b[0] = 'a'; b[1] = (unsigned char)c; b[2] = 'b';
        hostile(b, 3);
        hostile(b + 1, 1);
    }
    /* C1 encoded as UTF-8, and every code point we must neutralise. */
    static const uint32_t bad_cps[] = {
        0x061C, 0x00AD, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2028, 0x2029,
        0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2060, 0x2061, 0x2062, 0x2063,
        0x2064, 0x2066, 0x2067, 0x2068, 0x2069, 0xFEFF, 0xFFFE, 0xFFFF, 0xFDD0,
        0x1FFFE, 0x10FFFF, 0xE0001, 0xE0041, 0xE007F, 0x180E, 0x034F, 0xFE0F,
    };
    for (uint32_t cp = 0x80; cp <= 0x9F; cp++) {
        n = 0; b[n++] = 'x'; put_utf8(b, &n, cp); b[n++] = 'y';
        hostile(b, n);
    }
    for (size_t i = 0; i < sizeof bad_cps / sizeof bad_cps[0]; i++) {
        n = 0; b[n++] = 'x'; put_utf8(b, &n, bad_cps[i]); b[n++] = 'y';
        hostile(b, n);
        /* at the very end, and repeated */
        n = 0; put_utf8(b, &n, bad_cps[i]); put_utf8(b, &n, bad_cps[i]);
        hostile(b, n);
    }
    /* Surrogates, encoded as UTF-8 would (CESU) - invalid. */
    for (uint32_t cp = 0xD800; cp <= 0xDFFF; cp += 0x7F) {
        n = 0;
        b[n++] = 0xED; b[n++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[n++] = (unsigned char)(0x80 | (cp & 0x3F));
        hostile(b, n);
    }
    /* Overlong encodings of dangerous ASCII: NUL, ESC, '/', '\\', DEL. */
    static const unsigned char ascii[] = { 0x00, 0x1B, 0x2F, 0x5C, 0x7F, 0x0A, 0x0D };
    for (size_t i = 0; i < sizeof ascii; i++) {
        unsigned char c = ascii[i];
        unsigned char o2[2] = { (unsigned char)(0xC0 | c >> 6), (unsigned char)(0x80 | (c & 0x3F)) };
        unsigned char o3[3] = { 0xE0, (unsigned char)(0x80 | c >> 6), (unsigned char)(0x80 | (c & 0x3F)) };
        unsigned char o4[4] = { 0xF0, 0x80, (unsigned char)(0x80 | c >> 6), (unsigned char)(0x80 | (c & 0x3F)) };
        hostile(o2, 2); hostile(o3, 3); hostile(o4, 4);
    }
    /* Truncated sequences of every length, at the end and before ASCII. */
    static const unsigned char emoji[] = { 0xF0, 0x9F, 0x98, 0x80 };
    for (size_t k = 1; k < 4; k++) {
        hostile(emoji, k);
        memcpy(b, emoji, k); b[k] = 'A';
        hostile(b, k + 1);
    }
    /* Random mixes from a hostile alphabet (fixed seed: reproducible). */
    static const unsigned char alpha[] = {
        0x00, 0x07, 0x08, 0x09, 0x0A, 0x0D, 0x1B, 0x5B, 0x5D, 0x7F, 0x80, 0x9B,
        0x9D, 0x9F, 0xC0, 0xC2, 0xE2, 0x80, 0xAE, 0xED, 0xA0, 0xF4, 0x90, 0xFF,
        0xEF, 0xBB, 0xBF, 'a', ' ', '\\', ';', 'm', 0xC3, 0xA9, 0xF0, 0x9F,
    };
    uint32_t seed = 12345;
    for (int t = 0; t < 300; t++) {
        n = 1 + t % 60;
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            b[i] = alpha[(seed >> 16) % sizeof alpha];
        }
        hostile(b, n);
    }
    assert_true(n_hostile >= 256);
}

static void test_hostile_hand(void **state)
{
    (void)state;
    HOSTILE_LIT("\x1b[31mred\x1b[0m");
    HOSTILE_LIT("\x1b]0;pwned title\x07");
    HOSTILE_LIT("\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\");
    HOSTILE_LIT("\x9b" "31m 8-bit CSI");
    HOSTILE_LIT("\x9d" "0;t\x9c 8-bit OSC");
    HOSTILE_LIT("\xc2\x9b" "2J UTF-8 CSI");
    HOSTILE_LIT("\x1bP+q\x1b\\ DCS");
    HOSTILE_LIT("\x1b[6n device status report");
    HOSTILE_LIT("\x1b[?1049h alt screen");
    HOSTILE_LIT("mx.example\r\n250 fake");
    HOSTILE_LIT("a\0b\0\0c");
    HOSTILE_LIT("\xe2\x80\xae" "gnp.exe");                /* RLO */
    HOSTILE_LIT("\xe2\x81\xa6" "x" "\xe2\x81\xa9");       /* LRI..PDI */
    HOSTILE_LIT("\xef\xbb\xbf" "BOM first");
    HOSTILE_LIT("zero\xe2\x80\x8bwidth\xe2\x80\x8d");
    HOSTILE_LIT("\xed\xa0\xbd\xed\xb8\x80");              /* CESU emoji */
    HOSTILE_LIT("\xf4\x90\x80\x80 > U+10FFFF");
    HOSTILE_LIT("\xf8\x88\x80\x80\x80 5-byte");
    HOSTILE_LIT("\xfc\x84\x80\x80\x80\x80 6-byte");
    HOSTILE_LIT("\xc0\xaf\xe0\x80\xaf overlong slash");
    HOSTILE_LIT("\x7f\x7f\x08\x08 backspaces");
    HOSTILE_LIT("tab\there");
    HOSTILE_LIT("\xf3\xa0\x80\x81\xf3\xa0\x81\x81 tags");
}

static void expect(const char *in, size_t n, int flags, const char *want)
{
    char out[256];
    size_t r = mxs_escape(in, n, out, sizeof out, flags);
    assert_string_equal(out, want);
    assert_int_equal(r, strlen(want));
}
#define EXPECT(lit, fl, want) expect(lit, sizeof(lit) - 1, fl, want)

static void test_exact(void **state)
{
    (void)state;
    EXPECT("plain text 123", 0, "plain text 123");
    EXPECT("a\\b", 0, "a\\\\b");
    EXPECT("\x1b[31m", 0, "\\x1B[31m");
    EXPECT("a\0b", 0, "a\\x00b");
    EXPECT("\t\n\r", 0, "\\x09\\x0A\\x0D");
    EXPECT("\t\n\r", MXS_ESC_KEEP_TAB | MXS_ESC_KEEP_NL, "\t\n\\x0D");
    EXPECT("\x7f\x80\x9f\xff", 0, "\\x7F\\x80\\x9F\\xFF");
    EXPECT("caf\xc3\xa9", 0, "caf\xc3\xa9");
    EXPECT("caf\xc3\xa9", MXS_ESC_ASCII, "caf<U+00E9>");
    EXPECT("\xf0\x9f\x98\x80", 0, "\xf0\x9f\x98\x80");
    EXPECT("\xf0\x9f\x98\x80", MXS_ESC_ASCII, "<U+1F600>");
    EXPECT("\xe2\x80\xae", 0, "<U+202E>");
    EXPECT("\xc2\x85", 0, "<U+0085>");
    EXPECT("\xef\xbb\xbf", 0, "<U+FEFF>");
    EXPECT("\xf4\x8f\xbf\xbf", 0, "<U+10FFFF>");
    EXPECT("\xc0\x80", 0, "\\xC0\\x80");
    EXPECT("\xed\xa0\x80", 0, "\\xED\\xA0\\x80");
    EXPECT("\xe2\x80", 0, "\\xE2\\x80");
    EXPECT("\xe2\x80" "A", 0, "\\xE2\\x80A");
    EXPECT("\xf4\x90\x80\x80", 0, "\\xF4\\x90\\x80\\x80");
    EXPECT("", 0, "");

    /* Cut on a piece boundary, never inside "\x1B" or a UTF-8 sequence. */
    char o[8];
    assert_int_equal(mxs_escape("ab\x1b", 3, o, 5, 0), 6);
    assert_string_equal(o, "ab");
    assert_int_equal(mxs_escape("a\xc3\xa9", 3, o, 3, 0), 3);
    assert_string_equal(o, "a");
    assert_int_equal(mxs_escape("abc", 3, o, 1, 0), 3);
    assert_string_equal(o, "");
    assert_int_equal(mxs_escape("abc", 3, NULL, 0, 0), 3);
    /* Once a piece did not fit, nothing later is written even if small. */
    assert_int_equal(mxs_escape("\x01" "a", 2, o, 3, 0), 5);
    assert_string_equal(o, "");

    assert_int_equal(mxs_escape_str("x\x07", o, sizeof o, 0), 5);
    assert_string_equal(o, "x\\x07");
    assert_true(mxs_is_safe("hello world", 11, 0));
    assert_true(mxs_is_safe("caf\xc3\xa9", 5, 0));
    assert_false(mxs_is_safe("caf\xc3\xa9", 5, MXS_ESC_ASCII));
    assert_false(mxs_is_safe("a\\b", 3, 0));
    assert_false(mxs_is_safe("a\tb", 3, 0));
    assert_true(mxs_is_safe("a\tb", 3, MXS_ESC_KEEP_TAB));
    assert_false(mxs_is_safe("\xe2\x80\x8b", 3, 0));
}

/* A long hostile input: exercises the cut logic at every piece type. */
static void test_long(void **state)
{
    (void)state;
    size_t n = 20000;
    unsigned char *s = malloc(n);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        s[i] = (unsigned char)((i * 7919u) >> 3);
    check_all(s, n, 0);
    free(s);
}

/* ---- certificate names: mxs_escape_name() ------------------------------ */

static void name_is(const char *field, size_t cap, size_t len, int flags, const char *want)
{
    char out[1024];
    size_t n = mxs_escape_name(field, cap, len, out, sizeof out, flags);
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
    char *d = mxs_escape_name_dup(field, cap, len, flags);
    assert_non_null(d);
    assert_string_equal(d, want);
    free(d);
    assert_null(check_output((const unsigned char *)out, strlen(out), flags & MXS_ESC_ASCII));
}

/* Raw bytes in, one escaping out: a backslash once, NUL as \x00 (the old
 * view stored the text "\x00" and showed "\\x00"), UTF-8 as UTF-8. */
static void test_name_once(void **state)
{
    (void)state;
    static const char raw[] = "a\x1B\xC3\xBC\0b\\c\xE2\x80\xAE";
    char field[64];
    memset(field, 0, sizeof field);
    memcpy(field, raw, sizeof raw - 1);
    name_is(field, sizeof field, sizeof raw - 1, 0, "a\\x1B\xC3\xBC\\x00b\\\\c<U+202E>");
    name_is(field, sizeof field, sizeof raw - 1, MXS_ESC_ASCII,
            "a\\x1B<U+00FC>\\x00b\\\\c<U+202E>");
    /* len 0: the field is a C string (stops at the NUL). */
    name_is(field, sizeof field, 0, 0, "a\\x1B\xC3\xBC");
    name_is("", 8, 0, MXS_ESC_CUTMARK | MXS_ESC_IDN, "");
    assert_int_equal(mxs_name_stored(field, sizeof field, sizeof raw - 1), sizeof raw - 1);
    assert_int_equal(mxs_name_stored(field, 4, 100), 3);
}

/* A cut name: its prefix, never half a UTF-8 character, and with
 * MXS_ESC_CUTMARK the whole length; never an IDN suffix for a prefix. */
static void test_name_cut(void **state)
{
    (void)state;
    char field[8];
    memcpy(field, "abcd\xC3\xBC\xC3", 7);   /* "abcdü" + half of the next */
    field[7] = 0;
    name_is(field, sizeof field, 5120, 0, "abcd\xC3\xBC");
    name_is(field, sizeof field, 5120, MXS_ESC_CUTMARK, "abcd\xC3\xBC\xE2\x80\xA6 (5120 bytes, cut)");
    name_is(field, sizeof field, 5120, MXS_ESC_CUTMARK | MXS_ESC_ASCII,
            "abcd<U+00FC>... (5120 bytes, cut)");
    /* Cut inside a 3-byte character: both of its bytes go. */
    memcpy(field, "abcde\xE2\x80", 7);
    name_is(field, sizeof field, 9, MXS_ESC_CUTMARK, "abcde\xE2\x80\xA6 (9 bytes, cut)");
    /* Whole (len fits): no marker. */
    name_is("abc", 8, 3, MXS_ESC_CUTMARK, "abc");
    /* A buffer too small for the whole text: a shorter prefix, the marker
     * kept at its end; the return value is still the whole text's. */
    char small[24];
    static const char longname[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    size_t r = mxs_escape_name(longname, sizeof longname, 0, small, sizeof small, MXS_ESC_CUTMARK);
    assert_int_equal(r, sizeof longname - 1);
    assert_string_equal(small, "abcd\xE2\x80\xA6 (36 bytes, cut)");
    r = mxs_escape_name(field, sizeof field, 5120, small, sizeof small, MXS_ESC_CUTMARK | MXS_ESC_ASCII);
    assert_string_equal(small, "ab... (5120 bytes, cut)");
    /* A prefix of an IDN is not decoded. */
    char idn[12];
    memcpy(idn, "xn--mnchen-", 11);
    idn[11] = 0;
    name_is(idn, sizeof idn, 22, MXS_ESC_IDN, "xn--mnchen-");
}

/* IDN: the A-label as it is, the U-label after it (libidn2), escaped with
 * the same flags; nothing added when there is nothing to decode. */
static void test_name_idn(void **state)
{
    (void)state;
    static const char a[] = "xn--mnchen-3ya.example";
    name_is(a, sizeof a, 0, MXS_ESC_IDN, "xn--mnchen-3ya.example (m\xC3\xBCnchen.example)");
    name_is(a, sizeof a, 0, MXS_ESC_IDN | MXS_ESC_ASCII,
            "xn--mnchen-3ya.example (m<U+00FC>nchen.example)");
    name_is(a, sizeof a, 0, 0, "xn--mnchen-3ya.example");
    name_is("*.XN--MNCHEN-3YA.example", 32, 0, MXS_ESC_IDN,
            "*.XN--MNCHEN-3YA.example (*.m\xC3\xBCnchen.example)");
    name_is("mx.example.com", 32, 0, MXS_ESC_IDN, "mx.example.com");
    name_is("xn--.example", 32, 0, MXS_ESC_IDN, "xn--.example");
    /* Not Punycode: shown as it is, nothing guessed. */
    name_is("xn--a\x1B.example", 32, 0, MXS_ESC_IDN, "xn--a\\x1B.example");
    /* A U-label with a bidi override is escaped like any name: the
     * Punycode of U+202E "abc" (xn--abc-8n3a) must not bring the raw
     * character to the screen. */
    char out[256];
    mxs_escape_name("xn--abc-8n3a.example", 32, 0, out, sizeof out, MXS_ESC_IDN);
    assert_null(check_output((const unsigned char *)out, strlen(out), 0));
    /* A NUL inside: no decoding of a name that is not a host name. */
    static const char nul[] = "xn--mnchen-3ya\0.example";
    name_is(nul, sizeof nul, sizeof nul - 1, MXS_ESC_IDN, "xn--mnchen-3ya\\x00.example");
}

/* Escaped text for a terminal that is not UTF-8: non-ASCII as <U+XXXX>,
 * so no UTF-8 byte (0x9B in U+201B is CSI on a Latin-1 terminal) gets
 * there; the escaping already done is kept as it is. */
static void test_text_to_ascii(void **state)
{
    (void)state;
    static const char in[] = "a\\x1B \xC3\xBC \xE2\x80\x9B[2J <U+202E> \xFF\n";
    char out[128];
    size_t n = mxs_text_to_ascii(in, sizeof in - 1, out, sizeof out);
    assert_string_equal(out, "a\\x1B <U+00FC> <U+201B>[2J <U+202E> \\xFF\n");
    assert_int_equal(n, strlen(out));
    assert_null(check_output((const unsigned char *)out, n, MXS_ESC_ASCII | MXS_ESC_KEEP_NL));
    assert_int_equal(mxs_text_to_ascii(in, sizeof in - 1, NULL, 0), n);
    char small[10];
    mxs_text_to_ascii(in, sizeof in - 1, small, sizeof small);
    assert_string_equal(small, "a\\x1B ");   /* whole pieces only */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact),
        cmocka_unit_test(test_hostile_generated),
        cmocka_unit_test(test_hostile_hand),
        cmocka_unit_test(test_long),
        cmocka_unit_test(test_name_once),
        cmocka_unit_test(test_name_cut),
        cmocka_unit_test(test_name_idn),
        cmocka_unit_test(test_text_to_ascii),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
