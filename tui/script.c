/*
 * script.c - --script FILE, in the console and in batch (see script.h).
 * Owner: the console engineer (h6).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "script.h"
#include "tui.h"

#define SCRIPT_MAX_BYTES (1u << 20)
#define SCRIPT_MAX_LINES 10000

int script_read(const char *file, char ***lines, char *err, size_t errlen)
{
    char *data = NULL, rerr[200] = "";
    size_t len = 0;
    *lines = NULL;
    if (savefile_read(file, SCRIPT_MAX_BYTES, &data, &len, rerr, sizeof rerr)) {
        snprintf(err, errlen, "script %s: %s", file, rerr);
        return -1;
    }
    int cap = 64, n = 0;
    char **v = malloc((size_t)cap * sizeof *v);
    if (!v) {
        free(data);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char *p = data;
    while (p < data + len && n < SCRIPT_MAX_LINES) {
        char *nl = memchr(p, '\n', (size_t)(data + len - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(data + len - p);
        if (l && p[l - 1] == '\r')
            l--;
        if (n == cap) {
            char **nv = realloc(v, (size_t)cap * 2 * sizeof *nv);
            if (!nv)
                break;
            v = nv;
            cap *= 2;
        }
        if (l > CMD_MAX_LINE)
            l = CMD_MAX_LINE; /* cmd_exec refuses it with a message */
        char *s = malloc(l + 1);
        if (!s)
            break;
        memcpy(s, p, l);
        s[l] = 0;
        v[n++] = s;
        p = nl ? nl + 1 : data + len;
    }
    free(data);
    *lines = v;
    return n;
}

void script_free(char **lines, int n)
{
    if (!lines)
        return;
    for (int i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
}

/* Messages are escaped by cmd.c and render.c; control bytes still never
 * reach stdout, whatever a bug upstream might let through. */
static void script_put(const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f)
            printf("\\x%02X", ch);
        else
            putchar(ch);
    }
}

static void script_records(struct cmd_ctx *c, const struct engine **last_e, size_t *shown)
{
    struct engine *e = c->engine;
    if (!e)
        return;
    if (e != *last_e) {
        *last_e = e;
        *shown = 0;
    }
    size_t n = engine_record_count(e);
    if (n < *shown)
        *shown = 0; /* restarted: the transcript began again */
    for (; *shown < n; (*shown)++) {
        const struct mxs_record *r = engine_record(e, *shown);
        if (!r)
            continue;
        struct buf b;
        buf_init(&b, 64 * 1024);
        render_record_line(r, &b);
        script_put(b.data ? b.data : "");
        putchar('\n');
        buf_free(&b);
    }
}

int script_run_batch_lab(struct engine *e, struct lab *lab, const char *scenario,
                         const char *file)
{
    char err[300];
    char **lines;
    int n = script_read(file, &lines, err, sizeof err);
    if (n < 0) {
        char es[600];
        mxs_escape_str(err, es, sizeof es, 0);
        fprintf(stderr, "mxscope: %s\n", es);
        return 2;
    }
    struct cmd_ctx c;
    cmd_ctx_init(&c, e, lab, scenario, 1);
    const struct engine *last_e = e;
    size_t shown = e ? engine_record_count(e) : 0;
    int rc = 0;
    for (int i = 0; i < n; i++) {
        const char *l = lines[i];
        if (l[strspn(l, " \t")] == 0 || l[strspn(l, " \t")] == '#')
            continue;
        printf("> ");
        script_put(l);
        putchar('\n');
        struct cmd_result r;
        cmd_result_init(&r);
        cmd_exec(&c, l, &r);
        script_records(&c, &last_e, &shown);
        const char *msg = r.msg.data ? r.msg.data : "";
        if (r.status == CMD_NEEDS_CONFIRM) {
            printf("error: needs confirmation; in a script write: ");
            script_put(r.confirm);
            putchar('\n');
            rc = 1;
        } else if (r.status == CMD_ERROR) {
            printf("error: ");
            script_put(msg);
            putchar('\n');
            rc = 1;
        } else if (r.action == CMD_ACT_HELP) {
            script_put(msg);
        } else if (*msg) {
            script_put(msg);
            if (msg[strlen(msg) - 1] != '\n')
                putchar('\n');
        }
        int quit = r.action == CMD_ACT_QUIT;
        cmd_result_free(&r);
        fflush(stdout);
        if (quit)
            break;
    }
    script_free(lines, n);
    cmd_ctx_free(&c);
    return rc;
}

int script_run_batch(struct engine *e, const char *file)
{
    return script_run_batch_lab(e, NULL, NULL, file);
}
