/*
 * test_settings.c - the setting table (core/base/settings.c), cmocka.
 *
 * The table drives the command line, --help, the console's set/show/
 * completion and the transcript's "set" notes, so a bad row breaks all of
 * them at once: every row is checked for its text, its field, its words,
 * and against an example written here (a row without an example fails).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>
#include <jansson.h>

#include "core.h"
#include "session/render.h"

/* One value each setting must accept, how it is shown then, and one it
 * must refuse (NULL: every text is a value, e.g. a file name). */
static const struct example {
    const char *name, *value, *shown, *bad;
} examples[] = {
    { "target", "example.test", "example.test", NULL },
    { "host", "mx.example.test:2525", "mx.example.test (host)", "mx:99999" },
    { "connect", "[::1]:2526", "::1", "[::1" },
    { "port", "587", "587", "0" },
    { "tlsa-port", "auto", "auto (25)", "65536" },
    { "policy-port", "8443", "8443", "0" },
    { "family", "ipv6", "6", "5" },
    { "mx", "3", "3", "16" },
    { "addr", "any", "any", "-2" },
    { "tls-on-connect", "yes", "on", "maybe" },
    { "ehlo", "probe.example.net", "probe.example.net", "two words" },
    { "sni", "mx.example.net", "mx.example.net", NULL },
    { "tls-min", "TLSv1.3", "1.3", "1.1" },
    { "tls-max", "1.2", "1.2", "1.0" },
    { "cafile", "/etc/roots.pem", "/etc/roots.pem", NULL },
    { "cert", "/c.pem", "/c.pem", NULL },
    { "key", "/k.pem", "/k.pem", NULL },
    { "expect-fingerprint", "ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01",
      "ABCDEF0123456789ABCDEF0123456789ABCDEF01", "abc" },
    { "expiry-warn", "14", "14", "3651" },
    { "days", "45", "45", "3651" },
    { "dual-cert", "off", "off", "maybe" },
    { "warn-ok", "on", "on", "sometimes" },
    { "resolver", "127.0.0.1@5353", "127.0.0.1@5353", NULL },
    { "trust-anchor", "/ta.key", "/ta.key", NULL },
    { "unbound-conf", "/u.conf", "/u.conf", NULL },
    { "stop-after", "handshake", "HANDSHAKE", "LUNCH" },
    { "timeout", "2.5", "2.5", "0" },
    { "timeout-resolve", "1", "1.0", "-1" },
    { "timeout-connect", "2", "2.0", "x" },
    { "timeout-banner", "3", "3.0", "" },
    { "timeout-ehlo", "4", "4.0", "1e9" },
    { "timeout-starttls", "5", "5.0", "nan" },
    { "timeout-handshake", "6", "6.0", "0" },
    { "timeout-chain", "7", "7.0", "0" },
    { "timeout-ehlo2", "8", "8.0", "0" },
    { "timeout-quit", "9", "9.0", "0" },
    { "timeout-policy", "4", "4.0", "0" },
};
#define N_EXAMPLES (sizeof examples / sizeof examples[0])

static const struct example *example_of(const char *name)
{
    for (size_t i = 0; i < N_EXAMPLES; i++)
        if (!strcmp(examples[i].name, name))
            return &examples[i];
    return NULL;
}

static void test_rows_well_formed(void **state)
{
    (void)state;
    int n = 0;
    for (const struct mxs_setting_def *d = mxs_setting_table; d->name; d++, n++) {
        assert_non_null(d->arg);
        assert_non_null(d->range);
        assert_non_null(d->help);
        assert_non_null(d->set);
        assert_non_null(d->get);
        for (const char *p = d->name; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
                fail_msg("setting '%s': a name is lower-case letters, digits and '-'", d->name);
        assert_ptr_equal(mxs_setting_find(d->name), d); /* unique, found */
        if (d->off || d->size)
            assert_true(d->off + d->size <= sizeof(struct mxs_settings));
        if (d->flags & MXS_SETF_SWITCH)
            assert_non_null(d->cli_value);
        /* A folded row is shown by the line above it: that line must say so
         * with a synopsis covering both (--timeout-STAGE). */
        if (d->flags & MXS_SETF_FOLDED) {
            const struct mxs_setting_def *up = d - 1;
            while (up > mxs_setting_table && (up->flags & MXS_SETF_FOLDED))
                up--;
            assert_non_null(up->synopsis);
            assert_false(up->flags & MXS_SETF_FOLDED);
        }
        if (!example_of(d->name))
            fail_msg("setting '%s' has no example in test_settings.c", d->name);
    }
    assert_int_equal(n, (int)N_EXAMPLES);
    assert_null(mxs_setting_find("nonsense"));
    assert_null(mxs_setting_find("timeout-"));
}

/* Every example: accepted and shown as written above; the bad value is
 * refused with the setting's name and leaves the value as it was. */
static void test_examples(void **state)
{
    (void)state;
    char err[256], v[1100], before[1100];
    for (size_t i = 0; i < N_EXAMPLES; i++) {
        const struct example *x = &examples[i];
        struct mxs_settings s;
        mxs_settings_init(&s);
        err[0] = 0;
        if (mxs_settings_set(&s, x->name, x->value, err, sizeof err) != 0)
            fail_msg("set %s %s: %s", x->name, x->value, err);
        assert_int_equal(mxs_settings_get(&s, x->name, v, sizeof v), 0);
        if (strcmp(v, x->shown))
            fail_msg("set %s %s: shown '%s', want '%s'", x->name, x->value, v, x->shown);
        if (!x->bad)
            continue;
        struct mxs_settings keep = s;
        assert_int_equal(mxs_settings_set(&s, x->name, x->bad, err, sizeof err), -1);
        if (!strstr(err, x->name))
            fail_msg("set %s %s: the error does not name the setting: %s", x->name, x->bad, err);
        assert_int_equal(mxs_settings_get(&keep, x->name, before, sizeof before), 0);
        assert_int_equal(mxs_settings_get(&s, x->name, v, sizeof v), 0);
        assert_string_equal(v, before);
    }
}

/* Each setting writes its own field only: tls-min never moves tls-max (they
 * were once told apart by characters of the key), a per-stage deadline
 * moves its stage only, and so on for every row. */
static void test_one_field_each(void **state)
{
    (void)state;
    char v[1100], w[1100];
    for (const struct mxs_setting_def *d = mxs_setting_table; d->name; d++) {
        struct mxs_settings a, b;
        mxs_settings_init(&a);
        b = a;
        assert_int_equal(mxs_settings_set(&b, d->name, example_of(d->name)->value, NULL, 0), 0);
        for (const struct mxs_setting_def *o = mxs_setting_table; o->name; o++) {
            if (o == d)
                continue;
            mxs_settings_get(&a, o->name, v, sizeof v);
            mxs_settings_get(&b, o->name, w, sizeof w);
            /* Allowed companions: host sets the target and the port;
             * connect the port; the port shows in tlsa-port's "auto (N)";
             * "timeout" shows the banner's; a stage's deadline moves
             * "timeout" when it is the banner's. */
            int related = (!strcmp(d->name, "host") && (!strcmp(o->name, "target") || !strcmp(o->name, "port"))) ||
                          (!strcmp(d->name, "target") && !strcmp(o->name, "host")) ||
                          ((!strcmp(d->name, "port") || !strcmp(d->name, "host") || !strcmp(d->name, "connect")) &&
                           (!strcmp(o->name, "tlsa-port") || !strcmp(o->name, "port"))) ||
                          (!strcmp(d->name, "timeout") && !strncmp(o->name, "timeout-", 8)) ||
                          (!strcmp(d->name, "timeout-banner") && !strcmp(o->name, "timeout"));
            if (!related && strcmp(v, w))
                fail_msg("set %s changed %s too ('%s' -> '%s')", d->name, o->name, v, w);
        }
    }
    struct mxs_settings s;
    mxs_settings_init(&s);
    assert_int_equal(mxs_settings_set(&s, "tls-max", "1.2", NULL, 0), 0);
    assert_int_equal(s.tls_max, 12);
    assert_int_equal(s.tls_min, MXS_TLS_ANY);
    assert_int_equal(mxs_settings_set(&s, "timeout-ehlo2", "0.5", NULL, 0), 0);
    assert_int_equal(s.timeout_ms[MXS_STEP_EHLO2], 500);
    assert_int_equal(s.timeout_ms[MXS_STEP_EHLO], 30000);
    assert_int_equal(mxs_settings_set(&s, "TIMEOUT-EHLO", "0.25", NULL, 0), 0); /* as steps are shown */
    assert_int_equal(s.timeout_ms[MXS_STEP_EHLO], 250);
}

/* What completion offers and what a command-line switch sets are values
 * the setting takes. */
static void test_words_accepted(void **state)
{
    (void)state;
    char err[256];
    for (const struct mxs_setting_def *d = mxs_setting_table; d->name; d++) {
        struct mxs_settings s;
        mxs_settings_init(&s);
        if (d->flags & MXS_SETF_SWITCH)
            assert_int_equal(mxs_settings_set(&s, d->name, d->cli_value, err, sizeof err), 0);
        for (const char *w = d->words; w && *w;) {
            char word[64];
            size_t n = strcspn(w, " ");
            assert_true(n > 0 && n < sizeof word);
            memcpy(word, w, n);
            word[n] = 0;
            if (mxs_settings_set(&s, d->name, word, err, sizeof err) != 0)
                fail_msg("%s offers '%s' but refuses it: %s", d->name, word, err);
            w += n;
            while (*w == ' ')
                w++;
        }
        for (const struct mxs_setting_choice *c = d->choices; c && c->word; c++) {
            char v[64];
            assert_int_equal(mxs_settings_set(&s, d->name, c->word, err, sizeof err), 0);
            /* shown as a word that means the same */
            mxs_settings_get(&s, d->name, v, sizeof v);
            struct mxs_settings t = s;
            assert_int_equal(mxs_settings_set(&t, d->name, v, err, sizeof err), 0);
            assert_memory_equal(&t, &s, sizeof s);
        }
    }
}

/* --tls-on-connect moves the default port to 465 unless a port was given:
 * port_given says so for --port, HOST:PORT and ADDR:PORT. */
static void test_port_given(void **state)
{
    (void)state;
    static const struct { const char *key, *value; int given; } cases[] = {
        { "port", "25", 1 }, { "host", "mx.example.test", 0 }, { "host", "mx.example.test:25", 1 },
        { "host", "[2001:db8::1]:25", 1 }, { "host", "2001:db8::1", 0 }, { "connect", "192.0.2.1:25", 1 },
        { "connect", "192.0.2.1", 0 }, { "tlsa-port", "25", 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct mxs_settings s;
        mxs_settings_init(&s);
        assert_int_equal(mxs_settings_set(&s, cases[i].key, cases[i].value, NULL, 0), 0);
        if (s.port_given != cases[i].given)
            fail_msg("%s %s: port_given %d", cases[i].key, cases[i].value, s.port_given);
    }
}

/* A row's JSON place ("target.port") is where --json writes that setting:
 * the key is there, and its value moves when the setting does. */
static json_t *json_place(json_t *root, const char *place)
{
    char obj[64];
    const char *dot = strchr(place, '.');
    assert_non_null(dot);
    assert_true((size_t)(dot - place) < sizeof obj);
    memcpy(obj, place, (size_t)(dot - place));
    obj[dot - place] = 0;
    json_t *o = json_object_get(root, obj);
    if (!json_is_object(o) || !json_object_get(o, dot + 1))
        fail_msg("JSON has no %s", place);
    return json_object_get(o, dot + 1);
}

/* And "settings" holds every setting as `show settings` shows it. */
static void test_json_places(void **state)
{
    (void)state;
    int places = 0;
    struct mxs_settings s0;
    mxs_settings_init(&s0);
    struct engine *e0 = engine_new(&s0);
    json_t *j0 = render_json_tree(e0);
    json_t *all = json_object_get(j0, "settings");
    size_t rows = 0;
    for (const struct mxs_setting_def *d = mxs_setting_table; d->name; d++, rows++) {
        char v[1100];
        assert_int_equal(mxs_settings_get(&s0, d->name, v, sizeof v), 0);
        if (!json_is_string(json_object_get(all, d->name)))
            fail_msg("JSON settings has no %s", d->name);
        assert_string_equal(json_string_value(json_object_get(all, d->name)), v);
    }
    assert_int_equal(json_object_size(all), rows);
    json_decref(j0);
    engine_free(e0);
    for (const struct mxs_setting_def *d = mxs_setting_table; d->name; d++) {
        if (!d->json)
            continue;
        places++;
        struct mxs_settings a, b;
        mxs_settings_init(&a);
        b = a;
        assert_int_equal(mxs_settings_set(&b, d->name, example_of(d->name)->value, NULL, 0), 0);
        struct engine *ea = engine_new(&a), *eb = engine_new(&b);
        assert_non_null(ea);
        assert_non_null(eb);
        json_t *ja = render_json_tree(ea), *jb = render_json_tree(eb);
        assert_non_null(ja);
        assert_non_null(jb);
        char v[1100];
        json_t *sb = json_object_get(jb, "settings");
        assert_int_equal(mxs_settings_get(&b, d->name, v, sizeof v), 0);
        assert_string_equal(json_string_value(json_object_get(sb, d->name)), v);
        if (json_equal(json_place(ja, d->json), json_place(jb, d->json)))
            fail_msg("set %s %s: JSON %s did not change", d->name, example_of(d->name)->value, d->json);
        json_decref(ja);
        json_decref(jb);
        engine_free(ea);
        engine_free(eb);
    }
    assert_true(places >= 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_well_formed),
        cmocka_unit_test(test_examples),
        cmocka_unit_test(test_one_field_each),
        cmocka_unit_test(test_words_accepted),
        cmocka_unit_test(test_port_given),
        cmocka_unit_test(test_json_places),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
