/*
 * fuzz_policy.c - the MTA-STS TXT record, the MTA-STS policy file, MX
 * pattern matching and the TLS-RPT record on arbitrary bytes.  The first
 * byte picks the parser; the rest is the input.  Checks the bounds every
 * result promises, not just the absence of crashes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    switch (data[0] % 4) {
    case 0: {
        struct sts_txt t;
        int r = sts_txt_parse(in, n, &t);
        if (r == 0 && (!t.valid || strlen(t.id) < 1 || strlen(t.id) > 32))
            abort();
        if (strnlen(t.error, sizeof t.error) >= sizeof t.error)
            abort();
        break;
    }
    case 1: {
        static struct sts_policy p;
        int r = sts_policy_parse(in, n, &p);
        if ((r == 0) != (p.valid != 0))
            abort();
        if (p.n_mx < 0 || p.n_mx > STS_MAX_MX || p.n_mx > p.n_mx_total)
            abort();
        if (p.n_problems < 0 || p.n_problems > STS_MAX_PROBLEMS || p.n_problems > p.n_problems_total)
            abort();
        if (p.valid && (!p.version_ok || p.mode == STS_MODE_UNSET || p.max_age < 0 ||
                        p.max_age > STS_MAX_AGE_MAX || (p.mode != STS_MODE_NONE && p.n_mx == 0)))
            abort();
        for (int i = 0; i < p.n_mx; i++) {
            size_t l = strnlen(p.mx[i], STS_PATTERN_MAX);
            if (l == 0 || l >= STS_PATTERN_MAX)
                abort();
            /* a kept pattern is host-name characters only */
            for (size_t j = 0; j < l; j++) {
                char c = p.mx[i][j];
                if (!(c == '.' || c == '-' || c == '*' || (c >= '0' && c <= '9') ||
                      (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
                    abort();
            }
            /* a literal pattern matches itself */
            if (p.mx[i][0] != '*' && !sts_mx_match(p.mx[i], p.mx[i]))
                abort();
        }
        for (int i = 0; i < p.n_problems; i++)
            if (p.problem[i].raw_len > sizeof p.problem[i].raw || p.problem[i].line < 0 ||
                p.problem[i].line > p.lines)
                abort();
        break;
    }
    case 2: {
        /* pattern NUL host */
        char buf[600];
        size_t l = n < sizeof buf - 1 ? n : sizeof buf - 1;
        memcpy(buf, in, l);
        buf[l] = 0;
        const char *host = memchr(buf, 0, l) ? buf + strlen(buf) + 1 : "";
        (void)sts_mx_match(buf, host);
        break;
    }
    default: {
        struct tlsrpt_txt t;
        int r = tlsrpt_txt_parse(in, n, &t);
        if (r == 0 && (!t.valid || t.n_rua < 1))
            abort();
        if (t.n_rua > TLSRPT_MAX_RUA || t.n_rua > t.n_rua_total)
            abort();
        for (int i = 0; i < t.n_rua; i++)
            if (t.rua[i].len > sizeof t.rua[i].uri || t.rua[i].len > t.rua[i].full_len)
                abort();
        break;
    }
    }
    return 0;
}
