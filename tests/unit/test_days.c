/*
 * test_days.c - the one days-left computation and its words (base/days.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core.h"

static void test_days_left_floor(void **st)
{
    (void)st;
    const int64_t now = 1796300000, day = 86400;
    assert_int_equal(mxs_days_left(now + 10 * day + 3600, now), 10);
    assert_int_equal(mxs_days_left(now + day, now), 1);
    assert_int_equal(mxs_days_left(now + 1, now), 0);
    assert_int_equal(mxs_days_left(now, now), 0);
    assert_int_equal(mxs_days_left(now - 1, now), -1);        /* the sign never lies */
    assert_int_equal(mxs_days_left(now - day, now), -1);
    assert_int_equal(mxs_days_left(now - day - 5, now), -2);  /* the example */
    assert_int_equal(mxs_days_left(INT64_MAX / 2, 0), 2147483647);
}

static void test_days_words(void **st)
{
    char b[64];
    (void)st;
    mxs_days_text(1, b, sizeof b);
    assert_string_equal(b, "1 day left");
    mxs_days_text(-1, b, sizeof b);
    assert_string_equal(b, "-1 day left");
    mxs_days_text(-2, b, sizeof b);
    assert_string_equal(b, "-2 days left");
    mxs_days_text(0, b, sizeof b);
    assert_string_equal(b, "0 days left");
    mxs_duration_text(86400 + 5, b, sizeof b);
    assert_string_equal(b, "1 day 0 h 0 min");
    mxs_duration_text(-(3 * 86400 + 2 * 3600 + 60), b, sizeof b);
    assert_string_equal(b, "3 days 2 h 1 min");
    mxs_duration_text(42, b, sizeof b);
    assert_string_equal(b, "42 s");
    assert_string_equal(mxs_plural(1, "day", "days"), "day");
    assert_string_equal(mxs_plural(2, "day", "days"), "days");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_days_left_floor),
        cmocka_unit_test(test_days_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
