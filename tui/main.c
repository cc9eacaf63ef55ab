/*
 * main.c - command line, then the batch front end or the console.
 *
 * The batch front end is small on purpose: the engine runs to the end
 * (engine_run), render.c turns facts into text or JSON, and the exit code
 * names the failing stage.  Everything it prints was escaped by render.c.
 */
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>
#include <readline/readline.h>

#include "console.h"
#include "core.h"
#include "script.h"

#define EXIT_USAGE 1
#define EXIT_LOCAL 2

static void usage(FILE *f)
{
    fputs(
"usage: mxscope [options] [DOMAIN]           the console (ncurses)\n"
"       mxscope --batch [options] DOMAIN      run every step, print a report\n"
"       mxscope --batch --host HOST[:PORT] ...  probe one MX host, no MX lookup\n"
"       mxscope --lab [SCENARIO] | --lab --list  the built-in lab\n"
"\n"
"target:\n"
"  --host HOST[:PORT]        probe this MX host (skip the MX lookup)\n"
"  --connect ADDR[:PORT]     connect to this address (keep HOST for SNI and names)\n"
"  --port N                  port (25; 465 with --tls-on-connect)\n"
"  --tlsa-port N             TLSA at _N._tcp.HOST (default: the port probed)\n"
"  -4, -6                    IPv4 or IPv6 only\n"
"  --mx N, --addr N          which MX (by order) and which of its addresses\n"
"  --all                     with --batch: every MX and every address, side by side\n"
"  --tls-on-connect          implicit TLS (port 465): no STARTTLS\n"
"SMTP and TLS:\n"
"  --ehlo NAME               EHLO name (default: this machine's FQDN)\n"
"  --sni NAME | --no-sni     SNI to send (default: the MX host name)\n"
"  --tls-min V, --tls-max V  1.2 or 1.3\n"
"  --cafile FILE             trust these roots (default: the system bundle)\n"
"  --cert FILE --key FILE    client certificate and key\n"
"  --expect-fingerprint HEX  the SHA-1 (thumbprint) or SHA-256 the server should show\n"
"  --expiry-warn DAYS        warn when the leaf expires within DAYS (30)\n"
"DNS:\n"
"  --resolver ADDR[@PORT]    ask this resolver (default: /etc/resolv.conf)\n"
"  --trust-anchor FILE       DNSSEC trust anchor (default: Debian's root key)\n"
"  --unbound-conf FILE       extra libunbound configuration\n"
"deadlines (seconds, per whole stage):\n"
"  --timeout S               every stage\n"
"  --timeout-STAGE S         one stage: resolve connect banner ehlo starttls\n"
"                            handshake chain ehlo2 quit\n"
"output:\n"
"  --batch                   no console: run every step and print a report\n"
"  --json                    with --batch: print one JSON document (docs/json.md)\n"
"  --stop-after STEP         run no step after STEP\n"
"  --save FILE               save the transcript (text)\n"
"  --save-json FILE          save the session as JSON (loadable with --load)\n"
"  --save-chain FILE         save the server's certificates as PEM\n"
"  --report FILE             save an email-ready problem report\n"
"  --script FILE             run console commands from FILE\n"
"  --load FILE               replay a saved session, JSON or text (read-only)\n"
"  --version, --help\n"
"exit codes: 0 every step passed, 1 usage, 2 local error, 3 cancelled,\n"
"  10 RESOLVE 11 CONNECT 12 BANNER 13 EHLO 14 STARTTLS 15 HANDSHAKE\n"
"  16 CHAIN 17 EHLO2 failed (see mxscope(1)).\n", f);
}

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

enum {
    O_HOST = 256, O_CONNECT, O_PORT, O_MX, O_ADDR, O_TLSONCONNECT, O_EHLO, O_SNI, O_NOSNI,
    O_TLSMIN, O_TLSMAX, O_CAFILE, O_CERT, O_KEY, O_EXPECTFP, O_EXPIRY, O_RESOLVER, O_TA,
    O_UBCONF, O_TIMEOUT, O_BATCH, O_JSON, O_STOPAFTER, O_SAVE, O_SAVEJSON, O_SAVECHAIN,
    O_REPORT, O_SCRIPT, O_LOAD, O_LAB, O_LIST, O_VERSION, O_HELP, O_ALL, O_TLSAPORT,
    O_TIMEOUT_STEP = 400 /* + step index */
};

/* Options that are settings map 1:1 to a name of mxs_setting_names. */
static const struct { int opt; const char *key; } setting_opts[] = {
    { O_HOST, "host" }, { O_CONNECT, "connect" }, { O_PORT, "port" }, { O_MX, "mx" },
    { O_ADDR, "addr" }, { O_EHLO, "ehlo" }, { O_SNI, "sni" }, { O_TLSMIN, "tls-min" },
    { O_TLSMAX, "tls-max" }, { O_CAFILE, "cafile" }, { O_CERT, "cert" }, { O_KEY, "key" },
    { O_EXPECTFP, "expect-fingerprint" }, { O_EXPIRY, "expiry-warn" },
    { O_RESOLVER, "resolver" }, { O_TA, "trust-anchor" }, { O_UBCONF, "unbound-conf" },
    { O_TIMEOUT, "timeout" }, { O_STOPAFTER, "stop-after" }, { O_TLSAPORT, "tlsa-port" },
};

static int write_saves(struct engine *e, const char *save, const char *save_json,
                       const char *save_chain, const char *report)
{
    char err[512];
    int rc = 0;
    struct { const char *path; int (*fn)(const struct engine *, const char *, char *, size_t); const char *what; } s[] = {
        { save, render_save_text, "transcript" }, { save_json, render_save_json, "JSON" },
        { save_chain, render_save_chain, "chain" }, { report, render_save_report, "report" },
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

static int print_buf(struct buf *b)
{
    if (b->failed)
        fputs("mxscope: output cut: too large\n", stderr);
    fputs(buf_str(b), stdout);
    buf_free(b);
    return fflush(stdout) == 0 ? 0 : EXIT_LOCAL;
}

/* --load: a saved session, or a clear error (escaped: it may quote the file). */
static struct engine *load_session(const char *path)
{
    char err[512], shown[600];
    struct engine *e = engine_load(path, err, sizeof err);
    if (!e) {
        mxs_escape_str(err, shown, sizeof shown, 0);
        fprintf(stderr, "mxscope: %s\n", shown);
    }
    return e;
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
    rc = print_buf(&b);
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

int main(int argc, char **argv)
{
    struct mxs_settings set;
    int batch = 0, json = 0, lab = 0, list = 0, port_given = 0, all = 0;
    const char *save = NULL, *save_json = NULL, *save_chain = NULL, *report = NULL;
    const char *script = NULL, *load = NULL;
    char err[512];

    setlocale(LC_ALL, "");
    mxs_settings_init(&set);
    cmd_set_lab_provider(&lab_ops); /* `open lab:NAME`: the lab is ours, not core's */

    static struct option opts[64];
    static const struct option base[] = {
        { "host", required_argument, 0, O_HOST }, { "connect", required_argument, 0, O_CONNECT },
        { "port", required_argument, 0, O_PORT }, { "mx", required_argument, 0, O_MX },
        { "addr", required_argument, 0, O_ADDR }, { "tls-on-connect", no_argument, 0, O_TLSONCONNECT },
        { "ehlo", required_argument, 0, O_EHLO }, { "sni", required_argument, 0, O_SNI },
        { "no-sni", no_argument, 0, O_NOSNI }, { "tls-min", required_argument, 0, O_TLSMIN },
        { "tls-max", required_argument, 0, O_TLSMAX }, { "cafile", required_argument, 0, O_CAFILE },
        { "cert", required_argument, 0, O_CERT }, { "key", required_argument, 0, O_KEY },
        { "expect-fingerprint", required_argument, 0, O_EXPECTFP },
        { "expiry-warn", required_argument, 0, O_EXPIRY }, { "resolver", required_argument, 0, O_RESOLVER },
        { "trust-anchor", required_argument, 0, O_TA }, { "unbound-conf", required_argument, 0, O_UBCONF },
        { "timeout", required_argument, 0, O_TIMEOUT }, { "batch", no_argument, 0, O_BATCH },
        { "json", no_argument, 0, O_JSON }, { "stop-after", required_argument, 0, O_STOPAFTER },
        { "save", required_argument, 0, O_SAVE }, { "save-json", required_argument, 0, O_SAVEJSON },
        { "save-chain", required_argument, 0, O_SAVECHAIN }, { "report", required_argument, 0, O_REPORT },
        { "script", required_argument, 0, O_SCRIPT }, { "load", required_argument, 0, O_LOAD },
        { "lab", no_argument, 0, O_LAB }, { "list", no_argument, 0, O_LIST },
        { "version", no_argument, 0, O_VERSION }, { "help", no_argument, 0, O_HELP },
        { "all", no_argument, 0, O_ALL }, { "tlsa-port", required_argument, 0, O_TLSAPORT },
    };
    static char tnames[MXS_STEP_COUNT][32];
    size_t no = 0;
    for (; no < sizeof base / sizeof base[0]; no++)
        opts[no] = base[no];
    for (int i = 0; i < MXS_STEP_COUNT; i++) {
        snprintf(tnames[i], sizeof tnames[i], "timeout-%s", mxs_step_name(i));
        for (char *p = tnames[i]; *p; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        opts[no++] = (struct option){ tnames[i], required_argument, 0, O_TIMEOUT_STEP + i };
    }
    opts[no] = (struct option){ 0, 0, 0, 0 };

    int c;
    while ((c = getopt_long(argc, argv, "46hV", opts, NULL)) != -1) {
        const char *key = NULL;
        for (size_t i = 0; i < sizeof setting_opts / sizeof setting_opts[0]; i++)
            if (setting_opts[i].opt == c)
                key = setting_opts[i].key;
        if (c >= O_TIMEOUT_STEP && c < O_TIMEOUT_STEP + MXS_STEP_COUNT)
            key = tnames[c - O_TIMEOUT_STEP];
        if (key) {
            if (c == O_PORT)
                port_given = 1;
            if (mxs_settings_set(&set, key, optarg, err, sizeof err) != 0) {
                fprintf(stderr, "mxscope: --%s: %s\n", key, err);
                return EXIT_USAGE;
            }
            if (c == O_HOST && strchr(optarg, ':') && optarg[0] != '[' && !strchr(strchr(optarg, ':') + 1, ':'))
                port_given = 1;
            continue;
        }
        switch (c) {
        case '4': set.family = 4; break;
        case '6': set.family = 6; break;
        case O_TLSONCONNECT: set.tls_on_connect = 1; break;
        case O_NOSNI: set.sni_mode = MXS_SNI_NONE; break;
        case O_BATCH: batch = 1; break;
        case O_JSON: json = 1; break;
        case O_SAVE: save = optarg; break;
        case O_SAVEJSON: save_json = optarg; break;
        case O_SAVECHAIN: save_chain = optarg; break;
        case O_REPORT: report = optarg; break;
        case O_SCRIPT: script = optarg; break;
        case O_LOAD: load = optarg; break;
        case O_LAB: lab = 1; break;
        case O_LIST: list = 1; break;
        case O_ALL: all = 1; break;
        case 'V': case O_VERSION: print_versions(); return 0;
        case 'h': case O_HELP: usage(stdout); return 0;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    /* SMTPS listens on 465; any port the operator gave (--port, HOST:PORT,
     * ADDR:PORT) wins. */
    if (set.tls_on_connect && !port_given && set.port == 25)
        set.port = 465;
    const char *positional = optind < argc ? argv[optind] : NULL;
    if (optind + 1 < argc) {
        fprintf(stderr, "mxscope: one target only (got '%s' too)\n", argv[optind + 1]);
        return EXIT_USAGE;
    }

    if (lab && list) {
        for (const struct lab_scenario *s = lab_scenarios; s->name; s++)
            printf("%-26s %s\n", s->name, s->story);
        return 0;
    }

    struct lab *lb = NULL;
    const char *scenario = NULL;
    if (lab) {
        scenario = positional ? positional : "good";
        if (!lab_find(scenario)) {
            fprintf(stderr, "mxscope: no lab scenario '%s' (mxscope --lab --list)\n", scenario);
            return EXIT_USAGE;
        }
        lb = lab_start(err, sizeof err);
        if (!lb) {
            fprintf(stderr, "mxscope: lab: %s\n", err);
            return EXIT_LOCAL;
        }
        if (lab_apply(lb, scenario, &set, err, sizeof err) != 0) {
            fprintf(stderr, "mxscope: lab: %s\n", err);
            lab_stop(lb);
            return EXIT_LOCAL;
        }
        positional = NULL;
    }
    if (positional && !set.target_is_host) {
        if (mxs_settings_set(&set, "target", positional, err, sizeof err) != 0) {
            fprintf(stderr, "mxscope: %s\n", err);
            return EXIT_USAGE;
        }
    } else if (positional) {
        fprintf(stderr, "mxscope: both --host and a DOMAIN given\n");
        return EXIT_USAGE;
    }

    int rc;
    if (!batch) {
        struct engine *e = NULL;
        if (load) {
            if (!(e = load_session(load))) {
                lab_stop(lb);
                return EXIT_LOCAL;
            }
        } else if (set.target[0]) {
            e = engine_new(&set);
        }
        struct console_opts co = {
            .engine = e, .lab = lb, .lab_scenario = scenario,
            .stop_after_resolve = positional != NULL && !lab, .script = script, .load = load,
        };
        rc = console_run(&co);
        engine_free(co.engine);
        lab_stop(lb);
        return rc;
    }

    if (all) {
        if (load || script || save || save_chain || report || lab) {
            fprintf(stderr, "mxscope: --all goes with --json and --save-json only\n");
            return EXIT_USAGE;
        }
        return run_survey(&set, json, save_json);
    }

    struct engine *e;
    if (load) {
        if (!(e = load_session(load))) {
            lab_stop(lb);
            return EXIT_LOCAL;
        }
    } else {
        if (!set.target[0] && !script) {
            fprintf(stderr, "mxscope: --batch needs a DOMAIN, --host HOST or --lab\n");
            usage(stderr);
            return EXIT_USAGE;
        }
        e = engine_new(&set);
        if (!e) {
            fprintf(stderr, "mxscope: out of memory\n");
            lab_stop(lb);
            return EXIT_LOCAL;
        }
    }
    if (script) {
        rc = script_run_batch(e, script);
    } else {
        engine_run(e);
        struct buf b;
        buf_init(&b, 0);
        if (json) {
            char *s = render_json(e);
            if (!s) {
                fprintf(stderr, "mxscope: JSON: out of memory\n");
                engine_free(e);
                lab_stop(lb);
                return EXIT_LOCAL;
            }
            buf_puts(&b, s);
            buf_puts(&b, "\n");
            free(s);
        } else {
            render_report_text(e, &b);
        }
        rc = print_buf(&b);
        if (rc == 0)
            rc = render_exit_code(e);
    }
    int src = write_saves(e, save, save_json, save_chain, report);
    if (src && !rc)
        rc = src;
    engine_free(e);
    lab_stop(lb);
    return rc;
}
