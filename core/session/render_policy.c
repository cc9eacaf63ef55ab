/*
 * render_policy.c - the POLICY step in the batch report: the _mta-sts and
 * _smtp._tls TXT records, the policy fetch and the policy as senders read
 * it (struct mxs_policy_facts, issue 12).  Owner: session (render.c calls
 * it under the POLICY step line).  Every network byte is escaped.
 */
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "policy/policy.h"
#include "session/session_int.h"


static void txt_lines(struct buf *out, const char *what, const struct mxs_policy_txt *t)
{
    if (!t->asked)
        return;
    buf_printf(out, "         %s ", what);
    buf_puts_escaped(out, t->name);
    buf_printf(out, ": %s", t->n_rr ? "" : mxs_dns_rcode_name(t->answer.rcode));
    if (t->n_rr)
        buf_printf(out, "%d record%s", t->n_rr, t->n_rr == 1 ? "" : "s");
    buf_printf(out, " (%s)\n", mxs_dnssec_name(t->answer.dnssec));
    for (int i = 0; i < t->n_kept && i < MXS_PTXT_KEEP; i++) {
        buf_printf(out, "           %s\"", i == t->picked ? "* " : "  ");
        buf_add_escaped(out, t->rr[i], t->rr_len[i], 0);
        buf_puts(out, "\"\n");
    }
    if (t->picked >= 0 && !t->valid) {
        buf_puts(out, "           invalid: ");
        buf_puts_escaped(out, t->error);
        buf_puts(out, "\n");
    }
}

void render_policy_facts(const struct engine *e, struct buf *out)
{
    const struct mxs_policy_facts *p = engine_policy(e);
    if (!p->sts.asked)
        return;
    txt_lines(out, "MTA-STS", &p->sts);
    if (p->fetch != MXS_FETCH_NONE) {
        buf_puts(out, "         GET ");
        buf_puts_escaped(out, p->url);
        buf_puts(out, " (address ");
        buf_puts_escaped(out, p->host_addr[0] ? p->host_addr : "none");
        buf_printf(out, "): %s", mxs_fetch_name(p->fetch));
        if (p->status_line[0]) {
            buf_puts(out, ", ");
            buf_puts_escaped(out, p->status_line);
        }
        if (p->content_type[0]) {
            buf_puts(out, ", ");
            buf_puts_escaped(out, p->content_type);
        }
        buf_printf(out, ", %zu bytes\n", p->body_seen);
        if (p->fetch_error[0]) {
            buf_puts(out, "           ");
            buf_puts_escaped(out, p->fetch_error);
            buf_puts(out, "\n");
        }
    }
    if (p->parsed) {
        buf_printf(out, "         policy: mode %s, max_age %ld, mx:", sts_mode_name((enum sts_mode)p->mode), p->max_age);
        for (int i = 0; i < p->n_mx && i < MXS_PMX_MAX; i++) {
            buf_puts(out, " ");
            buf_puts_escaped(out, p->mx[i]);
        }
        buf_printf(out, "%s\n", p->policy_valid ? "" : " (invalid)");
    }
    txt_lines(out, "TLS-RPT", &p->rpt);
    for (int i = 0; i < p->n_rua && i < MXS_PRUA_MAX; i++) {
        buf_printf(out, "           rua %s%s: ", p->rua[i].kind == 1 ? "mailto" :
                   p->rua[i].kind == 2 ? "https" : "other", p->rua[i].ok ? "" : " (malformed)");
        buf_puts_escaped(out, p->rua[i].uri);
        buf_puts(out, "\n");
    }
}
