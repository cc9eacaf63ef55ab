/*
 * session_text.c - the text transcript of docs/transcript.md back into a
 * read-only session (engine_load_text, through engine_load_buffer); its
 * writer, render_transcript_text, is in render.c.  Part of the session module (core/session).
 * The loader parses into facts of its own (struct lt_state, session_int.h)
 * and fills a read-only engine only through the replay API
 * (probe/engine_replay.h); names of steps, states, severities, policies,
 * outcomes and verify flags come from names.c, the marks from render.c's
 * one table.
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
 *
 * Three files, one per concern: this one owns the line reader every pass
 * shares, pass 2 (the records) and the assembly of the engine
 * (engine_load_text); session_text_appendix.c owns pass 1 (the header and
 * the appendix: verdicts, settings, the PEM chain); session_text_facts.c
 * owns the "# fact" lines, written and read from one table.  Apart because
 * each is read and changed on its own: a new fact touches only the table,
 * a new record mark only pass 2.
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

/* ---- the line reader the passes share (session_int.h) --------------------- */

/* Next line; 0 at the end, -1 for a line over LT_MAX_LINE (l->no is set). */
int session_text_next(struct lt_iter *it, struct lt_line *l)
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

int session_text_starts(const struct lt_line *l, const char *pfx)
{
    size_t k = strlen(pfx);
    return l->n >= k && !memcmp(l->p, pfx, k);
}

int session_text_is(const struct lt_line *l, const char *s)
{
    return l->n == strlen(s) && !memcmp(l->p, s, l->n);
}

/* A short, escaped excerpt of hostile text for an error message. */
void session_text_quote(const char *p, size_t n, char *out, size_t outlen)
{
    if (n > 40)
        n = 40;
    mxs_escape(p, n, out, outlen, MXS_ESC_ASCII);
}

/* The whitespace-separated token at *p (< end); advances past it. */
size_t session_text_token(const char **p, const char *end, const char **tok)
{
    while (*p < end && **p == ' ')
        (*p)++;
    *tok = *p;
    while (*p < end && **p != ' ')
        (*p)++;
    return (size_t)(*p - *tok);
}

int session_text_tokeq(const char *tok, size_t n, const char *s)
{
    return n == strlen(s) && !memcmp(tok, s, n);
}

/* A token looked up by one of names.c's *_from_name functions; -1 if
 * unknown (or too long to be a name). */
int session_text_lookup(const char *tok, size_t n, int (*from_name)(const char *))
{
    char name[32];
    if (n == 0 || n >= sizeof name)
        return -1;
    memcpy(name, tok, n);
    name[n] = 0;
    return from_name(name);
}

int session_text_fail(struct lt_state *st, unsigned line, const char *fmt, ...)
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
    size_t tn = session_text_token(&p, end, &t);
    int si = session_text_lookup(t, tn, mxs_step_from_name);
    if (si < 0)
        si = s;
    if (si < 0 || si >= MXS_STEP_COUNT)
        return;
    tn = session_text_token(&p, end, &t);
    if (session_text_tokeq(t, tn, "started")) {
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
    int st = session_text_lookup(t, tn, mxs_step_state_from_name);
    if (st < 0 || st == MXS_ST_PENDING)
        return;
    const char *ms;
    size_t msn = session_text_token(&p, end, &ms);
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
    size_t svn = session_text_token(&p, end, &sv);
    int sev = session_text_lookup(sv, svn, mxs_severity_from_name);
    size_t idn = session_text_token(&p, end, &id);
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
    while ((r = session_text_next(&it, &l)) > 0) {
        if (session_text_is(&l, "#"))
            break; /* the appendix: read in pass 1 */
        if (!l.n || l.p[0] != '+')
            continue;
        const char *p = l.p, *end = l.p + l.n, *stp;
        int64_t us;
        if (lt_time(&p, end, &us) != 0)
            return session_text_fail(st, l.no, "a record starts with \"+SECONDS.MMMs \"");
        size_t sn = session_text_token(&p, end, &stp);
        int step = MXS_STEP_NONE;
        if (!session_text_tokeq(stp, sn, "-") && (step = session_text_lookup(stp, sn, mxs_step_from_name)) < 0) {
            session_text_quote(stp, sn, q, sizeof q);
            return session_text_fail(st, l.no, "unknown step \"%s\"", q);
        }
        while (p < end && *p == ' ')
            p++;
        /* T< and T> lines carry the record's description, not its bytes:
         * kept as such (render.c shows a description as it is), so the
         * direction marks survive a round trip. */
        int kind = session_mark_kind(p, (size_t)(end - p));
        if (kind < 0) {
            session_text_quote(p, (size_t)(end - p), q, sizeof q);
            return session_text_fail(st, l.no, "unknown mark at \"%s\" (== D: S: C: T< T> T: X: ** # !! H> H<)", q);
        }
        int is_x = kind == MXS_REC_CERT;
        p += 2;
        if (p < end && *p != ' ')
            return session_text_fail(st, l.no, "a space must follow the mark");
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
        session_text_fail(st, 0, "out of memory");
        goto fail;
    }
    smtp_parser_reset(st->sp);
    if (session_text_pass1(st, text, len) < 0)
        goto fail;
    if (!(st->e = engine_replay_new(&st->set, st->started))) {
        session_text_fail(st, 0, "out of memory");
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
    j = st->second_json ? json_loads(st->second_json, 0, &je) : NULL;
    session_json_load_second(j, &st->chain);
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
    free(st->second_json);
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
    free(st->second_json);
    free(st->ubuf);
    free(st->sp);
    free(st);
    return NULL;
}
