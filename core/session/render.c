/*
 * render.c - facts and transcript as text, JSON (jansson) and PEM; saves;
 * loading a saved JSON session back for read-only replay.
 *
 * Every string that came from the network or a certificate goes through
 * mxs_escape() here, before it reaches any buffer a front end prints, any
 * file, or any JSON string.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "diag/diag.h"
#include "probe/engine_int.h"
#include "base/esc.h"
#include "session/render.h"
#include "base/savefile.h"
#include "probe/tlsrec.h"
#include "probe/x509view.h"

#define LOAD_MAX (64u << 20)

static void iso_time(time_t t, char *out, size_t len)
{
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(out, len, "?");
        return;
    }
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static char *esc(const char *s)
{
    char *r = mxs_escape_dup(s, strlen(s), 0);
    return r ? r : strdup("");
}

int render_exit_code(const struct engine *e)
{
    enum mxs_step s = engine_failed_step(e);
    if (s == MXS_STEP_NONE)
        return 0;
    if (e->st[s] == MXS_ST_CANCELLED)
        return 3;
    return 10 + (int)s;
}

/* ---- one record as a line ---------------------------------------------- */

static const char *rec_mark(enum mxs_rec_kind k)
{
    switch (k) {
    case MXS_REC_STEP: return "==";
    case MXS_REC_DNS: return "D:";
    case MXS_REC_SMTP_IN: return "S:";
    case MXS_REC_SMTP_OUT: return "C:";
    case MXS_REC_TLS_IN: return "T<";
    case MXS_REC_TLS_OUT: return "T>";
    case MXS_REC_TLS_INFO: return "T:";
    case MXS_REC_CERT: return "X:";
    case MXS_REC_FINDING: return "**";
    case MXS_REC_NOTE: return "# ";
    case MXS_REC_ERROR: return "!!";
    default: return "??";
    }
}

static int rec_is_binary(enum mxs_rec_kind k)
{
    return k == MXS_REC_TLS_IN || k == MXS_REC_TLS_OUT || k == MXS_REC_CERT;
}

static void tls_record_words(const struct mxs_record *r, struct buf *out)
{
    if (r->len < 5) {
        buf_printf(out, "TLS record (%zu bytes)", r->len);
        return;
    }
    const unsigned char *d = r->data;
    int type = d[0], ver = d[1] << 8 | d[2], len = d[3] << 8 | d[4];
    const char *tn = tlsrec_content_type_name(type);
    const char *vn = tlsrec_version_name(ver);
    buf_printf(out, "TLS %s(%d) %s, %d bytes", tn ? tn : "unknown", type, vn ? vn : "?", len);
    if (type == 21 && r->len >= 7) {
        const char *an = tlsrec_alert_name(d[6]);
        buf_printf(out, ": alert %s %s(%d)", d[5] == 2 ? "fatal" : "warning", an ? an : "unknown", d[6]);
    } else if (type == 22 && r->len >= 6) {
        static const char *const hs[] = { [1] = "ClientHello", [2] = "ServerHello",
            [4] = "NewSessionTicket", [8] = "EncryptedExtensions", [11] = "Certificate",
            [12] = "ServerKeyExchange", [13] = "CertificateRequest", [14] = "ServerHelloDone",
            [15] = "CertificateVerify", [16] = "ClientKeyExchange", [20] = "Finished" };
        int t = d[5];
        if (t < (int)(sizeof hs / sizeof hs[0]) && hs[t])
            buf_printf(out, ": %s", hs[t]);
    }
}

void render_record_line(const struct mxs_record *r, struct buf *out)
{
    buf_printf(out, "+%7.3fs %-9s %s ", r->t_us / 1e6, mxs_step_name(r->step), rec_mark(r->kind));
    if (r->kind == MXS_REC_TLS_IN || r->kind == MXS_REC_TLS_OUT)
        tls_record_words(r, out);
    else if (r->kind == MXS_REC_CERT)
        buf_printf(out, "certificate, %zu bytes DER", r->len);
    else
        buf_add_escaped(out, r->data, r->len, 0);
}

void render_transcript_text(const struct engine *e, struct buf *out)
{
    char when[40];
    iso_time(e->started_wall, when, sizeof when);
    buf_printf(out, "# mxscope %s transcript, started %s\n", MXS_VERSION, when);
    buf_puts(out, "# target: ");
    buf_puts_escaped(out, e->set.target);
    buf_printf(out, " port %u\n", e->set.port);
    buf_puts(out, "# marks: C: client  S: server  D: DNS  T: TLS  X: certificate  !! error  # note  ** finding\n");
    for (size_t i = 0; i < e->n_rec; i++) {
        render_record_line(&e->rec[i], out);
        buf_puts(out, "\n");
    }
    /* The appendix makes the text whole for the other side's admins (and
     * for `load`): the verdict per policy and the chain as PEM. */
    buf_puts(out, "#\n");
    for (int p = 0; p < MXS_POL_COUNT; p++) {
        const struct mxs_verdict *v = &e->verdicts[p];
        buf_printf(out, "# verdict %s %s %s %s\n", mxs_policy_name(v->policy), mxs_outcome_name(v->outcome),
                   v->step == MXS_STEP_NONE ? "-" : mxs_step_name(v->step), v->finding[0] ? v->finding : "-");
    }
    if (e->chain.n) {
        buf_printf(out, "# chain: %d certificate%s as sent, leaf first\n", e->chain.n, e->chain.n == 1 ? "" : "s");
        render_chain_pem(e, out);
    }
}

/* ---- the readable report ----------------------------------------------- */

static void reply_lines(struct buf *out, const char *indent, const struct mxs_reply *r)
{
    const char *p = r->text;
    for (;;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        buf_printf(out, "%s%d%c", indent, r->code, nl ? '-' : ' ');
        buf_add_escaped(out, p, n, 0);
        buf_puts(out, "\n");
        if (!nl)
            break;
        p = nl + 1;
    }
    if (r->truncated)
        buf_printf(out, "%s(reply cut: too long)\n", indent);
}

static const char *state_glyph(enum mxs_step_state s)
{
    switch (s) {
    case MXS_ST_OK: return "[ ok ]";
    case MXS_ST_WARN: return "[warn]";
    case MXS_ST_FAIL: return "[FAIL]";
    case MXS_ST_SKIPPED: return "[skip]";
    case MXS_ST_CANCELLED: return "[cncl]";
    case MXS_ST_RUNNING: return "[ .. ]";
    default: return "[    ]";
    }
}

void render_cert_detail(const struct mxs_cert *c, struct buf *out)
{
    char nb[40], na[40];
    iso_time((time_t)c->not_before, nb, sizeof nb);
    iso_time((time_t)c->not_after, na, sizeof na);
    buf_printf(out, "Certificate %d%s\n", c->depth, c->depth == 0 ? " (leaf)" : "");
    buf_puts(out, "  Subject:      "); buf_puts_escaped(out, c->subject); buf_puts(out, "\n");
    buf_puts(out, "  Issuer:       "); buf_puts_escaped(out, c->issuer); buf_puts(out, "\n");
    buf_puts(out, "  SAN:          ");
    for (int i = 0; i < c->n_san; i++) {
        if (i)
            buf_puts(out, ", ");
        buf_puts_escaped(out, c->san[i]);
    }
    if (c->n_san_total > c->n_san)
        buf_printf(out, " ... (%d in all)", c->n_san_total);
    if (!c->n_san_total)
        buf_puts(out, "(none)");
    buf_puts(out, "\n");
    buf_puts(out, "  Serial:       "); buf_puts_escaped(out, c->serial); buf_puts(out, "\n");
    buf_printf(out, "  Not before:   %s\n", nb);
    buf_printf(out, "  Not after:    %s (%d days left)\n", na, c->days_left);
    buf_printf(out, "  Key:          %s %d%s%s\n", c->key_type, c->key_bits, c->curve[0] ? " " : "", c->curve);
    buf_printf(out, "  Signature:    %s%s\n", c->sig_alg, c->sig_weak ? " (weak)" : "");
    buf_printf(out, "  SHA-1:        %s   (Exchange thumbprint)\n", c->sha1);
    buf_printf(out, "  SHA-256:      %s\n", c->sha256);
    buf_puts(out, "  EKU:          ");
    if (!c->has_eku)
        buf_puts(out, "(none: any use)");
    else
        buf_printf(out, "%s%s%s", c->eku & MXS_EKU_SERVER ? "serverAuth " : "",
                   c->eku & MXS_EKU_CLIENT ? "clientAuth " : "", c->eku & MXS_EKU_OTHER ? "other" : "");
    buf_puts(out, "\n");
    if (c->has_basic_constraints)
        buf_printf(out, "  CA:           %s%s\n", c->is_ca ? "yes" : "no", c->self_issued ? " (self-issued)" : "");
    else
        buf_printf(out, "  CA:           no basic constraints%s\n", c->self_issued ? " (self-issued)" : "");
    if (!c->verify_flags) {
        buf_puts(out, "  Verification: ok\n");
    } else {
        buf_puts(out, "  Verification:\n");
        for (unsigned bit = 1; bit && bit <= MXS_V_OTHER; bit <<= 1)
            if (c->verify_flags & bit) {
                const char *w = mxs_verify_flag_words(bit);
                buf_printf(out, "    - %s: %s\n", mxs_verify_flag_name(bit), w ? w : "");
            }
    }
}

/* Diagnosis text was escaped by diag.c (printable ASCII, '\n' its own line
 * breaks): escaping it again would double every backslash.  Anything else
 * (a bug) still goes through the escaper. */
static int diag_text_ok(const char *s, size_t n);
static void put_diag_text(struct buf *out, const char *s, const char *indent)
{
    for (;;) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        if (diag_text_ok(s, n))
            buf_add(out, s, n);
        else
            buf_add_escaped(out, s, n, 0);
        buf_puts(out, "\n");
        if (!nl)
            break;
        s = nl + 1;
        buf_puts(out, indent);
    }
}

void render_report_text(const struct engine *e, struct buf *out)
{
    char when[40];
    iso_time(e->started_wall, when, sizeof when);
    buf_puts(out, "mxscope probe of ");
    buf_puts_escaped(out, e->set.target);
    buf_printf(out, " (%s, port %u) at %s\n\n", e->set.target_is_host ? "host" : "domain", e->set.port, when);

    const struct mxs_dns_facts *d = &e->dns;
    buf_printf(out, "%s RESOLVE   %s\n", state_glyph(e->st[0]), e->step_err[0][0] ? "" : "");
    if (e->step_err[0][0]) { buf_puts(out, "         "); buf_puts_escaped(out, e->step_err[0]); buf_puts(out, "\n"); }
    if (d->done && !e->set.connect_addr[0]) {
        if (!e->set.target_is_host)
            buf_printf(out, "         MX answer: %s, DNSSEC %s%s%s\n", mxs_dns_rcode_name(d->mx_answer.rcode),
                       mxs_dnssec_name(d->mx_answer.dnssec), d->implicit_mx ? ", implicit MX" : "",
                       d->null_mx ? ", NULL MX" : "");
        for (int i = 0; i < d->n_mx; i++) {
            const struct mxs_mx *m = &d->mx[i];
            buf_printf(out, "         MX %u ", m->preference);
            buf_puts_escaped(out, m->host);
            buf_puts(out, ":");
            for (int j = 0; j < m->n_addr; j++)
                buf_printf(out, " %s", m->addr[j].text);
            buf_printf(out, " [A %s/%s, AAAA %s/%s, TLSA %d %s]\n", mxs_dns_rcode_name(m->a.rcode),
                       mxs_dnssec_name(m->a.dnssec), mxs_dns_rcode_name(m->aaaa.rcode),
                       mxs_dnssec_name(m->aaaa.dnssec), m->n_tlsa, mxs_dnssec_name(m->tlsa.dnssec));
        }
    }
    for (int i = 1; i < MXS_STEP_COUNT; i++) {
        buf_printf(out, "%s %-9s %5lld ms  ", state_glyph(e->st[i]), mxs_step_name(i), (long long)e->elapsed_ms[i]);
        buf_puts_escaped(out, e->step_err[i]);
        buf_puts(out, "\n");
        const struct mxs_smtp_facts *m = &e->smtp;
        switch (i) {
        case MXS_STEP_CONNECT:
            if (e->conn.attempts)
                buf_printf(out, "         address %s port %u, %d attempt(s)\n", e->conn.addr.text, e->conn.port,
                           e->conn.attempts);
            break;
        case MXS_STEP_BANNER:
            if (m->banner.code) reply_lines(out, "         S: ", &m->banner);
            break;
        case MXS_STEP_EHLO:
            if (m->ehlo.code) reply_lines(out, "         S: ", &m->ehlo);
            if (m->used_helo && m->helo.code) reply_lines(out, "         S: ", &m->helo);
            break;
        case MXS_STEP_STARTTLS:
            if (m->starttls.code) reply_lines(out, "         S: ", &m->starttls);
            if (m->leftover_plain)
                buf_printf(out, "         %zu bytes after the 220 were discarded (never fed to TLS)\n", m->leftover_plain);
            break;
        case MXS_STEP_HANDSHAKE:
            if (e->tls.ok) {
                buf_puts(out, "         ");
                buf_puts_escaped(out, e->tls.version_name);
                buf_puts(out, ", ");
                buf_puts_escaped(out, e->tls.cipher);
                buf_puts(out, ", group ");
                buf_puts_escaped(out, e->tls.group[0] ? e->tls.group : "?");
                buf_puts(out, ", SNI ");
                buf_puts_escaped(out, e->tls.sni_sent[0] ? e->tls.sni_sent : "(none)");
                buf_puts(out, "\n");
            }
            break;
        case MXS_STEP_CHAIN:
            for (int c = 0; c < e->chain.n; c++) {
                const struct mxs_cert *ct = &e->chain.cert[c];
                char na[40], fl[200];
                iso_time((time_t)ct->not_after, na, sizeof na);
                mxs_verify_flags_text(ct->verify_flags, fl, sizeof fl);
                buf_printf(out, "         %d ", c);
                buf_puts_escaped(out, ct->subject);
                buf_printf(out, "\n           not after %s (%d days), SHA-1 %s\n           %s %d, %s, %s\n", na,
                           ct->days_left, ct->sha1, ct->key_type, ct->key_bits, ct->sig_alg, fl);
            }
            break;
        case MXS_STEP_EHLO2:
            if (m->ehlo2.code) reply_lines(out, "         S: ", &m->ehlo2);
            break;
        }
    }
    if (e->n_findings) {
        buf_puts(out, "\nFindings\n");
        for (int i = 0; i < e->n_findings; i++) {
            const struct mxs_finding *f = &e->findings[i];
            buf_printf(out, "  %-7s %-28s [%s] ", mxs_severity_name(f->severity), f->id, mxs_step_name(f->step));
            put_diag_text(out, f->message, "          ");
            if (f->evidence[0]) { buf_puts(out, "          evidence: "); put_diag_text(out, f->evidence, "                    "); }
            if (f->advice[0]) { buf_puts(out, "          advice:   "); put_diag_text(out, f->advice, "                    "); }
        }
    }
    buf_puts(out, "\nVerdict\n");
    for (int p = 0; p < MXS_POL_COUNT; p++) {
        const struct mxs_verdict *v = &e->verdicts[p];
        buf_printf(out, "  %-14s %-20s", mxs_policy_name(v->policy), mxs_outcome_name(v->outcome));
        if (v->step != MXS_STEP_NONE)
            buf_printf(out, " at %s", mxs_step_name(v->step));
        if (v->finding[0])
            buf_printf(out, " (%s)", v->finding);
        buf_puts(out, "\n    ");
        put_diag_text(out, v->words, "    ");
    }
    enum mxs_step fs = engine_failed_step(e);
    buf_printf(out, "\nResult: %s (exit %d)\n", fs == MXS_STEP_NONE ? "every step passed" : mxs_step_name(fs),
               render_exit_code(e));
}

/* ---- JSON ---------------------------------------------------------------- */

static json_t *jstr(const char *s)
{
    char *x = esc(s);
    json_t *j = json_string(x);
    free(x);
    return j ? j : json_null();
}

static json_t *jstr_or_null(const char *s) { return s && *s ? jstr(s) : json_null(); }

/* Text diag.c already escaped: keep it (newlines included) when it is safe. */
static int diag_text_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((s[i] < 0x20 || s[i] > 0x7e) && s[i] != '\n')
            return 0;
    return 1;
}

static json_t *jdiag(const char *s)
{
    if (!diag_text_ok(s, strlen(s)))
        return jstr(s);
    json_t *j = json_string(s);
    return j ? j : jstr(s);
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
    iso_time((time_t)c->not_before, nb, sizeof nb);
    iso_time((time_t)c->not_after, na, sizeof na);
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
    char when[40];
    iso_time(e->started_wall, when, sizeof when);
    json_t *root = json_object();
    json_object_set_new(root, "mxscope", json_string(MXS_VERSION));
    json_object_set_new(root, "schema", json_integer(1));
    json_object_set_new(root, "started", json_string(when));

    const char *sni = engine_sni(e);
    json_object_set_new(root, "target", json_pack("{s:o, s:s, s:i, s:o, s:o, s:o, s:b}",
        "input", jstr(e->set.target), "kind", e->set.target_is_host ? "host" : "domain",
        "port", (int)e->set.port, "connect", jstr_or_null(e->set.connect_addr),
        "ehlo_name", jstr(e->set.ehlo_name), "sni", jstr_or_null(sni),
        "tls_on_connect", e->set.tls_on_connect));
    /* Every setting, from the setting table (a loaded session: null). */
    json_t *sets = e->replay ? json_null() : json_object();
    char sv[1100];
    for (const struct mxs_setting_def *d = mxs_setting_table; d->name && !e->replay; d++)
        if (mxs_settings_get(&e->set, d->name, sv, sizeof sv) == 0)
            json_object_set_new(sets, d->name, jstr(sv));
    json_object_set_new(root, "settings", sets);

    enum mxs_step fs = engine_failed_step(e);
    json_object_set_new(root, "result", json_pack("{s:o, s:i}", "failed_step",
        fs == MXS_STEP_NONE ? json_null() : json_string(mxs_step_name(fs)), "exit_code", render_exit_code(e)));

    json_t *steps = json_array();
    for (int i = 0; i < MXS_STEP_COUNT; i++)
        json_array_append_new(steps, json_pack("{s:s, s:s, s:I, s:o, s:b}", "step", mxs_step_name(i),
            "status", mxs_step_state_name(e->st[i]), "elapsed_ms", (json_int_t)e->elapsed_ms[i],
            "detail", jstr(e->step_err[i]), "timed_out", e->timed_out[i]));
    json_object_set_new(root, "steps", steps);

    const struct mxs_dns_facts *d = &e->dns;
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
        "resolver", jstr_or_null(e->set.resolver), "done", d->done,
        "mx_rcode", jrcode(d->mx_answer.rcode), "dnssec", mxs_dnssec_name(d->mx_answer.dnssec),
        "why_bogus", jstr_or_null(d->mx_answer.why_bogus), "implicit_mx", d->implicit_mx,
        "null_mx", d->null_mx, "mx", mxs, "pinned", e->set.connect_addr[0] != 0));

    static const char *const cerr[] = { NULL, "refused", "timeout", "unreachable", "other" };
    const struct mxs_connect_facts *c = &e->conn;
    json_object_set_new(root, "connect", json_pack("{s:i, s:o, s:i, s:i, s:o, s:i, s:o, s:i, s:I}",
        "mx", c->mx_index, "address", jstr_or_null(c->addr.text), "family", c->addr.family, "port", c->port,
        "error", c->error && c->error < 5 ? json_string(cerr[c->error]) : json_null(), "errno", c->err_no,
        "errno_text", c->err_no ? json_string(strerror(c->err_no)) : json_null(), "attempts", c->attempts,
        "elapsed_ms", (json_int_t)c->elapsed_ms));

    const struct mxs_smtp_facts *m = &e->smtp;
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

    const struct mxs_tls_facts *t = &e->tls;
    json_object_set_new(root, "tls", json_pack("{s:b, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:o, s:I, s:I, s:I}",
        "attempted", t->attempted, "ok", t->ok,
        "version", t->ok ? json_string(t->version_name) : json_null(),
        "cipher", jstr_or_null(t->cipher), "group", jstr_or_null(t->group),
        "server_hello_version", t->server_hello_version ? json_string(
            t->server_hello_version == 13 ? "TLSv1.3" : t->server_hello_version == 12 ? "TLSv1.2" :
            t->server_hello_version == 11 ? "TLSv1.1" : t->server_hello_version == 10 ? "TLSv1.0" : "SSLv3")
            : json_null(),
        "alert_received", t->alert_received >= 0 ? json_string(t->alert_name) : json_null(),
        "alert_sent", t->alert_sent >= 0 ? json_string(t->alert_sent_name) : json_null(),
        "client_cert_requested", t->cert_requested,
        "error", jstr_or_null(t->error), "sni", jstr_or_null(t->sni_sent),
        "elapsed_ms", (json_int_t)t->handshake_ms, "bytes_in", (json_int_t)t->bytes_in,
        "bytes_out", (json_int_t)t->bytes_out));

    json_t *chain = json_array();
    for (int i = 0; i < e->chain.n; i++)
        json_array_append_new(chain, jcert(&e->chain.cert[i]));
    json_object_set_new(root, "chain", chain);
    const struct mxs_chain_facts *ch = &e->chain;
    json_object_set_new(root, "verification", json_pack("{s:b, s:o, s:b, s:b, s:o, s:o, s:o, s:i}",
        "trusted", ch->trusted, "name_checked", jstr_or_null(ch->name_checked),
        "name_matches_mx", ch->name_matches_mx, "name_matches_domain", ch->name_matches_domain,
        "flags", jflags(ch->verify_result), "expected_fingerprint", jstr_or_null(e->set.expect_fp),
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
    for (int i = 0; i < e->n_findings; i++) {
        const struct mxs_finding *f = &e->findings[i];
        json_array_append_new(fs_a, json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "id", f->id,
            "severity", mxs_severity_name(f->severity), "step", mxs_step_name(f->step),
            "cert_depth", f->cert_depth >= 0 ? json_integer(f->cert_depth) : json_null(),
            "message", jdiag(f->message), "evidence", jdiag(f->evidence), "advice", jdiag(f->advice)));
    }
    json_object_set_new(root, "findings", fs_a);
    json_t *va = json_array();
    for (int p = 0; p < MXS_POL_COUNT; p++) {
        const struct mxs_verdict *v = &e->verdicts[p];
        json_array_append_new(va, json_pack("{s:s, s:s, s:o, s:o, s:o}", "policy", mxs_policy_name(v->policy),
            "outcome", mxs_outcome_name(v->outcome),
            "step", v->step == MXS_STEP_NONE ? json_null() : json_string(mxs_step_name(v->step)),
            "finding", jstr_or_null(v->finding), "words", jdiag(v->words)));
    }
    json_object_set_new(root, "verdict", va);

    json_t *tr = json_array();
    for (size_t i = 0; i < e->n_rec; i++) {
        const struct mxs_record *r = &e->rec[i];
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

void render_chain_pem(const struct engine *e, struct buf *out)
{
    for (int i = 0; i < e->chain.n; i++) {
        const struct mxs_cert *c = &e->chain.cert[i];
        size_t need = c->der_len * 4 / 3 + c->der_len / 48 + 128;
        char *pem = malloc(need);
        if (!pem)
            continue;
        buf_printf(out, "# %d ", i);
        buf_puts_escaped(out, c->subject);
        buf_printf(out, "\n# SHA-1 %s\n", c->sha1);
        if (x509view_pem(c->der, c->der_len, pem, need) >= 0)
            buf_puts(out, pem);
        free(pem);
    }
}

void render_problem_report(const struct engine *e, struct buf *out)
{
    struct diag_input in;
    engine_diag_input(e, &in);
    diag_report(&in, e->findings, e->n_findings, e->verdicts, e->started_wall, e->set.ehlo_name, out);
}

/* ---- saves ------------------------------------------------------------- */

static int save_buf(struct buf *b, const char *path, char *err, size_t errlen)
{
    if (b->failed) {
        snprintf(err, errlen, "the text did not fit in memory; nothing written");
        buf_free(b);
        return -1;
    }
    int r = savefile_write(path, buf_str(b), b->len, err, errlen);
    buf_free(b);
    return r;
}

int render_save_text(const struct engine *e, const char *path, char *err, size_t errlen)
{
    struct buf b;
    buf_init(&b, 0);
    render_transcript_text(e, &b);
    return save_buf(&b, path, err, errlen);
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

int render_save_chain(const struct engine *e, const char *path, char *err, size_t errlen)
{
    if (!e->chain.n) {
        snprintf(err, errlen, "no certificate to save: the CHAIN step has not run or saw none");
        return -1;
    }
    struct buf b;
    buf_init(&b, 0);
    render_chain_pem(e, &b);
    return save_buf(&b, path, err, errlen);
}

int render_save_report(const struct engine *e, const char *path, char *err, size_t errlen)
{
    struct buf b;
    buf_init(&b, 0);
    render_problem_report(e, &b);
    return save_buf(&b, path, err, errlen);
}

/* ---- loading a saved session ------------------------------------------- */

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
    if (diag_text_ok(s, strlen(s)))
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

static int name_index(const char *const *names, int n, const char *s)
{
    for (int i = 0; s && i < n; i++)
        if (!strcmp(names[i], s))
            return i;
    return -1;
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

struct engine *engine_load_buffer(const char *text, size_t len, const char *path, char *err,
                                  size_t errlen)
{
    /* A text transcript (save FILE) loads too: loadtext.c. */
    if (len >= 10 && !memcmp(text, "# mxscope ", 10))
        return engine_load_text(text, len, path, err, errlen);
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, errlen, "%s: not a mxscope JSON session (line %d: %s)", path, je.line, je.text);
        return NULL;
    }
    struct engine *e = NULL;
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
    json_t *port = json_object_get(target, "port");
    if (json_is_integer(port) && json_integer_value(port) > 0 && json_integer_value(port) < 65536)
        s.port = (uint16_t)json_integer_value(port);
    e = engine_new(&s);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    e->replay = 1;
    e->finished = 1;
    e->next_idx = MXS_STEP_COUNT;
    const char *started = jget_str(root, "started");
    if (started) {
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        if (strptime(started, "%Y-%m-%dT%H:%M:%SZ", &tm))
            e->started_wall = timegm(&tm);
    }
    static const char *const stn[] = { "pending", "running", "ok", "warn", "fail", "skipped", "cancelled" };
    size_t i;
    json_t *v;
    json_array_foreach(steps, i, v) {
        int si = mxs_step_from_name(jget_str(v, "step") ? jget_str(v, "step") : "");
        int st = name_index(stn, 7, jget_str(v, "status"));
        if (si < 0 || st < 0)
            continue;
        e->st[si] = st == MXS_ST_RUNNING ? MXS_ST_CANCELLED : (enum mxs_step_state)st;
        json_t *el = json_object_get(v, "elapsed_ms");
        if (json_is_integer(el))
            e->elapsed_ms[si] = json_integer_value(el);
        const char *det = jget_str(v, "detail");
        if (det)
            snprintf(e->step_err[si], sizeof e->step_err[si], "%s", det);
    }
    /* The transcript is the model: records back as they were. */
    json_array_foreach(tr, i, v) {
        int k = mxs_rec_kind_from_name(jget_str(v, "kind") ? jget_str(v, "kind") : "");
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
            d = (unsigned char *)strdup(tx);
            dl = d ? strlen(tx) : 0;
        }
        if (!d)
            continue;
        size_t before = e->n_rec;
        engine_rec_add(e, (enum mxs_rec_kind)k, si >= 0 ? (enum mxs_step)si : MXS_STEP_NONE, d, dl);
        json_t *tm = json_object_get(v, "t_ms");
        if (e->n_rec > before && json_is_number(tm))
            e->rec[e->n_rec - 1].t_us = (int64_t)(json_number_value(tm) * 1000.0);
        if (k == MXS_REC_CERT && e->chain.n < MXS_MAX_CHAIN) {
            char xerr[128];
            struct mxs_cert *c = &e->chain.cert[e->chain.n];
            if (x509view_decode(d, dl, e->started_wall, c, xerr, sizeof xerr) == 0) {
                c->depth = e->chain.n;
                e->chain.n++;
            }
        }
        free(d);
    }
    /* Verify flags and chain facts as they were judged then. */
    json_t *chain = json_object_get(root, "chain");
    json_array_foreach(chain, i, v) {
        if ((int)i >= e->chain.n)
            break;
        json_t *fl = json_object_get(v, "verify_flags");
        size_t j;
        json_t *f;
        json_array_foreach(fl, j, f) {
            for (unsigned bit = 1; bit && bit <= MXS_V_OTHER; bit <<= 1) {
                const char *n = mxs_verify_flag_name(bit);
                if (n && json_is_string(f) && !strcmp(n, json_string_value(f)))
                    e->chain.cert[i].verify_flags |= bit;
            }
        }
    }
    json_t *tls = json_object_get(root, "tls");
    if (json_is_object(tls)) {
        const char *ver = jget_str(tls, "version"), *ci = jget_str(tls, "cipher"), *gr = jget_str(tls, "group");
        e->tls.ok = ver != NULL;
        if (ver) snprintf(e->tls.version_name, sizeof e->tls.version_name, "%s", ver);
        if (ci) snprintf(e->tls.cipher, sizeof e->tls.cipher, "%s", ci);
        if (gr) snprintf(e->tls.group, sizeof e->tls.group, "%s", gr);
    }
    /* Findings and verdicts as they were (the diagnosis may have changed
     * since: a replay shows what the operator saw). */
    static const char *const sev[] = { "info", "warning", "error" };
    json_t *fa = json_object_get(root, "findings");
    e->n_findings = 0;
    json_array_foreach(fa, i, v) {
        if (e->n_findings >= MXS_MAX_FINDINGS)
            break;
        struct mxs_finding *f = &e->findings[e->n_findings];
        memset(f, 0, sizeof *f);
        const char *id = jget_str(v, "id");
        if (!id)
            continue;
        snprintf(f->id, sizeof f->id, "%s", id);
        int sv = name_index(sev, 3, jget_str(v, "severity"));
        f->severity = sv < 0 ? MXS_SEV_INFO : (enum mxs_severity)sv;
        int si = mxs_step_from_name(jget_str(v, "step") ? jget_str(v, "step") : "");
        f->step = si < 0 ? MXS_STEP_NONE : (enum mxs_step)si;
        json_t *cd = json_object_get(v, "cert_depth");
        f->cert_depth = json_is_integer(cd) ? (int)json_integer_value(cd) : -1;
        const char *t;
        if ((t = jget_str(v, "message"))) snprintf(f->message, sizeof f->message, "%s", t);
        if ((t = jget_str(v, "evidence"))) snprintf(f->evidence, sizeof f->evidence, "%s", t);
        if ((t = jget_str(v, "advice"))) snprintf(f->advice, sizeof f->advice, "%s", t);
        e->n_findings++;
    }
    static const char *const pol[] = { "opportunistic", "required", "verified", "dane" };
    static const char *const outc[] = { "delivered-encrypted", "delivered-clear", "not-delivered", "not-evaluated" };
    json_t *va = json_object_get(root, "verdict");
    json_array_foreach(va, i, v) {
        int p = name_index(pol, 4, jget_str(v, "policy"));
        int o = name_index(outc, 4, jget_str(v, "outcome"));
        if (p < 0 || o < 0)
            continue;
        struct mxs_verdict *vd = &e->verdicts[p];
        vd->policy = (enum mxs_policy)p;
        vd->outcome = (enum mxs_outcome)o;
        int si = mxs_step_from_name(jget_str(v, "step") ? jget_str(v, "step") : "");
        vd->step = si < 0 ? MXS_STEP_NONE : (enum mxs_step)si;
        const char *t;
        vd->finding[0] = 0;
        if ((t = jget_str(v, "finding"))) snprintf(vd->finding, sizeof vd->finding, "%s", t);
        if ((t = jget_str(v, "words"))) snprintf(vd->words, sizeof vd->words, "%s", t);
    }
    /* The file is hostile too: fields printed as they are (diagnosis text,
     * ids, library names) are made plain visible ASCII here, once. */
    loaded_plain(e->tls.version_name, sizeof e->tls.version_name);
    loaded_plain(e->tls.cipher, sizeof e->tls.cipher);
    loaded_plain(e->tls.group, sizeof e->tls.group);
    for (int k = 0; k < e->n_findings; k++) {
        struct mxs_finding *f = &e->findings[k];
        loaded_plain(f->id, sizeof f->id);
        loaded_plain(f->message, sizeof f->message);
        loaded_plain(f->evidence, sizeof f->evidence);
        loaded_plain(f->advice, sizeof f->advice);
    }
    for (int p = 0; p < MXS_POL_COUNT; p++) {
        loaded_plain(e->verdicts[p].finding, sizeof e->verdicts[p].finding);
        loaded_plain(e->verdicts[p].words, sizeof e->verdicts[p].words);
    }
    engine_event(e, MXS_EV_FINISHED, MXS_STEP_NONE, MXS_ST_PENDING, 0);
out:
    json_decref(root);
    return e;
}

int engine_is_replay(const struct engine *e) { return e->replay; }
