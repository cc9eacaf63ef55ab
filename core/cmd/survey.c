/*
 * survey.c - every MX and every address at once (survey.h).
 */
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "diag/diag.h"
#include "probe/dns.h"
#include "probe/engine_int.h"
#include "base/esc.h"
#include "session/render.h"
#include "cmd/survey.h"

struct survey {
    struct engine *resolver;
    struct engine *probe[SURVEY_MAX_PROBES];
    int n;
    int skipped;                  /* addresses beyond SURVEY_MAX_PROBES */
    struct mxs_finding findings[16];
    int n_findings;
};

/* The survey with its RESOLVE engine made, nothing run: the list runner
 * (cmd/domains.c) drives it from its own poll loop; survey_new() runs it. */
struct survey *survey_start(const struct mxs_settings *s, char *err, size_t errlen)
{
    if (!s->target[0]) {
        snprintf(err, errlen, "no target");
        return NULL;
    }
    struct survey *v = calloc(1, sizeof *v);
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    struct mxs_settings rs = *s;
    /* RESOLVE and the domain's MTA-STS policy (POLICY runs right after it),
     * read once for every node: engine_new_resolved() copies both. */
    rs.stop_after = MXS_STEP_POLICY;
    v->resolver = engine_new(&rs);
    if (!v->resolver) {
        free(v);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    return v;
}

void survey_list_mode(struct survey *v, struct dns_shared *sh)
{
    engine_set_list_mode(v->resolver, sh); /* the probes inherit it */
}

/* After RESOLVE: one engine per (MX, address) the settings allow. */
void survey_expand(struct survey *v)
{
    /* The lookup is over and the probes copy its answers: its libunbound
     * context (a thread, caches: megabytes) goes now, not when the survey
     * is freed (a list keeps dozens of surveys in flight). */
    dns_free(v->resolver->dns_ctx);
    v->resolver->dns_ctx = NULL;
    const struct mxs_settings *s = engine_settings(v->resolver);
    const struct mxs_dns_facts *d = engine_dns(v->resolver);
    for (int m = 0; m < d->n_mx; m++) {
        if (s->mx_index >= 0 && m != s->mx_index)
            continue;
        for (int a = 0; a < d->mx[m].n_addr; a++) {
            if (s->family && d->mx[m].addr[a].family != s->family)
                continue;
            if (v->n == SURVEY_MAX_PROBES) {
                v->skipped++;
                continue;
            }
            struct engine *e = engine_new_resolved(v->resolver, m, a);
            if (e)
                v->probe[v->n++] = e;
        }
    }
}

struct survey *survey_new(const struct mxs_settings *s, char *err, size_t errlen)
{
    struct survey *v = survey_start(s, err, errlen);
    if (!v)
        return NULL;
    engine_run(v->resolver);
    survey_expand(v);
    return v;
}

struct engine *survey_engine(struct survey *v, int i)
{
    return i < 0 ? v->resolver : i < v->n ? v->probe[i] : NULL;
}

void survey_free(struct survey *v)
{
    if (!v)
        return;
    for (int i = 0; i < v->n; i++)
        engine_free(v->probe[i]);
    engine_free(v->resolver);
    free(v);
}

void survey_run(struct survey *v)
{
    int done[SURVEY_MAX_PROBES] = {0};
    for (;;) {
        struct pollfd fds[SURVEY_MAX_PROBES * 4]; /* main + up to 3 side handshakes */
        int nf = 0, timeout = -1, active = 0;
        for (int i = 0; i < v->n; i++) {
            if (done[i])
                continue;
            enum mxs_progress p;
            /* advance this probe as far as it goes without waiting */
            while ((p = engine_step(v->probe[i])) == MXS_PROG_STEP_DONE)
                ;
            if (p == MXS_PROG_FINISHED) {
                done[i] = 1;
                continue;
            }
            active++;
            nf += engine_pollfds(v->probe[i], fds + nf, 4);
            int t = engine_timeout_ms(v->probe[i]);
            if (t >= 0 && (timeout < 0 || t < timeout))
                timeout = t;
        }
        if (!active)
            break;
        if (poll(fds, (nfds_t)nf, timeout) < 0 && errno != EINTR)
            break;
    }
    survey_compare(v);
}

void survey_compare(struct survey *v)
{
    struct diag_probe dp[SURVEY_MAX_PROBES];
    for (int i = 0; i < v->n; i++) {
        const struct engine *e = v->probe[i];
        const struct mxs_connect_facts *c = engine_connection(e);
        dp[i].mx_host = e->dns.mx[e->set.mx_index].host;
        dp[i].addr = e->dns.mx[e->set.mx_index].addr[e->set.addr_index].text;
        dp[i].smtp = c->done ? engine_smtp(e) : NULL;
        dp[i].tls = engine_tls(e)->attempted ? engine_tls(e) : NULL;
        dp[i].chain = engine_chain(e)->n ? engine_chain(e) : NULL;
    }
    v->n_findings = v->n > 1 ? diag_compare(dp, v->n, v->findings, 16) : 0;
}

const struct engine *survey_resolver(const struct survey *v) { return v->resolver; }
int survey_count(const struct survey *v) { return v->n; }
const struct engine *survey_probe(const struct survey *v, int i)
{
    return i >= 0 && i < v->n ? v->probe[i] : NULL;
}

const struct mxs_finding *survey_findings(const struct survey *v, int *n)
{
    *n = v->n_findings;
    return v->findings;
}

int survey_exit_code(const struct survey *v)
{
    if (!v->n)
        return render_exit_code(v->resolver) ? render_exit_code(v->resolver) : 10;
    int warn = 0;
    for (int i = 0; i < v->n; i++) {
        int rc = render_exit_code(v->probe[i]);
        if (rc == 4)
            warn = 1;           /* a failure elsewhere matters more */
        else if (rc)
            return rc;
    }
    return warn ? 4 : 0;
}

static const char *short_outcome(enum mxs_outcome o)
{
    switch (o) {
    case MXS_OUT_ENCRYPTED: return "encrypted";
    case MXS_OUT_CLEAR: return "CLEAR";
    case MXS_OUT_NOT_DELIVERED: return "NO";
    default: return "-";
    }
}

void survey_render_text(const struct survey *v, struct buf *out)
{
    const struct engine *r = v->resolver;
    buf_puts(out, "mxscope survey of ");
    buf_puts_escaped(out, r->set.target);
    buf_printf(out, ": %d probe%s (every MX, every address)%s\n\n", v->n, v->n == 1 ? "" : "s",
               v->skipped ? " - more addresses than the survey probes" : "");
    if (!v->n) {
        render_report_text(r, out);
        return;
    }
    buf_printf(out, "%-3s %-28s %-26s %-9s %-8s %-40s %-10s %-10s %-10s\n", "#", "MX host", "address",
               "result", "TLS", "leaf SHA-1 (thumbprint)", "opportun.", "required", "verified");
    for (int i = 0; i < v->n; i++) {
        const struct engine *e = v->probe[i];
        const struct mxs_mx *m = &e->dns.mx[e->set.mx_index];
        enum mxs_step fs = engine_failed_step(e);
        char host[200], hostc[40];
        mxs_escape_str(m->host, host, sizeof host, 0);
        snprintf(hostc, sizeof hostc, "%u %.25s", m->preference, host);
        const struct mxs_verdict *vd = engine_verdicts(e);
        buf_printf(out, "%-3d %-28s %-26s %-9s %-8s %-40s %-10s %-10s %-10s\n", i, hostc,
                   m->addr[e->set.addr_index].text, fs == MXS_STEP_NONE ? "ok" : mxs_step_name(fs),
                   e->tls.ok ? e->tls.version_name : "-", e->chain.n ? e->chain.cert[0].sha1 : "-",
                   short_outcome(vd[MXS_POL_OPPORTUNISTIC].outcome), short_outcome(vd[MXS_POL_REQUIRED].outcome),
                   short_outcome(vd[MXS_POL_VERIFIED].outcome));
    }
    if (v->n_findings) {
        buf_puts(out, "\nThe nodes disagree\n");
        for (int i = 0; i < v->n_findings; i++) {
            const struct mxs_finding *f = &v->findings[i];
            buf_printf(out, "  %-7s %s [%s] ", mxs_severity_name(f->severity), f->id, mxs_step_name(f->step));
            buf_puts(out, f->message); /* diag.c escaped it */
            buf_puts(out, "\n");
            /* evidence: diag's lines, indented (a trailing newline ends it) */
            for (const char *p = f->evidence; *p;) {
                const char *nl = strchr(p, '\n');
                size_t l = nl ? (size_t)(nl - p) : strlen(p);
                buf_puts(out, "          ");
                buf_add(out, p, l);
                buf_puts(out, "\n");
                p += l + (nl != NULL);
            }
        }
    }
    for (int i = 0; i < v->n; i++) {
        int n;
        const struct mxs_finding *f = engine_findings(v->probe[i], &n);
        if (!n)
            continue;
        buf_printf(out, "\nProbe %d (%s):\n", i, v->probe[i]->dns.mx[v->probe[i]->set.mx_index].addr[v->probe[i]->set.addr_index].text);
        for (int k = 0; k < n; k++) {
            buf_printf(out, "  %-7s %-28s [%s] ", mxs_severity_name(f[k].severity), f[k].id, mxs_step_name(f[k].step));
            const char *nl = strchr(f[k].message, '\n');
            buf_add(out, f[k].message, nl ? (size_t)(nl - f[k].message) : strlen(f[k].message));
            buf_puts(out, "\n");
        }
    }
    buf_printf(out, "\nResult: exit %d (%s)\n", survey_exit_code(v),
               survey_exit_code(v) ? "the first probe that failed" : "every probe passed");
}

json_t *survey_json_tree(const struct survey *v)
{
    json_t *root = json_object();
    json_object_set_new(root, "survey", json_true());
    json_object_set_new(root, "dns", render_json_tree(v->resolver));
    json_t *probes = json_array();
    for (int i = 0; i < v->n; i++)
        json_array_append_new(probes, render_json_tree(v->probe[i]));
    json_object_set_new(root, "probes", probes);
    json_t *fa = json_array();
    for (int i = 0; i < v->n_findings; i++) {
        const struct mxs_finding *f = &v->findings[i];
        json_array_append_new(fa, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", f->id,
                                            "severity", mxs_severity_name(f->severity),
                                            "step", mxs_step_name(f->step), "message", f->message,
                                            "evidence", f->evidence, "advice", f->advice));
    }
    json_object_set_new(root, "findings", fa);
    json_object_set_new(root, "probes_skipped", json_integer(v->skipped));
    json_object_set_new(root, "exit_code", json_integer(survey_exit_code(v)));
    return root;
}

char *survey_render_json(const struct survey *v)
{
    json_t *root = survey_json_tree(v);
    char *s = root ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(root);
    return s;
}
