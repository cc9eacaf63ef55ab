/*
 * test_raw.c - the operator's raw commands (engine_raw.c) over the scripted
 * transport: a session kept open before QUIT, DATA mode (body lines are
 * written without waiting for a reply, dot-stuffed; "." waits for the final
 * reply), the operator's QUIT closing the session and the QUIT step saying
 * so, STARTTLS refused, a re-run closing a kept session with QUIT.
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

/* Plain SMTP, no STARTTLS offered: the run is BANNER, EHLO, STARTTLS (fails:
 * not offered, the connection stays), then the hold before QUIT. */
#define GREET "220 mx.example.test ESMTP\r\n250-mx.example.test\r\n250 PIPELINING\r\n" \
              "502 5.5.1 no STARTTLS here\r\n"

static struct engine *mk(struct scripted *sc)
{
    static const char *const set[][2] = {
        { "host", "mx.example.test" }, { "connect", "127.0.0.1" },
        { "ehlo", "probe.example.net" }, { "timeout-ehlo", "2" },
    };
    struct mxs_settings s;
    char err[128];
    mxs_settings_init(&s);
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
        if (mxs_settings_set(&s, set[i][0], set[i][1], err, sizeof err))
            fail_msg("set %s: %s", set[i][0], err);
    struct engine *e = engine_new(&s);
    assert_non_null(e);
    sc->chunk = 1; /* a real server answers after the command, not ahead */
    engine_set_factory(e, scripted_factory, sc);
    return e;
}

static double secs_since(const struct timespec *a)
{
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (b.tv_sec - a->tv_sec) + (b.tv_nsec - a->tv_nsec) / 1e9;
}

/* Run steps until the engine stops (held, finished or stop-after). */
static void run_held(struct engine *e)
{
    engine_hold_quit(e, 1);
    engine_run(e);
}

/* A scripted server playing srv (EOF after it with eof), the engine run up
 * to the hold before QUIT (hold) or to the end. */
static struct engine *start(struct scripted *sc, const char *srv, int eof, int hold)
{
    scripted_init(sc, srv, strlen(srv));
    sc->eof_at_end = eof;
    struct engine *e = mk(sc);
    if (hold)
        run_held(e);
    else
        engine_run(e);
    return e;
}

/* One raw line to the end (what the console's poll loop does). */
static void send_one(struct engine *e, const char *line)
{
    char err[200] = "";
    int rc = engine_send(e, line, err, sizeof err);
    if (rc)
        fail_msg("engine_send(%s): %s", line, err);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (e->cmd_active && secs_since(&t0) < 10) /* the engine's deadline ends it */
        engine_step(e);
    assert_false(e->cmd_active);
}

static int has_record(struct engine *e, enum mxs_rec_kind k, const char *text)
{
    for (size_t i = 0; i < engine_record_count(e); i++) {
        const struct mxs_record *r = engine_record(e, i);
        if (r->kind == k && strstr((const char *)r->data, text))
            return 1;
    }
    return 0;
}

static int count_kind(struct engine *e, enum mxs_rec_kind k)
{
    int n = 0;
    for (size_t i = 0; i < engine_record_count(e); i++)
        n += engine_record(e, i)->kind == k;
    return n;
}

static void test_hold_then_send(void **st)
{
    (void)st;
    struct scripted sc;
    struct engine *e = start(&sc, GREET "250 2.0.0 Ok\r\n", 0, 1);
    assert_int_equal(engine_step_state(e, MXS_STEP_QUIT), MXS_ST_PENDING);
    assert_false(engine_finished(e));
    assert_true(engine_held_open(e));
    assert_true(engine_connected(e));
    assert_true(has_record(e, MXS_REC_NOTE, "session kept open for the operator"));
    /* the findings are in the transcript already (a save now has them) */
    int nf = count_kind(e, MXS_REC_FINDING);
    assert_true(nf > 0);
    send_one(e, "NOOP");
    assert_true(has_record(e, MXS_REC_SMTP_IN, "250 2.0.0 Ok"));
    /* n: QUIT runs, as the step it always was */
    engine_hold_quit(e, 0);
    engine_run(e);
    assert_int_equal(engine_step_state(e, MXS_STEP_QUIT), MXS_ST_OK);
    assert_true(engine_finished(e));
    assert_int_equal(count_kind(e, MXS_REC_FINDING), nf); /* not twice */
    sc.written[sc.wlen] = 0;
    assert_non_null(strstr((char *)sc.written, "NOOP\r\nQUIT\r\n"));
    engine_free(e);
}

/* The server says nothing to the body lines (as RFC 5321 wants) and
 * nothing at all until "." arrives: with a reply awaited per line each
 * would wait out the 2 s deadline and take "250 queued" for its own. */
static void test_data_mode(void **st)
{
    (void)st;
    struct scripted sc;
    struct engine *e = start(&sc, GREET "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data\r\n"
                              "250 2.0.0 Ok: queued as ABC\r\n221 2.0.0 Bye\r\n", 0, 1);
    send_one(e, "MAIL FROM:<>");
    send_one(e, "RCPT TO:<postmaster@example.test>");
    send_one(e, "DATA");
    assert_int_equal(engine_raw_mode(e), ENGINE_RAW_DATA);
    assert_true(has_record(e, MXS_REC_NOTE, "DATA mode"));
    /* the server is silent from here until the message ends */
    sc.stall_at = sc.pos;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    send_one(e, "Subject: test");
    send_one(e, "");
    send_one(e, ".hidden dot");
    send_one(e, "last line");
    assert_true(secs_since(&t0) < 0.5);
    assert_false(has_record(e, MXS_REC_ERROR, "no reply"));
    assert_true(has_record(e, MXS_REC_NOTE, "dot-stuffed"));
    assert_int_equal(engine_raw_mode(e), ENGINE_RAW_DATA);
    sc.stall_at = (size_t)-1;
    send_one(e, ".");
    assert_true(has_record(e, MXS_REC_SMTP_IN, "250 2.0.0 Ok: queued as ABC"));
    assert_int_equal(engine_raw_mode(e), ENGINE_RAW_COMMAND);
    sc.written[sc.wlen] = 0;
    assert_non_null(strstr((char *)sc.written, "DATA\r\nSubject: test\r\n\r\n..hidden dot\r\n"
                                               "last line\r\n.\r\n"));
    /* the operator's QUIT closes the session; the QUIT step says so */
    send_one(e, "QUIT");
    assert_int_equal(engine_raw_mode(e), ENGINE_RAW_CLOSED);
    assert_false(engine_connected(e));
    assert_int_equal(engine_step_state(e, MXS_STEP_QUIT), MXS_ST_SKIPPED);
    struct engine_step_info si;
    engine_step_info(e, MXS_STEP_QUIT, &si);
    assert_string_equal(si.detail, "closed by the operator's QUIT (answered 221)");
    assert_true(engine_finished(e));
    char err[200];
    assert_int_equal(engine_send(e, "NOOP", err, sizeof err), -1);
    assert_non_null(strstr(err, "closed by the operator's QUIT"));
    sc.written[sc.wlen] = 0;
    assert_null(strstr((char *)sc.written, "QUIT\r\nQUIT")); /* one QUIT, ours not added */
    engine_free(e);
}

/* "." waits for the final reply with one deadline: a server that never
 * answers ends DATA mode with "no reply" in about timeout-ehlo. */
static void test_dot_deadline(void **st)
{
    (void)st;
    struct scripted sc;
    struct engine *e = start(&sc, GREET "354 go ahead\r\n", 0, 1);
    send_one(e, "DATA");
    assert_int_equal(engine_raw_mode(e), ENGINE_RAW_DATA);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    send_one(e, ".");
    double s = secs_since(&t0);
    assert_true(s >= 1.9 && s < 3.0);
    assert_true(has_record(e, MXS_REC_ERROR, "no reply within 2 s"));
    assert_int_equal(engine_raw_mode(e), ENGINE_RAW_COMMAND);
    engine_free(e);
}

static void test_quit_eof_and_starttls(void **st)
{
    (void)st;
    struct scripted sc;
    struct engine *e = start(&sc, GREET, 1, 1);
    char err[200];
    assert_int_equal(engine_send(e, "starttls", err, sizeof err), -1);
    assert_non_null(strstr(err, "STARTTLS is a step"));
    assert_false(e->cmd_active);
    send_one(e, "QUIT");
    assert_int_equal(engine_raw_mode(e), ENGINE_RAW_CLOSED);
    struct engine_step_info si;
    engine_step_info(e, MXS_STEP_QUIT, &si);
    assert_int_equal(si.state, MXS_ST_SKIPPED);
    assert_string_equal(si.detail, "closed by the operator's QUIT (the server closed the connection)");
    engine_free(e);
}

/* A re-run closes a session kept open: QUIT written, a note says so. */
static void test_rerun_closes_held(void **st)
{
    (void)st;
    struct scripted sc;
    struct engine *e = start(&sc, GREET, 0, 1);
    assert_true(engine_held_open(e));
    assert_int_equal(engine_rerun_from(e, MXS_STEP_EHLO), 0);
    assert_true(has_record(e, MXS_REC_NOTE, "the session kept open was closed (re-run)"));
    assert_true(sc.closed);
    sc.written[sc.wlen] = 0;
    assert_non_null(strstr((char *)sc.written, "STARTTLS\r\nQUIT\r\n"));
    assert_false(engine_held_open(e));
    engine_free(e);
}

/* Inside DATA a QUIT would be a line of the message: a re-run closes
 * without one, and says the message was abandoned. */
static void test_rerun_in_data(void **st)
{
    (void)st;
    struct scripted sc;
    struct engine *e = start(&sc, GREET "354 go ahead\r\n", 0, 1);
    send_one(e, "DATA");
    send_one(e, "half a message");
    assert_int_equal(engine_rerun_from(e, MXS_STEP_EHLO), 0);
    assert_true(has_record(e, MXS_REC_NOTE, "in the middle of DATA, without QUIT: the message is abandoned"));
    sc.written[sc.wlen] = 0;
    assert_null(strstr((char *)sc.written, "QUIT"));
    assert_int_equal(engine_raw_mode(e), ENGINE_RAW_COMMAND);
    engine_free(e);
}

/* Without the hold (batch) the run goes through QUIT as before. */
static void test_no_hold_runs_quit(void **st)
{
    (void)st;
    struct scripted sc;
    struct engine *e = start(&sc, GREET, 0, 0);
    assert_int_equal(engine_step_state(e, MXS_STEP_QUIT), MXS_ST_OK);
    assert_true(engine_finished(e));
    assert_false(has_record(e, MXS_REC_NOTE, "kept open"));
    engine_free(e);
}

/* The completions of `line` (the word being completed starts at start),
 * joined by '|' in the order given. */
static const char *completions(const struct cmd_ctx *c, const char *line, size_t start)
{
    static char joined[2048];
    char out[64][CMD_CPL_LEN];
    int want_files = 0;
    int n = cmd_complete(c, line, start, out, 64, &want_files);
    joined[0] = 0;
    for (int i = 0; i < n; i++)
        snprintf(joined + strlen(joined), sizeof joined - strlen(joined), "%s%s", i ? "|" : "", out[i]);
    return joined;
}

/* After `send`: SMTP verbs with the start of their argument, in any case;
 * no STARTTLS; inside DATA only "."; `set keep-open`. */
static void test_send_completion(void **st)
{
    (void)st;
    struct scripted sc;
    struct engine *e = start(&sc, GREET "354 go ahead\r\n", 0, 1);
    struct cmd_ctx c;
    cmd_ctx_init(&c, e, NULL, NULL, 0);
    assert_string_equal(completions(&c, "send MA", 5), "MAIL FROM:<");
    assert_string_equal(completions(&c, "send rc", 5), "RCPT TO:<");
    assert_string_equal(completions(&c, "send EH", 5), "EHLO probe.example.net");
    assert_string_equal(completions(&c, "send ", 5), "EHLO probe.example.net|HELO probe.example.net|"
                        "MAIL FROM:<|RCPT TO:<|DATA|NOOP|RSET|VRFY|EXPN|HELP|QUIT");
    assert_string_equal(completions(&c, "send ST", 5), "");
    assert_string_equal(completions(&c, "send MAIL ", 10), "FROM:<>|FROM:<");
    assert_string_equal(completions(&c, "send RCPT ", 10), "TO:<");  /* a host: no domain */
    assert_string_equal(completions(&c, "send VRFY ", 10), "postmaster");
    assert_string_equal(completions(&c, "set keep", 4), "keep-open");
    assert_string_equal(completions(&c, "set keep-open ", 14), "on|off");
    send_one(e, "DATA");
    assert_string_equal(completions(&c, "send ", 5), ".");
    engine_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hold_then_send),
        cmocka_unit_test(test_data_mode),
        cmocka_unit_test(test_dot_deadline),
        cmocka_unit_test(test_quit_eof_and_starttls),
        cmocka_unit_test(test_rerun_closes_held),
        cmocka_unit_test(test_rerun_in_data),
        cmocka_unit_test(test_no_hold_runs_quit),
        cmocka_unit_test(test_send_completion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
