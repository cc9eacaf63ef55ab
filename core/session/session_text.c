/*
 * session_text.c - the text transcript of docs/transcript.md back into a
 * read-only session (engine_load_text, through engine_load_buffer); its
 * writer, render_transcript_text, is in render.c.  Part of the session module (core/session).
 * The loader parses into facts of its own (struct lt_state) and fills a
 * read-only engine only through the replay API (probe/engine_replay.h);
 * names of steps, states, severities, policies, outcomes and verify flags
 * come from names.c, the marks from render.c's one table.
 *
 * The text is hostile input like anything else: a file may have been cut,
 * edited or forged.  Every line is bounded (LT_MAX_LINE), every field is
 * checked, and anything that does not parse is an error naming the line and
 * what is wrong (never a crash, never a half-built engine returned).  The
 * record count is bounded by the engine itself (engine_rec_add).
 *
 * Two passes over the lines: the appendix (verdicts, PEM chain) comes after
 * the records but the records need it (an "X:" line becomes a CERT record
 * carrying that certificate's DER, and the "T: cert N" lines carry the
 * verify flags of a certificate decoded from the PEM), so pass 1 checks the
 * header and reads the appendix, pass 2 adds the records and rebuilds the
 * facts they describe.
 */
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "base/buf.h"
#include "base/esc.h"
#include "diag/diag.h"
#include "probe/engine_replay.h"
#include "probe/smtp.h"
#include "probe/tlsrec.h"
#include "probe/x509view.h"
#include "session/render.h"
#include "session/session_int.h"

/* ---- the writer ------------------------------------------------------------ */

/* ---- the loader ------------------------------------------------------------ */

#define LT_MAX_LINE (64u * 1024u)
#define LT_MAX_PEM (64u * 1024u)   /* base64 of one certificate */

struct lt_line {
    const char *p;
    size_t n;      /* without the newline (and a CR before it) */
    unsigned no;   /* 1-based line number                      */
};

struct lt_iter {
    const char *text;
    size_t len, off;
    unsigned no;
};

/* Next line; 0 at the end, -1 for a line over LT_MAX_LINE (l->no is set). */
static int lt_next(struct lt_iter *it, struct lt_line *l)
{
    if (it->off >= it->len)
        return 0;
    const char *s = it->text + it->off;
    size_t rest = it->len - it->off;
    const char *nl = memchr(s, '\n', rest < LT_MAX_LINE + 2 ? rest : LT_MAX_LINE + 2);
    size_t n = nl ? (size_t)(nl - s) : rest;
    l->no = ++it->no;
    if (n > LT_MAX_LINE + 1 || (!nl && rest > LT_MAX_LINE + 1))
        return -1;
    it->off += n + (nl ? 1 : 0);
    l->p = s;
    l->n = n;
    if (l->n && s[l->n - 1] == '\r') /* saved on Windows: CRLF; raw CR is always escaped */
        l->n--;
    if (l->n > LT_MAX_LINE)
        return -1;
    return 1;
}

static int lt_starts(const struct lt_line *l, const char *pfx)
{
    size_t k = strlen(pfx);
    return l->n >= k && !memcmp(l->p, pfx, k);
}

static int lt_is(const struct lt_line *l, const char *s)
{
    return l->n == strlen(s) && !memcmp(l->p, s, l->n);
}

/* A short, escaped excerpt of hostile text for an error message. */
static void lt_quote(const char *p, size_t n, char *out, size_t outlen)
{
    if (n > 40)
        n = 40;
    mxs_escape(p, n, out, outlen, MXS_ESC_ASCII);
}

/* The whitespace-separated token at *p (< end); advances past it. */
static size_t lt_token(const char **p, const char *end, const char **tok)
{
    while (*p < end && **p == ' ')
        (*p)++;
    *tok = *p;
    while (*p < end && **p != ' ')
        (*p)++;
    return (size_t)(*p - *tok);
}

static int lt_tokeq(const char *tok, size_t n, const char *s)
{
    return n == strlen(s) && !memcmp(tok, s, n);
}

/* A token looked up by one of names.c's *_from_name functions; -1 if
 * unknown (or too long to be a name). */
static int lt_lookup(const char *tok, size_t n, int (*from_name)(const char *))
{
    char name[32];
    if (n == 0 || n >= sizeof name)
        return -1;
    memcpy(name, tok, n);
    name[n] = 0;
    return from_name(name);
}

/* ---- the appendix: verdicts and the PEM chain ----------------------------- */

static int lt_b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Strict base64 (RFC 4648 with '=' padding only at the end).  Written out
 * rather than borrowed from mbedTLS: x509view.c and tls.c are the only
 * modules that include mbedTLS. */
static int lt_b64(const char *in, size_t n, unsigned char *out, size_t outlen, size_t *olen)
{
    unsigned acc = 0;
    int bits = 0, pad = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '=') {
            pad++;
            continue;
        }
        int v = lt_b64val(c);
        if (v < 0 || pad)
            return -1;
        acc = (acc << 6 | (unsigned)v) & 0xFFFFFF;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= outlen)
                return -1;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    if (pad > 2 || (n % 4) != 0)
        return -1;
    *olen = o;
    return 0;
}

struct lt_state {
    struct engine *e;        /* made after pass 1 (the header is read) */
    const char *path;
    char *err;
    size_t errlen;
    unsigned char *ubuf;     /* unescape buffer, LT_MAX_LINE */
    int n_x;                 /* "X:" lines seen (pass 2)      */
    int chain_announced;     /* "# chain: N" (-1: no line)     */
    int verdicts_seen;
    /* SMTP replies rebuilt from the S: lines */
    struct smtp_parser *sp;
    enum mxs_step sp_step;
    int reply_done[MXS_STEP_COUNT + 1]; /* + the HELO reply */
    int helo_pending;
    /* What the file says, handed to the engine at the end. */
    struct mxs_settings set;
    time_t started;
    struct mxs_connect_facts conn;
    struct mxs_smtp_facts smtp;
    struct mxs_tls_facts tls;
    struct mxs_chain_facts chain;  /* the DER is ours until handed over */
    struct mxs_finding findings[MXS_MAX_FINDINGS];
    int n_findings;
    struct mxs_verdict verdicts[MXS_POL_COUNT];
    /* "# fact dns.json" / "# fact policy.json": the RESOLVE and POLICY
     * facts, and CHAIN's per-TLSA-record ones ("# fact dane.json"), as
     * the JSON document has them (NULL: not in the file) */
    char *dns_json, *policy_json, *dane_json;
};

__attribute__((format(printf, 3, 4)))
static int lt_fail(struct lt_state *st, unsigned line, const char *fmt, ...)
{
    char what[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (line)
        snprintf(st->err, st->errlen, "%s: line %u: %s", st->path, line, what);
    else
        snprintf(st->err, st->errlen, "%s: %s", st->path, what);
    return -1;
}

static int lt_verdict(struct lt_state *st, const struct lt_line *l)
{
    const char *p = l->p + strlen("# verdict "), *end = l->p + l->n, *t[4];
    size_t tn[4];
    for (int i = 0; i < 4; i++)
        tn[i] = lt_token(&p, end, &t[i]);
    while (p < end && *p == ' ')
        p++;
    if (!tn[3] || p != end)
        return lt_fail(st, l->no, "a verdict line is \"# verdict POLICY OUTCOME STEP|- FINDING|-\"");
    int pol = lt_lookup(t[0], tn[0], mxs_policy_from_name);
    int out = lt_lookup(t[1], tn[1], mxs_outcome_from_name);
    int step = MXS_STEP_NONE, step_ok = lt_tokeq(t[2], tn[2], "-");
    if (!step_ok && (step = lt_lookup(t[2], tn[2], mxs_step_from_name)) >= 0)
        step_ok = 1;
    if (pol < 0 || out < 0 || !step_ok) {
        char q[200];
        lt_quote(l->p, l->n, q, sizeof q);
        return lt_fail(st, l->no, "unknown policy, outcome or step in \"%s\"", q);
    }
    struct mxs_verdict *v = &st->verdicts[pol];
    memset(v, 0, sizeof *v);
    v->policy = (enum mxs_policy)pol;
    v->outcome = (enum mxs_outcome)out;
    v->step = (enum mxs_step)step;
    if (!lt_tokeq(t[3], tn[3], "-")) {
        if (tn[3] >= sizeof v->finding)
            return lt_fail(st, l->no, "finding id longer than %zu bytes", sizeof v->finding - 1);
        for (size_t i = 0; i < tn[3]; i++)
            if (!((t[3][i] >= 'a' && t[3][i] <= 'z') || (t[3][i] >= '0' && t[3][i] <= '9') || t[3][i] == '-'))
                return lt_fail(st, l->no, "a finding id is lower-case letters, digits and '-'");
        memcpy(v->finding, t[3], tn[3]);
    }
    st->verdicts_seen++;
    return 0;
}

/* One certificate: "# D SUBJECT", "# SHA-1 HEX", then the PEM block. */
static int lt_cert(struct lt_state *st, struct lt_iter *it, const struct lt_line *head)
{
    struct mxs_chain_facts *ch = &st->chain;
    struct lt_line l;
    char q[200];
    if (ch->n >= MXS_MAX_CHAIN)
        return lt_fail(st, head->no, "more than %d certificates in the chain", MXS_MAX_CHAIN);
    /* depth */
    long d = -1;
    if (head->n > 2 && head->p[2] >= '0' && head->p[2] <= '9') {
        d = 0;
        for (size_t i = 2; i < head->n && head->p[i] != ' ' && d < 1000; i++)
            d = head->p[i] >= '0' && head->p[i] <= '9' ? d * 10 + (head->p[i] - '0') : 1000;
    }
    if (d != ch->n)
        return lt_fail(st, head->no, "certificate %d expected here (leaf first, in order)", ch->n);
    int r = lt_next(it, &l);
    if (r < 0)
        return lt_fail(st, l.no, "line longer than %u bytes", LT_MAX_LINE);
    if (r == 0 || !lt_starts(&l, "# SHA-1 ") || l.n != 8 + 40)
        return lt_fail(st, r ? l.no : head->no + 1, "\"# SHA-1 HEX\" (40 hex digits) expected after \"# %d ...\"", ch->n);
    char sha1[41];
    memcpy(sha1, l.p + 8, 40);
    sha1[40] = 0;
    r = lt_next(it, &l);
    if (r < 0)
        return lt_fail(st, l.no, "line longer than %u bytes", LT_MAX_LINE);
    if (r == 0 || !lt_is(&l, "-----BEGIN CERTIFICATE-----"))
        return lt_fail(st, r ? l.no : head->no + 2, "\"-----BEGIN CERTIFICATE-----\" expected for certificate %d", ch->n);
    unsigned begin = l.no;
    char *b64 = malloc(LT_MAX_PEM);
    if (!b64)
        return lt_fail(st, 0, "out of memory");
    size_t bn = 0;
    for (;;) {
        r = lt_next(it, &l);
        if (r < 0) {
            free(b64);
            return lt_fail(st, l.no, "line longer than %u bytes", LT_MAX_LINE);
        }
        if (r == 0) {
            free(b64);
            return lt_fail(st, begin, "certificate %d: the PEM block has no END line (file cut?)", ch->n);
        }
        if (lt_is(&l, "-----END CERTIFICATE-----"))
            break;
        if (l.n > LT_MAX_PEM - bn) {
            free(b64);
            return lt_fail(st, l.no, "certificate %d: PEM longer than %u bytes", ch->n, LT_MAX_PEM);
        }
        memcpy(b64 + bn, l.p, l.n);
        bn += l.n;
    }
    size_t dl = 0;
    unsigned char *der = malloc(bn / 4 * 3 + 3);
    if (!der) {
        free(b64);
        return lt_fail(st, 0, "out of memory");
    }
    if (lt_b64(b64, bn, der, bn / 4 * 3 + 3, &dl) != 0 || dl == 0) {
        free(b64);
        free(der);
        return lt_fail(st, begin, "certificate %d: the PEM block is not valid base64", ch->n);
    }
    free(b64);
    char xerr[160] = "";
    struct mxs_cert *c = &ch->cert[ch->n];
    /* now = the session's start: days_left as it was when it was saved. */
    if (x509view_decode(der, dl, st->started, c, xerr, sizeof xerr) != 0) {
        free(der);
        memset(c, 0, sizeof *c);
        lt_quote(xerr, strlen(xerr), q, sizeof q);
        return lt_fail(st, begin, "certificate %d: not a certificate (%s)", ch->n, q);
    }
    free(der);
    c->depth = ch->n;
    ch->n++;
    if (ch->n_total < ch->n)     /* "# fact chain.n_total" may say more were sent */
        ch->n_total = ch->n;
    if (strcmp(c->sha1, sha1) != 0) {
        lt_quote(sha1, 40, q, sizeof q);
        return lt_fail(st, begin - 1, "certificate %d: SHA-1 %s does not match its PEM (%s)", ch->n - 1, q,
                       c->sha1);
    }
    return 0;
}

/* Pass 1: header lines and the appendix.  Returns the number of record
 * lines, or -1. */
/* ---- "# fact NAME VALUE": what the dialog lines do not carry ------------ */

/* The facts of a run its transcript lines do not say (times, counts, the
 * alerts and versions a failed handshake learned): written in the appendix
 * (render.c calls session_text_facts) and read back here, from one table. */
enum { LT_F_INT, LT_F_I64, LT_F_SIZE, LT_F_STR };
struct lt_fact {
    const char *name;
    int type;
    int tls;                     /* 1: tls facts, 0: smtp facts, 2: chain  */
    size_t off, size;
};
#define LT_SMTP(n, ty, f) { n, ty, 0, offsetof(struct mxs_smtp_facts, f), \
                            sizeof ((struct mxs_smtp_facts *)0)->f }
#define LT_TLS(n, ty, f) { n, ty, 1, offsetof(struct mxs_tls_facts, f), \
                           sizeof ((struct mxs_tls_facts *)0)->f }
#define LT_CHAIN(n, ty, f) { n, ty, 2, offsetof(struct mxs_chain_facts, f), \
                             sizeof ((struct mxs_chain_facts *)0)->f }
static const struct lt_fact lt_facts[] = {
    LT_SMTP("smtp.banner_ms", LT_F_I64, banner_ms),
    LT_SMTP("smtp.leftover_plain", LT_F_SIZE, leftover_plain),
    LT_TLS("tls.attempted", LT_F_INT, attempted),
    LT_TLS("tls.server_hello_version", LT_F_INT, server_hello_version),
    LT_TLS("tls.alert_received", LT_F_INT, alert_received),
    LT_TLS("tls.alert_name", LT_F_STR, alert_name),
    LT_TLS("tls.alert_sent", LT_F_INT, alert_sent),
    LT_TLS("tls.alert_sent_name", LT_F_STR, alert_sent_name),
    LT_TLS("tls.cert_requested", LT_F_INT, cert_requested),
    LT_TLS("tls.client_cert_sent", LT_F_INT, client_cert_sent),
    LT_TLS("tls.mbedtls_error", LT_F_INT, mbedtls_error),
    LT_TLS("tls.error", LT_F_STR, error),
    LT_TLS("tls.sni_sent", LT_F_STR, sni_sent),
    LT_TLS("tls.handshake_ms", LT_F_I64, handshake_ms),
    LT_TLS("tls.bytes_in", LT_F_SIZE, bytes_in),
    LT_TLS("tls.bytes_out", LT_F_SIZE, bytes_out),
    LT_TLS("tls.version_accepted.0", LT_F_INT, version_accepted[0]),
    LT_TLS("tls.version_accepted.1", LT_F_INT, version_accepted[1]),
    LT_TLS("tls.version_accepted.2", LT_F_INT, version_accepted[2]),
    LT_TLS("tls.version_accepted.3", LT_F_INT, version_accepted[3]),
    LT_TLS("tls.legacy_probed", LT_F_INT, legacy_probed),
    LT_TLS("tls.pss_retry", LT_F_INT, pss_retry),
    LT_TLS("tls.key_update", LT_F_INT, key_update),
    LT_TLS("tls.key_update_retry", LT_F_INT, key_update_retry),
    LT_TLS("tls.local_error", LT_F_INT, local_error),
    LT_TLS("tls.cert_msg_bytes", LT_F_SIZE, cert_msg_bytes),
    LT_TLS("tls.cert_msg_limit", LT_F_SIZE, cert_msg_limit),
    LT_TLS("tls.refused", LT_F_INT, refused),
    LT_TLS("tls.refused_cert", LT_F_INT, refused_cert),
    LT_TLS("tls.refused_san", LT_F_INT, refused_san),
    LT_TLS("tls.refused_san_entry", LT_F_INT, refused_san_entry),
    LT_TLS("tls.refused_san_len", LT_F_INT, refused_san_len),
    LT_CHAIN("chain.checked_at", LT_F_I64, checked_at),
    LT_CHAIN("chain.path_len", LT_F_INT, path_len),
    LT_CHAIN("chain.n_total", LT_F_INT, n_total),
};

void session_text_facts(const struct engine *e, struct buf *out)
{
    for (size_t i = 0; i < sizeof lt_facts / sizeof lt_facts[0]; i++) {
        const struct lt_fact *f = &lt_facts[i];
        const char *base = f->tls == 1 ? (const char *)engine_tls(e)
                           : f->tls == 2 ? (const char *)engine_chain(e) : (const char *)engine_smtp(e);
        const void *v = base + f->off;
        buf_printf(out, "# fact %s ", f->name);
        switch (f->type) {
        case LT_F_INT: buf_printf(out, "%d", *(const int *)v); break;
        case LT_F_I64: buf_printf(out, "%lld", (long long)*(const int64_t *)v); break;
        case LT_F_SIZE: buf_printf(out, "%zu", *(const size_t *)v); break;
        default: buf_puts_escaped(out, (const char *)v); break;
        }
        buf_puts(out, "\n");
    }
    /* RESOLVE's and POLICY's facts are structured (MX hosts, addresses,
     * TLSA, TXT answers, the policy fetch): one line each, the JSON
     * document's own objects, ASCII only (control bytes and non-ASCII as
     * \u escapes), so the loader reads them with the JSON loader's code.
     * A line that would pass LT_MAX_LINE is left out: the file still
     * loads, with what its dialog lines say. */
    json_t *root = render_json_tree(e);
    static const char *const objs[] = {"dns", "policy", "dane"};
    for (size_t i = 0; root && i < sizeof objs / sizeof objs[0]; i++) {
        json_t *o = i < 2 ? json_object_get(root, objs[i])
                          : json_object_get(json_object_get(root, "verification"), "dane");
        char *js = o && !json_is_null(o) ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
        if (js && strlen(js) + 32 < LT_MAX_LINE)
            buf_printf(out, "# fact %s.json %s\n", objs[i], js);
        free(js);
    }
    json_decref(root);
}

static int lt_fact_line(struct lt_state *st, const struct lt_line *l)
{
    const char *p = l->p + 7, *end = l->p + l->n, *nm;
    size_t nn = lt_token(&p, end, &nm);
    while (p < end && *p == ' ')
        p++;
    int isdns = lt_tokeq(nm, nn, "dns.json"), isdane = lt_tokeq(nm, nn, "dane.json");
    if (isdns || isdane || lt_tokeq(nm, nn, "policy.json")) {
        char **dst = isdns ? &st->dns_json : isdane ? &st->dane_json : &st->policy_json;
        free(*dst);
        if (!(*dst = malloc((size_t)(end - p) + 1)))
            return lt_fail(st, l->no, "out of memory");
        memcpy(*dst, p, (size_t)(end - p));
        (*dst)[end - p] = 0;
        return 0;
    }
    for (size_t i = 0; i < sizeof lt_facts / sizeof lt_facts[0]; i++) {
        const struct lt_fact *f = &lt_facts[i];
        if (!lt_tokeq(nm, nn, f->name))
            continue;
        char *base = f->tls == 1 ? (char *)&st->tls : f->tls == 2 ? (char *)&st->chain
                                                                  : (char *)&st->smtp;
        char num[32];
        size_t vn = (size_t)(end - p);
        if (f->type == LT_F_STR) {
            size_t k = mxs_unescape(p, vn, (unsigned char *)base + f->off, f->size - 1);
            base[f->off + k] = 0;
            return 0;
        }
        char *ep;
        if (vn == 0 || vn >= sizeof num)
            return lt_fail(st, l->no, "fact %s: a number", f->name);
        memcpy(num, p, vn);
        num[vn] = 0;
        long long x = strtoll(num, &ep, 10);
        if (*ep || (f->type != LT_F_I64 && (x < INT_MIN || x > INT_MAX)) ||
            (f->type == LT_F_SIZE && x < 0))
            return lt_fail(st, l->no, "fact %s: a number in range", f->name);
        if (f->type == LT_F_INT)
            *(int *)(base + f->off) = (int)x;
        else if (f->type == LT_F_I64)
            *(int64_t *)(base + f->off) = x;
        else
            *(size_t *)(base + f->off) = (size_t)x;
        return 0;
    }
    return 0;   /* a fact of a later version: ignored */
}

/* "# set NAME VALUE" (the appendix): VALUE escaped; shown defaults
 * ("none", "(system)") and values that only describe ("auto (25)") are
 * left as the defaults they stand for. */
static int lt_setting(struct lt_state *st, const struct lt_line *l)
{
    const char *p = l->p + 6, *end = l->p + l->n, *nm;
    size_t nn = lt_token(&p, end, &nm);
    char name[64], v[1100], serr[160];
    if (nn == 0 || nn >= sizeof name)
        return lt_fail(st, l->no, "a settings line is \"# set NAME VALUE\"");
    memcpy(name, nm, nn);
    name[nn] = 0;
    while (p < end && *p == ' ')
        p++;
    size_t vn = mxs_unescape(p, (size_t)(end - p), (unsigned char *)v, sizeof v - 1);
    v[vn] = 0;
    const struct mxs_setting_def *d = mxs_setting_find(name);
    if (d && !(d->empty && !strcmp(v, d->empty)))
        mxs_settings_set(&st->set, name, v, serr, sizeof serr);
    return 0;
}

static long lt_pass1(struct lt_state *st, const char *text, size_t len)
{
    struct lt_iter it = { text, len, 0, 0 };
    struct lt_line l;
    char q[200];
    long records = 0;
    int appendix = 0, target = 0, r;
    st->chain_announced = -1;
    while ((r = lt_next(&it, &l)) != 0) {
        if (r < 0)
            return lt_fail(st, l.no, "line longer than %u bytes", LT_MAX_LINE);
        if (memchr(l.p, 0, l.n))
            return lt_fail(st, l.no, "a NUL byte (a saved transcript is text; damaged file?)");
        if (l.no == 1) {
            /* "# mxscope VERSION transcript, started YYYY-MM-DDTHH:MM:SSZ" */
            if (!lt_starts(&l, "# mxscope "))
                return lt_fail(st, 1, "not a mxscope transcript (no \"# mxscope\" header)");
            const char *end = l.p + l.n, *p = l.p + 10, *v;
            size_t vn = lt_token(&p, end, &v);
            static const char mid[] = " transcript, started ";
            char when[32];
            struct tm tm;
            size_t wn = (size_t)(end - p) - (sizeof mid - 1);
            if (!vn || (size_t)(end - p) < sizeof mid - 1 || memcmp(p, mid, sizeof mid - 1) ||
                wn >= sizeof when)
                return lt_fail(st, 1, "not a mxscope transcript header "
                               "(\"# mxscope VERSION transcript, started TIME\")");
            memcpy(when, p + sizeof mid - 1, wn);
            when[wn] = 0;
            memset(&tm, 0, sizeof tm);
            const char *te = strptime(when, "%Y-%m-%dT%H:%M:%SZ", &tm);
            if (!te || *te) {
                lt_quote(when, wn, q, sizeof q);
                return lt_fail(st, 1, "start time \"%s\" is not YYYY-MM-DDTHH:MM:SSZ", q);
            }
            st->started = timegm(&tm);
            continue;
        }
        if (appendix) {
            if (lt_starts(&l, "# verdict ")) {
                if (lt_verdict(st, &l) != 0)
                    return -1;
            } else if (lt_starts(&l, "# set ")) {
                if (lt_setting(st, &l) != 0)
                    return -1;
            } else if (lt_starts(&l, "# fact ")) {
                if (lt_fact_line(st, &l) != 0)
                    return -1;
            } else if (lt_starts(&l, "# chain: ")) {
                long n = 0;
                size_t i = 9;
                for (; i < l.n && l.p[i] >= '0' && l.p[i] <= '9' && n < 1000; i++)
                    n = n * 10 + (l.p[i] - '0');
                if (i == 9 || i >= l.n || l.p[i] != ' ' || n > MXS_MAX_CHAIN || st->chain_announced >= 0)
                    return lt_fail(st, l.no, "\"# chain: N certificates ...\" with N at most %d, once",
                                   MXS_MAX_CHAIN);
                st->chain_announced = (int)n;
            } else if (l.n > 2 && lt_starts(&l, "# ") && l.p[2] >= '0' && l.p[2] <= '9') {
                if (st->chain_announced < 0)
                    return lt_fail(st, l.no, "a certificate before the \"# chain:\" line");
                if (lt_cert(st, &it, &l) != 0)
                    return -1;
            } else if (l.n && l.p[0] != '#') {
                lt_quote(l.p, l.n, q, sizeof q);
                return lt_fail(st, l.no, "unexpected text after the transcript: \"%s\"", q);
            }
            /* Other "#" lines: comments (forward compatible). */
            continue;
        }
        if (lt_is(&l, "#")) {
            appendix = 1;
            continue;
        }
        if (l.n && l.p[0] == '+') {
            records++;
            continue;
        }
        if (lt_starts(&l, "# target: ")) {
            /* "# target: TARGET port N": TARGET is escaped, may hold spaces. */
            const char *p = l.p + 10, *end = l.p + l.n, *sp = NULL;
            for (const char *x = p; x + 6 <= end; x++)
                if (!memcmp(x, " port ", 6))
                    sp = x;
            long port = 0;
            const char *d = sp ? sp + 6 : end;
            for (; d < end && *d >= '0' && *d <= '9' && port <= 65535; d++)
                port = port * 10 + (*d - '0');
            if (!sp || d != end || d == sp + 6 || port < 1 || port > 65535)
                return lt_fail(st, l.no, "a target line is \"# target: NAME port N\" (N 1-65535)");
            size_t tn = mxs_unescape(p, (size_t)(sp - p), (unsigned char *)st->set.target,
                                     sizeof st->set.target - 1);
            st->set.target[tn] = 0;
            st->set.port = (uint16_t)port;
            target = 1;
            continue;
        }
        if (l.n == 0 || lt_starts(&l, "# "))
            continue; /* "# marks: ..." and blank lines */
        lt_quote(l.p, l.n, q, sizeof q);
        return lt_fail(st, l.no, "not a transcript record (\"+SECONDS STEP MARK TEXT\"): \"%s\"", q);
    }
    if (!records)
        return lt_fail(st, 0, "not a mxscope transcript: no record lines");
    if (!target)
        return lt_fail(st, 0, "no \"# target: NAME port N\" line");
    if (appendix && st->chain_announced >= 0 && st->chain_announced != st->chain.n)
        return lt_fail(st, 0, "the chain line announces %d certificates but %d follow (file cut?)",
                       st->chain_announced, st->chain.n);
    return records;
}

/* ---- pass 2: records and the facts they describe -------------------------- */

/* "+  0.012s": microseconds (whole milliseconds as written). */
static int lt_time(const char **pp, const char *end, int64_t *us)
{
    const char *p = *pp;
    int neg = 0, nd = 0, fd = 0;
    int64_t whole = 0, frac = 0;
    if (p >= end || *p != '+')
        return -1;
    p++;
    while (p < end && *p == ' ')
        p++;
    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }
    for (; p < end && *p >= '0' && *p <= '9'; p++, nd++)
        if (nd < 12)
            whole = whole * 10 + (*p - '0');
    if (nd == 0 || nd > 12)
        return -1;
    if (p < end && *p == '.') {
        p++;
        for (; p < end && *p >= '0' && *p <= '9'; p++, fd++)
            if (fd < 6)
                frac = frac * 10 + (*p - '0');
        if (fd == 0 || fd > 6)
            return -1;
        for (int k = fd; k < 6; k++)
            frac *= 10;
    }
    if (p + 1 >= end || p[0] != 's' || p[1] != ' ')
        return -1;
    *us = (whole * 1000000 + frac) * (neg ? -1 : 1);
    *pp = p + 2;
    return 0;
}

/* "NAME started (...)", "NAME skipped: why", "NAME STATE N ms[: detail]". */
static void lt_step_record(struct engine *e, enum mxs_step s, const char *d, size_t n)
{
    const char *p = d, *end = d + n, *t;
    char detail[256];  /* a step's detail, as the engine keeps it */
    size_t tn = lt_token(&p, end, &t);
    int si = lt_lookup(t, tn, mxs_step_from_name);
    if (si < 0)
        si = s;
    if (si < 0 || si >= MXS_STEP_COUNT)
        return;
    tn = lt_token(&p, end, &t);
    if (lt_tokeq(t, tn, "started")) {
        engine_replay_step(e, (enum mxs_step)si, MXS_ST_RUNNING, 0, "");
        return;
    }
    if (tn == 8 && !memcmp(t, "skipped:", 8)) {
        while (p < end && *p == ' ')
            p++;
        snprintf(detail, sizeof detail, "%.*s", (int)(end - p), p);
        engine_replay_step(e, (enum mxs_step)si, MXS_ST_SKIPPED, 0, detail);
        return;
    }
    int st = lt_lookup(t, tn, mxs_step_state_from_name);
    if (st < 0 || st == MXS_ST_PENDING)
        return;
    const char *ms;
    size_t msn = lt_token(&p, end, &ms);
    int64_t v = 0;
    for (size_t i = 0; i < msn && i < 15; i++) {
        if (ms[i] < '0' || ms[i] > '9')
            return;
        v = v * 10 + (ms[i] - '0');
    }
    if (!msn || end - p < 3 || memcmp(p, " ms", 3))
        return;
    p += 3;
    detail[0] = 0;
    if (end - p >= 2 && !memcmp(p, ": ", 2))
        snprintf(detail, sizeof detail, "%.*s", (int)(end - p - 2), p + 2);
    /* A failed step's detail came with "!! NAME failed: ...": kept. */
    engine_replay_step(e, (enum mxs_step)si, (enum mxs_step_state)st, v, st == MXS_ST_FAIL ? NULL : detail);
}

/* "!! NAME failed: detail" carries a failed step's detail. */
static void lt_error_record(struct engine *e, const char *d, size_t n)
{
    for (int i = 0; i < MXS_STEP_COUNT; i++) {
        const char *nm = mxs_step_name((enum mxs_step)i);
        size_t k = strlen(nm);
        if (n > k + 9 && !memcmp(d, nm, k) && !memcmp(d + k, " failed: ", 9)) {
            char detail[256];
            snprintf(detail, sizeof detail, "%.*s", (int)(n - k - 9), d + k + 9);
            engine_replay_step(e, (enum mxs_step)i, engine_step_state(e, (enum mxs_step)i), -1, detail);
            return;
        }
    }
}

/* "SEVERITY ID: MESSAGE" -> a finding as it was shown. */
static void lt_finding(struct lt_state *st, enum mxs_step s, const char *d, size_t n)
{
    const char *p = d, *end = d + n, *sv, *id;
    size_t svn = lt_token(&p, end, &sv);
    int sev = lt_lookup(sv, svn, mxs_severity_from_name);
    size_t idn = lt_token(&p, end, &id);
    if (sev < 0 || idn < 2 || id[idn - 1] != ':' || st->n_findings >= MXS_MAX_FINDINGS)
        return;
    idn--;
    struct mxs_finding *f = &st->findings[st->n_findings];
    memset(f, 0, sizeof *f);
    /* ids are printed as they are: lower-case letters, digits, '-' only */
    if (idn >= sizeof f->id || strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789-") < idn)
        return;
    memcpy(f->id, id, idn);
    f->severity = (enum mxs_severity)sev;
    f->step = s;
    f->cert_depth = -1;
    if (p < end && *p == ' ')
        p++;
    snprintf(f->message, sizeof f->message, "%.*s", (int)(end - p), p);
    st->n_findings++;
}

/* Verify flag names ("expired, not-trusted" / "ok") back to MXS_V_* bits. */
static unsigned lt_flags(const char *p, const char *end)
{
    unsigned f = 0;
    while (p < end) {
        const char *c = p;
        while (c < end && *c != ',')
            c++;
        const char *w = p;
        while (w < c && *w == ' ')
            w++;
        f |= mxs_verify_flag_from_name(w, (size_t)(c - w));
        p = c < end ? c + 1 : end;
    }
    return f;
}

/* The report prints some facts as they are (they are ours, not the
 * server's, in a live session): from a file they must be plain visible
 * ASCII without spaces, or they are not restored. */
static int lt_plain(const char *p, size_t n, size_t max)
{
    if (n == 0 || n >= max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7F)
            return 0;
    return 1;
}

/* TLS_INFO lines that carry facts. */
static void lt_tls_info(struct lt_state *st, enum mxs_step s, const char *d, size_t n)
{
    const char *end = d + n;
    if (s == MXS_STEP_HANDSHAKE && n > 4 && !memcmp(d, "TLSv", 4)) {
        /* "VERSION, CIPHER, group G, SNI S" */
        const char *c1 = memchr(d, ',', n);
        if (!c1 || end - c1 < 2)
            return;
        const char *ci = c1 + 2, *c2 = memchr(ci, ',', (size_t)(end - ci));
        if (!c2 || end - c2 < 8 || memcmp(c2, ", group ", 8))
            return;
        const char *g = c2 + 8, *c3 = memchr(g, ',', (size_t)(end - g));
        if (!c3 || end - c3 < 6 || memcmp(c3, ", SNI ", 6))
            return;
        struct mxs_tls_facts *t = &st->tls;
        const char *sni = c3 + 6;
        if (!lt_plain(d, (size_t)(c1 - d), sizeof t->version_name) ||
            !lt_plain(ci, (size_t)(c2 - ci), sizeof t->cipher) || !lt_plain(g, (size_t)(c3 - g), sizeof t->group) ||
            !lt_plain(sni, (size_t)(end - sni), sizeof t->sni_sent))
            return;
        t->attempted = t->ok = 1;
        snprintf(t->version_name, sizeof t->version_name, "%.*s", (int)(c1 - d), d);
        snprintf(t->cipher, sizeof t->cipher, "%.*s", (int)(c2 - ci), ci);
        if (!(c3 - g == 1 && *g == '?'))
            snprintf(t->group, sizeof t->group, "%.*s", (int)(c3 - g), g);
        if (!(end - c3 - 6 == 6 && !memcmp(c3 + 6, "(none)", 6)))
            snprintf(t->sni_sent, sizeof t->sni_sent, "%.*s", (int)(end - c3 - 6), c3 + 6);
        for (int v = 10; v <= 13; v++) /* 10..13 as in core.h, named by tlsrec.c */
            if (!strcmp(t->version_name, tlsrec_version_name(0x0301 + v - 10)))
                t->version = v;
        return;
    }
    if (s == MXS_STEP_CHAIN && n > 5 && !memcmp(d, "cert ", 5)) {
        /* "cert N: SUBJECT, D days left, SHA-1 HEX: FLAGS": the subject may
         * hold anything, so anchor on the last " SHA-1 ". */
        long idx = 0;
        size_t i = 5;
        for (; i < n && d[i] >= '0' && d[i] <= '9' && idx < 1000; i++)
            idx = idx * 10 + (d[i] - '0');
        const char *sh = NULL;
        for (const char *x = d; x + 7 <= end; x++)
            if (!memcmp(x, " SHA-1 ", 7))
                sh = x + 7;
        if (i == 5 || idx >= st->chain.n || !sh || end - sh < 42 || memcmp(sh + 40, ": ", 2))
            return;
        struct mxs_cert *c = &st->chain.cert[idx];
        if (memcmp(c->sha1, sh, 40) != 0)
            return; /* another certificate than the PEM one: no flags */
        c->verify_flags = lt_flags(sh + 42, end);
        /* ", D days left" just before " SHA-1 ": the count as judged then
         * (the start time is whole seconds, so recomputing can be a day off). */
        const char *dl = sh - 7;
        static const char left[] = " days left,";
        if (dl - d > (long)sizeof left && !memcmp(dl - (sizeof left - 1), left, sizeof left - 1)) {
            const char *q = dl - (sizeof left - 1);
            const char *b = q;
            while (b > d && ((b[-1] >= '0' && b[-1] <= '9') || b[-1] == '-'))
                b--;
            long v = 0;
            int neg = b < q && *b == '-', ok = b + neg < q && q - b <= 8;
            for (const char *x = b + neg; ok && x < q; x++) {
                if (*x < '0' || *x > '9')
                    ok = 0;
                else
                    v = v * 10 + (*x - '0');
            }
            if (ok)
                c->days_left = (int)(neg ? -v : v);
        }
    }
}

/* The first reply of BANNER, EHLO (or HELO), STARTTLS and EHLO2, rebuilt by
 * the same parser that read them from the wire. */
static void lt_smtp_in(struct lt_state *st, enum mxs_step s, const unsigned char *d, size_t n)
{
    struct mxs_smtp_facts *m = &st->smtp;
    struct mxs_reply *dst = NULL;
    if (!st->sp || s < 0 || s >= MXS_STEP_COUNT)
        return;
    switch (s) {
    case MXS_STEP_BANNER: dst = &m->banner; break;
    case MXS_STEP_EHLO: dst = st->helo_pending ? &m->helo : &m->ehlo; break;
    case MXS_STEP_STARTTLS: dst = &m->starttls; break;
    case MXS_STEP_EHLO2: dst = &m->ehlo2; break;
    default: return;
    }
    int slot = s == MXS_STEP_EHLO && st->helo_pending ? MXS_STEP_COUNT : (int)s;
    if (st->reply_done[slot])
        return; /* the first reply of the step is the one the step judged */
    if (st->sp_step != s) {
        smtp_parser_reset(st->sp);
        st->sp_step = s;
    }
    /* The line as received, then the CRLF the transcript leaves out. */
    for (int part = 0; part < 2; part++) {
        struct mxs_reply r;
        size_t used = 0;
        enum smtp_feed_result fr = smtp_parser_feed(st->sp, part ? (const void *)"\r\n" : (const void *)d,
                                                    part ? 2 : n, &used, &r);
        if (fr == SMTP_REPLY) {
            *dst = r;
            st->reply_done[slot] = 1;
            if (slot == MXS_STEP_COUNT)
                m->used_helo = 1;
            return;
        }
        if (fr != SMTP_NEED_MORE)
            return;
    }
}

static int lt_pass2(struct lt_state *st, const char *text, size_t len)
{
    struct lt_iter it = { text, len, 0, 0 };
    struct lt_line l;
    struct engine *e = st->e;
    char q[200];
    int r;
    while ((r = lt_next(&it, &l)) > 0) {
        if (lt_is(&l, "#"))
            break; /* the appendix: read in pass 1 */
        if (!l.n || l.p[0] != '+')
            continue;
        const char *p = l.p, *end = l.p + l.n, *stp;
        int64_t us;
        if (lt_time(&p, end, &us) != 0)
            return lt_fail(st, l.no, "a record starts with \"+SECONDS.MMMs \"");
        size_t sn = lt_token(&p, end, &stp);
        int step = MXS_STEP_NONE;
        if (!lt_tokeq(stp, sn, "-") && (step = lt_lookup(stp, sn, mxs_step_from_name)) < 0) {
            lt_quote(stp, sn, q, sizeof q);
            return lt_fail(st, l.no, "unknown step \"%s\"", q);
        }
        while (p < end && *p == ' ')
            p++;
        /* T< and T> lines carry the record's description, not its bytes:
         * kept as such (render.c shows a description as it is), so the
         * direction marks survive a round trip. */
        int kind = session_mark_kind(p, (size_t)(end - p));
        if (kind < 0) {
            lt_quote(p, (size_t)(end - p), q, sizeof q);
            return lt_fail(st, l.no, "unknown mark at \"%s\" (== D: S: C: T< T> T: X: ** # !! H> H<)", q);
        }
        int is_x = kind == MXS_REC_CERT;
        p += 2;
        if (p < end && *p != ' ')
            return lt_fail(st, l.no, "a space must follow the mark");
        if (p < end)
            p++;
        size_t dn = mxs_unescape(p, (size_t)(end - p), st->ubuf, LT_MAX_LINE);
        const unsigned char *d = st->ubuf;
        if (is_x) {
            /* "certificate, N bytes DER": the DER is the PEM of the appendix. */
            int k = st->n_x++;
            if (k >= st->chain.n)
                continue;
            d = st->chain.cert[k].der;
            dn = st->chain.cert[k].der_len;
        }
        if (engine_replay_record(e, (enum mxs_rec_kind)kind, (enum mxs_step)step, d, dn, us) != 0)
            continue; /* the transcript is full: the rest is not read */
        const char *txt = (const char *)d;
        switch (kind) {
        case MXS_REC_STEP: lt_step_record(e, (enum mxs_step)step, txt, dn); break;
        case MXS_REC_ERROR: lt_error_record(e, txt, dn); break;
        case MXS_REC_FINDING: lt_finding(st, (enum mxs_step)step, txt, dn); break;
        case MXS_REC_TLS_INFO: lt_tls_info(st, (enum mxs_step)step, txt, dn); break;
        case MXS_REC_SMTP_IN: lt_smtp_in(st, (enum mxs_step)step, d, dn); break;
        case MXS_REC_SMTP_OUT:
            if (step == MXS_STEP_EHLO && dn >= 4 && !memcmp(d, "HELO", 4))
                st->helo_pending = 1;
            break;
        case MXS_REC_DNS:
            if (dn > 3 && !memcmp(d, "MX ", 3))
                st->set.target_is_host = 0; /* an MX lookup: the target was a domain */
            break;
        case MXS_REC_NOTE:
            if (step == MXS_STEP_CONNECT && dn > 14 && !memcmp(d, "connecting to ", 14)) {
                char a[64];
                unsigned port = 0;
                if (sscanf(txt + 14, "%63s port %u", a, &port) == 2 && port > 0 && port < 65536 &&
                    strspn(a, "0123456789abcdefABCDEF.:") == strlen(a)) {
                    snprintf(st->conn.addr.text, sizeof st->conn.addr.text, "%s", a);
                    st->conn.addr.family = strchr(a, ':') ? 6 : 4;
                    st->conn.port = (uint16_t)port;
                    st->conn.attempts++;
                    st->conn.done = 1;
                }
            }
            break;
        }
    }
    /* Certificates of the appendix without an "X:" line (lines deleted by
     * hand?) still become CERT records: the chain pane and JSON show them. */
    for (int k = st->n_x; k < st->chain.n; k++) {
        size_t nr = engine_record_count(e);
        int64_t t = nr ? engine_record(e, nr - 1)->t_us : 0;
        engine_replay_record(e, MXS_REC_CERT, MXS_STEP_CHAIN, st->chain.cert[k].der, st->chain.cert[k].der_len, t);
    }
    return 0;
}

/* Facts of the whole chain, as far as the text carries them. */
static void lt_chain_facts(struct lt_state *st, const struct mxs_dns_facts *dns)
{
    struct mxs_chain_facts *ch = &st->chain;
    struct engine_step_info si;
    if (!ch->n)
        return;
    unsigned vr = 0;
    for (int i = 0; i < ch->n; i++)
        vr |= ch->cert[i].verify_flags;
    engine_step_info(st->e, MXS_STEP_CHAIN, &si);
    const char *se = si.detail;
    if (!strncmp(se, "verification: ", 14)) {
        const char *p = se + 14, *end = p + strlen(p);
        const char *fm = strstr(p, ", fingerprint mismatch");
        if (fm) {
            end = fm;
            ch->fp_expected = 1;
            ch->fp_match = 0;
        }
        vr |= lt_flags(p, end);
    }
    ch->verify_result = vr;
    ch->trusted = !(vr & (MXS_V_NOT_TRUSTED | MXS_V_MISSING));
    /* The name checked: the host probed, or for a mail domain the MX host
     * the connection went to (the file's dns.json fact). */
    const char *mxh = st->set.target_is_host ? st->set.target
                      : dns && dns->done && st->conn.mx_index >= 0 && st->conn.mx_index < dns->n_mx
                      ? dns->mx[st->conn.mx_index].host : NULL;
    if (mxh) {
        snprintf(ch->name_checked, sizeof ch->name_checked, "%s", mxh);
        ch->name_matches_mx = !(ch->cert[0].verify_flags & MXS_V_NAME);
    }
    for (int i = 0; i < ch->n; i++)
        if (ch->cert[i].verify_flags & MXS_V_SKIPPED)
            ch->trusted = 0;
}

/* The words of findings and verdicts are not in the text, only their ids.
 * Run the diagnosis again on the restored facts, at the time the chain was
 * checked, and take its words only where it agrees with what was saved:
 * the saved ids, steps and outcomes stay the truth of the replay.  Without
 * any verdict line (a file cut before its appendix) the verdicts are the
 * diagnosis' own. */
static void lt_rediag(struct lt_state *st)
{
    struct engine *e = st->e;
    struct diag_input in;
    engine_diag_input(e, &in);
    int64_t t_chain = 0;
    for (size_t i = 0; i < engine_record_count(e); i++)
        if (engine_record(e, i)->kind == MXS_REC_CERT) {
            t_chain = engine_record(e, i)->t_us;
            break;
        }
    if (!engine_chain(e)->checked_at) /* older files: near enough */
        in.now = engine_started_at(e) + (time_t)(t_chain > 0 ? t_chain / 1000000 : 0);
    struct mxs_finding *f = malloc(MXS_MAX_FINDINGS * sizeof *f);
    struct mxs_verdict v[MXS_POL_COUNT];
    if (!f)
        return;
    int n = diag_run(&in, f, MXS_MAX_FINDINGS, v);
    int used[MXS_MAX_FINDINGS] = { 0 };
    for (int i = 0; i < st->n_findings; i++) {
        struct mxs_finding *g = &st->findings[i];
        for (int j = 0; j < n; j++) {
            if (used[j] || strcmp(f[j].id, g->id) || f[j].step != g->step || f[j].severity != g->severity)
                continue;
            used[j] = 1;
            g->cert_depth = f[j].cert_depth;
            memcpy(g->evidence, f[j].evidence, sizeof g->evidence);
            memcpy(g->advice, f[j].advice, sizeof g->advice);
            break;
        }
    }
    for (int p = 0; p < MXS_POL_COUNT; p++) {
        struct mxs_verdict *w = &st->verdicts[p];
        if (!st->verdicts_seen)
            *w = v[p]; /* the appendix was cut off: the diagnosis of the facts */
        else if (v[p].outcome == w->outcome && v[p].step == w->step && !strcmp(v[p].finding, w->finding))
            memcpy(w->words, v[p].words, sizeof w->words);
    }
    free(f);
}

struct engine *engine_load_text(const char *text, size_t len, const char *path, char *err,
                                size_t errlen)
{
    struct lt_state *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    mxs_settings_init(&st->set);
    st->set.target_is_host = 1; /* until a "D: MX ..." line says it was a domain */
    st->started = time(NULL);
    st->tls.alert_received = st->tls.alert_sent = -1;
    for (int i = 0; i < MXS_POL_COUNT; i++) {
        st->verdicts[i].policy = (enum mxs_policy)i;
        st->verdicts[i].outcome = MXS_OUT_NOT_EVALUATED;
        st->verdicts[i].step = MXS_STEP_NONE;
    }
    st->path = path;
    st->err = err;
    st->errlen = errlen;
    st->sp_step = MXS_STEP_NONE;
    st->ubuf = malloc(LT_MAX_LINE);
    st->sp = malloc(sizeof *st->sp);
    if (!st->ubuf || !st->sp) {
        lt_fail(st, 0, "out of memory");
        goto fail;
    }
    smtp_parser_reset(st->sp);
    if (lt_pass1(st, text, len) < 0)
        goto fail;
    if (!(st->e = engine_replay_new(&st->set, st->started))) {
        lt_fail(st, 0, "out of memory");
        goto fail;
    }
    if (lt_pass2(st, text, len) != 0)
        goto fail;
    /* A step the file shows started but never ended was cut short (before
     * the diagnosis runs again on the steps). */
    for (int i = 0; i < MXS_STEP_COUNT; i++)
        if (engine_step_state(st->e, (enum mxs_step)i) == MXS_ST_RUNNING)
            engine_replay_step(st->e, (enum mxs_step)i, MXS_ST_CANCELLED, -1, NULL);
    struct mxs_smtp_facts *m = &st->smtp;
    if (m->ehlo.code == 250)
        smtp_caps_parse(&m->ehlo, &m->caps);
    if (m->ehlo2.code == 250) {
        smtp_caps_parse(&m->ehlo2, &m->caps2);
        m->caps_changed = smtp_caps_diff(&m->caps, &m->caps2, NULL, 0);
    }
    /* A pinned address (--connect, the lab) was the DNS fact of the run:
     * the text has no DNS answers then, and needs none to say so. */
    struct mxs_dns_facts *dns = calloc(1, sizeof *dns);
    if (dns && st->set.connect_addr[0]) {
        struct mxs_mx *px = &dns->mx[0];
        dns->n_mx = 1;
        dns->done = 1;
        snprintf(px->host, sizeof px->host, "%s", st->set.target);
        px->addr[0].family = strchr(st->set.connect_addr, ':') ? 6 : 4;
        snprintf(px->addr[0].text, sizeof px->addr[0].text, "%s", st->set.connect_addr);
        px->n_addr = 1;
    }
    /* The file's own RESOLVE and POLICY facts, where it has them (hostile
     * input: the JSON loader's bounded code reads them). */
    struct mxs_policy_facts *pol = NULL;
    json_error_t je;
    json_t *j = st->dns_json ? json_loads(st->dns_json, 0, &je) : NULL;
    if (dns && json_is_object(j)) {
        memset(dns, 0, sizeof *dns);
        session_json_load_dns(j, dns);
    }
    json_decref(j);
    j = st->policy_json ? json_loads(st->policy_json, 0, &je) : NULL;
    if (json_is_object(j) && (pol = calloc(1, sizeof *pol)))
        session_json_policy_load(j, pol);
    json_decref(j);
    lt_chain_facts(st, dns);
    j = st->dane_json ? json_loads(st->dane_json, 0, &je) : NULL;
    session_json_load_dane(j, &st->chain);
    json_decref(j);
    struct engine_replay_facts facts = {
        .set = &st->set, .dns = dns && dns->done ? dns : NULL, .conn = &st->conn, .smtp = &st->smtp,
        .tls = &st->tls, .chain = &st->chain, .policy = pol
    };
    engine_replay_facts(st->e, &facts);
    free(dns);
    free(pol);
    lt_rediag(st);
    engine_replay_diagnosis(st->e, st->findings, st->n_findings, st->verdicts);
    engine_replay_finish(st->e);
    struct engine *e = st->e;
    free(st->dns_json);
    free(st->policy_json);
    free(st->dane_json);
    free(st->ubuf);
    free(st->sp);
    free(st);
    return e;
fail:
    for (int i = 0; i < st->chain.n; i++)
        x509view_clear(&st->chain.cert[i]);
    engine_free(st->e);
    free(st->dns_json);
    free(st->policy_json);
    free(st->dane_json);
    free(st->ubuf);
    free(st->sp);
    free(st);
    return NULL;
}
