/*
 * diag.c - findings and verdicts from the engine's facts (see diag.h).
 * Owner: diagnosis.
 *
 * Structure: one function per step adds findings through commit(), which
 * keeps out[] sorted (step, then severity) and remembers, per step, the first
 * finding that blocks delivery for a class of policies.  The verdicts are a
 * walk over the steps in order using only those blocks and the step states,
 * so adding a finding never needs a change in the verdict code.
 *
 * Every string that did not come from this file is escaped (ASCII) before it
 * lands in a finding: network bytes, certificate fields, and the operator's
 * own settings alike (cheap, and it keeps the rule simple).
 */
#include "diag/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/esc.h"

/* ---- context ------------------------------------------------------------ */

/* Which policies a finding stops.  ALL: no policy delivers (DNS, TCP,
 * greeting, EHLO).  TLS: no TLS session (opportunistic goes on in clear).
 * VERIFY: the certificate does not authenticate the server. */
enum { BLK_ALL = 1, BLK_TLS = 2, BLK_VERIFY = 4 };
enum { CLS_ALL = 0, CLS_TLS, CLS_VERIFY, CLS_COUNT };

struct block {
    int set;
    char id[40];
    char message[200];
};

struct dctx {
    const struct diag_input *in;
    const struct mxs_settings *set;
    const struct mxs_dns_facts *dns;
    const struct mxs_connect_facts *conn;
    const struct mxs_smtp_facts *smtp;
    const struct mxs_tls_facts *tls;
    const struct mxs_chain_facts *chain;
    struct mxs_finding *out;
    int max, n, dropped;
    int per_step[MXS_STEP_COUNT];       /* findings filed, dropped included */
    struct block blk[MXS_STEP_COUNT][CLS_COUNT];
    int mx_i;                           /* probed MX index, -1 none         */
    char dom[300], mx[300];             /* escaped names                    */
    int warn_days;
};

/* Zero facts stand in for NULL pointers: "nothing known yet". */
static const struct mxs_settings zero_set;
static const struct mxs_dns_facts zero_dns;
static const struct mxs_connect_facts zero_conn;
static const struct mxs_smtp_facts zero_smtp;
static const struct mxs_tls_facts zero_tls;
static const struct mxs_chain_facts zero_chain;

/* ---- small text helpers -------------------------------------------------- */

/* Append to a fixed field, cut silently at its end (fields are bounded). */
static void app(char *dst, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void app(char *dst, size_t cap, const char *fmt, ...)
{
    size_t len = strnlen(dst, cap);
    if (cap == 0 || len >= cap - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst + len, cap - len, fmt, ap);
    va_end(ap);
}

#define APP(field, ...) app((field), sizeof(field), __VA_ARGS__)

/* Escape a NUL-terminated untrusted string into tmp (ASCII only). */
static const char *esc(char *tmp, size_t n, const char *s)
{
    mxs_escape_str(s ? s : "", tmp, n, MXS_ESC_ASCII);
    return tmp;
}

static const char *iso(int64_t t, char out[32])
{
    struct tm tm;
    time_t tt = (time_t)t;
    if ((int64_t)tt != t || !gmtime_r(&tt, &tm) ||
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, 32, "(time %lld)", (long long)t);
    return out;
}

static const char *secs(int64_t ms, char out[32])
{
    if (ms < 0)
        ms = 0;
    snprintf(out, 32, "%lld.%01lld s", (long long)(ms / 1000),
             (long long)((ms % 1000) / 100));
    return out;
}

/* An SMTP reply as the operator saw it: "554-line1\n554 line2", escaped. */
static void reply_lines(const struct mxs_reply *r, char *dst, size_t cap)
{
    const char *p = r->text, *end = r->text + strnlen(r->text, sizeof r->text);
    int first = 1;
    if (r->code == 0) {
        app(dst, cap, "(no reply)");
        return;
    }
    if (p == end) {
        app(dst, cap, "%d", r->code);
        return;
    }
    while (p <= end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        char tmp[600];
        mxs_escape(p, (size_t)(le - p), tmp, sizeof tmp, MXS_ESC_ASCII);
        app(dst, cap, "%s%d%c%s", first ? "" : "\n", r->code, nl ? '-' : ' ', tmp);
        first = 0;
        if (!nl)
            break;
        p = nl + 1;
    }
    if (r->truncated)
        app(dst, cap, "\n(reply cut: lines or bytes dropped)");
}

/* First line of a reply, escaped, for one-line messages. */
static const char *reply_first(const struct mxs_reply *r, char *out, size_t n)
{
    size_t l = strcspn(r->text, "\n");
    char tmp[200];
    mxs_escape(r->text, l < 120 ? l : 120, tmp, sizeof tmp, MXS_ESC_ASCII);
    out[0] = 0;
    app(out, n, "%d %s", r->code, tmp);
    return out;
}

static int is_final(enum mxs_step_state s)
{
    return s == MXS_ST_OK || s == MXS_ST_WARN || s == MXS_ST_FAIL;
}

static const char *lower_step(enum mxs_step s, char out[16])
{
    const char *n = mxs_step_name(s);
    size_t i = 0;
    for (; n[i] && i < 15; i++)
        out[i] = (char)((n[i] >= 'A' && n[i] <= 'Z') ? n[i] + 32 : n[i]);
    out[i] = 0;
    return out;
}

/* ---- findings ------------------------------------------------------------ */

static void fnew(struct mxs_finding *f, const char *id, enum mxs_severity sev,
                 enum mxs_step step, int depth)
{
    memset(f, 0, sizeof *f);
    snprintf(f->id, sizeof f->id, "%s", id);
    f->severity = sev;
    f->step = step;
    f->cert_depth = depth;
}

/* Sort key: step ascending, then severity descending; equal keys keep the
 * order of generation (which puts the most telling finding first). */
static int fkey_after(const struct mxs_finding *a, const struct mxs_finding *b)
{
    if (a->step != b->step)
        return a->step > b->step;
    return a->severity < b->severity;
}

static void commit(struct dctx *c, const struct mxs_finding *f, unsigned blocks)
{
    if (f->step >= 0 && f->step < MXS_STEP_COUNT) {
        c->per_step[f->step]++;
        static const unsigned bit[CLS_COUNT] = {BLK_ALL, BLK_TLS, BLK_VERIFY};
        for (int k = 0; k < CLS_COUNT; k++) {
            struct block *b = &c->blk[f->step][k];
            if ((blocks & bit[k]) && !b->set) {
                b->set = 1;
                APP(b->id, "%s", f->id);
                APP(b->message, "%s", f->message);
            }
        }
    }
    if (!c->out || c->max <= 0) {
        c->dropped++;
        return;
    }
    if (c->n >= c->max) {
        /* Full: evict the latest of the least severe, if less severe. */
        int victim = -1;
        for (int i = 0; i < c->n; i++)
            if (victim < 0 || c->out[i].severity <= c->out[victim].severity)
                victim = i;
        c->dropped++;
        if (victim < 0 || c->out[victim].severity >= f->severity)
            return;
        memmove(&c->out[victim], &c->out[victim + 1],
                (size_t)(c->n - victim - 1) * sizeof *c->out);
        c->n--;
    }
    int pos = c->n;
    while (pos > 0 && fkey_after(&c->out[pos - 1], f))
        pos--;
    memmove(&c->out[pos + 1], &c->out[pos], (size_t)(c->n - pos) * sizeof *c->out);
    c->out[pos] = *f;
    c->n++;
}

/* The third-party part of the advice, for problems on the receiving side. */
static void third_tls(struct dctx *c, struct mxs_finding *f)
{
    APP(f->advice, DIAG_ADVICE_THIRD "send this report (mxscope `report`) to "
        "their postmaster; until it is fixed, deliver to %s with opportunistic "
        "TLS if your policy allows (Postfix: `%s may` in smtp_tls_policy_maps; "
        "Exchange: a send connector for the domain without RequireTLS / domain "
        "security).", c->dom, c->dom);
}

static void third_reach(struct mxs_finding *f)
{
    APP(f->advice, DIAG_ADVICE_THIRD "send this report to their postmaster by "
        "another channel (web form, phone, an address at another domain); "
        "temporary (4xx) failures are retried by your MTA for its queue "
        "lifetime (Postfix maximal_queue_lifetime, 5 days by default).");
}

/* ---- RESOLVE -------------------------------------------------------------- */

static void dns_answer_finding(struct dctx *c, const struct mxs_dns_answer *a,
                               const char *what, const char *name, int blocking)
{
    struct mxs_finding f;
    enum mxs_severity sev = blocking ? MXS_SEV_ERROR : MXS_SEV_WARNING;
    unsigned blk = blocking ? BLK_ALL : 0;
    char t[600];
    esc(t, sizeof t, name);
    if (a->dnssec == MXS_DNSSEC_BOGUS) {
        char w[600];
        fnew(&f, "dnssec-bogus", sev, MXS_STEP_RESOLVE, -1);
        APP(f.message, "The DNSSEC signatures of the %s records of %s do not "
            "validate (bogus): validating resolvers answer SERVFAIL.", what, t);
        APP(f.evidence, "%s %s: DNSSEC bogus, rcode %s\nwhy: %s", what, t,
            mxs_dns_rcode_name(a->rcode), esc(w, sizeof w, a->why_bogus));
        APP(f.advice, "If it is your server: re-sign the zone or fix the DS "
            "record at the parent (expired RRSIG, key rollover with a stale DS "
            "are the usual causes); check with `delv %s %s` or DNSViz.", t, what);
        APP(f.advice, DIAG_ADVICE_THIRD "mail from validating senders is "
            "deferred until they fix DNSSEC; send them this report.");
        commit(c, &f, blk);
        return;
    }
    switch (a->rcode) {
    case MXS_DNS_NXDOMAIN:
        fnew(&f, "dns-nxdomain", sev, MXS_STEP_RESOLVE, -1);
        APP(f.message, "%s does not exist in DNS (NXDOMAIN for %s).", t, what);
        APP(f.evidence, "%s %s: rcode NXDOMAIN, DNSSEC %s", what, t,
            mxs_dnssec_name(a->dnssec));
        APP(f.advice, "If it is your server: publish the %s records (check the "
            "delegation at the registrar with `dig NS`); a typo in the MX target "
            "is a common cause.", what);
        APP(f.advice, DIAG_ADVICE_THIRD "check the address you are sending to "
            "for a typo; otherwise mail to it bounces, nothing to fix on your "
            "side.");
        break;
    case MXS_DNS_SERVFAIL:
        fnew(&f, "dns-servfail", sev, MXS_STEP_RESOLVE, -1);
        APP(f.message, "The DNS lookup of %s for %s failed (SERVFAIL): mail is "
            "deferred, not delivered.", what, t);
        APP(f.evidence, "%s %s: rcode SERVFAIL, DNSSEC %s", what, t,
            mxs_dnssec_name(a->dnssec));
        APP(f.advice, "If it is your server: check the authoritative name "
            "servers answer (`dig +norec @ns %s %s`), lame delegations and "
            "DNSSEC.", t, what);
        APP(f.advice, DIAG_ADVICE_THIRD "try another resolver (mxscope `set "
            "resolver`); if it persists, tell their postmaster.");
        break;
    case MXS_DNS_TIMEOUT:
        fnew(&f, "dns-timeout", sev, MXS_STEP_RESOLVE, -1);
        APP(f.message, "The DNS lookup of %s for %s timed out: mail is deferred.",
            what, t);
        APP(f.evidence, "%s %s: no answer (timeout)", what, t);
        APP(f.advice, "If it is your server: check the authoritative servers "
            "are reachable over UDP and TCP port 53.");
        APP(f.advice, DIAG_ADVICE_THIRD "check your own resolver first (mxscope "
            "`set resolver`); if others time out too, tell their postmaster.");
        break;
    case MXS_DNS_ERROR:
        fnew(&f, "dns-error", sev, MXS_STEP_RESOLVE, -1);
        APP(f.message, "The DNS lookup of %s for %s failed.", what, t);
        APP(f.evidence, "%s %s: rcode %s", what, t, mxs_dns_rcode_name(a->rcode));
        APP(f.advice, "If it is your server: check the zone answers for %s.", what);
        APP(f.advice, DIAG_ADVICE_THIRD "check your resolver settings.");
        break;
    default:
        return;
    }
    commit(c, &f, blk);
}

static void diag_resolve(struct dctx *c)
{
    const struct mxs_dns_facts *d = c->dns;
    struct mxs_finding f;
    if (!d->done && !is_final(c->in->state[MXS_STEP_RESOLVE]))
        return;
    if (!c->set->target_is_host) {
        if (d->mx_answer.dnssec == MXS_DNSSEC_BOGUS || d->mx_answer.rcode == MXS_DNS_NXDOMAIN ||
            d->mx_answer.rcode == MXS_DNS_SERVFAIL || d->mx_answer.rcode == MXS_DNS_TIMEOUT ||
            d->mx_answer.rcode == MXS_DNS_ERROR) {
            dns_answer_finding(c, &d->mx_answer, "MX", c->dom, 1);
            return;
        }
        if (d->null_mx) {
            fnew(&f, "mx-null", MXS_SEV_ERROR, MXS_STEP_RESOLVE, -1);
            APP(f.message, "%s publishes a null MX (\"0 .\", RFC 7505): it "
                "accepts no mail at all.", c->dom);
            APP(f.evidence, "MX %s: 0 .", c->dom);
            APP(f.advice, "If it is your server: if the domain should receive "
                "mail, replace the null MX with real MX records.");
            APP(f.advice, DIAG_ADVICE_THIRD "the domain declares it receives no "
                "mail; use another address.");
            commit(c, &f, BLK_ALL);
            return;
        }
        if (d->implicit_mx) {
            fnew(&f, "mx-implicit", MXS_SEV_WARNING, MXS_STEP_RESOLVE, -1);
            APP(f.message, "%s has no MX records: senders fall back to its own "
                "A/AAAA address (implicit MX, RFC 5321 5.1).", c->dom);
            APP(f.evidence, "MX %s: %s (no MX records); delivering to %s itself",
                c->dom, mxs_dns_rcode_name(d->mx_answer.rcode), c->dom);
            APP(f.advice, "If it is your server: publish an explicit MX record; "
                "some senders and MTA-STS/DANE setups need one.");
            APP(f.advice, DIAG_ADVICE_THIRD "nothing to do if delivery works; "
                "tell them if mail should go elsewhere.");
            commit(c, &f, 0);
        }
    }
    /* MX hosts without addresses: blocking only when none has any. */
    int n = d->n_mx < MXS_MAX_MX ? d->n_mx : MXS_MAX_MX, with_addr = 0;
    for (int i = 0; i < n; i++)
        if (d->mx[i].n_addr > 0)
            with_addr++;
    for (int i = 0; i < n && !d->null_mx; i++) {
        const struct mxs_mx *m = &d->mx[i];
        if (m->n_addr > 0)
            continue;
        int blocking = with_addr == 0;
        char h[600];
        esc(h, sizeof h, m->host);
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
        fnew(&f, "dns-no-address", blocking ? MXS_SEV_ERROR : MXS_SEV_WARNING,
             MXS_STEP_RESOLVE, -1);
        APP(f.message, "The MX host %s has no %s address.", h,
            c->set->family == 4 ? "IPv4" : c->set->family == 6 ? "IPv6" : "IPv4 or IPv6");
        APP(f.evidence, "MX %u %s: A %s, AAAA %s%s", (unsigned)m->preference, h,
            mxs_dns_rcode_name(m->a.rcode), mxs_dns_rcode_name(m->aaaa.rcode),
            c->set->family ? " (address family restricted by settings)" : "");
        APP(f.advice, "If it is your server: publish A/AAAA records for %s, or "
            "point the MX at a host that has them (an MX must not point at a "
            "CNAME or an IP literal).", h);
        third_reach(&f);
        commit(c, &f, blocking ? BLK_ALL : 0);
    }
    /* A bogus TLSA answer only stops DANE senders: a warning here. */
    if (c->mx_i >= 0 && d->mx[c->mx_i].tlsa.dnssec == MXS_DNSSEC_BOGUS) {
        char h[600], tmp[600];
        uint16_t port = c->set->port ? c->set->port : 25;
        snprintf(tmp, sizeof tmp, "_%u._tcp.%s", (unsigned)port, d->mx[c->mx_i].host);
        esc(h, sizeof h, tmp);
        fnew(&f, "dnssec-bogus", MXS_SEV_WARNING, MXS_STEP_RESOLVE, -1);
        APP(f.message, "The TLSA records %s are DNSSEC-bogus: DANE senders "
            "(Postfix `dane`) defer mail to this host.", h);
        APP(f.evidence, "TLSA %s: DNSSEC bogus\nwhy: %s", h,
            esc(tmp, sizeof tmp, d->mx[c->mx_i].tlsa.why_bogus));
        APP(f.advice, "If it is your server: re-sign the zone or fix its DS "
            "record; check with `delv TLSA %s`.", h);
        APP(f.advice, DIAG_ADVICE_THIRD "send them this report.");
        commit(c, &f, 0);
    }
}

/* ---- CONNECT -------------------------------------------------------------- */

static void diag_connect(struct dctx *c)
{
    const struct mxs_connect_facts *k = c->conn;
    int to = c->in->timed_out[MXS_STEP_CONNECT];
    /* The engine may leave done = 0 when no attempt succeeded: an error
     * class recorded by a finished step is evidence enough. */
    if (!k->done && !to && !(is_final(c->in->state[MXS_STEP_CONNECT]) &&
                             k->error != MXS_CONN_OK))
        return;
    if (k->error == MXS_CONN_OK && !to)
        return;
    struct mxs_finding f;
    char a[200], s[32];
    esc(a, sizeof a, k->addr.text);
    const char *errtxt = k->err_no ? strerror(k->err_no) : "no errno";
    enum mxs_conn_error e = k->error == MXS_CONN_OK ? MXS_CONN_TIMEOUT : k->error;
    switch (e) {
    case MXS_CONN_REFUSED:
        fnew(&f, "connect-refused", MXS_SEV_ERROR, MXS_STEP_CONNECT, -1);
        APP(f.message, "The connection to %s port %u was refused: nothing "
            "listens there, or a firewall rejects it.", a, (unsigned)k->port);
        APP(f.advice, "If it is your server: check the MTA runs and listens on "
            "that address (Postfix: `postfix status`, `postconf inet_interfaces`,"
            " the smtp line in master.cf; Exchange: the Default Frontend receive "
            "connector's bindings, the MSExchangeFrontEndTransport service, "
            "Windows Firewall).");
        break;
    case MXS_CONN_TIMEOUT:
        fnew(&f, "connect-timeout", MXS_SEV_ERROR, MXS_STEP_CONNECT, -1);
        APP(f.message, "No answer from %s port %u: the connection timed out "
            "(packets are dropped by a firewall, or the host is down).", a,
            (unsigned)k->port);
        APP(f.advice, "If it is your server: check the host is up and that "
            "port %u is open in every firewall/NAT/security group on the way. "
            "Also check your own network lets outgoing port %u out (many ISPs "
            "and clouds block it).", (unsigned)k->port, (unsigned)k->port);
        break;
    case MXS_CONN_UNREACHABLE:
        fnew(&f, "connect-unreachable", MXS_SEV_ERROR, MXS_STEP_CONNECT, -1);
        APP(f.message, "%s is unreachable (no route to the host or network).", a);
        APP(f.advice, "If it is your server: check routing and the published "
            "address (an AAAA record for a host without working IPv6 is a "
            "common cause). If IPv6 is the problem on your side, try `set "
            "family 4`.");
        break;
    default:
        fnew(&f, "connect-failed", MXS_SEV_ERROR, MXS_STEP_CONNECT, -1);
        APP(f.message, "The connection to %s port %u failed.", a, (unsigned)k->port);
        APP(f.advice, "If it is your server: check the address and the MTA.");
        break;
    }
    APP(f.evidence, "address %s port %u, %d attempt%s, %s: %s (errno %d)", a,
        (unsigned)k->port, k->attempts, k->attempts == 1 ? "" : "s",
        secs(k->elapsed_ms ? k->elapsed_ms : c->in->elapsed_ms[MXS_STEP_CONNECT], s),
        errtxt, k->err_no);
    if (to)
        APP(f.evidence, "\nthe CONNECT stage deadline passed");
    third_reach(&f);
    commit(c, &f, BLK_ALL);
}

/* ---- BANNER --------------------------------------------------------------- */

static void diag_banner(struct dctx *c)
{
    const struct mxs_reply *b = &c->smtp->banner;
    const struct diag_input *in = c->in;
    struct mxs_finding f;
    char s[32], one[200];
    if (b->code >= 500 || (b->code >= 400 && b->code < 500)) {
        int perm = b->code >= 500;
        fnew(&f, perm ? "banner-rejected" : "banner-throttled", MXS_SEV_ERROR,
             MXS_STEP_BANNER, -1);
        if (perm)
            APP(f.message, "The server refuses us in its greeting (%s): our "
                "address or host is not welcome.", reply_first(b, one, sizeof one));
        else
            APP(f.message, "The server greets with a temporary refusal (%s): it "
                "throttles or is overloaded; senders retry later.",
                reply_first(b, one, sizeof one));
        APP(f.evidence, "greeting after %s:\n", secs(c->smtp->banner_ms, s));
        reply_lines(b, f.evidence, sizeof f.evidence);
        if (perm)
            APP(f.advice, "If it is your server: the reply text names the rule: "
                "check postscreen / smtpd_client_restrictions and DNSBL hits in "
                "the Postfix log, or the receive connector's RemoteIPRanges and "
                "connection filtering (IP block list) in Exchange.");
        else
            APP(f.advice, "If it is your server: check connection limits "
                "(Postfix smtpd_client_connection_count_limit, anvil, postscreen;"
                " Exchange MaxInboundConnectionPerSource, back pressure Event "
                "15004-15007) and the load.");
        APP(f.advice, DIAG_ADVICE_THIRD "check whether your sending address is "
            "on a block list; send this report to their postmaster by another "
            "channel.");
        commit(c, &f, BLK_ALL);
        return;
    }
    if (in->timed_out[MXS_STEP_BANNER] && b->code == 0) {
        fnew(&f, "banner-timeout", MXS_SEV_ERROR, MXS_STEP_BANNER, -1);
        APP(f.message, "The server accepted the connection but sent no greeting "
            "within %s.", secs(in->elapsed_ms[MXS_STEP_BANNER], s));
        APP(f.evidence, "no 220 greeting after %s (BANNER deadline %d ms)",
            secs(in->elapsed_ms[MXS_STEP_BANNER], s),
            c->set->timeout_ms[MXS_STEP_BANNER]);
        APP(f.advice, "If it is your server: a greeting delay longer than a "
            "minute or two (tarpit, postscreen_greet_wait, a slow reverse DNS "
            "lookup) makes senders give up; RFC 5321 senders wait 5 minutes. "
            "Check the MTA is not hung.");
        APP(f.advice, DIAG_ADVICE_THIRD "try a longer wait (`set timeout-banner`) "
            "to tell a tarpit from a hung server, then tell their postmaster.");
        commit(c, &f, BLK_ALL);
        return;
    }
    if (b->code == 0 && (in->reset[MXS_STEP_BANNER] ||
                         in->state[MXS_STEP_BANNER] == MXS_ST_FAIL)) {
        char e[300];
        fnew(&f, in->reset[MXS_STEP_BANNER] ? "banner-closed" : "banner-failed",
             MXS_SEV_ERROR, MXS_STEP_BANNER, -1);
        APP(f.message, "The server %s before sending a greeting.",
            in->reset[MXS_STEP_BANNER] ? "closed the connection" : "failed");
        APP(f.evidence, "after %s: %s", secs(in->elapsed_ms[MXS_STEP_BANNER], s),
            esc(e, sizeof e, in->step_error[MXS_STEP_BANNER]));
        if (in->reset[MXS_STEP_BANNER])
            APP(f.advice, "If it is your server: a close without greeting is often "
                "a pre-greet trap (client talked first), a connection limit or a "
                "crashed smtpd: check the MTA log at that time.");
        else
            APP(f.advice, "If it is your server: what answered is not an SMTP "
                "greeting (see the evidence): another service on this port, a "
                "proxy or load balancer in front of the MTA, or a broken "
                "greeting; check what listens there.");
        third_reach(&f);
        commit(c, &f, BLK_ALL);
        return;
    }
    if (b->code >= 200 && b->code < 300 && c->smtp->banner_ms > DIAG_BANNER_SLOW_MS) {
        fnew(&f, "banner-slow", MXS_SEV_WARNING, MXS_STEP_BANNER, -1);
        APP(f.message, "The greeting came after %s (more than %d s): impatient "
            "senders and checkers give up.", secs(c->smtp->banner_ms, s),
            DIAG_BANNER_SLOW_MS / 1000);
        APP(f.evidence, "greeting after %s:\n", secs(c->smtp->banner_ms, s));
        reply_lines(b, f.evidence, sizeof f.evidence);
        APP(f.advice, "If it is your server: a deliberate greet delay "
            "(postscreen_greet_wait, a tarpit) is fine below a minute; otherwise "
            "look for slow reverse DNS or an overloaded server.");
        APP(f.advice, DIAG_ADVICE_THIRD "nothing to fix on your side: MTAs wait "
            "up to 5 minutes (Postfix smtp_helo_timeout 300 s).");
        commit(c, &f, 0);
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
        app(dst, cap, "%s%s", i ? " " : "", esc(t, sizeof t, cp->name[i]));
    }
    if (n == 0)
        app(dst, cap, "(none)");
}

static int ehlo_accepted(const struct mxs_smtp_facts *s)
{
    if (s->ehlo.code >= 200 && s->ehlo.code < 300)
        return 1;
    return s->used_helo && s->helo.code >= 200 && s->helo.code < 300;
}

static void diag_ehlo(struct dctx *c)
{
    const struct mxs_smtp_facts *sm = c->smtp;
    const struct diag_input *in = c->in;
    struct mxs_finding f;
    char e[600];
    if (sm->ehlo.code == 0 && !is_final(in->state[MXS_STEP_EHLO]))
        return;
    esc(e, sizeof e, c->set->ehlo_name);
    if (sm->ehlo.code >= 400 && !ehlo_accepted(sm)) {
        char one[200];
        fnew(&f, "ehlo-rejected", MXS_SEV_ERROR, MXS_STEP_EHLO, -1);
        APP(f.message, "The server refuses our EHLO%s (%s).",
            sm->used_helo ? " and HELO" : "", reply_first(
                sm->used_helo && sm->helo.code ? &sm->helo : &sm->ehlo, one, sizeof one));
        APP(f.evidence, "EHLO %s ->\n", e);
        reply_lines(&sm->ehlo, f.evidence, sizeof f.evidence);
        if (sm->used_helo) {
            APP(f.evidence, "\nHELO %s ->\n", e);
            reply_lines(&sm->helo, f.evidence, sizeof f.evidence);
        }
        APP(f.advice, "If it is your server: the reply names the rule "
            "(Postfix smtpd_helo_restrictions such as reject_unknown_helo_hostname;"
            " Exchange receive connector settings).");
        APP(f.advice, DIAG_ADVICE_THIRD "many receivers reject an EHLO name that "
            "is not a resolvable FQDN matching your reverse DNS: check yours "
            "(`set ehlo`); otherwise send them this report.");
        commit(c, &f, BLK_ALL);
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
        fnew(&f, "ehlo-masked", hides ? MXS_SEV_ERROR : MXS_SEV_WARNING,
             MXS_STEP_EHLO, -1);
        APP(f.message, "The EHLO reply carries masked keywords (like XXXXXXXA): "
            "a firewall on the path rewrites SMTP%s.",
            hides ? " and hides STARTTLS, so no TLS is possible" : "");
        APP(f.evidence, "EHLO keywords: ");
        caps_list(&sm->caps, f.evidence, sizeof f.evidence);
        APP(f.advice, "If it is your server: turn off SMTP/ESMTP inspection on "
            "the firewall in front of it (Cisco ASA: `no inspect esmtp` in the "
            "global policy-map; other vendors: the SMTP proxy/fixup feature), or "
            "let it pass STARTTLS. The firewall may also be on YOUR way out: "
            "test from another network.");
        third_tls(c, &f);
        /* Hiding STARTTLS is what stops TLS here: the verdicts must name the
         * firewall, not send the admin to enable STARTTLS on the MTA. */
        commit(c, &f, hides ? BLK_TLS : 0);
    }
}

/* ---- STARTTLS -------------------------------------------------------------- */

static void diag_starttls(struct dctx *c)
{
    const struct mxs_smtp_facts *sm = c->smtp;
    const struct diag_input *in = c->in;
    struct mxs_finding f;
    char one[200];
    if (c->set->tls_on_connect)
        return;
    if (ehlo_accepted(sm) && is_final(in->state[MXS_STEP_EHLO]) && !sm->caps.starttls) {
        fnew(&f, "starttls-not-offered", MXS_SEV_ERROR, MXS_STEP_STARTTLS, -1);
        APP(f.message, "The server does not offer STARTTLS: mail to it can only "
            "travel unencrypted.");
        if (!(sm->ehlo.code >= 200 && sm->ehlo.code < 300))
            APP(f.evidence, "EHLO refused (%s), HELO accepted: no ESMTP, so no "
                "STARTTLS\n", reply_first(&sm->ehlo, one, sizeof one));
        APP(f.evidence, "EHLO keywords: ");
        caps_list(&sm->caps, f.evidence, sizeof f.evidence);
        if (sm->starttls.code) {
            /* We try anyway: a firewall that masks the keyword usually
             * mangles the command too, and its answer says so. */
            APP(f.evidence, "\nSTARTTLS sent anyway ->\n");
            reply_lines(&sm->starttls, f.evidence, sizeof f.evidence);
        }
        APP(f.advice, "If it is your server: Postfix: set smtpd_tls_security_level"
            " = may and smtpd_tls_chain_files (key, then certificate and "
            "intermediates), `postfix reload`; Exchange: assign a certificate "
            "for the connector FQDN to SMTP (`Enable-ExchangeCertificate "
            "-Thumbprint <thumbprint> -Services SMTP`; Event 12014 means none "
            "matches the FQDN).");
        APP(f.advice, DIAG_ADVICE_THIRD "send them this report; with a TLS-"
            "required policy for %s mail stays queued, with opportunistic TLS it "
            "goes in clear.", c->dom);
        commit(c, &f, BLK_TLS);
    }
    const struct mxs_reply *r = &sm->starttls;
    /* Refusing a command it never offered is no separate problem: the reply
     * is evidence of starttls-not-offered above. */
    if (r->code != 0 && r->code != 220 && sm->caps.starttls) {
        fnew(&f, "starttls-refused", MXS_SEV_ERROR, MXS_STEP_STARTTLS, -1);
        if (r->code == 454)
            APP(f.message, "The server offers STARTTLS but refuses it with %s: "
                "its TLS configuration is broken (certificate or key cannot be "
                "loaded).", reply_first(r, one, sizeof one));
        else
            APP(f.message, "The server refused STARTTLS with %s.",
                reply_first(r, one, sizeof one));
        APP(f.evidence, "STARTTLS ->\n");
        reply_lines(r, f.evidence, sizeof f.evidence);
        APP(f.advice, "If it is your server: Postfix logs the cause (\"cannot "
            "load certificate\", \"key does not match\", permissions of the "
            "files in smtpd_tls_chain_files / smtpd_tls_cert_file); fix them and"
            " `postfix reload`. Exchange: Event 12014 = no valid certificate "
            "for the connector FQDN; `Get-ExchangeCertificate | fl "
            "Thumbprint,Subject,NotAfter,Services`, then `Enable-"
            "ExchangeCertificate -Thumbprint <thumbprint> -Services SMTP`.");
        third_tls(c, &f);
        commit(c, &f, BLK_TLS);
    }
    if (sm->leftover_plain > 0) {
        fnew(&f, "starttls-plaintext-leftover", MXS_SEV_WARNING, MXS_STEP_STARTTLS, -1);
        APP(f.message, "The server sent %zu byte%s after its STARTTLS reply, "
            "before TLS: response injection or a pipelining bug (the bytes were "
            "discarded).", sm->leftover_plain, sm->leftover_plain == 1 ? "" : "s");
        APP(f.evidence, "%zu plaintext byte%s after \"%s\" were discarded, never "
            "read as TLS (CVE-2011-0411 class)", sm->leftover_plain,
            sm->leftover_plain == 1 ? "" : "s", reply_first(r, one, sizeof one));
        APP(f.advice, "If it is your server: an SMTP proxy or firewall in front "
            "of the MTA may answer for it; an MTA must flush its input at "
            "STARTTLS: update it.");
        third_tls(c, &f);
        commit(c, &f, 0);
    }
}

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
        name = esc(t, sizeof t, given);
    for (size_t i = 0; !name && i < sizeof tab / sizeof tab[0]; i++)
        if (tab[i].c == code)
            name = tab[i].n;
    snprintf(out, n, "%s(%d)", name ? name : "unknown", code);
    return out;
}

static void tls_evidence(struct dctx *c, struct mxs_finding *f)
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
            esc(e, sizeof e, t->error));
    if (t->cert_requested)
        APP(f->evidence, "the server sent a CertificateRequest; we %s a client "
            "certificate\n", t->client_cert_sent ? "sent" : "did not send");
    APP(f->evidence, "SNI sent: %s", t->sni_sent[0] ? esc(e, sizeof e, t->sni_sent) : "(none)");
    if (c->in->timed_out[MXS_STEP_HANDSHAKE])
        APP(f->evidence, "\nno handshake within the HANDSHAKE deadline (%d ms)",
            c->set->timeout_ms[MXS_STEP_HANDSHAKE]);
    if (c->in->reset[MXS_STEP_HANDSHAKE])
        APP(f->evidence, "\nthe server closed the connection during the handshake");
    if (c->in->step_error[MXS_STEP_HANDSHAKE][0])
        APP(f->evidence, "\nengine: %s", esc(e, sizeof e, c->in->step_error[MXS_STEP_HANDSHAKE]));
}

static void diag_handshake(struct dctx *c)
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
    if (!t->attempted && !failed)
        return;
    if (shv == 10 || shv == 11) {
        fnew(&f, "tls-obsolete-only", failed ? MXS_SEV_ERROR : MXS_SEV_WARNING,
             MXS_STEP_HANDSHAKE, -1);
        APP(f.message, "The server only speaks TLS 1.%d, which is obsolete: "
            "we offered TLS %d.%d-%d.%d and modern senders refuse it.", shv - 10 + 0,
            tmin / 10, tmin % 10, tmax / 10, tmax % 10);
        tls_evidence(c, &f);
        APP(f.advice, "If it is your server: enable TLS 1.2 and 1.3 (Postfix: "
            "smtpd_tls_protocols = >=TLSv1.2 with an OpenSSL that supports them; "
            "Exchange/Windows: enable TLS 1.2 for Schannel and .NET "
            "(SchUseStrongCrypto), apply current updates).");
        third_tls(c, &f);
        commit(c, &f, failed ? BLK_TLS : 0);
        specific = 1;
    } else if (failed && (t->alert_received == 70 || t->alert_sent == 70 ||
                          (shv && (shv < tmin || shv > tmax)))) {
        fnew(&f, "tls-no-common-version", MXS_SEV_ERROR, MXS_STEP_HANDSHAKE, -1);
        APP(f.message, "We and the server share no TLS version: we offered TLS "
            "%d.%d-%d.%d%s.", tmin / 10, tmin % 10, tmax / 10, tmax % 10,
            shv ? "" : " and the server answered protocol_version");
        if (shv)
            APP(f.message, " The server chose TLS %d.%d.", shv / 10, shv % 10);
        tls_evidence(c, &f);
        APP(f.advice, "If it is your server: allow TLS 1.2 and 1.3 (Postfix "
            "smtpd_tls_protocols / smtpd_tls_mandatory_protocols; Exchange: "
            "Schannel protocol settings). If you restricted our side with "
            "`set tls-min`/`tls-max`, widen the range.");
        third_tls(c, &f);
        commit(c, &f, BLK_TLS);
        specific = 1;
    }
    if (!specific && failed && (t->alert_received == 116 || t->cert_requested)) {
        fnew(&f, "tls-client-cert-required", MXS_SEV_ERROR, MXS_STEP_HANDSHAKE, -1);
        APP(f.message, "The server asked for a client certificate and the "
            "handshake failed");
        if (t->alert_received >= 0)
            APP(f.message, " (alert %s)",
                alert_text(t->alert_received, t->alert_name, a, sizeof a));
        APP(f.message, ": it requires mutual TLS.");
        tls_evidence(c, &f);
        APP(f.advice, "If it is your server: a public MX must not require client "
            "certificates (Postfix: smtpd_tls_req_ccert = no; Exchange: only "
            "domain-secured / mutual TLS partners in TLSReceiveDomainSecureList "
            "need them, on a dedicated receive connector).");
        APP(f.advice, DIAG_ADVICE_THIRD "ask them which client certificate they "
            "expect and configure it (mxscope `set client-cert`/`client-key`; "
            "Postfix smtp_tls_chain_files; Exchange: TlsCertificateName on the "
            "send connector).");
        commit(c, &f, BLK_TLS);
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
        fnew(&f, "tls-client-cert-required", MXS_SEV_ERROR, MXS_STEP_HANDSHAKE, -1);
        APP(f.message, "The server asked for a client certificate, we sent none, "
            "and after the handshake it refuses the session: it requires mutual TLS.");
        if (sm->ehlo2.code) {
            APP(f.evidence, "EHLO after TLS ->\n");
            reply_lines(&sm->ehlo2, f.evidence, sizeof f.evidence);
            APP(f.evidence, "\n");
        } else if (in->step_error[MXS_STEP_EHLO2][0]) {
            char e2[300];
            APP(f.evidence, "EHLO after TLS: %s\n", esc(e2, sizeof e2, in->step_error[MXS_STEP_EHLO2]));
        }
        tls_evidence(c, &f);
        APP(f.advice, "If it is your server: a public MX must not require client "
            "certificates (Postfix: smtpd_tls_req_ccert = no; Exchange: only "
            "domain-secured / mutual TLS partners need them, on a dedicated "
            "receive connector).");
        APP(f.advice, DIAG_ADVICE_THIRD "ask them which client certificate they "
            "expect and configure it (mxscope `set cert`/`set key`; Postfix "
            "smtp_tls_chain_files; Exchange: TlsCertificateName on the send "
            "connector).");
        commit(c, &f, BLK_ALL);
    }
    if (!specific && failed) {
        fnew(&f, "tls-handshake-failed", MXS_SEV_ERROR, MXS_STEP_HANDSHAKE, -1);
        APP(f.message, "The TLS handshake failed");
        if (t->alert_received >= 0)
            APP(f.message, ": the server sent the alert %s",
                alert_text(t->alert_received, t->alert_name, a, sizeof a));
        else if (in->timed_out[MXS_STEP_HANDSHAKE])
            APP(f.message, ": no answer within the deadline");
        else if (in->reset[MXS_STEP_HANDSHAKE])
            APP(f.message, ": the server closed the connection");
        APP(f.message, ".");
        tls_evidence(c, &f);
        APP(f.advice, "If it is your server: its TLS log says why (Postfix: "
            "smtpd_tls_loglevel = 1; Exchange: Schannel events in the System "
            "log); check the certificate and key match, cipher and protocol "
            "restrictions, and that the certificate is enabled for SMTP "
            "(`Enable-ExchangeCertificate -Services SMTP`).");
        third_tls(c, &f);
        commit(c, &f, BLK_TLS);
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

/* Names one certificate in evidence: which, subject, issuer, thumbprint. */
static void cert_ident(const struct mxs_chain_facts *ch, int i, char *dst, size_t cap)
{
    const struct mxs_cert *x = &ch->cert[i];
    char s[600], is[600];
    app(dst, cap, "certificate %d (%s): subject %s\nissuer %s\nSHA-1 thumbprint %s\n"
        "SHA-256 %s\n", i, role(ch, i), esc(s, sizeof s, x->subject),
        esc(is, sizeof is, x->issuer), x->sha1[0] ? x->sha1 : "?",
        x->sha256[0] ? x->sha256 : "?");
}

static const char *ADV_RENEW =
    "If it is your server: renew it and install the new certificate: Postfix: "
    "replace the files named by smtpd_tls_chain_files (or smtpd_tls_cert_file),"
    " `postfix reload`; Exchange: `New-ExchangeCertificate` / import, then "
    "`Enable-ExchangeCertificate -Thumbprint <new> -Services SMTP` (Event "
    "12016 = expired, 12018 = about to expire).";

static void names_covered(const struct mxs_cert *x, char *dst, size_t cap)
{
    char t[300];
    int n = x->n_san < MXS_CERT_MAX_SAN ? x->n_san : MXS_CERT_MAX_SAN;
    app(dst, cap, "names in the certificate: ");
    for (int i = 0; i < n; i++)
        app(dst, cap, "%s%s", i ? ", " : "", esc(t, sizeof t, x->san[i]));
    if (x->n_san_total > n)
        app(dst, cap, " (+%d more)", x->n_san_total - n);
    if (n == 0)
        app(dst, cap, "(no subjectAltName)");
    app(dst, cap, "; CN %s", x->cn[0] ? esc(t, sizeof t, x->cn) : "(none)");
}

static void diag_cert(struct dctx *c, int i, int verified_run)
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

    if (expired) {
        long long ago = now > 0 ? (long long)((now - x->not_after) / 86400) : -(long long)x->days_left;
        fnew(&f, "cert-expired", MXS_SEV_ERROR, MXS_STEP_CHAIN, i);
        APP(f.message, "The %s certificate expired on %s (%lld day%s ago).",
            role(ch, i), iso(x->not_after, d), ago, ago == 1 ? "" : "s");
        cert_ident(ch, i, f.evidence, sizeof f.evidence);
        APP(f.evidence, "not after %s (%lld days ago); checked at %s",
            iso(x->not_after, d), ago, now > 0 ? iso(now, d2) : "(now)");
        APP(f.advice, "%s", ADV_RENEW);
        if (i > 0)
            APP(f.advice, " For an intermediate: install the CA's current "
                "intermediate in the chain file / the Intermediate Certification "
                "Authorities store.");
        third_tls(c, &f);
        commit(c, &f, BLK_VERIFY);
    }
    if (future) {
        fnew(&f, "cert-not-yet-valid", MXS_SEV_ERROR, MXS_STEP_CHAIN, i);
        APP(f.message, "The %s certificate is not valid before %s.", role(ch, i),
            iso(x->not_before, d));
        cert_ident(ch, i, f.evidence, sizeof f.evidence);
        APP(f.evidence, "not before %s; checked at %s", iso(x->not_before, d),
            now > 0 ? iso(now, d2) : "(now)");
        APP(f.advice, "If it is your server: check the server's clock, or wait: "
            "the certificate was installed before its start date.");
        third_tls(c, &f);
        commit(c, &f, BLK_VERIFY);
    }
    if (!expired && !future && x->not_after > 0 && x->days_left < c->warn_days) {
        fnew(&f, "cert-expiring-soon", MXS_SEV_WARNING, MXS_STEP_CHAIN, i);
        APP(f.message, "The %s certificate expires on %s, in %d day%s.", role(ch, i),
            iso(x->not_after, d), x->days_left, x->days_left == 1 ? "" : "s");
        cert_ident(ch, i, f.evidence, sizeof f.evidence);
        APP(f.evidence, "not after %s: %d days left (warning below %d)",
            iso(x->not_after, d), x->days_left, c->warn_days);
        APP(f.advice, "%s", ADV_RENEW);
        APP(f.advice, DIAG_ADVICE_THIRD "tell their postmaster before it "
            "expires; verified-TLS delivery stops on that date.");
        commit(c, &f, 0);
    }
    if (i == 0 && verified_run && (!ch->name_matches_mx || (fl & MXS_V_NAME))) {
        char n[600], dm[300];
        const char *checked = ch->name_checked[0] ? ch->name_checked : c->in->mx_host;
        esc(n, sizeof n, checked);
        fnew(&f, "cert-name-mismatch", MXS_SEV_ERROR, MXS_STEP_CHAIN, 0);
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
        APP(f.advice, "If it is your server: get a certificate whose "
            "subjectAltName includes %s (the name the MX record points at); "
            "Exchange: the receive connector FQDN (`Get-ReceiveConnector | fl "
            "Name,Fqdn`) must be in the certificate enabled for SMTP (Event "
            "12014 otherwise); Postfix: the certificate in smtpd_tls_chain_files"
            " must name myhostname.", n);
        third_tls(c, &f);
        commit(c, &f, BLK_VERIFY);
    }
    if ((!strcasecmp(x->key_type, "RSA") && x->key_bits > 0 && x->key_bits < 2048) ||
        (fl & MXS_V_BAD_KEY)) {
        int hard = (fl & MXS_V_BAD_KEY) != 0;
        char kt[40];
        fnew(&f, "cert-weak-key", hard ? MXS_SEV_ERROR : MXS_SEV_WARNING, MXS_STEP_CHAIN, i);
        APP(f.message, "The %s certificate has a weak key: %s %d bits%s.", role(ch, i),
            esc(kt, sizeof kt, x->key_type), x->key_bits,
            hard ? ", which verification rejects" : " (2048 is the minimum)");
        cert_ident(ch, i, f.evidence, sizeof f.evidence);
        APP(f.evidence, "key %s %d bits%s%s", kt, x->key_bits,
            x->curve[0] ? " curve " : "", x->curve[0] ? esc(d2, sizeof d2, x->curve) : "");
        APP(f.advice, "If it is your server: issue a new certificate with an "
            "RSA key of 2048 bits or more (or ECDSA P-256) and install it as "
            "for a renewal (Enable-ExchangeCertificate / smtpd_tls_chain_files).");
        third_tls(c, &f);
        commit(c, &f, hard ? BLK_VERIFY : 0);
    }
    int top_trusted_root = x->self_issued && i == ch->n - 1 && ch->trusted;
    if ((x->sig_weak && !top_trusted_root) || (fl & MXS_V_BAD_MD)) {
        int hard = (fl & MXS_V_BAD_MD) != 0;
        char sa[120];
        fnew(&f, "cert-weak-signature", hard ? MXS_SEV_ERROR : MXS_SEV_WARNING,
             MXS_STEP_CHAIN, i);
        APP(f.message, "The %s certificate is signed with a weak hash (%s).",
            role(ch, i), esc(sa, sizeof sa, x->sig_alg));
        cert_ident(ch, i, f.evidence, sizeof f.evidence);
        APP(f.evidence, "signature algorithm %s", sa);
        APP(f.advice, "If it is your server: reissue the certificate with "
            "SHA-256 or better and install it.");
        third_tls(c, &f);
        commit(c, &f, hard ? BLK_VERIFY : 0);
    }
    if ((x->has_eku && !(x->eku & MXS_EKU_SERVER)) || (fl & MXS_V_EXT_KEY_USAGE)) {
        fnew(&f, "cert-not-server-auth", MXS_SEV_ERROR, MXS_STEP_CHAIN, i);
        APP(f.message, "The %s certificate is not allowed for TLS servers "
            "(its extended key usage lacks serverAuth).", role(ch, i));
        cert_ident(ch, i, f.evidence, sizeof f.evidence);
        APP(f.evidence, "extendedKeyUsage:%s%s%s%s",
            (x->eku & MXS_EKU_SERVER) ? " serverAuth" : "",
            (x->eku & MXS_EKU_CLIENT) ? " clientAuth" : "",
            (x->eku & MXS_EKU_OTHER) ? " other" : "", x->eku ? "" : " (none usable)");
        APP(f.advice, "If it is your server: request a certificate for a TLS "
            "web/mail server (serverAuth); a client or S/MIME certificate does "
            "not work on an MX.");
        third_tls(c, &f);
        commit(c, &f, BLK_VERIFY);
    }
    unsigned rest = fl & (MXS_V_REVOKED | MXS_V_KEY_USAGE | MXS_V_BAD_PK | MXS_V_OTHER);
    if (rest) {
        char ft[200];
        mxs_verify_flags_text(rest, ft, sizeof ft);
        fnew(&f, "cert-verify-failed", MXS_SEV_ERROR, MXS_STEP_CHAIN, i);
        APP(f.message, "The %s certificate fails verification: %s.", role(ch, i), ft);
        cert_ident(ch, i, f.evidence, sizeof f.evidence);
        APP(f.evidence, "verify flags: %s", ft);
        APP(f.advice, "If it is your server: replace the certificate (a revoked "
            "or wrongly constrained certificate cannot be fixed in place).");
        third_tls(c, &f);
        commit(c, &f, BLK_VERIFY);
    }
}

static void diag_chain(struct dctx *c)
{
    const struct mxs_chain_facts *ch = c->chain;
    const struct diag_input *in = c->in;
    int verified_run = is_final(in->state[MXS_STEP_CHAIN]);
    int n = ch->n < MXS_MAX_CHAIN ? ch->n : MXS_MAX_CHAIN;
    struct mxs_finding f;
    if (n <= 0) {
        if (verified_run && c->tls->ok) {
            fnew(&f, "chain-empty", MXS_SEV_ERROR, MXS_STEP_CHAIN, -1);
            APP(f.message, "The server sent no certificate.");
            APP(f.evidence, "0 certificates after a completed handshake");
            APP(f.advice, "If it is your server: configure a certificate.");
            third_tls(c, &f);
            commit(c, &f, BLK_VERIFY);
        }
        return;
    }
    for (int i = 0; i < n; i++)
        diag_cert(c, i, verified_run);
    if (verified_run && !ch->trusted) {
        const struct mxs_cert *top = &ch->cert[n - 1];
        char is[600];
        if (n == 1 && top->self_issued) {
            fnew(&f, "cert-self-signed", MXS_SEV_ERROR, MXS_STEP_CHAIN, 0);
            APP(f.message, "The certificate is self-signed: no sender can "
                "verify it.");
            cert_ident(ch, 0, f.evidence, sizeof f.evidence);
            APP(f.evidence, "subject == issuer, not in the trust store");
            APP(f.advice, "If it is your server: get a certificate from a public "
                "CA (e.g. Let's Encrypt via certbot or, on Exchange, win-acme / "
                "a CA request from `New-ExchangeCertificate`), install it and "
                "enable it for SMTP; opportunistic senders still encrypt, "
                "verifying ones do not deliver.");
            third_tls(c, &f);
            commit(c, &f, BLK_VERIFY);
        } else if (top->self_issued) {
            fnew(&f, "cert-untrusted-root", MXS_SEV_ERROR, MXS_STEP_CHAIN, n - 1);
            APP(f.message, "The chain ends at a root CA that we do not trust "
                "(%s).", esc(is, sizeof is, top->subject));
            cert_ident(ch, n - 1, f.evidence, sizeof f.evidence);
            APP(f.evidence, "self-issued%s, not in the trust store",
                top->is_ca ? " CA" : "");
            APP(f.advice, "If it is your server: a private/internal CA is only "
                "trusted inside your organisation: use a certificate from a "
                "public CA on the MX. If the root is public, the sender's trust "
                "store may be outdated (mxscope `set cafile`).");
            third_tls(c, &f);
            commit(c, &f, BLK_VERIFY);
        } else {
            fnew(&f, "chain-incomplete", MXS_SEV_ERROR, MXS_STEP_CHAIN, n - 1);
            APP(f.message, "The chain is incomplete: the last certificate sent "
                "was issued by %s, which the server does not send and we do not "
                "trust (a missing intermediate, or a private CA).",
                esc(is, sizeof is, top->issuer));
            APP(f.evidence, "%d certificate%s sent; last one:\n", n, n == 1 ? "" : "s");
            cert_ident(ch, n - 1, f.evidence, sizeof f.evidence);
            APP(f.advice, "If it is your server: send the intermediate(s): "
                "Postfix: append them after the certificate in the file named by "
                "smtpd_tls_chain_files (or smtpd_tls_cert_file), `postfix "
                "reload`; Exchange: import the intermediate into the computer's "
                "Intermediate Certification Authorities store (certlm.msc), "
                "restart MSExchangeTransport.");
            third_tls(c, &f);
            commit(c, &f, BLK_VERIFY);
        }
    }
    /* Order: cert i+1 should be the issuer of cert i. */
    for (int i = 0; i + 1 < n; i++) {
        const struct mxs_cert *x = &ch->cert[i];
        if (x->self_issued || !strcmp(ch->cert[i + 1].subject, x->issuer))
            continue;
        int later = -1;
        for (int j = i + 2; j < n && later < 0; j++)
            if (!strcmp(ch->cert[j].subject, x->issuer))
                later = j;
        if (later < 0)
            continue;
        char s1[600], s2[600];
        fnew(&f, "chain-order", MXS_SEV_WARNING, MXS_STEP_CHAIN, i + 1);
        APP(f.message, "The chain is out of order: certificate %d is not the "
            "issuer of certificate %d (the issuer is sent at position %d).",
            i + 1, i, later);
        APP(f.evidence, "certificate %d issuer: %s\ncertificate %d subject: %s\n"
            "certificate %d subject matches",
            i, esc(s1, sizeof s1, x->issuer), i + 1,
            esc(s2, sizeof s2, ch->cert[i + 1].subject), later);
        APP(f.advice, "If it is your server: order the chain file leaf first, "
            "then each issuer in turn (Postfix smtpd_tls_chain_files: key, leaf, "
            "intermediates); strict clients reject other orders.");
        third_tls(c, &f);
        commit(c, &f, 0);
    }
    if (verified_run && ch->fp_expected && !ch->fp_match) {
        char exp[200], na[32], is_buf[600];
        const struct mxs_cert *leaf = &ch->cert[0];
        esc(exp, sizeof exp, c->set->expect_fp);
        fnew(&f, "fingerprint-mismatch", MXS_SEV_ERROR, MXS_STEP_CHAIN, 0);
        APP(f.message, "The server presents a different certificate than "
            "expected: thumbprint %s expected, %s served.", exp,
            strlen(exp) > 40 ? leaf->sha256 : leaf->sha1);
        APP(f.evidence, "expected: %s\nserved SHA-1 thumbprint: %s\nserved "
            "SHA-256: %s\nserved not after %s\n", exp, leaf->sha1, leaf->sha256,
            iso(leaf->not_after, na));
        APP(f.evidence, "served subject %s", esc(is_buf, sizeof is_buf, leaf->subject));
        APP(f.advice, "If it is your server: the renewed certificate is "
            "installed but not in use: Exchange: `Enable-ExchangeCertificate "
            "-Thumbprint <new> -Services SMTP` (check with "
            "`Get-ExchangeCertificate | fl Thumbprint,Services,NotAfter`); "
            "Postfix: update smtpd_tls_chain_files and `postfix reload`. Every "
            "node behind the MX needs it.");
        if (strlen(exp) == 40)
            APP(f.advice, " If the expected thumbprint is the renewed "
                "certificate, <new> is %s.", exp);
        APP(f.advice, DIAG_ADVICE_THIRD "if they renewed on purpose, update your "
            "pin (Postfix `fingerprint` policy, smtp_tls_policy_maps); else send "
            "them this report.");
        commit(c, &f, BLK_VERIFY);
    }
    /* DANE: only where the TLSA records are DNSSEC-secure (and the MX was
     * found securely) do they bind a sender; a mismatch then stops DANE
     * senders only, so it blocks no other policy. */
    const struct mxs_mx *dm = c->mx_i >= 0 ? &c->dns->mx[c->mx_i] : NULL;
    int mx_secure = c->set->target_is_host || c->dns->mx_answer.dnssec == MXS_DNSSEC_SECURE;
    if (verified_run && dm && ch->dane_checked && ch->dane_usable && !ch->dane_match &&
        dm->tlsa.dnssec == MXS_DNSSEC_SECURE && mx_secure) {
        char h[300], hx[140];
        esc(h, sizeof h, dm->host);
        fnew(&f, "dane-mismatch", MXS_SEV_ERROR, MXS_STEP_CHAIN, -1);
        APP(f.message, "No TLSA record of %s matches the certificates the server "
            "sent: DANE senders will not deliver.", h);
        APP(f.evidence, "%s\n", esc(hx, sizeof hx, ch->dane_detail));
        for (int i = 0; i < dm->n_tlsa && i < MXS_MAX_TLSA; i++) {
            const struct mxs_tlsa *t = &dm->tlsa_rr[i];
            size_t tl = t->len < sizeof t->data ? t->len : sizeof t->data;
            hx[0] = 0;
            for (size_t k = 0; k < tl && k < 64; k++)
                snprintf(hx + 2 * k, 3, "%02X", t->data[k]);
            APP(f.evidence, "TLSA %u %u %u %s%s\n", t->usage, t->selector, t->mtype, hx,
                t->truncated ? "..." : "");
        }
        APP(f.evidence, "served leaf: SHA-256 of the key (TLSA 3 1 1) %s, "
            "SHA-256 of the certificate (3 0 1) %s", ch->cert[0].spki_sha256, ch->cert[0].sha256);
        APP(f.advice, "If it is your server: publish the TLSA record of the key "
            "in use (`3 1 1 %s`), and on a key rollover publish the new record "
            "next to the old one, wait two TTLs, then deploy the certificate; "
            "keep both until the old key is gone.", ch->cert[0].spki_sha256);
        APP(f.advice, DIAG_ADVICE_THIRD "DANE senders (Postfix smtp_tls_security_level "
            "= dane) defer mail to them until the records match: send them "
            "this report.");
        commit(c, &f, 0);
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
            app(dst, cap, " +%s", esc(t, sizeof t, b->name[i]));
    for (int i = 0; i < na; i++)
        if (strcmp(a->name[i], "STARTTLS") && !caps_has(b, a->name[i]))
            app(dst, cap, " -%s", esc(t, sizeof t, a->name[i]));
}

static void diag_ehlo2(struct dctx *c)
{
    const struct mxs_smtp_facts *sm = c->smtp;
    struct mxs_finding f;
    char one[200];
    if (sm->ehlo2.code >= 400) {
        fnew(&f, "ehlo2-rejected", MXS_SEV_ERROR, MXS_STEP_EHLO2, -1);
        APP(f.message, "After TLS the server refuses EHLO (%s): mail cannot go "
            "on over the encrypted session.", reply_first(&sm->ehlo2, one, sizeof one));
        APP(f.evidence, "EHLO (inside TLS) ->\n");
        reply_lines(&sm->ehlo2, f.evidence, sizeof f.evidence);
        APP(f.advice, "If it is your server: the MTA or a proxy mishandles the "
            "session after STARTTLS; check its log.");
        third_tls(c, &f);
        commit(c, &f, BLK_ALL);
    }
    if (sm->caps_changed) {
        fnew(&f, "ehlo2-capabilities-changed", MXS_SEV_WARNING, MXS_STEP_EHLO2, -1);
        APP(f.message, "The EHLO keywords differ before and after TLS.");
        APP(f.evidence, "changed after TLS:");
        caps_diff(&sm->caps, &sm->caps2, f.evidence, sizeof f.evidence);
        APP(f.evidence, "\nbefore: ");
        caps_list(&sm->caps, f.evidence, sizeof f.evidence);
        APP(f.evidence, "\nafter: ");
        caps_list(&sm->caps2, f.evidence, sizeof f.evidence);
        APP(f.advice, "If it is your server: usually intended (AUTH only after "
            "TLS: Postfix smtpd_tls_auth_only); if SIZE or 8BITMIME vanish, "
            "check the TLS listener's settings or proxy.");
        APP(f.advice, DIAG_ADVICE_THIRD "informational; nothing to do unless a "
            "keyword you need is missing.");
        commit(c, &f, 0);
    }
}

/* ---- fallback for failed steps without a specific finding ----------------- */

static void diag_fallback(struct dctx *c)
{
    static const char *const fail_id[MXS_STEP_COUNT] = {
        "dns-failed", "connect-failed", "banner-failed", "ehlo-failed",
        "starttls-failed", "tls-handshake-failed", "chain-failed", "ehlo2-failed",
        NULL};
    static const unsigned blk[MXS_STEP_COUNT] = {
        BLK_ALL, BLK_ALL, BLK_ALL, BLK_ALL, BLK_TLS, BLK_TLS, BLK_VERIFY, BLK_ALL, 0};
    for (int s = 0; s < MXS_STEP_COUNT; s++) {
        const struct diag_input *in = c->in;
        if (!fail_id[s] || in->state[s] != MXS_ST_FAIL || c->per_step[s] > 0)
            continue;
        if (s == MXS_STEP_STARTTLS && c->set->tls_on_connect)
            continue;
        struct mxs_finding f;
        char id[40], low[16], e[300], t[32];
        if (in->timed_out[s] && s != MXS_STEP_HANDSHAKE && s != MXS_STEP_CHAIN)
            snprintf(id, sizeof id, "%s-timeout",
                     s == MXS_STEP_RESOLVE ? "dns" : lower_step((enum mxs_step)s, low));
        else
            snprintf(id, sizeof id, "%s", fail_id[s]);
        fnew(&f, id, MXS_SEV_ERROR, (enum mxs_step)s, -1);
        APP(f.message, "%s failed%s.", mxs_step_name((enum mxs_step)s),
            in->timed_out[s] ? ": the stage deadline passed" :
            in->reset[s] ? ": the server closed the connection" : "");
        APP(f.evidence, "%s after %s%s%s", mxs_step_name((enum mxs_step)s),
            secs(in->elapsed_ms[s], t), in->step_error[s][0] ? ": " : "",
            esc(e, sizeof e, in->step_error[s]));
        APP(f.advice, "If it is your server: check the MTA log at the time of "
            "this test.");
        if (blk[s] == BLK_ALL)
            third_reach(&f);
        else
            third_tls(c, &f);
        commit(c, &f, blk[s]);
    }
}

/* ---- verdicts ------------------------------------------------------------------ */

static void verdict_set(struct mxs_verdict *v, enum mxs_outcome o, enum mxs_step s,
                        const char *id)
{
    v->outcome = o;
    v->step = s;
    snprintf(v->finding, sizeof v->finding, "%s", id ? id : "");
    v->words[0] = 0;
}

static const char *pending_words(enum mxs_step_state st)
{
    switch (st) {
    case MXS_ST_RUNNING: return "is still running";
    case MXS_ST_SKIPPED: return "was skipped";
    case MXS_ST_CANCELLED: return "was cancelled";
    default: return "has not run yet";
    }
}

static void verdict_policy(struct dctx *c, enum mxs_policy p, struct mxs_verdict *v)
{
    const struct diag_input *in = c->in;
    int toc = c->set->tls_on_connect;
    v->policy = p;
    for (int s = MXS_STEP_RESOLVE; s <= MXS_STEP_EHLO2; s++) {
        const struct block *all = &c->blk[s][CLS_ALL], *tls = &c->blk[s][CLS_TLS],
                           *ver = &c->blk[s][CLS_VERIFY];
        const char *sn = mxs_step_name((enum mxs_step)s);
        if (all->set) {
            verdict_set(v, MXS_OUT_NOT_DELIVERED, (enum mxs_step)s, all->id);
            APP(v->words, "not delivered: stops at %s (%s): %s", sn, all->id, all->message);
            return;
        }
        if (tls->set) {
            if (p == MXS_POL_OPPORTUNISTIC && !toc) {
                verdict_set(v, MXS_OUT_CLEAR, (enum mxs_step)s, tls->id);
                if (s == MXS_STEP_HANDSHAKE)
                    APP(v->words, "delivered IN CLEAR: the TLS handshake fails "
                        "(%s); a real MTA retries the delivery without TLS, the "
                        "message travels unencrypted", tls->id);
                else
                    APP(v->words, "delivered IN CLEAR: no TLS at %s (%s); the "
                        "message travels unencrypted", sn, tls->id);
            } else {
                verdict_set(v, MXS_OUT_NOT_DELIVERED, (enum mxs_step)s, tls->id);
                APP(v->words, "not delivered: TLS is required and fails at %s "
                    "(%s): %s", sn, tls->id, tls->message);
            }
            return;
        }
        if (ver->set && p == MXS_POL_VERIFIED) {
            verdict_set(v, MXS_OUT_NOT_DELIVERED, (enum mxs_step)s, ver->id);
            APP(v->words, "not delivered: the certificate check fails at %s "
                "(%s): %s", sn, ver->id, ver->message);
            return;
        }
        /* Steps this policy does not depend on.  RESOLVE is skipped when
         * the host (or address) is given: nothing to look up. */
        if (s == MXS_STEP_STARTTLS && toc)
            continue;
        if (s == MXS_STEP_RESOLVE && in->state[s] == MXS_ST_SKIPPED)
            continue;
        if (s == MXS_STEP_CHAIN && p != MXS_POL_VERIFIED)
            continue;
        if (!is_final(in->state[s])) {
            verdict_set(v, MXS_OUT_NOT_EVALUATED, (enum mxs_step)s, "");
            APP(v->words, "not evaluated: %s %s", sn, pending_words(in->state[s]));
            return;
        }
    }
    verdict_set(v, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
    char cs[120], vn[40];
    esc(vn, sizeof vn, c->tls->version_name[0] ? c->tls->version_name : "TLS");
    esc(cs, sizeof cs, c->tls->cipher);
    switch (p) {
    case MXS_POL_OPPORTUNISTIC:
    case MXS_POL_REQUIRED: {
        const char *unverified = NULL;
        for (int s = 0; s < MXS_STEP_COUNT && !unverified; s++)
            if (c->blk[s][CLS_VERIFY].set)
                unverified = c->blk[s][CLS_VERIFY].id;
        APP(v->words, "delivered encrypted (%s%s%s)", vn, cs[0] ? ", " : "", cs);
        if (unverified)
            APP(v->words, "; the certificate fails the check of a verifying "
                "sender (%s), which this policy does not make", unverified);
        else
            APP(v->words, "; the certificate is not checked at this level");
        break;
    }
    default: {
        int min_days = 1 << 30;
        int n = c->chain->n < MXS_MAX_CHAIN ? c->chain->n : MXS_MAX_CHAIN;
        for (int i = 0; i < n; i++)
            if (c->chain->cert[i].not_after > 0 && c->chain->cert[i].days_left < min_days)
                min_days = c->chain->cert[i].days_left;
        APP(v->words, "delivered encrypted and authenticated (%s): chain trusted, "
            "name matches", vn);
        if (min_days < c->warn_days)
            APP(v->words, "; warning: a certificate expires in %d day%s", min_days,
                min_days == 1 ? "" : "s");
        break;
    }
    }
}

static void verdict_dane(struct dctx *c, struct mxs_verdict v[MXS_POL_COUNT])
{
    struct mxs_verdict *d = &v[MXS_POL_DANE];
    const struct mxs_dns_facts *dns = c->dns;
    d->policy = MXS_POL_DANE;
    verdict_set(d, MXS_OUT_NOT_EVALUATED, MXS_STEP_NONE, "");
    if (!dns->done && !is_final(c->in->state[MXS_STEP_RESOLVE])) {
        d->step = MXS_STEP_RESOLVE;
        APP(d->words, "not evaluated: RESOLVE %s",
            pending_words(c->in->state[MXS_STEP_RESOLVE]));
        return;
    }
    if (c->mx_i < 0) {
        APP(d->words, "no DANE policy (no secure TLSA records): no MX host");
        return;
    }
    const struct mxs_mx *m = &dns->mx[c->mx_i];
    char h[300];
    esc(h, sizeof h, m->host);
    unsigned port = c->set->tlsa_port ? c->set->tlsa_port : c->set->port ? c->set->port : 25;
    if (m->tlsa.dnssec == MXS_DNSSEC_BOGUS) {
        verdict_set(d, MXS_OUT_NOT_DELIVERED, MXS_STEP_RESOLVE, "dnssec-bogus");
        APP(d->words, "not delivered: the TLSA records _%u._tcp.%s are DNSSEC-"
            "bogus; DANE senders defer", port, h);
        return;
    }
    int mx_secure = c->set->target_is_host || dns->mx_answer.dnssec == MXS_DNSSEC_SECURE;
    if (m->tlsa.dnssec != MXS_DNSSEC_SECURE || m->n_tlsa <= 0) {
        APP(d->words, "no DANE policy (no secure TLSA records)");
        return;
    }
    if (!mx_secure) {
        APP(d->words, "no DANE policy (no secure TLSA records): the TLSA records "
            "are signed but the MX records are not DNSSEC-secure (RFC 7672 2.2.1)");
        return;
    }
    const struct mxs_verdict *rq = &v[MXS_POL_REQUIRED];
    if (rq->outcome == MXS_OUT_NOT_DELIVERED) {
        verdict_set(d, MXS_OUT_NOT_DELIVERED, rq->step, rq->finding);
        APP(d->words, "not delivered: DANE policy (%d TLSA record%s) requires "
            "TLS, which fails at %s (%s)", m->n_tlsa, m->n_tlsa == 1 ? "" : "s",
            mxs_step_name(rq->step), rq->finding);
        return;
    }
    const struct mxs_chain_facts *ch = c->chain;
    enum mxs_step_state cs = c->in->state[MXS_STEP_CHAIN];
    if (!is_final(cs) || !ch->dane_checked) {
        verdict_set(d, MXS_OUT_NOT_EVALUATED, MXS_STEP_CHAIN, "");
        APP(d->words, "not evaluated: DANE policy present (%d TLSA record%s for "
            "_%u._tcp.%s); the chain %s", m->n_tlsa, m->n_tlsa == 1 ? "" : "s", port, h,
            is_final(cs) ? "was not received" : pending_words(cs));
        return;
    }
    char vn[40];
    esc(vn, sizeof vn, c->tls->version_name[0] ? c->tls->version_name : "TLS");
    if (!ch->dane_usable) {
        verdict_set(d, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
        APP(d->words, "delivered encrypted (%s) without authentication: none of the "
            "%d TLSA record%s is usable, so TLS is mandatory but not verified "
            "(RFC 7672 2.2)", vn, m->n_tlsa, m->n_tlsa == 1 ? "" : "s");
        return;
    }
    if (ch->dane_match) {
        const struct mxs_tlsa *t = &m->tlsa_rr[ch->dane_match_rr];
        verdict_set(d, MXS_OUT_ENCRYPTED, MXS_STEP_NONE, "");
        APP(d->words, "delivered encrypted and DANE-authenticated (%s): TLSA %u %u %u "
            "for _%u._tcp.%s matches certificate %d", vn, t->usage, t->selector, t->mtype,
            port, h, ch->dane_match_depth);
        return;
    }
    verdict_set(d, MXS_OUT_NOT_DELIVERED, MXS_STEP_CHAIN, "dane-mismatch");
    APP(d->words, "not delivered: no TLSA record for _%u._tcp.%s matches the "
        "certificate chain (dane-mismatch); DANE senders defer", port, h);
}

/* ---- entry points ---------------------------------------------------------------- */

static void ctx_init(struct dctx *c, const struct diag_input *in,
                     struct mxs_finding *out, int max)
{
    memset(c, 0, sizeof *c);
    c->in = in;
    c->set = in->settings ? in->settings : &zero_set;
    c->dns = in->dns ? in->dns : &zero_dns;
    c->conn = in->conn ? in->conn : &zero_conn;
    c->smtp = in->smtp ? in->smtp : &zero_smtp;
    c->tls = in->tls ? in->tls : &zero_tls;
    c->chain = in->chain ? in->chain : &zero_chain;
    c->out = out;
    c->max = max;
    c->warn_days = c->set->expiry_warn_days > 0 ? c->set->expiry_warn_days
                                                 : DIAG_EXPIRY_WARN_DAYS;
    const char *dom = in->domain && in->domain[0] ? in->domain : c->set->target;
    esc(c->dom, sizeof c->dom, dom);
    int n_mx = c->dns->n_mx < MXS_MAX_MX ? c->dns->n_mx : MXS_MAX_MX;
    c->mx_i = -1;
    if (c->conn->done && c->conn->mx_index >= 0 && c->conn->mx_index < n_mx)
        c->mx_i = c->conn->mx_index;
    else if (c->set->mx_index >= 0 && c->set->mx_index < n_mx)
        c->mx_i = c->set->mx_index;
    else
        for (int i = 0; i < n_mx && c->mx_i < 0; i++)
            if (c->dns->mx[i].n_addr > 0)
                c->mx_i = i;
    if (c->mx_i < 0 && n_mx > 0)
        c->mx_i = 0;
    const char *mx = in->mx_host && in->mx_host[0] ? in->mx_host :
                     c->mx_i >= 0 ? c->dns->mx[c->mx_i].host : dom;
    esc(c->mx, sizeof c->mx, mx);
}

int diag_run(const struct diag_input *in, struct mxs_finding *out, int max,
             struct mxs_verdict v[MXS_POL_COUNT])
{
    struct dctx c;
    if (!in) {
        for (int p = 0; v && p < MXS_POL_COUNT; p++) {
            memset(&v[p], 0, sizeof v[p]);
            v[p].policy = (enum mxs_policy)p;
            verdict_set(&v[p], MXS_OUT_NOT_EVALUATED, MXS_STEP_RESOLVE, "");
            APP(v[p].words, "not evaluated: no facts");
        }
        return 0;
    }
    ctx_init(&c, in, out, max);
    diag_resolve(&c);
    diag_connect(&c);
    diag_banner(&c);
    diag_ehlo(&c);
    diag_starttls(&c);
    diag_handshake(&c);
    diag_chain(&c);
    diag_ehlo2(&c);
    diag_fallback(&c);
    if (v) {
        for (int p = 0; p < MXS_POL_DANE; p++) {
            memset(&v[p], 0, sizeof v[p]);
            verdict_policy(&c, (enum mxs_policy)p, &v[p]);
        }
        memset(&v[MXS_POL_DANE], 0, sizeof v[MXS_POL_DANE]);
        verdict_dane(&c, v);
    }
    return c.n;
}

/* ---- report ------------------------------------------------------------------------ */

/* Text we wrote ourselves is ASCII already; escape anyway for defence. */
static void rep_esc(struct buf *b, const char *s)
{
    buf_add_escaped(b, s, strlen(s), MXS_ESC_ASCII);
}

/* Finding text is escaped ASCII plus our '\n': indent each line. */
static void rep_block(struct buf *b, const char *indent, const char *s, size_t maxlen)
{
    const char *end = s + strnlen(s, maxlen);
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *le = nl ? nl : end;
        buf_puts(b, indent);
        buf_add_escaped(b, s, (size_t)(le - s), MXS_ESC_ASCII);
        buf_puts(b, "\n");
        s = nl ? nl + 1 : end;
    }
}

static void rep_finding(struct buf *out, const struct mxs_finding *x)
{
    buf_printf(out, "\n* [%s] %s at %s", mxs_severity_name(x->severity), x->id,
               mxs_step_name(x->step));
    if (x->cert_depth >= 0)
        buf_printf(out, ", certificate %d", x->cert_depth);
    buf_puts(out, "\n");
    rep_block(out, "  ", x->message, sizeof x->message);
    if (x->evidence[0]) {
        buf_puts(out, "  Evidence:\n");
        rep_block(out, "    ", x->evidence, sizeof x->evidence);
    }
    /* The report goes to the receiving side: only their part of the advice. */
    const char *third = strstr(x->advice, DIAG_ADVICE_THIRD);
    size_t alen = third ? (size_t)(third - x->advice) : strnlen(x->advice, sizeof x->advice);
    if (alen) {
        char adv[sizeof x->advice + 1];
        memcpy(adv, x->advice, alen);
        adv[alen] = 0;
        const char *a = adv;
        if (!strncmp(a, "If it is your server: ", 22))
            a += 22;
        buf_puts(out, "  What to fix:\n");
        rep_block(out, "    ", a, sizeof adv);
    }
}

void diag_report(const struct diag_input *in, const struct mxs_finding *f, int n,
                 const struct mxs_verdict v[MXS_POL_COUNT], time_t started,
                 const char *from, struct buf *out)
{
    struct dctx c;
    struct diag_input empty;
    char t[32];
    if (!out)
        return;
    if (!in) {
        memset(&empty, 0, sizeof empty);
        in = &empty;
    }
    ctx_init(&c, in, NULL, 0);
    const struct mxs_finding *worst = NULL;
    int errors = 0, warnings = 0;
    for (int i = 0; f && i < n; i++) {
        if (f[i].severity == MXS_SEV_ERROR)
            errors++;
        else if (f[i].severity == MXS_SEV_WARNING)
            warnings++;
        if (!worst || f[i].severity > worst->severity)
            worst = &f[i];
    }
    buf_puts(out, "Subject: ");
    if (worst && worst->severity >= MXS_SEV_WARNING)
        buf_printf(out, "Mail delivery problem to %s (%s): %s at %s\n", c.dom, c.mx,
                   worst->id, mxs_step_name(worst->step));
    else
        buf_printf(out, "Mail delivery test to %s (%s): no problem found\n", c.dom, c.mx);
    buf_puts(out, "\nHello postmaster,\n\nwe tested mail delivery to your server "
             "with mxscope " MXS_VERSION ". What we tested, what we saw and what "
             "would fix it:\n\n");

    buf_puts(out, "What was tested\n");
    if (c.set->target_is_host || !in->domain || !in->domain[0])
        buf_puts(out, "  Mail domain:  (none given: the host was probed directly)\n");
    else
        buf_printf(out, "  Mail domain:  %s\n", c.dom);
    buf_printf(out, "  MX host:      %s", c.mx);
    if (c.mx_i >= 0 && !c.set->target_is_host)
        buf_printf(out, " (MX preference %u)", (unsigned)c.dns->mx[c.mx_i].preference);
    buf_puts(out, "\n");
    buf_puts(out, "  Address:      ");
    if (c.conn->addr.text[0])
        rep_esc(out, c.conn->addr.text);
    else if (c.set->connect_addr[0])
        rep_esc(out, c.set->connect_addr);
    else
        buf_puts(out, "(not connected)");
    buf_printf(out, " port %u%s\n",
               (unsigned)(c.conn->port ? c.conn->port : c.set->port ? c.set->port : 25),
               c.set->tls_on_connect ? " (implicit TLS)" : " (STARTTLS)");
    buf_printf(out, "  When (UTC):   %s\n", started > 0 ? iso(started, t) : "(unknown)");
    buf_puts(out, "  From:         ");
    rep_esc(out, from && from[0] ? from : c.set->ehlo_name[0] ? c.set->ehlo_name : "(unknown)");
    if (c.set->ehlo_name[0] && from && strcmp(from, c.set->ehlo_name)) {
        buf_puts(out, " (EHLO ");
        rep_esc(out, c.set->ehlo_name);
        buf_puts(out, ")");
    }
    buf_puts(out, "\n");
    if (c.tls->ok) {
        buf_puts(out, "  TLS:          ");
        rep_esc(out, c.tls->version_name[0] ? c.tls->version_name : "negotiated");
        if (c.tls->cipher[0]) {
            buf_puts(out, " ");
            rep_esc(out, c.tls->cipher);
        }
        buf_puts(out, "\n");
    }

    buf_puts(out, "\nResult per sender policy\n");
    for (int p = 0; v && p < MXS_POL_COUNT; p++) {
        buf_printf(out, "  %-14s %s", mxs_policy_name((enum mxs_policy)p),
                   mxs_outcome_name(v[p].outcome));
        if (v[p].step != MXS_STEP_NONE && v[p].outcome != MXS_OUT_ENCRYPTED)
            buf_printf(out, " at %s", mxs_step_name(v[p].step));
        buf_puts(out, "\n");
        rep_block(out, "                 ", v[p].words, sizeof v[p].words);
    }

    buf_printf(out, "\nWhat we found (%d error%s, %d warning%s)\n", errors,
               errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
    if (!f || n == 0)
        buf_puts(out, "  nothing wrong.\n");
    /* Errors first (what breaks delivery), then warnings, then notes; within
     * a severity in step order, as diag_run sorted them. */
    for (int pass = MXS_SEV_ERROR; pass >= MXS_SEV_INFO; pass--)
        for (int i = 0; f && i < n; i++)
            if ((int)f[i].severity == pass)
                rep_finding(out, &f[i]);
    buf_puts(out, "\nThe full transcript is available on request.\nThank you.\n");
}

/* ---- several probes ------------------------------------------------------------------- */

static void probe_name(const struct diag_probe *p, char *dst, size_t cap)
{
    char h[300], a[100];
    app(dst, cap, "%s [%s]", esc(h, sizeof h, p->mx_host ? p->mx_host : "?"),
        esc(a, sizeof a, p->addr ? p->addr : "?"));
}

int diag_compare(const struct diag_probe *p, int n, struct mxs_finding *out, int max)
{
    int nf = 0;
    if (!p || n < 2 || !out || max <= 0)
        return 0;
    for (int aspect = 0; aspect < 3 && nf < max; aspect++) {
        char vals[64][80];
        int idx[64], m = 0, differ = 0;
        for (int i = 0; i < n && m < 64; i++) {
            const struct diag_probe *q = &p[i];
            if (aspect == 0 && q->smtp && q->smtp->ehlo.code)
                snprintf(vals[m], sizeof vals[m], "STARTTLS %s",
                         q->smtp->caps.starttls ? "offered" : "not offered");
            else if (aspect == 1 && q->tls && q->tls->attempted)
                snprintf(vals[m], sizeof vals[m], "TLS %s%s%.16s",
                         q->tls->ok ? "ok" : "failed", q->tls->ok ? " " : "",
                         q->tls->ok ? q->tls->version_name : "");
            else if (aspect == 2 && q->chain && q->chain->n > 0)
                snprintf(vals[m], sizeof vals[m], "leaf SHA-1 %.40s, %s",
                         q->chain->cert[0].sha1,
                         q->chain->trusted ? "trusted" : "not trusted");
            else
                continue;
            idx[m] = i;
            if (m > 0 && strcmp(vals[m], vals[0]))
                differ = 1;
            m++;
        }
        if (!differ)
            continue;
        static const enum mxs_step st[3] = {MXS_STEP_STARTTLS, MXS_STEP_HANDSHAKE,
                                            MXS_STEP_CHAIN};
        static const char *const what[3] = {"STARTTLS", "the TLS outcome",
                                            "the certificate"};
        struct mxs_finding *f = &out[nf++];
        fnew(f, "mx-hosts-disagree", MXS_SEV_WARNING, st[aspect], -1);
        APP(f->message, "The MX hosts/addresses of the domain differ in %s: "
            "delivery depends on which one a sender reaches.", what[aspect]);
        for (int k = 0; k < m; k++) {
            probe_name(&p[idx[k]], f->evidence, sizeof f->evidence);
            char ev[100];
            APP(f->evidence, ": %s\n", esc(ev, sizeof ev, vals[k]));
        }
        APP(f->advice, "If it is your server: configure every node the same "
            "(Exchange: `Get-ExchangeCertificate` and `Enable-ExchangeCertificate"
            " -Services SMTP` on each server; Postfix: the same "
            "smtpd_tls_chain_files and TLS settings on every host behind the MX "
            "or load balancer).");
        APP(f->advice, DIAG_ADVICE_THIRD "send them this report listing the "
            "addresses.");
    }
    return nf;
}
