/*
 * batch.c - `mxscope --batch`: see batch.h.
 *
 * The batch front end is small on purpose: engine_run() does the work; the
 * report, the JSON and the saves come from render.c; --all from survey.c;
 * --script --batch from script.c.
 */
#include <langinfo.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "core.h"
#include "options.h"
#include "script.h"

static int write_saves(struct engine *e, const struct front_opts *o)
{
    char err[512];
    int rc = 0;
    struct { const char *path; int (*fn)(const struct engine *, const char *, char *, size_t); const char *what; } s[] = {
        { o->save, render_save_text, "transcript" }, { o->save_json, render_save_json, "JSON" },
        { o->save_chain, render_save_chain, "chain" }, { o->report, render_save_report, "report" },
    };
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        if (!s[i].path)
            continue;
        if (s[i].fn(e, s[i].path, err, sizeof err) != 0) {
            char shown[600];
            mxs_escape_str(err, shown, sizeof shown, 0);
            fprintf(stderr, "mxscope: %s not saved to %s: %s\n", s[i].what, s[i].path, shown);
            rc = EXIT_LOCAL;
        }
    }
    return rc;
}

int batch_print_buf(struct buf *b)
{
    if (b->failed)
        fputs("mxscope: output cut: too large\n", stderr);
    /* The text is escaped UTF-8; a terminal in another character set shows
     * non-ASCII as <U+XXXX> (core.h, mxs_text_to_ascii). */
    const char *cs = nl_langinfo(CODESET);
    if (isatty(STDOUT_FILENO) && !(cs && !strcmp(cs, "UTF-8"))) {
        size_t n = mxs_text_to_ascii(buf_str(b), b->len, NULL, 0);
        char *t = n < SIZE_MAX ? malloc(n + 1) : NULL;
        if (t) {
            mxs_text_to_ascii(buf_str(b), b->len, t, n + 1);
            fputs(t, stdout);
            free(t);
            buf_free(b);
            return fflush(stdout) == 0 ? 0 : EXIT_LOCAL;
        }
    }
    fputs(buf_str(b), stdout);
    buf_free(b);
    return fflush(stdout) == 0 ? 0 : EXIT_LOCAL;
}

/* --load: a saved session, or a clear error (escaped: it may quote the file). */
struct engine *batch_load(const char *path)
{
    char err[512], shown[600];
    struct engine *e = engine_load(path, err, sizeof err);
    if (!e) {
        mxs_escape_str(err, shown, sizeof shown, 0);
        fprintf(stderr, "mxscope: %s\n", shown);
    }
    return e;
}

/* --diff A B: two saved sessions side by side. */
int batch_diff(const struct front_opts *o)
{
    struct engine *a = batch_load(o->diff), *b = a ? batch_load(o->positional) : NULL;
    if (!a || !b) {
        engine_free(a);
        return EXIT_LOCAL;
    }
    struct buf out;
    buf_init(&out, 0);
    render_diff(a, o->diff, b, o->positional, &out);
    engine_free(a);
    engine_free(b);
    return batch_print_buf(&out);
}

/* --tlsrpt FILE [--recheck]: a sender's TLS-RPT report, and whether its
 * failures still happen. */
int batch_tlsrpt(const struct front_opts *o)
{
    char err[512], shown[600];
    struct mxs_tlsrpt *t = mxs_tlsrpt_load(o->tlsrpt, err, sizeof err);
    if (!t) {
        char path[300];
        mxs_escape_str(o->tlsrpt, path, sizeof path, 0);
        mxs_escape_str(err, shown, sizeof shown, 0);
        fprintf(stderr, "mxscope: --tlsrpt %s: %s\n", path, shown);
        return EXIT_LOCAL;
    }
    if (o->recheck)
        mxs_tlsrpt_recheck(t, &o->set);
    char *out = o->json ? mxs_tlsrpt_json(t) : mxs_tlsrpt_text(t);
    int rc = mxs_tlsrpt_exit_code(t);
    if (!out) {
        fputs("mxscope: out of memory\n", stderr);
        rc = EXIT_LOCAL;
    } else {
        fputs(out, stdout);
        if (o->json)
            fputs("\n", stdout);
        if (fflush(stdout) != 0)
            rc = EXIT_LOCAL;
    }
    free(out);
    mxs_tlsrpt_free(t);
    return rc;
}

/* --all: every MX and every address, concurrently, then compared. */
static int run_survey(const struct mxs_settings *set, int json, const char *save_json)
{
    char err[512];
    struct survey *v = survey_new(set, err, sizeof err);
    if (!v) {
        fprintf(stderr, "mxscope: %s\n", err);
        return EXIT_USAGE;
    }
    survey_run(v);
    int rc = 0;
    char *js = json || save_json ? survey_render_json(v) : NULL;
    if ((json || save_json) && !js) {
        fprintf(stderr, "mxscope: JSON: out of memory\n");
        survey_free(v);
        return EXIT_LOCAL;
    }
    struct buf b;
    buf_init(&b, 0);
    if (json) {
        buf_puts(&b, js);
        buf_puts(&b, "\n");
    } else {
        survey_render_text(v, &b);
    }
    rc = batch_print_buf(&b);
    if (save_json && savefile_write(save_json, js, strlen(js), err, sizeof err) != 0) {
        char shown[600];
        mxs_escape_str(err, shown, sizeof shown, 0);
        fprintf(stderr, "mxscope: JSON not saved to %s: %s\n", save_json, shown);
        rc = EXIT_LOCAL;
    }
    free(js);
    if (!rc)
        rc = survey_exit_code(v);
    survey_free(v);
    return rc;
}

/* The report or the JSON on stdout; the exit code of the failing stage,
 * EXIT_LOCAL when stdout failed, -1 when the JSON did not fit in memory. */
static int print_result(struct engine *e, int json)
{
    struct buf b;
    buf_init(&b, 0);
    if (json) {
        char *s = render_json(e);
        if (!s) {
            fprintf(stderr, "mxscope: JSON: out of memory\n");
            buf_free(&b);
            return -1;
        }
        buf_puts(&b, s);
        buf_puts(&b, "\n");
        free(s);
    } else {
        render_report_text(e, &b);
    }
    int rc = batch_print_buf(&b);
    return rc ? rc : render_exit_code(e);
}

int batch_run(const struct front_opts *o)
{
    if (o->domains)
        return batch_domains(o);
    if (o->all) {
        if (o->load || o->script || o->save || o->save_chain || o->report || o->lab) {
            fprintf(stderr, "mxscope: --all goes with --json and --save-json only\n");
            return EXIT_USAGE;
        }
        return run_survey(&o->set, o->json, o->save_json);
    }
    struct engine *e;
    if (o->load) {
        if (!(e = batch_load(o->load)))
            return EXIT_LOCAL;
    } else {
        if (!o->set.target[0] && !o->script) {
            fprintf(stderr, "mxscope: --batch needs a DOMAIN, --host HOST or --lab\n");
            options_usage(stderr);
            return EXIT_USAGE;
        }
        if (!(e = engine_new(&o->set))) {
            fprintf(stderr, "mxscope: out of memory\n");
            return EXIT_LOCAL;
        }
    }
    int rc;
    if (o->script) {
        rc = script_run_batch(e, o->script);
    } else {
        engine_run(e);
        rc = print_result(e, o->json);
        if (rc < 0) {
            /* JSON out of memory: nothing printed, nothing saved */
            engine_free(e);
            return EXIT_LOCAL;
        }
    }
    int src = write_saves(e, o);
    if (src && !rc)
        rc = src;
    engine_free(e);
    return rc;
}
