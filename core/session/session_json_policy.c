/*
 * session_json_policy.c - the "policy" object of the JSON document (the
 * POLICY step's facts: MTA-STS and TLS-RPT, docs/json.md) and its loader.
 * Owner: session.  Kept apart from session_json.c / session_json_load.c so
 * the issue 12 facts are one file.  Raw network bytes are escaped when
 * written (mxs_escape) and unescaped when read back, as everywhere.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "session/session_int.h"

/* ---- writer ----------------------------------------------------------- */

static json_t *pj_bytes(const void *p, size_t n)
{
    char *x = mxs_escape_dup(p, n, 0);
    json_t *j = json_string(x ? x : "");
    free(x);
    return j ? j : json_null();
}

static json_t *pj_text(const char *s) { return s && *s ? pj_bytes(s, strlen(s)) : json_null(); }

static const char *pj_rcode(enum mxs_dns_rcode r)
{
    static const char *const n[] = { "ok", "nodata", "nxdomain", "servfail", "timeout", "error" };
    return (unsigned)r < sizeof n / sizeof n[0] ? n[r] : "error";
}

static json_t *pj_txt(const struct mxs_policy_txt *t)
{
    json_t *recs = json_array();
    for (int i = 0; i < t->n_kept && i < MXS_PTXT_KEEP; i++)
        json_array_append_new(recs, pj_bytes(t->rr[i], t->rr_len[i]));
    return json_pack("{s:o, s:s, s:s, s:i, s:o, s:i, s:o, s:b, s:o}", "name", pj_text(t->name),
                     "rcode", pj_rcode(t->answer.rcode), "dnssec", mxs_dnssec_name(t->answer.dnssec),
                     "record_count", t->n_rr, "records", recs, "versioned", t->n_versioned,
                     "picked", t->picked >= 0 ? json_integer(t->picked) : json_null(),
                     "valid", t->valid, "error", pj_text(t->error));
}

static const char *const pj_modes[] = { "unset", "enforce", "testing", "none" };

json_t *session_json_policy(const struct engine *e)
{
    const struct mxs_policy_facts *p = engine_policy(e);
    if (!p->sts.asked)
        return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "domain", pj_text(p->domain));
    json_t *sts = pj_txt(&p->sts);
    json_object_set_new(sts, "id", pj_text(p->sts_id));
    json_object_set_new(o, "mta_sts", sts);
    json_t *f = json_null();
    if (p->fetch != MXS_FETCH_NONE) {
        f = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I}", "outcome", mxs_fetch_name(p->fetch),
                      "url", pj_text(p->url), "address", pj_text(p->host_addr),
                      "status", p->http_status ? json_integer(p->http_status) : json_null(),
                      "status_line", pj_text(p->status_line), "content_type", pj_text(p->content_type),
                      "location", pj_text(p->location), "error", pj_text(p->fetch_error),
                      "verify_result", (json_int_t)p->verify_result);
        json_object_set_new(f, "certificate", p->cert_subject[0]
            ? json_pack("{s:o, s:o, s:o}", "subject", pj_text(p->cert_subject), "issuer",
                        pj_text(p->cert_issuer), "not_after", pj_text(p->cert_not_after))
            : json_null());
        json_object_set_new(f, "body_bytes", json_integer((json_int_t)p->body_seen));
        json_object_set_new(f, "body_head", pj_bytes(p->body_head, p->body_head_len));
        json_object_set_new(f, "elapsed_ms", json_integer((json_int_t)p->fetch_ms));
    }
    json_object_set_new(o, "fetch", f);
    json_t *pol = json_null();
    if (p->parsed) {
        json_t *mx = json_array(), *pr = json_array();
        for (int i = 0; i < p->n_mx && i < MXS_PMX_MAX; i++)
            json_array_append_new(mx, pj_text(p->mx[i]));
        for (int i = 0; i < p->n_problems && i < MXS_PPROB_MAX; i++)
            json_array_append_new(pr, json_pack("{s:o, s:b, s:o, s:o}", "line",
                p->problem[i].line ? json_integer(p->problem[i].line) : json_null(),
                "fatal", p->problem[i].fatal, "what", pj_text(p->problem[i].what),
                "text", pj_bytes(p->problem[i].raw, p->problem[i].raw_len)));
        pol = json_pack("{s:b, s:s, s:o, s:o, s:i, s:i, s:o, s:i}", "valid", p->policy_valid,
                        "mode", pj_modes[p->mode & 3],
                        "max_age", p->max_age >= 0 ? json_integer(p->max_age) : json_null(),
                        "mx", mx, "mx_total", p->n_mx_total, "lines", p->lines, "problems", pr,
                        "problems_total", p->n_problems_total);
    }
    json_object_set_new(o, "policy", pol);
    json_t *rpt = pj_txt(&p->rpt), *rua = json_array();
    static const char *const kinds[] = { "other", "mailto", "https" };
    for (int i = 0; i < p->n_rua && i < MXS_PRUA_MAX; i++)
        json_array_append_new(rua, json_pack("{s:s, s:b, s:o}", "kind", kinds[p->rua[i].kind % 3],
                                             "ok", p->rua[i].ok, "uri", pj_text(p->rua[i].uri)));
    json_object_set_new(rpt, "rua", rua);
    json_object_set_new(rpt, "rua_total", json_integer(p->n_rua_total));
    json_object_set_new(o, "tls_rpt", rpt);
    return o;
}

/* ---- loader (hostile input: every field optional, bounded) ------------ */

static void pl_strv(json_t *v, char *dst, size_t cap, size_t *len)
{
    size_t n = 0;
    if (json_is_string(v) && cap)
        n = mxs_unescape(json_string_value(v), strlen(json_string_value(v)), (unsigned char *)dst, cap - 1);
    if (cap)
        dst[n] = 0;
    if (len)
        *len = n;
}

static void pl_str(json_t *o, const char *k, char *dst, size_t cap, size_t *len)
{
    pl_strv(json_object_get(o, k), dst, cap, len);
}

static long long pl_int(json_t *o, const char *k, long long d)
{
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (long long)json_integer_value(v) : d;
}

static int pl_name(json_t *o, const char *k, const char *const *names, int n)
{
    const char *s = json_string_value(json_object_get(o, k));
    for (int i = 0; s && i < n; i++)
        if (!strcmp(s, names[i]))
            return i;
    return 0;
}

static void pl_txt(json_t *o, struct mxs_policy_txt *t)
{
    static const char *const rc[] = { "ok", "nodata", "nxdomain", "servfail", "timeout", "error" };
    static const char *const ds[] = { "unknown", "insecure", "secure", "bogus" };
    if (!json_is_object(o))
        return;
    t->asked = 1;
    pl_str(o, "name", t->name, sizeof t->name, NULL);
    t->answer.rcode = (enum mxs_dns_rcode)pl_name(o, "rcode", rc, 6);
    t->answer.dnssec = (enum mxs_dnssec)pl_name(o, "dnssec", ds, 4);
    t->n_rr = (int)pl_int(o, "record_count", 0);
    t->n_versioned = (int)pl_int(o, "versioned", 0);
    t->picked = (int)pl_int(o, "picked", -1);
    t->valid = json_is_true(json_object_get(o, "valid"));
    pl_str(o, "error", t->error, sizeof t->error, NULL);
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(o, "records"), i, r) {
        if (i >= MXS_PTXT_KEEP)
            break;
        pl_strv(r, t->rr[i], MXS_PTXT_LEN, &t->rr_len[i]);
        t->n_kept = (int)i + 1;
    }
    if (t->picked < -1 || t->picked > 64)   /* an index into the answer (8 kept at most) */
        t->picked = -1;
}

void session_json_policy_load(json_t *o, struct mxs_policy_facts *p)
{
    memset(p, 0, sizeof *p);
    p->sts.picked = p->rpt.picked = -1;
    if (!json_is_object(o))
        return;
    p->done = 1;
    pl_str(o, "domain", p->domain, sizeof p->domain, NULL);
    json_t *sts = json_object_get(o, "mta_sts");
    pl_txt(sts, &p->sts);
    pl_str(sts, "id", p->sts_id, sizeof p->sts_id, NULL);
    json_t *f = json_object_get(o, "fetch");
    if (json_is_object(f)) {
        int k = mxs_fetch_from_name(json_string_value(json_object_get(f, "outcome")));
        p->fetch = k > 0 ? (enum mxs_fetch)k : MXS_FETCH_OTHER;
        pl_str(f, "url", p->url, sizeof p->url, NULL);
        pl_str(f, "address", p->host_addr, sizeof p->host_addr, NULL);
        p->http_status = (long)pl_int(f, "status", 0);
        pl_str(f, "status_line", p->status_line, sizeof p->status_line, NULL);
        pl_str(f, "content_type", p->content_type, sizeof p->content_type, NULL);
        pl_str(f, "location", p->location, sizeof p->location, NULL);
        pl_str(f, "error", p->fetch_error, sizeof p->fetch_error, NULL);
        p->verify_result = (long)pl_int(f, "verify_result", 0);
        json_t *c = json_object_get(f, "certificate");
        pl_str(c, "subject", p->cert_subject, sizeof p->cert_subject, NULL);
        pl_str(c, "issuer", p->cert_issuer, sizeof p->cert_issuer, NULL);
        pl_str(c, "not_after", p->cert_not_after, sizeof p->cert_not_after, NULL);
        long long b = pl_int(f, "body_bytes", 0);
        p->body_seen = b > 0 ? (size_t)b : 0;
        char head[sizeof p->body_head + 1];
        pl_str(f, "body_head", head, sizeof head, &p->body_head_len);
        memcpy(p->body_head, head, p->body_head_len);
        p->fetch_ms = pl_int(f, "elapsed_ms", 0);
    }
    json_t *pol = json_object_get(o, "policy");
    if (json_is_object(pol)) {
        p->parsed = 1;
        p->policy_valid = json_is_true(json_object_get(pol, "valid"));
        p->mode = pl_name(pol, "mode", pj_modes, 4);
        p->max_age = (long)pl_int(pol, "max_age", -1);
        p->n_mx_total = (int)pl_int(pol, "mx_total", 0);
        p->lines = (int)pl_int(pol, "lines", 0);
        p->n_problems_total = (int)pl_int(pol, "problems_total", 0);
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(pol, "mx"), i, v) {
            if (i >= MXS_PMX_MAX)
                break;
            pl_strv(v, p->mx[i], sizeof p->mx[i], NULL);
            p->n_mx = (int)i + 1;
        }
        json_array_foreach(json_object_get(pol, "problems"), i, v) {
            if (i >= MXS_PPROB_MAX)
                break;
            p->problem[i].line = (int)pl_int(v, "line", 0);
            p->problem[i].fatal = json_is_true(json_object_get(v, "fatal"));
            pl_str(v, "what", p->problem[i].what, sizeof p->problem[i].what, NULL);
            char raw[sizeof p->problem[i].raw + 1];
            pl_str(v, "text", raw, sizeof raw, &p->problem[i].raw_len);
            memcpy(p->problem[i].raw, raw, p->problem[i].raw_len);
            p->n_problems = (int)i + 1;
        }
    }
    json_t *rpt = json_object_get(o, "tls_rpt");
    pl_txt(rpt, &p->rpt);
    p->n_rua_total = (int)pl_int(rpt, "rua_total", 0);
    static const char *const kinds[] = { "other", "mailto", "https" };
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(rpt, "rua"), i, v) {
        if (i >= MXS_PRUA_MAX)
            break;
        p->rua[i].kind = pl_name(v, "kind", kinds, 3);
        p->rua[i].ok = json_is_true(json_object_get(v, "ok"));
        pl_str(v, "uri", p->rua[i].uri, sizeof p->rua[i].uri, NULL);
        p->n_rua = (int)i + 1;
    }
}
