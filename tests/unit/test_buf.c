/* test_buf.c - the bounded buffer (cmocka). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/buf.h"

static void test_basic(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    assert_string_equal(buf_str(&b), "");
    buf_puts(&b, "hello");
    buf_add(&b, ", ", 2);
    buf_printf(&b, "%s %d", "world", 42);
    assert_string_equal(buf_str(&b), "hello, world 42");
    assert_int_equal(b.len, 15);
    assert_false(b.failed);
    buf_reset(&b);
    assert_string_equal(buf_str(&b), "");
    /* grow well past the first allocation */
    for (int i = 0; i < 10000; i++)
        buf_printf(&b, "%04d", i % 10000);
    assert_int_equal(b.len, 40000);
    assert_false(b.failed);
    assert_memory_equal(b.data + 39996, "9999", 4);
    buf_free(&b);
    assert_null(b.data);
}

static void test_cap(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 10);
    buf_puts(&b, "12345678");
    assert_false(b.failed);
    buf_puts(&b, "abc");
    assert_true(b.failed);
    assert_string_equal(buf_str(&b), "12345678ab");
    assert_int_equal(b.len, 10);
    buf_puts(&b, "x");           /* ignored after failure */
    assert_int_equal(b.len, 10);
    assert_true(b.cap <= 11);
    buf_free(&b);

    /* cut back to a UTF-8 boundary: "é" (2 bytes) does not fit in 1 */
    buf_init(&b, 4);
    buf_puts(&b, "abc\xc3\xa9");
    assert_true(b.failed);
    assert_string_equal(buf_str(&b), "abc");
    buf_free(&b);

    buf_init(&b, 6);
    buf_printf(&b, "%s", "abcd\xe2\x82\xac");  /* euro sign: 3 bytes */
    assert_true(b.failed);
    assert_string_equal(buf_str(&b), "abcd");
    buf_free(&b);
}

static void test_escaped(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    buf_puts_escaped(&b, "a\x1b[2Jb");
    assert_string_equal(buf_str(&b), "a\\x1B[2Jb");
    buf_add_escaped(&b, "\0\xe2\x80\xae", 4, 0);
    assert_string_equal(buf_str(&b), "a\\x1B[2Jb\\x00<U+202E>");
    buf_free(&b);

    /* Cut on an escape boundary, never "\x1" */
    buf_init(&b, 9);
    buf_add_escaped(&b, "ab\x01\x02", 4, 0);
    assert_true(b.failed);
    assert_string_equal(buf_str(&b), "ab\\x01");
    buf_free(&b);

    /* Huge hostile input into a small cap: bounded, no overflow. */
    size_t n = 100000;
    unsigned char *h = malloc(n);
    assert_non_null(h);
    for (size_t i = 0; i < n; i++)
        h[i] = (unsigned char)(i * 31);
    buf_init(&b, 1000);
    buf_add_escaped(&b, h, n, 0);
    assert_true(b.failed);
    assert_true(b.len <= 1000);
    assert_int_equal(strlen(buf_str(&b)), b.len);
    for (size_t i = 0; i < b.len; i++)
        assert_true((unsigned char)b.data[i] >= 0x20 && (unsigned char)b.data[i] != 0x7f);
    buf_free(&b);
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_escaped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
