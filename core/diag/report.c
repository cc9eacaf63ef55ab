/*
 * report.c - the email-ready problem report for the other side's admins
 * (diag_report, see diag.h).
 * Owner: diagnosis.
 *
 * Reads the findings as filed (or loaded from a saved session): only the
 * receiving side's part of each advice goes in, cut at DIAG_ADVICE_THIRD.
 * May call: base (buf, esc, names); diag.c's context and helpers.
 */
#include "diag/diag_int.h"

#include <string.h>

#include "base/buf.h"
#include "base/esc.h"

/* Text we wrote ourselves is ASCII already; escape anyway for defence. */
static void rep_esc(struct buf *b, const char *s)
{
    buf_add_escaped(b, s, strlen(s), MXS_ESC_ASCII);
}

/* Finding text is escaped already (ASCII, a name's UTF-8, our '\n'): indent
 * each line. */
static void rep_block(struct buf *b, const char *indent, const char *s, size_t maxlen)
{
    const char *end = s + strnlen(s, maxlen);
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *le = nl ? nl : end;
        buf_puts(b, indent);
        buf_add_escaped(b, s, (size_t)(le - s), 0); /* a name's UTF-8 stays (diag.h) */
        buf_puts(b, "\n");
        s = nl ? nl + 1 : end;
    }
}

static void rep_finding(struct buf *out, const struct mxs_finding *x)
{
    buf_printf(out, "\n* [%s] %s at %s", mxs_severity_name(x->severity), x->id,
               mxs_step_name(x->step));
    if (x->cert_depth >= 0)
        buf_printf(out, ", certificate %d", x->cert_depth);
    buf_puts(out, "\n");
    rep_block(out, "  ", x->message, sizeof x->message);
    const char *rt = mxs_tlsrpt_result_type(x);
    if (rt)
        buf_printf(out, "  In TLS-RPT (RFC 8460) reports: %s\n", rt);
    if (x->evidence[0]) {
        buf_puts(out, "  Evidence:\n");
        rep_block(out, "    ", x->evidence, sizeof x->evidence);
    }
    /* The report goes to the receiving side: only their part of the advice. */
    const char *third = strstr(x->advice, DIAG_ADVICE_THIRD);
    size_t alen = third ? (size_t)(third - x->advice) : strnlen(x->advice, sizeof x->advice);
    if (alen) {
        char adv[sizeof x->advice + 1];
        memcpy(adv, x->advice, alen);
        adv[alen] = 0;
        const char *a = adv;
        if (!strncmp(a, "If it is your server: ", 22))
            a += 22;
        buf_puts(out, "  What to fix:\n");
        rep_block(out, "    ", a, sizeof adv);
    }
}

void diag_report(const struct diag_input *in, const struct mxs_finding *f, int n,
                 const struct mxs_verdict v[MXS_POL_COUNT], time_t started,
                 const char *from, struct buf *out)
{
    struct diag_ctx c;
    struct diag_input empty;
    char t[32];
    if (!out)
        return;
    if (!in) {
        memset(&empty, 0, sizeof empty);
        in = &empty;
    }
    diag_ctx_init(&c, in, NULL, 0);
    const struct mxs_finding *worst = NULL;
    int errors = 0, warnings = 0;
    for (int i = 0; f && i < n; i++) {
        if (f[i].severity == MXS_SEV_ERROR)
            errors++;
        else if (f[i].severity == MXS_SEV_WARNING)
            warnings++;
        if (!worst || f[i].severity > worst->severity)
            worst = &f[i];
    }
    buf_puts(out, "Subject: ");
    if (worst && worst->severity >= MXS_SEV_WARNING) {
        /* Domain, the failing step and the cause in words: what a
         * postmaster sorts a queue of such mails by. */
        const struct diag_entry *row = diag_find_id(worst->id);
        buf_printf(out, "Mail to %s (MX %s) fails at %s: %s (%s)\n", c.dom, c.mx,
                   mxs_step_name(worst->step), row && row->title ? row->title : worst->id,
                   worst->id);
    }
    else
        buf_printf(out, "Mail delivery test to %s (%s): no problem found\n", c.dom, c.mx);
    buf_puts(out, "\nHello postmaster,\n\nwe tested mail delivery to your server "
             "with mxscope " MXS_VERSION ". What we tested, what we saw and what "
             "would fix it:\n\n");

    buf_puts(out, "What was tested\n");
    if (c.set->target_is_host || !in->domain || !in->domain[0])
        buf_puts(out, "  Mail domain:  (none given: the host was probed directly)\n");
    else
        buf_printf(out, "  Mail domain:  %s\n", c.dom);
    buf_printf(out, "  MX host:      %s", c.mx);
    if (c.mx_i >= 0 && !c.set->target_is_host)
        buf_printf(out, " (MX preference %u)", (unsigned)c.dns->mx[c.mx_i].preference);
    buf_puts(out, "\n");
    buf_puts(out, "  Address:      ");
    if (c.conn->addr.text[0])
        rep_esc(out, c.conn->addr.text);
    else if (c.set->connect_addr[0])
        rep_esc(out, c.set->connect_addr);
    else
        buf_puts(out, "(not connected)");
    buf_printf(out, " port %u%s\n",
               (unsigned)(c.conn->port ? c.conn->port : c.set->port ? c.set->port : 25),
               c.set->tls_on_connect ? " (implicit TLS)" : " (STARTTLS)");
    buf_printf(out, "  When (UTC):   %s\n", started > 0 ? diag_iso(started, t) : "(unknown)");
    /* The sending address is what the other side greps its logs for: say
     * it only when we know it, never guess it from the EHLO name (which
     * is whatever the operator typed). */
    buf_puts(out, "  From:         ");
    if (from && from[0]) {
        rep_esc(out, from);
        buf_puts(out, " (our address on the connection)");
    } else
        buf_puts(out, "(unknown to mxscope: the host that ran the test)");
    buf_puts(out, "\n");
    if (c.set->ehlo_name[0]) {
        buf_puts(out, "  EHLO name:    ");
        rep_esc(out, c.set->ehlo_name);
        buf_puts(out, "\n");
    }
    if (c.tls->ok) {
        buf_puts(out, "  TLS:          ");
        rep_esc(out, c.tls->version_name[0] ? c.tls->version_name : "negotiated");
        if (c.tls->cipher[0]) {
            buf_puts(out, " ");
            rep_esc(out, c.tls->cipher);
        }
        buf_puts(out, "\n");
    }

    buf_puts(out, "\nResult per sender policy\n");
    for (int p = 0; v && p < MXS_POL_COUNT; p++) {
        buf_printf(out, "  %-14s %s", mxs_policy_name((enum mxs_policy)p),
                   mxs_outcome_name(v[p].outcome));
        if (v[p].step != MXS_STEP_NONE && v[p].outcome != MXS_OUT_ENCRYPTED)
            buf_printf(out, " at %s", mxs_step_name(v[p].step));
        buf_puts(out, "\n");
        rep_block(out, "                 ", v[p].words, sizeof v[p].words);
    }

    buf_printf(out, "\nWhat we found (%d error%s, %d warning%s)\n", errors,
               errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
    if (!f || n == 0)
        buf_puts(out, "  nothing wrong.\n");
    /* Errors first (what breaks delivery), then warnings, then notes; within
     * a severity in step order, as diag_run sorted them. */
    for (int pass = MXS_SEV_ERROR; pass >= MXS_SEV_INFO; pass--)
        for (int i = 0; f && i < n; i++)
            if ((int)f[i].severity == pass)
                rep_finding(out, &f[i]);
    buf_puts(out, "\nThe evidence as the server sent it follows below.\nThank you.\n");
}
