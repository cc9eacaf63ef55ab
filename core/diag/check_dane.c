/*
 * check_dane.c - the DANE findings (RFC 7672, RFC 7671): a chain no TLSA
 * record matches, and the lifecycle of the records over time (RFC 7671
 * 8.1): the only key record before a renewal, a record of the whole
 * certificate, a DANE-TA record naming a CA that did not issue the chain,
 * and `--days N` (do the records still hold then?); a dual RSA + ECDSA
 * server whose second certificate no record matches.  At RESOLVE: an MX
 * target that is not a plain host name (an underscore).
 * Owner: diagnosis.
 *
 * As check_tls.c: the logic and the evidence here, the constant parts of a
 * finding in its row (catalog.c).  Each TLSA record's match is a fact the
 * engine found (mxs_chain_facts.dane_rr[], engine_dane.c); here it is
 * judged.  Only DNSSEC-secure records (of an MX found securely) bind a
 * sender, so only they are judged.  May call: diag.c's helpers, base.
 */
#include "diag/diag_int.h"

#include <stdio.h>
#include <string.h>

/* The record as it is published: "3 1 1 ABCD..." (its first 32 bytes). */
static const char *tlsa_text(const struct mxs_tlsa *t, char *out, size_t n)
{
    size_t tl = t->len < sizeof t->data ? t->len : sizeof t->data;
    int o = snprintf(out, n, "%u %u %u ", t->usage, t->selector, t->mtype);
    for (size_t k = 0; k < tl && k < 32 && o > 0 && (size_t)o + 3 < n; k++)
        o += snprintf(out + o, n - (size_t)o, "%02X", t->data[k]);
    if ((tl > 32 || t->truncated) && o > 0 && (size_t)o + 4 < n)
        snprintf(out + o, n - (size_t)o, "...");
    return out;
}

/* The MX probed, when its TLSA records bind DANE senders and the chain was
 * judged; NULL otherwise. */
static const struct mxs_mx *dane_mx(const struct diag_ctx *c)
{
    const struct mxs_chain_facts *ch = c->chain;
    if (!diag_is_final(c->in->state[MXS_STEP_CHAIN]) || c->mx_i < 0 || !ch->dane_checked ||
        ch->n <= 0)
        return NULL;
    const struct mxs_mx *m = &c->dns->mx[c->mx_i];
    int mx_secure = c->set->target_is_host || c->dns->mx_answer.dnssec == MXS_DNSSEC_SECURE;
    if (m->tlsa.dnssec != MXS_DNSSEC_SECURE || !mx_secure || m->n_tlsa <= 0)
        return NULL;
    return m;
}

/* One line per record: the record and what it matched. */
/* What one record matched in one chain, in words. */
static void rr_words(const struct mxs_dane_rr *r, char *dst, size_t cap)
{
    char w[200];
    if (r->ok)
        diag_app(dst, cap, "matches certificate %d, authenticates", r->match_depth);
    else
        diag_app(dst, cap, "%s", diag_esc(w, sizeof w, r->why));
}

static void records_evidence(const struct diag_ctx *c, const struct mxs_mx *m, char *dst, size_t cap)
{
    const struct mxs_chain_facts *ch = c->chain;
    char t[120];
    for (int i = 0; i < m->n_tlsa && i < MXS_MAX_TLSA; i++) {
        diag_app(dst, cap, "TLSA %s", tlsa_text(&m->tlsa_rr[i], t, sizeof t));
        if (i < ch->n_dane_rr) {
            diag_app(dst, cap, ": ");
            rr_words(&ch->dane_rr[i], dst, cap);
        }
        diag_app(dst, cap, "\n");
    }
}

/* A key type as senders name the certificate: "ECDSA", "RSA". */
static const char *key_word(const struct mxs_cert *x)
{
    return !strcmp(x->key_type, "EC") ? "ECDSA" : x->key_type[0] ? x->key_type : "other";
}

/* Dual certificates: one line per record with what it matched in each
 * chain, ours (our handshake, ECDSA offered first) and the second one
 * (the RSA-only handshake), then both leaves. */
static void dual_evidence(const struct diag_ctx *c, const struct mxs_mx *m, char *dst, size_t cap)
{
    const struct mxs_chain_facts *ch = c->chain;
    const struct mxs_cert *o = &ch->cert[0], *a = &ch->alt_leaf;
    char t[120];
    for (int i = 0; i < m->n_tlsa && i < MXS_MAX_TLSA; i++) {
        diag_app(dst, cap, "TLSA %s: ", tlsa_text(&m->tlsa_rr[i], t, sizeof t));
        for (int k = 0; k < 2; k++) {
            const struct mxs_dane_rr *r = k == 0 ? (i < ch->n_dane_rr ? &ch->dane_rr[i] : NULL)
                                                 : (i < ch->n_alt_dane_rr ? &ch->alt_dane_rr[i] : NULL);
            diag_app(dst, cap, "%s%s chain ", k ? "; " : "", key_word(k ? a : o));
            if (r)
                rr_words(r, dst, cap);
            else
                diag_app(dst, cap, "not judged");
        }
        diag_app(dst, cap, "\n");
    }
    diag_app(dst, cap, "%s leaf (our handshake, ECDSA offered first): SHA-256 %s, key (3 1 1) %s\n"
             "%s leaf (RSA-only handshake): SHA-256 %s, key (3 1 1) %s", key_word(o), o->sha256,
             o->spki_sha256, key_word(a), a->sha256, a->spki_sha256);
}

/* The second chain was matched against records that bind DANE senders. */
static int alt_judged(const struct diag_ctx *c)
{
    const struct mxs_chain_facts *ch = c->chain;
    return ch->alt_present && ch->alt_dane_checked && ch->dane_usable;
}

static void dane_mismatch(struct diag_ctx *c, const struct mxs_mx *m)
{
    const struct mxs_chain_facts *ch = c->chain;
    struct mxs_finding f;
    char h[300], hx[300];
    if (!ch->dane_usable || ch->dane_match)
        return;
    diag_esc(h, sizeof h, m->host);
    diag_start(&f, D_DANE_MISMATCH, -1);
    APP(f.message, "No TLSA record of %s matches the certificates the server "
        "sent: DANE senders will not deliver.", h);
    /* A dual server whose records name only its other certificate: the
     * verdict stays ours (a sender offering ECDSA first), but who still
     * delivers is worth saying. */
    if (alt_judged(c) && ch->alt_dane_match)
        APP(f.message, " Its second certificate (%s, which senders that offer only %s get) "
            "matches TLSA record %d: DANE senders that negotiate it deliver; those that "
            "negotiate the %s one, as we did (OpenSSL-based senders such as Postfix offer "
            "ECDSA first), defer.",
            key_word(&ch->alt_leaf), key_word(&ch->alt_leaf), ch->alt_dane_match_rr,
            key_word(&ch->cert[0]));
    APP(f.evidence, "%s\n", diag_esc(hx, sizeof hx, ch->dane_detail));
    if (alt_judged(c)) {
        dual_evidence(c, m, f.evidence, sizeof f.evidence);
    } else {
        records_evidence(c, m, f.evidence, sizeof f.evidence);
        APP(f.evidence, "served leaf: SHA-256 of the key (TLSA 3 1 1) %s, "
            "SHA-256 of the certificate (3 0 1) %s", ch->cert[0].spki_sha256, ch->cert[0].sha256);
    }
    diag_file(c, &f, D_DANE_MISMATCH, &(struct diag_vars){.spki = ch->cert[0].spki_sha256});
}

/* Dual certificates (RSA + ECDSA), our handshake DANE-authenticated, the
 * RSA-only handshake's chain matched by no record: senders that get it
 * defer.  Our verdict stands; this names the others. */
static void dane_second_cert(struct diag_ctx *c, const struct mxs_mx *m)
{
    const struct mxs_chain_facts *ch = c->chain;
    if (!alt_judged(c) || !ch->dane_match || ch->alt_dane_match || ch->dane_match_rr < 0 ||
        ch->dane_match_rr >= m->n_tlsa || ch->dane_match_rr >= MXS_MAX_TLSA)
        return;
    const struct mxs_cert *o = &ch->cert[0], *a = &ch->alt_leaf;
    char h[300], t[120];
    struct mxs_finding f;
    diag_esc(h, sizeof h, m->host);
    diag_start(&f, D_DANE_SECOND_CERT, 0);
    APP(f.message, "The %s certificate that %s gives senders that offer only %s signatures "
        "matches no TLSA record: DANE senders that negotiate it (those whose TLS offers no "
        "ECDSA) will defer mail. The %s certificate our handshake got is authenticated by "
        "TLSA %s, so senders offering ECDSA deliver (the DANE verdict).", key_word(a), h,
        key_word(a), key_word(o), tlsa_text(&m->tlsa_rr[ch->dane_match_rr], t, sizeof t));
    APP(f.evidence, "TLSA records at %s:\n", diag_esc(h, sizeof h, m->tlsa_name[0] ? m->tlsa_name : m->host));
    dual_evidence(c, m, f.evidence, sizeof f.evidence);
    diag_file(c, &f, D_DANE_SECOND_CERT, &(struct diag_vars){.spki = a->spki_sha256});
}

static int64_t ref_time(const struct diag_ctx *c)
{
    return c->in->now > 0 ? (int64_t)c->in->now : c->chain->checked_at;
}

/* Days from now to t, rounded down (negative once past). */
static int days_until(const struct diag_ctx *c, int64_t t)
{
    int64_t d = t - ref_time(c);
    return (int)(d >= 0 ? d / 86400 : -((-d + 86399) / 86400));
}

/* Only one DANE-EE key record authenticates, nothing else would after a
 * key change, and the leaf is due for renewal: the next key's record must
 * be published before the switch (RFC 7671 8.1). */
static void dane_next_key(struct diag_ctx *c, const struct mxs_mx *m)
{
    const struct mxs_chain_facts *ch = c->chain;
    int spki_ee = 0, which = -1, ta_ok = 0;
    for (int i = 0; i < ch->n_dane_rr; i++) {
        const struct mxs_tlsa *t = &m->tlsa_rr[i];
        if (!ch->dane_rr[i].usable)
            continue;
        if (t->usage == 3 && t->selector == 1) {
            spki_ee++;
            which = i;
        }
        if (t->usage == 2 && ch->dane_rr[i].ok)
            ta_ok = 1;
    }
    if (spki_ee != 1 || !ch->dane_rr[which].ok || ta_ok)
        return;
    const struct mxs_cert *leaf = &ch->cert[0];
    int left = days_until(c, leaf->not_after);
    if (leaf->not_after <= 0 || left >= c->warn_days)
        return;
    char t[120], na[32], h[300];
    struct mxs_finding f;
    diag_esc(h, sizeof h, m->host);
    tlsa_text(&m->tlsa_rr[which], t, sizeof t);
    diag_iso(leaf->not_after, na);
    diag_start(&f, D_DANE_NEXT_KEY, 0);
    APP(f.message, "The only TLSA record that authenticates %s is %s, and its certificate "
        "expires in %d day%s (%s): a renewal with a new key breaks DANE unless a second "
        "3 1 1 record for the next key is published first (keep the current one).", h, t,
        left, left == 1 ? "" : "s", na);
    APP(f.evidence, "TLSA records at %s:\n", diag_esc(h, sizeof h, m->tlsa_name[0] ? m->tlsa_name : m->host));
    records_evidence(c, m, f.evidence, sizeof f.evidence);
    APP(f.evidence, "leaf not after %s (%d days left; warning window %d days, --expiry-warn)\n"
        "keep: 3 1 1 %s\nadd before the switch: 3 1 1 <SHA-256 of the next key's "
        "SubjectPublicKeyInfo>", na, left, c->warn_days, leaf->spki_sha256);
    diag_file(c, &f, D_DANE_NEXT_KEY, &(struct diag_vars){.spki = leaf->spki_sha256});
}

/* DANE-EE records of the whole certificate (3 0 x): a renewal changes the
 * certificate even when the key stays. */
static void dane_full_cert(struct diag_ctx *c, const struct mxs_mx *m)
{
    const struct mxs_chain_facts *ch = c->chain;
    char list[400] = "", t[120];
    int n = 0;
    for (int i = 0; i < ch->n_dane_rr; i++)
        if (ch->dane_rr[i].usable && m->tlsa_rr[i].usage == 3 && m->tlsa_rr[i].selector == 0) {
            APP(list, "%s%s", n ? ", " : "", tlsa_text(&m->tlsa_rr[i], t, sizeof t));
            n++;
        }
    if (!n)
        return;
    struct mxs_finding f;
    diag_start(&f, D_DANE_FULL_CERT, 0);
    APP(f.message, "%s TLSA record%s names the whole certificate (%s): every renewal "
        "makes a new certificate, even with the same key, so DANE senders stop "
        "delivering at each renewal unless the record is replaced first.",
        n == 1 ? "A" : "Some", n == 1 ? "" : "s", list);
    records_evidence(c, m, f.evidence, sizeof f.evidence);
    APP(f.evidence, "served leaf: SHA-256 of the key (3 1 1) %s", ch->cert[0].spki_sha256);
    diag_file(c, &f, D_DANE_FULL_CERT, &(struct diag_vars){.spki = ch->cert[0].spki_sha256});
}

/* A DANE-TA record that no certificate sent matches: a CA that did not
 * issue this chain (a record left from a CA change), or a CA certificate
 * the server does not send (RFC 7671 5.2.2 asks it to). */
static void dane_ta_foreign(struct diag_ctx *c, const struct mxs_mx *m)
{
    const struct mxs_chain_facts *ch = c->chain;
    for (int i = 0; i < ch->n_dane_rr; i++) {
        const struct mxs_tlsa *t = &m->tlsa_rr[i];
        if (!ch->dane_rr[i].usable || t->usage != 2 || ch->dane_rr[i].match_depth >= 0)
            continue;
        char tt[120], s[300];
        struct mxs_finding f;
        diag_start(&f, D_DANE_TA_NOT_ISSUER, -1);
        APP(f.message, "TLSA record %s names a CA that did not issue this chain: no "
            "certificate the server sent matches it. %s", tlsa_text(t, tt, sizeof tt),
            ch->dane_match ? "Another record authenticates the chain, so it is a stale "
            "record (a CA change?)." : "No other record authenticates the chain either.");
        records_evidence(c, m, f.evidence, sizeof f.evidence);
        int n = ch->n < MXS_MAX_CHAIN ? ch->n : MXS_MAX_CHAIN;
        for (int d = 0; d < n; d++)
            APP(f.evidence, "certificate %d issued by %s\n", d,
                DIAG_CERT_NAME(s, ch->cert[d].issuer, ch->cert[d].issuer_len));
        diag_file(c, &f, D_DANE_TA_NOT_ISSUER, NULL);
        return;                          /* one finding: the evidence lists them all */
    }
}

/* --days N: each record's fate at now + N days.  0 holds, 1 holds only if
 * the renewal keeps a key, 2 fails; why in words. */
static int record_later(const struct diag_ctx *c, const struct mxs_tlsa *t,
                        const struct mxs_dane_rr *r, int64_t at, char *why, size_t n)
{
    const struct mxs_chain_facts *ch = c->chain;
    char na[32];
    if (!r->ok) {
        snprintf(why, n, "fails already today (%s)", r->why);
        return 2;
    }
    const struct mxs_cert *leaf = &ch->cert[0];
    diag_iso(leaf->not_after, na);
    if (t->usage == 3) {
        if (leaf->not_after >= at) {
            snprintf(why, n, "holds: the certificate is valid until %s", na);
            return 0;
        }
        if (t->selector == 0) {
            snprintf(why, n, "fails: the certificate expires %s, and its renewal is another "
                     "certificate, which a 3 0 x record never matches", na);
            return 2;
        }
        snprintf(why, n, "holds only if the renewal keeps the key: the certificate expires %s "
                 "(a new key needs its 3 1 1 record published first)", na);
        return 1;
    }
    /* DANE-TA: the dates of the chain up to the anchor count. */
    int d = r->match_depth < MXS_MAX_CHAIN ? r->match_depth : MXS_MAX_CHAIN - 1;
    for (int k = 1; k <= d && k < ch->n; k++)
        if (ch->cert[k].not_after > 0 && ch->cert[k].not_after < at) {
            diag_iso(ch->cert[k].not_after, na);
            snprintf(why, n, "%s: certificate %d (a CA) expires %s%s", t->selector ? "holds only if the "
                     "CA renews with the same key" : "fails", k, na,
                     k == d ? ", and it is the trust anchor this record names" : "");
            return t->selector ? 1 : 2;
        }
    if (leaf->not_after < at)
        snprintf(why, n, "holds if the renewed leaf (this one expires %s) comes from the same CA", na);
    else
        snprintf(why, n, "holds: every certificate up to the anchor is valid until then");
    return 0;
}

static void dane_days(struct diag_ctx *c, const struct mxs_mx *m)
{
    const struct mxs_chain_facts *ch = c->chain;
    int days = c->set->dane_days;
    if (days <= 0)
        return;
    int64_t at = ref_time(c) + (int64_t)days * 86400;
    int hold = 0, risk = 0, fail = 0;
    char ev[1024] = "", at_s[32], t[120], why[300], w2[300];
    diag_iso(at, at_s);
    for (int i = 0; i < ch->n_dane_rr; i++) {
        if (!ch->dane_rr[i].usable)
            continue;
        int r = record_later(c, &m->tlsa_rr[i], &ch->dane_rr[i], at, why, sizeof why);
        hold += r == 0;
        risk += r == 1;
        fail += r == 2;
        APP(ev, "TLSA %s: %s\n", tlsa_text(&m->tlsa_rr[i], t, sizeof t), diag_esc(w2, sizeof w2, why));
    }
    if (!hold && !risk && !fail)
        return;                          /* no usable record: dane-mismatch says it */
    struct mxs_finding f;
    char h[300];
    diag_esc(h, sizeof h, m->host);
    diag_start(&f, D_DANE_DAYS, -1);
    if (hold) {
        f.severity = MXS_SEV_INFO;
        APP(f.message, "In %d day%s (%s) the TLSA records of %s are still satisfied: %d "
            "record%s hold%s", days, days == 1 ? "" : "s", at_s, h, hold, hold == 1 ? "" : "s",
            hold == 1 ? "s" : "");
        if (risk + fail)
            APP(f.message, "; %d would fail or hold only if a key is kept", risk + fail);
        APP(f.message, ".");
    } else {
        APP(f.message, "In %d day%s (%s) no TLSA record of %s is sure to hold: DANE senders "
            "stop delivering then unless %s.", days, days == 1 ? "" : "s", at_s, h,
            risk ? "the renewal keeps the key, or the next key's record is published first"
                 : "the records are updated before the renewal");
    }
    APP(f.evidence, "reference time %s + %d days = %s\n%s", diag_iso(ref_time(c), t), days, at_s, ev);
    diag_file(c, &f, D_DANE_DAYS, &(struct diag_vars){.spki = ch->cert[0].spki_sha256});
}

void diag_check_dane(struct diag_ctx *c)
{
    const struct mxs_mx *m = dane_mx(c);
    if (!m)
        return;
    dane_mismatch(c, m);
    dane_second_cert(c, m);
    dane_next_key(c, m);
    dane_full_cert(c, m);
    dane_ta_foreign(c, m);
    dane_days(c, m);
}

/* ---- RESOLVE: MX targets that are not plain host names ------------------- */

/* An underscore passes our host-name judge (Postfix's valid_hostname takes
 * it), but it is no LDH host name (RFC 952/1123): stricter senders refuse
 * it and no public CA may issue a certificate for it. */
void diag_check_mx_names(struct diag_ctx *c)
{
    const struct mxs_dns_facts *d = c->dns;
    if (c->set->target_is_host)
        return;
    for (int i = 0; i < d->n_mx && i < MXS_MAX_MX; i++) {
        const struct mxs_mx *m = &d->mx[i];
        if (m->literal || !strchr(m->host, '_'))
            continue;
        char h[300];
        struct mxs_finding f;
        diag_esc(h, sizeof h, m->host);
        diag_start(&f, D_MX_TARGET_UNDERSCORE, -1);
        APP(f.message, "The MX target %s contains an underscore: not a host name (RFC "
            "952/1123 allow letters, digits and hyphens). Postfix accepts it; stricter MTAs "
            "may not, and no public CA issues a certificate for it, so only DANE-EE or a "
            "private CA can authenticate it.", h);
        APP(f.evidence, "MX %u %s", m->preference, h);
        diag_file(c, &f, D_MX_TARGET_UNDERSCORE, &(struct diag_vars){.name = h});
    }
}
