/*
 * test_monitor.c - the monitoring renderer (core/session/monitor.c) on
 * documents of real probes: each test runs lab scenarios (good, expired,
 * expiring-soon, wrong-name, no-starttls) in this process, takes their JSON
 * (render_json) and renders it as Nagios and Prometheus output.  Expected
 * values are read from the same documents (days left, failed step, TLS
 * version), never written here.  The test world's documents and
 * `promtool check metrics` are in tests/integration/monitor.sh.
 * Owner: monitoring (issue 13).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <psa/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

static struct lab *g_lab;

enum { D_GOOD, D_EXPIRED, D_EXPIRING, D_WRONGNAME, D_NOSTARTTLS, D_COUNT };
static const char *const scen[D_COUNT] = {"good", "expired", "expiring-soon", "wrong-name",
                                          "no-starttls"};
/* Each scenario's document with target.input renamed to SCENARIO.example:
 * the lab names every host mx.lab.mxscope.test, a list names domains. */
static char *g_doc[D_COUNT];
static json_t *g_json[D_COUNT];

static char *lab_doc(const char *scenario, json_t **parsed)
{
    struct mxs_settings s;
    char err[256];
    mxs_settings_init(&s);
    if (lab_apply(g_lab, scenario, &s, err, sizeof err))
        return NULL;
    for (int i = 0; i < MXS_STEP_COUNT; i++)
        s.timeout_ms[i] = 10000;
    struct engine *e = engine_new(&s);
    if (!e)
        return NULL;
    engine_run(e);
    char *text = render_json(e);
    engine_free(e);
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    if (!j)
        return NULL;
    char name[64];
    snprintf(name, sizeof name, "%s.example", scenario);
    json_object_set_new(json_object_get(j, "target"), "input", json_string(name));
    *parsed = j;
    return json_dumps(j, JSON_COMPACT);
}

static int setup(void **state)
{
    (void)state;
    char err[256] = "psa_crypto_init failed";
    int ok = psa_crypto_init() == PSA_SUCCESS && (g_lab = lab_start(err, sizeof err)) != NULL;
    for (int i = 0; ok && i < D_COUNT; i++) {
        g_doc[i] = lab_doc(scen[i], &g_json[i]);
        if (!g_doc[i]) {
            snprintf(err, sizeof err, "no document for lab %s", scen[i]);
            ok = 0;
        }
    }
    if (!ok)
        printf("# setup: %s\n", err);
    return ok ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < D_COUNT; i++) {
        free(g_doc[i]);
        json_decref(g_json[i]);
    }
    lab_stop(g_lab);
    return 0;
}

static int days_of(int d)
{
    return (int)json_integer_value(
        json_object_get(json_array_get(json_object_get(g_json[d], "chain"), 0), "days_left"));
}

static const char *failed_step(int d)
{
    return json_string_value(
        json_object_get(json_object_get(g_json[d], "result"), "failed_step"));
}

static int render(enum mxs_monitor_format f, const int *which, size_t n,
                  const struct mxs_monitor_opts *o, struct buf *out)
{
    const char *docs[16];
    assert_true(n <= 16);
    for (size_t i = 0; i < n; i++)
        docs[i] = which[i] < 0 ? "{\"not\": \"a session\"}" : g_doc[which[i]];
    buf_init(out, 0);
    return mxs_monitor_render(f, docs, n, o, out);
}

/* The first line (status and perfdata), in a static copy. */
static const char *first_line(const struct buf *b)
{
    static char line[8192];
    const char *s = buf_str(b);
    size_t n = strcspn(s, "\n");
    assert_true(n < sizeof line);
    memcpy(line, s, n);
    line[n] = '\0';
    return line;
}

/* The output starts with (at_start) or contains the formatted text. */
static void __attribute__((format(printf, 3, 4)))
has(const struct buf *b, int at_start, const char *fmt, ...)
{
    char want[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(want, sizeof want, fmt, ap);
    va_end(ap);
    if (at_start ? strncmp(buf_str(b), want, strlen(want)) != 0 : !strstr(buf_str(b), want))
        fail_msg("%s \"%s\" in:\n%s", at_start ? "does not start with" : "no", want, buf_str(b));
}

static void test_scenarios_are_what_they_claim(void **state)
{
    (void)state;
    /* The documents the other tests rely on: if the lab changed, say so
     * here rather than in a confusing render assertion. */
    assert_null(failed_step(D_GOOD));
    assert_null(failed_step(D_EXPIRING));
    assert_non_null(failed_step(D_EXPIRED));
    assert_non_null(failed_step(D_WRONGNAME));
    assert_string_equal(failed_step(D_NOSTARTTLS), "STARTTLS");
    assert_true(days_of(D_GOOD) >= 30);
    assert_true(days_of(D_EXPIRING) >= 7 && days_of(D_EXPIRING) < 30);
}

static void test_nagios_ok(void **state)
{
    (void)state;
    struct buf b;
    int one[1] = {D_GOOD};
    assert_int_equal(render(MXS_MONITOR_NAGIOS, one, 1, NULL, &b), 0);
    has(&b, 1, "MXSCOPE OK - 1 domain pass; first expiry: good.example in %d days | ",
        days_of(D_GOOD));
    has(&b, 0, " 'good.example_days'=%d;30:;7:\n", days_of(D_GOOD));
    /* OK: nothing after the status line. */
    assert_int_equal(strlen(buf_str(&b)), strlen(first_line(&b)) + 1);
    buf_free(&b);
}

static void test_nagios_critical(void **state)
{
    (void)state;
    struct buf b;
    int all[5] = {D_GOOD, D_EXPIRED, D_EXPIRING, D_WRONGNAME, D_NOSTARTTLS};
    assert_int_equal(render(MXS_MONITOR_NAGIOS, all, 5, NULL, &b), 2);
    const char *l = first_line(&b);
    const char *head = "MXSCOPE CRITICAL - 3 of 5 domains fail: ";
    assert_memory_equal(l, head, strlen(head));
    /* Each failing domain with its failed step and the lab's finding id. */
    const int bad[3] = {D_EXPIRED, D_WRONGNAME, D_NOSTARTTLS};
    for (int i = 0; i < 3; i++)
        has(&b, 0, "%s.example (%s %s)", scen[bad[i]], failed_step(bad[i]),
            lab_find(scen[bad[i]])->expect);
    has(&b, 0, "; 1 warn: expiring-soon.example (leaf expires in %d days) | ", days_of(D_EXPIRING));
    has(&b, 0, "domains=5;;;0 critical=3;;;0 warning=1;;;0 unknown=0;;;0");
    has(&b, 0, "'expired.example_days'=%d;30:;7:", days_of(D_EXPIRED));
    /* No certificate: the value is U (unknown), as the guidelines write it. */
    assert_non_null(strstr(l, "'no-starttls.example_days'=U;30:;7:"));
    /* One '|' only: the text before it never holds one. */
    assert_ptr_equal(strchr(l, '|'), strrchr(l, '|'));
    /* Long text: one line per domain that is not OK, worst first. */
    const char *rest = buf_str(&b) + strlen(l) + 1;
    assert_memory_equal(rest, "CRITICAL: ", strlen("CRITICAL: "));
    assert_non_null(strstr(rest, "\nWARNING: expiring-soon.example: leaf expires in"));
    assert_null(strstr(rest, "good.example"));
    buf_free(&b);
}

static void test_nagios_thresholds(void **state)
{
    (void)state;
    struct buf b;
    struct mxs_monitor_opts o;
    int one[1] = {D_GOOD};
    int d = days_of(D_GOOD);
    mxs_monitor_opts_init(&o);
    o.warn_days = d + 1; /* fewer days left than the warning threshold */
    o.crit_days = 1;
    assert_int_equal(render(MXS_MONITOR_NAGIOS, one, 1, &o, &b), 1);
    has(&b, 1, "MXSCOPE WARNING - 1 of 1 domain warn: good.example (leaf expires in %d days)", d);
    has(&b, 0, "'good.example_days'=%d;%d:;1:", d, d + 1);
    buf_free(&b);
    o.warn_days = d; /* exactly d left: not below the threshold */
    assert_int_equal(render(MXS_MONITOR_NAGIOS, one, 1, &o, &b), 0);
    buf_free(&b);
    o.crit_days = d + 1;
    assert_int_equal(render(MXS_MONITOR_NAGIOS, one, 1, &o, &b), 2);
    assert_non_null(strstr(buf_str(&b), "MXSCOPE CRITICAL - 1 of 1 domain fail: good.example (leaf expires in"));
    buf_free(&b);
}

static void test_nagios_unknown(void **state)
{
    (void)state;
    struct buf b;
    assert_int_equal(render(MXS_MONITOR_NAGIOS, NULL, 0, NULL, &b), 3);
    assert_string_equal(first_line(&b), "MXSCOPE UNKNOWN - no domains | domains=0;;;0 "
                                        "critical=0;;;0 warning=0;;;0 unknown=0;;;0");
    buf_free(&b);
    int junk[2] = {-1, D_GOOD};
    assert_int_equal(render(MXS_MONITOR_NAGIOS, junk, 2, NULL, &b), 3);
    assert_non_null(strstr(buf_str(&b), "MXSCOPE UNKNOWN - 1 of 2 domains not evaluated: document 1 (not a session document)"));
    buf_free(&b);
    /* A failure outranks an unknown document. */
    int mix[2] = {-1, D_EXPIRED};
    assert_int_equal(render(MXS_MONITOR_NAGIOS, mix, 2, NULL, &b), 2);
    assert_non_null(strstr(buf_str(&b), "; 1 not evaluated: document 1"));
    buf_free(&b);
    const char *notjson[1] = {"{\"target\": "};
    buf_init(&b, 0);
    assert_int_equal(mxs_monitor_render(MXS_MONITOR_NAGIOS, notjson, 1, NULL, &b), 3);
    assert_non_null(strstr(buf_str(&b), "document 1 (not JSON)"));
    buf_free(&b);
}

static void test_nagios_repeats_and_cap(void **state)
{
    (void)state;
    struct buf b;
    /* The same domain twice is one domain. */
    int twice[3] = {D_EXPIRED, D_EXPIRED, D_GOOD};
    assert_int_equal(render(MXS_MONITOR_NAGIOS, twice, 3, NULL, &b), 2);
    assert_non_null(strstr(buf_str(&b), "1 of 2 domains fail"));
    const char *p = strstr(buf_str(&b), "'expired.example_days'");
    assert_non_null(p);
    assert_null(strstr(p + 1, "'expired.example_days'"));
    buf_free(&b);
    /* More failures than max_listed: the rest counted. */
    struct mxs_monitor_opts o;
    mxs_monitor_opts_init(&o);
    o.max_listed = 1;
    int three[3] = {D_EXPIRED, D_WRONGNAME, D_NOSTARTTLS};
    assert_int_equal(render(MXS_MONITOR_NAGIOS, three, 3, &o, &b), 2);
    assert_non_null(strstr(first_line(&b), ", and 2 more |"));
    buf_free(&b);
}

/* The value of the one sample whose line starts with prefix; fails if none
 * or several. */
static const char *sample(const char *text, const char *prefix)
{
    static char v[64];
    const char *hit = NULL;
    for (const char *l = text; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
        if (!strncmp(l, prefix, strlen(prefix))) {
            assert_null(hit);
            hit = l + strlen(prefix);
        }
    }
    assert_non_null(hit);
    size_t n = strcspn(hit, "\n");
    assert_true(n < sizeof v);
    memcpy(v, hit, n);
    v[n] = '\0';
    return v;
}

/* "METRIC{domain=...,mx=...,address=...EXTRA} " of a lab document. */
static void series(char *out, size_t n, const char *metric, int d, const char *extra)
{
    snprintf(out, n, "%s{domain=\"%s.example\",mx=\"mx.lab.mxscope.test\",address=\"127.0.0.1\"%s} ",
             metric, scen[d], extra);
}

static void test_prometheus(void **state)
{
    (void)state;
    struct buf b;
    struct mxs_monitor_opts o;
    mxs_monitor_opts_init(&o);
    o.now = 1764000000;
    int all[5] = {D_GOOD, D_EXPIRED, D_EXPIRING, D_WRONGNAME, D_NOSTARTTLS};
    assert_int_equal(render(MXS_MONITOR_PROMETHEUS, all, 5, &o, &b), 0);
    const char *t = buf_str(&b);
    char pre[300], extra[160];
    for (int d = 0; d < D_COUNT; d++) {
        series(pre, sizeof pre, "mxscope_probe_success", d, "");
        assert_string_equal(sample(t, pre), failed_step(d) ? "0" : "1");
        const char *ver = json_string_value(json_object_get(json_object_get(g_json[d], "tls"), "version"));
        if (ver) {
            snprintf(extra, sizeof extra, ",version=\"%s\"", ver);
            series(pre, sizeof pre, "mxscope_tls_version_info", d, extra);
            assert_string_equal(sample(t, pre), "1");
        }
        /* Seconds left as the probe judged them: floor(/86400) is days_left. */
        series(pre, sizeof pre, "mxscope_cert_seconds_left", d, "");
        if (d == D_NOSTARTTLS) {
            assert_null(strstr(t, pre));
        } else {
            long long s = atoll(sample(t, pre));
            long long days = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
            assert_int_equal(days, days_of(d));
        }
        /* Every policy of the document, one labelled gauge each. */
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(g_json[d], "verdict"), i, v) {
            const char *out = json_string_value(json_object_get(v, "outcome"));
            snprintf(extra, sizeof extra, ",policy=\"%s\",outcome=\"%s\"",
                     json_string_value(json_object_get(v, "policy")), out);
            series(pre, sizeof pre, "mxscope_verdict", d, extra);
            assert_string_equal(sample(t, pre), !strncmp(out, "delivered-", 10) ? "1" : "0");
        }
    }
    series(pre, sizeof pre, "mxscope_probe_failure_info", D_NOSTARTTLS,
           ",step=\"STARTTLS\",finding=\"starttls-not-offered\"");
    assert_string_equal(sample(t, pre), "1");
    assert_string_equal(sample(t, "mxscope_domain_state{domain=\"expiring-soon.example\"} "), "1");
    assert_string_equal(sample(t, "mxscope_last_run_timestamp_seconds "), "1764000000");
    /* Each family: HELP and TYPE once, before its samples. */
    const char *fam[] = {"mxscope_probe_success", "mxscope_verdict", "mxscope_cert_seconds_left",
                         "mxscope_probe_duration_seconds", "mxscope_probe_timestamp_seconds"};
    for (size_t k = 0; k < sizeof fam / sizeof fam[0]; k++) {
        char h[128];
        snprintf(h, sizeof h, "# TYPE %s gauge\n", fam[k]);
        const char *at = strstr(t, h);
        assert_non_null(at);
        assert_null(strstr(at + 1, h));
        snprintf(h, sizeof h, "\n%s{", fam[k]);
        assert_true(strstr(t, h) > at);
    }
    buf_free(&b);
}

static void test_survey_document(void **state)
{
    (void)state;
    /* --all's shape: the RESOLVE document and one per (MX, address). */
    json_t *sv = json_object();
    json_object_set_new(sv, "survey", json_true());
    json_object_set(sv, "dns", g_json[D_GOOD]);
    json_t *probes = json_array();
    json_array_append_new(probes, json_deep_copy(g_json[D_GOOD]));
    json_t *second = json_deep_copy(g_json[D_EXPIRED]);
    json_object_set_new(json_object_get(second, "connect"), "address", json_string("::1"));
    json_array_append_new(probes, second);
    json_object_set_new(sv, "probes", probes);
    char *plain = json_dumps(sv, JSON_COMPACT);
    /* As --domains writes it: the list's name for the domain wins. */
    json_object_set_new(sv, "domain", json_pack("{s:s, s:i}", "name", "xn--mnchen-3ya.example", "line", 3));
    char *text = json_dumps(sv, JSON_COMPACT);
    json_decref(sv);
    struct buf b;
    buf_init(&b, 0);
    const char *docs[1] = {text};
    assert_int_equal(mxs_monitor_render(MXS_MONITOR_NAGIOS, docs, 1, NULL, &b), 2);
    has(&b, 1, "MXSCOPE CRITICAL - 1 of 1 domain fail: xn--mnchen-3ya.example (%s cert-expired)",
        failed_step(D_EXPIRED));
    /* The domain's days: the fewest of its MX addresses. */
    has(&b, 0, "'xn--mnchen-3ya.example_days'=%d;", days_of(D_EXPIRED));
    buf_free(&b);
    buf_init(&b, 0);
    assert_int_equal(mxs_monitor_render(MXS_MONITOR_PROMETHEUS, docs, 1, NULL, &b), 0);
    assert_string_equal(sample(buf_str(&b), "mxscope_probe_success{domain=\"xn--mnchen-3ya.example\",mx=\"mx.lab.mxscope.test\",address=\"127.0.0.1\"} "), "1");
    assert_string_equal(sample(buf_str(&b), "mxscope_probe_success{domain=\"xn--mnchen-3ya.example\",mx=\"mx.lab.mxscope.test\",address=\"::1\"} "), "0");
    buf_free(&b);
    buf_init(&b, 0);
    docs[0] = plain;
    assert_int_equal(mxs_monitor_render(MXS_MONITOR_NAGIOS, docs, 1, NULL, &b), 2);
    has(&b, 1, "MXSCOPE CRITICAL - 1 of 1 domain fail: good.example (");
    buf_free(&b);
    free(plain);
    free(text);
}

static void test_hostile_strings(void **state)
{
    (void)state;
    /* A forged document: raw control bytes, quotes, backslashes, '|', '='
     * in the domain and the MX name.  Escaped once (mxs_escape), then
     * quoted for each format; text the writer already escaped stays as it
     * is (no doubled backslash). */
    json_t *j = json_deep_copy(g_json[D_EXPIRED]);
    json_object_set_new(json_object_get(j, "target"), "input",
                        json_string("a\"b|c='d\n\x1b[31m"));
    json_t *mx = json_array_get(json_object_get(json_object_get(j, "dns"), "mx"), 0);
    json_object_set_new(mx, "host", json_string("m\\x07x\\y"));
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    const char *docs[1] = {text};
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(mxs_monitor_render(MXS_MONITOR_NAGIOS, docs, 1, NULL, &b), 2);
    const char *l = first_line(&b);
    const char *w = "MXSCOPE CRITICAL - 1 of 1 domain fail: a\"b/c='d\\x0A\\x1B[31m (";
    assert_memory_equal(l, w, strlen(w));
    assert_non_null(strstr(l, " 'a\"b_c_''d\\x0A\\x1B[31m_days'="));
    assert_ptr_equal(strchr(l, '|'), strrchr(l, '|'));
    for (const char *p = buf_str(&b); *p; p++)
        assert_true(*p == '\n' || (unsigned char)*p >= 0x20);
    buf_free(&b);
    buf_init(&b, 0);
    mxs_monitor_render(MXS_MONITOR_PROMETHEUS, docs, 1, NULL, &b);
    assert_non_null(strstr(buf_str(&b),
        "mxscope_probe_success{domain=\"a\\\"b|c='d\\\\x0A\\\\x1B[31m\",mx=\"m\\\\x07x\\\\\\\\y\","));
    for (const char *p = buf_str(&b); *p; p++)
        assert_true(*p == '\n' || (unsigned char)*p >= 0x20);
    buf_free(&b);
    free(text);
}

static void test_accumulator(void **state)
{
    (void)state;
    /* The streaming form the --domains front end uses: add, then write. */
    struct mxs_monitor *m = mxs_monitor_new(NULL);
    assert_non_null(m);
    char err[256];
    for (int d = 0; d < D_COUNT; d++)
        assert_int_equal(mxs_monitor_add(m, g_doc[d], strlen(g_doc[d]), err, sizeof err), 0);
    assert_int_equal(mxs_monitor_add(m, "[]", 2, err, sizeof err), -1);
    assert_non_null(strstr(err, "document 6"));
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(mxs_monitor_write(m, MXS_MONITOR_NAGIOS, &b), 2);
    assert_non_null(strstr(buf_str(&b), "3 of 6 domains fail"));
    buf_free(&b);
    mxs_monitor_free(m);
    assert_int_equal(mxs_monitor_format_from_name("prometheus"), MXS_MONITOR_PROMETHEUS);
    assert_int_equal(mxs_monitor_format_from_name("nagios"), MXS_MONITOR_NAGIOS);
    assert_int_equal(mxs_monitor_format_from_name("zabbix"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenarios_are_what_they_claim),
        cmocka_unit_test(test_nagios_ok),
        cmocka_unit_test(test_nagios_critical),
        cmocka_unit_test(test_nagios_thresholds),
        cmocka_unit_test(test_nagios_unknown),
        cmocka_unit_test(test_nagios_repeats_and_cap),
        cmocka_unit_test(test_prometheus),
        cmocka_unit_test(test_survey_document),
        cmocka_unit_test(test_hostile_strings),
        cmocka_unit_test(test_accumulator),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
