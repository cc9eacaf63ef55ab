/*
 * diagfx.h - the diagnosis tests' fixture: good_fx() is a complete, verified
 * TLS 1.3 probe built by hand (no network); each test breaks one thing.
 * Helpers check a finding (id, severity, step, the catalogue row it was
 * filed from), the verdicts, printable text and the order of findings.
 * Owner: diagnosis.  Included by test_diag.c and test_diag_tls.c after
 * <cmocka.h>.
 */
#ifndef MXS_TEST_DIAGFX_H
#define MXS_TEST_DIAGFX_H
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "core.h"
#include "diag/diag.h"

#define NOW ((time_t)1700000000) /* 2023-11-14T22:13:20Z */
#define DAY 86400
#define LEAF_SHA1 "0123456789ABCDEF0123456789ABCDEF01234567"
#define LEAF_SHA256 "AA00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEE"
#define INT_SHA1 "FEDCBA9876543210FEDCBA9876543210FEDCBA98"

struct fx {
    struct mxs_settings set;
    struct mxs_dns_facts dns;
    struct mxs_connect_facts conn;
    struct mxs_smtp_facts smtp;
    struct mxs_tls_facts tls;
    struct mxs_chain_facts chain;
    struct diag_input in;
    struct mxs_finding f[MXS_MAX_FINDINGS];
    int n;
    struct mxs_verdict v[MXS_POL_COUNT];
};

static inline void set_reply(struct mxs_reply *r, int code, const char *text)
{
    memset(r, 0, sizeof *r);
    r->code = code;
    snprintf(r->text, sizeof r->text, "%s", text);
    r->n_lines = 1;
    for (const char *p = text; *p; p++)
        if (*p == '\n')
            r->n_lines++;
}

static inline void add_cap(struct mxs_caps *c, const char *name)
{
    snprintf(c->name[c->n], sizeof c->name[c->n], "%s", name);
    c->n++;
    if (!strcmp(name, "STARTTLS"))
        c->starttls = 1;
}

static inline void make_cert(struct mxs_cert *c, int depth, const char *subject,
                      const char *issuer, const char *sha1)
{
    memset(c, 0, sizeof *c);
    c->depth = depth;
    snprintf(c->subject, sizeof c->subject, "%s", subject);
    snprintf(c->issuer, sizeof c->issuer, "%s", issuer);
    snprintf(c->sha1, sizeof c->sha1, "%s", sha1);
    snprintf(c->sha256, sizeof c->sha256, "%s", LEAF_SHA256);
    c->not_before = NOW - 30 * DAY;
    c->not_after = NOW + 60 * DAY;
    c->days_left = 60;
    snprintf(c->key_type, sizeof c->key_type, "RSA");
    c->key_bits = 2048;
    snprintf(c->sig_alg, sizeof c->sig_alg, "RSA with SHA-256");
    c->self_issued = !strcmp(subject, issuer);
}

/* A complete, healthy probe: MX found, connected, 220, EHLO with STARTTLS,
 * TLS 1.3, trusted chain leaf + intermediate covering the MX name. */
static inline struct fx *good_fx(void)
{
    struct fx *x = calloc(1, sizeof *x);
    assert_non_null(x);
    struct mxs_settings *s = &x->set;
    snprintf(s->target, sizeof s->target, "example.test");
    s->port = 25;
    snprintf(s->ehlo_name, sizeof s->ehlo_name, "probe.sender.test");
    s->expiry_warn_days = 30;
    s->mx_index = -1;
    s->addr_index = -1;
    s->stop_after = -1;
    for (int i = 0; i < MXS_STEP_COUNT; i++)
        s->timeout_ms[i] = 30000;

    x->dns.done = 1;
    x->dns.mx_answer.dnssec = MXS_DNSSEC_INSECURE;
    x->dns.n_mx = 1;
    struct mxs_mx *m = &x->dns.mx[0];
    m->preference = 10;
    snprintf(m->host, sizeof m->host, "mx.example.test");
    m->n_addr = 1;
    m->addr[0].family = 4;
    snprintf(m->addr[0].text, sizeof m->addr[0].text, "127.0.0.1");
    m->tlsa.rcode = MXS_DNS_NXDOMAIN;
    m->tlsa.dnssec = MXS_DNSSEC_INSECURE;

    x->conn.done = 1;
    x->conn.addr = m->addr[0];
    x->conn.port = 25;
    x->conn.attempts = 1;
    x->conn.elapsed_ms = 2;

    set_reply(&x->smtp.banner, 220, "mx.example.test ESMTP");
    x->smtp.banner_ms = 40;
    set_reply(&x->smtp.ehlo, 250, "mx.example.test\nPIPELINING\nSIZE 10240000\nSTARTTLS\n8BITMIME");
    add_cap(&x->smtp.caps, "PIPELINING");
    add_cap(&x->smtp.caps, "SIZE");
    add_cap(&x->smtp.caps, "STARTTLS");
    add_cap(&x->smtp.caps, "8BITMIME");
    set_reply(&x->smtp.starttls, 220, "2.0.0 Ready to start TLS");
    set_reply(&x->smtp.ehlo2, 250, "mx.example.test\nPIPELINING\nSIZE 10240000\n8BITMIME");
    add_cap(&x->smtp.caps2, "PIPELINING");
    add_cap(&x->smtp.caps2, "SIZE");
    add_cap(&x->smtp.caps2, "8BITMIME");

    x->tls.attempted = 1;
    x->tls.ok = 1;
    x->tls.version = 13;
    snprintf(x->tls.version_name, sizeof x->tls.version_name, "TLSv1.3");
    snprintf(x->tls.cipher, sizeof x->tls.cipher, "TLS1-3-AES-256-GCM-SHA384");
    x->tls.server_hello_version = 13;
    x->tls.alert_received = -1;
    x->tls.alert_sent = -1;
    snprintf(x->tls.sni_sent, sizeof x->tls.sni_sent, "mx.example.test");

    x->chain.n = 2;
    make_cert(&x->chain.cert[0], 0, "CN=mx.example.test", "CN=Test Intermediate CA", LEAF_SHA1);
    snprintf(x->chain.cert[0].cn, sizeof x->chain.cert[0].cn, "mx.example.test");
    snprintf(x->chain.cert[0].san[0], sizeof x->chain.cert[0].san[0], "mx.example.test");
    x->chain.cert[0].n_san = x->chain.cert[0].n_san_total = 1;
    x->chain.cert[0].has_eku = 1;
    x->chain.cert[0].eku = MXS_EKU_SERVER | MXS_EKU_CLIENT;
    make_cert(&x->chain.cert[1], 1, "CN=Test Intermediate CA", "CN=Test Root CA", INT_SHA1);
    x->chain.cert[1].is_ca = x->chain.cert[1].has_basic_constraints = 1;
    x->chain.cert[1].days_left = 1000;
    x->chain.cert[1].not_after = NOW + 1000 * (int64_t)DAY;
    x->chain.trusted = 1;
    x->chain.name_matches_mx = 1;
    x->chain.name_matches_domain = 0;
    snprintf(x->chain.name_checked, sizeof x->chain.name_checked, "mx.example.test");

    struct diag_input *in = &x->in;
    in->settings = &x->set;
    for (int i = 0; i < MXS_STEP_COUNT; i++)
        in->state[i] = MXS_ST_OK;
    in->dns = &x->dns;
    in->conn = &x->conn;
    in->smtp = &x->smtp;
    in->tls = &x->tls;
    in->chain = &x->chain;
    in->mx_host = "mx.example.test";
    in->domain = "example.test";
    in->now = NOW;
    return x;
}

/* Steps after `last` have not run: states pending, their facts empty. */
static inline void only_through(struct fx *x, enum mxs_step last, enum mxs_step_state last_state)
{
    for (int i = last + 1; i < MXS_STEP_COUNT; i++)
        x->in.state[i] = MXS_ST_PENDING;
    x->in.state[last] = last_state;
    if (last < MXS_STEP_CONNECT)
        memset(&x->conn, 0, sizeof x->conn);
    if (last < MXS_STEP_BANNER)
        memset(&x->smtp.banner, 0, sizeof x->smtp.banner), x->smtp.banner_ms = 0;
    if (last < MXS_STEP_EHLO) {
        memset(&x->smtp.ehlo, 0, sizeof x->smtp.ehlo);
        memset(&x->smtp.caps, 0, sizeof x->smtp.caps);
    }
    if (last < MXS_STEP_STARTTLS)
        memset(&x->smtp.starttls, 0, sizeof x->smtp.starttls);
    if (last < MXS_STEP_HANDSHAKE) {
        memset(&x->tls, 0, sizeof x->tls);
        x->tls.alert_received = x->tls.alert_sent = -1;
    }
    if (last < MXS_STEP_CHAIN && last != MXS_STEP_HANDSHAKE)
        memset(&x->chain, 0, sizeof x->chain);
    if (last < MXS_STEP_EHLO2) {
        memset(&x->smtp.ehlo2, 0, sizeof x->smtp.ehlo2);
        memset(&x->smtp.caps2, 0, sizeof x->smtp.caps2);
        x->smtp.caps_changed = 0;
    }
}

/* Every finding agrees with the catalogue row of its id: the row exists,
 * the step is the row's (mx-hosts-disagree: any), the severity at most the
 * row's (rows are filed at their severity or downgraded to a warning). */
static inline void filed_from_rows(const struct mxs_finding *f, int n)
{
    for (int i = 0; i < n; i++) {
        const struct diag_entry *e = diag_find_id(f[i].id);
        if (!e)
            fail_msg("finding %s is not in the catalogue", f[i].id);
        if (e->step != MXS_STEP_NONE && e->step != f[i].step)
            fail_msg("%s filed at %s, its row says %s", f[i].id,
                     mxs_step_name(f[i].step), mxs_step_name(e->step));
        assert_true(f[i].severity <= e->severity);
        if (strncmp(f[i].advice, "If it is your server: ", 22) ||
            !strstr(f[i].advice, DIAG_ADVICE_THIRD))
            fail_msg("%s: advice lacks one of its two parts:\n%s", f[i].id, f[i].advice);
    }
}

static inline void run(struct fx *x)
{
    x->n = diag_run(&x->in, x->f, MXS_MAX_FINDINGS, x->v);
    filed_from_rows(x->f, x->n);
}

static inline const struct mxs_finding *find_d(const struct fx *x, const char *id, int depth)
{
    for (int i = 0; i < x->n; i++)
        if (!strcmp(x->f[i].id, id) && (depth == -2 || x->f[i].cert_depth == depth))
            return &x->f[i];
    return NULL;
}

static inline const struct mxs_finding *must(const struct fx *x, const char *id,
                                      enum mxs_severity sev, enum mxs_step step)
{
    const struct mxs_finding *f = find_d(x, id, -2);
    if (!f) {
        for (int i = 0; i < x->n; i++)
            print_message("  have: %s\n", x->f[i].id);
        fail_msg("finding %s missing", id);
    }
    assert_int_equal(f->severity, sev);
    assert_int_equal(f->step, step);
    assert_true(f->message[0] != 0);
    assert_true(f->advice[0] != 0);
    return f;
}

static inline void has(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("\"%s\" not in:\n%s", needle, hay);
}

static inline void verdict(const struct fx *x, enum mxs_policy p, enum mxs_outcome o,
                    enum mxs_step s, const char *finding)
{
    const struct mxs_verdict *v = &x->v[p];
    if (v->outcome != o || v->step != s || (finding && strcmp(v->finding, finding)))
        fail_msg("%s: got %s at %s (%s) \"%s\", want %s at %s (%s)",
                 mxs_policy_name(p), mxs_outcome_name(v->outcome),
                 mxs_step_name(v->step), v->finding, v->words, mxs_outcome_name(o),
                 mxs_step_name(s), finding ? finding : "*");
    assert_int_equal(v->policy, p);
    assert_true(v->words[0] != 0);
}

/* diag.h: escaped text (ASCII, '\n', a name's UTF-8). */
static inline void all_printable(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    if (mxs_is_escaped_text(s, len))
        return;
    for (size_t i = 0; i < len; i++)
        if (!(s[i] == '\n' || (s[i] >= 0x20 && s[i] < 0x7f)))
            fail_msg("raw byte 0x%02x at %zu", (unsigned char)s[i], i);
    fail_msg("text the escaper would change: %.80s", s);
}

static inline void findings_printable(const struct fx *x)
{
    for (int i = 0; i < x->n; i++) {
        all_printable(x->f[i].message, sizeof x->f[i].message);
        all_printable(x->f[i].evidence, sizeof x->f[i].evidence);
        all_printable(x->f[i].advice, sizeof x->f[i].advice);
    }
    for (int p = 0; p < MXS_POL_COUNT; p++)
        all_printable(x->v[p].words, sizeof x->v[p].words);
}

/* Findings come by step (in run order: POLICY right after RESOLVE), most
 * severe first within a step. */
static inline void ordered(const struct fx *x)
{
    for (int i = 1; i < x->n; i++) {
        assert_true(mxs_step_rank(x->f[i - 1].step) <= mxs_step_rank(x->f[i].step));
        if (x->f[i - 1].step == x->f[i].step)
            assert_true(x->f[i - 1].severity >= x->f[i].severity);
    }
}

#define FX struct fx *x = good_fx()
#define DONE do { findings_printable(x); ordered(x); free(x); } while (0)


#endif
