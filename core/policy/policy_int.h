/*
 * policy_int.h - helpers shared by the policy parsers (txt.c, sts.c,
 * tlsrpt.c); not for other modules.
 */
#ifndef MXS_POLICY_INT_H
#define MXS_POLICY_INT_H
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* One name=value field of a TXT record; index counts from 0.  Return 0 to go
 * on, -1 (with err) to reject the record. */
typedef int (*policy_field_fn)(const char *name, size_t nlen, const char *val, size_t vlen,
                               int index, void *arg, char *err, size_t errlen);
int policy_fields(const char *rec, size_t len, policy_field_fn fn, void *arg,
                  char *err, size_t errlen);
int policy_txt_has_prefix(const char *prefix, const char *rec, size_t len);
int policy_is_alnum(int c);

/* snprintf into a message buffer; our words only, never input bytes. */
static inline void policy_msg(char *out, size_t outlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline void policy_msg(char *out, size_t outlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (outlen)
        vsnprintf(out, outlen, fmt, ap);
    va_end(ap);
}

#endif
