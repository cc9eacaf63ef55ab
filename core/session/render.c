/*
 * render.c - the human-readable renderings of a session: the batch report,
 * one transcript record as a line (and the table of its marks, which the
 * text loader reads back), the certificate detail, the PEM chain, the
 * email-ready problem report, their saves, and the exit code.  Part of the
 * session module (core/session); the JSON document and the text transcript
 * with their loaders are session_json.c and session_text.c.
 *
 * Every string that came from the network or a certificate goes through
 * mxs_escape() here, before it reaches any buffer a front end prints, or any
 * file.  The engine is read through core.h and probe/engine_replay.h only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/esc.h"
#include "base/savefile.h"
#include "diag/diag.h"
#include "probe/engine_replay.h"
#include "probe/tlsrec.h"
#include "probe/x509view.h"
#include "session/render.h"
#include "session/session_int.h"

void session_iso_time(time_t t, char *out, size_t len)
{
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(out, len, "?");
        return;
    }
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The MTA-STS verdict refuses at POLICY (enforce, the MX not covered). */
static int render_sts_refused(const struct engine *e)
{
    const struct mxs_verdict *v = &engine_verdicts(e)[MXS_POL_MTASTS];
    return v->outcome == MXS_OUT_NOT_DELIVERED && v->step == MXS_STEP_POLICY;
}

int render_exit_code(const struct engine *e)
{
    enum mxs_step s = engine_failed_step(e);
    /* Every SMTP step passed, but the domain's own MTA-STS policy (enforce)
     * does not cover this MX: Gmail and Exchange Online refuse to deliver.
     * That is where delivery breaks for them: exit 10 + POLICY, not the
     * warning code (the step itself ran, so its state stays warn). */
    if (s == MXS_STEP_NONE && render_sts_refused(e))
        return 10 + (int)MXS_STEP_POLICY;
    if (s == MXS_STEP_NONE) {
        /* Every step passed: warnings (expiring-soon, chain-order, bytes
         * after STARTTLS ...) get their own code, so cron and monitoring see
         * them; --warn-ok gives 0 back. */
        int n;
        const struct mxs_finding *f = engine_findings(e, &n);
        for (int i = 0; i < n && !engine_settings(e)->warn_ok; i++)
            if (f[i].severity == MXS_SEV_WARNING ||
                /* POLICY never fails a step (other senders deliver): its
                 * errors (a broken MTA-STS policy) count as warnings here */
                (f[i].severity == MXS_SEV_ERROR && f[i].step == MXS_STEP_POLICY))
                return 4;
        return 0;
    }
    if (engine_step_state(e, s) == MXS_ST_CANCELLED)
        return 3;
    return 10 + (int)s;
}

/* ---- one record as a line ---------------------------------------------- */

/* The one table of marks: the text transcript writes them, the text loader
 * (session_text.c) reads them back. */
static const char rec_marks[MXS_REC_KIND_COUNT][3] = {
    [MXS_REC_STEP] = "==", [MXS_REC_DNS] = "D:", [MXS_REC_SMTP_IN] = "S:",
    [MXS_REC_SMTP_OUT] = "C:", [MXS_REC_TLS_IN] = "T<", [MXS_REC_TLS_OUT] = "T>",
    [MXS_REC_TLS_INFO] = "T:", [MXS_REC_CERT] = "X:", [MXS_REC_FINDING] = "**",
    [MXS_REC_NOTE] = "# ", [MXS_REC_ERROR] = "!!", [MXS_REC_HTTP_OUT] = "H>",
    [MXS_REC_HTTP_IN] = "H<",
};

static const char *rec_mark(enum mxs_rec_kind k)
{
    return (unsigned)k < MXS_REC_KIND_COUNT ? rec_marks[k] : "??";
}

int session_mark_kind(const char *p, size_t n)
{
    if (n < 2)
        return -1;
    for (int k = 0; k < MXS_REC_KIND_COUNT; k++)
        if (!memcmp(p, rec_marks[k], 2))
            return k;
    return -1;
}

static void tls_record_words(const struct mxs_record *r, struct buf *out)
{
    if (r->len < 5) {
        buf_printf(out, "TLS record (%zu bytes)", r->len);
        return;
    }
    const unsigned char *d = r->data;
    int type = d[0], ver = d[1] << 8 | d[2], len = d[3] << 8 | d[4];
    const char *tn = tlsrec_content_type_name(type);
    const char *vn = tlsrec_version_name(ver);
    buf_printf(out, "TLS %s(%d) %s, %d bytes", tn ? tn : "unknown", type, vn ? vn : "?", len);
    if (type == 21 && r->len >= 7) {
        const char *an = tlsrec_alert_name(d[6]);
        buf_printf(out, ": alert %s %s(%d)", d[5] == 2 ? "fatal" : "warning", an ? an : "unknown", d[6]);
    } else if (type == 22 && r->len >= 6) {
        static const char *const hs[] = { [1] = "ClientHello", [2] = "ServerHello",
            [4] = "NewSessionTicket", [8] = "EncryptedExtensions", [11] = "Certificate",
            [12] = "ServerKeyExchange", [13] = "CertificateRequest", [14] = "ServerHelloDone",
            [15] = "CertificateVerify", [16] = "ClientKeyExchange", [20] = "Finished" };
        int t = d[5];
        if (t < (int)(sizeof hs / sizeof hs[0]) && hs[t])
            buf_printf(out, ": %s", hs[t]);
    }
}

void render_record_line(const struct mxs_record *r, struct buf *out)
{
    buf_printf(out, "+%7.3fs %-9s %s ", r->t_us / 1e6, mxs_step_name(r->step), rec_mark(r->kind));
    /* A TLS record's bytes are described; a loaded text transcript carries
     * only that description ("TLS handshake(22) ..."), kept as it was
     * (no TLS record starts with "TLS ": content types are 20-24). */
    if ((r->kind == MXS_REC_TLS_IN || r->kind == MXS_REC_TLS_OUT) &&
        !(r->len >= 4 && !memcmp(r->data, "TLS ", 4)))
        tls_record_words(r, out);
    else if (r->kind == MXS_REC_CERT)
        buf_printf(out, "certificate, %zu bytes DER", r->len);
    else
        buf_add_escaped(out, r->data, r->len, 0);
}
/* ---- the readable report ----------------------------------------------- */

static void reply_lines(struct buf *out, const char *indent, const struct mxs_reply *r)
{
    const char *p = r->text;
    for (;;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        buf_printf(out, "%s%d%c", indent, r->code, nl ? '-' : ' ');
        buf_add_escaped(out, p, n, 0);
        buf_puts(out, "\n");
        if (!nl)
            break;
        p = nl + 1;
    }
    if (r->truncated && r->bytes)   /* the size as received: all of it was read */
        buf_printf(out, "%s(reply cut: %d lines, %zu bytes received; the rest was read and "
                   "not kept)\n", indent, r->n_lines, r->bytes);
    else if (r->truncated)
        buf_printf(out, "%s(reply cut: too long)\n", indent);
}

static const char *state_glyph(enum mxs_step_state s)
{
    switch (s) {
    case MXS_ST_OK: return "[ ok ]";
    case MXS_ST_WARN: return "[warn]";
    case MXS_ST_FAIL: return "[FAIL]";
    case MXS_ST_SKIPPED: return "[skip]";
    case MXS_ST_CANCELLED: return "[cncl]";
    case MXS_ST_RUNNING: return "[ .. ]";
    default: return "[    ]";
    }
}

/* A certificate name (raw, core.h) escaped once, with the cut marker; flags
 * add MXS_ESC_IDN where the name is a host name. */
static void put_name(struct buf *out, const char *field, size_t cap, size_t len, int flags)
{
    char *t = mxs_escape_name_dup(field, cap, len, flags | MXS_ESC_CUTMARK);
    if (t)
        buf_puts(out, t);
    free(t);
}

void render_cert_detail(const struct mxs_cert *c, struct buf *out)
{
    char nb[40], na[40];
    session_iso_time((time_t)c->not_before, nb, sizeof nb);
    session_iso_time((time_t)c->not_after, na, sizeof na);
    buf_printf(out, "Certificate %d%s\n", c->depth, c->depth == 0 ? " (leaf)" : "");
    buf_puts(out, "  Subject:      "); put_name(out, MXS_CERT_NAME(c->subject, c->subject_len), 0);
    buf_puts(out, "\n");
    {
        /* An IDN CN: its U-label (the SAN line shows theirs). */
        size_t plain = mxs_escape_name(MXS_CERT_NAME(c->cn, c->cn_len), NULL, 0, 0);
        if (mxs_escape_name(MXS_CERT_NAME(c->cn, c->cn_len), NULL, 0, MXS_ESC_IDN) != plain) {
            buf_puts(out, "  CN:           ");
            put_name(out, MXS_CERT_NAME(c->cn, c->cn_len), MXS_ESC_IDN);
            buf_puts(out, "\n");
        }
    }
    buf_puts(out, "  Issuer:       "); put_name(out, MXS_CERT_NAME(c->issuer, c->issuer_len), 0);
    buf_puts(out, "\n");
    buf_puts(out, "  SAN:          ");
    for (int i = 0; i < c->n_san; i++) {
        if (i)
            buf_puts(out, ", ");
        put_name(out, MXS_CERT_NAME(c->san[i], c->san_len[i]), MXS_ESC_IDN);
    }
    if (c->n_san_total > c->n_san)
        buf_printf(out, " ... (%d in all)", c->n_san_total);
    if (!c->n_san_total)
        buf_puts(out, "(none)");
    buf_puts(out, "\n");
    buf_puts(out, "  Serial:       "); buf_puts_escaped(out, c->serial); buf_puts(out, "\n");
    buf_printf(out, "  Not before:   %s\n", nb);
    char dl[40];
    mxs_days_text(c->days_left, dl, sizeof dl);
    buf_printf(out, "  Not after:    %s (%s)\n", na, dl);
    buf_printf(out, "  Key:          %s %d%s%s\n", c->key_type, c->key_bits, c->curve[0] ? " " : "", c->curve);
    buf_printf(out, "  Signature:    %s%s\n", c->sig_alg, c->sig_weak ? " (weak)" : "");
    buf_printf(out, "  SHA-1:        %s   (Exchange thumbprint)\n", c->sha1);
    buf_printf(out, "  SHA-256:      %s\n", c->sha256);
    buf_puts(out, "  EKU:          ");
    if (!c->has_eku)
        buf_puts(out, "(none: any use)");
    else
        buf_printf(out, "%s%s%s", c->eku & MXS_EKU_SERVER ? "serverAuth " : "",
                   c->eku & MXS_EKU_CLIENT ? "clientAuth " : "", c->eku & MXS_EKU_OTHER ? "other" : "");
    buf_puts(out, "\n");
    if (c->has_basic_constraints)
        buf_printf(out, "  CA:           %s%s\n", c->is_ca ? "yes" : "no", c->self_issued ? " (self-issued)" : "");
    else
        buf_printf(out, "  CA:           no basic constraints%s\n", c->self_issued ? " (self-issued)" : "");
    if (!c->verify_flags) {
        buf_puts(out, "  Verification: ok\n");
    } else {
        buf_puts(out, "  Verification:\n");
        for (unsigned bit = 1; bit && bit <= MXS_V_OTHER; bit <<= 1)
            if (c->verify_flags & bit) {
                const char *w = mxs_verify_flag_words(bit);
                buf_printf(out, "    - %s: %s\n", mxs_verify_flag_name(bit), w ? w : "");
            }
    }
}

/* Diagnosis text was escaped by diag.c: escaping it again would double
 * every backslash.  Anything else (a bug) still goes through the escaper. */
static void put_diag_text(struct buf *out, const char *s, const char *indent)
{
    for (;;) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        if (mxs_is_escaped_text(s, n))
            buf_add(out, s, n);
        else
            buf_add_escaped(out, s, n, 0);
        buf_puts(out, "\n");
        if (!nl || !nl[1])        /* a final newline ends the text: no empty row */
            break;
        s = nl + 1;
        buf_puts(out, indent);
    }
}

/* CHAIN's DANE part: each TLSA record of the MX probed and what it matched. */
/* Each TLSA record of m and what it matched in one chain (rr[], n judged). */
static void report_dane_records(struct buf *out, const struct mxs_mx *m,
                                const struct mxs_dane_rr *rr, int n, const char *indent)
{
    for (int i = 0; i < m->n_tlsa && i < MXS_MAX_TLSA; i++) {
        const struct mxs_tlsa *t = &m->tlsa_rr[i];
        buf_printf(out, "%s%u %u %u ", indent, t->usage, t->selector, t->mtype);
        for (size_t k = 0; k < t->len && k < 8; k++)
            buf_printf(out, "%02X", t->data[k]);
        buf_puts(out, t->len > 8 ? "...: " : ": ");
        if (i >= n)
            buf_puts(out, "(not judged)");
        else if (rr[i].ok)
            buf_printf(out, "matches certificate %d, authenticates", rr[i].match_depth);
        else
            buf_puts_escaped(out, rr[i].why);
        buf_puts(out, "\n");
    }
}

static void report_dane(struct buf *out, const struct mxs_dns_facts *d,
                        const struct mxs_connect_facts *cn, const struct mxs_chain_facts *ch)
{
    if (!ch->dane_checked || cn->mx_index < 0 || cn->mx_index >= d->n_mx)
        return;
    const struct mxs_mx *m = &d->mx[cn->mx_index];
    buf_puts(out, "         DANE, TLSA at ");
    buf_puts_escaped(out, m->tlsa_name[0] ? m->tlsa_name : m->host);
    buf_printf(out, "%s (%s):\n", m->tlsa_expanded ? ", the CNAME-expanded name" : "",
               mxs_dnssec_name(m->tlsa.dnssec));
    report_dane_records(out, m, ch->dane_rr, ch->n_dane_rr, "           ");
}

void render_report_text(const struct engine *e, struct buf *out)
{
    const struct mxs_settings *set = engine_settings(e);
    const struct mxs_connect_facts *cn = engine_connection(e);
    const struct mxs_tls_facts *t = engine_tls(e);
    const struct mxs_chain_facts *ch = engine_chain(e);
    struct engine_step_info si;
    char when[40];
    session_iso_time(engine_started_at(e), when, sizeof when);
    buf_puts(out, "mxscope probe of ");
    buf_puts_escaped(out, set->target);
    buf_printf(out, " (%s, port %u) at %s\n\n", set->target_is_host ? "host" : "domain", set->port, when);

    const struct mxs_dns_facts *d = engine_dns(e);
    engine_step_info(e, MXS_STEP_RESOLVE, &si);
    buf_printf(out, "%s RESOLVE   \n", state_glyph(si.state));
    if (si.detail[0]) { buf_puts(out, "         "); buf_puts_escaped(out, si.detail); buf_puts(out, "\n"); }
    if (d->done && !set->connect_addr[0]) {
        if (!set->target_is_host)
            buf_printf(out, "         MX answer: %s, DNSSEC %s%s%s\n", mxs_dns_rcode_name(d->mx_answer.rcode),
                       mxs_dnssec_name(d->mx_answer.dnssec), d->implicit_mx ? ", implicit MX" : "",
                       d->null_mx ? ", NULL MX" : "");
        for (int i = 0; i < d->n_mx; i++) {
            const struct mxs_mx *m = &d->mx[i];
            buf_printf(out, "         MX %u ", m->preference);
            buf_puts_escaped(out, m->host);
            buf_puts(out, ":");
            for (int j = 0; j < m->n_addr; j++)
                buf_printf(out, " %s", m->addr[j].text);
            buf_printf(out, " [A %s/%s, AAAA %s/%s, TLSA %d %s]\n", mxs_dns_rcode_name(m->a.rcode),
                       mxs_dnssec_name(m->a.dnssec), mxs_dns_rcode_name(m->aaaa.rcode),
                       mxs_dnssec_name(m->aaaa.dnssec), m->n_tlsa, mxs_dnssec_name(m->tlsa.dnssec));
            if (m->cname.hops) {      /* hostile DNS (dns.h): said where it shows */
                buf_printf(out, "           CNAME chain of %d%s: ", m->cname.hops,
                           m->cname.loop ? ", a loop" : m->cname.too_long ? ", cut" : "");
                buf_puts_escaped(out, m->cname.chain);
                buf_puts(out, "\n");
            }
            if (m->literal)
                buf_puts(out, "           an IP address as MX target: used as the address\n");
        }
        for (int i = 0; i < d->n_mx_invalid && i < MXS_MAX_MX_INVALID; i++) {
            const struct mxs_mx_invalid *x = &d->mx_invalid[i];
            buf_printf(out, "         MX %u skipped, not a host name (", x->preference);
            buf_puts_escaped(out, x->why);
            buf_puts(out, "): ");
            char *raw = mxs_escape_dup(x->raw, (size_t)(x->raw_len > 0 ? x->raw_len : 0), 0);
            buf_puts(out, raw ? raw : "");
            free(raw);
            buf_puts(out, "\n");
        }
        if (d->mx_not_kept > 0)
            buf_printf(out, "         %d MX records: %d kept, %d more not kept\n", d->mx_records, d->n_mx,
                       d->mx_not_kept);
    }
    for (int k = 1; k < MXS_STEP_COUNT; k++) {   /* in run order: POLICY second */
        enum mxs_step i = mxs_step_order(k);
        engine_step_info(e, i, &si);
        buf_printf(out, "%s %-9s %5lld ms  ", state_glyph(si.state), mxs_step_name(i), (long long)si.elapsed_ms);
        buf_puts_escaped(out, si.detail);
        buf_puts(out, "\n");
        const struct mxs_smtp_facts *m = engine_smtp(e);
        switch (i) {
        case MXS_STEP_CONNECT:
            if (cn->attempts)
                buf_printf(out, "         address %s port %u, %d attempt(s)\n", cn->addr.text, cn->port,
                           cn->attempts);
            break;
        case MXS_STEP_BANNER:
            if (m->banner.code) reply_lines(out, "         S: ", &m->banner);
            break;
        case MXS_STEP_EHLO:
            if (m->ehlo.code) reply_lines(out, "         S: ", &m->ehlo);
            if (m->used_helo && m->helo.code) reply_lines(out, "         S: ", &m->helo);
            break;
        case MXS_STEP_STARTTLS:
            if (m->starttls.code) reply_lines(out, "         S: ", &m->starttls);
            if (m->leftover_plain)
                buf_printf(out, "         %zu bytes after the 220 were discarded (never fed to TLS)\n", m->leftover_plain);
            break;
        case MXS_STEP_HANDSHAKE:
            if (t->ok) {
                buf_puts(out, "         ");
                buf_puts_escaped(out, t->version_name);
                buf_puts(out, ", ");
                buf_puts_escaped(out, t->cipher);
                buf_puts(out, ", group ");
                buf_puts_escaped(out, t->group[0] ? t->group : "?");
                buf_puts(out, ", SNI ");
                buf_puts_escaped(out, t->sni_sent[0] ? t->sni_sent : "(none)");
                buf_puts(out, "\n");
                /* Why a second connection was made, and whose fault the
                 * first failure was (docs/deps.md): said where it shows. */
                if (t->pss_retry)
                    buf_puts(out, "         on a second connection, offering no RSA-PSS: the first handshake "
                                  "failed on our TLS library's defect (mbedTLS 3.6.6 refuses an RSA-PSS "
                                  "signed TLS 1.2 ServerKeyExchange); OpenSSL senders complete it\n");
            }
            break;
        case MXS_STEP_CHAIN:
            for (int c = 0; c < ch->n; c++) {
                const struct mxs_cert *ct = &ch->cert[c];
                char na[40], fl[200];
                session_iso_time((time_t)ct->not_after, na, sizeof na);
                mxs_verify_flags_text(ct->verify_flags, fl, sizeof fl);
                buf_printf(out, "         %d ", c);
                put_name(out, MXS_CERT_NAME(ct->subject, ct->subject_len), 0);
                char dl[40];
                mxs_days_text(ct->days_left, dl, sizeof dl);
                buf_printf(out, "\n           not after %s (%s), SHA-1 %s\n           %s %d, %s, %s\n", na,
                           dl, ct->sha1, ct->key_type, ct->key_bits, ct->sig_alg, fl);
            }
            if (ch->n_total > ch->n)
                buf_printf(out, "         ... and %d more: %d certificates sent in all (the path was built "
                                "from all of them; the first %d are shown)\n",
                           ch->n_total - ch->n, ch->n_total, ch->n);
            report_dane(out, d, cn, ch);
            if (ch->alt_present) {
                /* The second certificate of a dual RSA + ECDSA server. */
                const struct mxs_cert *ct = &ch->alt_leaf;
                char na[40], fl[200], dl[40];
                session_iso_time((time_t)ct->not_after, na, sizeof na);
                mxs_verify_flags_text(ct->verify_flags, fl, sizeof fl);
                mxs_days_text(ct->days_left, dl, sizeof dl);
                buf_puts(out, "         2nd certificate (RSA-only handshake): ");
                put_name(out, MXS_CERT_NAME(ct->subject, ct->subject_len), 0);
                buf_printf(out, "\n           not after %s (%s), SHA-1 %s\n           %s %d, %s, %s\n", na,
                           dl, ct->sha1, ct->key_type, ct->key_bits, ct->sig_alg, fl);
                /* The same TLSA records against its chain: what a DANE
                 * sender that negotiates it gets. */
                if (ch->alt_dane_checked && cn->mx_index >= 0 && cn->mx_index < d->n_mx) {
                    buf_printf(out, "           DANE for it (senders that offer only RSA): %s\n",
                               ch->alt_dane_match ? "a TLSA record matches"
                                                  : "no TLSA record matches");
                    report_dane_records(out, &d->mx[cn->mx_index], ch->alt_dane_rr,
                                        ch->n_alt_dane_rr, "             ");
                }
            }
            break;
        case MXS_STEP_EHLO2:
            if (m->ehlo2.code) reply_lines(out, "         S: ", &m->ehlo2);
            break;
        case MXS_STEP_POLICY:
            render_policy_facts(e, out);
            break;
        default:
            break;
        }
    }
    int n_findings;
    const struct mxs_finding *findings = engine_findings(e, &n_findings);
    if (n_findings) {
        buf_puts(out, "\nFindings\n");
        for (int i = 0; i < n_findings; i++) {
            const struct mxs_finding *f = &findings[i];
            buf_printf(out, "  %-7s %-28s [%s] ", mxs_severity_name(f->severity), f->id, mxs_step_name(f->step));
            put_diag_text(out, f->message, "          ");
            if (f->evidence[0]) { buf_puts(out, "          evidence: "); put_diag_text(out, f->evidence, "                    "); }
            if (f->advice[0]) { buf_puts(out, "          advice:   "); put_diag_text(out, f->advice, "                    "); }
            const char *rt = mxs_tlsrpt_result_type(f);
            if (rt)
                buf_printf(out, "          TLS-RPT:  %s (the result type in senders' RFC 8460 reports)\n", rt);
        }
    }
    buf_puts(out, "\nVerdict\n");
    for (int p = 0; p < MXS_POL_COUNT; p++) {
        const struct mxs_verdict *v = &engine_verdicts(e)[p];
        buf_printf(out, "  %-14s %-20s", mxs_policy_name(v->policy), mxs_outcome_name(v->outcome));
        if (v->step != MXS_STEP_NONE)
            buf_printf(out, " at %s", mxs_step_name(v->step));
        if (v->finding[0])
            buf_printf(out, " (%s)", v->finding);
        buf_puts(out, "\n    ");
        put_diag_text(out, v->words, "    ");
    }
    enum mxs_step fs = engine_failed_step(e);
    if (fs == MXS_STEP_NONE && render_sts_refused(e))
        buf_printf(out, "\nResult: POLICY: every step passed, but MTA-STS senders refuse this MX "
                        "(%s) (exit %d)\n", engine_verdicts(e)[MXS_POL_MTASTS].finding,
                   render_exit_code(e));
    else
        buf_printf(out, "\nResult: %s (exit %d)\n",
                   fs == MXS_STEP_NONE ? "every step passed" : mxs_step_name(fs), render_exit_code(e));
}

void render_chain_pem(const struct engine *e, struct buf *out)
{
    const struct mxs_chain_facts *ch = engine_chain(e);
    for (int i = 0; i < ch->n; i++) {
        const struct mxs_cert *c = &ch->cert[i];
        size_t need = c->der_len * 4 / 3 + c->der_len / 48 + 128;
        char *pem = malloc(need);
        if (!pem)
            continue;
        buf_printf(out, "# %d ", i);
        put_name(out, MXS_CERT_NAME(c->subject, c->subject_len), 0);
        buf_printf(out, "\n# SHA-1 %s\n", c->sha1);
        if (x509view_pem(c->der, c->der_len, pem, need) >= 0)
            buf_puts(out, pem);
        free(pem);
    }
}

/* Wrap one line at width: break at spaces only, continuation lines indented
 * like the line's text; a word longer than the room (a hash, a PEM line, a
 * URL) goes whole on a line of its own, never split. */
static void wrap_line(const char *s, size_t n, size_t width, struct buf *out)
{
    size_t ind = 0;
    while (ind < n && s[ind] == ' ')
        ind++;
    /* Hanging indent for "* [error] ..." and "key:  value" lines. */
    size_t hang = ind;
    if (n > ind + 2 && s[ind] == '*' && s[ind + 1] == ' ')
        hang = ind + 2;
    /* A header folds with leading white space (RFC 5322 2.2.3). */
    if (n > 9 && !strncmp(s, "Subject: ", 9))
        hang = 1;
    size_t col = 0, i = 0;
    int first = 1;
    while (i < n) {
        size_t ws = i;
        while (i < n && s[i] == ' ')
            i++;
        size_t w0 = i;
        while (i < n && s[i] != ' ')
            i++;
        size_t wl = i - w0, sp = w0 - ws;
        if (wl == 0)
            break;
        if (!first && col + sp + wl > width && col > hang) {
            buf_puts(out, "\n");
            for (size_t k = 0; k < hang; k++)
                buf_add(out, " ", 1);
            col = hang;
            sp = 0;
        }
        for (size_t k = 0; k < sp; k++)
            buf_add(out, " ", 1);
        buf_add(out, s + w0, wl);
        col += sp + wl;
        first = 0;
    }
    buf_puts(out, "\n");
}

static void wrap_text(const char *s, size_t width, struct buf *out)
{
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        if (n == 0)
            buf_puts(out, "\n");
        else
            wrap_line(s, n, width, out);
        s += n + (nl ? 1 : 0);
    }
}

/* The report's appendix replaces `openssl s_client -starttls smtp` output
 * as evidence: the SMTP dialog with its timings, the TLS facts and the
 * chain as served, in PEM. */
static void report_appendix(const struct engine *e, struct buf *out)
{
    const struct mxs_tls_facts *t = engine_tls(e);
    size_t n = engine_record_count(e);
    int64_t t0 = -1;
    buf_puts(out, "\n-- Evidence --------------------------------------------------------\n\n");
    buf_puts(out, "SMTP dialog (seconds since the connection opened; C: us, S: the server):\n");
    for (size_t i = 0; i < n; i++) {
        const struct mxs_record *r = engine_record(e, i);
        if (r->kind != MXS_REC_SMTP_IN && r->kind != MXS_REC_SMTP_OUT)
            continue;
        if (t0 < 0)
            t0 = r->t_us;
        buf_printf(out, "  +%.3f %s ", (double)(r->t_us - t0) / 1e6,
                   r->kind == MXS_REC_SMTP_IN ? "S:" : "C:");
        buf_add_escaped(out, r->data, r->len, MXS_ESC_ASCII);
        buf_puts(out, "\n");
    }
    if (t0 < 0)
        buf_puts(out, "  (no SMTP exchange)\n");
    buf_puts(out, "\nTLS:\n");
    if (!t->attempted && t->alert_received < 0 && !t->ok) {
        buf_puts(out, "  no handshake was attempted\n");
    } else {
        buf_puts(out, "  result:    ");
        buf_puts(out, t->ok ? "handshake completed" : "handshake failed");
        buf_puts(out, "\n  version:   ");
        buf_puts_escaped(out, t->ok && t->version_name[0] ? t->version_name : "-");
        buf_puts(out, "\n  cipher:    ");
        buf_puts_escaped(out, t->cipher[0] ? t->cipher : "-");
        buf_puts(out, "\n  group:     ");
        buf_puts_escaped(out, t->group[0] ? t->group : "-");
        buf_puts(out, "\n  SNI sent:  ");
        buf_puts_escaped(out, t->sni_sent[0] ? t->sni_sent : "(none)");
        buf_puts(out, "\n");
        if (t->alert_received >= 0) {
            buf_puts(out, "  alert received: ");
            buf_puts_escaped(out, t->alert_name);
            buf_puts(out, "\n");
        }
        if (t->alert_sent >= 0) {
            buf_puts(out, "  alert sent:     ");
            buf_puts_escaped(out, t->alert_sent_name);
            buf_puts(out, "\n");
        }
        if (!t->ok && t->error[0]) {
            buf_puts(out, "  error:     ");
            buf_puts_escaped(out, t->error);
            buf_puts(out, "\n");
        }
    }
    const struct mxs_chain_facts *ch = engine_chain(e);
    if (ch->n > 0) {
        buf_printf(out, "\nCertificates as the server sent them (%d, leaf first), PEM:\n", ch->n);
        render_chain_pem(e, out);
    }
}

void render_problem_report(const struct engine *e, struct buf *out)
{
    struct diag_input in;
    engine_diag_input(e, &in);
    int n;
    const struct mxs_finding *f = engine_findings(e, &n);
    struct buf body;
    buf_init(&body, 4u << 20);
    const char *from = engine_connection(e)->local_addr;
    diag_report(&in, f, n, engine_verdicts(e), engine_started_at(e), from[0] ? from : NULL, &body);
    report_appendix(e, &body);
    /* Mail is read at 72 columns; PEM lines (64) and hashes are never cut. */
    wrap_text(buf_str(&body), 72, out);
    buf_free(&body);
}

/* ---- saves ------------------------------------------------------------- */

int session_save_buf(struct buf *b, const char *path, char *err, size_t errlen)
{
    if (b->failed) {
        snprintf(err, errlen, "the text did not fit in memory; nothing written");
        buf_free(b);
        return -1;
    }
    int r = savefile_write(path, buf_str(b), b->len, err, errlen);
    buf_free(b);
    return r;
}

int render_save_chain(const struct engine *e, const char *path, char *err, size_t errlen)
{
    if (!engine_chain(e)->n) {
        snprintf(err, errlen, "no certificate to save: the CHAIN step has not run or saw none");
        return -1;
    }
    struct buf b;
    buf_init(&b, 0);
    render_chain_pem(e, &b);
    return session_save_buf(&b, path, err, errlen);
}

int render_save_report(const struct engine *e, const char *path, char *err, size_t errlen)
{
    struct buf b;
    buf_init(&b, 0);
    render_problem_report(e, &b);
    return session_save_buf(&b, path, err, errlen);
}

/* ---- the text transcript (docs/transcript.md; its loader: session_text.c) -- */

void render_transcript_text(const struct engine *e, struct buf *out)
{
    const struct mxs_settings *set = engine_settings(e);
    const struct mxs_chain_facts *ch = engine_chain(e);
    char when[40];
    session_iso_time(engine_started_at(e), when, sizeof when);
    buf_printf(out, "# mxscope %s transcript, started %s\n", MXS_VERSION, when);
    buf_puts(out, "# target: ");
    buf_puts_escaped(out, set->target);
    buf_printf(out, " port %u\n", set->port);
    buf_puts(out, "# marks: C: client  S: server  D: DNS  T: TLS  X: certificate  !! error  # note  ** finding  H: HTTP\n");
    for (size_t i = 0; i < engine_record_count(e); i++) {
        render_record_line(engine_record(e, i), out);
        buf_puts(out, "\n");
    }
    /* The appendix makes the text whole for the other side's admins (and
     * for `load`): the verdict per policy and the chain as PEM. */
    buf_puts(out, "#\n");
    for (int p = 0; p < MXS_POL_COUNT; p++) {
        const struct mxs_verdict *v = &engine_verdicts(e)[p];
        buf_printf(out, "# verdict %s %s %s %s\n", mxs_policy_name(v->policy), mxs_outcome_name(v->outcome),
                   v->step == MXS_STEP_NONE ? "-" : mxs_step_name(v->step), v->finding[0] ? v->finding : "-");
    }
    session_text_facts(e, out);
    /* Every setting, from the table, after the exchange (a person reads the
     * dialog first): a loaded transcript is judged with the settings of the
     * run (the expected thumbprint, the warning window, the address pin). */
    for (const struct mxs_setting_def *d = mxs_setting_table; d->name; d++) {
        char v[1100];
        if (!strcmp(d->name, "target") || !strcmp(d->name, "host") ||
            mxs_settings_get(set, d->name, v, sizeof v) != 0)
            continue;
        buf_printf(out, "# set %s ", d->name);
        buf_puts_escaped(out, v);
        buf_puts(out, "\n");
    }
    if (ch->n) {
        buf_printf(out, "# chain: %d certificate%s as sent, leaf first\n", ch->n, ch->n == 1 ? "" : "s");
        render_chain_pem(e, out);
    }
}

int render_save_text(const struct engine *e, const char *path, char *err, size_t errlen)
{
    struct buf b;
    buf_init(&b, 0);
    render_transcript_text(e, &b);
    return session_save_buf(&b, path, err, errlen);
}
