/*
 * test_nolab.c - the client library without the lab.
 *
 * This binary links the client archives (libmxcmd ... libmxbase) and NOT
 * liblab.a, every object of them (the Makefile passes --whole-archive): if
 * any client object still called lab_start(), lab_apply() ... the link
 * would fail.  It includes core.h only, as a front end does.
 *
 * What it checks is the lab interface of cmd.c: `open lab:NAME` and its
 * completion go through the struct mxs_lab_ops registered with
 * cmd_set_lab_provider(), here a fake lab that counts its calls; with no
 * provider, `open lab:NAME` is refused in words and nothing is offered.
 * Owned by the lab module.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core.h"

/* struct lab is opaque to core: any front end's provider may define it. */
struct lab {
    int id;
};

static struct lab fake_lab = {42};
static struct lab caller_lab = {7};
static int n_start, n_stop, n_apply, fail_start;
static const struct lab *stopped;
static char applied[64];

static const struct lab_scenario fake_scenarios[] = {
    {"alpha", "the first fake scenario", ""},
    {"beta", "the second fake scenario", "cert-expired"},
    {NULL, NULL, NULL},
};

static struct lab *fake_start(char *err, size_t errlen)
{
    n_start++;
    if (fail_start) {
        snprintf(err, errlen, "no sockets today");
        return NULL;
    }
    return &fake_lab;
}

static void fake_stop(struct lab *l)
{
    n_stop++;
    stopped = l;
}

static int fake_apply(const struct lab *l, const char *scenario, struct mxs_settings *s,
                      char *err, size_t errlen)
{
    n_apply++;
    snprintf(applied, sizeof applied, "%s", scenario);
    if (!l) {
        snprintf(err, errlen, "not running");
        return -1;
    }
    snprintf(s->target, sizeof s->target, "mx.fake.test");
    s->target_is_host = 1;
    snprintf(s->connect_addr, sizeof s->connect_addr, "127.0.0.1");
    s->port = (uint16_t)(2500 + l->id + (scenario[0] == 'b'));
    return 0;
}

static const struct mxs_lab_ops fake_ops = {
    .scenarios = fake_scenarios,
    .start = fake_start,
    .stop = fake_stop,
    .apply = fake_apply,
};

static int reset(void **state)
{
    (void)state;
    n_start = n_stop = n_apply = fail_start = 0;
    stopped = NULL;
    applied[0] = '\0';
    cmd_set_lab_provider(&fake_ops);
    return 0;
}

/* Run one line; returns the status and copies the message. */
static enum cmd_status run(struct cmd_ctx *c, const char *line, char *msg, size_t msglen)
{
    struct cmd_result r;
    cmd_result_init(&r);
    cmd_exec(c, line, &r);
    snprintf(msg, msglen, "%s", buf_str(&r.msg));
    enum cmd_status st = r.status;
    cmd_result_free(&r);
    return st;
}

/* 1 when completing `line` offers `word`. */
static int offers(const struct cmd_ctx *c, const char *line, const char *word)
{
    char out[64][CMD_CPL_LEN];
    int want_files = 0;
    int n = cmd_complete(c, line, strlen(line), out, 64, &want_files);
    for (int i = 0; i < n; i++)
        if (!strcmp(out[i], word))
            return 1;
    return 0;
}

static void test_no_provider(void **state)
{
    (void)state;
    struct cmd_ctx c;
    char msg[512];
    cmd_set_lab_provider(NULL);
    cmd_ctx_init(&c, NULL, NULL, NULL, 0);
    assert_int_equal(run(&c, "open lab:alpha", msg, sizeof msg), CMD_ERROR);
    assert_non_null(strstr(msg, "no lab"));
    assert_int_equal(run(&c, "open lab", msg, sizeof msg), CMD_ERROR);
    assert_null(c.engine);
    assert_false(offers(&c, "open ", "lab:alpha"));
    assert_true(offers(&c, "open ", "host"));
    cmd_ctx_free(&c);
    assert_int_equal(n_start + n_stop + n_apply, 0);
}

static void test_open_through_provider(void **state)
{
    (void)state;
    struct cmd_ctx c;
    char msg[512];
    cmd_ctx_init(&c, NULL, NULL, NULL, 0);
    assert_true(offers(&c, "open ", "lab:alpha"));
    assert_true(offers(&c, "open ", "lab:beta"));

    assert_int_equal(run(&c, "open lab:beta", msg, sizeof msg), CMD_OK);
    assert_int_equal(n_start, 1);
    assert_int_equal(n_apply, 1);
    assert_string_equal(applied, "beta");
    assert_string_equal(c.lab_scenario, "beta");
    assert_ptr_equal(c.lab, &fake_lab);
    assert_non_null(c.engine);
    const struct mxs_settings *s = engine_settings(c.engine);
    assert_string_equal(s->target, "mx.fake.test");
    assert_int_equal(s->port, 2543);
    assert_string_equal(s->connect_addr, "127.0.0.1");
    assert_non_null(strstr(msg, "lab scenario beta"));

    /* A second scenario reuses the running lab; "lab" alone is the first. */
    assert_int_equal(run(&c, "open lab", msg, sizeof msg), CMD_OK);
    assert_int_equal(n_start, 1);
    assert_string_equal(applied, "alpha");
    assert_int_equal(engine_settings(c.engine)->port, 2542);

    /* Unknown: refused before the provider is asked, with the names. */
    assert_int_equal(run(&c, "open lab:gamma", msg, sizeof msg), CMD_ERROR);
    assert_non_null(strstr(msg, "alpha beta"));
    assert_int_equal(n_apply, 2);

    /* Another target: the lab keeps running until the ctx goes. */
    assert_int_equal(run(&c, "open host 127.0.0.1:25", msg, sizeof msg), CMD_OK);
    assert_string_equal(c.lab_scenario, "");
    assert_int_equal(n_stop, 0);
    cmd_ctx_free(&c);
    assert_int_equal(n_stop, 1);
    assert_ptr_equal(stopped, &fake_lab);
}

static void test_callers_lab_not_stopped(void **state)
{
    (void)state;
    struct cmd_ctx c;
    char msg[512];
    cmd_ctx_init(&c, NULL, &caller_lab, "alpha", 0);
    assert_int_equal(run(&c, "open lab:beta", msg, sizeof msg), CMD_OK);
    assert_int_equal(n_start, 0);        /* the caller's lab is used */
    assert_int_equal(engine_settings(c.engine)->port, 2508);
    cmd_ctx_free(&c);
    assert_int_equal(n_stop, 0);         /* and stays the caller's */
}

static void test_start_fails(void **state)
{
    (void)state;
    struct cmd_ctx c;
    char msg[512];
    fail_start = 1;
    cmd_ctx_init(&c, NULL, NULL, NULL, 0);
    assert_int_equal(run(&c, "open lab:alpha", msg, sizeof msg), CMD_ERROR);
    assert_string_equal(msg, "lab: no sockets today");
    assert_null(c.lab);
    assert_null(c.engine);
    cmd_ctx_free(&c);
    assert_int_equal(n_stop, 0);
    assert_int_equal(n_apply, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_no_provider, reset),
        cmocka_unit_test_setup(test_open_through_provider, reset),
        cmocka_unit_test_setup(test_callers_lab_not_stopped, reset),
        cmocka_unit_test_setup(test_start_fails, reset),
    };
    return cmocka_run_group_tests_name("nolab", tests, NULL, NULL);
}
