/*
 * fuzz_ehlo_caps.c - EHLO capability parsing and diff on arbitrary text,
 * both as raw reply text and through the reply parser.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/smtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_check_caps(const struct mxs_caps *c)
{
    if (c->n < 0 || c->n > MXS_MAX_CAPS) abort();
    if (c->size < -1) abort();
    for (int i = 0; i < c->n; i++) {
        size_t l = strnlen(c->name[i], sizeof c->name[i]);
        if (l == 0 || l >= sizeof c->name[i]) abort();
        if (strnlen(c->args[i], sizeof c->args[i]) >= sizeof c->args[i]) abort();
        for (size_t j = 0; j < l; j++) {
            char ch = c->name[i][j];
            if ((ch >= 'a' && ch <= 'z') || ch == ' ' || ch == '\n' || ch == '\t')
                abort();
        }
        for (int k = 0; k < i; k++)
            if (!strcmp(c->name[i], c->name[k])) abort();  /* no duplicates */
    }
}

static void fz_diff(const struct mxs_caps *a, const struct mxs_caps *b)
{
    char out[64];
    memset(out, 'Q', sizeof out);
    int d = smtp_caps_diff(a, b, out, sizeof out);
    if (strnlen(out, sizeof out) >= sizeof out) abort();
    if (!d && out[0]) abort();
    if (smtp_caps_diff(a, a, out, sizeof out) != 0 || out[0]) abort();
    if (smtp_caps_diff(a, b, NULL, 0) != d) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct mxs_reply r;
    struct mxs_caps a, b;

    /* 1: the bytes as reply text (split in two halves for the diff). */
    memset(&r, 0, sizeof r);
    size_t n = size < sizeof r.text - 1 ? size : sizeof r.text - 1;
    memcpy(r.text, data, n);
    r.text[n] = '\0';
    r.code = 250;
    smtp_caps_parse(&r, &a);
    fz_check_caps(&a);
    size_t h = n / 2;
    memset(r.text + h, 0, sizeof r.text - h);
    smtp_caps_parse(&r, &b);
    fz_check_caps(&b);
    fz_diff(&a, &b);
    fz_diff(&b, &a);

    /* 2: through the reply parser, as the engine does. */
    struct smtp_parser p;
    smtp_parser_reset(&p);
    size_t off = 0, used;
    int got = 0;
    enum smtp_feed_result res = SMTP_NEED_MORE;
    while ((off < size || res == SMTP_REPLY) && got < 8) {
        res = smtp_parser_feed(&p, data + off, size - off, &used, &r);
        off += used;
        if (res == SMTP_REPLY) {
            smtp_caps_parse(&r, got ? &b : &a);
            fz_check_caps(got ? &b : &a);
            got++;
        } else {
            break;
        }
    }
    if (got > 1)
        fz_diff(&a, &b);
    char e[16];
    char t[24];
    n = size < sizeof t - 1 ? size : sizeof t - 1;
    memcpy(t, data, n);
    t[n] = '\0';
    if (smtp_enhanced_code(t, e) && (strlen(e) < 5 || strlen(e) > 9)) abort();
    return 0;
}
