/*
 * main.c - parse the command line (options.c), set up the built-in lab
 * when asked, then hand over to the batch front end (batch.c) or the
 * console (console.c).
 */
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <curses.h>
#include <readline/readline.h>

#include "batch.h"
#include "console.h"
#include "core.h"
#include "options.h"

static void print_versions(void)
{
    char mbed[64];
    mxs_library_versions(mbed, sizeof mbed);
    printf("mxscope %s\n", MXS_VERSION);
    printf("  %s\n", mbed);
    printf("  %s\n", curses_version());
    printf("  GNU readline %s\n", rl_library_version ? rl_library_version : "?");
    printf("  libunbound %s\n", mxs_unbound_version());
    printf("  jansson %s\n", mxs_jansson_version());
}

/* What the lab changed that the operator asked for: said once, on stderr
 * in batch, on the status bar in the console. */
static char lab_notice[1200];

/* --lab [SCENARIO]: start the lab and point the settings at it. */
static int start_lab(struct front_opts *o, struct lab **lb)
{
    char err[512], asked[sizeof o->set.cafile];
    snprintf(asked, sizeof asked, "%s", o->set.cafile);
    const char *scenario = o->positional ? o->positional : "good";
    if (!lab_find(scenario)) {
        fprintf(stderr, "mxscope: no lab scenario '%s' (mxscope --lab --list)\n", scenario);
        return EXIT_USAGE;
    }
    if (!(*lb = lab_start(err, sizeof err))) {
        fprintf(stderr, "mxscope: lab: %s\n", err);
        return EXIT_LOCAL;
    }
    if (lab_apply(*lb, scenario, &o->set, err, sizeof err) != 0) {
        fprintf(stderr, "mxscope: lab: %s\n", err);
        lab_stop(*lb);
        *lb = NULL;
        return EXIT_LOCAL;
    }
    if (asked[0] && strcmp(asked, o->set.cafile) != 0) {
        char shown[1100];
        mxs_escape_str(asked, shown, sizeof shown, 0);
        snprintf(lab_notice, sizeof lab_notice,
                 "--cafile %s is not used: the lab trusts its own CA (its certificates come from it)", shown);
        if (o->batch)
            fprintf(stderr, "mxscope: note: %s\n", lab_notice);
    }
    return 0;
}

static int run_console(const struct front_opts *o, struct lab *lb, const char *scenario)
{
    struct engine *e = NULL;
    if (o->load) {
        if (!(e = batch_load(o->load)))
            return EXIT_LOCAL;
    } else if (o->set.target[0]) {
        e = engine_new(&o->set);
    }
    struct console_opts co = {
        .engine = e, .lab = lb, .lab_scenario = scenario,
        .stop_after_resolve = o->positional != NULL && !o->lab, .script = o->script, .load = o->load,
        .notice = lab_notice[0] ? "--cafile not used: the lab's own CA is" : NULL,
        .no_mouse = o->no_mouse, .osc52 = o->osc52,
        .domains = o->batch ? NULL : o->domains, .domains_base = &o->set,
        .domains_tune = o->domains && !o->batch ? &o->domains_tune : NULL,
    };
    int rc = console_run(&co);
    engine_free(co.engine);
    return rc;
}

int main(int argc, char **argv)
{
    static struct front_opts o; /* static: the settings are large */
    struct lab *lb = NULL;
    const char *scenario = NULL;
    char err[512];

    setlocale(LC_ALL, "");
    cmd_set_lab_provider(&lab_ops); /* `open lab:NAME`: the lab is ours, not core's */
    int rc = options_parse(argc, argv, &o);
    if (rc == OPTIONS_VERSION) {
        print_versions();
        return 0;
    }
    if (rc != OPTIONS_RUN)
        return rc;
    if (o.tlsrpt) {
        if (o.positional || o.lab || o.load) {
            fprintf(stderr, "mxscope: --tlsrpt takes no DOMAIN, --lab or --load\n");
            return EXIT_USAGE;
        }
        if (o.recheck && mxs_check_local_files(&o.set, err, sizeof err) != 0) {
            fprintf(stderr, "mxscope: %s\n", err);
            return EXIT_LOCAL;
        }
        return batch_tlsrpt(&o);
    }
    if (o.diff) {
        if (!o.positional || o.lab || o.load) {
            fprintf(stderr, "mxscope: usage: mxscope --diff A B (two saved sessions, JSON or text)\n");
            return EXIT_USAGE;
        }
        return batch_diff(&o);
    }
    if (o.recheck) {
        fprintf(stderr, "mxscope: --recheck goes with --tlsrpt FILE\n");
        return EXIT_USAGE;
    }
    if (!o.domains && (o.parallel || o.per_host || o.domain_timeout || o.save_dir || o.format)) {
        fprintf(stderr, "mxscope: --parallel, --per-host, --domain-timeout, --save-dir and --format go with --domains\n");
        return EXIT_USAGE;
    }
    /* Without --batch a list opens the console's Domains view, tuned as a
     * batch run is (--parallel, --per-host, --domain-timeout); the batch
     * front end's outputs are its own. */
    if (o.domains && !o.batch &&
        (o.save_dir || o.format || o.json || o.lab ||
         o.positional || o.load || o.set.target_is_host || !strcmp(o.domains, "-"))) {
        fprintf(stderr, "mxscope: the console's --domains takes a FILE and no DOMAIN, --host, --load, --lab, "
                        "--json, --save-dir or --format (those go with --batch)\n");
        return EXIT_USAGE;
    }
    if (o.domains && !o.batch && (rc = domains_tuning(&o, &o.domains_tune)) != 0)
        return rc;
    if (o.domains && !o.batch && access(o.domains, R_OK) != 0) { /* before the screen is taken */
        char shown[600];
        mxs_escape_str(o.domains, shown, sizeof shown, 0);
        fprintf(stderr, "mxscope: --domains %s: %s\n", shown, strerror(errno));
        return EXIT_LOCAL;
    }
    if (o.lab && o.list) {
        for (const struct lab_scenario *s = lab_scenarios; s->name; s++)
            printf("%-26s %s\n", s->name, s->story);
        return 0;
    }
    if (o.lab && !o.domains) { /* a list names its scenarios line by line: domains_out.c */
        if ((rc = start_lab(&o, &lb)) != 0)
            return rc;
        scenario = o.positional ? o.positional : "good";
    } else if (o.positional && o.set.target_is_host) {
        fprintf(stderr, "mxscope: both --host and a DOMAIN given\n");
        return EXIT_USAGE;
    } else if (o.positional && mxs_settings_set(&o.set, "target", o.positional, err, sizeof err) != 0) {
        fprintf(stderr, "mxscope: %s\n", err);
        return EXIT_USAGE;
    }
    /* Our own files are checked before any probe: a missing client
     * certificate is our mistake, never the partner's failed handshake. */
    if (!o.load && mxs_check_local_files(&o.set, err, sizeof err) != 0) {
        fprintf(stderr, "mxscope: %s\n", err);
        lab_stop(lb);
        return EXIT_LOCAL;
    }
    rc = o.batch ? batch_run(&o) : run_console(&o, lb, scenario);
    lab_stop(lb);
    return rc;
}
