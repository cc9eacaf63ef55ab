/*
 * days.c - the one computation of "days left" and the words for it.
 *
 * Every view (chain pane, certificate detail, findings, evidence, text, JSON,
 * the report) shows the same number: days left = floor((not_after - now) /
 * 86400).  Floor, not truncation, so the sign never lies: one second after
 * expiry is day -1, and an expired certificate never shows 0.  Where an
 * operator needs the exact age of an expiry, the evidence adds the elapsed
 * time in days, hours and minutes (mxs_duration_text): another unit, never a
 * second rounding of the same number.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "core.h"

int mxs_days_left(int64_t not_after, int64_t now)
{
    int64_t d = not_after - now;
    int64_t q = d / 86400;
    if (d % 86400 < 0)
        q--;
    if (q > INT_MAX)
        return INT_MAX;
    if (q < INT_MIN)
        return INT_MIN;
    return (int)q;
}

const char *mxs_plural(long long n, const char *one, const char *many)
{
    return n == 1 || n == -1 ? one : many;
}

size_t mxs_days_text(int days_left, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "%d %s left", days_left, mxs_plural(days_left, "day", "days"));
    return n < 0 ? 0 : (size_t)n;
}

size_t mxs_duration_text(int64_t seconds, char *out, size_t outlen)
{
    long long s = seconds < 0 ? -(long long)seconds : (long long)seconds;
    long long d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60;
    int n;
    if (d > 0)
        n = snprintf(out, outlen, "%lld %s %lld h %lld min", d, mxs_plural(d, "day", "days"), h, m);
    else if (h > 0)
        n = snprintf(out, outlen, "%lld h %lld min", h, m);
    else if (m > 0)
        n = snprintf(out, outlen, "%lld min", m);
    else
        n = snprintf(out, outlen, "%lld s", s);
    return n < 0 ? 0 : (size_t)n;
}
