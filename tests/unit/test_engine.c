/*
 * test_engine.c - the engine's steps over a scripted, fault-injecting
 * transport: same facts whatever the chunking, deadlines per whole stage,
 * resets named, the STARTTLS guard, HELO fallback, settings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core.h"
#include "probe/engine_int.h"
#include "scripted.h"

static const char srv_plain[] =
    "220 mx.example.test ESMTP ready\r\n"
    "250-mx.example.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-STARTTLS\r\n250 8BITMIME\r\n"
    "220 2.0.0 Ready to start TLS\r\n";

static struct engine *mk(struct scripted *sc, int stop_after)
{
    struct mxs_settings s;
    char err[128];
    mxs_settings_init(&s);
    assert_int_equal(mxs_settings_set(&s, "host", "mx.example.test", err, sizeof err), 0);
    assert_int_equal(mxs_settings_set(&s, "connect", "127.0.0.1", err, sizeof err), 0);
    assert_int_equal(mxs_settings_set(&s, "ehlo", "probe.example.net", err, sizeof err), 0);
    s.stop_after = stop_after;
    struct engine *e = engine_new(&s);
    assert_non_null(e);
    engine_set_factory(e, scripted_factory, sc);
    return e;
}

static void plain_steps(size_t chunk, unsigned eagain)
{
    struct scripted sc;
    scripted_init(&sc, srv_plain, sizeof srv_plain - 1);
    sc.chunk = chunk;
    sc.eagain_every = eagain;
    struct engine *e = mk(&sc, MXS_STEP_STARTTLS);
    engine_run(e);
    assert_int_equal(engine_step_state(e, MXS_STEP_RESOLVE), MXS_ST_SKIPPED);
    assert_int_equal(engine_step_state(e, MXS_STEP_CONNECT), MXS_ST_OK);
    assert_int_equal(engine_step_state(e, MXS_STEP_BANNER), MXS_ST_OK);
    assert_int_equal(engine_step_state(e, MXS_STEP_EHLO), MXS_ST_OK);
    assert_int_equal(engine_step_state(e, MXS_STEP_STARTTLS), MXS_ST_OK);
    assert_int_equal(engine_step_state(e, MXS_STEP_HANDSHAKE), MXS_ST_PENDING);
    const struct mxs_smtp_facts *m = engine_smtp(e);
    assert_int_equal(m->banner.code, 220);
    assert_string_equal(m->banner.text, "mx.example.test ESMTP ready");
    assert_int_equal(m->ehlo.code, 250);
    assert_true(m->caps.starttls);
    assert_true(m->caps.pipelining);
    assert_int_equal(m->caps.size, 1000);
    assert_int_equal(m->starttls.code, 220);
    assert_int_equal(m->leftover_plain, 0);
    sc.written[sc.wlen] = 0;
    assert_string_equal((char *)sc.written, "EHLO probe.example.net\r\nSTARTTLS\r\n");
    /* the transcript has every line, in order, with directions */
    size_t n = engine_record_count(e);
    int in = 0, out = 0;
    for (size_t i = 0; i < n; i++) {
        const struct mxs_record *r = engine_record(e, i);
        in += r->kind == MXS_REC_SMTP_IN;
        out += r->kind == MXS_REC_SMTP_OUT;
    }
    assert_int_equal(in, 7);
    assert_int_equal(out, 2);
    engine_free(e);
}

static void test_plain_whole(void **st) { (void)st; plain_steps(0, 0); }
static void test_plain_one_byte(void **st) { (void)st; plain_steps(1, 0); }
static void test_plain_eagain(void **st) { (void)st; plain_steps(3, 2); }

static void test_leftover_after_starttls(void **st)
{
    (void)st;
    static const char srv[] =
        "220 mx ESMTP\r\n250-mx\r\n250 STARTTLS\r\n"
        "220 2.0.0 Ready to start TLS\r\n250-injected\r\n250 pipelined\r\n";
    struct scripted sc;
    scripted_init(&sc, srv, sizeof srv - 1);
    struct engine *e = mk(&sc, MXS_STEP_STARTTLS);
    engine_run(e);
    assert_int_equal(engine_step_state(e, MXS_STEP_STARTTLS), MXS_ST_WARN);
    assert_int_equal(engine_smtp(e)->leftover_plain, strlen("250-injected\r\n250 pipelined\r\n"));
    /* the injected lines were never taken as replies */
    size_t n = engine_record_count(e);
    for (size_t i = 0; i < n; i++) {
        const struct mxs_record *r = engine_record(e, i);
        if (r->kind == MXS_REC_SMTP_IN)
            assert_null(strstr((const char *)r->data, "injected"));
    }
    engine_free(e);
}

static void test_reset_in_ehlo(void **st)
{
    (void)st;
    struct scripted sc;
    scripted_init(&sc, srv_plain, sizeof srv_plain - 1);
    sc.reset_at = strlen("220 mx.example.test ESMTP ready\r\n250-mx.exa");
    struct engine *e = mk(&sc, -1);
    engine_run(e);
    assert_int_equal(engine_step_state(e, MXS_STEP_BANNER), MXS_ST_OK);
    assert_int_equal(engine_step_state(e, MXS_STEP_EHLO), MXS_ST_FAIL);
    assert_int_equal(engine_failed_step(e), MXS_STEP_EHLO);
    assert_int_equal(engine_step_state(e, MXS_STEP_STARTTLS), MXS_ST_SKIPPED);
    assert_true(engine_finished(e));
    engine_free(e);
}

static void test_stage_deadline(void **st)
{
    (void)st;
    static const char srv[] = "220-mx slow\r\n220-still";
    struct scripted sc;
    scripted_init(&sc, srv, sizeof srv - 1);
    sc.chunk = 1;
    struct engine *e = mk(&sc, -1);
    char err[64];
    assert_int_equal(engine_set(e, "timeout-banner", "0.3", err, sizeof err), 0);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    engine_run(e);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double secs = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
    assert_int_equal(engine_step_state(e, MXS_STEP_BANNER), MXS_ST_FAIL);
    assert_true(secs < 1.3);
    assert_true(secs >= 0.29);
    engine_free(e);
}

static void test_helo_fallback(void **st)
{
    (void)st;
    static const char srv[] = "220 old ready\r\n502 5.5.2 what?\r\n250 old hello\r\n"
                              "502 5.5.1 unknown command\r\n";
    struct scripted sc;
    scripted_init(&sc, srv, sizeof srv - 1);
    struct engine *e = mk(&sc, -1);
    engine_run(e);
    assert_int_equal(engine_step_state(e, MXS_STEP_EHLO), MXS_ST_WARN);
    assert_true(engine_smtp(e)->used_helo);
    /* no extensions after HELO, but STARTTLS is asked: its answer is evidence */
    assert_int_equal(engine_step_state(e, MXS_STEP_STARTTLS), MXS_ST_FAIL);
    assert_int_equal(engine_smtp(e)->starttls.code, 502);
    assert_int_equal(engine_failed_step(e), MXS_STEP_STARTTLS);
    sc.written[sc.wlen] = 0;
    assert_string_equal((char *)sc.written, "EHLO probe.example.net\r\nHELO probe.example.net\r\nSTARTTLS\r\nQUIT\r\n");
    engine_free(e);
}

static void test_connect_refused(void **st)
{
    (void)st;
    struct scripted sc;
    scripted_init(&sc, "", 0);
    sc.refuse = 1;
    struct engine *e = mk(&sc, -1);
    engine_run(e);
    assert_int_equal(engine_step_state(e, MXS_STEP_CONNECT), MXS_ST_FAIL);
    assert_int_equal(engine_connection(e)->error, MXS_CONN_REFUSED);
    assert_int_equal(engine_failed_step(e), MXS_STEP_CONNECT);
    engine_free(e);
}

static void test_step_by_step(void **st)
{
    (void)st;
    struct scripted sc;
    scripted_init(&sc, srv_plain, sizeof srv_plain - 1);
    struct engine *e = mk(&sc, MXS_STEP_STARTTLS);
    int done = 0;
    for (int i = 0; i < 100 && !engine_finished(e); i++) {
        enum mxs_progress p = engine_step(e);
        if (p == MXS_PROG_STEP_DONE)
            done++;
        if (p == MXS_PROG_FINISHED)
            break;
    }
    /* one call, one step: RESOLVE (pinned: skipped), CONNECT, BANNER, EHLO,
     * STARTTLS */
    assert_int_equal(done, 5);
    struct mxs_event ev;
    int states = 0;
    while (engine_next_event(e, &ev))
        states += ev.type == MXS_EV_STEP_STATE;
    assert_true(states >= 9);
    engine_free(e);
}

static void test_rerun(void **st)
{
    (void)st;
    struct scripted sc;
    scripted_init(&sc, srv_plain, sizeof srv_plain - 1);
    struct engine *e = mk(&sc, MXS_STEP_EHLO);
    engine_run(e);
    assert_int_equal(engine_step_state(e, MXS_STEP_EHLO), MXS_ST_OK);
    char err[64];
    assert_int_equal(engine_set(e, "ehlo", "other.example.net", err, sizeof err), 0);
    sc.pos = 0;
    sc.wlen = 0;
    assert_int_equal(engine_rerun_from(e, MXS_STEP_EHLO), 0);
    engine_run(e);
    sc.written[sc.wlen] = 0;
    assert_string_equal((char *)sc.written, "EHLO other.example.net\r\n");
    assert_int_equal(engine_step_state(e, MXS_STEP_EHLO), MXS_ST_OK);
    engine_free(e);
}

static void test_settings(void **st)
{
    (void)st;
    struct mxs_settings s;
    char err[128], v[64];
    mxs_settings_init(&s);
    assert_int_equal(s.port, 25);
    assert_int_equal(mxs_settings_set(&s, "host", "[::1]:2525", err, sizeof err), 0);
    assert_string_equal(s.target, "::1");
    assert_int_equal(s.port, 2525);
    assert_int_equal(mxs_settings_set(&s, "tls-min", "1.3", err, sizeof err), 0);
    assert_int_equal(s.tls_min, 13);
    assert_int_equal(mxs_settings_set(&s, "tls-min", "1.1", err, sizeof err), -1);
    assert_int_equal(mxs_settings_set(&s, "timeout-banner", "2.5", err, sizeof err), 0);
    assert_int_equal(s.timeout_ms[MXS_STEP_BANNER], 2500);
    assert_int_equal(mxs_settings_set(&s, "expect-fingerprint", "ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01", err, sizeof err), 0);
    assert_string_equal(s.expect_fp, "ABCDEF0123456789ABCDEF0123456789ABCDEF01");
    assert_int_equal(mxs_settings_set(&s, "expect-fingerprint", "abc", err, sizeof err), -1);
    assert_int_equal(mxs_settings_set(&s, "sni", "none", err, sizeof err), 0);
    assert_int_equal(mxs_settings_get(&s, "sni", v, sizeof v), 0);
    assert_string_equal(v, "none");
    assert_int_equal(mxs_settings_set(&s, "ehlo", "bad name", err, sizeof err), -1);
    assert_int_equal(mxs_settings_set(&s, "nonsense", "x", err, sizeof err), -1);
    for (const struct mxs_setting_def *d = mxs_setting_table; d->name; d++)
        assert_int_equal(mxs_settings_get(&s, d->name, v, sizeof v), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_whole),
        cmocka_unit_test(test_plain_one_byte),
        cmocka_unit_test(test_plain_eagain),
        cmocka_unit_test(test_leftover_after_starttls),
        cmocka_unit_test(test_reset_in_ehlo),
        cmocka_unit_test(test_stage_deadline),
        cmocka_unit_test(test_helo_fallback),
        cmocka_unit_test(test_connect_refused),
        cmocka_unit_test(test_step_by_step),
        cmocka_unit_test(test_rerun),
        cmocka_unit_test(test_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
