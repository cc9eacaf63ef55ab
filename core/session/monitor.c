/*
 * monitor.c - session documents (docs/json.md) as monitoring output: a
 * Nagios plugin's status line, perfdata and exit code, or a Prometheus
 * textfile collector's exposition (core.h, "Monitoring").
 * Owner: monitoring (issue 13).  Part of the session module (core/session):
 * jansson is used here, as in the JSON writer and loader.
 *
 * Documents are reduced as they are added to the few facts monitoring shows
 * (struct mon_probe), so memory grows with the number of MX addresses, not
 * with the documents' transcripts.
 *
 * Strings: the documents were written escaped (mxs_escape), but a file may
 * have been edited or forged, so every string taken from one is unescaped and
 * escaped again (mxs_escape(mxs_unescape(t)) == t for text mxs_escape wrote:
 * nothing doubles) before the format's own quoting: Nagios text has no '|'
 * (it starts the perfdata), perfdata labels are single-quoted with ''
 * doubled and no '=', Prometheus label values escape \, " and newline.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core.h"
#include "session/monitor.h"

/* Nagios states and how bad each is (the worst wins). */
enum { NAG_OK = 0, NAG_WARNING = 1, NAG_CRITICAL = 2, NAG_UNKNOWN = 3 };
static const int nag_rank[4] = {[NAG_OK] = 0, [NAG_UNKNOWN] = 1, [NAG_WARNING] = 2,
                                [NAG_CRITICAL] = 3};
static const char *const nag_name[4] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};

/* One (MX, address) probe of a domain: what the outputs show of it. */
struct mon_probe {
    char *mx, *address;   /* escaped; "" when the probe never got that far  */
    char *fail_step;      /* first failed step, NULL when every step passed */
    char *fail_id;        /* the first error finding's id ("" when none)    */
    char *warn;           /* "STEP id" of the first warning finding, or NULL */
    char *tls;            /* "TLSv1.3", NULL without a handshake            */
    int has_days, days;   /* days left of the served leaf                   */
    long long not_after;  /* its expiry (Unix time), 0 unknown              */
    long long checked_at; /* when CHAIN judged it (Unix time), 0 unknown    */
    int local;            /* a verdict was not evaluated: our side's limit  */
    int exit_code;
    signed char verdict[MXS_POL_COUNT]; /* enum mxs_outcome, -1 absent      */
    double duration;      /* seconds: the steps' elapsed times              */
    long long started;    /* Unix time, 0 unknown                           */
};

struct mon_domain {
    char *name;
    char *why;            /* the reason for state, for the Nagios output    */
    int state;            /* NAG_*                                          */
    int has_days, min_days;
    size_t first, n;      /* its probes in m->p                             */
    size_t order;         /* added as the order-th document                 */
};

struct mxs_monitor {
    struct mxs_monitor_opts o;
    struct mon_domain *d;
    size_t nd, capd;
    struct mon_probe *p;
    size_t np, capp;
};

void mxs_monitor_opts_init(struct mxs_monitor_opts *o)
{
    memset(o, 0, sizeof *o);
    o->warn_days = 30;
    o->crit_days = 7;
    o->max_listed = 10;
}

int mxs_monitor_format_from_name(const char *name)
{
    if (name && !strcmp(name, "nagios"))
        return MXS_MONITOR_NAGIOS;
    if (name && !strcmp(name, "prometheus"))
        return MXS_MONITOR_PROMETHEUS;
    return -1;
}

struct mxs_monitor *mxs_monitor_new(const struct mxs_monitor_opts *o)
{
    struct mxs_monitor *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    if (o)
        m->o = *o;
    else
        mxs_monitor_opts_init(&m->o);
    if (m->o.max_listed <= 0)
        m->o.max_listed = 10;
    return m;
}

static void probe_free(struct mon_probe *p)
{
    free(p->mx);
    free(p->address);
    free(p->fail_step);
    free(p->fail_id);
    free(p->warn);
    free(p->tls);
}

void mxs_monitor_free(struct mxs_monitor *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->np; i++)
        probe_free(&m->p[i]);
    for (size_t i = 0; i < m->nd; i++) {
        free(m->d[i].name);
        free(m->d[i].why);
    }
    free(m->p);
    free(m->d);
    free(m);
}

/* ---- reading a document ------------------------------------------------ */

/* A string of the document, unescaped and escaped again (see the top). */
static char *mon_text(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    unsigned char *raw = malloc(n + 1);
    if (!raw)
        return NULL;
    size_t k = mxs_unescape(s, n, raw, n + 1);
    char *e = mxs_escape_dup(raw, k, 0);
    free(raw);
    return e;
}

static const char *jstr_at(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int jint_at(const json_t *o, const char *key, long long *v)
{
    json_t *j = json_object_get(o, key);
    if (!json_is_integer(j))
        return 0;
    *v = json_integer_value(j);
    return 1;
}

/* "2026-11-28T17:56:12Z" as Unix time; 0 when absent or not that form. */
static long long iso_time(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
    return end && !*end ? (long long)timegm(&tm) : 0;
}

static int days_clamp(long long v)
{
    return v < -100000 ? -100000 : v > 100000 ? 100000 : (int)v;
}

/* The facts of one session document (a probe of one MX address). */
static int probe_read(struct mon_probe *p, const json_t *doc)
{
    memset(p, 0, sizeof *p);
    memset(p->verdict, -1, sizeof p->verdict);
    const json_t *target = json_object_get(doc, "target");
    const json_t *conn = json_object_get(doc, "connect");
    const json_t *dns = json_object_get(doc, "dns");
    long long v;
    const char *mx = NULL;
    if (jint_at(conn, "mx", &v) && v >= 0)
        mx = jstr_at(json_array_get(json_object_get(dns, "mx"), (size_t)v), "host");
    if (!mx && jstr_at(target, "kind") && !strcmp(jstr_at(target, "kind"), "host"))
        mx = jstr_at(target, "input");
    p->mx = mon_text(mx ? mx : "");
    const char *addr = jstr_at(conn, "address");
    p->address = mon_text(addr ? addr : "");

    const json_t *result = json_object_get(doc, "result");
    p->exit_code = jint_at(result, "exit_code", &v) ? (int)v : 2;
    const char *fs = jstr_at(result, "failed_step");
    const json_t *f;
    size_t i;
    json_array_foreach(json_object_get(doc, "findings"), i, f) {
        const char *sev = jstr_at(f, "severity"), *id = jstr_at(f, "id");
        const char *step = jstr_at(f, "step");
        if (!sev || !id)
            continue;
        if (!strcmp(sev, "error") && fs && !p->fail_id)
            p->fail_id = mon_text(id);
        else if (!strcmp(sev, "warning") && !p->warn) {
            char w[128];
            snprintf(w, sizeof w, "%s %s", step ? step : "-", id);
            p->warn = mon_text(w);
        }
    }
    if (fs) {
        p->fail_step = mon_text(fs);
        if (!p->fail_id)
            p->fail_id = mon_text("");
    }
    const json_t *leaf = json_array_get(json_object_get(doc, "chain"), 0);
    if (jint_at(leaf, "days_left", &v)) {
        p->has_days = 1;
        p->days = days_clamp(v);
        p->not_after = iso_time(jstr_at(leaf, "not_after"));
        p->checked_at = iso_time(jstr_at(json_object_get(doc, "verification"), "checked_at"));
    }
    const char *tls = jstr_at(json_object_get(doc, "tls"), "version");
    p->tls = tls ? mon_text(tls) : NULL;
    json_array_foreach(json_object_get(doc, "verdict"), i, f) {
        int pol = mxs_policy_from_name(jstr_at(f, "policy"));
        int out = mxs_outcome_from_name(jstr_at(f, "outcome"));
        if (pol < 0 || out < 0)
            continue;
        p->verdict[pol] = (signed char)out;
        /* Not evaluated because of a finding: a LOCAL one (our side's
         * limit).  Without a finding it is only a policy that does not
         * apply (DANE without TLSA records) or a step that did not run. */
        const char *why = jstr_at(f, "finding");
        if (out == MXS_OUT_NOT_EVALUATED && why && *why)
            p->local = 1;
    }
    long long ms = 0;
    json_array_foreach(json_object_get(doc, "steps"), i, f) {
        if (jint_at(f, "elapsed_ms", &v) && v > 0)
            ms += v;
    }
    p->duration = (double)ms / 1000.0;
    p->started = iso_time(jstr_at(doc, "started"));
    return p->mx && p->address && (!fs || (p->fail_step && p->fail_id)) && (!tls || p->tls)
               ? 0 : -1;
}

/* The state one probe gives its domain, and why (into why). */
static int probe_state(const struct mon_probe *p, const struct mxs_monitor_opts *o, char *why,
                       size_t n)
{
    if (p->fail_step && !p->local) {
        snprintf(why, n, "%s %s", p->fail_step, *p->fail_id ? p->fail_id : "failed");
        return NAG_CRITICAL;
    }
    if (p->has_days && p->days < o->crit_days) {
        if (p->days < 0)
            snprintf(why, n, "leaf expired");
        else
            snprintf(why, n, "leaf expires in %d days", p->days);
        return NAG_CRITICAL;
    }
    if (p->has_days && p->days < o->warn_days) {
        snprintf(why, n, "leaf expires in %d days", p->days);
        return NAG_WARNING;
    }
    if (p->warn && !p->local) {
        snprintf(why, n, "%s", p->warn);
        return NAG_WARNING;
    }
    if (p->local || p->fail_step || (p->exit_code != 0 && p->exit_code != 4)) {
        if (p->fail_step)
            snprintf(why, n, "not evaluated: %s %s", p->fail_step, p->fail_id);
        else
            snprintf(why, n, p->local ? "not evaluated on our side" : "exit %d", p->exit_code);
        return NAG_UNKNOWN;
    }
    return NAG_OK;
}

static int grow(void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 16;
    while (c < need)
        c *= 2;
    void *x = realloc(*arr, c * size);
    if (!x)
        return -1;
    *arr = x;
    *cap = c;
    return 0;
}

static struct mon_domain *domain_add(struct mxs_monitor *m, const char *name)
{
    if (grow((void **)&m->d, &m->capd, m->nd + 1, sizeof *m->d))
        return NULL;
    struct mon_domain *d = &m->d[m->nd];
    memset(d, 0, sizeof *d);
    d->name = mon_text(name);
    if (!d->name)
        return NULL;
    d->order = m->nd++;
    d->first = m->np;
    d->state = NAG_OK;
    return d;
}

static void domain_worse(struct mon_domain *d, int state, const char *why)
{
    if (d->why && nag_rank[state] <= nag_rank[d->state])
        return;
    char *w = mon_text(why);
    if (!w)
        return;
    free(d->why);
    d->why = w;
    d->state = state;
}

int monitor_add_json(struct mxs_monitor *m, const json_t *doc, char *err, size_t errlen)
{
    const json_t *probes = json_object_get(doc, "probes");
    int survey = json_is_true(json_object_get(doc, "survey"));
    const json_t *named = survey ? json_object_get(doc, "dns") : doc;
    /* A --domains document names its domain (the A-label) in "domain";
     * else the probe's (or the survey's RESOLVE probe's) target. */
    const char *name = jstr_at(json_object_get(doc, "domain"), "name");
    if (!name)
        name = jstr_at(json_object_get(named, "target"), "input");
    if (!json_is_object(doc) || !name || (survey && !json_is_array(probes))) {
        char label[32];
        snprintf(label, sizeof label, "document %zu", m->nd + 1);
        struct mon_domain *d = domain_add(m, label);
        if (d)
            domain_worse(d, NAG_UNKNOWN, "not a session document");
        snprintf(err, errlen, "%s: not a session or survey document (docs/json.md)", label);
        return -1;
    }
    struct mon_domain *d = domain_add(m, name);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* A survey whose RESOLVE failed has no probes: its DNS document is the
     * one probe (mx and address empty). */
    size_t n = survey && json_array_size(probes) ? json_array_size(probes) : 1;
    for (size_t i = 0; i < n; i++) {
        const json_t *pd = survey ? json_array_get(probes, i) : doc;
        if (survey && !json_array_size(probes))
            pd = named;
        if (grow((void **)&m->p, &m->capp, m->np + 1, sizeof *m->p)) {
            domain_worse(d, NAG_UNKNOWN, "out of memory");
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        struct mon_probe *p = &m->p[m->np];
        if (probe_read(p, pd)) {
            probe_free(p);
            domain_worse(d, NAG_UNKNOWN, "out of memory");
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        m->np++;
        d->n++;
        if (p->has_days && (!d->has_days || p->days < d->min_days)) {
            d->has_days = 1;
            d->min_days = p->days;
        }
        char why[160];
        int st = probe_state(p, &m->o, why, sizeof why);
        if (st != NAG_OK)
            domain_worse(d, st, why);
    }
    return 0;
}

int mxs_monitor_add(struct mxs_monitor *m, const char *json, size_t len, char *err,
                    size_t errlen)
{
    json_error_t je;
    json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!doc) {
        char label[32];
        snprintf(label, sizeof label, "document %zu", m->nd + 1);
        struct mon_domain *d = domain_add(m, label);
        if (d)
            domain_worse(d, NAG_UNKNOWN, "not JSON");
        snprintf(err, errlen, "%s: not JSON: line %d: %s", label, je.line, je.text);
        return -1;
    }
    int rc = monitor_add_json(m, doc, err, errlen);
    json_decref(doc);
    return rc;
}

/* ---- output ------------------------------------------------------------- */

/* Nagios order: worst first, then the fewest days left, then as added. */
static int by_urgency(const void *a, const void *b)
{
    const struct mon_domain *x = *(const struct mon_domain *const *)a;
    const struct mon_domain *y = *(const struct mon_domain *const *)b;
    if (nag_rank[x->state] != nag_rank[y->state])
        return nag_rank[y->state] - nag_rank[x->state];
    if (x->has_days != y->has_days)
        return y->has_days - x->has_days;
    if (x->has_days && x->min_days != y->min_days)
        return x->min_days < y->min_days ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Prometheus order: by name, then as added (so a repeated name keeps its
 * first document and the series stay unique). */
static int by_name(const void *a, const void *b)
{
    const struct mon_domain *x = *(const struct mon_domain *const *)a;
    const struct mon_domain *y = *(const struct mon_domain *const *)b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* The domains sorted by cmp, a name seen before left out; n: how many. */
static const struct mon_domain **domains_sorted(const struct mxs_monitor *m,
                                                int (*cmp)(const void *, const void *),
                                                size_t *n)
{
    const struct mon_domain **v = malloc((m->nd ? m->nd : 1) * sizeof *v);
    if (!v)
        return NULL;
    for (size_t i = 0; i < m->nd; i++)
        v[i] = &m->d[i];
    qsort(v, m->nd, sizeof *v, by_name);
    size_t k = 0;
    for (size_t i = 0; i < m->nd; i++)
        if (!k || strcmp(v[k - 1]->name, v[i]->name))
            v[k++] = v[i];
    if (cmp != by_name)
        qsort(v, k, sizeof *v, cmp);
    *n = k;
    return v;
}

/* Plugin text: '|' starts the perfdata, so it never appears in text. */
static void nag_text(struct buf *out, const char *s)
{
    for (; *s; s++)
        buf_add(out, *s == '|' ? "/" : s, 1);
}

/* A perfdata label: single-quoted, '' for a quote, no '=' or '|'. */
static void nag_label(struct buf *out, const char *name, const char *suffix)
{
    buf_puts(out, "'");
    for (const char *s = name; *s; s++) {
        if (*s == '\'')
            buf_puts(out, "''");
        else
            buf_add(out, (*s == '=' || *s == '|') ? "_" : s, 1);
    }
    buf_printf(out, "%s'", suffix);
}

static const char *const nag_verb[4] = {"pass", "warn", "fail", "not evaluated"};

static int nagios_write(const struct mxs_monitor *m, struct buf *out)
{
    size_t n = 0;
    const struct mon_domain **v = domains_sorted(m, by_urgency, &n);
    if (!v) {
        buf_puts(out, "MXSCOPE UNKNOWN - out of memory\n");
        return NAG_UNKNOWN;
    }
    size_t count[4] = {0};
    for (size_t i = 0; i < n; i++)
        count[v[i]->state]++;
    int worst = n ? v[0]->state : NAG_UNKNOWN;
    buf_printf(out, "MXSCOPE %s - ", nag_name[worst]);
    if (!n)
        buf_puts(out, "no domains");
    else if (worst == NAG_OK) {
        buf_printf(out, "%zu domain%s pass", n, n == 1 ? "" : "s");
        const struct mon_domain *first = NULL;
        for (size_t i = 0; i < n; i++)
            if (v[i]->has_days && (!first || v[i]->min_days < first->min_days))
                first = v[i];
        if (first) {
            buf_puts(out, "; first expiry: ");
            nag_text(out, first->name);
            buf_printf(out, " in %d days", first->min_days);
        }
    } else {
        static const int order[3] = {NAG_CRITICAL, NAG_WARNING, NAG_UNKNOWN};
        int seg = 0;
        size_t at = 0; /* v is sorted by state: each segment follows the last */
        for (int k = 0; k < 3; k++) {
            int st = order[k];
            if (!count[st])
                continue;
            if (seg++)
                buf_printf(out, "; %zu %s: ", count[st], nag_verb[st]);
            else
                buf_printf(out, "%zu of %zu domain%s %s: ", count[st], n, n == 1 ? "" : "s",
                           nag_verb[st]);
            size_t listed = 0;
            for (; at < n && v[at]->state == st; at++) {
                if (listed < (size_t)m->o.max_listed) {
                    buf_puts(out, listed ? ", " : "");
                    nag_text(out, v[at]->name);
                    buf_puts(out, " (");
                    nag_text(out, v[at]->why ? v[at]->why : "?");
                    buf_puts(out, ")");
                }
                listed++;
            }
            if (listed > (size_t)m->o.max_listed)
                buf_printf(out, ", and %zu more", listed - (size_t)m->o.max_listed);
        }
    }
    buf_printf(out, " | domains=%zu;;;0 critical=%zu;;;0 warning=%zu;;;0 unknown=%zu;;;0", n,
               count[NAG_CRITICAL], count[NAG_WARNING], count[NAG_UNKNOWN]);
    /* Days left: a value below the warn or crit threshold alerts, which in
     * the guidelines' range syntax is "30:" (alert outside 30..infinity). */
    unsigned char *kept = calloc(m->nd ? m->nd : 1, 1);
    for (size_t i = 0; kept && i < n; i++)
        kept[v[i]->order] = 1;
    for (size_t i = 0; kept && i < m->nd; i++) {
        const struct mon_domain *d = &m->d[i];
        if (!kept[i])
            continue; /* a repeated name */
        buf_puts(out, " ");
        nag_label(out, d->name, "_days");
        if (d->has_days)
            buf_printf(out, "=%d;%d:;%d:", d->min_days, m->o.warn_days, m->o.crit_days);
        else
            buf_printf(out, "=U;%d:;%d:", m->o.warn_days, m->o.crit_days);
    }
    if (!kept)
        out->failed = 1;
    free(kept);
    buf_puts(out, "\n");
    /* Long text: every domain that is not OK, worst first. */
    for (size_t i = 0; i < n && v[i]->state != NAG_OK; i++) {
        buf_printf(out, "%s: ", nag_name[v[i]->state]);
        nag_text(out, v[i]->name);
        buf_puts(out, ": ");
        nag_text(out, v[i]->why ? v[i]->why : "?");
        buf_puts(out, "\n");
    }
    free(v);
    return worst;
}

/* A Prometheus label value: \ " and newline escaped (exposition format). */
static void prom_value(struct buf *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            buf_puts(out, "\\\\");
        else if (*s == '"')
            buf_puts(out, "\\\"");
        else if (*s == '\n')
            buf_puts(out, "\\n");
        else
            buf_add(out, s, 1);
    }
}

static void prom_labels(struct buf *out, const char *metric, const struct mon_domain *d,
                        const struct mon_probe *p)
{
    buf_printf(out, "%s{domain=\"", metric);
    prom_value(out, d->name);
    if (p) {
        buf_puts(out, "\",mx=\"");
        prom_value(out, p->mx);
        buf_puts(out, "\",address=\"");
        prom_value(out, p->address);
    }
    buf_puts(out, "\"");
}

/* One more label: ,key="value" (value quoted). */
static void prom_label(struct buf *out, const char *key, const char *value)
{
    buf_printf(out, ",%s=\"", key);
    prom_value(out, value);
    buf_puts(out, "\"");
}

static void prom_head(struct buf *out, const char *metric, const char *help)
{
    buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n", metric, help, metric);
}

enum prom_family {
    PF_SUCCESS, PF_FAILURE, PF_EXPIRY, PF_LEFT, PF_TLS, PF_VERDICT, PF_DURATION, PF_STARTED, PF_COUNT
};
static const struct {
    const char *metric, *help;
} prom_family[PF_COUNT] = {
    [PF_SUCCESS] = {"mxscope_probe_success",
                    "1 when every step of the probe of this MX address passed, else 0."},
    [PF_FAILURE] = {"mxscope_probe_failure_info",
                    "The first step that failed and the error finding behind it."},
    [PF_EXPIRY] = {"mxscope_cert_expiry_timestamp_seconds",
                   "When the served leaf certificate expires (its notAfter, Unix time)."},
    [PF_LEFT] = {"mxscope_cert_seconds_left",
                 "Validity the served leaf had left when the probe checked it (negative: "
                 "expired); floor(x / 86400) is the report's days left."},
    [PF_TLS] = {"mxscope_tls_version_info", "The TLS version the handshake agreed."},
    [PF_VERDICT] = {"mxscope_verdict",
                    "1 when a sender with this policy delivers (outcome says how), else 0."},
    [PF_DURATION] = {"mxscope_probe_duration_seconds",
                     "Time the probe's steps took, RESOLVE to QUIT."},
    [PF_STARTED] = {"mxscope_probe_timestamp_seconds", "When the probe started (Unix time)."},
};

/* One sample of family f for probe p, or nothing when p has no such fact. */
static void prom_sample(struct buf *out, enum prom_family f, const struct mon_domain *d,
                        const struct mon_probe *p)
{
    const char *metric = prom_family[f].metric;
    switch (f) {
    case PF_SUCCESS:
        prom_labels(out, metric, d, p);
        buf_printf(out, "} %d\n", p->fail_step ? 0 : 1);
        break;
    case PF_FAILURE:
        if (!p->fail_step)
            break;
        prom_labels(out, metric, d, p);
        prom_label(out, "step", p->fail_step);
        prom_label(out, "finding", p->fail_id);
        buf_puts(out, "} 1\n");
        break;
    case PF_EXPIRY:
    case PF_LEFT: {
        /* Seconds left as CHAIN judged them (the probe's start if unknown). */
        long long at = p->checked_at ? p->checked_at : p->started;
        if (!p->not_after || (f == PF_LEFT && !at))
            break;
        prom_labels(out, metric, d, p);
        buf_printf(out, "} %lld\n", f == PF_EXPIRY ? p->not_after : p->not_after - at);
        break;
    }
    case PF_TLS:
        if (!p->tls)
            break;
        prom_labels(out, metric, d, p);
        prom_label(out, "version", p->tls);
        buf_puts(out, "} 1\n");
        break;
    case PF_VERDICT:
        for (int pol = 0; pol < MXS_POL_COUNT; pol++) {
            if (p->verdict[pol] < 0)
                continue;
            prom_labels(out, metric, d, p);
            prom_label(out, "policy", mxs_policy_name((enum mxs_policy)pol));
            prom_label(out, "outcome", mxs_outcome_name((enum mxs_outcome)p->verdict[pol]));
            buf_printf(out, "} %d\n",
                       p->verdict[pol] == MXS_OUT_ENCRYPTED || p->verdict[pol] == MXS_OUT_CLEAR);
        }
        break;
    case PF_DURATION:
        prom_labels(out, metric, d, p);
        buf_printf(out, "} %.3f\n", p->duration);
        break;
    case PF_STARTED:
        if (!p->started)
            break;
        prom_labels(out, metric, d, p);
        buf_printf(out, "} %lld\n", p->started);
        break;
    case PF_COUNT:
        break;
    }
}

static void prometheus_write(const struct mxs_monitor *m, struct buf *out)
{
    size_t n = 0;
    const struct mon_domain **v = domains_sorted(m, by_name, &n);
    if (!v) {
        out->failed = 1;
        return;
    }
    prom_head(out, "mxscope_domain_state",
              "Nagios state of the domain: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.");
    for (size_t i = 0; i < n; i++) {
        prom_labels(out, "mxscope_domain_state", v[i], NULL);
        buf_printf(out, "} %d\n", v[i]->state);
    }
    for (int f = 0; f < PF_COUNT; f++) {
        prom_head(out, prom_family[f].metric, prom_family[f].help);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < v[i]->n; j++)
                prom_sample(out, (enum prom_family)f, v[i], &m->p[v[i]->first + j]);
    }
    prom_head(out, "mxscope_last_run_timestamp_seconds", "When this run wrote its results.");
    buf_printf(out, "mxscope_last_run_timestamp_seconds %lld\n",
               (long long)(m->o.now ? m->o.now : time(NULL)));
    free(v);
}

int mxs_monitor_write(const struct mxs_monitor *m, enum mxs_monitor_format fmt, struct buf *out)
{
    int rc = 0;
    if (fmt == MXS_MONITOR_NAGIOS)
        rc = nagios_write(m, out);
    else
        prometheus_write(m, out);
    return out->failed ? NAG_UNKNOWN : rc;
}

int mxs_monitor_render(enum mxs_monitor_format fmt, const char *const *docs, size_t n,
                       const struct mxs_monitor_opts *o, struct buf *out)
{
    struct mxs_monitor *m = mxs_monitor_new(o);
    if (!m) {
        out->failed = 1;
        return NAG_UNKNOWN;
    }
    char err[256];
    for (size_t i = 0; i < n; i++)
        mxs_monitor_add(m, docs[i] ? docs[i] : "", docs[i] ? strlen(docs[i]) : 0, err,
                        sizeof err);
    int rc = mxs_monitor_write(m, fmt, out);
    mxs_monitor_free(m);
    return rc;
}
