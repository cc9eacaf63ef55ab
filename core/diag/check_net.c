/*
 * check_net.c - the findings of RESOLVE, CONNECT, BANNER, EHLO, STARTTLS and
 * EHLO2, and the fallback for a failed step without a specific finding.
 * Owner: diagnosis.
 *
 * Each check decides which findings hold and writes their message and
 * evidence from the facts; id, step, severity, blocks and advice come from
 * the finding's row (catalog.c).  May call: diag.c's helpers, base (names).
 */
#include "diag/diag_int.h"

#include <stdio.h>
#include <string.h>

/* ---- RESOLVE -------------------------------------------------------------- */

static void dns_answer_finding(struct diag_ctx *c, const struct mxs_dns_answer *a,
                               const char *what, const char *name, int blocking)
{
    struct mxs_finding f;
    struct diag_vars v = {.what = what};
    enum diag_row row;
    char t[600], w[600];
    v.name = diag_esc(t, sizeof t, name);
    /* Bogus is the zone's fault only when our resolver passes DNSSEC: the
     * engine asked it for the trust anchor's DNSKEY after the bogus answer
     * (dns.c).  Not asked (an old saved session): as before, bogus. */
    int ours = c->dns->resolver_check == MXS_RESCHK_BROKEN;
    switch (a->dnssec == MXS_DNSSEC_BOGUS ? (ours ? -2 : -1) : (int)a->rcode) {
    case -2: row = D_RESOLVER_NO_DNSSEC; break;
    case -1: row = D_DNSSEC_BOGUS; break;
    case MXS_DNS_NXDOMAIN: row = D_DNS_NXDOMAIN; break;
    case MXS_DNS_SERVFAIL: row = D_DNS_SERVFAIL; break;
    case MXS_DNS_TIMEOUT: row = D_DNS_TIMEOUT; break;
    case MXS_DNS_ERROR: row = D_DNS_ERROR; break;
    default: return;
    }
    diag_start(&f, row, -1);
    switch (row) {
    case D_DNSSEC_BOGUS:
        APP(f.message, "The DNSSEC signatures of the %s records of %s do not "
            "validate (bogus): validating resolvers answer SERVFAIL.", what, t);
        APP(f.evidence, "%s %s: DNSSEC bogus, rcode %s\nwhy: %s", what, t,
            mxs_dns_rcode_name(a->rcode), diag_esc(w, sizeof w, a->why_bogus));
        break;
    case D_RESOLVER_NO_DNSSEC:
        APP(f.message, "Our resolver does not pass DNSSEC, so the %s records of %s "
            "cannot be validated here; this says nothing about %s's zone.", what, t, t);
        APP(f.evidence, "%s %s: not validated here (bogus)\nwhy: %s\nresolver check: ",
            what, t, diag_esc(w, sizeof w, a->why_bogus));
        APP(f.evidence, "%s", diag_esc(w, sizeof w, c->dns->resolver_why));
        break;
    case D_DNS_NXDOMAIN:
        APP(f.message, "%s does not exist in DNS (NXDOMAIN for %s).", t, what);
        APP(f.evidence, "%s %s: rcode NXDOMAIN, DNSSEC %s", what, t,
            mxs_dnssec_name(a->dnssec));
        break;
    case D_DNS_SERVFAIL:
        APP(f.message, "The DNS lookup of %s for %s failed (SERVFAIL): mail is "
            "deferred, not delivered.", what, t);
        APP(f.evidence, "%s %s: rcode SERVFAIL, DNSSEC %s", what, t,
            mxs_dnssec_name(a->dnssec));
        break;
    case D_DNS_TIMEOUT:
        APP(f.message, "The DNS lookup of %s for %s timed out: mail is deferred.",
            what, t);
        APP(f.evidence, "%s %s: no answer (timeout)", what, t);
        break;
    case D_DNS_ERROR:
        APP(f.message, "The DNS lookup of %s for %s failed.", what, t);
        APP(f.evidence, "%s %s: rcode %s", what, t, mxs_dns_rcode_name(a->rcode));
        break;
    default:
        break;
    }
    if (!blocking)
        f.severity = MXS_SEV_WARNING;
    diag_file(c, &f, row, &v);
}

/* A name in presentation form is printable ASCII by construction (dns.c);
 * anything else is escaped like every other text. */
static const char *dns_pres(char *tmp, size_t n, const char *name)
{
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
            return diag_esc(tmp, n, name);
    snprintf(tmp, n, "%s", name);
    return tmp;
}

/* MX targets that are not host names: skipped as Postfix skips them.  An
 * error when no MX is left, else a warning. */
static void dns_check_invalid(struct diag_ctx *c, const struct mxs_dns_facts *d)
{
    struct mxs_finding f;
    const struct mxs_mx_invalid *x = &d->mx_invalid[0];
    char raw[700], pres[300], one[300];
    int none_left = d->n_mx == 0;

    mxs_escape(x->raw, (size_t)(x->raw_len > 0 ? x->raw_len : 0), raw, sizeof raw, MXS_ESC_ASCII);
    diag_start(&f, D_MX_TARGET_INVALID, -1);
    if (!none_left)
        f.severity = MXS_SEV_WARNING;
    APP(f.message, "MX target %d of %s (preference %u) is not a host name: it %s",
        x->record, c->dom, (unsigned)x->preference, diag_esc(one, sizeof one, x->why));
    if (d->n_mx_invalid > 1)
        APP(f.message, "; %d MX targets in all are not host names", d->n_mx_invalid);
    if (none_left)
        APP(f.message, ". No MX is left: Postfix fails the MX lookup (\"Malformed or "
            "unexpected name server reply\", status 5.4.4) and bounces the mail.");
    else
        APP(f.message, ". Senders skip %s and deliver to the other MX hosts.",
            d->n_mx_invalid > 1 ? "them" : "it");
    for (int i = 0; i < d->n_mx_invalid && i < MXS_MAX_MX_INVALID; i++) {
        x = &d->mx_invalid[i];
        mxs_escape(x->raw, (size_t)(x->raw_len > 0 ? x->raw_len : 0), raw, sizeof raw,
                   MXS_ESC_ASCII);
        APP(f.evidence, "%sMX record %d: preference %u, target %s (as dig shows it: %s): %s",
            i ? "\n" : "", x->record, (unsigned)x->preference, raw,
            dns_pres(pres, sizeof pres, x->host), diag_esc(one, sizeof one, x->why));
    }
    if (d->n_mx_invalid > MXS_MAX_MX_INVALID)
        APP(f.evidence, "\n... %d more", d->n_mx_invalid - MXS_MAX_MX_INVALID);
    APP(f.evidence, "\n%d MX record%s in the answer, %d usable", d->mx_records,
        d->mx_records == 1 ? "" : "s", d->n_mx + d->mx_not_kept);
    diag_file(c, &f, D_MX_TARGET_INVALID, NULL);
}

/* The slowest answers of the lookup (DNS_SLOW_MS in dns.c: 1 s), info. */
static void dns_check_slow(struct diag_ctx *c, const struct mxs_dns_facts *d)
{
    const struct mxs_dns_answer *worst = NULL;
    const char *worst_what = "", *worst_name = "";
    struct mxs_finding f;
    char s1[32], nm[600];
    int n = 0;

    diag_start(&f, D_DNS_SLOW, -1);
    for (int i = -1; i < d->n_mx && i < MXS_MAX_MX; i++) {
        for (int k = 0; k < (i < 0 ? 1 : 3); k++) {
            const struct mxs_dns_answer *a = i < 0 ? &d->mx_answer :
                k == 0 ? &d->mx[i].a : k == 1 ? &d->mx[i].aaaa : &d->mx[i].tlsa;
            const char *what = i < 0 ? "MX" : k == 0 ? "A" : k == 1 ? "AAAA" : "TLSA";
            const char *name = i < 0 ? c->set->target : d->mx[i].host;
            if (a->ms < 1000 || a->rcode == MXS_DNS_TIMEOUT)
                continue;
            if (n < 6)
                APP(f.evidence, "%s%s %s: answered after %s", n ? "\n" : "", what,
                    dns_pres(nm, sizeof nm, name), diag_secs(a->ms, s1));
            n++;
            if (!worst || a->ms > worst->ms) {
                worst = a;
                worst_what = what;
                worst_name = name;
            }
        }
    }
    if (!worst)
        return;
    if (n > 6)
        APP(f.evidence, "\n... %d more", n - 6);
    f.severity = MXS_SEV_INFO;
    APP(f.message, "The resolver took %s for the %s query of %s: senders wait for it "
        "(about 5 s per try), but every delivery is delayed.", diag_secs(worst->ms, s1),
        worst_what, dns_pres(nm, sizeof nm, worst_name));
    diag_file(c, &f, D_DNS_SLOW, &(struct diag_vars){.name = nm, .what = worst_what});
}

void diag_check_resolve(struct diag_ctx *c)
{
    const struct mxs_dns_facts *d = c->dns;
    struct mxs_finding f;
    if (!d->done && !diag_is_final(c->in->state[MXS_STEP_RESOLVE]))
        return;
    if (!c->set->target_is_host) {
        if (d->mx_answer.dnssec == MXS_DNSSEC_BOGUS || d->mx_answer.rcode == MXS_DNS_NXDOMAIN ||
            d->mx_answer.rcode == MXS_DNS_SERVFAIL || d->mx_answer.rcode == MXS_DNS_TIMEOUT ||
            d->mx_answer.rcode == MXS_DNS_ERROR) {
            dns_answer_finding(c, &d->mx_answer, "MX", c->dom, 1);
            return;
        }
        if (d->null_mx) {
            diag_start(&f, D_MX_NULL, -1);
            APP(f.message, "%s publishes a null MX (\"0 .\", RFC 7505): it "
                "accepts no mail at all.", c->dom);
            APP(f.evidence, "MX %s: 0 .", c->dom);
            diag_file(c, &f, D_MX_NULL, NULL);
            return;
        }
        if (d->implicit_mx) {
            diag_start(&f, D_MX_IMPLICIT, -1);
            APP(f.message, "%s has no MX records: senders fall back to its own "
                "A/AAAA address (implicit MX, RFC 5321 5.1).", c->dom);
            APP(f.evidence, "MX %s: %s (no MX records); delivering to %s itself",
                c->dom, mxs_dns_rcode_name(d->mx_answer.rcode), c->dom);
            diag_file(c, &f, D_MX_IMPLICIT, NULL);
        }
        if (d->n_mx_invalid > 0)
            dns_check_invalid(c, d);
        if (d->mx_not_kept > 0) {
            char s1[32];
            diag_start(&f, D_MX_MANY, -1);
            f.severity = MXS_SEV_INFO;
            APP(f.message, "%s has %d MX records: the %d most preferred were kept and "
                "looked up, the other %d only counted. Postfix tries at most 5 "
                "addresses (smtp_mx_address_limit).", c->dom, d->mx_records, d->n_mx,
                d->mx_not_kept);
            APP(f.evidence, "MX %s: %d records, %d kept (preference %u to %u), %d not kept",
                c->dom, d->mx_records, d->n_mx, (unsigned)d->mx[0].preference,
                (unsigned)d->mx[d->n_mx > 0 ? d->n_mx - 1 : 0].preference, d->mx_not_kept);
            if (d->mx_answer.bytes > 0)
                APP(f.evidence, "\nanswer: %d bytes in %s", d->mx_answer.bytes,
                    diag_secs(d->mx_answer.ms, s1));
            diag_file(c, &f, D_MX_MANY, NULL);
        }
    }
    dns_check_slow(c, d);
    /* MX hosts without addresses: blocking only when none has any. */
    int n = d->n_mx < MXS_MAX_MX ? d->n_mx : MXS_MAX_MX, with_addr = 0;
    for (int i = 0; i < n; i++)
        if (d->mx[i].n_addr > 0)
            with_addr++;
    for (int i = 0; i < n && !d->null_mx; i++) {
        const struct mxs_mx *m = &d->mx[i];
        char h[600], ch[1400];
        if (m->literal) {
            diag_start(&f, D_MX_TARGET_LITERAL, -1);
            APP(f.message, "The MX target %s is an IP address, not a host name: Postfix "
                "uses it as the address (with the warning \"numeric domain name\"), "
                "stricter senders may not.", dns_pres(h, sizeof h, m->host));
            APP(f.evidence, "MX %u %s: an address, used as is (no A/AAAA lookup)",
                (unsigned)m->preference, h);
            diag_file(c, &f, D_MX_TARGET_LITERAL, &(struct diag_vars){.name = h});
        }
        if (m->cname.hops > 0 && !m->cname.loop && !m->cname.too_long) {
            diag_start(&f, D_MX_TARGET_CNAME, -1);
            dns_pres(h, sizeof h, m->host);
            APP(f.message, "The MX target %s is an alias: a CNAME chain of %d to %s. "
                "RFC 2181 (10.3) says an MX must name the host itself; Postfix and "
                "most senders follow the chain.", h, m->cname.hops,
                dns_pres(ch, sizeof ch, m->cname.canon));
            APP(f.evidence, "MX %u %s: CNAME chain of %d: %s", (unsigned)m->preference, h,
                m->cname.hops, dns_pres(ch, sizeof ch, m->cname.chain));
            diag_file(c, &f, D_MX_TARGET_CNAME, &(struct diag_vars){.name = h});
        }
        if (m->n_addr > 0)
            continue;
        int blocking = with_addr == 0;
        diag_esc(h, sizeof h, m->host);
        if (m->cname.loop || m->cname.too_long) {
            diag_start(&f, D_DNS_CNAME_LOOP, -1);
            if (!blocking)
                f.severity = MXS_SEV_WARNING;
            dns_pres(h, sizeof h, m->host);
            if (m->cname.loop)
                APP(f.message, "The MX host %s has no address: its CNAME chain loops "
                    "(after %d hop%s, %s comes back).", h, m->cname.hops,
                    m->cname.hops == 1 ? "" : "s", dns_pres(ch, sizeof ch, m->cname.canon));
            else
                APP(f.message, "The MX host %s has no address: its CNAME chain is longer "
                    "than %d hops.", h, MXS_MAX_CNAME_HOPS);
            APP(f.evidence, "MX %u %s: A %s; CNAME chain of %d%s: %s",
                (unsigned)m->preference, h, mxs_dns_rcode_name(m->a.rcode), m->cname.hops,
                m->cname.loop ? ", loop" : ", cut", dns_pres(ch, sizeof ch, m->cname.chain));
            diag_file(c, &f, D_DNS_CNAME_LOOP, &(struct diag_vars){.name = h});
            continue;
        }
        const struct mxs_dns_answer *bad =
            m->a.dnssec == MXS_DNSSEC_BOGUS ? &m->a :
            m->aaaa.dnssec == MXS_DNSSEC_BOGUS ? &m->aaaa :
            m->a.rcode == MXS_DNS_NXDOMAIN ? &m->a :
            m->aaaa.rcode == MXS_DNS_NXDOMAIN ? &m->aaaa :
            (m->a.rcode != MXS_DNS_OK && m->a.rcode != MXS_DNS_NODATA) ? &m->a :
            (m->aaaa.rcode != MXS_DNS_OK && m->aaaa.rcode != MXS_DNS_NODATA) ? &m->aaaa :
            NULL;
        if (bad) {
            dns_answer_finding(c, bad, bad == &m->a ? "A" : "AAAA", m->host, blocking);
            continue;
        }
        diag_start(&f, D_DNS_NO_ADDRESS, -1);
        if (!blocking)
            f.severity = MXS_SEV_WARNING;
        APP(f.message, "The MX host %s has no %s address.", h,
            c->set->family == 4 ? "IPv4" : c->set->family == 6 ? "IPv6" : "IPv4 or IPv6");
        APP(f.evidence, "MX %u %s: A %s, AAAA %s%s", (unsigned)m->preference, h,
            mxs_dns_rcode_name(m->a.rcode), mxs_dns_rcode_name(m->aaaa.rcode),
            c->set->family ? " (address family restricted by settings)" : "");
        diag_file(c, &f, D_DNS_NO_ADDRESS, &(struct diag_vars){.name = h});
    }
    /* A bogus TLSA answer only stops DANE senders: a warning here.  Through
     * a resolver that strips DNSSEC it is ours, not theirs. */
    if (c->mx_i >= 0 && d->mx[c->mx_i].tlsa.dnssec == MXS_DNSSEC_BOGUS &&
        d->resolver_check == MXS_RESCHK_BROKEN) {
        dns_answer_finding(c, &d->mx[c->mx_i].tlsa, "TLSA", d->mx[c->mx_i].host, 1);
    } else if (c->mx_i >= 0 && d->mx[c->mx_i].tlsa.dnssec == MXS_DNSSEC_BOGUS) {
        char h[600], tmp[600];
        uint16_t port = c->set->port ? c->set->port : 25;
        snprintf(tmp, sizeof tmp, "_%u._tcp.%s", (unsigned)port, d->mx[c->mx_i].host);
        diag_esc(h, sizeof h, tmp);
        diag_start(&f, D_DNSSEC_BOGUS_TLSA, -1);
        APP(f.message, "The TLSA records %s are DNSSEC-bogus: DANE senders "
            "(Postfix `dane`) defer mail to this host.", h);
        APP(f.evidence, "TLSA %s: DNSSEC bogus\nwhy: %s", h,
            diag_esc(tmp, sizeof tmp, d->mx[c->mx_i].tlsa.why_bogus));
        diag_file(c, &f, D_DNSSEC_BOGUS_TLSA, &(struct diag_vars){.name = h});
    }
}

/* ---- CONNECT -------------------------------------------------------------- */

void diag_check_connect(struct diag_ctx *c)
{
    const struct mxs_connect_facts *k = c->conn;
    int to = c->in->timed_out[MXS_STEP_CONNECT];
    /* The engine may leave done = 0 when no attempt succeeded: an error
     * class recorded by a finished step is evidence enough. */
    if (!k->done && !to && !(diag_is_final(c->in->state[MXS_STEP_CONNECT]) &&
                             k->error != MXS_CONN_OK))
        return;
    if (k->error == MXS_CONN_OK && !to)
        return;
    struct mxs_finding f;
    char a[200], s[32];
    diag_esc(a, sizeof a, k->addr.text);
    const char *errtxt = strerror(k->err_no);
    enum mxs_conn_error e = k->error == MXS_CONN_OK ? MXS_CONN_TIMEOUT : k->error;
    enum diag_row row = e == MXS_CONN_REFUSED ? D_CONNECT_REFUSED :
                        e == MXS_CONN_TIMEOUT ? D_CONNECT_TIMEOUT :
                        e == MXS_CONN_UNREACHABLE ? D_CONNECT_UNREACHABLE :
                        D_CONNECT_FAILED;
    diag_start(&f, row, -1);
    switch (row) {
    case D_CONNECT_REFUSED:
        APP(f.message, "The connection to %s port %u was refused: nothing "
            "listens there, or a firewall rejects it.", a, (unsigned)k->port);
        break;
    case D_CONNECT_TIMEOUT:
        APP(f.message, "No answer from %s port %u: the connection timed out "
            "(packets are dropped by a firewall, or the host is down).", a,
            (unsigned)k->port);
        break;
    case D_CONNECT_UNREACHABLE:
        APP(f.message, "%s is unreachable (no route to the host or network).", a);
        break;
    default:
        APP(f.message, "The connection to %s port %u failed.", a, (unsigned)k->port);
        break;
    }
    APP(f.evidence, "address %s port %u, %d attempt%s, %s: ", a,
        (unsigned)k->port, k->attempts, k->attempts == 1 ? "" : "s",
        diag_secs(k->elapsed_ms ? k->elapsed_ms : c->in->elapsed_ms[MXS_STEP_CONNECT], s));
    if (k->err_no)      /* an errno only where a system call returned one */
        APP(f.evidence, "%s (errno %d)", errtxt, k->err_no);
    else
        APP(f.evidence, "no answer, and no error from the system (the connection was neither accepted nor refused)");
    if (to)
        APP(f.evidence, "\nthe CONNECT stage deadline passed");
    diag_file(c, &f, row, &(struct diag_vars){.port = k->port});
}

/* ---- BANNER --------------------------------------------------------------- */

void diag_check_banner(struct diag_ctx *c)
{
    const struct mxs_reply *b = &c->smtp->banner;
    const struct diag_input *in = c->in;
    struct mxs_finding f;
    char s[32], one[200];
    /* The greeting under implicit TLS lost to a KeyUpdate: our limit, filed
     * as tls-key-update-unsupported (diag_check_ehlo2), not the server's. */
    if (b->code == 0 && c->tls->key_update)
        return;
    if (b->code >= 500 || (b->code >= 400 && b->code < 500)) {
        int perm = b->code >= 500;
        enum diag_row row = perm ? D_BANNER_REJECTED : D_BANNER_THROTTLED;
        diag_start(&f, row, -1);
        if (perm)
            APP(f.message, "The server refuses us in its greeting (%s): our "
                "address or host is not welcome.", diag_reply_first(b, one, sizeof one));
        else
            APP(f.message, "The server greets with a temporary refusal (%s): it "
                "throttles or is overloaded; senders retry later.",
                diag_reply_first(b, one, sizeof one));
        APP(f.evidence, "greeting after %s:\n", diag_secs(c->smtp->banner_ms, s));
        diag_reply_lines(b, f.evidence, sizeof f.evidence);
        diag_file(c, &f, row, NULL);
        return;
    }
    if (in->timed_out[MXS_STEP_BANNER] && b->code == 0) {
        diag_start(&f, D_BANNER_TIMEOUT, -1);
        APP(f.message, "The server accepted the connection but sent no complete greeting "
            "within %s.", diag_secs(in->elapsed_ms[MXS_STEP_BANNER], s));
        APP(f.evidence, "no 220 greeting after %s (BANNER deadline %d ms)",
            diag_secs(in->elapsed_ms[MXS_STEP_BANNER], s),
            c->set->timeout_ms[MXS_STEP_BANNER]);
        if (in->step_error[MXS_STEP_BANNER][0]) {   /* what did arrive, if anything */
            char e[300];
            APP(f.evidence, "\nengine: %s", diag_esc(e, sizeof e, in->step_error[MXS_STEP_BANNER]));
        }
        diag_file(c, &f, D_BANNER_TIMEOUT, NULL);
        return;
    }
    if (b->code == 0 && (in->reset[MXS_STEP_BANNER] ||
                         in->state[MXS_STEP_BANNER] == MXS_ST_FAIL)) {
        char e[300];
        enum diag_row row = in->reset[MXS_STEP_BANNER] ? D_BANNER_CLOSED : D_BANNER_FAILED;
        diag_start(&f, row, -1);
        APP(f.message, "The server %s before sending a greeting.",
            in->reset[MXS_STEP_BANNER] ? "closed the connection" : "failed");
        APP(f.evidence, "after %s: %s", diag_secs(in->elapsed_ms[MXS_STEP_BANNER], s),
            diag_esc(e, sizeof e, in->step_error[MXS_STEP_BANNER]));
        diag_file(c, &f, row, NULL);
        return;
    }
    if (b->code >= 200 && b->code < 300 && c->smtp->banner_ms > DIAG_BANNER_SLOW_MS) {
        diag_start(&f, D_BANNER_SLOW, -1);
        APP(f.message, "The greeting came after %s (more than %d s): impatient "
            "senders and checkers give up.", diag_secs(c->smtp->banner_ms, s),
            DIAG_BANNER_SLOW_MS / 1000);
        APP(f.evidence, "greeting after %s:\n", diag_secs(c->smtp->banner_ms, s));
        diag_reply_lines(b, f.evidence, sizeof f.evidence);
        diag_file(c, &f, D_BANNER_SLOW, NULL);
    }
}

/* ---- EHLO ------------------------------------------------------------------ */

static int masked_keyword(const char *k)
{
    size_t n = strlen(k), i;
    if (n < 4)
        return 0;
    for (i = 0; i < n; i++)
        if (k[i] != 'X' && k[i] != '*' && !(i == n - 1 && k[i] == 'A'))
            return 0;
    return 1;
}

static void caps_list(const struct mxs_caps *cp, char *dst, size_t cap)
{
    int n = cp->n < MXS_MAX_CAPS ? cp->n : MXS_MAX_CAPS;
    for (int i = 0; i < n; i++) {
        char t[200];
        diag_app(dst, cap, "%s%s", i ? " " : "", diag_esc(t, sizeof t, cp->name[i]));
    }
    if (n == 0)
        diag_app(dst, cap, "(none)");
}

static int ehlo_accepted(const struct mxs_smtp_facts *s)
{
    if (s->ehlo.code >= 200 && s->ehlo.code < 300)
        return 1;
    return s->used_helo && s->helo.code >= 200 && s->helo.code < 300;
}

void diag_check_ehlo(struct diag_ctx *c)
{
    const struct mxs_smtp_facts *sm = c->smtp;
    const struct diag_input *in = c->in;
    struct mxs_finding f;
    char e[600];
    if (sm->ehlo.code == 0 && !diag_is_final(in->state[MXS_STEP_EHLO]))
        return;
    diag_esc(e, sizeof e, c->set->ehlo_name);
    if (sm->ehlo.code >= 400 && !ehlo_accepted(sm)) {
        char one[200];
        diag_start(&f, D_EHLO_REJECTED, -1);
        APP(f.message, "The server refuses our EHLO%s (%s).",
            sm->used_helo ? " and HELO" : "", diag_reply_first(
                sm->used_helo && sm->helo.code ? &sm->helo : &sm->ehlo, one, sizeof one));
        APP(f.evidence, "EHLO %s ->\n", e);
        diag_reply_lines(&sm->ehlo, f.evidence, sizeof f.evidence);
        if (sm->used_helo) {
            APP(f.evidence, "\nHELO %s ->\n", e);
            diag_reply_lines(&sm->helo, f.evidence, sizeof f.evidence);
        }
        diag_file(c, &f, D_EHLO_REJECTED, NULL);
        return;
    }
    if (!ehlo_accepted(sm))
        return;
    int n = sm->caps.n < MXS_MAX_CAPS ? sm->caps.n : MXS_MAX_CAPS, masked = sm->caps.masked;
    for (int i = 0; i < n; i++)
        if (masked_keyword(sm->caps.name[i]))
            masked = 1;
    if (masked) {
        int hides = !sm->caps.starttls;
        diag_start(&f, D_EHLO_MASKED, -1);
        if (!hides)
            f.severity = MXS_SEV_WARNING;
        APP(f.message, "The EHLO reply carries masked keywords (like XXXXXXXA): "
            "a firewall on the path rewrites SMTP%s.",
            hides ? " and hides STARTTLS, so no TLS is possible" : "");
        APP(f.evidence, "EHLO keywords: ");
        caps_list(&sm->caps, f.evidence, sizeof f.evidence);
        /* Hiding STARTTLS is what stops TLS here: the verdicts must name the
         * firewall, not send the admin to enable STARTTLS on the MTA. */
        diag_file(c, &f, D_EHLO_MASKED, NULL);
    }
}

/* ---- STARTTLS -------------------------------------------------------------- */

void diag_check_starttls(struct diag_ctx *c)
{
    const struct mxs_smtp_facts *sm = c->smtp;
    const struct diag_input *in = c->in;
    struct mxs_finding f;
    char one[200];
    if (c->set->tls_on_connect)
        return;
    if (ehlo_accepted(sm) && diag_is_final(in->state[MXS_STEP_EHLO]) && !sm->caps.starttls) {
        diag_start(&f, D_STARTTLS_NOT_OFFERED, -1);
        APP(f.message, "The server does not offer STARTTLS: mail to it can only "
            "travel unencrypted.");
        if (!(sm->ehlo.code >= 200 && sm->ehlo.code < 300))
            APP(f.evidence, "EHLO refused (%s), HELO accepted: no ESMTP, so no "
                "STARTTLS\n", diag_reply_first(&sm->ehlo, one, sizeof one));
        APP(f.evidence, "EHLO keywords: ");
        caps_list(&sm->caps, f.evidence, sizeof f.evidence);
        if (sm->starttls.code) {
            /* We try anyway: a firewall that masks the keyword usually
             * mangles the command too, and its answer says so. */
            APP(f.evidence, "\nSTARTTLS sent anyway ->\n");
            diag_reply_lines(&sm->starttls, f.evidence, sizeof f.evidence);
        }
        diag_file(c, &f, D_STARTTLS_NOT_OFFERED, NULL);
    }
    const struct mxs_reply *r = &sm->starttls;
    /* Refusing a command it never offered is no separate problem: the reply
     * is evidence of starttls-not-offered above. */
    if (r->code != 0 && r->code != 220 && sm->caps.starttls) {
        diag_start(&f, D_STARTTLS_REFUSED, -1);
        if (r->code == 454)
            APP(f.message, "The server offers STARTTLS but refuses it with %s: "
                "its TLS configuration is broken (certificate or key cannot be "
                "loaded).", diag_reply_first(r, one, sizeof one));
        else
            APP(f.message, "The server refused STARTTLS with %s.",
                diag_reply_first(r, one, sizeof one));
        APP(f.evidence, "STARTTLS ->\n");
        diag_reply_lines(r, f.evidence, sizeof f.evidence);
        diag_file(c, &f, D_STARTTLS_REFUSED, NULL);
    }
    if (sm->leftover_plain > 0) {
        diag_start(&f, D_STARTTLS_LEFTOVER, -1);
        APP(f.message, "The server sent %zu byte%s after its STARTTLS reply, "
            "before TLS: response injection or a pipelining bug (the bytes were "
            "discarded).", sm->leftover_plain, sm->leftover_plain == 1 ? "" : "s");
        APP(f.evidence, "%zu plaintext byte%s after \"%s\" were discarded, never "
            "read as TLS (CVE-2011-0411 class)", sm->leftover_plain,
            sm->leftover_plain == 1 ? "" : "s", diag_reply_first(r, one, sizeof one));
        diag_file(c, &f, D_STARTTLS_LEFTOVER, NULL);
    }
}

/* ---- EHLO2 -------------------------------------------------------------------- */

static int caps_has(const struct mxs_caps *cp, const char *name)
{
    int n = cp->n < MXS_MAX_CAPS ? cp->n : MXS_MAX_CAPS;
    for (int i = 0; i < n; i++)
        if (!strcmp(cp->name[i], name))
            return 1;
    return 0;
}

static void caps_diff(const struct mxs_caps *a, const struct mxs_caps *b, char *dst,
                      size_t cap)
{
    char t[100];
    int na = a->n < MXS_MAX_CAPS ? a->n : MXS_MAX_CAPS;
    int nb = b->n < MXS_MAX_CAPS ? b->n : MXS_MAX_CAPS;
    for (int i = 0; i < nb; i++)
        if (strcmp(b->name[i], "STARTTLS") && !caps_has(a, b->name[i]))
            diag_app(dst, cap, " +%s", diag_esc(t, sizeof t, b->name[i]));
    for (int i = 0; i < na; i++)
        if (strcmp(a->name[i], "STARTTLS") && !caps_has(b, a->name[i]))
            diag_app(dst, cap, " -%s", diag_esc(t, sizeof t, a->name[i]));
}

void diag_check_ehlo2(struct diag_ctx *c)
{
    const struct mxs_smtp_facts *sm = c->smtp;
    struct mxs_finding f;
    char one[200];
    if (c->tls->key_update) {
        /* Our library's limit (mbedTLS 3.6 has no KeyUpdate): never the
         * server's fault, and the verdicts are not evaluated (LOCAL). */
        char e[300];
        diag_start(&f, D_TLS_KEY_UPDATE, -1);
        APP(f.message, "After the handshake the server sent a TLS 1.3 KeyUpdate. That is "
            "legal, and OpenSSL/Postfix senders follow it and carry on; our TLS library, "
            "mbedTLS 3.6, cannot (Mbed-TLS#10881), so the session ended on our side. "
            "This says nothing against the server.");
        for (int s = MXS_STEP_BANNER; s < MXS_STEP_COUNT; s++)   /* where it ended */
            if (c->in->step_error[s][0] && (c->in->state[s] == MXS_ST_FAIL ||
                                           (s == MXS_STEP_EHLO2 && c->in->state[s] == MXS_ST_WARN)))
                APP(f.evidence, "%s: %s\n", mxs_step_name((enum mxs_step)s),
                    diag_esc(e, sizeof e, c->in->step_error[s]));
        if (c->set->tls_on_connect && c->smtp->banner.code == 0)
            APP(f.evidence, "implicit TLS: the greeting itself was lost, no re-run");
        else if (c->tls->key_update_retry > 0)
            APP(f.evidence, "the EHLO after TLS was re-run over TLS 1.2 (no KeyUpdate there) on "
                "a fresh connection: see its reply above");
        else if (c->tls->key_update_retry < 0)
            APP(f.evidence, "no re-run of the EHLO after TLS over TLS 1.2 could be made (it "
                "failed, or tls-min 1.3 excludes it): no EHLO evidence after TLS");
        else
            APP(f.evidence, "no re-run over TLS 1.2");
        diag_file(c, &f, D_TLS_KEY_UPDATE, NULL);
    }
    if (sm->ehlo2.code >= 400) {
        diag_start(&f, D_EHLO2_REJECTED, -1);
        APP(f.message, "After TLS the server refuses EHLO (%s): mail cannot go "
            "on over the encrypted session.", diag_reply_first(&sm->ehlo2, one, sizeof one));
        APP(f.evidence, "EHLO (inside TLS) ->\n");
        diag_reply_lines(&sm->ehlo2, f.evidence, sizeof f.evidence);
        diag_file(c, &f, D_EHLO2_REJECTED, NULL);
    }
    if (sm->caps_changed) {
        diag_start(&f, D_EHLO2_CAPS_CHANGED, -1);
        APP(f.message, "The EHLO keywords differ before and after TLS.");
        APP(f.evidence, "changed after TLS:");
        caps_diff(&sm->caps, &sm->caps2, f.evidence, sizeof f.evidence);
        APP(f.evidence, "\nbefore: ");
        caps_list(&sm->caps, f.evidence, sizeof f.evidence);
        APP(f.evidence, "\nafter: ");
        caps_list(&sm->caps2, f.evidence, sizeof f.evidence);
        diag_file(c, &f, D_EHLO2_CAPS_CHANGED, NULL);
    }
}

/* ---- fallback for failed steps without a specific finding ----------------- */

void diag_check_fallback(struct diag_ctx *c)
{
    /* The rows of a failed (or timed-out) step: generic advice. */
    static const int fail_row[MXS_STEP_COUNT] = {
        D_DNS_FAILED, D_CONNECT_FAILED_FB, D_BANNER_FAILED_FB, D_EHLO_FAILED,
        D_STARTTLS_FAILED, D_TLS_HANDSHAKE_FAILED_FB, D_CHAIN_FAILED,
        D_EHLO2_FAILED, -1, -1};
    static const int timeout_row[MXS_STEP_COUNT] = {
        D_DNS_TIMEOUT_FB, D_CONNECT_TIMEOUT_FB, D_BANNER_TIMEOUT_FB,
        D_EHLO_TIMEOUT, D_STARTTLS_TIMEOUT, D_TLS_HANDSHAKE_FAILED_FB,
        D_CHAIN_FAILED, D_EHLO2_TIMEOUT, -1, -1};
    for (int s = 0; s < MXS_STEP_COUNT; s++) {
        const struct diag_input *in = c->in;
        if (fail_row[s] < 0 || in->state[s] != MXS_ST_FAIL || c->per_step[s] > 0)
            continue;
        if (s == MXS_STEP_STARTTLS && c->set->tls_on_connect)
            continue;
        /* A step ended by a KeyUpdate: tls-key-update-unsupported says so. */
        if (c->tls->key_update)
            continue;
        struct mxs_finding f;
        char e[300], t[32];
        enum diag_row row = (enum diag_row)(in->timed_out[s] ? timeout_row[s] : fail_row[s]);
        diag_start(&f, row, -1);
        APP(f.message, "%s failed%s.", mxs_step_name((enum mxs_step)s),
            in->timed_out[s] ? ": the stage deadline passed" :
            in->reset[s] ? ": the server closed the connection" : "");
        APP(f.evidence, "%s after %s%s%s", mxs_step_name((enum mxs_step)s),
            diag_secs(in->elapsed_ms[s], t), in->step_error[s][0] ? ": " : "",
            diag_esc(e, sizeof e, in->step_error[s]));
        diag_file(c, &f, row, NULL);
    }
}

