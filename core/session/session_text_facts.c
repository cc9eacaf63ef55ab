/*
 * session_text_facts.c - the text transcript's "# fact NAME VALUE" lines:
 * the facts of a run its dialog lines do not say, written in the appendix
 * (session_text_facts, called by render.c) and read back by the loader's
 * pass 1 (session_text_fact_line, from session_text_appendix.c), both from
 * one table, so a fact added is written and read alike.  Part of the
 * session module (core/session).
 *
 * Apart from the loader because it is the one place both directions meet:
 * the writer runs on every saved transcript, the reader on hostile files.
 * RESOLVE's, POLICY's and DANE's facts and the second certificate (dual
 * RSA + ECDSA) are the JSON document's own objects on one line each
 * (dns.json, policy.json, dane.json, second.json), kept as text here
 * and read by the JSON loader's code when the engine is filled.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/buf.h"
#include "base/esc.h"
#include "session/render.h"
#include "session/session_int.h"

/* ---- "# fact NAME VALUE": what the dialog lines do not carry ------------ */

/* The facts of a run its transcript lines do not say (times, counts, the
 * alerts and versions a failed handshake learned): written in the appendix
 * (render.c calls session_text_facts) and read back by the loader's pass 1
 * (session_text_fact_line), from one table. */
enum { LT_F_INT, LT_F_I64, LT_F_SIZE, LT_F_STR };
struct lt_fact {
    const char *name;
    int type;
    int tls;                     /* 1: tls facts, 0: smtp facts, 2: chain  */
    size_t off, size;
};
#define LT_SMTP(n, ty, f) { n, ty, 0, offsetof(struct mxs_smtp_facts, f), \
                            sizeof ((struct mxs_smtp_facts *)0)->f }
#define LT_TLS(n, ty, f) { n, ty, 1, offsetof(struct mxs_tls_facts, f), \
                           sizeof ((struct mxs_tls_facts *)0)->f }
#define LT_CHAIN(n, ty, f) { n, ty, 2, offsetof(struct mxs_chain_facts, f), \
                             sizeof ((struct mxs_chain_facts *)0)->f }
static const struct lt_fact lt_facts[] = {
    LT_SMTP("smtp.banner_ms", LT_F_I64, banner_ms),
    LT_SMTP("smtp.leftover_plain", LT_F_SIZE, leftover_plain),
    LT_TLS("tls.attempted", LT_F_INT, attempted),
    LT_TLS("tls.server_hello_version", LT_F_INT, server_hello_version),
    LT_TLS("tls.alert_received", LT_F_INT, alert_received),
    LT_TLS("tls.alert_name", LT_F_STR, alert_name),
    LT_TLS("tls.alert_sent", LT_F_INT, alert_sent),
    LT_TLS("tls.alert_sent_name", LT_F_STR, alert_sent_name),
    LT_TLS("tls.cert_requested", LT_F_INT, cert_requested),
    LT_TLS("tls.client_cert_sent", LT_F_INT, client_cert_sent),
    LT_TLS("tls.mbedtls_error", LT_F_INT, mbedtls_error),
    LT_TLS("tls.error", LT_F_STR, error),
    LT_TLS("tls.sni_sent", LT_F_STR, sni_sent),
    LT_TLS("tls.handshake_ms", LT_F_I64, handshake_ms),
    LT_TLS("tls.bytes_in", LT_F_SIZE, bytes_in),
    LT_TLS("tls.bytes_out", LT_F_SIZE, bytes_out),
    LT_TLS("tls.version_accepted.0", LT_F_INT, version_accepted[0]),
    LT_TLS("tls.version_accepted.1", LT_F_INT, version_accepted[1]),
    LT_TLS("tls.version_accepted.2", LT_F_INT, version_accepted[2]),
    LT_TLS("tls.version_accepted.3", LT_F_INT, version_accepted[3]),
    LT_TLS("tls.legacy_probed", LT_F_INT, legacy_probed),
    LT_TLS("tls.pss_retry", LT_F_INT, pss_retry),
    LT_TLS("tls.key_update", LT_F_INT, key_update),
    LT_TLS("tls.key_update_retry", LT_F_INT, key_update_retry),
    LT_TLS("tls.local_error", LT_F_INT, local_error),
    LT_TLS("tls.cert_msg_bytes", LT_F_SIZE, cert_msg_bytes),
    LT_TLS("tls.cert_msg_limit", LT_F_SIZE, cert_msg_limit),
    LT_TLS("tls.refused", LT_F_INT, refused),
    LT_TLS("tls.refused_cert", LT_F_INT, refused_cert),
    LT_TLS("tls.refused_san", LT_F_INT, refused_san),
    LT_TLS("tls.refused_san_entry", LT_F_INT, refused_san_entry),
    LT_TLS("tls.refused_san_len", LT_F_INT, refused_san_len),
    LT_CHAIN("chain.checked_at", LT_F_I64, checked_at),
    LT_CHAIN("chain.path_len", LT_F_INT, path_len),
    LT_CHAIN("chain.n_total", LT_F_INT, n_total),
};

void session_text_facts(const struct engine *e, struct buf *out)
{
    for (size_t i = 0; i < sizeof lt_facts / sizeof lt_facts[0]; i++) {
        const struct lt_fact *f = &lt_facts[i];
        const char *base = f->tls == 1 ? (const char *)engine_tls(e)
                           : f->tls == 2 ? (const char *)engine_chain(e) : (const char *)engine_smtp(e);
        const void *v = base + f->off;
        buf_printf(out, "# fact %s ", f->name);
        switch (f->type) {
        case LT_F_INT: buf_printf(out, "%d", *(const int *)v); break;
        case LT_F_I64: buf_printf(out, "%lld", (long long)*(const int64_t *)v); break;
        case LT_F_SIZE: buf_printf(out, "%zu", *(const size_t *)v); break;
        default: buf_puts_escaped(out, (const char *)v); break;
        }
        buf_puts(out, "\n");
    }
    /* RESOLVE's and POLICY's facts are structured (MX hosts, addresses,
     * TLSA, TXT answers, the policy fetch): one line each, the JSON
     * document's own objects, ASCII only (control bytes and non-ASCII as
     * \u escapes), so the loader reads them with the JSON loader's code.
     * A line that would pass LT_MAX_LINE is left out: the file still
     * loads, with what its dialog lines say. */
    json_t *root = render_json_tree(e);
    static const char *const objs[] = {"dns", "policy", "dane", "second"};
    for (size_t i = 0; root && i < sizeof objs / sizeof objs[0]; i++) {
        json_t *o = i < 2 ? json_object_get(root, objs[i])
                    : i == 2 ? json_object_get(json_object_get(root, "verification"), "dane")
                             : json_object_get(root, "second_certificate");
        char *js = o && !json_is_null(o) ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
        if (js && strlen(js) + 32 < LT_MAX_LINE)
            buf_printf(out, "# fact %s.json %s\n", objs[i], js);
        free(js);
    }
    json_decref(root);
}

int session_text_fact_line(struct lt_state *st, const struct lt_line *l)
{
    const char *p = l->p + 7, *end = l->p + l->n, *nm;
    size_t nn = session_text_token(&p, end, &nm);
    while (p < end && *p == ' ')
        p++;
    int isdns = session_text_tokeq(nm, nn, "dns.json"), isdane = session_text_tokeq(nm, nn, "dane.json");
    int issec = session_text_tokeq(nm, nn, "second.json");
    if (isdns || isdane || issec || session_text_tokeq(nm, nn, "policy.json")) {
        char **dst = isdns ? &st->dns_json : isdane ? &st->dane_json
                     : issec ? &st->second_json : &st->policy_json;
        free(*dst);
        if (!(*dst = malloc((size_t)(end - p) + 1)))
            return session_text_fail(st, l->no, "out of memory");
        memcpy(*dst, p, (size_t)(end - p));
        (*dst)[end - p] = 0;
        return 0;
    }
    for (size_t i = 0; i < sizeof lt_facts / sizeof lt_facts[0]; i++) {
        const struct lt_fact *f = &lt_facts[i];
        if (!session_text_tokeq(nm, nn, f->name))
            continue;
        char *base = f->tls == 1 ? (char *)&st->tls : f->tls == 2 ? (char *)&st->chain
                                                                  : (char *)&st->smtp;
        char num[32];
        size_t vn = (size_t)(end - p);
        if (f->type == LT_F_STR) {
            size_t k = mxs_unescape(p, vn, (unsigned char *)base + f->off, f->size - 1);
            base[f->off + k] = 0;
            return 0;
        }
        char *ep;
        if (vn == 0 || vn >= sizeof num)
            return session_text_fail(st, l->no, "fact %s: a number", f->name);
        memcpy(num, p, vn);
        num[vn] = 0;
        long long x = strtoll(num, &ep, 10);
        if (*ep || (f->type != LT_F_I64 && (x < INT_MIN || x > INT_MAX)) ||
            (f->type == LT_F_SIZE && x < 0))
            return session_text_fail(st, l->no, "fact %s: a number in range", f->name);
        if (f->type == LT_F_INT)
            *(int *)(base + f->off) = (int)x;
        else if (f->type == LT_F_I64)
            *(int64_t *)(base + f->off) = x;
        else
            *(size_t *)(base + f->off) = (size_t)x;
        return 0;
    }
    return 0;   /* a fact of a later version: ignored */
}
