/*
 * cmd.c - the command table shared by the console and the batch front end.
 * See cmd.h.  Nothing here prints: results go into struct cmd_result.
 * Owner: the console engineer (h6).
 */
#include "cmd/cmd.h"
#include "cmd/cmd_int.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/esc.h"
#include "probe/x509view.h"
#include "session/render.h"

/* Messages are bounded: a command's output never grows without limit. */
#define CMD_MSG_MAX (1u << 20)

/* The raw text after the command word (send keeps the operator's spacing
 * and quoting exactly: an SMTP command is not shell words). */
static const char *cmd_rest;

/* The lab `open lab:NAME` uses.  The client library never calls the lab
 * (liblab.a: threads, sockets, an mbedTLS server); a front end that links it
 * registers its operations here.  NULL: this build offers no lab. */
static const struct mxs_lab_ops *cmd_lab;

void cmd_set_lab_provider(const struct mxs_lab_ops *ops)
{
    cmd_lab = ops;
}

const struct mxs_lab_ops *cmd_lab_provider(void)
{
    return cmd_lab;
}

static const struct lab_scenario *cmd_lab_find(const char *name)
{
    if (!cmd_lab || !cmd_lab->scenarios)
        return NULL;
    for (const struct lab_scenario *s = cmd_lab->scenarios; s->name; s++)
        if (!strcmp(s->name, name))
            return s;
    return NULL;
}

void cmd_result_init(struct cmd_result *r)
{
    memset(r, 0, sizeof *r);
    buf_init(&r->msg, CMD_MSG_MAX);
    buf_init(&r->data, CMD_MSG_MAX);
}

void cmd_result_free(struct cmd_result *r)
{
    buf_free(&r->msg);
    buf_free(&r->data);
}

__attribute__((format(printf, 2, 3)))
void cmd_fail(struct cmd_result *r, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    r->status = CMD_ERROR;
    /* Error texts may quote operator input or engine words: escape them. */
    buf_puts_escaped(&r->msg, tmp);
}

void cmd_ctx_init(struct cmd_ctx *c, struct engine *e, struct lab *lab,
                  const char *lab_scenario, int blocking)
{
    memset(c, 0, sizeof *c);
    c->engine = e;
    c->caller_engine = e;
    c->lab = lab;
    c->blocking = blocking;
    /* The console keeps the session open after a run, for `send`; batch
     * output stays that of a whole run. */
    c->keep_open = !blocking;
    if (lab_scenario)
        snprintf(c->lab_scenario, sizeof c->lab_scenario, "%s", lab_scenario);
}

static void cmd_replace_engine(struct cmd_ctx *c, struct engine *e)
{
    if (c->engine && c->engine != c->caller_engine)
        engine_free(c->engine);
    c->engine = e;
    c->engine_gen++;
}

void cmd_ctx_adopt(struct cmd_ctx *c, struct engine *e)
{
    cmd_replace_engine(c, e);
    c->saved_engine_gen = c->engine_gen;
    c->saved_records = e ? engine_record_count(e) : 0;
}

void cmd_ctx_free(struct cmd_ctx *c)
{
    cmd_replace_engine(c, NULL);
    if (c->own_lab && c->lab && c->lab_ops)
        c->lab_ops->stop(c->lab);
    c->lab = NULL;
    c->own_lab = 0;
    c->lab_ops = NULL;
}

int cmd_unsaved(const struct cmd_ctx *c)
{
    if (!c->engine || engine_is_replay(c->engine))
        return 0;
    size_t n = engine_record_count(c->engine);
    if (n == 0)
        return 0;
    return c->saved_engine_gen != c->engine_gen || n > c->saved_records;
}

void cmd_mark_saved(struct cmd_ctx *c)
{
    c->saved_engine_gen = c->engine_gen;
    c->saved_records = engine_record_count(c->engine);
}

/* ---- tokenizer ---------------------------------------------------------- */

int cmd_tokenize(const char *line, char *store, size_t storelen, char **argv,
                 int maxargs, char *err, size_t errlen)
{
    size_t o = 0;
    int argc = 0;
    const char *p = line;
    if (err && errlen)
        err[0] = 0;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        if (!*p || *p == '#')
            break;
        if (argc >= maxargs) {
            snprintf(err, errlen, "too many words (at most %d)", maxargs);
            return -1;
        }
        argv[argc++] = store + o;
        for (;;) {
            char ch = *p;
            if (!ch || ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
                break;
            if (ch == '\'') {
                const char *q = strchr(p + 1, '\'');
                if (!q) {
                    snprintf(err, errlen, "unterminated ' quote");
                    return -1;
                }
                size_t n = (size_t)(q - p - 1);
                if (o + n + 1 >= storelen)
                    goto toolong;
                memcpy(store + o, p + 1, n);
                o += n;
                p = q + 1;
                continue;
            }
            if (ch == '"') {
                p++;
                while (*p && *p != '"') {
                    if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
                        p++;
                    if (o + 2 >= storelen)
                        goto toolong;
                    store[o++] = *p++;
                }
                if (*p != '"') {
                    snprintf(err, errlen, "unterminated \" quote");
                    return -1;
                }
                p++;
                continue;
            }
            if (ch == '\\' && p[1])
                p++;
            if (o + 2 >= storelen)
                goto toolong;
            store[o++] = *p++;
        }
        store[o++] = 0;
    }
    return argc;
toolong:
    snprintf(err, errlen, "line too long");
    return -1;
}

/* ---- helpers ------------------------------------------------------------ */

int cmd_need_engine(struct cmd_ctx *c, struct cmd_result *r)
{
    if (!c->engine) {
        cmd_fail(r, "nothing is open: `open DOMAIN`, `open host NAME[:PORT]` or `open lab:SCENARIO`");
        return -1;
    }
    return 0;
}

static int cmd_need_live(struct cmd_ctx *c, struct cmd_result *r)
{
    if (cmd_need_engine(c, r))
        return -1;
    if (engine_is_replay(c->engine)) {
        cmd_fail(r, "this is a loaded session (read-only): `open` a target to probe again");
        return -1;
    }
    return 0;
}

int cmd_engine_busy(const struct engine *e)
{
    if (!e)
        return 0;
    if (engine_timeout_ms(e) >= 0)
        return 1;
    enum mxs_step s = engine_current_step(e);
    return s >= 0 && s < MXS_STEP_COUNT && engine_step_state(e, s) == MXS_ST_RUNNING;
}

void cmd_drive(struct engine *e)
{
    /* Each stage has a deadline, so this ends; the counter is a last guard
     * against an engine that reports "busy" without anything to wait for. */
    for (long guard = 0; cmd_engine_busy(e) && guard < 10000000; guard++) {
        struct pollfd fds[16];
        int n = engine_pollfds(e, fds, 16);
        int t = engine_timeout_ms(e);
        if (n < 0)
            n = 0;
        if (t < 0 || t > 1000)
            t = n > 0 ? 1000 : 50;
        if (poll(fds, (nfds_t)n, t) < 0 && errno != EINTR)
            break;
        engine_step(e);
    }
}

static void cmd_step_summary(const struct engine *e, enum mxs_step s, struct buf *out)
{
    if (s < 0 || s >= MXS_STEP_COUNT)
        return;
    buf_printf(out, "%s %s %lld ms", mxs_step_name(s),
               mxs_step_state_name(engine_step_state(e, s)),
               (long long)engine_step_elapsed_ms(e, s));
}

/* ---- handlers ------------------------------------------------------------ */

static int cmd_is_ip_literal(const char *s)
{
    if (s[0] == '[' || strchr(s, ':'))
        return 1; /* IPv6 literal or HOST:PORT */
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p) && *p != '.')
            return 0;
    return *s != 0;
}

static void cmd_open(struct cmd_ctx *c, int argc, char **argv, struct cmd_result *r)
{
    struct mxs_settings s;
    char err[256] = "";
    char scenario[64] = "";
    const char *what = argv[1];

    if (!strncmp(what, "lab:", 4) || !strcmp(what, "lab")) {
        if (!cmd_lab || !cmd_lab->scenarios || !cmd_lab->scenarios[0].name) {
            cmd_fail(r, "open: this build has no lab (the front end registered none)");
            return;
        }
        const char *name = what[3] == ':' ? what + 4 : cmd_lab->scenarios[0].name;
        if (!cmd_lab_find(name)) {
            struct buf names;
            buf_init(&names, 4096);
            for (int i = 0; cmd_lab->scenarios[i].name; i++)
                buf_printf(&names, "%s%s", i ? " " : "", cmd_lab->scenarios[i].name);
            cmd_fail(r, "no lab scenario '%s'; there are: %s", name,
                     names.data ? names.data : "");
            buf_free(&names);
            return;
        }
        if (!c->lab) {
            c->lab = cmd_lab->start(err, sizeof err);
            if (!c->lab) {
                cmd_fail(r, "lab: %s", err);
                return;
            }
            c->own_lab = 1;
            c->lab_ops = cmd_lab;
        }
        mxs_settings_init(&s);
        if (cmd_lab->apply(c->lab, name, &s, err, sizeof err)) {
            cmd_fail(r, "lab: %s", err);
            return;
        }
        snprintf(scenario, sizeof scenario, "%s", name);
    } else {
        /* Keep what the operator set (EHLO name, CA file ...) unless the
         * old target was the lab, whose settings point at lab files. */
        if (c->engine && !c->lab_scenario[0] && !engine_is_replay(c->engine))
            s = *engine_settings(c->engine);
        else
            mxs_settings_init(&s);
        mxs_settings_set(&s, "connect", "none", NULL, 0);
        mxs_settings_set(&s, "mx", "any", NULL, 0);
        mxs_settings_set(&s, "addr", "any", NULL, 0);
        s.stop_after = -1;
        int host = 0;
        if (!strcmp(what, "host")) {
            if (argc < 3) {
                cmd_fail(r, "usage: open host NAME[:PORT]");
                return;
            }
            what = argv[2];
            host = 1;
        } else if (argc > 2) {
            cmd_fail(r, "usage: open DOMAIN | open host NAME[:PORT] | open lab:SCENARIO");
            return;
        } else if (cmd_is_ip_literal(what)) {
            host = 1; /* a port or an address names one server, not a domain */
        }
        if (mxs_settings_set(&s, host ? "host" : "target", what, err, sizeof err)) {
            cmd_fail(r, "open: %s", err);
            return;
        }
    }
    struct engine *e = engine_new(&s);
    if (!e) {
        cmd_fail(r, "open: cannot create the engine (out of memory?)");
        return;
    }
    cmd_replace_engine(c, e);
    c->saved_records = 0;
    snprintf(c->lab_scenario, sizeof c->lab_scenario, "%s", scenario);
    r->engine_changed = 1;
    buf_puts(&r->msg, "opened ");
    if (scenario[0])
        buf_printf(&r->msg, "lab scenario %s: ", scenario);
    buf_puts_escaped(&r->msg, s.target);
    if (s.target_is_host)
        buf_printf(&r->msg, " port %u", s.port);
    /* `open` resolves straight away, like `mxscope DOMAIN`: the operator
     * sees the MX list before choosing what to probe. */
    enum mxs_progress p = engine_step(e);
    if (c->blocking) {
        if (p == MXS_PROG_WAITING)
            cmd_drive(e);
        buf_puts(&r->msg, "; ");
        cmd_step_summary(e, MXS_STEP_RESOLVE, &r->msg);
    } else {
        r->action = CMD_ACT_STEP;
    }
}

/* QUIT inside DATA would be a line of the message: the message ends first. */
static int cmd_in_data(struct cmd_ctx *c, struct cmd_result *r)
{
    int in = engine_raw_mode(c->engine) == ENGINE_RAW_DATA;
    if (in)
        cmd_fail(r, "in DATA: `send .` ends the message first");
    return in;
}

static void cmd_step(struct cmd_ctx *c, int argc, char **argv, struct cmd_result *r)
{
    (void)argc; (void)argv;
    if (cmd_need_live(c, r))
        return;
    if (cmd_engine_busy(c->engine)) {
        cmd_fail(r, "%s is still running (Esc cancels it)", mxs_step_name(engine_current_step(c->engine)));
        return;
    }
    if (engine_finished(c->engine)) {
        cmd_fail(r, "nothing left to run: `restart` (R) starts again");
        return;
    }
    if (cmd_in_data(c, r))
        return;
    enum mxs_step s = engine_current_step(c->engine);
    engine_hold_quit(c->engine, 0); /* n runs QUIT too, kept open or not */
    enum mxs_progress p = engine_step(c->engine);
    if (p == MXS_PROG_FINISHED) {
        buf_puts(&r->msg, "nothing left to run");
        return;
    }
    if (c->blocking) {
        cmd_drive(c->engine);
        cmd_step_summary(c->engine, s, &r->msg);
    } else {
        r->action = CMD_ACT_STEP; /* the Steps pane shows it running */
        (void)s;
    }
}

static void cmd_run(struct cmd_ctx *c, int argc, char **argv, struct cmd_result *r)
{
    (void)argc; (void)argv;
    if (cmd_need_live(c, r))
        return;
    if (engine_finished(c->engine)) {
        cmd_fail(r, "nothing left to run: `restart` (R) starts again");
        return;
    }
    if (cmd_in_data(c, r))
        return;
    /* Kept open before QUIT: `r` again runs QUIT; else the run stops
     * there again when keep-open is on. */
    engine_hold_quit(c->engine, c->keep_open && !c->blocking && !engine_held_open(c->engine));
    if (c->blocking) {
        cmd_drive(c->engine);
        engine_run(c->engine);
        enum mxs_step f = engine_failed_step(c->engine);
        if (f == MXS_STEP_NONE)
            buf_puts(&r->msg, "finished: every step passed");
        else
            buf_printf(&r->msg, "finished: %s failed", mxs_step_name(f));
        return;
    }
    r->action = CMD_ACT_RUN;
    if (!cmd_engine_busy(c->engine))
        engine_step(c->engine);
    /* No message: the Steps pane shows the progress. */
}

static void cmd_restart(struct cmd_ctx *c, int argc, char **argv, struct cmd_result *r)
{
    if (cmd_need_live(c, r))
        return;
    if (argc > 1) {
        int s = mxs_step_from_name(argv[1]);
        if (s < 0) {
            cmd_fail(r, "restart: no step '%s'", argv[1]);
            return;
        }
        if (cmd_engine_busy(c->engine)) {
            engine_cancel(c->engine);
            r->cancelled = 1;
        }
        if (engine_rerun_from(c->engine, (enum mxs_step)s)) {
            cmd_fail(r, "restart: cannot re-run from %s", mxs_step_name((enum mxs_step)s));
            return;
        }
        buf_printf(&r->msg, "next step: %s", mxs_step_name(engine_current_step(c->engine)));
        return;
    }
    if (cmd_engine_busy(c->engine)) {
        engine_cancel(c->engine);
        r->cancelled = 1;
    }
    engine_restart(c->engine, 1);
    buf_puts(&r->msg, "restarted: next step RESOLVE");
}

static void cmd_cancel(struct cmd_ctx *c, int argc, char **argv, struct cmd_result *r)
{
    (void)argc; (void)argv;
    if (cmd_need_engine(c, r))
        return;
    if (!cmd_engine_busy(c->engine)) {
        buf_puts(&r->msg, "nothing is running");
        return;
    }
    enum mxs_step s = engine_current_step(c->engine);
    engine_cancel(c->engine);
    r->cancelled = 1;
    buf_printf(&r->msg, "%s cancelled", mxs_step_name(s));
}

static void cmd_use(struct cmd_ctx *c, int argc, char **argv, struct cmd_result *r)
{
    char err[256];
    (void)argc;
    if (cmd_need_live(c, r))
        return;
    const char *key = argv[1];
    if (strcmp(key, "mx") && strcmp(key, "addr")) {
        cmd_fail(r, "usage: use mx N | use addr N");
        return;
    }
    const struct mxs_dns_facts *d = engine_dns(c->engine);
    if (d && d->done && strcmp(argv[2], "any")) {
        long n = strtol(argv[2], NULL, 10);
        int limit = d->n_mx;
        if (key[0] == 'a') {
            const struct engine *e = c->engine;
            int mi = engine_settings(e)->mx_index;
            const struct mxs_connect_facts *cf = engine_connection(e);
            if (mi < 0 && cf && cf->done)
                mi = cf->mx_index;
            if (mi < 0)
                mi = 0;
            limit = mi < d->n_mx ? d->mx[mi].n_addr : 0;
        }
        if (n < 0 || n >= limit) {
            cmd_fail(r, "use %s: index %s is out of range (0-%d)", key, argv[2], limit - 1);
            return;
        }
    }
    if (cmd_engine_busy(c->engine)) {
        engine_cancel(c->engine);
        r->cancelled = 1;
    }
    if (engine_set(c->engine, key, argv[2], err, sizeof err)) {
        cmd_fail(r, "use: %s", err);
        return;
    }
    /* The choice matters from CONNECT on: keep RESOLVE, redo the rest. */
    if (engine_step_state(c->engine, MXS_STEP_RESOLVE) != MXS_ST_PENDING)
        engine_rerun_from(c->engine, MXS_STEP_CONNECT);
    buf_printf(&r->msg, "using %s %s; next step: %s", key, argv[2],
               mxs_step_name(engine_current_step(c->engine)));
}

/* A setting's value, escaped, with its words when it is jargon ("mx"). */
static void cmd_put_value(struct buf *out, const char *name, const char *val)
{
    const char *w = mxs_setting_value_words(name, val);
    buf_puts_escaped(out, val);
    if (w)
        buf_printf(out, " (%s)", w);
}

static void cmd_set(struct cmd_ctx *c, int argc, char **argv, struct cmd_result *r)
{
    char err[256], val[1100];
    if (!strcmp(argv[1], "keep-open")) {
        /* The console's, not the probe's: nothing of it is saved. */
        if (argc > 2 && strcmp(argv[2], "on") && strcmp(argv[2], "off")) {
            cmd_fail(r, "set: keep-open is on or off");
            return;
        }
        if (argc > 2)
            c->keep_open = !strcmp(argv[2], "on");
        buf_printf(&r->msg, "keep-open = %s (%s)", c->keep_open ? "on" : "off", c->keep_open
                   ? "r stops before QUIT with the session open" : "r runs QUIT too");
        return;
    }
    if (cmd_need_engine(c, r))
        return;
    if (argc == 2) {
        if (mxs_settings_get(engine_settings(c->engine), argv[1], val, sizeof val)) {
            cmd_fail(r, "set: no setting '%s' (`show settings` lists them)", argv[1]);
            return;
        }
        buf_printf(&r->msg, "%s = ", argv[1]);
        cmd_put_value(&r->msg, argv[1], val);
        return;
    }
    if (engine_is_replay(c->engine)) {
        cmd_fail(r, "this is a loaded session (read-only)");
        return;
    }
    if (engine_set(c->engine, argv[1], argv[2], err, sizeof err)) {
        cmd_fail(r, "set: %s", err);
        return;
    }
    mxs_settings_get(engine_settings(c->engine), argv[1], val, sizeof val);
    buf_printf(&r->msg, "%s = ", argv[1]);
    cmd_put_value(&r->msg, argv[1], val);
}

/* Every setting, from the setting table: `show settings` (NAME VALUE) and
 * `help set` (NAME = VALUE (ACCEPTS), without an engine NAME (ACCEPTS)). */
static void cmd_list_settings(const struct cmd_ctx *c, int accepts, struct buf *out)
{
    const struct engine *e = c->engine;
    char val[1100];
    if (accepts)
        buf_puts(out, e ? "\nsettings: NAME = VALUE NOW (ACCEPTS)\n" : "\nsettings: NAME (ACCEPTS)\n");
    for (const struct mxs_setting_def *d = mxs_setting_table; d->name; d++) {
        buf_printf(out, accepts ? "  %s" : "%-20s ", d->name);
        if (e && mxs_settings_get(engine_settings(e), d->name, val, sizeof val) == 0) {
            buf_puts(out, accepts ? " = " : "");
            cmd_put_value(out, d->name, val);
        }
        buf_printf(out, accepts ? "  (%s)\n" : "\n", d->range);
    }
    /* The console's own, after the probe's (cmd_set handles it). */
    const char *ko = c->keep_open ? "on" : "off";
    if (!c->blocking && accepts)
        buf_printf(out, "  keep-open = %s  (on or off: r stops before QUIT, the session open)\n", ko);
    else if (!c->blocking)
        buf_printf(out, "%-20s %s\n", "keep-open", ko);
}

static void cmd_show(struct cmd_ctx *c, int argc, char **argv, struct cmd_result *r)
{
    if (cmd_need_engine(c, r))
        return;
    if (!strcmp(argv[1], "settings")) {
        cmd_list_settings(c, 0, &r->msg);
        r->action = CMD_ACT_OUTPUT;
        return;
    }
    if (!strcmp(argv[1], "cert")) {
        const struct mxs_chain_facts *ch = engine_chain(c->engine);
        long n = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
        if (!ch || ch->n == 0) {
            cmd_fail(r, "show cert: no certificates yet (the CHAIN step decodes them)");
            return;
        }
        if (n < 0 || n >= ch->n) {
            cmd_fail(r, "show cert: depth 0-%d", ch->n - 1);
            return;
        }
        render_cert_detail(&ch->cert[n], &r->msg);
        r->action = CMD_ACT_SHOW_CERT;
        r->arg = (int)n;
        return;
    }
    if (!strcmp(argv[1], "findings") || !strcmp(argv[1], "report")) {
        render_report_text(c->engine, &r->msg);
        r->action = CMD_ACT_OUTPUT;
        return;
    }
    cmd_fail(r, "usage: show cert N | show settings | show findings");
}

static void cmd_send(struct cmd_ctx *c, int argc, char **argv, struct cmd_result *r)
{
    char err[256] = "";
    const char *line = cmd_rest ? cmd_rest : "";
    int yes = 0;
    (void)argc; (void)argv;
    if (cmd_need_live(c, r))
        return;
    /* Inside DATA every line is the message's, as typed: no --yes, no
     * trimming, an empty line is a line (RFC 5322 header/body break). */
    int body = engine_raw_mode(c->engine) == ENGINE_RAW_DATA;
    if (body && *line == ' ')
        line++; /* the one space after the word `send` */
    while (!body && (*line == ' ' || *line == '\t'))
        line++;
    if (!body && !strncmp(line, "--yes", 5) && (line[5] == ' ' || line[5] == '\t' || !line[5])) {
        yes = 1;
        line += 5;
        while (*line == ' ' || *line == '\t')
            line++;
    }
    size_t len = strlen(line);
    while (len && (line[len - 1] == '\r' || line[len - 1] == '\n' ||
                   (!body && (line[len - 1] == ' ' || line[len - 1] == '\t'))))
        len--;
    if (!len && !body) {
        cmd_fail(r, "usage: send SMTP-COMMAND");
        return;
    }
    char cmdline[1024];
    if (len > (body ? 998u : sizeof cmdline - 1)) {
        cmd_fail(r, body ? "send: body line too long (SMTP allows 998 bytes)"
                         : "send: command too long (SMTP allows 512 bytes)");
        return;
    }
    memcpy(cmdline, line, len);
    cmdline[len] = 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)cmdline[i] < 0x20 || cmdline[i] == 0x7f) {
            cmd_fail(r, "send: control characters are not sent");
            return;
        }
    /* DATA (and BDAT) start a real message: ask before doing that. */
    size_t vlen = strcspn(cmdline, " ");
    if (!yes && !body && ((vlen == 4 && !strncasecmp(cmdline, "DATA", 4)) ||
                          (vlen == 4 && !strncasecmp(cmdline, "BDAT", 4)))) {
        r->status = CMD_NEEDS_CONFIRM;
        r->action = CMD_ACT_CONFIRM;
        snprintf(r->confirm, sizeof r->confirm, "send --yes %s", cmdline);
        buf_puts(&r->msg, "Send DATA (starts a real message)? (y/N)");
        return;
    }
    if (cmd_engine_busy(c->engine)) {
        cmd_fail(r, "send: wait for %s to finish (or Esc)", mxs_step_name(engine_current_step(c->engine)));
        return;
    }
    size_t before = engine_record_count(c->engine);
    if (engine_send(c->engine, cmdline, err, sizeof err)) {
        cmd_fail(r, "send: %s", err);
        return;
    }
    if (!c->blocking) {
        r->action = CMD_ACT_WAIT;
        buf_puts(&r->msg, !body ? "sent: " : !strcmp(cmdline, ".") ? "sent: . (the end: waiting for the final reply)"
                 : cmdline[0] == '.' ? "body line sent dot-stuffed (RFC 5321 4.5.2)"
                                     : "body line sent; `send .` ends the message");
        if (!body)
            buf_puts_escaped(&r->msg, cmdline);
        return;
    }
    cmd_drive(c->engine);
    size_t after = engine_record_count(c->engine);
    for (size_t i = before; i < after; i++) {
        const struct mxs_record *rec = engine_record(c->engine, i);
        if (rec && rec->kind == MXS_REC_SMTP_IN) {
            render_record_line(rec, &r->msg);
            buf_puts(&r->msg, "\n");
        }
    }
    if (!r->msg.len)
        buf_puts(&r->msg, body ? "body line sent (no reply awaited)" : "sent; no reply");
}

static void cmd_help(struct cmd_ctx *c, int argc, char **argv, struct cmd_result *r)
{
    if (argc > 1 && !cmd_find(argv[1])) {
        cmd_fail(r, "help: no command '%s'", argv[1]);
        return;
    }
    cmd_help_text(argc > 1 ? argv[1] : NULL, &r->msg);
    if (argc > 1 && cmd_find(argv[1])->fn == cmd_set)
        cmd_list_settings(c, 1, &r->msg);
    r->action = CMD_ACT_HELP;
}

static void cmd_quit(struct cmd_ctx *c, int argc, char **argv, struct cmd_result *r)
{
    (void)c; (void)argc; (void)argv;
    r->action = CMD_ACT_QUIT;
}

static void cmd_dump(struct cmd_ctx *c, int argc, char **argv, struct cmd_result *r)
{
    (void)argc;
    if (c->blocking) {
        cmd_fail(r, "dump: only the console has a screen to dump");
        return;
    }
    if (strlen(argv[1]) >= sizeof r->path) {
        cmd_fail(r, "dump: path too long");
        return;
    }
    snprintf(r->path, sizeof r->path, "%s", argv[1]);
    r->action = CMD_ACT_DUMP;
}

/* The list runs in the console's poll loop (tui/domains_view.c); a script
 * or batch has --batch --domains for that. */
static void cmd_domains(struct cmd_ctx *c, int argc, char **argv, struct cmd_result *r)
{
    if (c->blocking) {
        cmd_fail(r, "domains: the console's view (batch: mxscope --batch --domains FILE)");
        return;
    }
    const char *f = argc > 1 ? argv[1] : "";
    if (strlen(f) >= sizeof r->path) {
        cmd_fail(r, "domains: path too long");
        return;
    }
    snprintf(r->path, sizeof r->path, "%s", f);
    r->action = CMD_ACT_DOMAINS;
}

const struct cmd_entry cmd_table[] = {
    {"open", "o", "DOMAIN | host NAME[:PORT] | NAME:PORT | lab:SCENARIO",
     "probe a new target (a port or an address means one host, no MX lookup); resolves at once",
     1, 2, cmd_open, CMD_CPL_OPEN, NULL},
    {"step", "n", "", "run the next step", 0, 0, cmd_step, CMD_CPL_NONE, NULL},
    {"run", "r", "", "run every remaining step (console: stops before QUIT with the session open for "
     "`send`; r again runs QUIT; `set keep-open off`: to the end)", 0, 0, cmd_run, CMD_CPL_NONE, NULL},
    {"restart", NULL, "[STEP]", "start again from RESOLVE, or re-run from STEP on a new connection",
     0, 1, cmd_restart, CMD_CPL_WORDS,
     "RESOLVE CONNECT BANNER EHLO STARTTLS HANDSHAKE CHAIN EHLO2 QUIT"},
    {"cancel", NULL, "", "stop the running step", 0, 0, cmd_cancel, CMD_CPL_NONE, NULL},
    {"use", NULL, "mx N | addr N", "probe MX number N (0 = first) or address N of it; re-runs from CONNECT",
     2, 2, cmd_use, CMD_CPL_WORDS, "mx addr"},
    {"set", NULL, "KEY [VALUE]", "change a setting, or show it (applies to the next step)",
     1, 2, cmd_set, CMD_CPL_SETTING, NULL},
    {"show", NULL, "cert N | settings | findings", "show certificate N (0 = leaf), every setting, or the report",
     1, 2, cmd_show, CMD_CPL_WORDS, "cert settings findings"},
    {"save", "w", "[FILE] | json FILE | chain FILE | report FILE",
     "save the transcript (text), the JSON session, the chain as PEM, or the problem report",
     0, 2, cmd_save, CMD_CPL_FILE, "json chain report text"},
    {"report", NULL, "[FILE]", "the email-ready problem report for the other side's admins (FILE: save it)",
     0, 1, cmd_report, CMD_CPL_FILE, NULL},
    {"yank", NULL, "sha1|sha256|pem [FILE]",
     "the selected certificate's (Chain pane; the leaf in a script) SHA-1 or SHA-256 thumbprint or PEM: "
     "to the clipboard (--osc52), and to FILE (mode 0600)",
     1, 2, cmd_yank, CMD_CPL_WORDS, "sha1 sha256 pem"},
    {"load", NULL, "FILE", "open a saved session (JSON or text transcript) read-only", 1, 1, cmd_load, CMD_CPL_FILE, NULL},
    {"diff", NULL, "A [B]", "what changed between two saved sessions (or A and this one): DNS and TLSA, MTA-STS and "
     "TLS-RPT, certificates, TLS, findings, verdicts",
     1, 2, cmd_diff, CMD_CPL_FILE, NULL},
    {"load-report", NULL, "FILE", "read a sender's TLS-RPT report (RFC 8460 JSON, .gz): its policies and failures",
     1, 1, cmd_load_report, CMD_CPL_FILE, NULL},
    {"send", NULL, "[--yes] SMTP-COMMAND | BODY-LINE",
     "send a raw command on the live session (DATA asks first; after its 354 each send is a body line, "
     "`send .` ends the message; QUIT closes the session)",
     1, CMD_MAX_ARGS - 1, cmd_send, CMD_CPL_WORDS, NULL},
    {"domains", NULL, "[FILE]",
     "probe a list of partner domains (one a line, as --domains) in the Domains view; "
     "no FILE: back to the view, which keeps its results",
     0, 1, cmd_domains, CMD_CPL_FILE, NULL},
    {"dump", NULL, "FILE", "write the screen as text (console only; for tests)", 1, 1, cmd_dump, CMD_CPL_FILE, NULL},
    {"help", "h", "[CMD]", "list the commands, or explain one", 0, 1, cmd_help, CMD_CPL_COMMAND, NULL},
    {"quit", "q", "", "leave mxscope", 0, 0, cmd_quit, CMD_CPL_NONE, NULL},
    {NULL, NULL, NULL, NULL, 0, 0, NULL, CMD_CPL_NONE, NULL}
};

const struct cmd_entry *cmd_find(const char *name)
{
    for (const struct cmd_entry *e = cmd_table; e->name; e++)
        if (!strcmp(e->name, name) || (e->alias && !strcmp(e->alias, name)))
            return e;
    return NULL;
}

void cmd_help_text(const char *name, struct buf *out)
{
    for (const struct cmd_entry *e = cmd_table; e->name; e++) {
        if (name && strcmp(e->name, name) && (!e->alias || strcmp(e->alias, name)))
            continue;
        buf_printf(out, "%s%s%s", e->name, e->usage[0] ? " " : "", e->usage);
        if (e->alias)
            buf_printf(out, "   (alias: %s)", e->alias);
        buf_printf(out, "\n    %s\n", e->help);
    }
}


void cmd_exec(struct cmd_ctx *c, const char *line, struct cmd_result *r)
{
    char store[CMD_MAX_LINE + CMD_MAX_ARGS + 1];
    char *argv[CMD_MAX_ARGS];
    char err[128];
    if (strlen(line) > CMD_MAX_LINE) {
        cmd_fail(r, "line too long");
        return;
    }
    /* send takes the rest of the line raw; anything else is tokenized. */
    const char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t wl = strcspn(p, " \t");
    int argc;
    if (wl == 4 && !strncmp(p, "send", 4)) {
        argv[0] = store;
        memcpy(store, "send", 5);
        argc = 2; /* the handler reads cmd_rest */
        argv[1] = store + 4;
        cmd_rest = p + 4;
    } else {
        argc = cmd_tokenize(line, store, sizeof store, argv, CMD_MAX_ARGS, err, sizeof err);
        cmd_rest = NULL;
        if (argc < 0) {
            cmd_fail(r, "%s", err);
            return;
        }
    }
    if (argc == 0)
        return;
    const struct cmd_entry *e = cmd_find(argv[0]);
    if (!e) {
        cmd_fail(r, "unknown command '%s' (help lists them)", argv[0]);
        return;
    }
    if (argc - 1 < e->min_args || argc - 1 > e->max_args) {
        cmd_fail(r, "usage: %s %s", e->name, e->usage);
        return;
    }
    e->fn(c, argc, argv, r);
    cmd_rest = NULL;
}

