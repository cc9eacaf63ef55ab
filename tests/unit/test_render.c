/*
 * test_render.c - the session module (core/session) against docs/json.md:
 * every documented key is there with its type, the transcript kinds and
 * directions are right, binary records carry hex; the JSON loader gives back
 * the session it was given; every name of names.c reads back through its
 * *_from_name function; the replay API (probe/engine_replay.h) fills a
 * read-only engine and only through the one state setter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "core.h"
#include "probe/engine_int.h"
#include "session/render.h"
#include "scripted.h"

static const char srv[] =
    "220 mx.example.test ESMTP\r\n"
    "250-mx.example.test\r\n250-SIZE 1000\r\n250 STARTTLS\r\n"
    "454 4.7.0 TLS not available due to local problem\r\n";

static struct engine *session(struct scripted *sc)
{
    struct mxs_settings s;
    char err[64];
    mxs_settings_init(&s);
    assert_int_equal(mxs_settings_set(&s, "host", "mx.example.test:2525", err, sizeof err), 0);
    assert_int_equal(mxs_settings_set(&s, "connect", "127.0.0.1", err, sizeof err), 0);
    assert_int_equal(mxs_settings_set(&s, "ehlo", "probe.example.net", err, sizeof err), 0);
    scripted_init(sc, srv, sizeof srv - 1);
    sc->eof_at_end = 1;
    struct engine *e = engine_new(&s);
    engine_set_factory(e, scripted_factory, sc);
    engine_run(e);
    return e;
}

static void assert_render_exit_same(const struct engine *a, const struct engine *b)
{
    assert_int_equal(render_exit_code(a), render_exit_code(b));
    assert_int_equal(engine_failed_step(a), engine_failed_step(b));
}

static json_t *get(json_t *o, const char *path)
{
    char tmp[200];
    snprintf(tmp, sizeof tmp, "%s", path);
    json_t *cur = o;
    for (char *k = strtok(tmp, "."); k && cur; k = strtok(NULL, "."))
        cur = json_object_get(cur, k);
    if (!cur)
        fail_msg("missing key %s", path);
    return cur;
}

static void test_json_schema(void **st)
{
    (void)st;
    struct scripted sc;
    struct engine *e = session(&sc);
    char *s = render_json(e);
    assert_non_null(s);
    json_error_t je;
    json_t *j = json_loads(s, 0, &je);
    assert_non_null(j);
    assert_int_equal(json_integer_value(get(j, "schema")), 1);
    assert_true(json_is_string(get(j, "mxscope")));
    assert_true(json_is_string(get(j, "started")));
    assert_string_equal(json_string_value(get(j, "target.input")), "mx.example.test");
    assert_string_equal(json_string_value(get(j, "target.kind")), "host");
    assert_int_equal(json_integer_value(get(j, "target.port")), 2525);
    assert_string_equal(json_string_value(get(j, "target.ehlo_name")), "probe.example.net");
    assert_string_equal(json_string_value(get(j, "result.failed_step")), "STARTTLS");
    assert_int_equal(json_integer_value(get(j, "result.exit_code")), 14);
    json_t *steps = get(j, "steps");
    assert_int_equal(json_array_size(steps), MXS_STEP_COUNT);
    static const char *const want[] = { "skipped", "ok", "ok", "ok", "fail", "skipped", "skipped",
                                        "skipped", "ok", "skipped" /* POLICY: a host */ };
    for (size_t i = 0; i < MXS_STEP_COUNT; i++) {
        json_t *x = json_array_get(steps, i);
        assert_string_equal(json_string_value(json_object_get(x, "step")), mxs_step_name((enum mxs_step)i));
        assert_string_equal(json_string_value(json_object_get(x, "status")), want[i]);
        assert_true(json_is_integer(json_object_get(x, "elapsed_ms")));
    }
    assert_true(json_is_array(get(j, "dns.mx")));
    assert_int_equal(json_integer_value(get(j, "smtp.banner.code")), 220);
    assert_string_equal(json_string_value(json_array_get(get(j, "smtp.banner.lines"), 0)), "mx.example.test ESMTP");
    assert_int_equal(json_integer_value(get(j, "smtp.starttls.code")), 454);
    assert_string_equal(json_string_value(get(j, "smtp.starttls.enhanced")), "4.7.0");
    assert_int_equal(json_array_size(get(j, "smtp.capabilities")), 2); /* SIZE, STARTTLS */
    assert_true(json_is_null(get(j, "tls.version")));
    assert_int_equal(json_array_size(get(j, "chain")), 0);
    assert_true(json_is_array(get(j, "findings")));
    json_t *f = json_array_get(get(j, "findings"), 0);
    assert_non_null(f);
    assert_string_equal(json_string_value(json_object_get(f, "id")), "starttls-refused");
    json_t *v = get(j, "verdict");
    assert_int_equal(json_array_size(v), 5);   /* the four, then mta-sts */
    assert_string_equal(json_string_value(json_object_get(json_array_get(v, 4), "policy")), "mta-sts");
    assert_string_equal(json_string_value(json_object_get(json_array_get(v, 0), "outcome")), "delivered-clear");
    assert_string_equal(json_string_value(json_object_get(json_array_get(v, 1), "outcome")), "not-delivered");
    /* transcript: kinds and directions in order */
    json_t *tr = get(j, "transcript");
    int in = 0, out = 0;
    size_t i;
    json_t *r;
    json_array_foreach(tr, i, r) {
        const char *k = json_string_value(json_object_get(r, "kind"));
        assert_non_null(k);
        assert_true(json_is_number(json_object_get(r, "t_ms")));
        assert_true(json_is_string(json_object_get(r, "text")) || json_is_string(json_object_get(r, "hex")));
        in += !strcmp(k, "smtp-in");
        out += !strcmp(k, "smtp-out");
    }
    assert_int_equal(in, 5);
    assert_int_equal(out, 3); /* EHLO, STARTTLS, QUIT */
    json_decref(j);
    free(s);
    engine_free(e);
}

static void test_transcript_text(void **st)
{
    (void)st;
    struct scripted sc;
    struct engine *e = session(&sc);
    struct buf b;
    buf_init(&b, 0);
    render_transcript_text(e, &b);
    const char *t = buf_str(&b);
    assert_non_null(strstr(t, "# mxscope "));
    assert_non_null(strstr(t, " BANNER    S: 220 mx.example.test ESMTP\n"));
    assert_non_null(strstr(t, " EHLO      C: EHLO probe.example.net\n"));
    assert_non_null(strstr(t, " STARTTLS  S: 454 4.7.0 TLS not available due to local problem\n"));
    assert_non_null(strstr(t, "# verdict opportunistic delivered-clear STARTTLS starttls-refused\n"));
    buf_reset(&b);
    render_report_text(e, &b);
    assert_non_null(strstr(buf_str(&b), "[FAIL] STARTTLS"));
    assert_non_null(strstr(buf_str(&b), "Result: STARTTLS (exit 14)"));
    buf_free(&b);
    engine_free(e);
}

/* Every name table of names.c reads back through its from_name function,
 * and an unknown name is refused: the loaders use nothing else. */
static void test_names_round_trip(void **st)
{
    (void)st;
    for (int i = 0; i < MXS_STEP_COUNT; i++)
        assert_int_equal(mxs_step_from_name(mxs_step_name((enum mxs_step)i)), i);
    for (int i = MXS_ST_PENDING; i <= MXS_ST_CANCELLED; i++)
        assert_int_equal(mxs_step_state_from_name(mxs_step_state_name((enum mxs_step_state)i)), i);
    for (int i = MXS_SEV_INFO; i <= MXS_SEV_ERROR; i++)
        assert_int_equal(mxs_severity_from_name(mxs_severity_name((enum mxs_severity)i)), i);
    for (int i = 0; i < MXS_POL_COUNT; i++)
        assert_int_equal(mxs_policy_from_name(mxs_policy_name((enum mxs_policy)i)), i);
    for (int i = MXS_OUT_ENCRYPTED; i <= MXS_OUT_NOT_EVALUATED; i++)
        assert_int_equal(mxs_outcome_from_name(mxs_outcome_name((enum mxs_outcome)i)), i);
    for (int i = 0; i < MXS_REC_KIND_COUNT; i++)
        assert_int_equal(mxs_rec_kind_from_name(mxs_rec_kind_name((enum mxs_rec_kind)i)), i);
    int flags = 0;
    for (unsigned bit = 1; bit && bit <= MXS_V_OTHER; bit <<= 1) {
        const char *n = mxs_verify_flag_name(bit);
        assert_non_null(n);
        assert_int_equal(mxs_verify_flag_from_name(n, strlen(n)), bit);
        flags++;
    }
    assert_int_equal(flags, 13);
    assert_int_equal(mxs_step_state_from_name("OK"), -1); /* exact, like the writer */
    assert_int_equal(mxs_step_state_from_name(NULL), -1);
    assert_int_equal(mxs_severity_from_name("fatal"), -1);
    assert_int_equal(mxs_policy_from_name("mta-sts"), MXS_POL_MTASTS);
    assert_int_equal(mxs_policy_from_name("MTA-STS"), -1);
    assert_int_equal(mxs_outcome_from_name("delivered"), -1);
    assert_int_equal(mxs_rec_kind_from_name("smtp"), -1);
    assert_int_equal(mxs_verify_flag_from_name("expire", 6), 0);
    assert_int_equal(mxs_verify_flag_from_name("expired, x", 7), MXS_V_EXPIRED);
    assert_null(mxs_conn_error_name(MXS_CONN_OK)); /* JSON: "error": null */
    assert_string_equal(mxs_conn_error_name(MXS_CONN_REFUSED), "refused");
    assert_string_equal(mxs_conn_error_name(MXS_CONN_UNREACHABLE), "unreachable");
}

/* The transcript text without its time column (the JSON keeps times as
 * float milliseconds: a microsecond may round the other way). */
static char *text_without_times(const struct engine *e)
{
    struct buf b;
    buf_init(&b, 0);
    render_transcript_text(e, &b);
    char *t = strdup(buf_str(&b));
    buf_free(&b);
    assert_non_null(t);
    char *w = t;
    for (const char *r = t; *r;) {
        const char *nl = strchr(r, '\n');
        size_t n = nl ? (size_t)(nl - r + 1) : strlen(r);
        if (*r == '+' && n > 9 && r[8] == 's')
            r += 9;
        else if (!strncmp(r, "# mxscope ", 10) && (nl = strchr(r, '\n')))
            r = nl + 1; /* the version header: compared through engine_started_at */
        n = (nl = strchr(r, '\n')) ? (size_t)(nl - r + 1) : strlen(r);
        memmove(w, r, n);
        w += n;
        r += n;
    }
    *w = 0;
    return t;
}

/* Save as JSON, load it back: the same steps, records, findings, verdicts
 * and transcript; the loaded engine is read-only. */
static void test_json_load_round_trip(void **st)
{
    (void)st;
    struct scripted sc;
    struct engine *a = session(&sc);
    char *s = render_json(a);
    assert_non_null(s);
    char err[256] = "";
    struct engine *b = engine_load_buffer(s, strlen(s), "t.json", err, sizeof err);
    if (!b)
        fail_msg("load: %s", err);
    assert_true(engine_is_replay(b));
    assert_false(engine_is_replay(a));
    assert_int_equal(engine_step(b), MXS_PROG_FINISHED);
    assert_int_equal(engine_send(b, "NOOP", err, sizeof err), -1);
    assert_int_equal(engine_started_at(a), engine_started_at(b));
    assert_string_equal(engine_settings(a)->target, engine_settings(b)->target);
    assert_int_equal(engine_settings(a)->port, engine_settings(b)->port);
    for (int i = 0; i < MXS_STEP_COUNT; i++) {
        struct engine_step_info x, y;
        engine_step_info(a, (enum mxs_step)i, &x);
        engine_step_info(b, (enum mxs_step)i, &y);
        assert_int_equal(x.state, y.state);
        assert_int_equal(x.elapsed_ms, y.elapsed_ms);
        assert_string_equal(x.detail, y.detail);
    }
    assert_int_equal(engine_record_count(a), engine_record_count(b));
    int na, nb;
    engine_findings(a, &na);
    engine_findings(b, &nb);
    assert_true(na > 0);
    assert_int_equal(na, nb); /* their fields: the "findings" arrays below */
    assert_render_exit_same(a, b);
    char *ta = text_without_times(a), *tb = text_without_times(b);
    assert_string_equal(ta, tb);
    /* and the loaded engine saves the same JSON document again, but for
     * the facts JSON does not carry back (DNS, SMTP replies) */
    char *s2 = render_json(b);
    json_t *ja = json_loads(s, 0, NULL), *jb = json_loads(s2, 0, NULL);
    assert_true(json_equal(json_object_get(ja, "steps"), json_object_get(jb, "steps")));
    assert_true(json_equal(json_object_get(ja, "findings"), json_object_get(jb, "findings")));
    assert_true(json_equal(json_object_get(ja, "verdict"), json_object_get(jb, "verdict")));
    assert_true(json_equal(json_object_get(ja, "result"), json_object_get(jb, "result")));
    json_decref(ja);
    json_decref(jb);
    free(s2);
    free(ta);
    free(tb);
    free(s);
    engine_free(a);
    engine_free(b);
}

/* The replay API alone: records at the times given, step states through the
 * setter, a step left running ends CANCELLED, FINISHED is the last event,
 * facts and diagnosis handed over as given. */
static void test_replay_api(void **st)
{
    (void)st;
    struct mxs_settings s;
    mxs_settings_init(&s);
    snprintf(s.target, sizeof s.target, "example.org");
    struct engine *e = engine_replay_new(&s, 1700000000);
    assert_non_null(e);
    assert_true(engine_is_replay(e));
    assert_int_equal(engine_started_at(e), 1700000000);
    assert_int_equal(engine_replay_record(e, MXS_REC_NOTE, MXS_STEP_NONE, "hello", 5, 1234567), 0);
    assert_int_equal(engine_record_count(e), 1);
    assert_int_equal(engine_record(e, 0)->t_us, 1234567);
    assert_memory_equal(engine_record(e, 0)->data, "hello", 5);
    engine_replay_step(e, MXS_STEP_RESOLVE, MXS_ST_OK, 12, "2 MX");
    engine_replay_step(e, MXS_STEP_CONNECT, MXS_ST_RUNNING, 0, "");
    engine_replay_step(e, MXS_STEP_RESOLVE, MXS_ST_OK, -1, NULL); /* keeps time and detail */
    struct engine_step_info si;
    engine_step_info(e, MXS_STEP_RESOLVE, &si);
    assert_int_equal(si.state, MXS_ST_OK);
    assert_int_equal(si.elapsed_ms, 12);
    assert_string_equal(si.detail, "2 MX");
    struct mxs_tls_facts tls;
    memset(&tls, 0, sizeof tls);
    tls.ok = 1;
    snprintf(tls.version_name, sizeof tls.version_name, "TLSv1.3");
    struct engine_replay_facts facts = { .tls = &tls };
    engine_replay_facts(e, &facts);
    assert_string_equal(engine_tls(e)->version_name, "TLSv1.3");
    struct mxs_finding f;
    memset(&f, 0, sizeof f);
    snprintf(f.id, sizeof f.id, "cert-expired");
    f.step = MXS_STEP_CHAIN;
    struct mxs_verdict v[MXS_POL_COUNT];
    memcpy(v, engine_verdicts(e), sizeof v);
    v[MXS_POL_DANE].outcome = MXS_OUT_NOT_DELIVERED;
    engine_replay_diagnosis(e, &f, 1, v);
    int n;
    assert_string_equal(engine_findings(e, &n)[0].id, "cert-expired");
    assert_int_equal(n, 1);
    assert_int_equal(engine_verdicts(e)[MXS_POL_DANE].outcome, MXS_OUT_NOT_DELIVERED);
    engine_replay_finish(e);
    assert_int_equal(engine_step_state(e, MXS_STEP_CONNECT), MXS_ST_CANCELLED);
    assert_int_equal(engine_failed_step(e), MXS_STEP_CONNECT);
    struct mxs_event ev, last = { 0 };
    int nev = 0;
    while (engine_next_event(e, &ev)) {
        last = ev;
        nev++;
    }
    assert_true(nev >= 2);
    assert_int_equal(last.type, MXS_EV_FINISHED);
    assert_int_equal(engine_step(e), MXS_PROG_FINISHED);
    assert_int_equal(engine_rerun_from(e, MXS_STEP_CONNECT), -1);
    engine_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_schema),
        cmocka_unit_test(test_transcript_text),
        cmocka_unit_test(test_names_round_trip),
        cmocka_unit_test(test_json_load_round_trip),
        cmocka_unit_test(test_replay_api),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
