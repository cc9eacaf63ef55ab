/*
 * session_json_load.c - the JSON document of docs/json.md back into a
 * read-only session (--load, `load FILE`): every fact the writer
 * (session_json.c) put in.  The hostile file is parsed into local facts,
 * then a read-only engine is filled through the replay API
 * (probe/engine_replay.h): the loader never writes engine state itself.
 * Strings were escaped when written: they are unescaped here and escaped
 * the same way whenever shown, so a loaded session renders as the live one.
 * Part of the session module (core/session).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
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

/* In place: diagnosis text as diag.h defines it (printable ASCII, '\n', a
 * name's UTF-8) stays, anything else is escaped. */
static void loaded_plain(char *s, size_t cap)
{
    if (mxs_is_escaped_text(s, strlen(s)))
        return;
    char *t = malloc(cap);
    if (!t) {
        s[0] = 0;
        return;
    }
    mxs_escape_str(s, t, cap, MXS_ESC_KEEP_NL);
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
    a->ms = jint(o, "ms", 0);
    a->bytes = (int)jint(o, "bytes", 0);
}

void session_json_load_dns(json_t *d, struct mxs_dns_facts *f)
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
        x->literal = jbool(m, "literal");
        json_t *cn = json_object_get(m, "cname");
        if (json_is_object(cn)) {
            x->cname.hops = (int)jint(cn, "hops", 0);
            x->cname.loop = jbool(cn, "loop");
            x->cname.too_long = jbool(cn, "too_long");
            jraw(cn, "canonical", x->cname.canon, sizeof x->cname.canon);
            jraw(cn, "chain", x->cname.chain, sizeof x->cname.chain);
        }
        load_answer(json_object_get(m, "a"), &x->a);
        load_answer(json_object_get(m, "aaaa"), &x->aaaa);
        json_t *tl = json_object_get(m, "tlsa");
        load_answer(tl, &x->tlsa);
        jraw(tl, "name", x->tlsa_name, sizeof x->tlsa_name);
        x->tlsa_expanded = jbool(tl, "expanded");
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
    f->mx_answer.ms = jint(d, "mx_ms", 0);
    f->mx_answer.bytes = (int)jint(d, "mx_bytes", 0);
    f->mx_records = (int)jint(d, "mx_records", 0);
    f->mx_not_kept = (int)jint(d, "mx_not_kept", 0);
    f->n_mx_invalid = (int)jint(d, "mx_invalid_count", 0);
    json_array_foreach(json_object_get(d, "mx_invalid"), i, m) {
        if (i >= MXS_MAX_MX_INVALID)
            break;
        struct mxs_mx_invalid *x = &f->mx_invalid[i];
        x->record = (int)jint(m, "record", 0);
        x->preference = (uint16_t)jint(m, "preference", 0);
        jraw(m, "host", x->host, sizeof x->host);
        jraw(m, "why", x->why, sizeof x->why);
        const char *raw = jget_str(m, "raw");
        x->raw_len = raw ? (int)mxs_unescape(raw, strlen(raw), (unsigned char *)x->raw,
                                             sizeof x->raw - 1) : 0;
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
    jraw(c, "local_address", f->local_addr, sizeof f->local_addr);
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
    /* Every line received, kept or not (files before line_count: the kept). */
    long long lc = jint(o, "line_count", 0);
    if (lc > r->n_lines && lc <= INT_MAX)
        r->n_lines = (int)lc;
    long long by = jint(o, "bytes", 0);
    r->bytes = by > 0 ? (size_t)by : 0;
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
    f->cert_msg_bytes = (size_t)jint(t, "certificate_message_bytes", 0);
    f->cert_msg_limit = (size_t)jint(t, "certificate_message_limit", 0);
    f->refused = json_is_integer(json_object_get(t, "refused_certificate"));
    f->refused_cert = (int)jint(t, "refused_certificate", 0);
    f->refused_san = json_is_integer(json_object_get(t, "refused_san_entry"));
    f->refused_san_entry = (int)jint(t, "refused_san_entry", 0);
    f->refused_san_len = (int)jint(t, "refused_san_length", 0);
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

/* A certificate name as jcert writes it: the escaped bytes back raw (NUL
 * bytes included) and its whole length from "<key>_len" (absent in older
 * documents: the bytes read). */
static void jname_load(json_t *o, const char *k, const char *s, char *dst, size_t cap,
                       size_t *len)
{
    char lk[40];
    size_t n = s ? mxs_unescape(s, strlen(s), (unsigned char *)dst, cap - 1) : 0;
    dst[n] = 0;
    *len = n;
    if (k) {
        snprintf(lk, sizeof lk, "%s_len", k);
        long long whole = jint(o, lk, (long long)n);
        if (whole > (long long)n)
            *len = (size_t)whole;
    }
}

/* A certificate's fields as docs/json.md writes them (jcert), for a
 * certificate whose DER the document does not carry. */
static void load_cert_fields(json_t *lf, struct mxs_cert *c)
{
    size_t k;
    json_t *x;
    struct tm tn;
    c->depth = (int)jint(lf, "depth", 0);
    jname_load(lf, "subject", jget_str(lf, "subject"), c->subject, sizeof c->subject,
               &c->subject_len);
    jname_load(lf, "issuer", jget_str(lf, "issuer"), c->issuer, sizeof c->issuer, &c->issuer_len);
    jname_load(lf, "cn", jget_str(lf, "cn"), c->cn, sizeof c->cn, &c->cn_len);
    json_t *sl = json_object_get(lf, "san_len");
    json_array_foreach(json_object_get(lf, "san"), k, x) {
        if (c->n_san >= MXS_CERT_MAX_SAN || !json_is_string(x))
            continue;
        size_t *len = &c->san_len[c->n_san];
        jname_load(NULL, NULL, json_string_value(x), c->san[c->n_san], sizeof c->san[0], len);
        json_t *w = json_array_get(sl, k);
        if (json_is_integer(w) && json_integer_value(w) > (json_int_t)*len)
            *len = (size_t)json_integer_value(w);
        c->n_san++;
    }
    c->n_san_total = (int)jint(lf, "san_total", c->n_san);
    jraw(lf, "serial", c->serial, sizeof c->serial);
    static const char *const when[2] = { "not_before", "not_after" };
    for (int w = 0; w < 2; w++) {
        const char *s = jget_str(lf, when[w]);
        memset(&tn, 0, sizeof tn);
        if (s && strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tn))
            *(w ? &c->not_after : &c->not_before) = (int64_t)timegm(&tn);
    }
    c->days_left = (int)jint(lf, "days_left", 0);
    jraw(lf, "key_type", c->key_type, sizeof c->key_type);
    c->key_bits = (int)jint(lf, "key_bits", 0);
    jraw(lf, "signature", c->sig_alg, sizeof c->sig_alg);
    jraw(lf, "sha1", c->sha1, sizeof c->sha1);
    jraw(lf, "sha256", c->sha256, sizeof c->sha256);
    jraw(lf, "spki_sha256", c->spki_sha256, sizeof c->spki_sha256);
    json_t *eku = json_object_get(lf, "eku");
    c->has_eku = json_is_array(eku);
    json_array_foreach(eku, k, x) {
        const char *s = json_is_string(x) ? json_string_value(x) : "";
        c->eku |= !strcmp(s, "serverAuth") ? MXS_EKU_SERVER : !strcmp(s, "clientAuth") ? MXS_EKU_CLIENT
                  : MXS_EKU_OTHER;
    }
    c->is_ca = jbool(lf, "ca");
    c->self_issued = jbool(lf, "self_issued");
    json_array_foreach(json_object_get(lf, "verify_flags"), k, x)
        if (json_is_string(x))
            c->verify_flags |= mxs_verify_flag_from_name(json_string_value(x),
                                                         strlen(json_string_value(x)));
}

/* TLSA records judged one by one (at most MXS_MAX_TLSA kept): their count. */
static int load_dane_records(json_t *a, struct mxs_dane_rr *out)
{
    int n = 0;
    size_t ri;
    json_t *rv;
    json_array_foreach(a, ri, rv) {
        if (n >= MXS_MAX_TLSA)
            break;
        struct mxs_dane_rr *r = &out[n++];
        memset(r, 0, sizeof *r);
        r->usable = jbool(rv, "usable");
        r->match_depth = (int)jint(rv, "match_depth", -1);
        r->ok = jbool(rv, "authenticates");
        jraw(rv, "why", r->why, sizeof r->why);
    }
    return n;
}

/* verification.dane: what each TLSA record matched (also the text
 * loader's "# fact dane.json"). */
void session_json_load_dane(json_t *dn, struct mxs_chain_facts *ch)
{
    if (!json_is_object(dn))
        return;
    ch->dane_checked = 1;
    ch->dane_usable = (int)jint(dn, "usable_records", 0);
    ch->dane_match = jbool(dn, "match");
    ch->dane_match_depth = (int)jint(dn, "match_depth", -1);
    ch->dane_match_rr = (int)jint(dn, "match_record", -1);
    jraw(dn, "detail", ch->dane_detail, sizeof ch->dane_detail);
    ch->n_dane_rr = load_dane_records(json_object_get(dn, "records"), ch->dane_rr);
    /* A match names a record the facts can hold (hostile input: the
     * diagnosis reads dns.mx[].tlsa_rr[] by this index). */
    if (ch->dane_match_rr < 0 || ch->dane_match_rr >= MXS_MAX_TLSA) {
        ch->dane_match_rr = -1;
        ch->dane_match = 0;
    }
}

/* second_certificate: the RSA-only handshake's outcome, its leaf's fields
 * as written (its DER is not in the document) and the TLSA records against
 * its chain (also the text loader's "# fact second.json"). */
void session_json_load_second(json_t *alt, struct mxs_chain_facts *ch)
{
    if (!json_is_object(alt))
        return;
    ch->alt_probed = 1;
    ch->alt_ok = jbool(alt, "completed");
    jraw(alt, "error", ch->alt_error, sizeof ch->alt_error);
    json_t *lf = json_object_get(alt, "leaf");
    if (!json_is_object(lf))
        return;
    struct mxs_cert *c = &ch->alt_leaf;
    ch->alt_present = 1;
    ch->alt_name_matches = jbool(alt, "name_matches_mx");
    load_cert_fields(lf, c);
    json_t *dn = json_object_get(alt, "dane");
    ch->alt_dane_match_rr = -1;
    if (!json_is_object(dn))
        return;
    ch->alt_dane_checked = 1;
    ch->alt_dane_match = jbool(dn, "match");
    ch->alt_dane_match_rr = (int)jint(dn, "match_record", -1);
    ch->n_alt_dane_rr = load_dane_records(json_object_get(dn, "records"), ch->alt_dane_rr);
    if (ch->alt_dane_match_rr < 0 || ch->alt_dane_match_rr >= MXS_MAX_TLSA) {
        ch->alt_dane_match_rr = -1;
        ch->alt_dane_match = 0;
    }
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
    ch->path_len = (int)jint(v, "path_length", 0);
    const char *ca = jget_str(v, "checked_at");
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (ca && strptime(ca, "%Y-%m-%dT%H:%M:%SZ", &tm))
        ch->checked_at = (int64_t)timegm(&tm);
    session_json_load_dane(json_object_get(v, "dane"), ch);
    session_json_load_second(json_object_get(root, "second_certificate"), ch);
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
        tls.pss_retry = json_is_true(json_object_get(tj, "pss_retry"));
        tls.key_update = json_is_true(json_object_get(tj, "key_update"));
        const char *kr = jget_str(tj, "key_update_retry");
        tls.key_update_retry = !kr ? 0 : !strcmp(kr, "completed") ? 1 : -1;
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
    session_json_load_dns(json_object_get(root, "dns"), dns);
    load_conn(json_object_get(root, "connect"), &conn);
    load_smtp(json_object_get(root, "smtp"), smtp);
    struct mxs_policy_facts *pol = calloc(1, sizeof *pol);
    if (pol)
        session_json_policy_load(json_object_get(root, "policy"), pol);
    struct engine_replay_facts facts = { .set = &s, .dns = dns, .conn = &conn, .smtp = smtp,
                                         .tls = &tls, .chain = ch, .policy = pol };
    engine_replay_facts(e, &facts);
    free(dns);
    free(smtp);
    free(pol);
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
