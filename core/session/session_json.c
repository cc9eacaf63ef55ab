/*
 * session_json.c - a session as the JSON document of docs/json.md (writer,
 * `save json`, --save-json, --json) and back (loader, --load, `load FILE`).
 * Part of the session module (core/session).  The writer reads the engine
 * through core.h and probe/engine_replay.h; the loader parses the hostile
 * file into local facts and fills a read-only engine through the replay API
 * (engine_replay_*): it never writes engine state itself.  Names of steps,
 * states, kinds, severities, policies and outcomes come from names.c.
 *
 * Every string that came from the network or a certificate is escaped
 * (mxs_escape) before jansson sees it, so a bidi override is <U+202E> in the
 * JSON too.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/esc.h"
#include "base/savefile.h"
#include "probe/engine_replay.h"
#include "probe/tlsrec.h"
#include "probe/x509view.h"
#include "session/render.h"
#include "session/session_int.h"

#define LOAD_MAX (64u << 20)

/* ---- the writer ------------------------------------------------------------ */

static json_t *jstr(const char *s)
{
    char *x = mxs_escape_dup(s, strlen(s), 0);
    json_t *j = json_string(x ? x : "");
    free(x);
    return j ? j : json_null();
}

static json_t *jstr_or_null(const char *s) { return s && *s ? jstr(s) : json_null(); }

/* Text diag.c already escaped: keep it (newlines included) when it is safe. */
static json_t *jdiag(const char *s)
{
    if (!session_diag_text_ok(s, strlen(s)))
        return jstr(s);
    json_t *j = json_string(s);
    return j ? j : jstr(s);
}

static int rec_is_binary(enum mxs_rec_kind k)
{
    return k == MXS_REC_TLS_IN || k == MXS_REC_TLS_OUT || k == MXS_REC_CERT;
}

/* 13 -> "TLSv1.3" ... 10 -> "TLSv1.0" (tlsrec.c's table), anything else SSLv3. */
static const char *tls_version_text(int v)
{
    const char *n = v >= 10 && v <= 13 ? tlsrec_version_name(0x0301 + v - 10) : NULL;
    return n ? n : "SSLv3";
}

static json_t *jreply_lines(const struct mxs_reply *r)
{
    json_t *a = json_array();
    const char *p = r->text;
    if (!r->code)
        return a;
    for (;;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char *x = mxs_escape_dup(p, n, 0);
        json_array_append_new(a, json_string(x ? x : ""));
        free(x);
        if (!nl)
            break;
        p = nl + 1;
    }
    return a;
}

static json_t *jreply(const struct mxs_reply *r)
{
    if (!r->code)
        return json_null();
    return json_pack("{s:i, s:o, s:o, s:b}", "code", r->code, "enhanced", jstr_or_null(r->enhanced),
                     "lines", jreply_lines(r), "truncated", r->truncated);
}

static json_t *jcaps(const struct mxs_caps *c)
{
    json_t *a = json_array();
    for (int i = 0; i < c->n; i++) {
        char t[160];
        snprintf(t, sizeof t, "%s%s%s", c->name[i], c->args[i][0] ? " " : "", c->args[i]);
        json_array_append_new(a, jstr(t));
    }
    return a;
}

/* docs/json.md spells rcodes in lower case ("nxdomain"). */
static json_t *jrcode(enum mxs_dns_rcode r)
{
    char t[32];
    snprintf(t, sizeof t, "%s", mxs_dns_rcode_name(r));
    for (char *p = t; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
    if (!strcmp(t, "noerror"))
        snprintf(t, sizeof t, "ok");
    return json_string(t);
}

static json_t *jdnsans(const struct mxs_dns_answer *a)
{
    return json_pack("{s:o, s:s, s:o}", "rcode", jrcode(a->rcode), "dnssec",
                     mxs_dnssec_name(a->dnssec), "why_bogus", jstr_or_null(a->why_bogus));
}

static void hex_of(const unsigned char *d, size_t n, char *out)
{
    static const char hx[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[d[i] >> 4];
        out[2 * i + 1] = hx[d[i] & 15];
    }
    out[2 * n] = 0;
}

static json_t *jflags(unsigned f)
{
    json_t *a = json_array();
    for (unsigned bit = 1; bit && bit <= MXS_V_OTHER; bit <<= 1)
        if (f & bit) {
            const char *n = mxs_verify_flag_name(bit);
            json_array_append_new(a, json_string(n ? n : "unknown"));
        }
    return a;
}

static json_t *jcert(const struct mxs_cert *c)
{
    char nb[40], na[40];
    session_iso_time((time_t)c->not_before, nb, sizeof nb);
    session_iso_time((time_t)c->not_after, na, sizeof na);
    json_t *san = json_array();
    for (int i = 0; i < c->n_san; i++)
        json_array_append_new(san, jstr(c->san[i]));
    json_t *eku = json_array();
    if (c->eku & MXS_EKU_SERVER) json_array_append_new(eku, json_string("serverAuth"));
    if (c->eku & MXS_EKU_CLIENT) json_array_append_new(eku, json_string("clientAuth"));
    if (c->eku & MXS_EKU_OTHER) json_array_append_new(eku, json_string("other"));
    char key[64];
    snprintf(key, sizeof key, "%s %d", c->key_type, c->key_bits);
    json_t *j = json_object();
    json_object_set_new(j, "depth", json_integer(c->depth));
    json_object_set_new(j, "subject", jstr(c->subject));
    json_object_set_new(j, "issuer", jstr(c->issuer));
    json_object_set_new(j, "cn", jstr(c->cn));
    json_object_set_new(j, "san", san);
    json_object_set_new(j, "san_total", json_integer(c->n_san_total));
    json_object_set_new(j, "serial", jstr(c->serial));
    json_object_set_new(j, "not_before", json_string(nb));
    json_object_set_new(j, "not_after", json_string(na));
    json_object_set_new(j, "days_left", json_integer(c->days_left));
    json_object_set_new(j, "key", jstr(key));
    json_object_set_new(j, "key_type", jstr(c->key_type));
    json_object_set_new(j, "key_bits", json_integer(c->key_bits));
    json_object_set_new(j, "signature", jstr(c->sig_alg));
    json_object_set_new(j, "sha1", json_string(c->sha1));
    json_object_set_new(j, "sha256", json_string(c->sha256));
    json_object_set_new(j, "spki_sha256", json_string(c->spki_sha256));
    json_object_set_new(j, "eku", c->has_eku ? eku : (json_decref(eku), json_null()));
    json_object_set_new(j, "ca", json_boolean(c->is_ca));
    json_object_set_new(j, "self_issued", json_boolean(c->self_issued));
    json_object_set_new(j, "verify_flags", jflags(c->verify_flags));
    return j;
}

json_t *render_json_tree(const struct engine *e)
{
    const struct mxs_settings *set = engine_settings(e);
    char when[40];
    session_iso_time(engine_started_at(e), when, sizeof when);
    json_t *root = json_object();
    json_object_set_new(root, "mxscope", json_string(MXS_VERSION));
    json_object_set_new(root, "schema", json_integer(1));
    json_object_set_new(root, "started", json_string(when));

    const char *sni = engine_sni(e);
    json_object_set_new(root, "target", json_pack("{s:o, s:s, s:i, s:o, s:o, s:o, s:b}",
        "input", jstr(set->target), "kind", set->target_is_host ? "host" : "domain",
        "port", (int)set->port, "connect", jstr_or_null(set->connect_addr),
        "ehlo_name", jstr(set->ehlo_name), "sni", jstr_or_null(sni),
        "tls_on_connect", set->tls_on_connect));
    /* Every setting, from the setting table (a loaded session: those its
     * file carried, set back when it was loaded). */
    json_t *sets = json_object();
    char sv[1100];
    for (const struct mxs_setting_def *d = mxs_setting_table; d->name; d++)
        if (mxs_settings_get(set, d->name, sv, sizeof sv) == 0)
            json_object_set_new(sets, d->name, jstr(sv));
    json_object_set_new(root, "settings", sets);

    enum mxs_step fs = engine_failed_step(e);
    json_object_set_new(root, "result", json_pack("{s:o, s:i}", "failed_step",
        fs == MXS_STEP_NONE ? json_null() : json_string(mxs_step_name(fs)), "exit_code", render_exit_code(e)));

    json_t *steps = json_array();
    for (int i = 0; i < MXS_STEP_COUNT; i++) {
        struct engine_step_info si;
        engine_step_info(e, (enum mxs_step)i, &si);
        json_array_append_new(steps, json_pack("{s:s, s:s, s:I, s:o, s:b}", "step", mxs_step_name(i),
            "status", mxs_step_state_name(si.state), "elapsed_ms", (json_int_t)si.elapsed_ms,
            "detail", jstr(si.detail), "timed_out", si.timed_out));
    }
    json_object_set_new(root, "steps", steps);

    const struct mxs_dns_facts *d = engine_dns(e);
    json_t *mxs = json_array();
    for (int i = 0; i < d->n_mx; i++) {
        const struct mxs_mx *m = &d->mx[i];
        json_t *addrs = json_array();
        for (int j = 0; j < m->n_addr; j++)
            json_array_append_new(addrs, json_pack("{s:i, s:s}", "family", m->addr[j].family, "address",
                                                   m->addr[j].text));
        json_t *tl = jdnsans(&m->tlsa);
        json_t *recs = json_array();
        for (int j = 0; j < m->n_tlsa; j++) {
            char hx[2 * sizeof m->tlsa_rr[j].data + 1];
            size_t n = m->tlsa_rr[j].len < sizeof m->tlsa_rr[j].data ? m->tlsa_rr[j].len : sizeof m->tlsa_rr[j].data;
            hex_of(m->tlsa_rr[j].data, n, hx);
            json_array_append_new(recs, json_pack("{s:i, s:i, s:i, s:s, s:b}", "usage", m->tlsa_rr[j].usage,
                "selector", m->tlsa_rr[j].selector, "mtype", m->tlsa_rr[j].mtype, "data", hx,
                "truncated", m->tlsa_rr[j].truncated));
        }
        json_object_set_new(tl, "records", recs);
        json_array_append_new(mxs, json_pack("{s:i, s:o, s:o, s:o, s:o, s:o}", "preference", m->preference,
            "host", jstr(m->host), "addresses", addrs, "a", jdnsans(&m->a), "aaaa", jdnsans(&m->aaaa),
            "tlsa", tl));
    }
    json_object_set_new(root, "dns", json_pack("{s:o, s:b, s:o, s:s, s:o, s:b, s:b, s:o, s:b}",
        "resolver", jstr_or_null(set->resolver), "done", d->done,
        "mx_rcode", jrcode(d->mx_answer.rcode), "dnssec", mxs_dnssec_name(d->mx_answer.dnssec),
        "why_bogus", jstr_or_null(d->mx_answer.why_bogus), "implicit_mx", d->implicit_mx,
        "null_mx", d->null_mx, "mx", mxs, "pinned", set->connect_addr[0] != 0));
    /* After a bogus answer: does our resolver pass DNSSEC (the anchor's
     * DNSKEY validated)?  null when not asked. */
    json_object_set_new(json_object_get(root, "dns"), "resolver_check",
        d->resolver_check == MXS_RESCHK_NOT_ASKED ? json_null()
        : json_pack("{s:s, s:o, s:o}", "result",
                    d->resolver_check == MXS_RESCHK_VALIDATES ? "validates" : "broken",
                    "anchor_zone", jstr_or_null(d->anchor_zone),
                    "why", jstr_or_null(d->resolver_why)));

    const struct mxs_connect_facts *c = engine_connection(e);
    const char *cerr = mxs_conn_error_name(c->error);
    json_object_set_new(root, "connect", json_pack("{s:i, s:o, s:i, s:i, s:o, s:i, s:o, s:i, s:I}",
        "mx", c->mx_index, "address", jstr_or_null(c->addr.text), "family", c->addr.family, "port", c->port,
        "error", cerr ? json_string(cerr) : json_null(), "errno", c->err_no,
        "errno_text", c->err_no ? json_string(strerror(c->err_no)) : json_null(), "attempts", c->attempts,
        "elapsed_ms", (json_int_t)c->elapsed_ms));

    const struct mxs_smtp_facts *m = engine_smtp(e);
    json_t *banner = jreply(&m->banner);
    if (json_is_object(banner))
        json_object_set_new(banner, "elapsed_ms", json_integer(m->banner_ms));
    json_t *ehlo = jreply(m->used_helo ? &m->helo : &m->ehlo);
    if (json_is_object(ehlo)) {
        json_object_set_new(ehlo, "used_helo", json_boolean(m->used_helo));
        if (m->used_helo)
            json_object_set_new(ehlo, "ehlo_reply", jreply(&m->ehlo));
    }
    json_t *st = jreply(&m->starttls);
    if (json_is_object(st))
        json_object_set_new(st, "leftover_bytes", json_integer((json_int_t)m->leftover_plain));
    json_object_set_new(root, "smtp", json_pack("{s:o, s:o, s:o, s:b, s:b, s:o, s:o, s:o, s:b}",
        "banner", banner, "ehlo", ehlo, "capabilities", jcaps(&m->caps), "capabilities_masked", m->caps.masked,
        "starttls_offered", m->caps.starttls, "starttls", st, "ehlo2", jreply(&m->ehlo2),
        "capabilities2", jcaps(&m->caps2), "capabilities_changed", m->caps_changed));

    const struct mxs_tls_facts *t = engine_tls(e);
    json_object_set_new(root, "tls", json_pack("{s:b, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:o, s:I, s:I, s:I}",
        "attempted", t->attempted, "ok", t->ok,
        "version", t->ok ? json_string(t->version_name) : json_null(),
        "cipher", jstr_or_null(t->cipher), "group", jstr_or_null(t->group),
        "server_hello_version", t->server_hello_version ? json_string(tls_version_text(t->server_hello_version))
            : json_null(),
        "alert_received", t->alert_received >= 0 ? json_string(t->alert_name) : json_null(),
        "alert_sent", t->alert_sent >= 0 ? json_string(t->alert_sent_name) : json_null(),
        "client_cert_requested", t->cert_requested,
        "error", jstr_or_null(t->error), "sni", jstr_or_null(t->sni_sent),
        "elapsed_ms", (json_int_t)t->handshake_ms, "bytes_in", (json_int_t)t->bytes_in,
        "bytes_out", (json_int_t)t->bytes_out));

    /* Versions the server accepts: "accepted", "refused" or null (not
     * known); TLS 1.0/1.1 are probed only after a protocol_version refusal. */
    json_t *vers = json_object();
    static const char *const vnames[4] = { "1.0", "1.1", "1.2", "1.3" };
    for (int i = 0; i < 4; i++)
        json_object_set_new(vers, vnames[i], t->version_accepted[i] > 0 ? json_string("accepted")
                                             : t->version_accepted[i] < 0 ? json_string("refused")
                                                                          : json_null());
    json_object_set_new(json_object_get(root, "tls"), "versions", vers);
    json_object_set_new(json_object_get(root, "tls"), "legacy_probed", json_boolean(t->legacy_probed));

    const struct mxs_chain_facts *ch = engine_chain(e);
    /* Dual certificates: the RSA-only handshake's leaf when it is another
     * certificate (null when that handshake did not run). */
    json_t *alt = json_null();
    if (ch->alt_probed) {
        alt = json_object();
        json_object_set_new(alt, "completed", json_boolean(ch->alt_ok));
        json_object_set_new(alt, "error", jstr_or_null(ch->alt_error));
        json_object_set_new(alt, "leaf", ch->alt_present ? jcert(&ch->alt_leaf) : json_null());
        json_object_set_new(alt, "name_matches_mx", ch->alt_present ? json_boolean(ch->alt_name_matches)
                                                                     : json_null());
    }
    json_object_set_new(root, "second_certificate", alt);
    json_t *chain = json_array();
    for (int i = 0; i < ch->n; i++)
        json_array_append_new(chain, jcert(&ch->cert[i]));
    json_object_set_new(root, "chain", chain);
    json_object_set_new(root, "verification", json_pack("{s:b, s:o, s:b, s:b, s:o, s:o, s:o, s:i}",
        "trusted", ch->trusted, "name_checked", jstr_or_null(ch->name_checked),
        "name_matches_mx", ch->name_matches_mx, "name_matches_domain", ch->name_matches_domain,
        "flags", jflags(ch->verify_result), "expected_fingerprint", jstr_or_null(set->expect_fp),
        "fingerprint_match", ch->fp_expected ? json_boolean(ch->fp_match) : json_null(),
        "certificates_sent", ch->n_total));

    json_object_set_new(json_object_get(root, "verification"), "dane",
        ch->dane_checked ? json_pack("{s:i, s:b, s:o, s:o, s:o}", "usable_records", ch->dane_usable,
                                     "match", ch->dane_match,
                                     "match_depth", ch->dane_match ? json_integer(ch->dane_match_depth) : json_null(),
                                     "match_record", ch->dane_match ? json_integer(ch->dane_match_rr) : json_null(),
                                     "detail", jstr_or_null(ch->dane_detail))
                         : json_null());

    json_t *fs_a = json_array();
    int n_findings;
    const struct mxs_finding *findings = engine_findings(e, &n_findings);
    for (int i = 0; i < n_findings; i++) {
        const struct mxs_finding *f = &findings[i];
        json_array_append_new(fs_a, json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "id", f->id,
            "severity", mxs_severity_name(f->severity), "step", mxs_step_name(f->step),
            "cert_depth", f->cert_depth >= 0 ? json_integer(f->cert_depth) : json_null(),
            "message", jdiag(f->message), "evidence", jdiag(f->evidence), "advice", jdiag(f->advice)));
    }
    json_object_set_new(root, "findings", fs_a);
    json_t *va = json_array();
    for (int p = 0; p < MXS_POL_COUNT; p++) {
        const struct mxs_verdict *v = &engine_verdicts(e)[p];
        json_array_append_new(va, json_pack("{s:s, s:s, s:o, s:o, s:o}", "policy", mxs_policy_name(v->policy),
            "outcome", mxs_outcome_name(v->outcome),
            "step", v->step == MXS_STEP_NONE ? json_null() : json_string(mxs_step_name(v->step)),
            "finding", jstr_or_null(v->finding), "words", jdiag(v->words)));
    }
    json_object_set_new(root, "verdict", va);

    json_t *tr = json_array();
    for (size_t i = 0; i < engine_record_count(e); i++) {
        const struct mxs_record *r = engine_record(e, i);
        json_t *o = json_pack("{s:I, s:f, s:s, s:s}", "seq", (json_int_t)r->seq, "t_ms", r->t_us / 1000.0,
                              "step", mxs_step_name(r->step), "kind", mxs_rec_kind_name(r->kind));
        if (rec_is_binary(r->kind)) {
            char *hx = malloc(2 * r->len + 1);
            if (hx) {
                hex_of(r->data, r->len, hx);
                json_object_set_new(o, "hex", json_string(hx));
                free(hx);
            }
        } else {
            char *x = mxs_escape_dup(r->data, r->len, 0);
            json_object_set_new(o, "text", json_string(x ? x : ""));
            free(x);
        }
        json_array_append_new(tr, o);
    }
    json_object_set_new(root, "transcript", tr);
    return root;
}

char *render_json(const struct engine *e)
{
    json_t *root = render_json_tree(e);
    char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return s;
}

int render_save_json(const struct engine *e, const char *path, char *err, size_t errlen)
{
    char *s = render_json(e);
    if (!s) {
        snprintf(err, errlen, "JSON: out of memory");
        return -1;
    }
    size_t n = strlen(s);
    s[n] = 0;
    char *t = realloc(s, n + 2);
    if (t) {
        s = t;
        s[n++] = '\n';
        s[n] = 0;
    }
    int r = savefile_write(path, s, n, err, errlen);
    free(s);
    return r;
}

/* ---- the loader ------------------------------------------------------------ */

static int unhex(const char *s, unsigned char **out, size_t *outlen)
{
    size_t n = strlen(s);
    if (n % 2)
        return -1;
    unsigned char *d = malloc(n / 2 + 1);
    if (!d)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            char c = s[2 * i + k];
            int x = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (x < 0) {
                free(d);
                return -1;
            }
            v = v * 16 + x;
        }
        d[i] = (unsigned char)v;
    }
    *out = d;
    *outlen = n / 2;
    return 0;
}

/* In place: printable ASCII and '\n' stay, anything else is escaped (ASCII). */
static void loaded_plain(char *s, size_t cap)
{
    if (session_diag_text_ok(s, strlen(s)))
        return;
    char *t = malloc(cap);
    if (!t) {
        s[0] = 0;
        return;
    }
    mxs_escape_str(s, t, cap, MXS_ESC_ASCII | MXS_ESC_KEEP_NL);
    memcpy(s, t, cap);
    s[cap - 1] = 0;
    free(t);
}

static const char *jget_str(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

struct engine *engine_load(const char *path, char *err, size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    if (savefile_read(path, LOAD_MAX, &text, &len, err, errlen) != 0) {
        char why[256];
        snprintf(why, sizeof why, "%s", err);
        snprintf(err, errlen, "%s: %s", path, why);
        return NULL;
    }
    struct engine *e = engine_load_buffer(text, len, path, err, errlen);
    free(text);
    return e;
}


/* ---- the facts back (docs/json.md): what the file says is what the loaded
 * session shows; strings were escaped when written, so they are unescaped
 * here (and escaped again, the same way, whenever they are shown). ---- */

static void jraw(json_t *o, const char *k, char *dst, size_t cap)
{
    const char *s = jget_str(o, k);
    dst[0] = 0;
    if (!s || cap == 0)
        return;
    size_t n = mxs_unescape(s, strlen(s), (unsigned char *)dst, cap - 1);
    dst[n < cap ? n : cap - 1] = 0;
}

static long long jint(json_t *o, const char *k, long long dflt)
{
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

static int jbool(json_t *o, const char *k)
{
    return json_is_true(json_object_get(o, k));
}

static int rcode_from(const char *s)
{
    static const char *const n[] = { "ok", "nodata", "nxdomain", "servfail", "timeout", "error" };
    for (int i = 0; s && i < (int)(sizeof n / sizeof n[0]); i++)
        if (!strcmp(s, n[i]))
            return i;
    return MXS_DNS_OK;
}

static int dnssec_from(const char *s)
{
    for (int i = MXS_DNSSEC_UNKNOWN; s && i <= MXS_DNSSEC_BOGUS; i++)
        if (!strcmp(s, mxs_dnssec_name((enum mxs_dnssec)i)))
            return i;
    return MXS_DNSSEC_UNKNOWN;
}

static void load_answer(json_t *o, struct mxs_dns_answer *a)
{
    if (!json_is_object(o))
        return;
    a->rcode = (enum mxs_dns_rcode)rcode_from(jget_str(o, "rcode"));
    a->dnssec = (enum mxs_dnssec)dnssec_from(jget_str(o, "dnssec"));
    jraw(o, "why_bogus", a->why_bogus, sizeof a->why_bogus);
}

static void load_dns(json_t *d, struct mxs_dns_facts *f)
{
    size_t i, j;
    json_t *m, *v;
    if (!json_is_object(d))
        return;
    f->done = jbool(d, "done");
    f->mx_answer.rcode = (enum mxs_dns_rcode)rcode_from(jget_str(d, "mx_rcode"));
    f->mx_answer.dnssec = (enum mxs_dnssec)dnssec_from(jget_str(d, "dnssec"));
    jraw(d, "why_bogus", f->mx_answer.why_bogus, sizeof f->mx_answer.why_bogus);
    f->implicit_mx = jbool(d, "implicit_mx");
    f->null_mx = jbool(d, "null_mx");
    json_array_foreach(json_object_get(d, "mx"), i, m) {
        if (f->n_mx >= MXS_MAX_MX)
            break;
        struct mxs_mx *x = &f->mx[f->n_mx++];
        x->preference = (uint16_t)jint(m, "preference", 0);
        jraw(m, "host", x->host, sizeof x->host);
        json_array_foreach(json_object_get(m, "addresses"), j, v) {
            if (x->n_addr >= MXS_MAX_ADDR)
                break;
            x->addr[x->n_addr].family = (int)jint(v, "family", 4);
            jraw(v, "address", x->addr[x->n_addr].text, sizeof x->addr[x->n_addr].text);
            x->n_addr++;
        }
        load_answer(json_object_get(m, "a"), &x->a);
        load_answer(json_object_get(m, "aaaa"), &x->aaaa);
        json_t *tl = json_object_get(m, "tlsa");
        load_answer(tl, &x->tlsa);
        json_array_foreach(json_object_get(tl, "records"), j, v) {
            if (x->n_tlsa >= MXS_MAX_TLSA)
                break;
            struct mxs_tlsa *r = &x->tlsa_rr[x->n_tlsa];
            unsigned char *b = NULL;
            size_t bl = 0;
            const char *hx = jget_str(v, "data");
            if (!hx || unhex(hx, &b, &bl) != 0)
                continue;
            r->usage = (uint8_t)jint(v, "usage", 0);
            r->selector = (uint8_t)jint(v, "selector", 0);
            r->mtype = (uint8_t)jint(v, "mtype", 0);
            r->len = bl < sizeof r->data ? bl : sizeof r->data;
            memcpy(r->data, b, r->len);
            r->truncated = jbool(v, "truncated");
            free(b);
            x->n_tlsa++;
        }
    }
    json_t *rc = json_object_get(d, "resolver_check");
    if (json_is_object(rc)) {
        const char *res = jget_str(rc, "result");
        f->resolver_check = res && !strcmp(res, "validates") ? MXS_RESCHK_VALIDATES : MXS_RESCHK_BROKEN;
        jraw(rc, "anchor_zone", f->anchor_zone, sizeof f->anchor_zone);
        jraw(rc, "why", f->resolver_why, sizeof f->resolver_why);
    }
}

static void load_conn(json_t *c, struct mxs_connect_facts *f)
{
    if (!json_is_object(c))
        return;
    f->done = 1;
    f->mx_index = (int)jint(c, "mx", 0);
    jraw(c, "address", f->addr.text, sizeof f->addr.text);
    f->addr.family = (int)jint(c, "family", 0);
    f->port = (uint16_t)jint(c, "port", 0);
    const char *er = jget_str(c, "error");
    f->error = MXS_CONN_OK;
    for (int i = MXS_CONN_REFUSED; er && i <= MXS_CONN_OTHER; i++)
        if (mxs_conn_error_name((enum mxs_conn_error)i) &&
            !strcmp(er, mxs_conn_error_name((enum mxs_conn_error)i)))
            f->error = (enum mxs_conn_error)i;
    f->err_no = (int)jint(c, "errno", 0);
    f->attempts = (int)jint(c, "attempts", 0);
    f->elapsed_ms = jint(c, "elapsed_ms", 0);
}

static void load_reply(json_t *o, struct mxs_reply *r)
{
    size_t i, o_len = 0;
    json_t *l;
    if (!json_is_object(o))
        return;
    r->code = (int)jint(o, "code", 0);
    jraw(o, "enhanced", r->enhanced, sizeof r->enhanced);
    r->truncated = jbool(o, "truncated");
    json_array_foreach(json_object_get(o, "lines"), i, l) {
        if (!json_is_string(l))
            continue;
        const char *s = json_string_value(l);
        if (o_len && o_len + 1 < sizeof r->text)
            r->text[o_len++] = '\n';
        if (o_len + 1 >= sizeof r->text)
            break;
        o_len += mxs_unescape(s, strlen(s), (unsigned char *)r->text + o_len,
                              sizeof r->text - 1 - o_len);
        r->n_lines++;
    }
    r->text[o_len < sizeof r->text ? o_len : sizeof r->text - 1] = 0;
}

static void load_caps(json_t *a, struct mxs_caps *c)
{
    size_t i;
    json_t *v;
    c->size = -1;
    json_array_foreach(a, i, v) {
        if (c->n >= MXS_MAX_CAPS || !json_is_string(v))
            continue;
        char raw[200];
        size_t n = mxs_unescape(json_string_value(v), strlen(json_string_value(v)),
                                (unsigned char *)raw, sizeof raw - 1);
        raw[n] = 0;
        char *sp = strchr(raw, ' ');
        if (sp)
            *sp++ = 0;
        snprintf(c->name[c->n], sizeof c->name[c->n], "%.31s", raw);
        snprintf(c->args[c->n], sizeof c->args[c->n], "%.95s", sp ? sp : "");
        if (!strcmp(raw, "STARTTLS")) c->starttls = 1;
        if (!strcmp(raw, "PIPELINING")) c->pipelining = 1;
        if (!strcmp(raw, "CHUNKING")) c->chunking = 1;
        if (!strcmp(raw, "SMTPUTF8")) c->smtputf8 = 1;
        if (!strcmp(raw, "REQUIRETLS")) c->requiretls = 1;
        if (!strcmp(raw, "8BITMIME")) c->eightbitmime = 1;
        if (!strcmp(raw, "SIZE") && sp) c->size = strtol(sp, NULL, 10);
        c->n++;
    }
}

static void load_smtp(json_t *s, struct mxs_smtp_facts *m)
{
    if (!json_is_object(s))
        return;
    json_t *banner = json_object_get(s, "banner"), *ehlo = json_object_get(s, "ehlo");
    load_reply(banner, &m->banner);
    m->banner_ms = jint(banner, "elapsed_ms", 0);
    m->used_helo = jbool(ehlo, "used_helo");
    if (m->used_helo) {
        load_reply(ehlo, &m->helo);
        load_reply(json_object_get(ehlo, "ehlo_reply"), &m->ehlo);
    } else {
        load_reply(ehlo, &m->ehlo);
    }
    load_caps(json_object_get(s, "capabilities"), &m->caps);
    m->caps.masked = jbool(s, "capabilities_masked");
    m->caps.starttls = jbool(s, "starttls_offered");
    json_t *st = json_object_get(s, "starttls");
    load_reply(st, &m->starttls);
    m->leftover_plain = (size_t)jint(st, "leftover_bytes", 0);
    load_reply(json_object_get(s, "ehlo2"), &m->ehlo2);
    load_caps(json_object_get(s, "capabilities2"), &m->caps2);
    m->caps_changed = jbool(s, "capabilities_changed");
}

/* The TLS facts beyond version, cipher and group (loaded with them). */
static void load_tls_rest(json_t *t, struct mxs_tls_facts *f)
{
    if (!json_is_object(t))
        return;
    f->attempted = jbool(t, "attempted");
    f->ok = jbool(t, "ok");
    const char *shv = jget_str(t, "server_hello_version");
    f->server_hello_version = !shv ? 0 : !strcmp(shv, "TLSv1.0") ? 10 : !strcmp(shv, "TLSv1.1") ? 11
                              : !strcmp(shv, "TLSv1.2") ? 12 : !strcmp(shv, "TLSv1.3") ? 13 : 0;
    f->version = f->ok ? f->server_hello_version : 0;
    jraw(t, "alert_received", f->alert_name, sizeof f->alert_name);
    f->alert_received = f->alert_name[0] ? 0 : -1;
    for (int a = 0; f->alert_name[0] && a < 256; a++)
        if (tlsrec_alert_name(a) && !strcmp(tlsrec_alert_name(a), f->alert_name))
            f->alert_received = a;
    jraw(t, "alert_sent", f->alert_sent_name, sizeof f->alert_sent_name);
    f->alert_sent = f->alert_sent_name[0] ? 0 : -1;
    for (int a = 0; f->alert_sent_name[0] && a < 256; a++)
        if (tlsrec_alert_name(a) && !strcmp(tlsrec_alert_name(a), f->alert_sent_name))
            f->alert_sent = a;
    f->cert_requested = jbool(t, "client_cert_requested");
    jraw(t, "error", f->error, sizeof f->error);
    jraw(t, "sni", f->sni_sent, sizeof f->sni_sent);
    f->handshake_ms = jint(t, "elapsed_ms", 0);
    f->bytes_in = (size_t)jint(t, "bytes_in", 0);
    f->bytes_out = (size_t)jint(t, "bytes_out", 0);
}

static void load_verification(json_t *root, struct mxs_chain_facts *ch)
{
    json_t *v = json_object_get(root, "verification");
    size_t i;
    json_t *f;
    if (!json_is_object(v))
        return;
    ch->trusted = jbool(v, "trusted");
    jraw(v, "name_checked", ch->name_checked, sizeof ch->name_checked);
    ch->name_matches_mx = jbool(v, "name_matches_mx");
    ch->name_matches_domain = jbool(v, "name_matches_domain");
    ch->verify_result = 0;
    json_array_foreach(json_object_get(v, "flags"), i, f)
        if (json_is_string(f))
            ch->verify_result |= mxs_verify_flag_from_name(json_string_value(f),
                                                           strlen(json_string_value(f)));
    json_t *fm = json_object_get(v, "fingerprint_match");
    ch->fp_expected = json_is_boolean(fm);
    ch->fp_match = json_is_true(fm);
    ch->n_total = (int)jint(v, "certificates_sent", ch->n);
    json_t *dn = json_object_get(v, "dane");
    if (json_is_object(dn)) {
        ch->dane_checked = 1;
        ch->dane_usable = (int)jint(dn, "usable_records", 0);
        ch->dane_match = jbool(dn, "match");
        ch->dane_match_depth = (int)jint(dn, "match_depth", -1);
        ch->dane_match_rr = (int)jint(dn, "match_record", -1);
        jraw(dn, "detail", ch->dane_detail, sizeof ch->dane_detail);
    }
    json_t *alt = json_object_get(root, "second_certificate");
    if (json_is_object(alt)) {
        ch->alt_probed = 1;
        ch->alt_ok = jbool(alt, "completed");
        jraw(alt, "error", ch->alt_error, sizeof ch->alt_error);
    }
}

/* The settings that shape what is shown: the target's, and every row of
 * the "settings" object that can be set back (shown values such as
 * "x (host)" or "auto (25)" cannot, and need not: the target carries them). */
static void load_settings(json_t *root, struct mxs_settings *s)
{
    char err[160], v[1100];
    json_t *sets = json_object_get(root, "settings"), *val;
    const char *k;
    json_object_foreach(sets, k, val) {
        if (!json_is_string(val) || !strcmp(k, "target") || !strcmp(k, "host"))
            continue;
        size_t n = mxs_unescape(json_string_value(val), strlen(json_string_value(val)),
                                (unsigned char *)v, sizeof v - 1);
        v[n] = 0;
        const struct mxs_setting_def *d = mxs_setting_find(k);
        if (!d || (d->empty && !strcmp(v, d->empty)))
            continue;           /* "(system)", "none": the default, shown */
        mxs_settings_set(s, k, v, err, sizeof err);
    }
    json_t *target = json_object_get(root, "target");
    jraw(target, "connect", s->connect_addr, sizeof s->connect_addr);
    jraw(target, "ehlo_name", v, sizeof v);
    if (v[0])
        jraw(target, "ehlo_name", s->ehlo_name, sizeof s->ehlo_name);
    s->tls_on_connect = jbool(target, "tls_on_connect");
    /* Files written before "settings" existed: the SNI sent tells. */
    json_t *sni = json_is_object(sets) ? NULL : json_object_get(target, "sni");
    if (json_is_null(sni)) {
        s->sni_mode = MXS_SNI_NONE;
    } else if (json_is_string(sni)) {
        s->sni_mode = MXS_SNI_CUSTOM;
        jraw(target, "sni", s->sni, sizeof s->sni);
    }
    const char *fp = jget_str(json_object_get(root, "verification"), "expected_fingerprint");
    if (fp)
        mxs_settings_set(s, "expect-fingerprint", fp, err, sizeof err);
}

/* Records back as they were; CERT records are decoded again into ch (the
 * certificates of the session, as of its start). */
static void load_records(struct engine *e, json_t *tr, struct mxs_chain_facts *ch)
{
    size_t i;
    json_t *v;
    json_array_foreach(tr, i, v) {
        int k = mxs_rec_kind_from_name(jget_str(v, "kind"));
        const char *sn = jget_str(v, "step");
        int si = sn ? mxs_step_from_name(sn) : -1;
        if (k < 0)
            continue;
        unsigned char *d = NULL;
        size_t dl = 0;
        const char *hx = jget_str(v, "hex"), *tx = jget_str(v, "text");
        if (hx) {
            if (unhex(hx, &d, &dl) != 0)
                continue;
        } else if (tx) {
            /* Written escaped: the raw bytes back, escaped again (the same
             * way) wherever they are shown. */
            size_t tl = strlen(tx);
            d = malloc(tl + 1);
            dl = d ? mxs_unescape(tx, tl, d, tl) : 0;
        }
        if (!d)
            continue;
        json_t *tm = json_object_get(v, "t_ms");
        engine_replay_record(e, (enum mxs_rec_kind)k, si >= 0 ? (enum mxs_step)si : MXS_STEP_NONE, d, dl,
                             json_is_number(tm) ? (int64_t)(json_number_value(tm) * 1000.0 + 0.5) : 0);
        if (k == MXS_REC_CERT && ch->n < MXS_MAX_CHAIN) {
            char xerr[128];
            struct mxs_cert *c = &ch->cert[ch->n];
            if (x509view_decode(d, dl, engine_started_at(e), c, xerr, sizeof xerr) == 0) {
                c->depth = ch->n;
                ch->n++;
            }
        }
        free(d);
    }
}

/* Findings as they were (the diagnosis may have changed since: a replay
 * shows what the operator saw); returns how many. */
static int load_findings(json_t *fa, struct mxs_finding *out)
{
    int n = 0;
    size_t i;
    json_t *v;
    json_array_foreach(fa, i, v) {
        if (n >= MXS_MAX_FINDINGS)
            break;
        struct mxs_finding *f = &out[n];
        memset(f, 0, sizeof *f);
        const char *id = jget_str(v, "id");
        if (!id)
            continue;
        snprintf(f->id, sizeof f->id, "%s", id);
        int sv = mxs_severity_from_name(jget_str(v, "severity"));
        f->severity = sv < 0 ? MXS_SEV_INFO : (enum mxs_severity)sv;
        int si = mxs_step_from_name(jget_str(v, "step") ? jget_str(v, "step") : "");
        f->step = si < 0 ? MXS_STEP_NONE : (enum mxs_step)si;
        json_t *cd = json_object_get(v, "cert_depth");
        f->cert_depth = json_is_integer(cd) ? (int)json_integer_value(cd) : -1;
        const char *t;
        if ((t = jget_str(v, "message"))) snprintf(f->message, sizeof f->message, "%s", t);
        if ((t = jget_str(v, "evidence"))) snprintf(f->evidence, sizeof f->evidence, "%s", t);
        if ((t = jget_str(v, "advice"))) snprintf(f->advice, sizeof f->advice, "%s", t);
        /* The file is hostile too: text printed as it is becomes plain
         * visible ASCII here, once. */
        loaded_plain(f->id, sizeof f->id);
        loaded_plain(f->message, sizeof f->message);
        loaded_plain(f->evidence, sizeof f->evidence);
        loaded_plain(f->advice, sizeof f->advice);
        n++;
    }
    return n;
}

/* Verdicts of the file over vd (policies it does not name keep theirs). */
static void load_verdicts(json_t *va, struct mxs_verdict *vd)
{
    size_t i;
    json_t *v;
    json_array_foreach(va, i, v) {
        int p = mxs_policy_from_name(jget_str(v, "policy"));
        int o = mxs_outcome_from_name(jget_str(v, "outcome"));
        if (p < 0 || o < 0)
            continue;
        struct mxs_verdict *w = &vd[p];
        w->policy = (enum mxs_policy)p;
        w->outcome = (enum mxs_outcome)o;
        int si = mxs_step_from_name(jget_str(v, "step") ? jget_str(v, "step") : "");
        w->step = si < 0 ? MXS_STEP_NONE : (enum mxs_step)si;
        const char *t;
        w->finding[0] = 0;
        if ((t = jget_str(v, "finding"))) snprintf(w->finding, sizeof w->finding, "%s", t);
        if ((t = jget_str(v, "words"))) snprintf(w->words, sizeof w->words, "%s", t);
    }
    for (int p = 0; p < MXS_POL_COUNT; p++) {
        loaded_plain(vd[p].finding, sizeof vd[p].finding);
        loaded_plain(vd[p].words, sizeof vd[p].words);
    }
}

struct engine *engine_load_buffer(const char *text, size_t len, const char *path, char *err,
                                  size_t errlen)
{
    /* A text transcript (save FILE) loads too: session_text.c. */
    if (len >= 10 && !memcmp(text, "# mxscope ", 10))
        return engine_load_text(text, len, path, err, errlen);
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, errlen, "%s: not a mxscope JSON session (line %d: %s)", path, je.line, je.text);
        return NULL;
    }
    struct engine *e = NULL;
    struct mxs_chain_facts *ch = calloc(1, sizeof *ch);
    struct mxs_finding *fs = malloc(MXS_MAX_FINDINGS * sizeof *fs);
    json_t *schema = json_object_get(root, "schema");
    json_t *steps = json_object_get(root, "steps");
    json_t *tr = json_object_get(root, "transcript");
    if (!json_is_object(root) || !json_is_integer(schema) || json_integer_value(schema) != 1 ||
        !json_is_array(steps) || !json_is_array(tr)) {
        snprintf(err, errlen, "%s: not a mxscope session of schema 1 (save it with 'save json')", path);
        goto out;
    }
    struct mxs_settings s;
    mxs_settings_init(&s);
    json_t *target = json_object_get(root, "target");
    const char *in = jget_str(target, "input");
    if (in)
        snprintf(s.target, sizeof s.target, "%s", in);
    const char *kind = jget_str(target, "kind");
    s.target_is_host = kind && !strcmp(kind, "host");
    load_settings(root, &s);
    json_t *port = json_object_get(target, "port");
    if (json_is_integer(port) && json_integer_value(port) > 0 && json_integer_value(port) < 65536)
        s.port = (uint16_t)json_integer_value(port);
    time_t started = time(NULL);
    const char *st_text = jget_str(root, "started");
    if (st_text) {
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        if (strptime(st_text, "%Y-%m-%dT%H:%M:%SZ", &tm))
            started = timegm(&tm);
    }
    if (!ch || !fs || !(e = engine_replay_new(&s, started))) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    size_t i;
    json_t *v;
    json_array_foreach(steps, i, v) {
        int si = mxs_step_from_name(jget_str(v, "step") ? jget_str(v, "step") : "");
        int st = mxs_step_state_from_name(jget_str(v, "status"));
        if (si < 0 || st < 0)
            continue;
        json_t *el = json_object_get(v, "elapsed_ms");
        engine_replay_step(e, (enum mxs_step)si, (enum mxs_step_state)st,
                           json_is_integer(el) ? json_integer_value(el) : -1, jget_str(v, "detail"));
    }
    load_records(e, tr, ch);
    /* Verify flags as they were judged then. */
    json_t *chain = json_object_get(root, "chain");
    json_array_foreach(chain, i, v) {
        if ((int)i >= ch->n)
            break;
        size_t j;
        json_t *f;
        /* Days left as judged then, not as of the file's start second. */
        json_t *dl = json_object_get(v, "days_left");
        if (json_is_integer(dl))
            ch->cert[i].days_left = (int)json_integer_value(dl);
        json_array_foreach(json_object_get(v, "verify_flags"), j, f)
            if (json_is_string(f))
                ch->cert[i].verify_flags |= mxs_verify_flag_from_name(json_string_value(f),
                                                                      strlen(json_string_value(f)));
    }
    struct mxs_tls_facts tls = *engine_tls(e);
    json_t *tj = json_object_get(root, "tls");
    load_tls_rest(tj, &tls);
    load_verification(root, ch);
    if (json_is_object(tj)) {
        const char *ver = jget_str(tj, "version"), *ci = jget_str(tj, "cipher"), *gr = jget_str(tj, "group");
        tls.ok = ver != NULL;
        if (ver) snprintf(tls.version_name, sizeof tls.version_name, "%s", ver);
        if (ci) snprintf(tls.cipher, sizeof tls.cipher, "%s", ci);
        if (gr) snprintf(tls.group, sizeof tls.group, "%s", gr);
        json_t *vers = json_object_get(tj, "versions");
        static const char *const vnames[4] = { "1.0", "1.1", "1.2", "1.3" };
        for (int k = 0; k < 4 && json_is_object(vers); k++) {
            const char *a = jget_str(vers, vnames[k]);
            tls.version_accepted[k] = !a ? 0 : !strcmp(a, "accepted") ? 1 : !strcmp(a, "refused") ? -1 : 0;
        }
        tls.legacy_probed = json_is_true(json_object_get(tj, "legacy_probed"));
    }
    loaded_plain(tls.version_name, sizeof tls.version_name);
    loaded_plain(tls.cipher, sizeof tls.cipher);
    loaded_plain(tls.group, sizeof tls.group);
    struct mxs_dns_facts *dns = calloc(1, sizeof *dns);
    struct mxs_connect_facts conn = {0};
    struct mxs_smtp_facts *smtp = calloc(1, sizeof *smtp);
    if (!dns || !smtp) {
        free(dns);
        free(smtp);
        engine_free(e);
        e = NULL;
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    load_dns(json_object_get(root, "dns"), dns);
    load_conn(json_object_get(root, "connect"), &conn);
    load_smtp(json_object_get(root, "smtp"), smtp);
    struct engine_replay_facts facts = { .set = &s, .dns = dns, .conn = &conn, .smtp = smtp,
                                         .tls = &tls, .chain = ch };
    engine_replay_facts(e, &facts);
    free(dns);
    free(smtp);
    int nf = load_findings(json_object_get(root, "findings"), fs);
    struct mxs_verdict vd[MXS_POL_COUNT];
    memcpy(vd, engine_verdicts(e), sizeof vd);
    load_verdicts(json_object_get(root, "verdict"), vd);
    engine_replay_diagnosis(e, fs, nf, vd);
    engine_replay_finish(e);
out:
    free(fs);
    free(ch);
    json_decref(root);
    return e;
}
