/*
 * tlsrpt_cmd.c - `mxscope --tlsrpt REPORT.json[.gz] [--recheck]` and the
 * console's `load-report`: read a sender's aggregate TLS-RPT report (RFC
 * 8460 §4.4), list its policies and failure details, and probe each failing
 * MX host now to say whether each reported failure still reproduces.
 *
 * Why here (cmd): it reads the report (policy/), runs probes (probe/) and
 * renders their findings with their RFC 8460 result types (diag/): the one
 * module allowed to call all of them.  It never prints: text and JSON come
 * back as strings for the front end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "base/buf.h"
#include "core.h"
#include "policy/tlsrpt_report.h"
#include "probe/dns.h"

#define TLSRPT_MAX_RECHECK 16

struct tlsrpt_now {                 /* one failing MX host, probed now      */
    char mx[256];
    char reported[4][64];           /* result types reported for it          */
    int n_reported;
    long long sessions;             /* failed sessions reported for it       */
    enum mxs_step failed_step;
    char first_finding[40];
    char first_type[64];            /* RFC 8460 type of our first error, ""  */
    enum mxs_outcome verified;      /* what a PKIX-verifying sender gets now */
    int same;                       /* a reported type is among ours now     */
    char types_now[4][64];
    int n_types_now;
};

struct mxs_tlsrpt {
    struct tlsrpt_report rep;
    int n_now, n_hosts_total;
    struct tlsrpt_now now[TLSRPT_MAX_RECHECK];
    int rechecked;
    char checked_at[32];
};

struct mxs_tlsrpt *mxs_tlsrpt_load(const char *path, char *err, size_t errlen)
{
    struct mxs_tlsrpt *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (tlsrpt_report_load(path, &t->rep, err, errlen) != 0) {
        free(t);
        return NULL;
    }
    return t;
}

void mxs_tlsrpt_free(struct mxs_tlsrpt *t)
{
    if (!t)
        return;
    tlsrpt_report_free(&t->rep);
    free(t);
}

/* The distinct failing MX hosts, in report order, with what was reported. */
static void tr_collect(struct mxs_tlsrpt *t)
{
    t->n_now = t->n_hosts_total = 0;
    for (int p = 0; p < t->rep.n_pol; p++)
        for (int i = 0; i < t->rep.pol[p].n_fail; i++) {
            const struct tlsrpt_failure *f = &t->rep.pol[p].fail[i];
            char mx[256];
            snprintf(mx, sizeof mx, "%s", f->receiving_mx);
            size_t l = strlen(mx);
            if (l && mx[l - 1] == '.')
                mx[l - 1] = 0;
            /* a name a sender could have connected to: the same judge as
             * the MX targets of RESOLVE (control bytes, labels, literals) */
            if (dns_host_check(mx, NULL, 0) != DNS_HOST_OK)
                continue;
            struct tlsrpt_now *n = NULL;
            for (int k = 0; k < t->n_now; k++)
                if (!strcasecmp(t->now[k].mx, mx))
                    n = &t->now[k];
            if (!n) {
                t->n_hosts_total++;
                if (t->n_now >= TLSRPT_MAX_RECHECK)
                    continue;
                n = &t->now[t->n_now++];
                memset(n, 0, sizeof *n);
                snprintf(n->mx, sizeof n->mx, "%s", mx);
                n->failed_step = MXS_STEP_NONE;
                n->verified = MXS_OUT_NOT_EVALUATED;
            }
            int have = 0;
            for (int k = 0; k < n->n_reported; k++)
                have |= !strcmp(n->reported[k], f->result_type);
            if (!have && n->n_reported < 4)
                snprintf(n->reported[n->n_reported++], sizeof n->reported[0], "%s", f->result_type);
            if (f->count > 0)
                n->sessions += f->count;
        }
}

int mxs_tlsrpt_recheck(struct mxs_tlsrpt *t, const struct mxs_settings *base)
{
    tr_collect(t);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(t->checked_at, sizeof t->checked_at, "%Y-%m-%dT%H:%M:%SZ", &tm);
    for (int k = 0; k < t->n_now; k++) {
        struct tlsrpt_now *n = &t->now[k];
        struct mxs_settings s = *base;
        snprintf(s.target, sizeof s.target, "%s", n->mx);
        s.target_is_host = 1;
        s.stop_after = -1;
        struct engine *e = engine_new(&s);
        if (!e)
            continue;
        engine_run(e);
        n->failed_step = engine_failed_step(e);
        n->verified = engine_verdicts(e)[MXS_POL_VERIFIED].outcome;
        int nf;
        const struct mxs_finding *fs = engine_findings(e, &nf);
        for (int i = 0; i < nf; i++) {
            if (fs[i].severity != MXS_SEV_ERROR)
                continue;
            if (!n->first_finding[0]) {
                snprintf(n->first_finding, sizeof n->first_finding, "%s", fs[i].id);
                const char *ty = mxs_tlsrpt_result_type(&fs[i]);
                snprintf(n->first_type, sizeof n->first_type, "%s", ty ? ty : "");
            }
            const char *ty = mxs_tlsrpt_result_type(&fs[i]);
            if (!ty)
                continue;
            int dup = 0;
            for (int j = 0; j < n->n_types_now; j++)
                dup |= !strcmp(n->types_now[j], ty);
            if (!dup && n->n_types_now < 4)
                snprintf(n->types_now[n->n_types_now++], sizeof n->types_now[0], "%s", ty);
            for (int j = 0; j < n->n_reported; j++)
                n->same |= !strcmp(n->reported[j], ty);
        }
        engine_free(e);
    }
    t->rechecked = 1;
    return t->n_now;
}

/* What a recheck concluded, in one word and in words. */
static const char *tr_state(const struct tlsrpt_now *n)
{
    if (n->same)
        return "still-fails";
    if (n->n_types_now)
        return "fails-differently";
    if (n->first_finding[0])
        return "cannot-tell";     /* failed before any TLS: DNS, connect, SMTP */
    return "no-longer-reproduces";
}

int mxs_tlsrpt_exit_code(const struct mxs_tlsrpt *t)
{
    if (!t->rechecked)
        return 0;
    for (int k = 0; k < t->n_now; k++)
        if (strcmp(tr_state(&t->now[k]), "no-longer-reproduces"))
            return MXS_EXIT_TLSRPT_STILL;
    return 0;
}

/* ---- text ---------------------------------------------------------------- */

static void tr_field(struct buf *b, const char *label, const char *v)
{
    buf_puts(b, label);
    if (v[0])
        buf_puts_escaped(b, v);
    else
        buf_puts(b, "(none)");
}

char *mxs_tlsrpt_text(const struct mxs_tlsrpt *t)
{
    const struct tlsrpt_report *r = &t->rep;
    struct buf b;
    buf_init(&b, 0);
    tr_field(&b, "TLS-RPT report ", r->report_id);
    tr_field(&b, " from ", r->org);
    tr_field(&b, " (contact: ", r->contact);
    buf_puts(&b, ")\n");
    tr_field(&b, "  period ", r->start);
    tr_field(&b, " .. ", r->end);
    buf_printf(&b, "; %zu bytes%s", r->file_bytes, r->gzipped ? " gzip" : "");
    if (r->gzipped)
        buf_printf(&b, ", %zu uncompressed", r->json_bytes);
    buf_puts(&b, "\n");
    if (r->n_problems) {
        buf_printf(&b, "  format problems: %d (a sender wrote fields RFC 8460 does not describe)\n",
                   r->n_problems);
        for (int i = 0; i < r->n_problems && i < (int)(sizeof r->problem / sizeof r->problem[0]); i++) {
            buf_puts(&b, "    ");
            buf_puts_escaped(&b, r->problem[i]);
            buf_puts(&b, "\n");
        }
    }
    for (int p = 0; p < r->n_pol; p++) {
        const struct tlsrpt_rpolicy *q = &r->pol[p];
        buf_printf(&b, "\nPolicy %d: ", p + 1);
        tr_field(&b, "", q->type);
        tr_field(&b, " for ", q->domain);
        buf_printf(&b, ": %lld sessions succeeded, %lld failed\n", q->ok_sessions, q->failed_sessions);
        if (q->n_strings) {
            buf_puts(&b, "  policy:");
            for (int i = 0; i < q->n_strings; i++) {
                buf_puts(&b, i ? " | " : " ");
                buf_puts_escaped(&b, q->strings[i]);
            }
            if (q->n_strings_total > q->n_strings)
                buf_printf(&b, " | (%d more lines)", q->n_strings_total - q->n_strings);
            buf_puts(&b, "\n");
        }
        if (q->n_mx) {
            buf_puts(&b, "  mx-host:");
            for (int i = 0; i < q->n_mx; i++) {
                buf_puts(&b, " ");
                buf_puts_escaped(&b, q->mx[i]);
            }
            buf_puts(&b, "\n");
        }
        if (!q->n_fail_total) {
            buf_puts(&b, "  no failure details\n");
            continue;
        }
        buf_printf(&b, "  failure details (%d):\n", q->n_fail_total);
        for (int i = 0; i < q->n_fail; i++) {
            const struct tlsrpt_failure *f = &q->fail[i];
            buf_printf(&b, "    %8lld  ", f->count);
            tr_field(&b, "", f->result_type);
            if (!f->type_known)
                buf_puts(&b, " (not an RFC 8460 result type)");
            tr_field(&b, "  MX ", f->receiving_mx);
            if (f->receiving_ip[0])
                tr_field(&b, " at ", f->receiving_ip);
            tr_field(&b, ", from sender ", f->sending_ip);
            buf_puts(&b, "\n");
            if (f->reason_code[0]) {
                tr_field(&b, "              reason: ", f->reason_code);
                buf_puts(&b, "\n");
            }
            if (f->info[0]) {
                tr_field(&b, "              more: ", f->info);
                buf_puts(&b, "\n");
            }
        }
        if (q->n_fail_total > q->n_fail)
            buf_printf(&b, "    (%d more not shown)\n", q->n_fail_total - q->n_fail);
    }
    if (!t->rechecked) {
        int hosts = 0;
        for (int p = 0; p < r->n_pol; p++)
            hosts += r->pol[p].n_fail;
        if (hosts)
            buf_puts(&b, "\nProbe the failing MX hosts now: mxscope --tlsrpt FILE --recheck (batch), or\n"
                         "`open host MX` and `r` in the console, for each MX above.\n");
    } else {
        buf_printf(&b, "\nNow (probed %s):\n", t->checked_at);
        if (!t->n_now)
            buf_puts(&b, "  no failure names an MX host that can be probed\n");
        for (int k = 0; k < t->n_now; k++) {
            const struct tlsrpt_now *n = &t->now[k];
            buf_puts(&b, "  ");
            buf_puts_escaped(&b, n->mx);
            buf_puts(&b, " (reported:");
            for (int j = 0; j < n->n_reported; j++) {
                buf_puts(&b, j ? ", " : " ");
                buf_puts_escaped(&b, n->reported[j]);
            }
            buf_puts(&b, "): ");
            const char *st = tr_state(n);
            if (!strcmp(st, "still-fails"))
                buf_printf(&b, "still fails: %s at %s", n->first_finding, mxs_step_name(n->failed_step));
            else if (!strcmp(st, "fails-differently"))
                buf_printf(&b, "fails, but now as %s (%s at %s)", n->types_now[0], n->first_finding,
                           mxs_step_name(n->failed_step));
            else if (!strcmp(st, "cannot-tell"))
                buf_printf(&b, "cannot tell: the probe stopped before TLS (%s at %s)", n->first_finding,
                           mxs_step_name(n->failed_step));
            else
                buf_printf(&b, "no longer reproduces: a verifying sender now gets %s",
                           mxs_outcome_name(n->verified));
            buf_puts(&b, "\n");
        }
        if (t->n_hosts_total > t->n_now)
            buf_printf(&b, "  (%d more MX hosts not probed: at most %d per run)\n",
                       t->n_hosts_total - t->n_now, TLSRPT_MAX_RECHECK);
    }
    if (b.failed) {
        buf_free(&b);
        return NULL;
    }
    char *s = strdup(buf_str(&b));
    buf_free(&b);
    return s;
}

/* ---- JSON ---------------------------------------------------------------- */

/* Strings from the report go out through the one escaping function, like
 * every other network byte in our JSON (docs/json.md). */
static json_t *tr_js(const char *s)
{
    if (!s[0])
        return json_null();
    char out[1200];
    mxs_escape_str(s, out, sizeof out, 0);
    return json_string(out);
}

char *mxs_tlsrpt_json(const struct mxs_tlsrpt *t)
{
    const struct tlsrpt_report *r = &t->rep;
    json_t *pols = json_array(), *probs = json_array();
    for (int i = 0; i < r->n_problems && i < (int)(sizeof r->problem / sizeof r->problem[0]); i++)
        json_array_append_new(probs, tr_js(r->problem[i]));
    for (int p = 0; p < r->n_pol; p++) {
        const struct tlsrpt_rpolicy *q = &r->pol[p];
        json_t *fails = json_array(), *strs = json_array(), *mxs = json_array();
        for (int i = 0; i < q->n_strings; i++)
            json_array_append_new(strs, tr_js(q->strings[i]));
        for (int i = 0; i < q->n_mx; i++)
            json_array_append_new(mxs, tr_js(q->mx[i]));
        for (int i = 0; i < q->n_fail; i++) {
            const struct tlsrpt_failure *f = &q->fail[i];
            json_array_append_new(fails, json_pack("{s:o, s:b, s:o, s:o, s:o, s:o, s:o, s:o}",
                "result_type", tr_js(f->result_type), "result_type_known", f->type_known,
                "sending_mta_ip", tr_js(f->sending_ip), "receiving_mx_hostname", tr_js(f->receiving_mx),
                "receiving_ip", tr_js(f->receiving_ip),
                "failed_session_count", f->count >= 0 ? json_integer(f->count) : json_null(),
                "failure_reason_code", tr_js(f->reason_code), "additional_information", tr_js(f->info)));
        }
        json_array_append_new(pols, json_pack("{s:o, s:o, s:o, s:i, s:o, s:o, s:o, s:o, s:i}",
            "policy_type", tr_js(q->type), "policy_domain", tr_js(q->domain), "policy_string", strs,
            "policy_string_total", q->n_strings_total, "mx_host", mxs,
            "successful_sessions", q->ok_sessions >= 0 ? json_integer(q->ok_sessions) : json_null(),
            "failed_sessions", q->failed_sessions >= 0 ? json_integer(q->failed_sessions) : json_null(),
            "failure_details", fails, "failure_details_total", q->n_fail_total));
    }
    json_t *root = json_pack("{s:{s:o, s:o, s:o, s:o, s:o, s:b, s:I, s:I, s:o, s:i, s:o, s:i}}",
        "report", "organization_name", tr_js(r->org), "contact_info", tr_js(r->contact),
        "report_id", tr_js(r->report_id), "start_datetime", tr_js(r->start),
        "end_datetime", tr_js(r->end), "gzip", r->gzipped, "file_bytes", (json_int_t)r->file_bytes,
        "json_bytes", (json_int_t)r->json_bytes, "format_problems", probs,
        "format_problems_total", r->n_problems, "policies", pols, "policies_total", r->n_pol_total);
    if (!root)
        return NULL;
    json_t *now = json_null();
    if (t->rechecked) {
        now = json_array();
        for (int k = 0; k < t->n_now; k++) {
            const struct tlsrpt_now *n = &t->now[k];
            json_t *rep = json_array(), *types = json_array();
            for (int j = 0; j < n->n_reported; j++)
                json_array_append_new(rep, tr_js(n->reported[j]));
            for (int j = 0; j < n->n_types_now; j++)
                json_array_append_new(types, json_string(n->types_now[j]));
            json_array_append_new(now, json_pack("{s:s, s:o, s:s, s:o, s:o, s:o, s:s}",
                "mx", n->mx, "reported", rep, "state", tr_state(n),
                "failed_step", n->failed_step == MXS_STEP_NONE ? json_null()
                                                               : json_string(mxs_step_name(n->failed_step)),
                "first_finding", n->first_finding[0] ? json_string(n->first_finding) : json_null(),
                "result_types_now", types, "verified", mxs_outcome_name(n->verified)));
        }
        json_object_set_new(root, "checked_at", json_string(t->checked_at));
    }
    json_object_set_new(root, "recheck", now);
    json_object_set_new(root, "exit_code", json_integer(mxs_tlsrpt_exit_code(t)));
    char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return s;
}
