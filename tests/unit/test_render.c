/*
 * test_render.c - the JSON writer and the text renderings against
 * docs/json.md: every documented key is there with its type, the
 * transcript kinds and directions are right, binary records carry hex.
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
                                        "skipped", "ok" };
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
    assert_int_equal(json_array_size(v), 4);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_schema),
        cmocka_unit_test(test_transcript_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
