/*
 * cmd_files.c - the commands that read and write files: report, save, yank,
 * load, diff, load-report, and the default name of a saved transcript.  Rows
 * of the one command table in cmd.c (cmd_int.h).  Nothing here prints:
 * results go into struct cmd_result; files are written whole or not at all
 * (base/savefile.c).
 * Owner: the console engineer (h6).
 */
#include "cmd/cmd.h"
#include "cmd/cmd_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/esc.h"
#include "probe/x509view.h"
#include "session/render.h"

/* `report`: the email-ready problem report for the other side's admins;
 * shown, or saved whole with a FILE. */
void cmd_report(struct cmd_ctx *c, int argc, char **argv, struct cmd_result *r)
{
    char err[256] = "";
    if (cmd_need_engine(c, r))
        return;
    if (argc == 2) {
        if (render_save_report(c->engine, argv[1], err, sizeof err) != 0) {
            cmd_fail(r, "report not saved: %s", err);
            return;
        }
        buf_puts(&r->msg, "report saved to ");
        buf_puts_escaped(&r->msg, argv[1]);
        return;
    }
    int ran = 0;
    for (int s = 0; s < MXS_STEP_COUNT; s++)
        ran += engine_step_state(c->engine, (enum mxs_step)s) != MXS_ST_PENDING;
    if (!ran) {
        buf_puts(&r->msg, "nothing to report yet: no step has run (n runs the next step, r runs them all)");
        return;
    }
    render_problem_report(c->engine, &r->msg);
    r->action = CMD_ACT_OUTPUT;
}

void cmd_save(struct cmd_ctx *c, int argc, char **argv, struct cmd_result *r)
{
    char err[256] = "", path[1024];
    const char *kind = "text";
    if (cmd_need_engine(c, r))
        return;
    if (argc == 3) {
        kind = argv[1];
        snprintf(path, sizeof path, "%s", argv[2]);
    } else if (argc == 2) {
        if (!strcmp(argv[1], "json") || !strcmp(argv[1], "chain") || !strcmp(argv[1], "report")) {
            cmd_fail(r, "usage: save %s FILE", argv[1]);
            return;
        }
        snprintf(path, sizeof path, "%s", argv[1]);
    } else {
        cmd_default_save_name(c->engine, path, sizeof path);
    }
    int rc;
    if (!strcmp(kind, "text"))
        rc = render_save_text(c->engine, path, err, sizeof err);
    else if (!strcmp(kind, "json"))
        rc = render_save_json(c->engine, path, err, sizeof err);
    else if (!strcmp(kind, "chain"))
        rc = render_save_chain(c->engine, path, err, sizeof err);
    else if (!strcmp(kind, "report"))
        rc = render_save_report(c->engine, path, err, sizeof err);
    else {
        cmd_fail(r, "save: kind is text, json, chain or report, not '%s'", kind);
        return;
    }
    if (rc) {
        cmd_fail(r, "save %s: %s", path, err);
        return;
    }
    cmd_mark_saved(c);
    buf_printf(&r->msg, "saved %s to ", kind);
    buf_puts_escaped(&r->msg, path);
}

/* `yank sha1|sha256|pem [FILE]`: the selected certificate's thumbprint or
 * PEM for the clipboard (the front end copies r->data), and with FILE also
 * saved, whole or not at all (savefile, mode 0600). */
void cmd_yank(struct cmd_ctx *c, int argc, char **argv, struct cmd_result *r)
{
    char err[256] = "";
    if (cmd_need_engine(c, r))
        return;
    const struct mxs_chain_facts *ch = engine_chain(c->engine);
    if (!ch || ch->n == 0) {
        cmd_fail(r, "yank: no certificates yet: run to the CHAIN step first");
        return;
    }
    int d = c->cert_sel >= 0 && c->cert_sel < ch->n ? c->cert_sel : 0;
    const struct mxs_cert *cert = &ch->cert[d];
    const char *what;
    if (!strcmp(argv[1], "sha1")) {
        what = "SHA-1";
        buf_puts(&r->data, cert->sha1);
    } else if (!strcmp(argv[1], "sha256")) {
        what = "SHA-256";
        buf_puts(&r->data, cert->sha256);
    } else if (!strcmp(argv[1], "pem")) {
        what = "PEM";
        size_t need = cert->der_len * 4 / 3 + cert->der_len / 48 + 128;
        char *pem = malloc(need);
        if (!pem || x509view_pem(cert->der, cert->der_len, pem, need) < 0) {
            free(pem);
            cmd_fail(r, "yank: cannot write certificate %d as PEM", d);
            return;
        }
        buf_puts(&r->data, pem);
        free(pem);
    } else {
        cmd_fail(r, "yank: sha1, sha256 or pem, not '%s'", argv[1]);
        return;
    }
    if (argc == 3) {
        /* A thumbprint file ends in a newline, as a text file does. */
        int nl = r->data.len && buf_str(&r->data)[r->data.len - 1] != '\n';
        if (nl)
            buf_puts(&r->data, "\n");
        int rc = savefile_write(argv[2], buf_str(&r->data), r->data.len, err, sizeof err);
        if (nl)
            r->data.data[--r->data.len] = 0;
        if (rc) {
            cmd_fail(r, "yank: %s not written: %s", argv[2], err);
            return;
        }
        snprintf(r->path, sizeof r->path, "%s", argv[2]);
    }
    buf_printf(&r->msg, "%s of certificate %d", what, d);
    if (argc == 3) {
        buf_puts(&r->msg, ", written to ");
        buf_puts_escaped(&r->msg, argv[2]);
    }
    if (strcmp(what, "PEM"))
        buf_printf(&r->msg, ": %s", buf_str(&r->data));
    else
        buf_printf(&r->msg, " (%zu bytes)", r->data.len);
    r->action = CMD_ACT_YANK;
}

void cmd_load(struct cmd_ctx *c, int argc, char **argv, struct cmd_result *r)
{
    char err[256] = "";
    (void)argc;
    struct engine *e = engine_load(argv[1], err, sizeof err);
    if (!e) {
        cmd_fail(r, "load %s: %s", argv[1], err);
        return;
    }
    cmd_ctx_adopt(c, e);
    c->lab_scenario[0] = 0;
    r->engine_changed = 1;
    buf_puts(&r->msg, "loaded ");
    buf_puts_escaped(&r->msg, argv[1]);
    buf_puts(&r->msg, " (read-only replay)");
}

/* diff A B: two saved sessions side by side; diff A: A against the session
 * in view (a renewal checked right after it was installed). */
void cmd_diff(struct cmd_ctx *c, int argc, char **argv, struct cmd_result *r)
{
    char err[512] = "";
    if (argc == 2 && cmd_need_engine(c, r))
        return;
    struct engine *a = engine_load(argv[1], err, sizeof err);
    if (!a) {
        cmd_fail(r, "diff: %s", err);   /* err names the file */
        return;
    }
    struct engine *b = NULL;
    if (argc == 3 && !(b = engine_load(argv[2], err, sizeof err))) {
        engine_free(a);
        cmd_fail(r, "diff: %s", err);
        return;
    }
    render_diff(a, argv[1], b ? b : c->engine, b ? argv[2] : "this session", &r->msg);
    engine_free(a);
    engine_free(b);
    r->action = CMD_ACT_OUTPUT;
}

/* load-report FILE: a sender's TLS-RPT report in an overlay; probing its
 * failing MX hosts is one `open host MX` + `r` each (the batch's --recheck
 * blocks, which the console never does). */
void cmd_load_report(struct cmd_ctx *c, int argc, char **argv, struct cmd_result *r)
{
    char err[512] = "";
    (void)c; (void)argc;
    struct mxs_tlsrpt *t = mxs_tlsrpt_load(argv[1], err, sizeof err);
    if (!t) {
        cmd_fail(r, "load-report %s: %s", argv[1], err);
        return;
    }
    char *text = mxs_tlsrpt_text(t);
    mxs_tlsrpt_free(t);
    if (!text) {
        cmd_fail(r, "load-report: out of memory");
        return;
    }
    buf_puts(&r->msg, text);    /* escaped by mxs_tlsrpt_text */
    free(text);
    r->action = CMD_ACT_OUTPUT;
}

void cmd_default_save_name(const struct engine *e, char *out, size_t outlen)
{
    char tgt[80];
    size_t o = 0;
    const char *t = e ? engine_settings(e)->target : "";
    for (; *t && o + 1 < sizeof tgt; t++) {
        unsigned char ch = (unsigned char)*t;
        tgt[o++] = (isalnum(ch) || ch == '.' || ch == '-' || ch == '_') ? (char)ch : '_';
    }
    tgt[o] = 0;
    if (!o)
        snprintf(tgt, sizeof tgt, "session");
    time_t now = time(NULL);
    struct tm tm;
    char ts[32] = "";
    if (gmtime_r(&now, &tm))
        strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(out, outlen, "mxscope-%s-%s.txt", tgt, ts);
}
