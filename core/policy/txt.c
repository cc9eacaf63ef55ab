/*
 * txt.c - choosing the one policy TXT record, and the field grammar the
 * MTA-STS and TLS-RPT records share (RFC 8461 §3.1, RFC 8460 §3).
 */
#include <string.h>

#include "policy/policy.h"
#include "policy/policy_int.h"

/* "Begins with v=STSv1": the tag, then ';', whitespace or the end.  Errata
 * 6285 notes the RFC's *WSP before ';' lets "v=STSv1 ;" through too. */
int policy_txt_has_prefix(const char *prefix, const char *rec, size_t len)
{
    size_t pl = strlen(prefix);
    if (len < pl || memcmp(rec, prefix, pl) != 0)
        return 0;
    return len == pl || rec[pl] == ';' || rec[pl] == ' ' || rec[pl] == '\t';
}

enum policy_txt_pick policy_txt_pick(const char *prefix, const char *const *rec,
                                     const size_t *len, int n, int *index, int *others)
{
    int found = 0, idx = -1;
    *others = 0;
    for (int i = 0; i < n; i++) {
        if (policy_txt_has_prefix(prefix, rec[i], len[i])) {
            if (found++ == 0)
                idx = i;
        } else {
            (*others)++;
        }
    }
    *index = found == 1 ? idx : -1;
    return found == 0 ? POLICY_TXT_NONE : found == 1 ? POLICY_TXT_ONE : POLICY_TXT_SEVERAL;
}

/* Split "k=v; k=v;" into fields: calls fn for each (name, value).  Field
 * delimiter *WSP ";" *WSP; a trailing delimiter is allowed; an empty field
 * in the middle ("a=b;;c=d") is a syntax error.  Returns 0, or -1 with err. */
int policy_fields(const char *rec, size_t len, policy_field_fn fn, void *arg,
                  char *err, size_t errlen)
{
    size_t i = 0;
    int nfield = 0;
    while (i < len) {
        while (i < len && (rec[i] == ' ' || rec[i] == '\t'))
            i++;
        if (i == len)
            break;
        size_t start = i;
        while (i < len && rec[i] != ';')
            i++;
        size_t end = i;
        while (end > start && (rec[end - 1] == ' ' || rec[end - 1] == '\t'))
            end--;
        if (end == start) {
            policy_msg(err, errlen, "field %d is empty (\";;\")", nfield + 1);
            return -1;
        }
        const char *eq = memchr(rec + start, '=', end - start);
        if (!eq || eq == rec + start) {
            policy_msg(err, errlen, "field %d is not name=value", nfield + 1);
            return -1;
        }
        size_t nlen = (size_t)(eq - (rec + start));
        if (fn(rec + start, nlen, eq + 1, (size_t)(rec + end - (eq + 1)), nfield, arg, err, errlen) != 0)
            return -1;
        nfield++;
        if (i < len)
            i++; /* the ';' */
    }
    if (nfield == 0) {
        policy_msg(err, errlen, "the record is empty");
        return -1;
    }
    return 0;
}

int policy_is_alnum(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
