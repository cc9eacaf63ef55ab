/* test_smtp.c - SMTP reply parser and EHLO capabilities (cmocka). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "probe/smtp.h"

/* Feed all of data in pieces of at most chunk bytes (0: all at once),
 * collecting up to max replies.  Returns the number of replies; *res gets
 * the last non-REPLY result. */
static int feed_all(struct smtp_parser *p, const void *data, size_t n, size_t chunk,
                    struct mxs_reply *out, int max, enum smtp_feed_result *res)
{
    const unsigned char *d = data;
    size_t off = 0;
    int got = 0;
    enum smtp_feed_result r = SMTP_NEED_MORE;
    if (!chunk)
        chunk = n ? n : 1;
    while (off < n || r == SMTP_REPLY) {
        size_t k = n - off < chunk ? n - off : chunk;
        size_t used = 0;
        struct mxs_reply rep;
        r = smtp_parser_feed(p, d + off, k, &used, &rep);
        assert_true(used <= k);
        off += used;
        if (r == SMTP_REPLY) {
            if (got < max)
                out[got] = rep;
            got++;
        } else {
            if (r == SMTP_NEED_MORE)
                assert_int_equal(used, k);  /* all taken */
            else
                break;
        }
    }
    if (res)
        *res = r;
    return got;
}

static const char ehlo_text[] =
    "250-mx.example.org Hello client [127.0.0.1]\r\n"
    "250-PIPELINING\r\n"
    "250-SIZE 10240000\r\n"
    "250-ETRN\n"                    /* a bare LF in the middle */
    "250-STARTTLS\r\n"
    "250-ENHANCEDSTATUSCODES\r\n"
    "250-8BITMIME\r\n"
    "250-DSN\r\n"
    "250-SMTPUTF8\r\n"
    "250 CHUNKING\r\n";

static void test_simple(void **state)
{
    (void)state;
    struct smtp_parser p;
    struct mxs_reply r[2];
    enum smtp_feed_result res;
    smtp_parser_reset(&p);
    const char *b = "220 mx.example.org ESMTP Postfix\r\n";
    assert_int_equal(feed_all(&p, b, strlen(b), 0, r, 2, &res), 1);
    assert_int_equal(res, SMTP_NEED_MORE);
    assert_int_equal(r[0].code, 220);
    assert_int_equal(r[0].n_lines, 1);
    assert_string_equal(r[0].text, "mx.example.org ESMTP Postfix");
    assert_false(r[0].truncated);
    assert_false(r[0].mixed_codes);
    assert_string_equal(r[0].enhanced, "");
    assert_int_equal(smtp_parser_pending(&p), 0);

    /* code alone, bare LF */
    smtp_parser_reset(&p);
    assert_int_equal(feed_all(&p, "250\n", 4, 0, r, 2, &res), 1);
    assert_int_equal(r[0].code, 250);
    assert_string_equal(r[0].text, "");
}

/* The EHLO reply split at every byte boundary, and byte by byte, must give
 * the same reply as in one piece. */
static void test_chunking(void **state)
{
    (void)state;
    struct smtp_parser p;
    struct mxs_reply whole, r;
    size_t n = strlen(ehlo_text);
    enum smtp_feed_result res;

    smtp_parser_reset(&p);
    assert_int_equal(feed_all(&p, ehlo_text, n, 0, &whole, 1, &res), 1);
    assert_int_equal(whole.code, 250);
    assert_int_equal(whole.n_lines, 10);
    assert_non_null(strstr(whole.text, "\nETRN\nSTARTTLS\n"));
    assert_string_equal(whole.text + strlen(whole.text) - 9, "\nCHUNKING");

    for (size_t cut = 0; cut <= n; cut++) {
        size_t used;
        smtp_parser_reset(&p);
        res = smtp_parser_feed(&p, ehlo_text, cut, &used, &r);
        assert_int_equal(used, cut);
        if (cut < n)
            assert_int_equal(res, SMTP_NEED_MORE);
        else
            assert_int_equal(res, SMTP_REPLY);
        if (cut < n) {
            res = smtp_parser_feed(&p, ehlo_text + cut, n - cut, &used, &r);
            assert_int_equal(res, SMTP_REPLY);
            assert_int_equal(used, n - cut);
        }
        assert_memory_equal(&r, &whole, sizeof r);
    }
    for (size_t chunk = 1; chunk < 8; chunk++) {
        smtp_parser_reset(&p);
        assert_int_equal(feed_all(&p, ehlo_text, n, chunk, &r, 1, &res), 1);
        assert_memory_equal(&r, &whole, sizeof r);
    }
}

struct lines { int n, cut; size_t last_len; };
static void line_cb(void *arg, const char *line, size_t len, int cut)
{
    struct lines *l = arg;
    l->n++;
    l->cut += cut;
    l->last_len = len;
    assert_int_equal(line[len], '\0');
}

static void test_long_line(void **state)
{
    (void)state;
    size_t n = 4 + 100000 + 2;
    char *big = malloc(n + 32);
    assert_non_null(big);
    memcpy(big, "250 ", 4);
    memset(big + 4, 'a', 100000);
    memcpy(big + 4 + 100000, "\r\n", 2);
    memcpy(big + n, "250 next\r\n", 10);
    size_t sizes[] = { 0, 1, 3, 1000, 4096, 8191, 8192, 70000 };
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        struct smtp_parser p;
        struct lines l = { 0, 0, 0 };
        struct mxs_reply r[3];
        enum smtp_feed_result res;
        smtp_parser_reset(&p);
        p.line_cb = line_cb;
        p.line_arg = &l;
        assert_int_equal(feed_all(&p, big, n + 10, sizes[s], r, 3, &res), 2);
        assert_int_equal(r[0].code, 250);
        assert_true(r[0].truncated);
        assert_int_equal(strlen(r[0].text), MXS_SMTP_MAX_LINE - 4);
        assert_false(r[1].truncated);
        assert_string_equal(r[1].text, "next");
        assert_int_equal(l.n, 2);
        assert_int_equal(l.cut, 1);
        assert_int_equal(l.last_len, 8);
        assert_int_equal(smtp_parser_pending(&p), 0);
    }
    free(big);
}

struct cb_count {
    int lines;
    char last[32];
};
static void count_cb(void *arg, const char *line, size_t len, int cut)
{
    struct cb_count *c = arg;
    (void)cut;
    c->lines++;
    snprintf(c->last, sizeof c->last, "%.*s", (int)len, line);
}

static void test_endless(void **state)
{
    (void)state;
    struct smtp_parser p;
    struct mxs_reply r;
    enum smtp_feed_result res;
    size_t used;
    /* 10,000 lines: past the bound every line is read and counted, none
     * reaches the line callback but the final one, and the reply is whole
     * (a sender reads it to its end: the bound must not decide). */
    struct cb_count cc = { 0, "" };
    smtp_parser_reset(&p);
    p.line_cb = count_cb;
    p.line_arg = &cc;
    for (int i = 0; i < 9999; i++) {
        res = smtp_parser_feed(&p, "250-more\r\n", 10, &used, &r);
        assert_int_equal(res, SMTP_NEED_MORE);
        assert_int_equal(used, 10);
    }
    res = smtp_parser_feed(&p, "250 end\r\n", 9, &used, &r);
    assert_int_equal(res, SMTP_REPLY);
    assert_int_equal(r.code, 250);
    assert_int_equal(r.n_lines, 10000);
    assert_int_equal(r.bytes, 9999 * 10 + 9);
    assert_true(r.truncated);
    assert_int_equal(cc.lines, MXS_SMTP_MAX_REPLY_LINES + 1);
    assert_string_equal(cc.last, "250 end");
    /* the parser is ready for the next reply */
    assert_int_equal(smtp_parser_feed(&p, "221 bye\r\n", 9, &used, &r), SMTP_REPLY);
    assert_int_equal(r.n_lines, 1);
    assert_int_equal(r.bytes, 9);

    /* 100 lines: below the error bound but above the stored lines. */
    char *t = malloc(100 * 12 + 16);
    assert_non_null(t);
    size_t n = 0;
    for (int i = 0; i < 99; i++)
        n += (size_t)sprintf(t + n, "250-line%02d\r\n", i);
    n += (size_t)sprintf(t + n, "250 last\r\n");
    smtp_parser_reset(&p);
    assert_int_equal(feed_all(&p, t, n, 0, &r, 1, &res), 1);
    assert_int_equal(r.n_lines, 100);
    assert_true(r.truncated);
    int nl = 0;
    for (char *c = r.text; *c; c++)
        nl += *c == '\n';
    assert_int_equal(nl + 1, MXS_REPLY_MAX_LINES);
    free(t);

    /* Many long lines: the text cap (bytes). */
    smtp_parser_reset(&p);
    char line[1100];
    memcpy(line, "250-", 4);
    memset(line + 4, 'b', 1000);
    memcpy(line + 1004, "\r\n", 2);
    for (int i = 0; i < 10; i++)
        assert_int_equal(smtp_parser_feed(&p, line, 1006, &used, &r), SMTP_NEED_MORE);
    assert_int_equal(smtp_parser_feed(&p, "250 x\r\n", 7, &used, &r), SMTP_REPLY);
    assert_true(r.truncated);
    assert_int_equal(strlen(r.text), MXS_REPLY_MAX_TEXT - 1);
}

static void test_garbage(void **state)
{
    (void)state;
    const char *bad[] = { "HTTP/1.1 400 Bad Request\r\n", "25\r\n", "2500 x\r\n",
                          "abc\r\n", "\r\n", "250_x\r\n", "650 x\r\n", "\0\0\0\n",
                          "SSH-2.0-OpenSSH_9.2\r\n", "\x16\x03\x01\x02\x05\n" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct smtp_parser p;
        struct mxs_reply r;
        size_t used, n = strlen(bad[i]);
        if (i == 7)
            n = 4;
        smtp_parser_reset(&p);
        enum smtp_feed_result res = smtp_parser_feed(&p, bad[i], n, &used, &r);
        assert_int_equal(res, SMTP_ERR_SYNTAX);
        assert_int_equal(used, n);
    }
    /* NUL inside a line: kept visible as U+FFFD, the callback sees bytes. */
    struct smtp_parser p;
    struct mxs_reply r;
    struct lines l = { 0, 0, 0 };
    size_t used;
    smtp_parser_reset(&p);
    p.line_cb = line_cb;
    p.line_arg = &l;
    assert_int_equal(smtp_parser_feed(&p, "250 a\0b\r\n", 9, &used, &r), SMTP_REPLY);
    assert_string_equal(r.text, "a\xef\xbf\xbd" "b");
    assert_int_equal(l.last_len, 7);
}

/* The STARTTLS guard: bytes after "220 Ready" are reported, not parsed. */
static void test_pending(void **state)
{
    (void)state;
    struct smtp_parser p;
    struct mxs_reply r;
    size_t used;
    const char *inj = "220 2.0.0 Ready to start TLS\r\n250 injected\r\n";
    size_t n = strlen(inj);
    smtp_parser_reset(&p);
    assert_int_equal(smtp_parser_feed(&p, inj, n, &used, &r), SMTP_REPLY);
    assert_int_equal(used, n);
    assert_int_equal(r.code, 220);
    assert_string_equal(r.enhanced, "2.0.0");
    assert_int_equal(smtp_parser_pending(&p), strlen("250 injected\r\n"));
    assert_int_equal(smtp_parser_discard(&p), strlen("250 injected\r\n"));
    assert_int_equal(smtp_parser_pending(&p), 0);
    assert_int_equal(smtp_parser_feed(&p, NULL, 0, &used, &r), SMTP_NEED_MORE);

    /* Without discarding, the next feed yields the injected reply. */
    smtp_parser_reset(&p);
    assert_int_equal(smtp_parser_feed(&p, inj, n, &used, &r), SMTP_REPLY);
    assert_int_equal(smtp_parser_feed(&p, "", 0, &used, &r), SMTP_REPLY);
    assert_string_equal(r.text, "injected");

    /* Partial line and incomplete continuation count too. */
    smtp_parser_reset(&p);
    const char *inj2 = "220 Ready\r\n250-a\r\nXY";
    assert_int_equal(smtp_parser_feed(&p, inj2, strlen(inj2), &used, &r), SMTP_REPLY);
    assert_int_equal(smtp_parser_pending(&p), 9);
    assert_int_equal(smtp_parser_feed(&p, NULL, 0, &used, &r), SMTP_NEED_MORE);
    assert_int_equal(smtp_parser_pending(&p), 9);
    assert_int_equal(smtp_parser_discard(&p), 9);
    assert_int_equal(smtp_parser_feed(&p, "250 b\r\n", 7, &used, &r), SMTP_REPLY);
    assert_int_equal(r.n_lines, 1);
    assert_string_equal(r.text, "b");

    /* Input larger than the parser buffer: *used < n, nothing lost. */
    size_t big = 3000 * 8;
    char *many = malloc(big);
    assert_non_null(many);
    for (size_t i = 0; i < 3000; i++)
        memcpy(many + i * 8, "250 ok\r\n", 8);
    smtp_parser_reset(&p);
    enum smtp_feed_result res;
    struct mxs_reply rr;
    assert_int_equal(feed_all(&p, many, big, 0, &rr, 1, &res), 3000);
    free(many);
}

static void test_codes(void **state)
{
    (void)state;
    struct smtp_parser p;
    struct mxs_reply r[2];
    enum smtp_feed_result res;
    const char *mixed = "250-first\r\n251 second\r\n";
    smtp_parser_reset(&p);
    assert_int_equal(feed_all(&p, mixed, strlen(mixed), 0, r, 2, &res), 1);
    assert_true(r[0].mixed_codes);
    assert_int_equal(r[0].code, 251);

    const char *enh = "550-5.7.1 first\r\n550 5.7.1 second\r\n";
    smtp_parser_reset(&p);
    assert_int_equal(feed_all(&p, enh, strlen(enh), 0, r, 2, &res), 1);
    assert_string_equal(r[0].enhanced, "5.7.1");
    assert_false(r[0].mixed_codes);
    assert_string_equal(r[0].text, "5.7.1 first\n5.7.1 second");

    /* class must match the reply code */
    smtp_parser_reset(&p);
    assert_int_equal(feed_all(&p, "250 5.1.1 x\r\n", 13, 0, r, 2, &res), 1);
    assert_string_equal(r[0].enhanced, "");
    /* only on a later line */
    smtp_parser_reset(&p);
    assert_int_equal(feed_all(&p, "421-mx\r\n421 4.4.2 bye\r\n", 23, 0, r, 2, &res), 1);
    assert_string_equal(r[0].enhanced, "4.4.2");

    char e[16];
    assert_true(smtp_enhanced_code("5.7.1", e));
    assert_string_equal(e, "5.7.1");
    assert_true(smtp_enhanced_code("2.0.0 Ok", e));
    assert_string_equal(e, "2.0.0");
    assert_true(smtp_enhanced_code("4.123.999\tx", e));
    assert_string_equal(e, "4.123.999");
    const char *no[] = { "", "5", "5.", "5.7", "5.7.", "5.7.1234", "3.1.1",
                         "5.7.1x", ".5.7.1", "5..1", "55.7.1", "5.1234.1" };
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        assert_false(smtp_enhanced_code(no[i], e));
        assert_string_equal(e, "");
    }
}

static void mkreply(struct mxs_reply *r, const char *text)
{
    memset(r, 0, sizeof *r);
    r->code = 250;
    snprintf(r->text, sizeof r->text, "%s", text);
}

static void test_caps(void **state)
{
    (void)state;
    struct smtp_parser p;
    struct mxs_reply r;
    struct mxs_caps c;
    enum smtp_feed_result res;
    smtp_parser_reset(&p);
    assert_int_equal(feed_all(&p, ehlo_text, strlen(ehlo_text), 0, &r, 1, &res), 1);
    smtp_caps_parse(&r, &c);
    assert_int_equal(c.n, 9);
    assert_true(c.starttls && c.pipelining && c.chunking && c.smtputf8 && c.eightbitmime);
    assert_false(c.requiretls);
    assert_false(c.masked);
    assert_int_equal(c.size, 10240000);
    assert_string_equal(c.name[1], "SIZE");
    assert_string_equal(c.args[1], "10240000");

    /* Cisco PIX/ASA "fixup": keywords overwritten. */
    mkreply(&r, "mx Hello\nXXXXXXXA\nXXXXXXXXXXXXXXXXXX\n****\nSIZE\nXCLIENT NAME ADDR\nXFORWARD NAME");
    smtp_caps_parse(&r, &c);
    assert_true(c.masked);
    assert_false(c.starttls);
    assert_int_equal(c.size, 0);
    assert_string_equal(c.name[0], "XXXXXXXA");
    mkreply(&r, "mx Hello\nXCLIENT NAME\nXFORWARD NAME\nX-EXPS GSSAPI\nXEXCH50");
    smtp_caps_parse(&r, &c);
    assert_false(c.masked);
    assert_int_equal(c.n, 4);
    mkreply(&r, "mx Hello\n250 fake\nAUTH*LOGIN");
    smtp_caps_parse(&r, &c);
    assert_true(c.masked);

    /* lower case, tabs, absurd SIZE, too many keywords, long names */
    char t[4000];
    size_t n = (size_t)snprintf(t, sizeof t, "greet\nstarttls\n\tsize   99999999999999999999999  \n");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(t + n, sizeof t - n, "KW%d arg\n", i);
    n += (size_t)snprintf(t + n, sizeof t - n, "REQUIRETLS\n");
    memset(t + n, 'L', 200);
    t[n + 200] = '\0';
    mkreply(&r, t);
    smtp_caps_parse(&r, &c);
    assert_int_equal(c.n, MXS_MAX_CAPS);
    assert_true(c.starttls);
    assert_true(c.requiretls);     /* after the cap: still flagged */
    assert_int_equal(c.size, LONG_MAX);
    assert_string_equal(c.args[1], "99999999999999999999999");

    mkreply(&r, "greeting only");
    smtp_caps_parse(&r, &c);
    assert_int_equal(c.n, 0);
    assert_int_equal(c.size, -1);
}

static void test_caps_diff(void **state)
{
    (void)state;
    struct mxs_reply r;
    struct mxs_caps a, b;
    char out[128];
    mkreply(&r, "mx\nPIPELINING\nSIZE 100\nSTARTTLS\nCHUNKING");
    smtp_caps_parse(&r, &a);
    mkreply(&r, "mx\nPIPELINING\nSIZE 100\nCHUNKING");
    smtp_caps_parse(&r, &b);
    assert_int_equal(smtp_caps_diff(&a, &b, out, sizeof out), 0);
    assert_string_equal(out, "");
    mkreply(&r, "mx\nPIPELINING\nSIZE 200\nAUTH PLAIN LOGIN");
    smtp_caps_parse(&r, &b);
    assert_int_equal(smtp_caps_diff(&a, &b, out, sizeof out), 1);
    assert_string_equal(out, "+AUTH -CHUNKING ~SIZE");
    /* short output: whole words only, still reports the difference */
    assert_int_equal(smtp_caps_diff(&a, &b, out, 8), 1);
    assert_string_equal(out, "+AUTH");
    assert_int_equal(smtp_caps_diff(&a, &b, NULL, 0), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple),     cmocka_unit_test(test_chunking),
        cmocka_unit_test(test_long_line),  cmocka_unit_test(test_endless),
        cmocka_unit_test(test_garbage),    cmocka_unit_test(test_pending),
        cmocka_unit_test(test_codes),      cmocka_unit_test(test_caps),
        cmocka_unit_test(test_caps_diff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
