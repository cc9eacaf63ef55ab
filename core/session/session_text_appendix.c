/*
 * session_text_appendix.c - pass 1 of the text transcript's loader
 * (session_text.c): the header line ("# mxscope VERSION transcript, started
 * TIME", "# target: ...") and the appendix after the lone "#" line: the
 * verdicts, the settings, the "# fact" lines (handed to
 * session_text_facts.c) and the PEM chain, each certificate decoded and
 * checked against its SHA-1 line.  Part of the session module
 * (core/session).
 *
 * Apart from session_text.c because the appendix is read before the records
 * (pass 2 needs the certificates and the settings) and has a grammar of its
 * own.  Hostile input: every error names the line and what is wrong.  The
 * base64 of a PEM block is decoded by mbedTLS through x509view.c (probe
 * module), the one place besides tls*.c that includes it.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/esc.h"
#include "probe/x509view.h"
#include "session/session_int.h"

#define LT_MAX_PEM (64u * 1024u)   /* base64 of one certificate */

static int lt_verdict(struct lt_state *st, const struct lt_line *l)
{
    const char *p = l->p + strlen("# verdict "), *end = l->p + l->n, *t[4];
    size_t tn[4];
    for (int i = 0; i < 4; i++)
        tn[i] = session_text_token(&p, end, &t[i]);
    while (p < end && *p == ' ')
        p++;
    if (!tn[3] || p != end)
        return session_text_fail(st, l->no, "a verdict line is \"# verdict POLICY OUTCOME STEP|- FINDING|-\"");
    int pol = session_text_lookup(t[0], tn[0], mxs_policy_from_name);
    int out = session_text_lookup(t[1], tn[1], mxs_outcome_from_name);
    int step = MXS_STEP_NONE, step_ok = session_text_tokeq(t[2], tn[2], "-");
    if (!step_ok && (step = session_text_lookup(t[2], tn[2], mxs_step_from_name)) >= 0)
        step_ok = 1;
    if (pol < 0 || out < 0 || !step_ok) {
        char q[200];
        session_text_quote(l->p, l->n, q, sizeof q);
        return session_text_fail(st, l->no, "unknown policy, outcome or step in \"%s\"", q);
    }
    struct mxs_verdict *v = &st->verdicts[pol];
    memset(v, 0, sizeof *v);
    v->policy = (enum mxs_policy)pol;
    v->outcome = (enum mxs_outcome)out;
    v->step = (enum mxs_step)step;
    if (!session_text_tokeq(t[3], tn[3], "-")) {
        if (tn[3] >= sizeof v->finding)
            return session_text_fail(st, l->no, "finding id longer than %zu bytes", sizeof v->finding - 1);
        for (size_t i = 0; i < tn[3]; i++)
            if (!((t[3][i] >= 'a' && t[3][i] <= 'z') || (t[3][i] >= '0' && t[3][i] <= '9') || t[3][i] == '-'))
                return session_text_fail(st, l->no, "a finding id is lower-case letters, digits and '-'");
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
        return session_text_fail(st, head->no, "more than %d certificates in the chain", MXS_MAX_CHAIN);
    /* depth */
    long d = -1;
    if (head->n > 2 && head->p[2] >= '0' && head->p[2] <= '9') {
        d = 0;
        for (size_t i = 2; i < head->n && head->p[i] != ' ' && d < 1000; i++)
            d = head->p[i] >= '0' && head->p[i] <= '9' ? d * 10 + (head->p[i] - '0') : 1000;
    }
    if (d != ch->n)
        return session_text_fail(st, head->no, "certificate %d expected here (leaf first, in order)", ch->n);
    int r = session_text_next(it, &l);
    if (r < 0)
        return session_text_fail(st, l.no, "line longer than %u bytes", LT_MAX_LINE);
    if (r == 0 || !session_text_starts(&l, "# SHA-1 ") || l.n != 8 + 40)
        return session_text_fail(st, r ? l.no : head->no + 1, "\"# SHA-1 HEX\" (40 hex digits) expected after \"# %d ...\"", ch->n);
    char sha1[41];
    memcpy(sha1, l.p + 8, 40);
    sha1[40] = 0;
    r = session_text_next(it, &l);
    if (r < 0)
        return session_text_fail(st, l.no, "line longer than %u bytes", LT_MAX_LINE);
    if (r == 0 || !session_text_is(&l, "-----BEGIN CERTIFICATE-----"))
        return session_text_fail(st, r ? l.no : head->no + 2, "\"-----BEGIN CERTIFICATE-----\" expected for certificate %d", ch->n);
    unsigned begin = l.no;
    char *b64 = malloc(LT_MAX_PEM);
    if (!b64)
        return session_text_fail(st, 0, "out of memory");
    size_t bn = 0;
    for (;;) {
        r = session_text_next(it, &l);
        if (r < 0) {
            free(b64);
            return session_text_fail(st, l.no, "line longer than %u bytes", LT_MAX_LINE);
        }
        if (r == 0) {
            free(b64);
            return session_text_fail(st, begin, "certificate %d: the PEM block has no END line (file cut?)", ch->n);
        }
        if (session_text_is(&l, "-----END CERTIFICATE-----"))
            break;
        if (l.n > LT_MAX_PEM - bn) {
            free(b64);
            return session_text_fail(st, l.no, "certificate %d: PEM longer than %u bytes", ch->n, LT_MAX_PEM);
        }
        memcpy(b64 + bn, l.p, l.n);
        bn += l.n;
    }
    size_t dl = 0;
    unsigned char *der = malloc(bn / 4 * 3 + 3);
    if (!der) {
        free(b64);
        return session_text_fail(st, 0, "out of memory");
    }
    if (x509view_pem_base64(b64, bn, der, bn / 4 * 3 + 3, &dl) != 0 || dl == 0) {
        free(b64);
        free(der);
        return session_text_fail(st, begin, "certificate %d: the PEM block is not valid base64", ch->n);
    }
    free(b64);
    char xerr[160] = "";
    struct mxs_cert *c = &ch->cert[ch->n];
    /* now = the session's start: days_left as it was when it was saved. */
    if (x509view_decode(der, dl, st->started, c, xerr, sizeof xerr) != 0) {
        free(der);
        memset(c, 0, sizeof *c);
        session_text_quote(xerr, strlen(xerr), q, sizeof q);
        return session_text_fail(st, begin, "certificate %d: not a certificate (%s)", ch->n, q);
    }
    free(der);
    c->depth = ch->n;
    ch->n++;
    if (ch->n_total < ch->n)     /* "# fact chain.n_total" may say more were sent */
        ch->n_total = ch->n;
    if (strcmp(c->sha1, sha1) != 0) {
        session_text_quote(sha1, 40, q, sizeof q);
        return session_text_fail(st, begin - 1, "certificate %d: SHA-1 %s does not match its PEM (%s)", ch->n - 1, q,
                       c->sha1);
    }
    return 0;
}

/* "# set NAME VALUE" (the appendix): VALUE escaped; shown defaults
 * ("none", "(system)") and values that only describe ("auto (25)") are
 * left as the defaults they stand for. */
static int lt_setting(struct lt_state *st, const struct lt_line *l)
{
    const char *p = l->p + 6, *end = l->p + l->n, *nm;
    size_t nn = session_text_token(&p, end, &nm);
    char name[64], v[1100], serr[160];
    if (nn == 0 || nn >= sizeof name)
        return session_text_fail(st, l->no, "a settings line is \"# set NAME VALUE\"");
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

/* Pass 1: header lines and the appendix.  Returns the number of record
 * lines, or -1. */
long session_text_pass1(struct lt_state *st, const char *text, size_t len)
{
    struct lt_iter it = { text, len, 0, 0 };
    struct lt_line l;
    char q[200];
    long records = 0;
    int appendix = 0, target = 0, r;
    st->chain_announced = -1;
    while ((r = session_text_next(&it, &l)) != 0) {
        if (r < 0)
            return session_text_fail(st, l.no, "line longer than %u bytes", LT_MAX_LINE);
        if (memchr(l.p, 0, l.n))
            return session_text_fail(st, l.no, "a NUL byte (a saved transcript is text; damaged file?)");
        if (l.no == 1) {
            /* "# mxscope VERSION transcript, started YYYY-MM-DDTHH:MM:SSZ" */
            if (!session_text_starts(&l, "# mxscope "))
                return session_text_fail(st, 1, "not a mxscope transcript (no \"# mxscope\" header)");
            const char *end = l.p + l.n, *p = l.p + 10, *v;
            size_t vn = session_text_token(&p, end, &v);
            static const char mid[] = " transcript, started ";
            char when[32];
            struct tm tm;
            size_t wn = (size_t)(end - p) - (sizeof mid - 1);
            if (!vn || (size_t)(end - p) < sizeof mid - 1 || memcmp(p, mid, sizeof mid - 1) ||
                wn >= sizeof when)
                return session_text_fail(st, 1, "not a mxscope transcript header "
                               "(\"# mxscope VERSION transcript, started TIME\")");
            memcpy(when, p + sizeof mid - 1, wn);
            when[wn] = 0;
            memset(&tm, 0, sizeof tm);
            const char *te = strptime(when, "%Y-%m-%dT%H:%M:%SZ", &tm);
            if (!te || *te) {
                session_text_quote(when, wn, q, sizeof q);
                return session_text_fail(st, 1, "start time \"%s\" is not YYYY-MM-DDTHH:MM:SSZ", q);
            }
            st->started = timegm(&tm);
            continue;
        }
        if (appendix) {
            if (session_text_starts(&l, "# verdict ")) {
                if (lt_verdict(st, &l) != 0)
                    return -1;
            } else if (session_text_starts(&l, "# set ")) {
                if (lt_setting(st, &l) != 0)
                    return -1;
            } else if (session_text_starts(&l, "# fact ")) {
                if (session_text_fact_line(st, &l) != 0)
                    return -1;
            } else if (session_text_starts(&l, "# chain: ")) {
                long n = 0;
                size_t i = 9;
                for (; i < l.n && l.p[i] >= '0' && l.p[i] <= '9' && n < 1000; i++)
                    n = n * 10 + (l.p[i] - '0');
                if (i == 9 || i >= l.n || l.p[i] != ' ' || n > MXS_MAX_CHAIN || st->chain_announced >= 0)
                    return session_text_fail(st, l.no, "\"# chain: N certificates ...\" with N at most %d, once",
                                   MXS_MAX_CHAIN);
                st->chain_announced = (int)n;
            } else if (l.n > 2 && session_text_starts(&l, "# ") && l.p[2] >= '0' && l.p[2] <= '9') {
                if (st->chain_announced < 0)
                    return session_text_fail(st, l.no, "a certificate before the \"# chain:\" line");
                if (lt_cert(st, &it, &l) != 0)
                    return -1;
            } else if (l.n && l.p[0] != '#') {
                session_text_quote(l.p, l.n, q, sizeof q);
                return session_text_fail(st, l.no, "unexpected text after the transcript: \"%s\"", q);
            }
            /* Other "#" lines: comments (forward compatible). */
            continue;
        }
        if (session_text_is(&l, "#")) {
            appendix = 1;
            continue;
        }
        if (l.n && l.p[0] == '+') {
            records++;
            continue;
        }
        if (session_text_starts(&l, "# target: ")) {
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
                return session_text_fail(st, l.no, "a target line is \"# target: NAME port N\" (N 1-65535)");
            size_t tn = mxs_unescape(p, (size_t)(sp - p), (unsigned char *)st->set.target,
                                     sizeof st->set.target - 1);
            st->set.target[tn] = 0;
            st->set.port = (uint16_t)port;
            target = 1;
            continue;
        }
        if (l.n == 0 || session_text_starts(&l, "# "))
            continue; /* "# marks: ..." and blank lines */
        session_text_quote(l.p, l.n, q, sizeof q);
        return session_text_fail(st, l.no, "not a transcript record (\"+SECONDS STEP MARK TEXT\"): \"%s\"", q);
    }
    if (!records)
        return session_text_fail(st, 0, "not a mxscope transcript: no record lines");
    if (!target)
        return session_text_fail(st, 0, "no \"# target: NAME port N\" line");
    if (appendix && st->chain_announced >= 0 && st->chain_announced != st->chain.n)
        return session_text_fail(st, 0, "the chain line announces %d certificates but %d follow (file cut?)",
                       st->chain_announced, st->chain.n);
    return records;
}
