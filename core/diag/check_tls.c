/*
 * check_tls.c - the findings of HANDSHAKE and CHAIN (every problem of every
 * certificate, the expected fingerprint; DANE is check_dane.c's).
 * Owner: diagnosis.
 *
 * As check_net.c: the logic and the evidence here, the constant parts of a
 * finding in its row (catalog.c).  May call: diag.c's helpers, base
 * (names).
 */
#include "diag/diag_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- HANDSHAKE ------------------------------------------------------------- */

static const char *alert_text(int code, const char *given, char *out, size_t n)
{
    static const struct { int c; const char *n; } tab[] = {
        {0, "close_notify"}, {10, "unexpected_message"}, {20, "bad_record_mac"},
        {22, "record_overflow"}, {40, "handshake_failure"},
        {42, "bad_certificate"}, {43, "unsupported_certificate"},
        {44, "certificate_revoked"}, {45, "certificate_expired"},
        {46, "certificate_unknown"}, {47, "illegal_parameter"},
        {48, "unknown_ca"}, {49, "access_denied"}, {50, "decode_error"},
        {51, "decrypt_error"}, {70, "protocol_version"},
        {71, "insufficient_security"}, {80, "internal_error"},
        {86, "inappropriate_fallback"}, {90, "user_canceled"},
        {109, "missing_extension"}, {110, "unsupported_extension"},
        {112, "unrecognized_name"}, {116, "certificate_required"},
        {120, "no_application_protocol"}};
    const char *name = NULL;
    char t[120];
    if (given && given[0])
        name = diag_esc(t, sizeof t, given);
    for (size_t i = 0; !name && i < sizeof tab / sizeof tab[0]; i++)
        if (tab[i].c == code)
            name = tab[i].n;
    snprintf(out, n, "%s(%d)", name ? name : "unknown", code);
    return out;
}

static void tls_evidence(struct diag_ctx *c, struct mxs_finding *f)
{
    const struct mxs_tls_facts *t = c->tls;
    char a[160], e[300];
    if (t->alert_received >= 0)
        APP(f->evidence, "alert received: %s\n",
            alert_text(t->alert_received, t->alert_name, a, sizeof a));
    if (t->alert_sent >= 0)
        APP(f->evidence, "alert sent: %s\n",
            alert_text(t->alert_sent, t->alert_sent_name, a, sizeof a));
    if (t->server_hello_version)
        APP(f->evidence, "ServerHello version: TLS %d.%d\n",
            t->server_hello_version / 10, t->server_hello_version % 10);
    if (t->error[0] || t->mbedtls_error)
        APP(f->evidence, "library error: -0x%04X %s\n",
            (unsigned)(t->mbedtls_error < 0 ? -t->mbedtls_error : t->mbedtls_error),
            diag_esc(e, sizeof e, t->error));
    if (t->cert_requested)
        APP(f->evidence, "the server sent a CertificateRequest; we %s a client "
            "certificate\n", t->client_cert_sent ? "sent" : "did not send");
    APP(f->evidence, "SNI sent: %s", t->sni_sent[0] ? diag_esc(e, sizeof e, t->sni_sent) : "(none)");
    if (c->in->timed_out[MXS_STEP_HANDSHAKE])
        APP(f->evidence, "\nno handshake within the HANDSHAKE deadline (%d ms)",
            c->set->timeout_ms[MXS_STEP_HANDSHAKE]);
    if (c->in->reset[MXS_STEP_HANDSHAKE])
        APP(f->evidence, "\nthe server closed the connection during the handshake");
    if (c->in->step_error[MXS_STEP_HANDSHAKE][0])
        APP(f->evidence, "\nengine: %s", diag_esc(e, sizeof e, c->in->step_error[MXS_STEP_HANDSHAKE]));
}

/* OpenSSL's default limit on the peer's Certificate message (ssl_local.h
 * SSL_MAX_CERT_LIST_DEFAULT, 100 KiB); Postfix does not change it. */
#define OPENSSL_MAX_CERT_LIST 102400

void diag_check_handshake(struct diag_ctx *c)
{
    const struct mxs_tls_facts *t = c->tls;
    const struct diag_input *in = c->in;
    enum mxs_step_state st = in->state[MXS_STEP_HANDSHAKE];
    int failed = (st == MXS_ST_FAIL || in->timed_out[MXS_STEP_HANDSHAKE]) && !t->ok;
    int tmin = c->set->tls_min ? c->set->tls_min : 12;
    int tmax = c->set->tls_max ? c->set->tls_max : 13;
    int shv = t->server_hello_version;
    int specific = 0;
    struct mxs_finding f;
    char a[160];
    if (t->local_error) {
        char e[300];
        diag_start(&f, D_TLS_LOCAL_FILES, -1);
        APP(f.message, "Our own TLS files cannot be used: %s. Nothing was sent to the "
            "server; this says nothing about it.", diag_esc(e, sizeof e, t->error));
        APP(f.evidence, "checked before the handshake: %s", e);
        diag_file(c, &f, D_TLS_LOCAL_FILES, NULL);
        return;
    }
    if (!t->attempted && !failed)
        return;
    /* Refused for its version, then the TLS 1.0/1.1 probes found what it
     * does speak: name it, and what that means for senders. */
    int legacy_ok = t->legacy_probed && (t->version_accepted[0] > 0 || t->version_accepted[1] > 0);
    if (failed && legacy_ok) {
        char acc[40] = "", vw[200] = "";
        for (int i = 0; i < 4; i++) {
            if (!t->version_accepted[i])
                continue;
            if (t->version_accepted[i] > 0)
                APP(acc, "%s1.%d", acc[0] ? " and " : "", i);
            APP(vw, "%sTLS 1.%d %s", vw[0] ? ", " : "", i,
                t->version_accepted[i] > 0 ? "accepted" : "refused");
        }
        diag_start(&f, D_TLS_OBSOLETE_ONLY, -1);
        APP(f.message, "This server speaks only TLS %s: senders that require TLS 1.2 "
            "(Exchange Online, Gmail and most modern MTAs) will not deliver; we offered "
            "TLS %d.%d-%d.%d.", acc, tmin / 10, tmin % 10, tmax / 10, tmax % 10);
        APP(f.evidence, "versions: %s (TLS 1.0/1.1: a hand-built ClientHello on a fresh "
            "connection, answered with a ServerHello or an alert; never completed)\n", vw);
        tls_evidence(c, &f);
        diag_file(c, &f, D_TLS_OBSOLETE_ONLY, NULL);
        specific = 1;
    } else if (shv == 10 || shv == 11) {
        diag_start(&f, D_TLS_OBSOLETE_ONLY, -1);
        if (!failed)
            f.severity = MXS_SEV_WARNING;
        APP(f.message, "The server only speaks TLS 1.%d, which is obsolete: "
            "we offered TLS %d.%d-%d.%d and modern senders refuse it.", shv - 10 + 0,
            tmin / 10, tmin % 10, tmax / 10, tmax % 10);
        tls_evidence(c, &f);
        diag_file(c, &f, D_TLS_OBSOLETE_ONLY, NULL);
        specific = 1;
    } else if (failed && (t->alert_received == 70 || t->alert_sent == 70 ||
                          (shv && (shv < tmin || shv > tmax)))) {
        diag_start(&f, D_TLS_NO_COMMON_VERSION, -1);
        APP(f.message, "We and the server share no TLS version: we offered TLS "
            "%d.%d-%d.%d%s.", tmin / 10, tmin % 10, tmax / 10, tmax % 10,
            shv ? "" : " and the server answered protocol_version");
        if (shv)
            APP(f.message, " The server chose TLS %d.%d.", shv / 10, shv % 10);
        tls_evidence(c, &f);
        diag_file(c, &f, D_TLS_NO_COMMON_VERSION, NULL);
        specific = 1;
    }
    if (!specific && failed && (t->alert_received == 116 || t->cert_requested)) {
        diag_start(&f, D_TLS_CLIENT_CERT, -1);
        APP(f.message, "The server asked for a client certificate and the "
            "handshake failed");
        if (t->alert_received >= 0)
            APP(f.message, " (alert %s)",
                alert_text(t->alert_received, t->alert_name, a, sizeof a));
        APP(f.message, ": it requires mutual TLS.");
        tls_evidence(c, &f);
        diag_file(c, &f, D_TLS_CLIENT_CERT, NULL);
        specific = 1;
    }
    /* OpenSSL servers (Postfix smtpd_tls_req_ccert) finish the TLS 1.3
     * handshake and refuse the next command instead: the request for a
     * client certificate we did not send, then a refused post-TLS EHLO, is
     * the same story told later.  Nobody delivers: not even in clear, since
     * the session itself is refused after TLS. */
    const struct mxs_smtp_facts *sm = c->smtp;
    if (!failed && t->ok && t->cert_requested && !t->client_cert_sent &&
        in->state[MXS_STEP_EHLO2] == MXS_ST_FAIL) {
        diag_start(&f, D_TLS_CLIENT_CERT_AFTER, -1);
        APP(f.message, "The server asked for a client certificate, we sent none, "
            "and after the handshake it refuses the session: it requires mutual TLS.");
        if (sm->ehlo2.code) {
            APP(f.evidence, "EHLO after TLS ->\n");
            diag_reply_lines(&sm->ehlo2, f.evidence, sizeof f.evidence);
            APP(f.evidence, "\n");
        } else if (in->step_error[MXS_STEP_EHLO2][0]) {
            char e2[300];
            APP(f.evidence, "EHLO after TLS: %s\n", diag_esc(e2, sizeof e2, in->step_error[MXS_STEP_EHLO2]));
        }
        tls_evidence(c, &f);
        diag_file(c, &f, D_TLS_CLIENT_CERT_AFTER, NULL);
    }
    /* A certificate mbedTLS cannot parse for an iPAddress SAN of odd
     * length: OpenSSL takes it (RFC 5280 says 4 or 16 bytes, OpenSSL does
     * not enforce it), so it is our limitation, not the partner's. */
    if (!specific && failed && t->refused && t->refused_san) {
        diag_start(&f, D_CERT_SAN_IP_LOCAL, t->refused_cert);
        APP(f.message, "Certificate %d has a subjectAltName entry %d that is an iPAddress of "
            "%d bytes (RFC 5280: 4 or 16). Our TLS library refuses the whole certificate, "
            "so we cannot complete the handshake; OpenSSL senders (Postfix) accept it. Our "
            "limitation, not the server's: the verdicts are not evaluated.",
            t->refused_cert, t->refused_san_entry, t->refused_san_len);
        APP(f.evidence, "certificate %d, subjectAltName entry %d: iPAddress, %d bytes\n",
            t->refused_cert, t->refused_san_entry, t->refused_san_len);
        tls_evidence(c, &f);
        diag_file(c, &f, D_CERT_SAN_IP_LOCAL, NULL);
        specific = 1;
    }
    /* A Certificate message larger than mbedTLS takes: OpenSSL's
     * max_cert_list (102400 bytes by default) decides whose problem it is. */
    if (!specific && failed && t->cert_msg_limit > 0 && t->cert_msg_bytes > t->cert_msg_limit) {
        int ours = t->cert_msg_bytes <= (size_t)OPENSSL_MAX_CERT_LIST;
        diag_start(&f, ours ? D_TLS_CERT_MSG_LOCAL : D_TLS_CERT_MSG_BIG, -1);
        if (ours)
            APP(f.message, "The server's Certificate message is %zu bytes: more than our "
                "TLS library takes (%zu), but within what OpenSSL senders accept "
                "(max_cert_list, %d bytes by default): Postfix completes this handshake. "
                "Our limitation, not the server's: the verdicts are not evaluated.",
                t->cert_msg_bytes, t->cert_msg_limit, OPENSSL_MAX_CERT_LIST);
        else
            APP(f.message, "The server's Certificate message is %zu bytes: more than "
                "OpenSSL senders accept (max_cert_list, %d bytes by default), so Postfix "
                "fails this handshake too (and, where TLS is opportunistic, delivers in "
                "clear); our own library stops at %zu.", t->cert_msg_bytes,
                OPENSSL_MAX_CERT_LIST, t->cert_msg_limit);
        APP(f.evidence, "Certificate message: %zu bytes (its handshake header)\n"
            "our TLS library's limit: %zu bytes (MBEDTLS_SSL_IN_CONTENT_LEN minus the "
            "4-byte header)\nOpenSSL max_cert_list default: %d bytes\n", t->cert_msg_bytes,
            t->cert_msg_limit, OPENSSL_MAX_CERT_LIST);
        tls_evidence(c, &f);
        diag_file(c, &f, ours ? D_TLS_CERT_MSG_LOCAL : D_TLS_CERT_MSG_BIG, NULL);
        specific = 1;
    }
    if (!specific && failed) {
        diag_start(&f, D_TLS_HANDSHAKE_FAILED, -1);
        APP(f.message, "The TLS handshake failed");
        if (t->alert_received >= 0)
            APP(f.message, ": the server sent the alert %s",
                alert_text(t->alert_received, t->alert_name, a, sizeof a));
        else if (in->timed_out[MXS_STEP_HANDSHAKE] && t->bytes_in)
            APP(f.message, ": not complete within the deadline, though the server was answering "
                "(%zu bytes arrived)", t->bytes_in);
        else if (in->timed_out[MXS_STEP_HANDSHAKE])
            APP(f.message, ": no answer within the deadline");
        else if (in->reset[MXS_STEP_HANDSHAKE])
            APP(f.message, ": the server closed the connection");
        APP(f.message, ".");
        tls_evidence(c, &f);
        diag_file(c, &f, D_TLS_HANDSHAKE_FAILED, NULL);
    }
}

/* ---- CHAIN -------------------------------------------------------------------- */

static const char *role(const struct mxs_chain_facts *ch, int i)
{
    if (i == 0)
        return "leaf";
    if (ch->cert[i].self_issued)
        return "root";
    return "intermediate";
}

/* Certificate names (raw, core.h) in evidence: escaped once, their UTF-8
 * kept as the chain lines show it (diag.h), a cut one with its length, an
 * IDN with its U-label. */
#define CNAME (MXS_ESC_CUTMARK | MXS_ESC_IDN)

/* Names one certificate in evidence: which, subject, issuer, thumbprint. */
static void cert_ident(const struct mxs_chain_facts *ch, int i, char *dst, size_t cap)
{
    const struct mxs_cert *x = &ch->cert[i];
    char s[600], is[600];
    diag_app(dst, cap, "certificate %d (%s): subject %s\nissuer %s\nSHA-1 thumbprint %s\n"
        "SHA-256 %s\n", i, role(ch, i),
        (mxs_escape_name(MXS_CERT_NAME(x->subject, x->subject_len), s, sizeof s, CNAME), s),
        (mxs_escape_name(MXS_CERT_NAME(x->issuer, x->issuer_len), is, sizeof is, CNAME), is),
        x->sha1[0] ? x->sha1 : "?",
        x->sha256[0] ? x->sha256 : "?");
}

static void names_covered(const struct mxs_cert *x, char *dst, size_t cap)
{
    char t[300];
    int n = x->n_san < MXS_CERT_MAX_SAN ? x->n_san : MXS_CERT_MAX_SAN;
    diag_app(dst, cap, "names in the certificate: ");
    for (int i = 0; i < n; i++)
        diag_app(dst, cap, "%s%s", i ? ", " : "",
                 (mxs_escape_name(MXS_CERT_NAME(x->san[i], x->san_len[i]), t, sizeof t, CNAME), t));
    if (x->n_san_total > n)
        diag_app(dst, cap, " (+%d more)", x->n_san_total - n);
    if (n == 0)
        diag_app(dst, cap, "(no subjectAltName)");
    diag_app(dst, cap, "; CN %s", x->cn[0] || x->cn_len ?
             (mxs_escape_name(MXS_CERT_NAME(x->cn, x->cn_len), t, sizeof t, CNAME), t) : "(none)");
}

static void diag_cert(struct diag_ctx *c, int i, int verified_run)
{
    const struct mxs_chain_facts *ch = c->chain;
    const struct mxs_cert *x = &ch->cert[i];
    time_t now = c->in->now;
    unsigned fl = x->verify_flags;
    struct mxs_finding f;
    char d[32], d2[32];
    /* Without a reference time, days_left (computed at decode) decides. */
    int expired = (fl & MXS_V_EXPIRED) ||
                  (now > 0 ? (x->not_after > 0 && x->not_after < now)
                           : (x->not_after > 0 && x->days_left < 0));
    int future = (fl & MXS_V_FUTURE) || (now > 0 && x->not_before > now);

    /* Days left: the one number every view shows (base/days.c), plus the
     * exact age in the evidence. */
    /* The number of the chain view, as judged when the chain was read (a
     * loaded session keeps it), so every view says the same. */
    char dl[40];
    mxs_days_text(x->days_left, dl, sizeof dl);
    if (expired) {
        diag_start(&f, i > 0 ? D_CERT_EXPIRED_INTERMEDIATE : D_CERT_EXPIRED, i);
        APP(f.message, "The %s certificate expired on %s (%s).",
            role(ch, i), diag_iso(x->not_after, d), dl);
        cert_ident(ch, i, f.evidence, sizeof f.evidence);
        APP(f.evidence, "not after %s (%s)", diag_iso(x->not_after, d), dl);
        diag_file(c, &f, i > 0 ? D_CERT_EXPIRED_INTERMEDIATE : D_CERT_EXPIRED, NULL);
    }
    if (future) {
        diag_start(&f, D_CERT_NOT_YET_VALID, i);
        APP(f.message, "The %s certificate is not valid before %s.", role(ch, i),
            diag_iso(x->not_before, d));
        cert_ident(ch, i, f.evidence, sizeof f.evidence);
        APP(f.evidence, "not before %s; checked at %s", diag_iso(x->not_before, d),
            now > 0 ? diag_iso(now, d2) : "(now)");
        diag_file(c, &f, D_CERT_NOT_YET_VALID, NULL);
    }
    if (!expired && !future && x->not_after > 0 && x->days_left < c->warn_days) {
        diag_start(&f, D_CERT_EXPIRING_SOON, i);
        APP(f.message, "The %s certificate expires on %s (%s).", role(ch, i),
            diag_iso(x->not_after, d), dl);
        cert_ident(ch, i, f.evidence, sizeof f.evidence);
        APP(f.evidence, "not after %s: %s (warning below %d)",
            diag_iso(x->not_after, d), dl, c->warn_days);
        diag_file(c, &f, D_CERT_EXPIRING_SOON, NULL);
    }
    if (i == 0 && verified_run && (!ch->name_matches_mx || (fl & MXS_V_NAME))) {
        char n[600], dm[300];
        const char *checked = ch->name_checked[0] ? ch->name_checked : c->in->mx_host;
        diag_esc(n, sizeof n, checked);
        diag_start(&f, D_CERT_NAME_MISMATCH, 0);
        APP(f.message, "The certificate does not cover the MX host name %s.", n);
        APP(f.evidence, "checked against %s\n", n);
        names_covered(x, f.evidence, sizeof f.evidence);
        snprintf(dm, sizeof dm, "%s", c->dom);
        if (c->dom[0] && c->in->domain && c->in->domain[0])
            APP(f.evidence, "\nthe mail domain %s %s covered%s", dm,
                ch->name_matches_domain ? "IS" : "is not either",
                ch->name_matches_domain ? " (Postfix `secure` with its default "
                "match nexthop, dot-nexthop would accept it; `verify`, MTA-STS "
                "and Exchange check the MX host)" : "");
        APP(f.evidence, "\n");
        cert_ident(c->chain, 0, f.evidence, sizeof f.evidence);
        diag_file(c, &f, D_CERT_NAME_MISMATCH, &(struct diag_vars){.name = n});
    }
    if ((!strcasecmp(x->key_type, "RSA") && x->key_bits > 0 && x->key_bits < 2048) ||
        (fl & MXS_V_BAD_KEY)) {
        int hard = (fl & MXS_V_BAD_KEY) != 0;
        char kt[40];
        diag_start(&f, D_CERT_WEAK_KEY, i);
        if (!hard)
            f.severity = MXS_SEV_WARNING;
        APP(f.message, "The %s certificate has a weak key: %s %d bits%s.", role(ch, i),
            diag_esc(kt, sizeof kt, x->key_type), x->key_bits,
            hard ? ", which verification rejects" : " (2048 is the minimum)");
        cert_ident(ch, i, f.evidence, sizeof f.evidence);
        APP(f.evidence, "key %s %d bits%s%s", kt, x->key_bits,
            x->curve[0] ? " curve " : "", x->curve[0] ? diag_esc(d2, sizeof d2, x->curve) : "");
        diag_file(c, &f, D_CERT_WEAK_KEY, NULL);
    }
    int top_trusted_root = x->self_issued && i == ch->n - 1 && ch->trusted;
    if ((x->sig_weak && !top_trusted_root) || (fl & MXS_V_BAD_MD)) {
        int hard = (fl & MXS_V_BAD_MD) != 0;
        char sa[120];
        diag_start(&f, D_CERT_WEAK_SIGNATURE, i);
        if (!hard)
            f.severity = MXS_SEV_WARNING;
        APP(f.message, "The %s certificate is signed with a weak hash (%s).",
            role(ch, i), diag_esc(sa, sizeof sa, x->sig_alg));
        cert_ident(ch, i, f.evidence, sizeof f.evidence);
        APP(f.evidence, "signature algorithm %s", sa);
        diag_file(c, &f, D_CERT_WEAK_SIGNATURE, NULL);
    }
    if ((x->has_eku && !(x->eku & MXS_EKU_SERVER)) || (fl & MXS_V_EXT_KEY_USAGE)) {
        diag_start(&f, D_CERT_NOT_SERVER_AUTH, i);
        APP(f.message, "The %s certificate is not allowed for TLS servers "
            "(its extended key usage lacks serverAuth).", role(ch, i));
        cert_ident(ch, i, f.evidence, sizeof f.evidence);
        APP(f.evidence, "extendedKeyUsage:%s%s%s%s",
            (x->eku & MXS_EKU_SERVER) ? " serverAuth" : "",
            (x->eku & MXS_EKU_CLIENT) ? " clientAuth" : "",
            (x->eku & MXS_EKU_OTHER) ? " other" : "", x->eku ? "" : " (none usable)");
        diag_file(c, &f, D_CERT_NOT_SERVER_AUTH, NULL);
    }
    unsigned rest = fl & (MXS_V_REVOKED | MXS_V_KEY_USAGE | MXS_V_BAD_PK | MXS_V_OTHER);
    if (rest) {
        char ft[200];
        mxs_verify_flags_text(rest, ft, sizeof ft);
        diag_start(&f, D_CERT_VERIFY_FAILED, i);
        APP(f.message, "The %s certificate fails verification: %s.", role(ch, i), ft);
        cert_ident(ch, i, f.evidence, sizeof f.evidence);
        APP(f.evidence, "verify flags: %s", ft);
        diag_file(c, &f, D_CERT_VERIFY_FAILED, NULL);
    }
}

/* The path by names over the certificates kept: order[] holds the sent
 * position of each path member (leaf first), dup_of[i] the earlier
 * position certificate i repeats (-1), issuer_absent: the top is not
 * self-issued and no certificate sent has its issuer as subject. */
struct chain_walk {
    int order[MXS_MAX_CHAIN], len, top, issuer_absent;
    int dup_of[MXS_MAX_CHAIN], in_path[MXS_MAX_CHAIN];
    char text[200];              /* "0, 2, 1" */
};

static int same_cert(const struct mxs_cert *a, const struct mxs_cert *b)
{
    if (a->der && b->der)
        return a->der_len == b->der_len && !memcmp(a->der, b->der, a->der_len);
    return !strcmp(a->sha256, b->sha256) && !strcmp(a->sha1, b->sha1);
}

static void chain_walk(const struct mxs_chain_facts *ch, int n, struct chain_walk *w)
{
    memset(w, 0, sizeof *w);
    for (int i = 0; i < n; i++) {
        w->dup_of[i] = -1;
        for (int j = 0; j < i && w->dup_of[i] < 0; j++)
            if (same_cert(&ch->cert[i], &ch->cert[j]))
                w->dup_of[i] = j;
    }
    int cur = 0;
    for (;;) {
        w->order[w->len++] = cur;
        w->in_path[cur] = 1;
        w->top = cur;
        APP(w->text, "%s%d", w->len > 1 ? ", " : "", cur);
        const struct mxs_cert *x = &ch->cert[cur];
        if (x->self_issued)
            break;
        int next = -1;
        for (int j = 0; j < n && next < 0; j++)
            if (!w->in_path[j] && w->dup_of[j] < 0 && !strcmp(ch->cert[j].subject, x->issuer))
                next = j;
        if (next < 0) {
            w->issuer_absent = 1;
            break;
        }
        cur = next;
    }
}

/* Out of order or repeated: OpenSSL (and so Postfix) build the path from
 * any position and skip repeats; RFC 5246 asks for the order, and a strict
 * TLS stack may refuse. */
static void chain_order(struct diag_ctx *c, const struct chain_walk *w)
{
    const struct mxs_chain_facts *ch = c->chain;
    int n = ch->n < MXS_MAX_CHAIN ? ch->n : MXS_MAX_CHAIN;
    char what[600] = "", ev[1500] = "", s1[600];
    int at = -1;  /* filed at the first position that holds the wrong one */
    int want[MXS_MAX_CHAIN], nw = 0;  /* positions in order, repeats left out */
    for (int i = 0; i < n; i++)
        if (w->dup_of[i] < 0)
            want[nw++] = i;
    for (int k = 1; k < w->len && k < nw; k++)
        if (w->order[k] != want[k]) {
            APP(what, "%scertificate %d (%s) is the issuer of certificate %d but is sent at "
                "position %d, not %d", what[0] ? "; " : "", w->order[k],
                DIAG_CERT_NAME(s1, ch->cert[w->order[k]].subject, ch->cert[w->order[k]].subject_len), w->order[k - 1],
                w->order[k], want[k]);
            at = want[k];
            break;
        }
    for (int i = 0; i < n; i++)
        if (w->dup_of[i] >= 0) {
            APP(what, "%scertificate %d repeats certificate %d", what[0] ? "; " : "", i,
                w->dup_of[i]);
            if (at < 0)
                at = i;
        }
    if (!what[0])
        return;
    struct mxs_finding f;
    diag_start(&f, D_CHAIN_ORDER, at);
    APP(f.message, "The chain is sent out of order or with repeats: %s. OpenSSL and Postfix build the "
        "path from any position and skip repeats, so they still verify it; strict TLS "
        "stacks (RFC 5246 order) may not.", what);
    APP(ev, "path built (positions as sent, leaf first): %s\n", w->text);
    for (int i = 0; i < n; i++)
        APP(ev, "%scertificate %d: %s%s%s", i ? "\n" : "", i, DIAG_CERT_NAME(s1, ch->cert[i].subject, ch->cert[i].subject_len),
            w->dup_of[i] >= 0 ? " (repeat)" : "", !w->in_path[i] && w->dup_of[i] < 0
            ? " (not in the path)" : "");
    APP(f.evidence, "%s", ev);
    diag_file(c, &f, D_CHAIN_ORDER, NULL);
}

/* Postfix verifies at most smtp_tls_scert_verifydepth (default 9) levels
 * below the leaf; OpenSSL's own default is 100. */
#define POSTFIX_VERIFY_DEPTH 9
static void chain_depth(struct diag_ctx *c, const struct chain_walk *w)
{
    const struct mxs_chain_facts *ch = c->chain;
    int len = ch->path_len > 0 ? ch->path_len : w->len;
    if (len - 1 <= POSTFIX_VERIFY_DEPTH)
        return;
    struct mxs_finding f;
    diag_start(&f, D_CHAIN_TOO_LONG, -1);
    APP(f.message, "The certification path is %d certificates long (the trust anchor at "
        "depth %d): deeper than Postfix verifies by default (smtp_tls_scert_verifydepth = "
        "%d), so Postfix senders that verify (secure, verify, dane) log \"certificate "
        "chain longer than limit(%d)\" and do not deliver; OpenSSL's own default (100) and "
        "opportunistic senders accept it.", len, len - 1, POSTFIX_VERIFY_DEPTH,
        POSTFIX_VERIFY_DEPTH + 1);
    APP(f.evidence, "certificates sent: %d\npath length (leaf to trust anchor): %d%s\n"
        "Postfix default smtp_tls_scert_verifydepth: %d", ch->n_total > ch->n ? ch->n_total
        : ch->n, len, ch->path_len > 0 ? "" : " (by names, over the certificates kept)",
        POSTFIX_VERIFY_DEPTH);
    diag_file(c, &f, D_CHAIN_TOO_LONG, NULL);
}

void diag_check_chain(struct diag_ctx *c)
{
    const struct mxs_chain_facts *ch = c->chain;
    const struct diag_input *in = c->in;
    int verified_run = diag_is_final(in->state[MXS_STEP_CHAIN]);
    int n = ch->n < MXS_MAX_CHAIN ? ch->n : MXS_MAX_CHAIN;
    struct mxs_finding f;
    if (n <= 0) {
        if (verified_run && c->tls->ok) {
            diag_start(&f, D_CHAIN_EMPTY, -1);
            APP(f.message, "The server sent no certificate.");
            APP(f.evidence, "0 certificates after a completed handshake");
            diag_file(c, &f, D_CHAIN_EMPTY, NULL);
        }
        return;
    }
    for (int i = 0; i < n; i++)
        diag_cert(c, i, verified_run);
    /* The path as senders build it (OpenSSL, so Postfix): from the leaf,
     * each issuer found among the certificates sent in any position,
     * duplicates skipped.  By name here (the engine verified the links). */
    struct chain_walk w;
    chain_walk(ch, n, &w);
    if (verified_run && !ch->trusted) {
        const struct mxs_cert *top = &ch->cert[w.top];
        char is[600];
        if (w.top == 0 && top->self_issued) {
            diag_start(&f, D_CERT_SELF_SIGNED, 0);
            APP(f.message, "The certificate is self-signed: no sender can "
                "verify it.");
            cert_ident(ch, 0, f.evidence, sizeof f.evidence);
            APP(f.evidence, "subject == issuer, not in the trust store");
            diag_file(c, &f, D_CERT_SELF_SIGNED, NULL);
        } else if (top->self_issued) {
            diag_start(&f, D_CERT_UNTRUSTED_ROOT, w.top);
            APP(f.message, "The chain ends at a root CA that we do not trust "
                "(%s).", DIAG_CERT_NAME(is, top->subject, top->subject_len));
            cert_ident(ch, w.top, f.evidence, sizeof f.evidence);
            APP(f.evidence, "self-issued%s, not in the trust store",
                top->is_ca ? " CA" : "");
            diag_file(c, &f, D_CERT_UNTRUSTED_ROOT, NULL);
        } else if (w.issuer_absent && ch->n_total <= n) {
            /* Only when the issuer really is not among those sent (a name
             * match that failed to verify shows in that certificate's
             * flags instead). */
            diag_start(&f, D_CHAIN_INCOMPLETE, w.top);
            APP(f.message, "The chain is incomplete: certificate %d was issued "
                "by %s, which the server does not send (in any position) and "
                "we do not trust (a missing intermediate, or a private CA).",
                w.top, DIAG_CERT_NAME(is, top->issuer, top->issuer_len));
            APP(f.evidence, "%d certificate%s sent; none has that subject; "
                "path built: %s; its top:\n", n, n == 1 ? "" : "s", w.text);
            cert_ident(ch, w.top, f.evidence, sizeof f.evidence);
            diag_file(c, &f, D_CHAIN_INCOMPLETE, NULL);
        }
    }
    chain_order(c, &w);
    chain_depth(c, &w);
    if (verified_run && ch->fp_expected && !ch->fp_match) {
        char exp[200], na[32], is_buf[600];
        const struct mxs_cert *leaf = &ch->cert[0];
        diag_esc(exp, sizeof exp, c->set->expect_fp);
        /* A SHA-1 thumbprint is what Exchange calls the certificate by. */
        enum diag_row row = strlen(exp) == 40 ? D_FINGERPRINT_MISMATCH_SHA1
                                              : D_FINGERPRINT_MISMATCH;
        diag_start(&f, row, 0);
        APP(f.message, "The server presents a different certificate than "
            "expected: thumbprint %s expected, %s served.", exp,
            strlen(exp) > 40 ? leaf->sha256 : leaf->sha1);
        APP(f.evidence, "expected: %s\nserved SHA-1 thumbprint: %s\nserved "
            "SHA-256: %s\nserved not after %s\n", exp, leaf->sha1, leaf->sha256,
            diag_iso(leaf->not_after, na));
        APP(f.evidence, "served subject %s", DIAG_CERT_NAME(is_buf, leaf->subject, leaf->subject_len));
        diag_file(c, &f, row, &(struct diag_vars){.expected = exp});
    }
    /* Dual certificates: the RSA-only handshake showed another leaf.  Some
     * senders get one, some the other: any difference that matters is an
     * error, and it stops verifying senders (those that get the bad one). */
    if (verified_run && ch->alt_present) {
        const struct mxs_cert *a = &ch->alt_leaf, *m = &ch->cert[0];
        char why[400] = "", s1[600], s2[600], fa[200], fm[200];
        int bad_alt = a->verify_flags != 0, bad_main = m->verify_flags != 0;
        if (bad_alt != bad_main || (bad_alt && a->verify_flags != m->verify_flags)) {
            mxs_verify_flags_text(a->verify_flags, fa, sizeof fa);
            mxs_verify_flags_text(m->verify_flags, fm, sizeof fm);
            APP(why, "validity differs (%s: %s; %s: %s)", m->key_type, fm, a->key_type, fa);
        }
        if (ch->alt_name_matches != ch->name_matches_mx)
            APP(why, "%snames differ", why[0] ? "; " : "");
        if (strcmp(a->issuer, m->issuer))
            APP(why, "%sissuers differ", why[0] ? "; " : "");
        if (ch->fp_expected && ch->alt_fp_match != ch->fp_match)
            APP(why, "%sonly one is the expected certificate", why[0] ? "; " : "");
        if (why[0]) {
            char na[32], nb[32];
            diag_start(&f, bad_alt || bad_main ? D_CERT_DUAL_DIFFERS : D_CERT_DUAL_DIFFERS_W, 0);
            APP(f.message, "The server has two certificates, %s and %s, and they differ: "
                "%s. Senders that prefer %s get the %s one.", m->key_type, a->key_type, why,
                bad_alt ? a->key_type : m->key_type, bad_alt || bad_main ? "failing" : "other");
            char dm[40], da[40];
            mxs_verify_flags_text(m->verify_flags, fm, sizeof fm);
            mxs_verify_flags_text(a->verify_flags, fa, sizeof fa);
            mxs_days_text(m->days_left, dm, sizeof dm);
            mxs_days_text(a->days_left, da, sizeof da);
            APP(f.evidence, "%s (ours, ECDSA offered first): SHA-1 %s, not after %s, %s, "
                "issuer %s, flags %s\n", m->key_type, m->sha1, diag_iso(m->not_after, na),
                dm, DIAG_CERT_NAME(s1, m->issuer, m->issuer_len), fm);
            APP(f.evidence, "%s (RSA-only handshake): SHA-1 %s, not after %s, %s, "
                "issuer %s, flags %s", a->key_type, a->sha1, diag_iso(a->not_after, nb),
                da, DIAG_CERT_NAME(s2, a->issuer, a->issuer_len), fa);
            diag_file(c, &f, bad_alt || bad_main ? D_CERT_DUAL_DIFFERS : D_CERT_DUAL_DIFFERS_W, NULL);
        }
    }
    /* DANE: check_dane.c (only DNSSEC-secure TLSA records bind a sender). */
    diag_check_dane(c);
}

