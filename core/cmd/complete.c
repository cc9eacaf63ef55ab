/*
 * complete.c - completion for the command line (cmd_complete, see core.h):
 * command names, setting names and their values, file names (left to the
 * front end), MX hosts and lab scenarios for `open`.  Split from cmd.c,
 * which keeps the table and the handlers.
 * Owner: the console engineer.
 */
#include "cmd/cmd.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- completion ------------------------------------------------------- */

struct cpl {
    char (*out)[CMD_CPL_LEN];
    int n, max;
    const char *word;
    size_t wlen;
    int icase;              /* SMTP verbs: "ma" completes to "MAIL FROM:<" */
};

static void cpl_add(struct cpl *k, const char *cand)
{
    size_t n = strlen(cand);
    if (k->n >= k->max || n >= CMD_CPL_LEN ||
        (k->icase ? strncasecmp(cand, k->word, k->wlen) : strncmp(cand, k->word, k->wlen)))
        return;
    /* Only offer text that is safe to show and to type back verbatim. */
    if (!mxs_is_safe(cand, n, 0))
        return;
    for (int i = 0; i < k->n; i++)
        if (!strcmp(k->out[i], cand))
            return;
    memcpy(k->out[k->n++], cand, n + 1);
}

static void cpl_words(struct cpl *k, const char *words)
{
    char w[64];
    while (words && *words) {
        size_t n = strcspn(words, " ");
        if (n && n < sizeof w) {
            memcpy(w, words, n);
            w[n] = 0;
            cpl_add(k, w);
        }
        words += n;
        while (*words == ' ')
            words++;
    }
}

static void cpl_indices(struct cpl *k, int n)
{
    char w[16];
    for (int i = 0; i < n; i++) {
        snprintf(w, sizeof w, "%d", i);
        cpl_add(k, w);
    }
}

static void cpl_mxhosts(struct cpl *k, const struct engine *e)
{
    const struct mxs_dns_facts *d = e ? engine_dns(e) : NULL;
    if (!d || !d->done)
        return;
    for (int i = 0; i < d->n_mx && i < MXS_MAX_MX; i++)
        cpl_add(k, d->mx[i].host);
}

/* send: SMTP verbs with the start of their argument (MAIL FROM:<, RCPT
 * TO:<, EHLO with our EHLO name), then the arguments; inside DATA only
 * the line that ends the message.  No STARTTLS: engine_send refuses it
 * (a raw 220 would leave the server expecting a TLS handshake). */
static void cpl_send(struct cpl *k, const struct engine *en, int arg, char **argv)
{
    const char *ehlo = en ? engine_settings(en)->ehlo_name : "";
    const char *dom = en && !engine_settings(en)->target_is_host ? engine_settings(en)->target : "";
    char w[CMD_CPL_LEN + 300]; /* cpl_add drops what is too long to offer */
    k->icase = 1;
    if (en && engine_raw_mode(en) == ENGINE_RAW_DATA) {
        if (arg == 0)
            cpl_add(k, ".");
        return;
    }
    if (arg == 0) {
        snprintf(w, sizeof w, "EHLO %s", ehlo);
        cpl_add(k, w);
        snprintf(w, sizeof w, "HELO %s", ehlo);
        cpl_add(k, w);
        cpl_add(k, "MAIL FROM:<");
        cpl_add(k, "RCPT TO:<");
        cpl_words(k, "DATA NOOP RSET VRFY EXPN HELP QUIT");
    } else if (arg == 1 && !strcasecmp(argv[1], "MAIL")) {
        cpl_words(k, "FROM:<> FROM:<");
    } else if (arg == 1 && !strcasecmp(argv[1], "RCPT")) {
        if (dom[0]) {
            snprintf(w, sizeof w, "TO:<postmaster@%s>", dom);
            cpl_add(k, w);
        }
        cpl_add(k, "TO:<");
    } else if (arg == 1 && (!strcasecmp(argv[1], "EHLO") || !strcasecmp(argv[1], "HELO"))) {
        cpl_add(k, ehlo);
    } else if (arg == 1 && (!strcasecmp(argv[1], "VRFY") || !strcasecmp(argv[1], "EXPN"))) {
        cpl_add(k, "postmaster");
    }
}

int cmd_complete(const struct cmd_ctx *c, const char *line, size_t start,
                 char out[][CMD_CPL_LEN], int max, int *want_files)
{
    char store[CMD_MAX_LINE + CMD_MAX_ARGS + 1], head[CMD_MAX_LINE + 1], err[64];
    char *argv[CMD_MAX_ARGS];
    struct cpl k = {out, 0, max, line + start, strlen(line + start)};
    *want_files = 0;
    if (start > CMD_MAX_LINE)
        return 0;
    memcpy(head, line, start);
    head[start] = 0;
    int argc = cmd_tokenize(head, store, sizeof store, argv, CMD_MAX_ARGS, err, sizeof err);
    if (argc < 0)
        return 0;
    if (argc == 0) {
        for (const struct cmd_entry *e = cmd_table; e->name; e++)
            cpl_add(&k, e->name);
        return k.n;
    }
    const struct cmd_entry *e = cmd_find(argv[0]);
    if (!e)
        return 0;
    int arg = argc - 1; /* index of the argument being completed */
    const struct engine *en = c ? c->engine : NULL;
    switch (e->complete) {
    case CMD_CPL_NONE:
        break;
    case CMD_CPL_COMMAND:
        if (arg == 0)
            for (const struct cmd_entry *x = cmd_table; x->name; x++)
                cpl_add(&k, x->name);
        break;
    case CMD_CPL_SETTING:
        if (arg == 0) {
            for (const struct mxs_setting_def *d = mxs_setting_table; d->name; d++)
                cpl_add(&k, d->name);
            cpl_add(&k, "keep-open"); /* the console's (cmd_set), not the probe's */
        } else if (arg == 1 && !strcmp(argv[1], "keep-open")) {
            cpl_words(&k, "on off");
        } else if (arg == 1) {
            const struct mxs_setting_def *d = mxs_setting_find(argv[1]);
            if (!d)
                break;
            cpl_words(&k, d->words);
            if (d->flags & MXS_SETF_MXHOST)
                cpl_mxhosts(&k, en);
            if ((d->flags & MXS_SETF_MXINDEX) && en && engine_dns(en))
                cpl_indices(&k, engine_dns(en)->n_mx);
            if (d->flags & MXS_SETF_FILE)
                *want_files = 1;
        }
        break;
    case CMD_CPL_FILE:
        if (arg == 0 && e->words)
            cpl_words(&k, e->words);
        if (arg <= 1)
            *want_files = 1;
        break;
    case CMD_CPL_WORDS:
        if (!strcmp(e->name, "send")) {
            cpl_send(&k, en, arg, argv);
        } else if (arg == 0) {
            cpl_words(&k, e->words);
        } else if (arg == 1 && !strcmp(e->name, "use") && en) {
            const struct mxs_dns_facts *d = engine_dns(en);
            if (d && !strcmp(argv[1], "mx"))
                cpl_indices(&k, d->n_mx);
            else if (d && !strcmp(argv[1], "addr")) {
                int mi = engine_settings(en)->mx_index;
                if (mi < 0)
                    mi = 0;
                if (mi < d->n_mx)
                    cpl_indices(&k, d->mx[mi].n_addr);
            }
        } else if (arg == 1 && !strcmp(e->name, "show") && !strcmp(argv[1], "cert") && en) {
            const struct mxs_chain_facts *ch = engine_chain(en);
            if (ch)
                cpl_indices(&k, ch->n);
        }
        break;
    case CMD_CPL_OPEN:
        if (arg == 0) {
            char w[96];
            cpl_add(&k, "host");
            for (int i = 0; cmd_lab_provider() && cmd_lab_provider()->scenarios && cmd_lab_provider()->scenarios[i].name; i++) {
                snprintf(w, sizeof w, "lab:%s", cmd_lab_provider()->scenarios[i].name);
                cpl_add(&k, w);
            }
            cpl_mxhosts(&k, en);
        } else if (arg == 1 && !strcmp(argv[1], "host")) {
            cpl_mxhosts(&k, en);
        }
        break;
    }
    return k.n;
}
