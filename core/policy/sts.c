/*
 * sts.c - MTA-STS (RFC 8461): the _mta-sts TXT record, the policy file and
 * MX pattern matching, judged as a sender reads them.
 *
 * Why strict on the policy's grammar: the RFC gives an ABNF and no leniency
 * rules, and large senders differ in what they forgive.  A domain whose
 * policy only some senders accept is broken for the others, so a line that
 * breaks the grammar makes the policy invalid here (a sender reports it as
 * sts-policy-invalid), and the problem names the line.  Unknown keys are
 * ignored, as §3.2 says.
 */
#include <string.h>
#include <strings.h>

#include "policy/policy.h"
#include "policy/policy_int.h"

/* ---- the TXT record ---------------------------------------------------- */

struct sts_txt_state {
    struct sts_txt *out;
    int have_id;
};

static int sts_ext_name_ok(const char *n, size_t len)
{
    /* sts-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".") */
    if (len == 0 || len > 32 || !policy_is_alnum((unsigned char)n[0]))
        return 0;
    for (size_t i = 1; i < len; i++)
        if (!policy_is_alnum((unsigned char)n[i]) && n[i] != '_' && n[i] != '-' && n[i] != '.')
            return 0;
    return 1;
}

static int sts_txt_field(const char *name, size_t nlen, const char *val, size_t vlen,
                         int index, void *arg, char *err, size_t errlen)
{
    struct sts_txt_state *st = arg;
    if (index == 0) {
        if (nlen != 1 || name[0] != 'v' || vlen != 5 || memcmp(val, "STSv1", 5) != 0) {
            policy_msg(err, errlen, "the record does not start with v=STSv1");
            return -1;
        }
        return 0;
    }
    if (nlen == 2 && memcmp(name, "id", 2) == 0) {
        if (st->have_id) {
            policy_msg(err, errlen, "id= appears twice");
            return -1;
        }
        if (vlen < 1 || vlen > 32) {
            policy_msg(err, errlen, "id= must be 1 to 32 letters or digits (it has %zu characters)", vlen);
            return -1;
        }
        for (size_t i = 0; i < vlen; i++)
            if (!policy_is_alnum((unsigned char)val[i])) {
                policy_msg(err, errlen, "id= may hold only letters and digits (character %zu is not)", i + 1);
                return -1;
            }
        memcpy(st->out->id, val, vlen);
        st->out->id[vlen] = 0;
        st->have_id = 1;
        return 0;
    }
    if (!sts_ext_name_ok(name, nlen)) {
        policy_msg(err, errlen, "field %d has a malformed name", index + 1);
        return -1;
    }
    /* sts-ext-value = 1*(%x21-3A / %x3C / %x3E-7E) */
    if (vlen == 0) {
        policy_msg(err, errlen, "field %d has an empty value", index + 1);
        return -1;
    }
    for (size_t i = 0; i < vlen; i++) {
        unsigned char c = (unsigned char)val[i];
        if (c < 0x21 || c > 0x7e || c == '=') {
            policy_msg(err, errlen, "field %d has a value with a space, '=' or a non-ASCII byte", index + 1);
            return -1;
        }
    }
    st->out->n_ext++;
    return 0;
}

int sts_txt_parse(const char *rec, size_t len, struct sts_txt *out)
{
    struct sts_txt_state st = { out, 0 };
    memset(out, 0, sizeof *out);
    if (policy_fields(rec, len, sts_txt_field, &st, out->error, sizeof out->error) != 0)
        return -1;
    if (!st.have_id) {
        policy_msg(out->error, sizeof out->error, "the record has no id= field");
        return -1;
    }
    out->valid = 1;
    return 0;
}

/* ---- the policy file --------------------------------------------------- */

const char *sts_mode_name(enum sts_mode m)
{
    switch (m) {
    case STS_MODE_ENFORCE: return "enforce";
    case STS_MODE_TESTING: return "testing";
    case STS_MODE_NONE: return "none";
    default: return "(unset)";
    }
}

static void sts_problem(struct sts_policy *p, int line, int fatal, const char *raw, size_t rawlen,
                        const char *what)
{
    p->n_problems_total++;
    if (fatal)
        p->valid = 0;
    if (p->n_problems >= STS_MAX_PROBLEMS)
        return;
    struct sts_problem *q = &p->problem[p->n_problems++];
    q->line = line;
    q->fatal = fatal;
    policy_msg(q->what, sizeof q->what, "%s", what);
    q->raw_len = rawlen < sizeof q->raw ? rawlen : sizeof q->raw;
    if (raw && q->raw_len)
        memcpy(q->raw, raw, q->raw_len);
}

/* RFC 5321 Domain: sub-domain *("." sub-domain), sub-domain = Let-dig
 * [Ldh-str]; labels of 1-63, 253 in all. */
static int sts_domain_ok(const char *d, size_t len)
{
    if (len == 0 || len > 253)
        return 0;
    size_t lab = 0;
    for (size_t i = 0; i < len; i++) {
        char c = d[i];
        if (c == '.') {
            if (lab == 0 || d[i - 1] == '-')
                return 0;
            lab = 0;
            continue;
        }
        if (!policy_is_alnum((unsigned char)c) && !(c == '-' && lab > 0))
            return 0;
        if (++lab > 63)
            return 0;
    }
    return lab > 0 && d[len - 1] != '-';
}

static int sts_key_is(const char *k, size_t klen, const char *name)
{
    return klen == strlen(name) && memcmp(k, name, klen) == 0;
}

static void sts_line(struct sts_policy *p, int ln, const char *s, size_t len, int *seen)
{
    const char *colon = memchr(s, ':', len);
    if (!colon) {
        sts_problem(p, ln, 1, s, len, "not a \"key: value\" line");
        return;
    }
    const char *k = s;
    size_t klen = (size_t)(colon - s);
    if (klen == 0 || memchr(k, ' ', klen) || memchr(k, '\t', klen)) {
        sts_problem(p, ln, 1, s, len, "the key is empty or has a space before the ':'");
        return;
    }
    const char *v = colon + 1;
    size_t vlen = len - klen - 1;
    while (vlen && (*v == ' ' || *v == '\t')) {
        v++;
        vlen--;
    }
    while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
        vlen--;
    for (size_t i = 0; i < vlen; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c < 0x20 || c == 0x7f) {
            sts_problem(p, ln, 1, s, len, "the value holds a control byte");
            return;
        }
    }
    if (sts_key_is(k, klen, "version")) {
        if (seen[0]++) {
            sts_problem(p, ln, 1, s, len, "\"version\" appears twice");
        } else if (vlen == 5 && memcmp(v, "STSv1", 5) == 0) {
            p->version_ok = 1;
        } else {
            sts_problem(p, ln, 1, s, len, "\"version\" must be STSv1");
        }
    } else if (sts_key_is(k, klen, "mode")) {
        enum sts_mode m = STS_MODE_UNSET;
        if (vlen == 7 && memcmp(v, "enforce", 7) == 0) m = STS_MODE_ENFORCE;
        else if (vlen == 7 && memcmp(v, "testing", 7) == 0) m = STS_MODE_TESTING;
        else if (vlen == 4 && memcmp(v, "none", 4) == 0) m = STS_MODE_NONE;
        if (seen[1]++)
            sts_problem(p, ln, 1, s, len, "\"mode\" appears twice");
        else if (m == STS_MODE_UNSET)
            sts_problem(p, ln, 1, s, len, "\"mode\" must be enforce, testing or none");
        else
            p->mode = m;
    } else if (sts_key_is(k, klen, "max_age")) {
        long a = 0;
        int ok = vlen >= 1 && vlen <= 10;
        for (size_t i = 0; ok && i < vlen; i++) {
            if (v[i] < '0' || v[i] > '9')
                ok = 0;
            else
                a = a * 10 + (v[i] - '0');
        }
        if (seen[2]++)
            sts_problem(p, ln, 1, s, len, "\"max_age\" appears twice");
        else if (!ok)
            sts_problem(p, ln, 1, s, len, "\"max_age\" must be a whole number of seconds (1 to 10 digits)");
        else if (a > STS_MAX_AGE_MAX) {
            p->max_age = a;
            sts_problem(p, ln, 1, s, len, "\"max_age\" is over 31557600 (one year), the most RFC 8461 allows");
        } else
            p->max_age = a;
    } else if (sts_key_is(k, klen, "mx")) {
        p->n_mx_total++;
        int wild = vlen >= 2 && v[0] == '*' && v[1] == '.';
        const char *d = wild ? v + 2 : v;
        size_t dlen = wild ? vlen - 2 : vlen;
        if (!sts_domain_ok(d, dlen)) {
            sts_problem(p, ln, 0, s, len,
                        "this mx pattern is not a host name or \"*.\" and a host name: it matches nothing");
        } else if (p->n_mx < STS_MAX_MX) {
            memcpy(p->mx[p->n_mx], v, vlen);
            p->mx[p->n_mx][vlen] = 0;
            p->n_mx++;
        }
    }
    /* other keys: extensions, ignored (§3.2) */
}

int sts_policy_parse(const char *body, size_t len, struct sts_policy *p)
{
    memset(p, 0, sizeof *p);
    p->valid = 1;
    p->max_age = -1;
    if (len > STS_POLICY_MAX)
        len = STS_POLICY_MAX;
    int seen[3] = { 0, 0, 0 };
    size_t i = 0;
    int ln = 0;
    while (i < len) {
        size_t start = i;
        while (i < len && body[i] != '\n')
            i++;
        size_t end = i;
        int had_lf = i < len;
        if (had_lf)
            i++;
        ln++;
        if (end > start && body[end - 1] == '\r') {
            end--;
            if (had_lf)
                p->crlf++;
        } else if (had_lf) {
            p->lf++;
        }
        if (memchr(body + start, '\r', end - start))
            sts_problem(p, ln, 1, body + start, end - start, "a bare CR inside the line");
        else if (end == start)
            sts_problem(p, ln, 0, NULL, 0, "an empty line (the grammar has none between fields)");
        else
            sts_line(p, ln, body + start, end - start, seen);
    }
    p->lines = ln;
    if (len == 0)
        sts_problem(p, 0, 1, NULL, 0, "the policy is empty");
    if (!p->version_ok && !seen[0])
        sts_problem(p, 0, 1, NULL, 0, "no \"version: STSv1\" line");
    if (p->mode == STS_MODE_UNSET && !seen[1])
        sts_problem(p, 0, 1, NULL, 0, "no \"mode\" line");
    if (p->max_age < 0 && !seen[2])
        sts_problem(p, 0, 1, NULL, 0, "no \"max_age\" line");
    if (p->n_mx == 0 && p->mode != STS_MODE_NONE && p->mode != STS_MODE_UNSET)
        sts_problem(p, 0, 1, NULL, 0, p->n_mx_total ? "no usable \"mx\" pattern" : "no \"mx\" line");
    return p->valid ? 0 : -1;
}

/* ---- MX patterns (§4.1) ------------------------------------------------ */

int sts_mx_match(const char *pattern, const char *host)
{
    size_t hl = strlen(host), pl = strlen(pattern);
    if (hl && host[hl - 1] == '.')
        hl--;
    if (pl && pattern[pl - 1] == '.')
        pl--;
    if (pl >= 2 && pattern[0] == '*' && pattern[1] == '.') {
        /* host = LABEL "." rest, LABEL non-empty without dots */
        const char *dot = memchr(host, '.', hl);
        if (!dot || dot == host)
            return 0;
        size_t rest = hl - (size_t)(dot + 1 - host);
        return rest == pl - 2 && rest > 0 && strncasecmp(dot + 1, pattern + 2, rest) == 0;
    }
    return hl == pl && hl > 0 && strncasecmp(host, pattern, hl) == 0;
}

int sts_policy_match(const struct sts_policy *p, const char *host)
{
    for (int i = 0; i < p->n_mx; i++)
        if (sts_mx_match(p->mx[i], host))
            return i;
    return -1;
}
