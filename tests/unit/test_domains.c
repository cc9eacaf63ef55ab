/*
 * test_domains.c - the partner-list runner (cmd/domains.c) without a test
 * world: what becomes of each line (comments, duplicates, IDN, control
 * bytes, length, settings), line numbers, the total, and a list that
 * arrives through a pipe in pieces.  Names that are probed resolve through
 * a resolver that does not exist (RESOLVE fails at once, no network).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core.h"

#define MAXR 32

static void base_settings(struct mxs_settings *s)
{
    char err[256];
    mxs_settings_init(s);
    /* nothing listens there: RESOLVE fails within a second, offline */
    assert_int_equal(mxs_settings_set(s, "resolver", "127.0.0.1@9", err, sizeof err), 0);
    assert_int_equal(mxs_settings_set(s, "timeout-resolve", "1", err, sizeof err), 0);
}

/* Run the list to the end; results by line (index = line). */
static int run_all(struct mxs_domains *d, struct mxs_domain **by_line, int max)
{
    int n = 0, guard = 0;
    for (;;) {
        int fin = mxs_domains_run(d, 200);
        struct mxs_domain *r;
        while ((r = mxs_domains_next(d))) {
            assert_true(r->line < (unsigned long)max);
            assert_null(by_line[r->line]);
            by_line[r->line] = r;
            n++;
        }
        if (fin)
            break;
        assert_true(++guard < 500); /* 100 s: never hangs */
    }
    return n;
}

static void test_lines(void **st)
{
    (void)st;
    char path[] = "/tmp/mxscope-test-domains.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    char longname[300];
    memset(longname, 'a', 63);
    memset(longname + 64, 'b', 63);
    memset(longname + 128, 'c', 63);
    memset(longname + 192, 'd', 63);
    longname[63] = longname[127] = longname[191] = '.';
    strcpy(longname + 255, ".test"); /* 260 octets */
    FILE *f = fdopen(dup(fd), "w");
    assert_non_null(f);
    fprintf(f, "\xEF\xBB\xBF# partners\n"                 /* 1 a BOM, a comment */
               "   \n"                                    /* 2 */
               "Example.COM.  --port 2525   # note\n"     /* 3 probed */
               "example.com --port 2525\n"                /* 4 duplicate of 3 */
               "example.com\n"                            /* 5 probed: other settings */
               "b\001ad.example\n"                        /* 6 control byte */
               "%s\n"                                     /* 7 over 253 octets */
               "B\xc3\x9c" "cher.example\n"               /* 8 IDN (upper case) */
               "XN--BCHER-KVA.example\n"                  /* 9 its A-label: duplicate of 8 */
               "192.0.2.1\n"                              /* 10 an address */
               "a..b.example\n"                           /* 11 not a host name */
               "x.example --bogus 1\n"                    /* 12 unknown setting */
               "x.example --port\n"                       /* 13 no value */
               "x.example --host y.example\n"             /* 14 not on a line */
               "x.example --port 99999\n"                 /* 15 bad value */
               "  # indented comment\n"                   /* 16 */
               "last.example -4 --tls-on-connect",        /* 17 no newline */
            longname);
    fclose(f);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0); /* the list is read from where fd is */

    struct mxs_settings s;
    base_settings(&s);
    struct mxs_domains_opts o;
    mxs_domains_opts_init(&o);
    assert_int_equal(o.parallel, 16);
    assert_int_equal(o.per_host, 2);
    char err[256];
    struct mxs_domains *d = mxs_domains_new(fd, &s, &o, err, sizeof err);
    assert_non_null(d);
    struct mxs_domains_stats ds;
    mxs_domains_stats(d, &ds);
    assert_int_equal(ds.total, 14); /* names: lines that are not blank or comments */

    struct mxs_domain *r[MAXR] = { 0 };
    assert_int_equal(run_all(d, r, MAXR), 14);

    assert_int_equal(r[3]->kind, MXS_DOMAIN_PROBED);
    assert_string_equal(r[3]->name, "example.com");
    assert_string_equal(r[3]->input, "Example.COM.");
    assert_string_equal(r[3]->options, "--port 2525");
    assert_string_equal(r[3]->uname, "");
    assert_int_equal(r[3]->cls, MXS_DCLASS_FAIL); /* no resolver */
    assert_int_equal(r[3]->failed_step, MXS_STEP_RESOLVE);
    assert_int_equal(r[3]->exit_code, 10);
    assert_int_equal(r[3]->shown, -1);
    assert_int_equal(engine_settings(survey_resolver(r[3]->survey))->port, 2525);
    char *js = mxs_domain_json(r[3]);
    assert_non_null(js);
    assert_null(strchr(js, '\n')); /* one line */
    assert_non_null(strstr(js, "\"domain\":{\"line\":3,\"name\":\"example.com\""));
    free(js);

    assert_int_equal(r[4]->kind, MXS_DOMAIN_DUPLICATE);
    assert_int_equal(r[4]->first_line, 3);
    assert_null(mxs_domain_json(r[4]));
    assert_int_equal(r[5]->kind, MXS_DOMAIN_PROBED);
    assert_int_equal(engine_settings(survey_resolver(r[5]->survey))->port, 25);

    assert_int_equal(r[6]->kind, MXS_DOMAIN_REJECTED);
    assert_string_equal(r[6]->why, "the name has a control byte (0x01) at byte 2");
    assert_int_equal(r[7]->kind, MXS_DOMAIN_REJECTED);
    assert_string_equal(r[7]->why, "the name is 260 octets long: a domain name has at most 253");
    assert_int_equal(r[7]->input_len, 260);

    assert_int_equal(r[8]->kind, MXS_DOMAIN_PROBED);
    assert_string_equal(r[8]->name, "xn--bcher-kva.example");
    assert_string_equal(r[8]->uname, "b\xc3\xbc" "cher.example");
    assert_int_equal(r[9]->kind, MXS_DOMAIN_DUPLICATE);
    assert_int_equal(r[9]->first_line, 8);

    assert_int_equal(r[10]->kind, MXS_DOMAIN_REJECTED);
    assert_string_equal(r[10]->why, "an IP address, not a mail domain");
    assert_int_equal(r[11]->kind, MXS_DOMAIN_REJECTED);
    assert_non_null(strstr(r[11]->why, "not a host name"));
    assert_string_equal(r[12]->why, "--bogus is not an option a list line takes");
    assert_string_equal(r[13]->why, "--port needs a value");
    assert_string_equal(r[14]->why, "--host is not an option a list line takes");
    assert_int_equal(r[15]->kind, MXS_DOMAIN_REJECTED);
    assert_non_null(strstr(r[15]->why, "--port: "));

    assert_int_equal(r[17]->kind, MXS_DOMAIN_PROBED);
    const struct mxs_settings *ls = engine_settings(survey_resolver(r[17]->survey));
    assert_int_equal(ls->family, 4);
    assert_int_equal(ls->tls_on_connect, 1);
    assert_int_equal(ls->port, 465); /* as on the command line */

    mxs_domains_stats(d, &ds);
    assert_int_equal(ds.done, 14);
    assert_int_equal(ds.rejected, 8);
    assert_int_equal(ds.duplicates, 2);
    assert_int_equal(ds.failing, 4);
    assert_int_equal(ds.lines, 17);
    assert_int_equal(ds.running, 0);
    for (int i = 0; i < MAXR; i++)
        mxs_domain_free(r[i]);
    mxs_domains_free(d);
    close(fd);
    unlink(path);
}

/* A runner reading the pipe p (p[1]: the caller writes the list). */
static struct mxs_domains *pipe_runner(int p[2])
{
    assert_int_equal(pipe(p), 0);
    struct mxs_settings s;
    base_settings(&s);
    struct mxs_domains_opts o;
    mxs_domains_opts_init(&o);
    char err[256];
    struct mxs_domains *d = mxs_domains_new(p[0], &s, &o, err, sizeof err);
    assert_non_null(d);
    return d;
}

/* A pipe: lines arrive in pieces, the loop never waits on them. */
static void test_pipe(void **st)
{
    (void)st;
    int p[2];
    struct mxs_domains *d = pipe_runner(p);
    struct mxs_domains_stats ds;
    mxs_domains_stats(d, &ds);
    assert_int_equal(ds.total, (unsigned long)-1); /* not known before its end */
    assert_int_equal(write(p[1], "bad\033na", 6), 6);
    assert_int_equal(mxs_domains_run(d, 0), 0); /* half a line: nothing yet, no wait */
    assert_null(mxs_domains_next(d));
    assert_int_equal(write(p[1], "me.example\n# x\n", 15), 15);
    struct mxs_domain *r = NULL;
    for (int i = 0; i < 50 && !r; i++) {
        mxs_domains_run(d, 10);
        r = mxs_domains_next(d);
    }
    assert_non_null(r);
    assert_int_equal(r->kind, MXS_DOMAIN_REJECTED);
    assert_int_equal(r->line, 1);
    assert_string_equal(r->input, "bad\033name.example");
    assert_string_equal(r->why, "the name has a control byte (0x1B) at byte 4");
    mxs_domain_free(r);
    close(p[1]);
    int fin = 0;
    for (int i = 0; i < 50 && !fin; i++) {
        fin = mxs_domains_run(d, 10);
        assert_null(mxs_domains_next(d)); /* "# x" is a comment, the end no line */
    }
    mxs_domains_stats(d, &ds);
    assert_true(fin);
    assert_int_equal(ds.total, 1);
    assert_int_equal(ds.lines, 2);
    mxs_domains_free(d);
    close(p[0]);
}

/* Ctrl-C: what runs is dropped, nothing more is read. */
static void test_cancel(void **st)
{
    (void)st;
    int p[2];
    struct mxs_domains *d = pipe_runner(p);
    assert_int_equal(write(p[1], "a.example\nb.example\n", 20), 20);
    mxs_domains_run(d, 0);
    struct mxs_domains_stats ds;
    mxs_domains_stats(d, &ds);
    assert_int_equal(ds.running, 2);
    mxs_domains_cancel(d);
    assert_int_equal(mxs_domains_run(d, 0), 1);
    assert_null(mxs_domains_next(d));
    mxs_domains_stats(d, &ds);
    assert_int_equal(ds.dropped, 2);
    assert_int_equal(ds.running, 0);
    mxs_domains_free(d);
    close(p[1]);
    close(p[0]);
}

static void test_bad_opts(void **st)
{
    (void)st;
    struct mxs_settings s;
    mxs_settings_init(&s);
    struct mxs_domains_opts o;
    mxs_domains_opts_init(&o);
    o.per_host = 0;
    char err[256];
    assert_null(mxs_domains_new(0, &s, &o, err, sizeof err));
    assert_non_null(strstr(err, "at least 1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_pipe),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_bad_opts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
