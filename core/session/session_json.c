/*
 * session_json.c - a session as the JSON document of docs/json.md (the
 * writer: `save json`, --save-json, --json; its loader is session_json_load.c).
 * Part of the session module (core/session).  The writer reads the engine
 * through core.h and probe/engine_replay.h.  Names of steps, states, kinds,
 * severities, policies and outcomes come from names.c.
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
    if (!mxs_is_escaped_text(s, strlen(s)))
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
    return json_pack("{s:i, s:o, s:o, s:b, s:i, s:I}", "code", r->code, "enhanced",
                     jstr_or_null(r->enhanced), "lines", jreply_lines(r), "truncated", r->truncated,
                     "line_count", r->n_lines, "bytes", (json_int_t)r->bytes);
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
    return json_pack("{s:o, s:s, s:o, s:I, s:i}", "rcode", jrcode(a->rcode), "dnssec",
                     mxs_dnssec_name(a->dnssec), "why_bogus", jstr_or_null(a->why_bogus),
                     "ms", (json_int_t)a->ms, "bytes", a->bytes);
}

/* The DNS facts of hostile answers (dns.h): skipped MX targets, CNAME chains. */
static void jdns_hostile(json_t *dns, json_t *mxs, const struct mxs_dns_facts *d)
{
    json_t *inv = json_array();
    for (int i = 0; i < d->n_mx_invalid && i < MXS_MAX_MX_INVALID; i++) {
        const struct mxs_mx_invalid *x = &d->mx_invalid[i];
        char *raw = mxs_escape_dup(x->raw, (size_t)(x->raw_len > 0 ? x->raw_len : 0), 0);
        json_array_append_new(inv, json_pack("{s:i, s:i, s:o, s:s, s:o}", "record", x->record,
            "preference", x->preference, "host", jstr(x->host), "raw", raw ? raw : "",
            "why", jstr(x->why)));
        free(raw);
    }
    json_object_set_new(dns, "mx_ms", json_integer(d->mx_answer.ms));
    json_object_set_new(dns, "mx_bytes", json_integer(d->mx_answer.bytes));
    json_object_set_new(dns, "mx_records", json_integer(d->mx_records));
    json_object_set_new(dns, "mx_not_kept", json_integer(d->mx_not_kept));
    json_object_set_new(dns, "mx_invalid_count", json_integer(d->n_mx_invalid));
    json_object_set_new(dns, "mx_invalid", inv);
    for (int i = 0; i < d->n_mx && i < (int)json_array_size(mxs); i++) {
        const struct mxs_cname *c = &d->mx[i].cname;
        json_t *m = json_array_get(mxs, (size_t)i);
        json_object_set_new(m, "literal", json_boolean(d->mx[i].literal));
        json_object_set_new(m, "cname", c->hops == 0 ? json_null()
            : json_pack("{s:i, s:b, s:b, s:o, s:o}", "hops", c->hops, "loop", c->loop,
                        "too_long", c->too_long, "canonical", jstr(c->canon),
                        "chain", jstr(c->chain)));
    }
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

/* A certificate name (raw, core.h) escaped once, without the cut marker:
 * *_len and *_truncated say what is missing. */
static json_t *jname(const char *field, size_t cap, size_t len)
{
    char *x = mxs_escape_name_dup(field, cap, len, 0);
    json_t *j = json_string(x ? x : "");
    free(x);
    return j ? j : json_null();
}

/* The U-label form of an IDN name, null for any other: the text
 * mxs_escape_name() puts in parentheses after the name. */
static json_t *jname_unicode(const char *field, size_t cap, size_t len)
{
    json_t *j = json_null();
    size_t plain = mxs_escape_name(field, cap, len, NULL, 0, 0);
    char *x = mxs_escape_name_dup(field, cap, len, MXS_ESC_IDN);
    size_t n = x ? strlen(x) : 0;
    if (x && n > plain + 3 && !memcmp(x + plain, " (", 2) && x[n - 1] == ')') {
        x[n - 1] = 0;
        j = json_string(x + plain + 2);
    }
    free(x);
    return j ? j : json_null();
}

/* The whole length of a name in bytes (len 0: the field is a C string). */
static size_t name_len(const char *field, size_t cap, size_t len)
{
    return len ? len : mxs_name_stored(field, cap, len);
}

static void jcert_names(json_t *j, const struct mxs_cert *c)
{
    static const char *const key[3] = { "subject", "issuer", "cn" };
    const char *f[3] = { c->subject, c->issuer, c->cn };
    size_t cap[3] = { sizeof c->subject, sizeof c->issuer, sizeof c->cn };
    size_t len[3] = { c->subject_len, c->issuer_len, c->cn_len };
    char k[40];
    for (int i = 0; i < 3; i++) {
        size_t whole = name_len(f[i], cap[i], len[i]);
        json_object_set_new(j, key[i], jname(f[i], cap[i], len[i]));
        snprintf(k, sizeof k, "%s_len", key[i]);
        json_object_set_new(j, k, json_integer((json_int_t)whole));
        snprintf(k, sizeof k, "%s_truncated", key[i]);
        json_object_set_new(j, k, json_boolean(whole > mxs_name_stored(f[i], cap[i], len[i])));
    }
    json_object_set_new(j, "cn_unicode", jname_unicode(MXS_CERT_NAME(c->cn, c->cn_len)));
}

/* TLSA records judged one by one against a chain (ours, or the second
 * certificate's): verification.dane.records, second_certificate.dane.records. */
static json_t *jdane_records(const struct mxs_dane_rr *rr, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n && i < MXS_MAX_TLSA; i++) {
        const struct mxs_dane_rr *r = &rr[i];
        json_array_append_new(a, json_pack("{s:i, s:b, s:o, s:b, s:o}", "record", i,
            "usable", r->usable, "match_depth", r->match_depth >= 0 ? json_integer(r->match_depth)
            : json_null(), "authenticates", r->ok, "why", jstr_or_null(r->why)));
    }
    return a;
}

static json_t *jcert(const struct mxs_cert *c)
{
    char nb[40], na[40];
    session_iso_time((time_t)c->not_before, nb, sizeof nb);
    session_iso_time((time_t)c->not_after, na, sizeof na);
    json_t *san = json_array(), *san_len = json_array(), *san_u = json_array();
    for (int i = 0; i < c->n_san; i++) {
        json_array_append_new(san, jname(MXS_CERT_NAME(c->san[i], c->san_len[i])));
        json_array_append_new(san_len, json_integer((json_int_t)name_len(
            MXS_CERT_NAME(c->san[i], c->san_len[i]))));
        json_array_append_new(san_u, jname_unicode(MXS_CERT_NAME(c->san[i], c->san_len[i])));
    }
    json_t *eku = json_array();
    if (c->eku & MXS_EKU_SERVER) json_array_append_new(eku, json_string("serverAuth"));
    if (c->eku & MXS_EKU_CLIENT) json_array_append_new(eku, json_string("clientAuth"));
    if (c->eku & MXS_EKU_OTHER) json_array_append_new(eku, json_string("other"));
    char key[64];
    snprintf(key, sizeof key, "%s %d", c->key_type, c->key_bits);
    json_t *j = json_object();
    json_object_set_new(j, "depth", json_integer(c->depth));
    jcert_names(j, c);
    json_object_set_new(j, "san", san);
    json_object_set_new(j, "san_len", san_len);
    json_object_set_new(j, "san_unicode", san_u);
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
        /* RFC 7672 2.2.2: where the records came from (the alias' expanded name?) */
        json_object_set_new(tl, "name", jstr_or_null(m->tlsa_name));
        json_object_set_new(tl, "expanded", json_boolean(m->tlsa_expanded));
        json_array_append_new(mxs, json_pack("{s:i, s:o, s:o, s:o, s:o, s:o}", "preference", m->preference,
            "host", jstr(m->host), "addresses", addrs, "a", jdnsans(&m->a), "aaaa", jdnsans(&m->aaaa),
            "tlsa", tl));
    }
    json_object_set_new(root, "dns", json_pack("{s:o, s:b, s:o, s:s, s:o, s:b, s:b, s:o, s:b}",
        "resolver", jstr_or_null(set->resolver), "done", d->done,
        "mx_rcode", jrcode(d->mx_answer.rcode), "dnssec", mxs_dnssec_name(d->mx_answer.dnssec),
        "why_bogus", jstr_or_null(d->mx_answer.why_bogus), "implicit_mx", d->implicit_mx,
        "null_mx", d->null_mx, "mx", mxs, "pinned", set->connect_addr[0] != 0));
    jdns_hostile(json_object_get(root, "dns"), mxs, d);
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
    json_object_set_new(json_object_get(root, "connect"), "local_address", jstr_or_null(c->local_addr));

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
    json_object_set_new(json_object_get(root, "tls"), "certificate_message_bytes",
                        t->cert_msg_bytes > 0 ? json_integer((json_int_t)t->cert_msg_bytes) : json_null());
    json_object_set_new(json_object_get(root, "tls"), "refused_certificate",
                        t->refused ? json_integer(t->refused_cert) : json_null());
    json_object_set_new(json_object_get(root, "tls"), "refused_san_entry",
                        t->refused && t->refused_san ? json_integer(t->refused_san_entry)
                                                             : json_null());
    json_object_set_new(json_object_get(root, "tls"), "refused_san_length",
                        t->refused && t->refused_san ? json_integer(t->refused_san_len)
                                                             : json_null());
    json_object_set_new(json_object_get(root, "tls"), "certificate_message_limit",
                        t->cert_msg_limit > 0 ? json_integer((json_int_t)t->cert_msg_limit) : json_null());

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
    json_object_set_new(json_object_get(root, "tls"), "pss_retry", json_boolean(t->pss_retry));
    json_object_set_new(json_object_get(root, "tls"), "key_update", json_boolean(t->key_update));
    json_object_set_new(json_object_get(root, "tls"), "key_update_retry",
                        t->key_update_retry > 0 ? json_string("completed")
                        : t->key_update_retry < 0 ? json_string("failed") : json_null());

    const struct mxs_chain_facts *ch = engine_chain(e);
    /* Dual certificates: the RSA-only handshake's leaf when it is another
     * certificate (null when that handshake did not run), and the TLSA
     * records against its chain (null when there were none to match). */
    json_t *alt = json_null();
    if (ch->alt_probed) {
        alt = json_object();
        json_object_set_new(alt, "completed", json_boolean(ch->alt_ok));
        json_object_set_new(alt, "error", jstr_or_null(ch->alt_error));
        json_object_set_new(alt, "leaf", ch->alt_present ? jcert(&ch->alt_leaf) : json_null());
        json_object_set_new(alt, "name_matches_mx", ch->alt_present ? json_boolean(ch->alt_name_matches)
                                                                     : json_null());
        json_object_set_new(alt, "dane", ch->alt_dane_checked ? json_pack("{s:b, s:o, s:o}",
            "match", ch->alt_dane_match, "match_record", ch->alt_dane_match ?
            json_integer(ch->alt_dane_match_rr) : json_null(), "records",
            jdane_records(ch->alt_dane_rr, ch->n_alt_dane_rr)) : json_null());
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
    json_object_set_new(json_object_get(root, "verification"), "path_length",
                        ch->path_len > 0 ? json_integer(ch->path_len) : json_null());
    {
        char ca[40] = "";
        if (ch->checked_at)
            session_iso_time((time_t)ch->checked_at, ca, sizeof ca);
        json_object_set_new(json_object_get(root, "verification"), "checked_at", jstr_or_null(ca));
    }

    json_object_set_new(json_object_get(root, "verification"), "dane",
        ch->dane_checked ? json_pack("{s:i, s:b, s:o, s:o, s:o}", "usable_records", ch->dane_usable,
                                     "match", ch->dane_match,
                                     "match_depth", ch->dane_match ? json_integer(ch->dane_match_depth) : json_null(),
                                     "match_record", ch->dane_match ? json_integer(ch->dane_match_rr) : json_null(),
                                     "detail", jstr_or_null(ch->dane_detail))
                         : json_null());
    if (ch->dane_checked)   /* each TLSA record on its own: the certificate it matched */
        json_object_set_new(json_object_get(json_object_get(root, "verification"), "dane"),
                            "records", jdane_records(ch->dane_rr, ch->n_dane_rr));

    json_object_set_new(root, "policy", session_json_policy(e));

    json_t *fs_a = json_array();
    int n_findings;
    const struct mxs_finding *findings = engine_findings(e, &n_findings);
    for (int i = 0; i < n_findings; i++) {
        const struct mxs_finding *f = &findings[i];
        const char *rt = mxs_tlsrpt_result_type(f);
        json_array_append_new(fs_a, json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "id", f->id,
            "severity", mxs_severity_name(f->severity), "step", mxs_step_name(f->step),
            "cert_depth", f->cert_depth >= 0 ? json_integer(f->cert_depth) : json_null(),
            "tlsrpt_result_type", rt ? json_string(rt) : json_null(),
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

