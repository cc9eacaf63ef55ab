/*
 * test_paths.c - hostile bytes through every output path.
 *
 * More than 256 hostile strings are put where a server puts text (banner,
 * EHLO lines, STARTTLS reply) and where a certificate does (subject CN,
 * SANs); the engine runs over the scripted transport and every rendering a
 * person or a file sees is checked: the batch report, the transcript text,
 * each transcript line as the console's Exchange pane draws it, the JSON,
 * the problem report, the certificate detail.  Nothing may contain a raw
 * control byte, C1, DEL, invalid UTF-8, a bidi control or a zero-width
 * character; newlines are the renderers' own structure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "core.h"
#include "probe/engine_int.h"
#include "base/esc.h"
#include "lab/labcert.h"
#include "session/render.h"
#include "probe/x509view.h"
#include "scripted.h"

#define MAX_HOSTILE 600

static char *hostile[MAX_HOSTILE];
static size_t hostile_len[MAX_HOSTILE];
static int n_hostile;

static void add(const void *p, size_t n)
{
    if (n_hostile >= MAX_HOSTILE)
        return;
    char *c = malloc(n + 1);
    assert_non_null(c);
    memcpy(c, p, n);
    c[n] = 0;
    hostile[n_hostile] = c;
    hostile_len[n_hostile++] = n;
}

static size_t utf8(unsigned cp, char *o)
{
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | cp >> 6); o[1] = (char)(0x80 | (cp & 63)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12); o[1] = (char)(0x80 | ((cp >> 6) & 63));
        o[2] = (char)(0x80 | (cp & 63)); return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18); o[1] = (char)(0x80 | ((cp >> 12) & 63));
    o[2] = (char)(0x80 | ((cp >> 6) & 63)); o[3] = (char)(0x80 | (cp & 63)); return 4;
}

static void make_hostile(void)
{
    char b[64];
    /* every byte value that is not printable ASCII, alone and in text
     * (CR and LF end a line on the wire: they cannot be inside one) */
    for (int c = 0; c < 256; c++) {
        if ((c >= 0x20 && c < 0x7f) || c == '\r' || c == '\n')
            continue;
        int n = snprintf(b, sizeof b, "mx%cx", 'A');
        b[2] = (char)c;
        add(b, (size_t)n);
    }
    static const unsigned cps[] = {
        0x80, 0x85, 0x9b, 0x9f, 0xad, 0x61c, 0x200b, 0x200c, 0x200d, 0x200e, 0x200f,
        0x2028, 0x2029, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2060, 0x2061, 0x2062,
        0x2063, 0x2064, 0x2066, 0x2067, 0x2068, 0x2069, 0xfeff, 0xe000, 0xfff9, 0xe0001,
    };
    for (size_t i = 0; i < sizeof cps / sizeof cps[0]; i++) {
        size_t k = 0;
        b[k++] = 'o'; b[k++] = 'k';
        k += utf8(cps[i], b + k);
        b[k++] = 'z';
        add(b, k);
    }
    static const char *const seq[] = {
        "\x1b[2J\x1b[H", "\x1b]0;pwned\x07", "\x1b]52;c;ZWNobyBoaQ==\x07", "\x1b[31mred\x1b[0m",
        "\x1bP+q544e\x1b\\", "\x9b" "2J", "\xc2\x9b" "2J", "\x1b[6n", "\x1b[?1049h", "\x1b(0lqk",
        "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff\xfe", "\xe2\x82",
        "abc\xe2\x80\xae" "evil.exe", "\xe2\x81\xa6" "x" "\xe2\x81\xa9", "\x07\x07\x07", "\x08\x08rm",
        "\x00hidden", "\x7f\x7f", "\x1b", "\x1b[", "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\",
    };
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++)
        add(seq[i], i == 20 ? 7 : strlen(seq[i]));
    /* seeded random mixes */
    unsigned s = 12345;
    while (n_hostile < 400) {
        size_t n = 4 + (s % 20), k = 0;
        for (size_t i = 0; i < n; i++) {
            s = s * 1103515245u + 12345u;
            unsigned char c = (unsigned char)(s >> 16);
            if (c == '\r' || c == '\n')
                c = 0x1b;
            b[k++] = (char)c;
        }
        add(b, k);
    }
}

/* The rule every output must keep. */
static void assert_clean(const char *what, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        unsigned cp;
        size_t l;
        if (c < 0x80) { cp = c; l = 1; }
        else if (c >= 0xC2 && c < 0xE0) { cp = c & 0x1F; l = 2; }
        else if (c >= 0xE0 && c < 0xF0) { cp = c & 0x0F; l = 3; }
        else if (c >= 0xF0 && c < 0xF5) { cp = c & 0x07; l = 4; }
        else { fail_msg("%s: invalid UTF-8 lead byte 0x%02x at %zu", what, c, i); return; }
        if (i + l > n) { fail_msg("%s: truncated UTF-8 at %zu", what, i); return; }
        for (size_t k = 1; k < l; k++) {
            unsigned char d = (unsigned char)s[i + k];
            if ((d & 0xC0) != 0x80) { fail_msg("%s: invalid UTF-8 at %zu", what, i); return; }
            cp = cp << 6 | (d & 0x3F);
        }
        if ((l == 3 && cp < 0x800) || (l == 4 && cp < 0x10000) || (cp >= 0xD800 && cp < 0xE000))
            fail_msg("%s: overlong or surrogate at %zu", what, i);
        if ((cp < 0x20 && cp != '\n') || (cp >= 0x7F && cp < 0xA0))
            fail_msg("%s: control U+%04X at %zu", what, cp, i);
        if (cp == 0xAD || cp == 0x61C || (cp >= 0x200B && cp <= 0x200F) || cp == 0x2028 || cp == 0x2029 ||
            (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x2069) || cp == 0xFEFF)
            fail_msg("%s: invisible or bidi U+%04X at %zu", what, cp, i);
        i += l;
    }
}

static void check_engine_outputs(struct engine *e)
{
    struct buf b;
    buf_init(&b, 0);
    render_report_text(e, &b);
    assert_clean("report", buf_str(&b), b.len);
    buf_reset(&b);
    render_transcript_text(e, &b);
    assert_clean("transcript", buf_str(&b), b.len);
    buf_reset(&b);
    render_problem_report(e, &b);
    assert_clean("problem report", buf_str(&b), b.len);
    for (size_t i = 0; i < engine_record_count(e); i++) {
        buf_reset(&b);
        render_record_line(engine_record(e, i), &b);
        assert_clean("exchange line", buf_str(&b), b.len);
        assert_null(strchr(buf_str(&b), '\n'));
    }
    buf_free(&b);
    char *j = render_json(e);
    assert_non_null(j);
    assert_clean("json", j, strlen(j));
    free(j);
    int n;
    const struct mxs_finding *f = engine_findings(e, &n);
    for (int i = 0; i < n; i++) {
        assert_clean("finding message", f[i].message, strlen(f[i].message));
        assert_clean("finding evidence", f[i].evidence, strlen(f[i].evidence));
    }
}

static void test_server_text(void **st)
{
    (void)st;
    int runs = 0;
    for (int h = 0; h < n_hostile; h++) {
        char srv[1024];
        size_t k = 0;
        const char *x = hostile[h];
        size_t xl = hostile_len[h];
        /* banner and EHLO carry it; STARTTLS is refused with it; the
         * probe stops there (no TLS server behind the script) */
#define PUT(s, n) do { memcpy(srv + k, (s), (n)); k += (n); } while (0)
        PUT("220 ", 4); PUT(x, xl); PUT(" ESMTP\r\n", 8);
        PUT("250-", 4); PUT(x, xl); PUT("\r\n250-SIZE 100\r\n250-", 20); PUT(x, xl);
        PUT("\r\n250 STARTTLS\r\n", 16);
        PUT("454 4.7.0 ", 10); PUT(x, xl); PUT("\r\n", 2);
#undef PUT
        struct scripted sc;
        scripted_init(&sc, srv, k);
        sc.eof_at_end = 1;
        struct mxs_settings s;
        char err[64];
        mxs_settings_init(&s);
        assert_int_equal(mxs_settings_set(&s, "host", "mx.example.test", err, sizeof err), 0);
        assert_int_equal(mxs_settings_set(&s, "connect", "127.0.0.1", err, sizeof err), 0);
        struct engine *e = engine_new(&s);
        engine_set_factory(e, scripted_factory, &sc);
        engine_run(e);
        assert_int_equal(engine_step_state(e, MXS_STEP_BANNER), MXS_ST_OK);
        check_engine_outputs(e);
        engine_free(e);
        runs++;
    }
    assert_true(runs >= 256);
}

static void test_certificate_text(void **st)
{
    (void)st;
    struct labcert ca, leaf;
    char err[256];
    labcert_init(&ca);
    labcert_init(&leaf);
    struct labcert_spec cs = { .subject = "CN=paths test CA", .is_ca = 1, .max_pathlen = -1 };
    assert_int_equal(labcert_make(&ca, &cs, NULL, err, sizeof err), 0);
    int made = 0;
    for (int h = 0; h < n_hostile; h++) {
        if (memchr(hostile[h], 0, hostile_len[h]))
            continue; /* a C string SAN cannot carry NUL through the factory */
        struct labcert_spec ls = { .subject = "CN=leaf", .san = { hostile[h], "mx.example.test", NULL } };
        if (labcert_make(&leaf, &ls, &ca, err, sizeof err) != 0)
            continue; /* the writer refused this name: nothing to show */
        struct mxs_cert c;
        assert_int_equal(x509view_decode(leaf.der, leaf.der_len, time(NULL), &c, err, sizeof err), 0);
        struct buf b;
        buf_init(&b, 0);
        render_cert_detail(&c, &b);
        assert_clean("certificate detail", buf_str(&b), b.len);
        buf_free(&b);
        char t[1200];
        mxs_escape_str(c.san[0], t, sizeof t, 0);
        assert_clean("SAN", t, strlen(t));
        x509view_clear(&c);
        made++;
    }
    labcert_free(&leaf);
    labcert_free(&ca);
    assert_true(made >= 200);
}

int main(void)
{
    make_hostile();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_text),
        cmocka_unit_test(test_certificate_text),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    for (int i = 0; i < n_hostile; i++)
        free(hostile[i]);
    return r;
}
