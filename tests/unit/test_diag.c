/*
 * test_diag.c - diagnosis: every finding id from hand-built facts, the four
 * verdicts for representative probes, partial facts, the problem report.
 * Owner: diagnosis.
 *
 * Facts are built by hand (no network): good_fx() is a complete, verified
 * TLS 1.3 probe; each test breaks one thing and checks the finding id,
 * severity, step, that the evidence carries the concrete fact, and the
 * verdicts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

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

static void set_reply(struct mxs_reply *r, int code, const char *text)
{
    memset(r, 0, sizeof *r);
    r->code = code;
    snprintf(r->text, sizeof r->text, "%s", text);
    r->n_lines = 1;
    for (const char *p = text; *p; p++)
        if (*p == '\n')
            r->n_lines++;
}

static void add_cap(struct mxs_caps *c, const char *name)
{
    snprintf(c->name[c->n], sizeof c->name[c->n], "%s", name);
    c->n++;
    if (!strcmp(name, "STARTTLS"))
        c->starttls = 1;
}

static void make_cert(struct mxs_cert *c, int depth, const char *subject,
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
static struct fx *good_fx(void)
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
static void only_through(struct fx *x, enum mxs_step last, enum mxs_step_state last_state)
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

static void run(struct fx *x)
{
    x->n = diag_run(&x->in, x->f, MXS_MAX_FINDINGS, x->v);
}

static const struct mxs_finding *find_d(const struct fx *x, const char *id, int depth)
{
    for (int i = 0; i < x->n; i++)
        if (!strcmp(x->f[i].id, id) && (depth == -2 || x->f[i].cert_depth == depth))
            return &x->f[i];
    return NULL;
}

static const struct mxs_finding *must(const struct fx *x, const char *id,
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

static void has(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("\"%s\" not in:\n%s", needle, hay);
}

static void verdict(const struct fx *x, enum mxs_policy p, enum mxs_outcome o,
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

static void all_printable(const char *s, size_t n)
{
    for (size_t i = 0; i < n && s[i]; i++)
        if (!(s[i] == '\n' || (s[i] >= 0x20 && s[i] < 0x7f)))
            fail_msg("raw byte 0x%02x at %zu", (unsigned char)s[i], i);
}

static void findings_printable(const struct fx *x)
{
    for (int i = 0; i < x->n; i++) {
        all_printable(x->f[i].message, sizeof x->f[i].message);
        all_printable(x->f[i].evidence, sizeof x->f[i].evidence);
        all_printable(x->f[i].advice, sizeof x->f[i].advice);
    }
    for (int p = 0; p < MXS_POL_COUNT; p++)
        all_printable(x->v[p].words, sizeof x->v[p].words);
}

/* Findings come by step, most severe first within a step. */
static void ordered(const struct fx *x)
{
    for (int i = 1; i < x->n; i++) {
        assert_true(x->f[i - 1].step <= x->f[i].step);
        if (x->f[i - 1].step == x->f[i].step)
            assert_true(x->f[i - 1].severity >= x->f[i].severity);
    }
}

#define FX struct fx *x = good_fx()
#define DONE do { findings_printable(x); ordered(x); free(x); } while (0)

/* ---- names ---------------------------------------------------------------- */

static void t_names(void **st)
{
    (void)st;
    assert_string_equal(mxs_severity_name(MXS_SEV_INFO), "info");
    assert_string_equal(mxs_severity_name(MXS_SEV_WARNING), "warning");
    assert_string_equal(mxs_severity_name(MXS_SEV_ERROR), "error");
    assert_string_equal(mxs_policy_name(MXS_POL_OPPORTUNISTIC), "opportunistic");
    assert_string_equal(mxs_policy_name(MXS_POL_REQUIRED), "required");
    assert_string_equal(mxs_policy_name(MXS_POL_VERIFIED), "verified");
    assert_string_equal(mxs_policy_name(MXS_POL_DANE), "dane");
    assert_string_equal(mxs_outcome_name(MXS_OUT_ENCRYPTED), "delivered-encrypted");
    assert_string_equal(mxs_outcome_name(MXS_OUT_CLEAR), "delivered-clear");
    assert_string_equal(mxs_outcome_name(MXS_OUT_NOT_DELIVERED), "not-delivered");
    assert_string_equal(mxs_outcome_name(MXS_OUT_NOT_EVALUATED), "not-evaluated");
}

/* ---- representative verdicts ------------------------------------------------- */

static void t_good_tls13(void **st)
{
    (void)st;
    FX;
    run(x);
    for (int i = 0; i < x->n; i++)
        if (x->f[i].severity >= MXS_SEV_WARNING)
            fail_msg("unexpected %s", x->f[i].id);
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    verdict(x, MXS_POL_DANE, MXS_OUT_NOT_EVALUATED, MXS_STEP_NONE, "");
    has(x->v[MXS_POL_DANE].words, "no DANE policy (no secure TLSA records)");
    has(x->v[MXS_POL_OPPORTUNISTIC].words, "TLSv1.3");
    DONE;
}

static void t_host_given_resolve_skipped(void **st)
{
    (void)st;
    FX;
    x->in.state[MXS_STEP_RESOLVE] = MXS_ST_SKIPPED;
    x->set.target_is_host = 1;
    x->in.domain = "";
    memset(&x->dns, 0, sizeof x->dns);
    run(x);
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    verdict(x, MXS_POL_DANE, MXS_OUT_NOT_EVALUATED, MXS_STEP_RESOLVE, "");
    /* Implicit TLS: STARTTLS skipped is fine too. */
    x->set.tls_on_connect = 1;
    x->in.state[MXS_STEP_STARTTLS] = MXS_ST_SKIPPED;
    memset(&x->smtp.starttls, 0, sizeof x->smtp.starttls);
    run(x);
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    DONE;
}

static void t_partial_after_resolve(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_RESOLVE, MXS_ST_OK);
    run(x);
    assert_int_equal(x->n, 0);
    for (int p = MXS_POL_OPPORTUNISTIC; p <= MXS_POL_VERIFIED; p++)
        verdict(x, (enum mxs_policy)p, MXS_OUT_NOT_EVALUATED, MXS_STEP_CONNECT, "");
    verdict(x, MXS_POL_DANE, MXS_OUT_NOT_EVALUATED, MXS_STEP_NONE, "");
    /* Running RESOLVE: even less known. */
    only_through(x, MXS_STEP_RESOLVE, MXS_ST_RUNNING);
    x->dns.done = 0;
    run(x);
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_NOT_EVALUATED, MXS_STEP_RESOLVE, "");
    verdict(x, MXS_POL_DANE, MXS_OUT_NOT_EVALUATED, MXS_STEP_RESOLVE, "");
    DONE;
}

static void t_partial_after_handshake(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_HANDSHAKE, MXS_ST_OK);
    run(x);
    /* opportunistic/required wait for EHLO2; verified waits for CHAIN. */
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_NOT_EVALUATED, MXS_STEP_EHLO2, "");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_NOT_EVALUATED, MXS_STEP_CHAIN, "");
    /* Chain not verified yet: no name/trust findings from empty facts. */
    assert_null(find_d(x, "cert-name-mismatch", -2));
    assert_null(find_d(x, "chain-incomplete", -2));
    DONE;
}

static void t_stop_after_skipped(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_EHLO, MXS_ST_OK);
    for (int i = MXS_STEP_STARTTLS; i < MXS_STEP_COUNT; i++)
        x->in.state[i] = MXS_ST_SKIPPED;
    run(x);
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_NOT_EVALUATED, MXS_STEP_STARTTLS, "");
    has(x->v[MXS_POL_REQUIRED].words, "skipped");
    DONE;
}

/* ---- RESOLVE ------------------------------------------------------------------ */

static void t_dns_nxdomain(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_RESOLVE, MXS_ST_FAIL);
    x->dns.mx_answer.rcode = MXS_DNS_NXDOMAIN;
    x->dns.n_mx = 0;
    run(x);
    const struct mxs_finding *f = must(x, "dns-nxdomain", MXS_SEV_ERROR, MXS_STEP_RESOLVE);
    has(f->evidence, "NXDOMAIN");
    has(f->evidence, "example.test");
    for (int p = MXS_POL_OPPORTUNISTIC; p <= MXS_POL_VERIFIED; p++)
        verdict(x, (enum mxs_policy)p, MXS_OUT_NOT_DELIVERED, MXS_STEP_RESOLVE,
                "dns-nxdomain");
    assert_int_equal(x->v[MXS_POL_DANE].outcome, MXS_OUT_NOT_EVALUATED);
    DONE;
}

static void t_dns_servfail_timeout(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_RESOLVE, MXS_ST_FAIL);
    x->dns.mx_answer.rcode = MXS_DNS_SERVFAIL;
    x->dns.n_mx = 0;
    run(x);
    has(must(x, "dns-servfail", MXS_SEV_ERROR, MXS_STEP_RESOLVE)->evidence, "SERVFAIL");
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_NOT_DELIVERED, MXS_STEP_RESOLVE, "dns-servfail");
    x->dns.mx_answer.rcode = MXS_DNS_TIMEOUT;
    run(x);
    has(must(x, "dns-timeout", MXS_SEV_ERROR, MXS_STEP_RESOLVE)->evidence, "timeout");
    assert_null(find_d(x, "dns-servfail", -2));
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_NOT_DELIVERED, MXS_STEP_RESOLVE, "dns-timeout");
    DONE;
}

static void t_mx_null_implicit(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_RESOLVE, MXS_ST_FAIL);
    x->dns.null_mx = 1;
    x->dns.n_mx = 0;
    run(x);
    has(must(x, "mx-null", MXS_SEV_ERROR, MXS_STEP_RESOLVE)->evidence, "0 .");
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_NOT_DELIVERED, MXS_STEP_RESOLVE, "mx-null");
    free(x);

    x = good_fx();
    x->dns.implicit_mx = 1;
    x->dns.mx_answer.rcode = MXS_DNS_NODATA;
    run(x);
    has(must(x, "mx-implicit", MXS_SEV_WARNING, MXS_STEP_RESOLVE)->evidence, "no MX records");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    DONE;
}

static void t_dnssec_bogus(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_RESOLVE, MXS_ST_FAIL);
    x->dns.mx_answer.rcode = MXS_DNS_SERVFAIL;
    x->dns.mx_answer.dnssec = MXS_DNSSEC_BOGUS;
    snprintf(x->dns.mx_answer.why_bogus, sizeof x->dns.mx_answer.why_bogus,
             "signature expired");
    x->dns.n_mx = 0;
    run(x);
    has(must(x, "dnssec-bogus", MXS_SEV_ERROR, MXS_STEP_RESOLVE)->evidence,
        "signature expired");
    assert_null(find_d(x, "dns-servfail", -2));
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_NOT_DELIVERED, MXS_STEP_RESOLVE, "dnssec-bogus");
    free(x);

    /* A bogus TLSA answer only stops DANE senders. */
    x = good_fx();
    x->dns.mx[0].tlsa.rcode = MXS_DNS_SERVFAIL;
    x->dns.mx[0].tlsa.dnssec = MXS_DNSSEC_BOGUS;
    snprintf(x->dns.mx[0].tlsa.why_bogus, sizeof x->dns.mx[0].tlsa.why_bogus, "no signatures");
    run(x);
    const struct mxs_finding *f = must(x, "dnssec-bogus", MXS_SEV_WARNING, MXS_STEP_RESOLVE);
    has(f->evidence, "_25._tcp.mx.example.test");
    has(f->evidence, "no signatures");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    verdict(x, MXS_POL_DANE, MXS_OUT_NOT_DELIVERED, MXS_STEP_RESOLVE, "dnssec-bogus");
    DONE;
}

static void t_mx_host_without_address(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_RESOLVE, MXS_ST_FAIL);
    x->dns.mx[0].n_addr = 0;
    x->dns.mx[0].a.rcode = MXS_DNS_NXDOMAIN;
    x->dns.mx[0].aaaa.rcode = MXS_DNS_NXDOMAIN;
    run(x);
    const struct mxs_finding *f = must(x, "dns-nxdomain", MXS_SEV_ERROR, MXS_STEP_RESOLVE);
    has(f->evidence, "mx.example.test");
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_NOT_DELIVERED, MXS_STEP_RESOLVE, "dns-nxdomain");
    DONE;
}

static void t_dane_secure_tlsa(void **st)
{
    (void)st;
    FX;
    x->dns.mx_answer.dnssec = MXS_DNSSEC_SECURE;
    x->dns.mx[0].tlsa.rcode = MXS_DNS_OK;
    x->dns.mx[0].tlsa.dnssec = MXS_DNSSEC_SECURE;
    x->dns.mx[0].n_tlsa = 2;
    x->dns.mx[0].tlsa_rr[0] = (struct mxs_tlsa){ .usage = 3, .selector = 1, .mtype = 1, .len = 32 };
    x->dns.mx[0].tlsa_rr[1] = (struct mxs_tlsa){ .usage = 2, .selector = 0, .mtype = 1, .len = 32 };
    run(x);
    /* the engine did not match them (no chain facts): not evaluated */
    verdict(x, MXS_POL_DANE, MXS_OUT_NOT_EVALUATED, MXS_STEP_CHAIN, "");
    has(x->v[MXS_POL_DANE].words, "2 TLSA records");
    /* a DANE-EE record matches the leaf */
    x->chain.dane_checked = 1;
    x->chain.dane_usable = 2;
    x->chain.dane_match = 1;
    x->chain.dane_match_rr = 0;
    x->chain.dane_match_depth = 0;
    run(x);
    verdict(x, MXS_POL_DANE, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    has(x->v[MXS_POL_DANE].words, "DANE-authenticated");
    has(x->v[MXS_POL_DANE].words, "TLSA 3 1 1");
    assert_null(find_d(x, "dane-mismatch", -2));
    /* none matches: DANE senders stop at CHAIN, nobody else does */
    x->chain.dane_match = 0;
    x->chain.dane_match_rr = x->chain.dane_match_depth = -1;
    snprintf(x->chain.dane_detail, sizeof x->chain.dane_detail, "no TLSA record matches");
    run(x);
    verdict(x, MXS_POL_DANE, MXS_OUT_NOT_DELIVERED, MXS_STEP_CHAIN, "dane-mismatch");
    has(must(x, "dane-mismatch", MXS_SEV_ERROR, MXS_STEP_CHAIN)->evidence, "TLSA 3 1 1");
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    /* no usable record: TLS mandatory, unauthenticated (RFC 7672 2.2) */
    x->chain.dane_usable = 0;
    run(x);
    verdict(x, MXS_POL_DANE, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    has(x->v[MXS_POL_DANE].words, "without authentication");
    assert_null(find_d(x, "dane-mismatch", -2));
    /* Insecure MX records: the TLSA records do not apply. */
    x->dns.mx_answer.dnssec = MXS_DNSSEC_INSECURE;
    run(x);
    has(x->v[MXS_POL_DANE].words, "no DANE policy (no secure TLSA records)");
    /* DANE requires TLS: without STARTTLS it is not delivered. */
    x->dns.mx_answer.dnssec = MXS_DNSSEC_SECURE;
    only_through(x, MXS_STEP_STARTTLS, MXS_ST_FAIL);
    memset(&x->smtp.caps, 0, sizeof x->smtp.caps);
    run(x);
    verdict(x, MXS_POL_DANE, MXS_OUT_NOT_DELIVERED, MXS_STEP_STARTTLS, "starttls-not-offered");
    DONE;
}

/* ---- CONNECT ------------------------------------------------------------------ */

static void t_connect(void **st)
{
    (void)st;
    static const struct { enum mxs_conn_error e; int err; const char *id; } c[] = {
        {MXS_CONN_REFUSED, ECONNREFUSED, "connect-refused"},
        {MXS_CONN_TIMEOUT, ETIMEDOUT, "connect-timeout"},
        {MXS_CONN_UNREACHABLE, EHOSTUNREACH, "connect-unreachable"}};
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        FX;
        only_through(x, MXS_STEP_CONNECT, MXS_ST_FAIL);
        x->conn.done = 1;
        x->conn.addr.family = 4;
        snprintf(x->conn.addr.text, sizeof x->conn.addr.text, "127.0.0.9");
        x->conn.port = 25;
        x->conn.error = c[i].e;
        x->conn.err_no = c[i].err;
        x->conn.attempts = 1;
        run(x);
        const struct mxs_finding *f = must(x, c[i].id, MXS_SEV_ERROR, MXS_STEP_CONNECT);
        has(f->evidence, "127.0.0.9");
        has(f->evidence, "port 25");
        has(f->evidence, strerror(c[i].err));
        for (int p = MXS_POL_OPPORTUNISTIC; p <= MXS_POL_VERIFIED; p++)
            verdict(x, (enum mxs_policy)p, MXS_OUT_NOT_DELIVERED, MXS_STEP_CONNECT, c[i].id);
        /* No successful attempt: done may stay 0, the error class decides. */
        x->conn.done = 0;
        run(x);
        must(x, c[i].id, MXS_SEV_ERROR, MXS_STEP_CONNECT);
        assert_null(find_d(x, "connect-failed", -2));
        DONE;
    }
}

/* ---- BANNER ------------------------------------------------------------------- */

static void t_banner_554(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_BANNER, MXS_ST_FAIL);
    set_reply(&x->smtp.banner, 554, "5.7.1 mx.example.test Service unavailable; client blocked");
    run(x);
    const struct mxs_finding *f = must(x, "banner-rejected", MXS_SEV_ERROR, MXS_STEP_BANNER);
    has(f->evidence, "554 5.7.1 mx.example.test Service unavailable; client blocked");
    has(f->message, "554");
    for (int p = MXS_POL_OPPORTUNISTIC; p <= MXS_POL_VERIFIED; p++)
        verdict(x, (enum mxs_policy)p, MXS_OUT_NOT_DELIVERED, MXS_STEP_BANNER, "banner-rejected");
    DONE;
}

static void t_banner_421_multiline(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_BANNER, MXS_ST_FAIL);
    set_reply(&x->smtp.banner, 421, "4.7.0 too many connections\nfrom your address");
    run(x);
    const struct mxs_finding *f = must(x, "banner-throttled", MXS_SEV_ERROR, MXS_STEP_BANNER);
    has(f->evidence, "421-4.7.0 too many connections\n421 from your address");
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_NOT_DELIVERED, MXS_STEP_BANNER, "banner-throttled");
    DONE;
}

static void t_banner_slow(void **st)
{
    (void)st;
    FX;
    x->smtp.banner_ms = 12500;
    run(x);
    const struct mxs_finding *f = must(x, "banner-slow", MXS_SEV_WARNING, MXS_STEP_BANNER);
    has(f->message, "12.5 s");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    /* At the threshold: not slow. */
    x->smtp.banner_ms = DIAG_BANNER_SLOW_MS;
    run(x);
    assert_null(find_d(x, "banner-slow", -2));
    DONE;
}

static void t_banner_timeout(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_BANNER, MXS_ST_FAIL);
    x->in.timed_out[MXS_STEP_BANNER] = 1;
    x->in.elapsed_ms[MXS_STEP_BANNER] = 60000;
    run(x);
    has(must(x, "banner-timeout", MXS_SEV_ERROR, MXS_STEP_BANNER)->evidence, "60.0 s");
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_NOT_DELIVERED, MXS_STEP_BANNER, "banner-timeout");
    DONE;
}

/* ---- EHLO --------------------------------------------------------------------- */

static void t_ehlo_rejected(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_EHLO, MXS_ST_FAIL);
    set_reply(&x->smtp.ehlo, 550, "5.7.1 probe.sender.test: Helo command rejected");
    x->smtp.used_helo = 1;
    set_reply(&x->smtp.helo, 550, "5.7.1 HELO also rejected");
    run(x);
    const struct mxs_finding *f = must(x, "ehlo-rejected", MXS_SEV_ERROR, MXS_STEP_EHLO);
    has(f->evidence, "550 5.7.1 probe.sender.test: Helo command rejected");
    has(f->evidence, "550 5.7.1 HELO also rejected");
    has(f->evidence, "EHLO probe.sender.test");
    for (int p = MXS_POL_OPPORTUNISTIC; p <= MXS_POL_VERIFIED; p++)
        verdict(x, (enum mxs_policy)p, MXS_OUT_NOT_DELIVERED, MXS_STEP_EHLO, "ehlo-rejected");
    DONE;
}

static void t_ehlo_masked(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_STARTTLS, MXS_ST_FAIL);
    memset(&x->smtp.caps, 0, sizeof x->smtp.caps);
    add_cap(&x->smtp.caps, "PIPELINING");
    add_cap(&x->smtp.caps, "XXXXXXXA");
    run(x);
    const struct mxs_finding *f = must(x, "ehlo-masked", MXS_SEV_ERROR, MXS_STEP_EHLO);
    has(f->evidence, "XXXXXXXA");
    must(x, "starttls-not-offered", MXS_SEV_ERROR, MXS_STEP_STARTTLS);
    /* the firewall that hides STARTTLS is named, not the MTA */
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_CLEAR, MXS_STEP_EHLO, "ehlo-masked");
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_NOT_DELIVERED, MXS_STEP_EHLO, "ehlo-masked");
    /* The parser's flag alone is enough. */
    memset(&x->smtp.caps, 0, sizeof x->smtp.caps);
    add_cap(&x->smtp.caps, "STARTTLS");
    x->smtp.caps.masked = 1;
    run(x);
    must(x, "ehlo-masked", MXS_SEV_WARNING, MXS_STEP_EHLO);
    DONE;
}

/* ---- STARTTLS ----------------------------------------------------------------- */

static void t_starttls_not_offered(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_STARTTLS, MXS_ST_FAIL);
    memset(&x->smtp.caps, 0, sizeof x->smtp.caps);
    add_cap(&x->smtp.caps, "PIPELINING");
    add_cap(&x->smtp.caps, "SIZE");
    x->in.state[MXS_STEP_HANDSHAKE] = MXS_ST_SKIPPED;
    run(x);
    const struct mxs_finding *f = must(x, "starttls-not-offered", MXS_SEV_ERROR,
                                       MXS_STEP_STARTTLS);
    has(f->evidence, "PIPELINING SIZE");
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_CLEAR, MXS_STEP_STARTTLS, "starttls-not-offered");
    has(x->v[MXS_POL_OPPORTUNISTIC].words, "unencrypted");
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_NOT_DELIVERED, MXS_STEP_STARTTLS, "starttls-not-offered");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_NOT_DELIVERED, MXS_STEP_STARTTLS, "starttls-not-offered");
    /* We send STARTTLS anyway: its refusal is evidence, not a second problem. */
    set_reply(&x->smtp.starttls, 502, "5.5.1 Error: command not implemented");
    run(x);
    has(must(x, "starttls-not-offered", MXS_SEV_ERROR, MXS_STEP_STARTTLS)->evidence,
        "502 5.5.1 Error: command not implemented");
    assert_null(find_d(x, "starttls-refused", -2));
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_NOT_DELIVERED, MXS_STEP_STARTTLS, "starttls-not-offered");
    /* Implicit TLS (465) has no STARTTLS to offer. */
    x->set.tls_on_connect = 1;
    run(x);
    assert_null(find_d(x, "starttls-not-offered", -2));
    DONE;
}

static void t_starttls_refused_454(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_STARTTLS, MXS_ST_FAIL);
    set_reply(&x->smtp.starttls, 454, "4.7.0 TLS not available due to local problem");
    run(x);
    const struct mxs_finding *f = must(x, "starttls-refused", MXS_SEV_ERROR, MXS_STEP_STARTTLS);
    has(f->message, "454");
    has(f->message, "broken");
    has(f->evidence, "454 4.7.0 TLS not available due to local problem");
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_CLEAR, MXS_STEP_STARTTLS, "starttls-refused");
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_NOT_DELIVERED, MXS_STEP_STARTTLS, "starttls-refused");
    DONE;
}

static void t_starttls_leftover(void **st)
{
    (void)st;
    FX;
    x->smtp.leftover_plain = 17;
    run(x);
    const struct mxs_finding *f = must(x, "starttls-plaintext-leftover", MXS_SEV_WARNING,
                                       MXS_STEP_STARTTLS);
    has(f->evidence, "17 plaintext bytes");
    has(f->message, "discarded");
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    DONE;
}

/* ---- HANDSHAKE ---------------------------------------------------------------- */

static void hs_fail(struct fx *x)
{
    only_through(x, MXS_STEP_HANDSHAKE, MXS_ST_FAIL);
    x->tls.attempted = 1;
    x->tls.ok = 0;
    x->tls.mbedtls_error = -0x7780;
    snprintf(x->tls.error, sizeof x->tls.error, "SSL - A fatal alert message was received from our peer");
}

static void t_tls_handshake_failed(void **st)
{
    (void)st;
    FX;
    hs_fail(x);
    x->tls.alert_received = 40;
    snprintf(x->tls.alert_name, sizeof x->tls.alert_name, "handshake_failure");
    run(x);
    const struct mxs_finding *f = must(x, "tls-handshake-failed", MXS_SEV_ERROR,
                                       MXS_STEP_HANDSHAKE);
    has(f->evidence, "handshake_failure(40)");
    has(f->evidence, "-0x7780");
    has(f->evidence, "fatal alert message");
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_CLEAR, MXS_STEP_HANDSHAKE, "tls-handshake-failed");
    has(x->v[MXS_POL_OPPORTUNISTIC].words, "retries");
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_NOT_DELIVERED, MXS_STEP_HANDSHAKE, "tls-handshake-failed");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_NOT_DELIVERED, MXS_STEP_HANDSHAKE, "tls-handshake-failed");
    /* Implicit TLS: no clear fallback. */
    x->set.tls_on_connect = 1;
    run(x);
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_NOT_DELIVERED, MXS_STEP_HANDSHAKE,
            "tls-handshake-failed");
    DONE;
}

static void t_tls_no_common_version(void **st)
{
    (void)st;
    FX;
    hs_fail(x);
    x->tls.alert_received = 70;
    snprintf(x->tls.alert_name, sizeof x->tls.alert_name, "protocol_version");
    run(x);
    has(must(x, "tls-no-common-version", MXS_SEV_ERROR, MXS_STEP_HANDSHAKE)->evidence,
        "protocol_version(70)");
    assert_null(find_d(x, "tls-handshake-failed", -2));
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_NOT_DELIVERED, MXS_STEP_HANDSHAKE, "tls-no-common-version");
    /* Server picks 1.2 while we demand 1.3. */
    x->tls.alert_received = -1;
    x->tls.alert_name[0] = 0;
    x->tls.server_hello_version = 12;
    x->set.tls_min = 13;
    run(x);
    has(must(x, "tls-no-common-version", MXS_SEV_ERROR, MXS_STEP_HANDSHAKE)->message,
        "TLS 1.2");
    DONE;
}

static void t_tls_obsolete_only(void **st)
{
    (void)st;
    FX;
    hs_fail(x);
    x->tls.server_hello_version = 10;
    run(x);
    const struct mxs_finding *f = must(x, "tls-obsolete-only", MXS_SEV_ERROR, MXS_STEP_HANDSHAKE);
    has(f->message, "TLS 1.0");
    has(f->evidence, "ServerHello version: TLS 1.0");
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_CLEAR, MXS_STEP_HANDSHAKE, "tls-obsolete-only");
    x->tls.server_hello_version = 11;
    run(x);
    has(must(x, "tls-obsolete-only", MXS_SEV_ERROR, MXS_STEP_HANDSHAKE)->message, "TLS 1.1");
    DONE;
}

static void t_tls_client_cert_required(void **st)
{
    (void)st;
    FX;
    hs_fail(x);
    x->tls.cert_requested = 1;
    x->tls.alert_received = 116;
    run(x);
    const struct mxs_finding *f = must(x, "tls-client-cert-required", MXS_SEV_ERROR,
                                       MXS_STEP_HANDSHAKE);
    has(f->evidence, "certificate_required(116)");
    has(f->message, "certificate_required(116)");
    has(f->evidence, "CertificateRequest");
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_NOT_DELIVERED, MXS_STEP_HANDSHAKE,
            "tls-client-cert-required");
    /* bad_certificate after a CertificateRequest. */
    x->tls.alert_received = 42;
    run(x);
    has(must(x, "tls-client-cert-required", MXS_SEV_ERROR, MXS_STEP_HANDSHAKE)->evidence,
        "bad_certificate(42)");
    DONE;
}

/* Postfix smtpd_tls_req_ccert over TLS 1.3: the handshake completes, the
 * post-TLS EHLO is refused. */
static void t_tls_client_cert_after_handshake(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_EHLO2, MXS_ST_FAIL);
    x->tls.cert_requested = 1;
    set_reply(&x->smtp.ehlo2, 421, "4.7.1 mx Error: No client certificate presented");
    run(x);
    const struct mxs_finding *f = must(x, "tls-client-cert-required", MXS_SEV_ERROR,
                                       MXS_STEP_HANDSHAKE);
    has(f->evidence, "No client certificate presented");
    for (int p = MXS_POL_OPPORTUNISTIC; p <= MXS_POL_VERIFIED; p++)
        verdict(x, (enum mxs_policy)p, MXS_OUT_NOT_DELIVERED, MXS_STEP_HANDSHAKE,
                "tls-client-cert-required");
    /* with our certificate sent, a refused EHLO is something else */
    x->tls.client_cert_sent = 1;
    run(x);
    assert_null(find_d(x, "tls-client-cert-required", -1));
    DONE;
}

/* ---- CHAIN -------------------------------------------------------------------- */

static void t_cert_expired(void **st)
{
    (void)st;
    FX;
    x->chain.cert[0].not_after = NOW - 10 * DAY; /* 2023-11-04T22:13:20Z */
    x->chain.cert[0].days_left = -10;
    x->chain.cert[0].verify_flags = MXS_V_EXPIRED;
    x->chain.verify_result = MXS_V_EXPIRED;
    x->in.state[MXS_STEP_CHAIN] = MXS_ST_FAIL;
    run(x);
    const struct mxs_finding *f = must(x, "cert-expired", MXS_SEV_ERROR, MXS_STEP_CHAIN);
    assert_int_equal(f->cert_depth, 0);
    has(f->message, "2023-11-04T22:13:20Z");
    has(f->evidence, "2023-11-04T22:13:20Z");
    has(f->evidence, "10 days ago");
    has(f->evidence, LEAF_SHA1);
    has(f->advice, "Enable-ExchangeCertificate");
    assert_null(find_d(x, "cert-expiring-soon", -2));
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_NOT_DELIVERED, MXS_STEP_CHAIN, "cert-expired");
    DONE;
}

static void t_cert_not_yet_valid(void **st)
{
    (void)st;
    FX;
    x->chain.cert[0].not_before = NOW + 2 * DAY;
    x->chain.cert[0].verify_flags = MXS_V_FUTURE;
    run(x);
    const struct mxs_finding *f = must(x, "cert-not-yet-valid", MXS_SEV_ERROR, MXS_STEP_CHAIN);
    has(f->evidence, "2023-11-16T22:13:20Z");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_NOT_DELIVERED, MXS_STEP_CHAIN, "cert-not-yet-valid");
    DONE;
}

static void t_cert_expiring_soon(void **st)
{
    (void)st;
    FX;
    x->chain.cert[0].not_after = NOW + 12 * DAY + 3600; /* 2023-11-26T23:13:20Z */
    x->chain.cert[0].days_left = 12;
    run(x);
    const struct mxs_finding *f = must(x, "cert-expiring-soon", MXS_SEV_WARNING, MXS_STEP_CHAIN);
    has(f->message, "2023-11-26T23:13:20Z");
    has(f->message, "12 days");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    has(x->v[MXS_POL_VERIFIED].words, "12 days");
    /* Without a reference time, days_left decides. */
    x->in.now = 0;
    x->chain.cert[0].days_left = -2;
    run(x);
    must(x, "cert-expired", MXS_SEV_ERROR, MXS_STEP_CHAIN);
    x->in.now = NOW;
    x->chain.cert[0].days_left = 12;
    /* The threshold follows the setting. */
    x->set.expiry_warn_days = 10;
    run(x);
    assert_null(find_d(x, "cert-expiring-soon", -2));
    DONE;
}

static void t_cert_name_mismatch(void **st)
{
    (void)st;
    FX;
    x->chain.name_matches_mx = 0;
    x->chain.name_matches_domain = 1;
    snprintf(x->chain.cert[0].san[0], sizeof x->chain.cert[0].san[0], "example.test");
    snprintf(x->chain.cert[0].san[1], sizeof x->chain.cert[0].san[1], "www.example.test");
    x->chain.cert[0].n_san = x->chain.cert[0].n_san_total = 2;
    x->chain.cert[0].verify_flags = MXS_V_NAME;
    run(x);
    const struct mxs_finding *f = must(x, "cert-name-mismatch", MXS_SEV_ERROR, MXS_STEP_CHAIN);
    has(f->message, "mx.example.test");
    has(f->evidence, "example.test, www.example.test");
    has(f->evidence, "IS covered");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_NOT_DELIVERED, MXS_STEP_CHAIN, "cert-name-mismatch");
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    x->chain.name_matches_domain = 0;
    run(x);
    has(find_d(x, "cert-name-mismatch", 0)->evidence, "is not either");
    DONE;
}

static void t_cert_self_signed(void **st)
{
    (void)st;
    FX;
    x->chain.n = 1;
    make_cert(&x->chain.cert[0], 0, "CN=mx.example.test", "CN=mx.example.test", LEAF_SHA1);
    x->chain.cert[0].verify_flags = MXS_V_NOT_TRUSTED;
    x->chain.trusted = 0;
    run(x);
    const struct mxs_finding *f = must(x, "cert-self-signed", MXS_SEV_ERROR, MXS_STEP_CHAIN);
    has(f->evidence, LEAF_SHA1);
    assert_null(find_d(x, "chain-incomplete", -2));
    assert_null(find_d(x, "cert-untrusted-root", -2));
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_NOT_DELIVERED, MXS_STEP_CHAIN, "cert-self-signed");
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    DONE;
}

static void t_cert_untrusted_root(void **st)
{
    (void)st;
    FX;
    make_cert(&x->chain.cert[1], 1, "CN=Corp Root CA", "CN=Corp Root CA", INT_SHA1);
    x->chain.cert[1].is_ca = 1;
    snprintf(x->chain.cert[0].issuer, sizeof x->chain.cert[0].issuer, "CN=Corp Root CA");
    x->chain.trusted = 0;
    run(x);
    const struct mxs_finding *f = must(x, "cert-untrusted-root", MXS_SEV_ERROR, MXS_STEP_CHAIN);
    assert_int_equal(f->cert_depth, 1);
    has(f->message, "CN=Corp Root CA");
    has(f->evidence, INT_SHA1);
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_NOT_DELIVERED, MXS_STEP_CHAIN, "cert-untrusted-root");
    DONE;
}

static void t_chain_incomplete(void **st)
{
    (void)st;
    FX;
    x->chain.n = 1;
    x->chain.trusted = 0;
    x->chain.cert[0].verify_flags = MXS_V_NOT_TRUSTED;
    run(x);
    const struct mxs_finding *f = must(x, "chain-incomplete", MXS_SEV_ERROR, MXS_STEP_CHAIN);
    assert_int_equal(f->cert_depth, 0);
    has(f->message, "CN=Test Intermediate CA");
    has(f->advice, "smtpd_tls_chain_files");
    has(f->advice, "Intermediate Certification Authorities");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_NOT_DELIVERED, MXS_STEP_CHAIN, "chain-incomplete");
    DONE;
}

static void t_chain_order(void **st)
{
    (void)st;
    FX;
    x->chain.n = 3;
    make_cert(&x->chain.cert[1], 1, "CN=Test Root CA", "CN=Test Root CA", "11");
    make_cert(&x->chain.cert[2], 2, "CN=Test Intermediate CA", "CN=Test Root CA", INT_SHA1);
    run(x);
    const struct mxs_finding *f = must(x, "chain-order", MXS_SEV_WARNING, MXS_STEP_CHAIN);
    assert_int_equal(f->cert_depth, 1);
    has(f->evidence, "certificate 1 subject: CN=Test Root CA");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    DONE;
}

static void t_cert_weak_key_sig_eku(void **st)
{
    (void)st;
    FX;
    x->chain.cert[0].key_bits = 1024;
    x->chain.cert[0].verify_flags = MXS_V_BAD_KEY;
    x->chain.cert[1].sig_weak = 1;
    snprintf(x->chain.cert[1].sig_alg, sizeof x->chain.cert[1].sig_alg, "RSA with SHA1");
    x->chain.cert[1].verify_flags = MXS_V_BAD_MD;
    x->chain.cert[0].eku = MXS_EKU_CLIENT;
    run(x);
    const struct mxs_finding *k = must(x, "cert-weak-key", MXS_SEV_ERROR, MXS_STEP_CHAIN);
    assert_int_equal(k->cert_depth, 0);
    has(k->evidence, "RSA 1024 bits");
    const struct mxs_finding *s = must(x, "cert-weak-signature", MXS_SEV_ERROR, MXS_STEP_CHAIN);
    assert_int_equal(s->cert_depth, 1);
    has(s->evidence, "RSA with SHA1");
    const struct mxs_finding *e = must(x, "cert-not-server-auth", MXS_SEV_ERROR, MXS_STEP_CHAIN);
    has(e->evidence, "clientAuth");
    assert_int_equal(x->v[MXS_POL_VERIFIED].outcome, MXS_OUT_NOT_DELIVERED);
    free(x);

    /* Weak but not rejected by the verifier: only warnings. */
    x = good_fx();
    x->chain.cert[0].key_bits = 1024;
    x->chain.cert[0].sig_weak = 1;
    run(x);
    must(x, "cert-weak-key", MXS_SEV_WARNING, MXS_STEP_CHAIN);
    must(x, "cert-weak-signature", MXS_SEV_WARNING, MXS_STEP_CHAIN);
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    /* EKU flag from the verifier alone. */
    x->chain.cert[0].verify_flags = MXS_V_EXT_KEY_USAGE;
    run(x);
    must(x, "cert-not-server-auth", MXS_SEV_ERROR, MXS_STEP_CHAIN);
    DONE;
}

static void t_cert_verify_other(void **st)
{
    (void)st;
    FX;
    x->chain.cert[0].verify_flags = MXS_V_REVOKED;
    run(x);
    must(x, "cert-verify-failed", MXS_SEV_ERROR, MXS_STEP_CHAIN);
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_NOT_DELIVERED, MXS_STEP_CHAIN, "cert-verify-failed");
    DONE;
}

static void t_fingerprint_mismatch(void **st)
{
    (void)st;
    FX;
    snprintf(x->set.expect_fp, sizeof x->set.expect_fp, "9999999999AAAAAAAAAABBBBBBBBBBCCCCCCCCCC");
    x->chain.fp_expected = 1;
    x->chain.fp_match = 0;
    run(x);
    const struct mxs_finding *f = must(x, "fingerprint-mismatch", MXS_SEV_ERROR, MXS_STEP_CHAIN);
    has(f->message, "9999999999AAAAAAAAAABBBBBBBBBBCCCCCCCCCC");
    has(f->message, LEAF_SHA1);
    has(f->evidence, "expected: 9999999999AAAAAAAAAABBBBBBBBBBCCCCCCCCCC");
    has(f->evidence, LEAF_SHA1);
    has(f->evidence, LEAF_SHA256);
    has(f->advice, "Enable-ExchangeCertificate -Thumbprint <new> -Services SMTP");
    has(f->advice, "smtpd_tls_chain_files");
    has(f->advice, "<new> is 9999999999AAAAAAAAAABBBBBBBBBBCCCCCCCCCC");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_NOT_DELIVERED, MXS_STEP_CHAIN, "fingerprint-mismatch");
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    /* Pin matches: nothing. */
    x->chain.fp_match = 1;
    run(x);
    assert_null(find_d(x, "fingerprint-mismatch", -2));
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    DONE;
}

static void t_every_cert_listed(void **st)
{
    (void)st;
    FX;
    for (int i = 0; i < 2; i++) {
        x->chain.cert[i].not_after = NOW - 3 * DAY;
        x->chain.cert[i].days_left = -3;
        x->chain.cert[i].verify_flags = MXS_V_EXPIRED;
    }
    x->chain.cert[1].key_bits = 1024; /* warning only */
    x->smtp.banner_ms = 5000;         /* warning at an earlier step */
    run(x);
    assert_non_null(find_d(x, "cert-expired", 0));
    assert_non_null(find_d(x, "cert-expired", 1));
    assert_non_null(find_d(x, "cert-weak-key", 1));
    /* Errors first within CHAIN, steps in order. */
    assert_string_equal(x->f[0].id, "banner-slow");
    assert_int_equal(x->f[1].severity, MXS_SEV_ERROR);
    assert_int_equal(x->f[x->n - 1].severity, MXS_SEV_WARNING);
    DONE;
}

static void t_small_out_keeps_verdicts(void **st)
{
    (void)st;
    FX;
    x->smtp.banner_ms = 5000;
    x->chain.cert[0].verify_flags = MXS_V_EXPIRED;
    x->chain.cert[0].not_after = NOW - DAY;
    x->chain.cert[0].days_left = -1;
    x->n = diag_run(&x->in, x->f, 1, x->v);
    assert_int_equal(x->n, 1);
    assert_string_equal(x->f[0].id, "cert-expired"); /* the error displaced the warning */
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_NOT_DELIVERED, MXS_STEP_CHAIN, "cert-expired");
    x->n = diag_run(&x->in, NULL, 0, x->v);
    assert_int_equal(x->n, 0);
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_NOT_DELIVERED, MXS_STEP_CHAIN, "cert-expired");
    DONE;
}

/* ---- EHLO2, fallback, NULL facts -------------------------------------------------- */

static void t_ehlo2_caps_changed(void **st)
{
    (void)st;
    FX;
    x->smtp.caps_changed = 1;
    add_cap(&x->smtp.caps2, "AUTH");
    run(x);
    const struct mxs_finding *f = must(x, "ehlo2-capabilities-changed", MXS_SEV_WARNING,
                                       MXS_STEP_EHLO2);
    has(f->evidence, "+AUTH");
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    DONE;
}

static void t_fallback_and_ehlo2_rejected(void **st)
{
    (void)st;
    FX;
    x->in.state[MXS_STEP_EHLO2] = MXS_ST_FAIL;
    x->in.timed_out[MXS_STEP_EHLO2] = 1;
    memset(&x->smtp.ehlo2, 0, sizeof x->smtp.ehlo2);
    run(x);
    must(x, "ehlo2-timeout", MXS_SEV_ERROR, MXS_STEP_EHLO2);
    verdict(x, MXS_POL_REQUIRED, MXS_OUT_NOT_DELIVERED, MXS_STEP_EHLO2, "ehlo2-timeout");
    x->in.timed_out[MXS_STEP_EHLO2] = 0;
    set_reply(&x->smtp.ehlo2, 554, "5.5.1 no");
    run(x);
    has(must(x, "ehlo2-rejected", MXS_SEV_ERROR, MXS_STEP_EHLO2)->evidence, "554 5.5.1 no");
    assert_null(find_d(x, "ehlo2-failed", -2));
    DONE;
}

static void t_null_facts(void **st)
{
    (void)st;
    struct diag_input in;
    struct mxs_verdict v[MXS_POL_COUNT];
    struct mxs_finding f[8];
    memset(&in, 0, sizeof in);
    assert_int_equal(diag_run(&in, f, 8, v), 0);
    for (int p = 0; p < MXS_POL_COUNT; p++)
        assert_int_equal(v[p].outcome, MXS_OUT_NOT_EVALUATED);
    /* A FAIL with no facts still gets a finding behind the verdict. */
    in.state[MXS_STEP_RESOLVE] = MXS_ST_FAIL;
    snprintf(in.step_error[MXS_STEP_RESOLVE], sizeof in.step_error[0], "no resolver");
    int n = diag_run(&in, f, 8, v);
    assert_int_equal(n, 1);
    assert_string_equal(f[0].id, "dns-failed");
    assert_non_null(strstr(f[0].evidence, "no resolver"));
    assert_string_equal(v[MXS_POL_REQUIRED].finding, "dns-failed");
}

/* ---- hostile text, report ------------------------------------------------------------ */

static void t_hostile_banner_escaped(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_BANNER, MXS_ST_FAIL);
    set_reply(&x->smtp.banner, 554, "5.7.1 \x1b[2J\x1b]0;pwned\x07 go away \xe2\x80\xae");
    run(x);
    const struct mxs_finding *f = must(x, "banner-rejected", MXS_SEV_ERROR, MXS_STEP_BANNER);
    assert_null(strchr(f->evidence, 0x1b));
    assert_null(strchr(f->message, 0x1b));
    has(f->evidence, "go away");
    DONE; /* findings_printable: no raw control or non-ASCII byte anywhere */
}

static void report(struct fx *x, struct buf *b)
{
    buf_init(b, 1 << 20);
    diag_report(&x->in, x->f, x->n, x->v, NOW, "probe.sender.test", b);
    assert_false(b->failed);
    assert_non_null(b->data);
}

static void t_report_fingerprint(void **st)
{
    (void)st;
    FX;
    snprintf(x->set.expect_fp, sizeof x->set.expect_fp, "9999999999AAAAAAAAAABBBBBBBBBBCCCCCCCCCC");
    x->chain.fp_expected = 1;
    x->smtp.banner_ms = 4000; /* a warning at an earlier step */
    run(x);
    struct buf b;
    report(x, &b);
    has(b.data, "Subject: ");
    /* Errors come first in the report, whatever their step. */
    assert_non_null(strstr(b.data, "* [error] fingerprint-mismatch"));
    assert_true(strstr(b.data, "* [error] fingerprint-mismatch") <
                strstr(b.data, "* [warning] banner-slow"));
    has(b.data, "fingerprint-mismatch");
    has(b.data, "9999999999AAAAAAAAAABBBBBBBBBBCCCCCCCCCC");
    has(b.data, LEAF_SHA1);
    has(b.data, LEAF_SHA256);
    has(b.data, "2023-11-14T22:13:20Z");    /* when */
    has(b.data, "probe.sender.test");       /* from */
    has(b.data, "mx.example.test");
    has(b.data, "127.0.0.1 port 25");
    has(b.data, "verified       not-delivered at CHAIN");
    has(b.data, "Enable-ExchangeCertificate");
    /* The receiving side gets their fix, not our workaround. */
    assert_null(strstr(b.data, "If it is a third party"));
    all_printable(b.data, b.len);
    buf_free(&b);
    DONE;
}

static void t_report_hostile_banner(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_BANNER, MXS_ST_FAIL);
    set_reply(&x->smtp.banner, 554, "\x1b[31mblocked\x1b[0m\r\nX");
    snprintf(x->dns.mx[0].host, sizeof x->dns.mx[0].host, "mx\x1b[1m.example.test");
    x->in.mx_host = x->dns.mx[0].host;
    run(x);
    struct buf b;
    report(x, &b);
    has(b.data, "banner-rejected at BANNER");
    has(b.data, "blocked");
    assert_null(memchr(b.data, 0x1b, b.len));
    assert_null(memchr(b.data, '\r', b.len));
    all_printable(b.data, b.len);
    buf_free(&b);
    DONE;
}

static void t_report_good(void **st)
{
    (void)st;
    FX;
    run(x);
    struct buf b;
    report(x, &b);
    has(b.data, "no problem found");
    has(b.data, "delivered-encrypted");
    all_printable(b.data, b.len);
    buf_free(&b);
    DONE;
}

/* ---- several MX hosts ------------------------------------------------------------------ */

static void t_compare(void **st)
{
    (void)st;
    struct fx *a = good_fx(), *b = good_fx();
    snprintf(b->chain.cert[0].sha1, sizeof b->chain.cert[0].sha1, "%s", INT_SHA1);
    struct diag_probe p[2] = {
        {"mx1.example.test", "127.0.0.1", &a->smtp, &a->tls, &a->chain},
        {"mx2.example.test", "127.0.0.2", &b->smtp, &b->tls, &b->chain}};
    struct mxs_finding f[4];
    int n = diag_compare(p, 2, f, 4);
    assert_int_equal(n, 1);
    assert_string_equal(f[0].id, "mx-hosts-disagree");
    assert_int_equal(f[0].step, MXS_STEP_CHAIN);
    has(f[0].evidence, LEAF_SHA1);
    has(f[0].evidence, INT_SHA1);
    has(f[0].evidence, "127.0.0.2");
    /* Identical probes agree. */
    p[1].chain = &a->chain;
    assert_int_equal(diag_compare(p, 2, f, 4), 0);
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_names),
        cmocka_unit_test(t_good_tls13),
        cmocka_unit_test(t_host_given_resolve_skipped),
        cmocka_unit_test(t_partial_after_resolve),
        cmocka_unit_test(t_partial_after_handshake),
        cmocka_unit_test(t_stop_after_skipped),
        cmocka_unit_test(t_dns_nxdomain),
        cmocka_unit_test(t_dns_servfail_timeout),
        cmocka_unit_test(t_mx_null_implicit),
        cmocka_unit_test(t_dnssec_bogus),
        cmocka_unit_test(t_mx_host_without_address),
        cmocka_unit_test(t_dane_secure_tlsa),
        cmocka_unit_test(t_connect),
        cmocka_unit_test(t_banner_554),
        cmocka_unit_test(t_banner_421_multiline),
        cmocka_unit_test(t_banner_slow),
        cmocka_unit_test(t_banner_timeout),
        cmocka_unit_test(t_ehlo_rejected),
        cmocka_unit_test(t_ehlo_masked),
        cmocka_unit_test(t_starttls_not_offered),
        cmocka_unit_test(t_starttls_refused_454),
        cmocka_unit_test(t_starttls_leftover),
        cmocka_unit_test(t_tls_handshake_failed),
        cmocka_unit_test(t_tls_no_common_version),
        cmocka_unit_test(t_tls_obsolete_only),
        cmocka_unit_test(t_tls_client_cert_required),
        cmocka_unit_test(t_tls_client_cert_after_handshake),
        cmocka_unit_test(t_cert_expired),
        cmocka_unit_test(t_cert_not_yet_valid),
        cmocka_unit_test(t_cert_expiring_soon),
        cmocka_unit_test(t_cert_name_mismatch),
        cmocka_unit_test(t_cert_self_signed),
        cmocka_unit_test(t_cert_untrusted_root),
        cmocka_unit_test(t_chain_incomplete),
        cmocka_unit_test(t_chain_order),
        cmocka_unit_test(t_cert_weak_key_sig_eku),
        cmocka_unit_test(t_cert_verify_other),
        cmocka_unit_test(t_fingerprint_mismatch),
        cmocka_unit_test(t_every_cert_listed),
        cmocka_unit_test(t_small_out_keeps_verdicts),
        cmocka_unit_test(t_ehlo2_caps_changed),
        cmocka_unit_test(t_fallback_and_ehlo2_rejected),
        cmocka_unit_test(t_null_facts),
        cmocka_unit_test(t_hostile_banner_escaped),
        cmocka_unit_test(t_report_fingerprint),
        cmocka_unit_test(t_report_hostile_banner),
        cmocka_unit_test(t_report_good),
        cmocka_unit_test(t_compare),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
