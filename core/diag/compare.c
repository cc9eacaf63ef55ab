/*
 * compare.c - several MX hosts / addresses side by side: mx-hosts-disagree
 * (diag_compare, see diag.h).
 * Owner: diagnosis.
 *
 * May call: diag.c's helpers, the row of mx-hosts-disagree and its advice
 * (catalog.c).
 */
#include "diag/diag_int.h"

#include <stdio.h>
#include <string.h>

static void probe_name(const struct diag_probe *p, char *dst, size_t cap)
{
    char h[300], a[100];
    diag_app(dst, cap, "%s [%s]", diag_esc(h, sizeof h, p->mx_host ? p->mx_host : "?"),
        diag_esc(a, sizeof a, p->addr ? p->addr : "?"));
}

int diag_compare(const struct diag_probe *p, int n, struct mxs_finding *out, int max)
{
    int nf = 0;
    if (!p || n < 2 || !out || max <= 0)
        return 0;
    for (int aspect = 0; aspect < 3 && nf < max; aspect++) {
        char vals[64][80];
        int idx[64], m = 0, differ = 0;
        for (int i = 0; i < n && m < 64; i++) {
            const struct diag_probe *q = &p[i];
            if (aspect == 0 && q->smtp && q->smtp->ehlo.code)
                snprintf(vals[m], sizeof vals[m], "STARTTLS %s",
                         q->smtp->caps.starttls ? "offered" : "not offered");
            else if (aspect == 1 && q->tls && q->tls->attempted)
                snprintf(vals[m], sizeof vals[m], "TLS %s%s%.16s",
                         q->tls->ok ? "ok" : "failed", q->tls->ok ? " " : "",
                         q->tls->ok ? q->tls->version_name : "");
            else if (aspect == 2 && q->chain && q->chain->n > 0)
                snprintf(vals[m], sizeof vals[m], "leaf SHA-1 %.40s, %s",
                         q->chain->cert[0].sha1,
                         q->chain->trusted ? "trusted" : "not trusted");
            else
                continue;
            idx[m] = i;
            if (m > 0 && strcmp(vals[m], vals[0]))
                differ = 1;
            m++;
        }
        if (!differ)
            continue;
        static const enum mxs_step st[3] = {MXS_STEP_STARTTLS, MXS_STEP_HANDSHAKE,
                                            MXS_STEP_CHAIN};
        static const char *const what[3] = {"STARTTLS", "the TLS outcome",
                                            "the certificate"};
        struct mxs_finding *f = &out[nf++];
        diag_start(f, D_MX_HOSTS_DISAGREE, -1);
        f->step = st[aspect];
        APP(f->message, "The MX hosts/addresses of the domain differ in %s: "
            "delivery depends on which one a sender reaches.", what[aspect]);
        for (int k = 0; k < m; k++) {
            probe_name(&p[idx[k]], f->evidence, sizeof f->evidence);
            char ev[100];
            APP(f->evidence, ": %s\n", diag_esc(ev, sizeof ev, vals[k]));
        }
        diag_advise(f, &diag_rows[D_MX_HOSTS_DISAGREE], NULL);
    }
    return nf;
}
