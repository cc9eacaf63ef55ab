/*
 * fuzz_tlsrpt_report.c - aggregate TLS-RPT reports (RFC 8460 §4.4) on
 * arbitrary bytes, plain and (when the input starts with the gzip magic)
 * compressed: bounded results or a clear error, never a crash or a leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/tlsrpt_report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tlsrpt_report r;
    char err[256];
    err[0] = 0;
    int rc = tlsrpt_report_parse(data, size, &r, err, sizeof err);
    if (rc != 0) {
        if (!err[0] || strnlen(err, sizeof err) >= sizeof err)
            abort();
        return 0;
    }
    if (r.n_pol < 0 || r.n_pol > TLSRPT_REPORT_MAX_POLICIES || r.n_pol > r.n_pol_total)
        abort();
    for (int p = 0; p < r.n_pol; p++) {
        const struct tlsrpt_rpolicy *q = &r.pol[p];
        if (q->n_fail > TLSRPT_REPORT_MAX_FAILURES || q->n_fail > q->n_fail_total ||
            q->n_strings > TLSRPT_REPORT_MAX_LINES || q->n_mx > TLSRPT_REPORT_MAX_LINES)
            abort();
        if (q->n_fail && !q->fail)
            abort();
        for (int i = 0; i < q->n_fail; i++)
            if (q->fail[i].type_known != tlsrpt_result_type_known(q->fail[i].result_type))
                abort();
    }
    tlsrpt_report_free(&r);
    return 0;
}
