/*
 * options.c - the command line from two tables (see options.h): getopt's
 * long options and --help are generated, never written by hand.
 */
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "options.h"

/* Options that are not settings: what to do, where to write.  An alias
 * (kind FO_ALIAS) is a spelling of one setting's value (-4 = family 4). */
enum fo_kind { FO_FLAG, FO_FILE, FO_ALIAS, FO_HELP, FO_VERSION };

struct front_opt {
    const char *name;     /* --NAME, or NULL for a short option only       */
    char short_opt;       /* -C, or 0                                      */
    const char *arg;      /* the value in help (FO_FILE), else NULL        */
    const char *group;    /* --help section that starts here, or NULL     */
    const char *help;
    enum fo_kind kind;
    size_t off;           /* FO_FLAG: an int, FO_FILE: a const char *      */
    const char *setting, *value; /* FO_ALIAS: --help lists it after that setting */
};

#define FLAG(f) .kind = FO_FLAG, .off = offsetof(struct front_opts, f)
#define FILEOPT(f) .arg = "FILE", .kind = FO_FILE, .off = offsetof(struct front_opts, f)
/* A value kept as text for its user to parse (--parallel N). */
#define VALOPT(f, a) .arg = a, .kind = FO_FILE, .off = offsetof(struct front_opts, f)

static const struct front_opt front_table[] = {
    { .short_opt = '4', .help = "IPv4 only", .kind = FO_ALIAS, .setting = "family", .value = "4" },
    { .short_opt = '6', .help = "IPv6 only", .kind = FO_ALIAS, .setting = "family", .value = "6" },
    { .name = "no-sni", .help = "send no SNI", .kind = FO_ALIAS, .setting = "sni", .value = "none" },
    { .name = "batch", .group = "output", .help = "no console: run every step and print a report",
      FLAG(batch) },
    { .name = "json", .help = "with --batch: print one JSON document (docs/json.md)", FLAG(json) },
    { .name = "all", .help = "with --batch: every MX and every address, side by side", FLAG(all) },
    { .name = "save", .help = "save the transcript (text)", FILEOPT(save) },
    { .name = "save-json", .help = "save the session as JSON (loadable with --load)",
      FILEOPT(save_json) },
    { .name = "save-chain", .help = "save the server's certificates as PEM", FILEOPT(save_chain) },
    { .name = "report", .help = "save an email-ready problem report", FILEOPT(report) },
    { .name = "script", .help = "run console commands from FILE", FILEOPT(script) },
    { .name = "load", .help = "replay a saved session, JSON or text (read-only)", FILEOPT(load) },
    { .name = "diff", .help = "compare two saved sessions: --diff A B (before and after a renewal)",
      FILEOPT(diff) },
    { .name = "domains", .group = "partner lists (--batch --domains FILE)",
      .help = "probe every domain of FILE ('-': stdin), every MX of each; one name a line, "
              "# comments, per-line settings after the name (--port 465); a summary by urgency",
      FILEOPT(domains) },
    { .name = "parallel", .help = "with --domains: connections and lookups at once (default 16)",
      VALOPT(parallel, "N") },
    { .name = "per-host", .help = "with --domains: probes at once against one MX host or address (default 2)",
      VALOPT(per_host, "N") },
    { .name = "domain-timeout", .help = "with --domains: seconds for all the probes of one domain (default 180)",
      VALOPT(domain_timeout, "S") },
    { .name = "save-dir", .help = "with --domains: each domain's transcript as DIR/DOMAIN.txt",
      VALOPT(save_dir, "DIR") },
    { .name = "format", .help = "with --domains: the whole list for monitoring, in place of the summary: "
      "nagios (a plugin's status line, perfdata, exit 0-3) or prometheus (textfile collector)",
      VALOPT(format, "nagios|prometheus") },
    { .name = "no-mouse", .group = "the console",
      .help = "no clicks or wheel (the terminal selects text as usual; also MXS_NO_MOUSE=1)", FLAG(no_mouse) },
    { .name = "osc52", .help = "`yank` also copies to the terminal's clipboard (OSC 52; also MXS_OSC52=1)",
      FLAG(osc52) },
    { .name = "tlsrpt", .group = "TLS-RPT reports",
      .help = "read a sender's TLS-RPT report (RFC 8460 JSON, .gz as mailed): policies, failures", FILEOPT(tlsrpt) },
    { .name = "recheck", .help = "with --tlsrpt: probe each failing MX now; exit 5 if a failure still happens",
      FLAG(recheck) },
    { .name = "lab", .group = "the built-in lab",
      .help = "probe the built-in lab (SCENARIO as the target; default: good)", FLAG(lab) },
    { .name = "list", .help = "with --lab: the scenarios, one story each", FLAG(list) },
    { .name = "version", .short_opt = 'V', .group = "about", .help = "versions of mxscope and its libraries",
      .kind = FO_VERSION },
    { .name = "help", .short_opt = 'h', .help = "this text", .kind = FO_HELP },
};
#define N_FRONT (sizeof front_table / sizeof front_table[0])

/* getopt codes: settings and front-end rows by index, above any char. */
#define OPT_SETTING 1000
#define OPT_FRONT 2000

static const char usage_head[] =
"usage: mxscope [options] [DOMAIN]           the console (ncurses)\n"
"       mxscope --batch [options] DOMAIN      run every step, print a report\n"
"       mxscope --batch --host HOST[:PORT] ...  probe one MX host, no MX lookup\n"
"       mxscope --lab [SCENARIO] | --lab --list  the built-in lab\n"
"       mxscope --tlsrpt REPORT.json[.gz] [--recheck] [--json]  a sender's TLS-RPT report\n"
"       mxscope --diff A B                    what changed between two saved sessions\n"
"       mxscope --batch --domains LIST [--json]  every domain of a list, by urgency\n"
"\n";

static const char usage_tail[] =
"exit codes: 0 every step passed, 1 usage, 2 local error, 3 cancelled,\n"
"  4 warnings, 5 (--tlsrpt --recheck) a reported failure still happens,\n"
"  6 (--domains) a domain failed (3: interrupted, what finished is written),\n"
"  10 RESOLVE 11 CONNECT 12 BANNER 13 EHLO 14 STARTTLS 15 HANDSHAKE\n"
"  16 CHAIN 17 EHLO2 failed (see mxscope(1)).\n";

/* "  LEFT  help", the help wrapped at 79 columns under its own column. */
static void usage_line(FILE *f, const char *left, const char *help)
{
    enum { COL = 28, WIDTH = 79 };
    if (strlen(left) <= COL - 3)
        fprintf(f, "  %-*s ", COL - 3, left);
    else
        fprintf(f, "  %s\n%*s", left, COL, "");
    int at = COL;
    while (*help) {
        size_t w = strcspn(help, " ");
        if (at > COL && at + 1 + (int)w > WIDTH) {
            fprintf(f, "\n%*s", COL, "");
            at = COL;
        } else if (at > COL) {
            fputc(' ', f);
            at++;
        }
        fprintf(f, "%.*s", (int)w, help);
        at += (int)w;
        help += w;
        while (*help == ' ')
            help++;
    }
    fputc('\n', f);
}

static void usage_front(FILE *f, const struct front_opt *o)
{
    char left[80];
    if (o->short_opt && o->name)
        snprintf(left, sizeof left, "-%c, --%s", o->short_opt, o->name);
    else if (o->short_opt)
        snprintf(left, sizeof left, "-%c", o->short_opt);
    else
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
    usage_line(f, left, o->help);
}

void options_usage(FILE *f)
{
    char left[80];
    fputs(usage_head, f);
    for (const struct mxs_setting_def *d = mxs_setting_table; d->name; d++) {
        if (d->group)
            fprintf(f, "%s:\n", d->group);
        if (!(d->flags & (MXS_SETF_NOCLI | MXS_SETF_FOLDED))) {
            if (d->synopsis)
                snprintf(left, sizeof left, "%s", d->synopsis);
            else if (d->flags & MXS_SETF_SWITCH)
                snprintf(left, sizeof left, "--%s", d->name);
            else
                snprintf(left, sizeof left, "--%s %s", d->name, d->arg);
            usage_line(f, left, d->help);
        }
        for (size_t i = 0; i < N_FRONT; i++)
            if (front_table[i].kind == FO_ALIAS && !strcmp(front_table[i].setting, d->name))
                usage_front(f, &front_table[i]);
    }
    for (size_t i = 0; i < N_FRONT; i++) {
        if (front_table[i].kind == FO_ALIAS)
            continue;
        if (front_table[i].group)
            fprintf(f, "%s:\n", front_table[i].group);
        usage_front(f, &front_table[i]);
    }
    fputs(usage_tail, f);
}

/* "--NAME: reason" for a setting that refused its value. */
static int set_or_fail(struct front_opts *o, const char *opt, const char *key, const char *v)
{
    char err[512];
    if (mxs_settings_set(&o->set, key, v, err, sizeof err) == 0)
        return 0;
    fprintf(stderr, "mxscope: %s: %s\n", opt, err);
    return EXIT_USAGE;
}

static int front_apply(struct front_opts *o, const struct front_opt *f, const char *arg)
{
    char opt[40];
    switch (f->kind) {
    case FO_FLAG:
        *(int *)(void *)((char *)o + f->off) = 1;
        return 0;
    case FO_FILE:
        *(const char **)(void *)((char *)o + f->off) = arg;
        return 0;
    case FO_ALIAS:
        if (f->name)
            snprintf(opt, sizeof opt, "--%s", f->name);
        else
            snprintf(opt, sizeof opt, "-%c", f->short_opt);
        return set_or_fail(o, opt, f->setting, f->value);
    case FO_HELP:
    case FO_VERSION:
        break; /* options_parse stops at these */
    }
    return 0;
}

int options_parse(int argc, char **argv, struct front_opts *o)
{
    static struct option longopts[128];
    char shortopts[32];
    size_t n = 0, ns = 0;

    memset(o, 0, sizeof *o);
    mxs_settings_init(&o->set);
    for (size_t i = 0; mxs_setting_table[i].name; i++) {
        const struct mxs_setting_def *d = &mxs_setting_table[i];
        if (d->flags & MXS_SETF_NOCLI || n + 1 >= sizeof longopts / sizeof longopts[0])
            continue;
        longopts[n++] = (struct option){ d->name, d->flags & MXS_SETF_SWITCH ? no_argument : required_argument,
                                         NULL, OPT_SETTING + (int)i };
    }
    for (size_t i = 0; i < N_FRONT; i++) {
        const struct front_opt *f = &front_table[i];
        if (f->name && n + 1 < sizeof longopts / sizeof longopts[0])
            longopts[n++] = (struct option){ f->name, f->arg ? required_argument : no_argument, NULL,
                                             OPT_FRONT + (int)i };
        if (f->short_opt && ns + 2 < sizeof shortopts) {
            shortopts[ns++] = f->short_opt;
            if (f->arg)
                shortopts[ns++] = ':';
        }
    }
    longopts[n] = (struct option){ 0, 0, 0, 0 };
    shortopts[ns] = 0;

    int c;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        const struct front_opt *f = NULL;
        if (c >= OPT_SETTING && c < OPT_FRONT) {
            const struct mxs_setting_def *d = &mxs_setting_table[c - OPT_SETTING];
            char opt[64];
            snprintf(opt, sizeof opt, "--%s", d->name);
            if (set_or_fail(o, opt, d->name, d->flags & MXS_SETF_SWITCH ? d->cli_value : optarg))
                return EXIT_USAGE;
            continue;
        }
        if (c >= OPT_FRONT && c < OPT_FRONT + (int)N_FRONT)
            f = &front_table[c - OPT_FRONT];
        for (size_t i = 0; !f && c > 0 && c < 128 && i < N_FRONT; i++)
            if (front_table[i].short_opt == c)
                f = &front_table[i];
        if (!f) {
            options_usage(stderr);
            return EXIT_USAGE;
        }
        if (f->kind == FO_HELP || f->kind == FO_VERSION) {
            /* At once, as always: `mxscope --help --port x` shows the help. */
            if (f->kind == FO_VERSION)
                return OPTIONS_VERSION;
            options_usage(stdout);
            return 0;
        }
        if (front_apply(o, f, optarg))
            return EXIT_USAGE;
    }
    /* SMTPS listens on 465; any port the operator gave (--port, HOST:PORT,
     * ADDR:PORT) wins. */
    if (o->set.tls_on_connect && !o->set.port_given && o->set.port == 25)
        o->set.port = 465;
    if (optind + 1 < argc) {
        fprintf(stderr, "mxscope: one target only (got '%s' too)\n", argv[optind + 1]);
        return EXIT_USAGE;
    }
    o->positional = optind < argc ? argv[optind] : NULL;
    return OPTIONS_RUN;
}
