/*
 * options.h - the command line: every option, its parsing and --help.
 *
 * Two tables drive it: core's setting table (mxs_setting_table: --NAME
 * VALUE for every setting without MXS_SETF_NOCLI) and options.c's small
 * front-end table (--batch, --json, --save ..., and the aliases -4, -6,
 * --no-sni).  getopt's long-option table and the --help text are built
 * from both, so an option cannot exist without its help line, and
 * tests/integration/options.sh checks that docs/mxscope.1 documents every
 * option --help shows and names no other.
 * Ownership: the strings in struct front_opts point into argv.
 */
#ifndef MXS_OPTIONS_H
#define MXS_OPTIONS_H
#include <stdio.h>
#include "core.h"

#define EXIT_USAGE 1 /* a wrong option or value   */
#define EXIT_LOCAL 2 /* a local error (file, memory, lab) */

struct front_opts {
    struct mxs_settings set;     /* every setting, defaults + options       */
    int batch, json, all, lab, list, recheck, no_mouse, osc52;
    const char *save, *save_json, *save_chain, *report, *script, *load, *tlsrpt, *diff;
    const char *domains, *parallel, *per_host, *domain_timeout, *save_dir, *format; /* --domains */
    struct mxs_domains_opts domains_tune; /* the console's list: domains_tuning() */
    const char *positional;      /* DOMAIN, or the lab's SCENARIO           */
};

#define OPTIONS_RUN (-1)     /* go on: probe, the console or the lab     */
#define OPTIONS_VERSION (-2) /* --version: the caller prints the versions */

/* Parse argv into o.  Returns OPTIONS_RUN, OPTIONS_VERSION, or the exit
 * code when there is nothing more to do (0 after --help, EXIT_USAGE after
 * an error, already reported on stderr). */
int options_parse(int argc, char **argv, struct front_opts *o);
void options_usage(FILE *f);

#endif
