/*
 * test_diag_dns.c - the RESOLVE findings of hostile DNS answers (cmocka), on
 * facts built by hand (diagfx.h): MX targets that are not host names, an IP
 * address as target, CNAME chains and loops, many MX records, slow answers.
 * Owner: DNS module.  The same cases against a scripted server:
 * tests/integration/dns_hostile.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "diagfx.h"

/* raw: a string literal (its length taken with sizeof: it may hold a NUL). */
#define add_invalid(x, record, host, raw, why) add_invalid_n(x, record, host, raw, sizeof raw - 1, why)
static void add_invalid_n(struct fx *x, int record, const char *host, const char *raw,
                          size_t raw_len, const char *why)
{
    struct mxs_mx_invalid *v = &x->dns.mx_invalid[x->dns.n_mx_invalid++];
    v->record = record;
    v->preference = (uint16_t)(10 * record);
    snprintf(v->host, sizeof v->host, "%s", host);
    v->raw_len = (int)raw_len;
    memcpy(v->raw, raw, raw_len);
    snprintf(v->why, sizeof v->why, "%s", why);
    x->dns.mx_records++;
}

/* The only MX is not a host name: nothing is left, an error at RESOLVE; the
 * raw label is escaped once in the evidence. */
static void t_invalid_only(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_RESOLVE, MXS_ST_FAIL);
    x->dns.n_mx = 0;
    add_invalid(x, 1, "\\027[31mevil.example.test", "\x1b[31mevil.example.test",
                "contains control bytes (0x1B)");
    run(x);
    const struct mxs_finding *f = must(x, "mx-target-invalid", MXS_SEV_ERROR, MXS_STEP_RESOLVE);
    has(f->message, "MX target 1 of example.test (preference 10) is not a host name: it "
                    "contains control bytes (0x1B)");
    has(f->message, "No MX is left");
    has(f->evidence, "target \\x1B[31mevil.example.test (as dig shows it: "
                     "\\027[31mevil.example.test)");
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_NOT_DELIVERED, MXS_STEP_RESOLVE,
            "mx-target-invalid");
    DONE;
}

/* Beside a good MX: a warning, delivery goes on. */
static void t_invalid_beside_good(void **st)
{
    (void)st;
    FX;
    add_invalid(x, 1, "sp\\032ace.example.test", "sp ace.example.test", "contains a space");
    add_invalid(x, 2, "a\\000b.example.test", "a\0b.example.test", "contains control bytes (0x00)");
    x->dns.mx_records++;                   /* the good one */
    run(x);
    const struct mxs_finding *f = must(x, "mx-target-invalid", MXS_SEV_WARNING, MXS_STEP_RESOLVE);
    has(f->message, "2 MX targets in all are not host names");
    has(f->evidence, "target a\\x00b.example.test");   /* a NUL shown, never a cut */
    has(f->evidence, "3 MX records in the answer, 1 usable");
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    DONE;
}

static void t_literal_cname_many(void **st)
{
    (void)st;
    FX;
    struct mxs_mx *m = &x->dns.mx[0];
    m->cname.hops = 2;
    snprintf(m->cname.canon, sizeof m->cname.canon, "real.example.test");
    snprintf(m->cname.chain, sizeof m->cname.chain,
             "mx.example.test -> b.example.test -> real.example.test");
    x->dns.mx_records = 500;
    x->dns.mx_not_kept = 499;
    x->dns.mx_answer.bytes = 15010;
    run(x);
    const struct mxs_finding *f = must(x, "mx-target-cname", MXS_SEV_WARNING, MXS_STEP_RESOLVE);
    has(f->message, "a CNAME chain of 2 to real.example.test");
    has(f->evidence, "mx.example.test -> b.example.test -> real.example.test");
    f = must(x, "mx-many", MXS_SEV_INFO, MXS_STEP_RESOLVE);
    has(f->message, "500 MX records");
    has(f->evidence, "15010 bytes");
    assert_null(find_d(x, "mx-target-literal", -2));
    verdict(x, MXS_POL_VERIFIED, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    DONE;

    struct fx *y = good_fx();
    y->dns.mx[0].literal = 1;
    snprintf(y->dns.mx[0].host, sizeof y->dns.mx[0].host, "127.0.0.1");
    run(y);
    must(y, "mx-target-literal", MXS_SEV_WARNING, MXS_STEP_RESOLVE);
    free(y);
}

/* A loop: named instead of a bare SERVFAIL; a warning when another MX has an
 * address. */
static void t_cname_loop(void **st)
{
    (void)st;
    FX;
    only_through(x, MXS_STEP_RESOLVE, MXS_ST_FAIL);
    struct mxs_mx *m = &x->dns.mx[0];
    m->n_addr = 0;
    m->a.rcode = MXS_DNS_SERVFAIL;
    m->cname.hops = 2;
    m->cname.loop = 1;
    snprintf(m->cname.canon, sizeof m->cname.canon, "mx.example.test");
    snprintf(m->cname.chain, sizeof m->cname.chain,
             "mx.example.test -> b.example.test -> mx.example.test");
    run(x);
    const struct mxs_finding *f = must(x, "dns-cname-loop", MXS_SEV_ERROR, MXS_STEP_RESOLVE);
    has(f->message, "loops (after 2 hops, mx.example.test comes back)");
    assert_null(find_d(x, "dns-servfail", -2));
    assert_null(find_d(x, "mx-target-cname", -2));
    verdict(x, MXS_POL_OPPORTUNISTIC, MXS_OUT_NOT_DELIVERED, MXS_STEP_RESOLVE,
            "dns-cname-loop");
    DONE;

    struct fx *y = good_fx();
    y->dns.n_mx = 2;
    struct mxs_mx *m2 = &y->dns.mx[1];
    snprintf(m2->host, sizeof m2->host, "mx2.example.test");
    m2->preference = 20;
    m2->a.rcode = MXS_DNS_SERVFAIL;
    m2->cname.hops = 17;
    m2->cname.too_long = 1;
    run(y);
    f = must(y, "dns-cname-loop", MXS_SEV_WARNING, MXS_STEP_RESOLVE);
    has(f->message, "longer than 16 hops");
    free(y);
}

/* Slow answers: info, the slowest named, each listed; a timeout is not slow. */
static void t_slow(void **st)
{
    (void)st;
    FX;
    x->dns.mx_answer.ms = 2400;
    x->dns.mx[0].a.ms = 1200;
    x->dns.mx[0].aaaa.ms = 5000;
    x->dns.mx[0].aaaa.rcode = MXS_DNS_TIMEOUT;
    x->dns.mx[0].tlsa.ms = 999;
    run(x);
    const struct mxs_finding *f = must(x, "dns-slow", MXS_SEV_INFO, MXS_STEP_RESOLVE);
    has(f->message, "took 2.4 s for the MX query of example.test");
    has(f->evidence, "MX example.test: answered after 2.4 s\nA mx.example.test: answered after 1.2 s");
    assert_null(strstr(f->evidence, "AAAA"));
    assert_null(strstr(f->evidence, "TLSA"));
    DONE;

    struct fx *y = good_fx();
    y->dns.mx_answer.ms = 999;
    run(y);
    assert_null(find_d(y, "dns-slow", -2));
    free(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_invalid_only),
        cmocka_unit_test(t_invalid_beside_good),
        cmocka_unit_test(t_literal_cname_many),
        cmocka_unit_test(t_cname_loop),
        cmocka_unit_test(t_slow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
