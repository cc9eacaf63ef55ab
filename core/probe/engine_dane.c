/*
 * engine_dane.c - DANE at CHAIN (RFC 7672): the MX host's TLSA records
 * against the chain as sent, each record on its own.  Owner: the engine.
 *
 * DANE-EE(3) matches the leaf, no name or date check; DANE-TA(2) matches a
 * certificate above the leaf that the chain must verify up to, and the leaf
 * must carry the MX name.  PKIX-TA/EE (0/1) are unusable for SMTP (RFC 7672
 * 3.1.3).  Every record is judged, not only up to the first match: which
 * certificate each one names is what the lifecycle checks (renewal, a
 * stale record, --days) need, and what the operator reads.  Whether the
 * records apply at all (DNSSEC) is the diagnosis' call.  A dual RSA + ECDSA
 * server's second chain (the RSA-only handshake) is matched the same way,
 * by the same code (engine_dane_check_alt).
 */
#include <stdio.h>
#include <string.h>

#include "probe/engine_int.h"
#include "probe/x509view.h"

/* One record against the chain: match_depth, ok and why filled.  name_ok:
 * the leaf carries a reference identifier (DANE-TA). */
static void dane_one(int name_ok, const struct mxs_tlsa *t,
                     struct mxs_dane_rr *r, const unsigned char *const *der,
                     const size_t *len, int n)
{
    r->match_depth = -1;
    if (t->usage < 2) {
        snprintf(r->why, sizeof r->why, "%s(%u): not used for SMTP (RFC 7672 3.1.3)",
                 t->usage ? "PKIX-EE" : "PKIX-TA", t->usage);
        return;
    }
    if (t->usage > 3 || t->selector > 1 || t->mtype > 2) {
        snprintf(r->why, sizeof r->why, "unknown parameters: ignored by senders");
        return;
    }
    if (t->mtype == 0 && t->truncated) {
        snprintf(r->why, sizeof r->why, "full data longer than kept: not compared");
        return;
    }
    r->usable = 1;
    /* DANE-TA names an issuer: look above the leaf first. */
    for (int d = t->usage == 2 ? 1 : 0; d < n && r->match_depth < 0; d++)
        if (x509view_tlsa_match(der[d], len[d], t) == 1)
            r->match_depth = d;
    if (t->usage == 2 && r->match_depth < 0 && x509view_tlsa_match(der[0], len[0], t) == 1)
        r->match_depth = 0;
    if (r->match_depth < 0) {
        snprintf(r->why, sizeof r->why, t->usage == 3
                 ? "matches none of the certificates sent"
                 : "matches none of the certificates sent: it names a CA that did not "
                   "issue this chain (or one the server does not send)");
        return;
    }
    int d = r->match_depth;
    if (t->usage == 3) {
        if (d == 0)
            r->ok = 1;
        else
            snprintf(r->why, sizeof r->why, "matches certificate %d (an issuer), not the leaf: "
                     "DANE-EE(3) names the server's own certificate", d);
        return;
    }
    if (d == 0) {
        snprintf(r->why, sizeof r->why, "matches the leaf: DANE-TA(2) names an issuer "
                 "(publish it as 3 %u %u)", t->selector, t->mtype);
        return;
    }
    unsigned vf = x509view_verify_to_anchor(der, len, d, der[d], len[d]);
    if (vf) {
        char ft[80];
        mxs_verify_flags_text(vf, ft, sizeof ft);
        snprintf(r->why, sizeof r->why, "matches certificate %d, but the chain does not verify "
                 "up to it: %s", d, ft);
    } else if (!name_ok) {
        snprintf(r->why, sizeof r->why, "matches certificate %d, but the leaf does not carry "
                 "the MX name", d);
    } else {
        r->ok = 1;
    }
}

/* The MX probed when it has TLSA records to match, else NULL. */
static const struct mxs_mx *dane_mx(const struct engine *e)
{
    if (!e->conn.done || e->conn.mx_index < 0 || e->conn.mx_index >= e->dns.n_mx)
        return NULL;
    const struct mxs_mx *m = &e->dns.mx[e->conn.mx_index];
    return m->n_tlsa > 0 ? m : NULL;
}

/* DANE-TA's name check: the MX host (mx_ok), or the TLSA base domain when
 * the records came from its CNAME-expanded name (RFC 7672 3.2.2). */
static int dane_name_ok(const struct mxs_mx *m, int mx_ok, const struct mxs_cert *leaf)
{
    const char *tcp = m->tlsa_expanded ? strstr(m->tlsa_name, "._tcp.") : NULL;
    return mx_ok || (tcp && leaf && x509view_matches_name(leaf, tcp + 6));
}

/* "3 1 1 ABCDEF0123456789..." for a transcript line. */
static void dane_rec_head(const struct mxs_tlsa *t, char *out, size_t n)
{
    char hx[40] = "";
    for (size_t k = 0; k < t->len && k < 8; k++)
        snprintf(hx + 2 * k, 3, "%02X", t->data[k]);
    snprintf(out, n, "%u %u %u %s%s", t->usage, t->selector, t->mtype, hx, t->len > 8 ? "..." : "");
}

/* The RSA-only handshake's chain (dual certificates, engine_steps.c's
 * alt_leaf) against the same records, judged exactly as ours: a DANE sender
 * that offers no ECDSA gets that chain, and these records decide for it. */
void engine_dane_check_alt(struct engine *e, const unsigned char *const *der, const size_t *len, int n)
{
    struct mxs_chain_facts *ch = &e->chain;
    ch->alt_dane_match_rr = -1;
    ch->n_alt_dane_rr = 0;
    const struct mxs_mx *m = dane_mx(e);
    if (!m || !ch->alt_present || n <= 0)
        return;
    ch->alt_dane_checked = 1;
    int name_ok = dane_name_ok(m, ch->alt_name_matches, &ch->alt_leaf);
    ch->n_alt_dane_rr = m->n_tlsa < MXS_MAX_TLSA ? m->n_tlsa : MXS_MAX_TLSA;
    for (int i = 0; i < ch->n_alt_dane_rr; i++) {
        struct mxs_dane_rr *r = &ch->alt_dane_rr[i];
        memset(r, 0, sizeof *r);
        dane_one(name_ok, &m->tlsa_rr[i], r, der, len, n);
        if (r->ok && !ch->alt_dane_match) {
            ch->alt_dane_match = 1;
            ch->alt_dane_match_rr = i;
        }
        char head[60];
        dane_rec_head(&m->tlsa_rr[i], head, sizeof head);
        if (r->ok)
            engine_rec_printf(e, MXS_REC_TLS_INFO, MXS_STEP_CHAIN, "TLSA record %d (%s) against the "
                              "second certificate: matches its certificate %d: authenticates that chain",
                              i, head, r->match_depth);
        else
            engine_rec_printf(e, MXS_REC_TLS_INFO, MXS_STEP_CHAIN, "TLSA record %d (%s) against the "
                              "second certificate: %s", i, head, r->why);
    }
    engine_rec_printf(e, MXS_REC_TLS_INFO, MXS_STEP_CHAIN, "DANE for the second certificate (%s, "
                      "RSA-only handshake): %s", ch->alt_leaf.key_type, ch->alt_dane_match
                      ? "a record matches" : "no TLSA record matches it");
}

void engine_dane_check(struct engine *e, const unsigned char *const *der, const size_t *len, int n)
{
    struct mxs_chain_facts *ch = &e->chain;
    ch->dane_match_depth = ch->dane_match_rr = -1;
    ch->n_dane_rr = 0;
    const struct mxs_mx *m = dane_mx(e);
    if (!m || n <= 0)
        return;
    ch->dane_checked = 1;
    int name_ok = dane_name_ok(m, ch->name_matches_mx, ch->n > 0 ? &ch->cert[0] : NULL);
    ch->n_dane_rr = m->n_tlsa < MXS_MAX_TLSA ? m->n_tlsa : MXS_MAX_TLSA;
    for (int i = 0; i < ch->n_dane_rr; i++) {
        const struct mxs_tlsa *t = &m->tlsa_rr[i];
        struct mxs_dane_rr *r = &ch->dane_rr[i];
        memset(r, 0, sizeof *r);
        dane_one(name_ok, t, r, der, len, n);
        ch->dane_usable += r->usable;
        if (r->ok && !ch->dane_match) {
            ch->dane_match = 1;
            ch->dane_match_depth = r->match_depth;
            ch->dane_match_rr = i;
        }
        /* The first DANE-TA record that names a certificate sent but fails
         * is the telling reason when nothing matches. */
        if (!r->ok && t->usage == 2 && r->match_depth > 0 && !ch->dane_detail[0])
            snprintf(ch->dane_detail, sizeof ch->dane_detail, "TLSA 2 %u %u %s", t->selector,
                     t->mtype, r->why);
        char head[60], what[200];
        dane_rec_head(t, head, sizeof head);
        if (r->ok)
            snprintf(what, sizeof what, "matches certificate %d%s: authenticates the chain",
                     r->match_depth, r->match_depth ? "" : " (the leaf)");
        else
            snprintf(what, sizeof what, "%s", r->why);
        engine_rec_printf(e, MXS_REC_TLS_INFO, MXS_STEP_CHAIN, "TLSA record %d (%s): %s", i, head, what);
    }
    if (ch->dane_match)
        ch->dane_detail[0] = '\0';
    else if (!ch->dane_detail[0])
        snprintf(ch->dane_detail, sizeof ch->dane_detail, ch->dane_usable
                 ? "no TLSA record matches the certificates the server sent"
                 : "no usable TLSA record (only PKIX-TA/PKIX-EE or unknown parameters)");
    engine_rec_printf(e, MXS_REC_TLS_INFO, MXS_STEP_CHAIN, "DANE: %d TLSA record%s, %d usable: %s", m->n_tlsa,
                      m->n_tlsa == 1 ? "" : "s", ch->dane_usable,
                      ch->dane_match ? "a record matches" : ch->dane_detail);
}
