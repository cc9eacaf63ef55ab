/*
 * dns.c - RESOLVE with libunbound (see dns.h).  Owner: DNS module.
 *
 * Threads, not fork: libunbound's async mode either forks a worker process
 * (ub_ctx_async(ctx, 0)) or starts a worker thread (ub_ctx_async(ctx, 1)).
 * We use the thread.  A forked worker is a copy of the whole front end (the
 * console, open SMTP/TLS sockets, mbedTLS state) that outlives our control:
 * it must be reaped, it inherits every descriptor, and fork() in a process
 * that may already run threads is only safe for exec.  The thread stays in
 * our process, talks to us through the pipe ub_fd() returns, and our
 * callbacks still run only in our thread, inside ub_process().
 *
 * Names: wire-format names from answers are turned into presentation format
 * with "\." and "\DDD" escapes (like dig), so a host name here is always
 * printable ASCII, resolves back to exactly the same wire name, and cannot
 * smuggle a dot or a control byte.
 */
#include "probe/dns.h"
#include "probe/dns_int.h"
#include "base/esc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unbound.h>
#include <unistd.h>

int64_t dns_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The pure helpers (wire names, RDATA, host-name judge) are in dns_parse.c. */

/* ---- transcript lines --------------------------------------------------- */

void dns_line_add(struct line *l, const char *fmt, ...)
{
    va_list ap;
    int r;

    if (l->cut)
        return;
    va_start(ap, fmt);
    r = vsnprintf(l->buf + l->n, sizeof l->buf - l->n, fmt, ap);
    va_end(ap);
    if (r < 0 || (size_t)r >= sizeof l->buf - l->n) {
        l->n = sizeof l->buf - 1;
        l->cut = 1;
        memcpy(l->buf + sizeof l->buf - 4, "...", 4);
    } else {
        l->n += (size_t)r;
    }
}

void dns_line_status(struct line *l, const struct mxs_dns_answer *a)
{
    if (a->dnssec == MXS_DNSSEC_BOGUS) {
        char why[300];
        mxs_escape_str(a->why_bogus, why, sizeof why, 0);
        dns_line_add(l, " [bogus: %s]", why[0] ? why : "no reason given");
    } else {
        dns_line_add(l, " [%s]", mxs_dnssec_name(a->dnssec));
    }
}

/* How long the answer took and how big it was, when that is worth saying:
 * slow (DNS_SLOW_MS), or larger than a UDP answer to libunbound may be (so
 * it came over TCP after a truncated UDP answer: libunbound retries by
 * itself, it does not tell us). */
void dns_line_meta(struct dns_ctx *d, struct line *l, const struct mxs_dns_answer *a)
{
    if (a->ms >= DNS_SLOW_MS)
        dns_line_add(l, " (answered after %.1f s)", (double)a->ms / 1000.0);
    if (d->udp_limit > 0 && a->bytes > d->udp_limit)
        dns_line_add(l, " (%d bytes: more than a UDP answer may carry (EDNS %d), so it "
                     "came over TCP)", a->bytes, d->udp_limit);
}

/* The transcript shows names the way every other output does: one
 * escaping, at output (mxs_escape: "\x1B").  So a "\DDD" of dig's
 * presentation form that stands for a control or non-ASCII byte becomes
 * that byte again here; "\." and printable "\DDD" stay (they keep a name
 * unambiguous), and NUL stays "\000" (a line is a C string). */
static void dns_unpresent(char *s)
{
    char *w = s;
    for (const char *r = s; *r; ) {
        if (r[0] == '\\' && r[1] && !(r[1] >= '0' && r[1] <= '9')) {
            *w++ = *r++;         /* "\\" or "\.": an escaped character, kept */
            *w++ = *r++;
            continue;
        }
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '2' && r[2] >= '0' && r[2] <= '9' &&
            r[3] >= '0' && r[3] <= '9') {
            int v = (r[1] - '0') * 100 + (r[2] - '0') * 10 + (r[3] - '0');
            if (v > 0 && v < 256 && (v < 0x21 || v > 0x7e)) {
                *w++ = (char)v;
                r += 4;
                continue;
            }
        }
        *w++ = *r++;
    }
    *w = 0;
}

void dns_emit(struct dns_ctx *d, struct line *l)
{
    if (!d->cb)
        return;
    dns_unpresent(l->buf);
    d->cb(d->arg, l->buf);
}

static const char *dns_kind_name(int kind)
{
    switch (kind) {
    case Q_MX: return "MX";
    case Q_A: return "A";
    case Q_AAAA: return "AAAA";
    case Q_ANCHOR: return "DNSKEY";
    case Q_CNAME: return "CNAME";
    case Q_TXT: return "TXT";
    default: return "TLSA";
    }
}

/* ---- answers ------------------------------------------------------------ */

static void dns_on_anchor(struct dns_ctx *d);

static struct mxs_dns_answer *dns_answer_of(struct dns_ctx *d, struct dns_q *q)
{
    struct mxs_mx *m = q->kind == Q_TLSA_EXP ? &d->tlsa_exp[q->mx].mx : &d->out->mx[q->mx];
    switch (q->kind) {
    case Q_MX: return &d->out->mx_answer;
    case Q_ANCHOR: return &d->anchor;
    case Q_CNAME: return &d->walk_ans;
    case Q_TXT: return d->txt ? &d->txt->answer : &d->walk_ans;
    case Q_A: return &m->a;
    case Q_AAAA: return &m->aaaa;
    default: return &m->tlsa;
    }
}

static void dns_fill_answer(struct mxs_dns_answer *a, int err, const struct ub_result *r)
{
    memset(a, 0, sizeof *a);
    if (err != 0 || !r) {
        a->rcode = MXS_DNS_ERROR;
        a->dnssec = MXS_DNSSEC_UNKNOWN;
        snprintf(a->why_bogus, sizeof a->why_bogus, "%s", ub_strerror(err));
        return;
    }
    switch (r->rcode) {
    case 0: a->rcode = r->havedata ? MXS_DNS_OK : MXS_DNS_NODATA; break;
    case 2: a->rcode = MXS_DNS_SERVFAIL; break;
    case 3: a->rcode = MXS_DNS_NXDOMAIN; break;
    default: a->rcode = MXS_DNS_ERROR; break;
    }
    if (r->bogus) {
        /* libunbound hands back the data with rcode NOERROR; a validating
         * resolver gives an MTA SERVFAIL instead, so that is what we record
         * (and the data is shown, marked unvalidated, but never used). */
        a->rcode = MXS_DNS_SERVFAIL;
        a->dnssec = MXS_DNSSEC_BOGUS;
        if (r->why_bogus)
            snprintf(a->why_bogus, sizeof a->why_bogus, "%s", r->why_bogus);
    } else if (r->secure) {
        a->dnssec = MXS_DNSSEC_SECURE;
    } else {
        a->dnssec = MXS_DNSSEC_INSECURE;
    }
}

/* Insert into the bounded list, stable: after every entry of equal or lower
 * preference, so ties keep DNS order; the worst ones fall off the end. */
static int dns_mx_insert(struct mxs_dns_facts *f, uint16_t pref, const char *host)
{
    int pos = f->n_mx;
    while (pos > 0 && f->mx[pos - 1].preference > pref)
        pos--;
    if (pos >= MXS_MAX_MX)
        return -1;
    int last = f->n_mx < MXS_MAX_MX ? f->n_mx : MXS_MAX_MX - 1;
    memmove(&f->mx[pos + 1], &f->mx[pos], (size_t)(last - pos) * sizeof f->mx[0]);
    memset(&f->mx[pos], 0, sizeof f->mx[pos]);
    f->mx[pos].preference = pref;
    snprintf(f->mx[pos].host, sizeof f->mx[pos].host, "%s", host);
    if (f->n_mx < MXS_MAX_MX)
        f->n_mx++;
    return 0;
}

static void dns_on_mx(struct dns_ctx *d, const struct ub_result *r)
{
    struct mxs_dns_facts *f = d->out;
    struct line l = { .n = 0 };
    int total = 0, bad = 0, dropped = 0, nulls = 0, valid = 0, invalid = 0;
    int bogus = f->mx_answer.dnssec == MXS_DNSSEC_BOGUS;

    dns_line_add(&l, "MX %s: ", d->target);
    if (bogus) {
        memset(&d->scratch, 0, sizeof d->scratch);
        f = &d->scratch;
        dns_line_add(&l, "SERVFAIL (DNSSEC validation failed; unvalidated answer: ");
    }
    if (r && r->rcode == 0 && r->havedata) {
        for (int i = 0; r->data && r->data[i]; i++) {
            uint16_t pref;
            char host[256];
            total++;
            if (r->len[i] < 0 ||
                dns_parse_mx((const unsigned char *)r->data[i], (size_t)r->len[i],
                             &pref, host, sizeof host) != 0) {
                bad++;
                continue;
            }
            if (strcmp(host, ".") == 0) {
                nulls++;
                if (total == 1 && !r->data[1] && pref == 0) {
                    f->null_mx = 1;
                    break;
                }
                continue;              /* "." among real MXs: unusable */
            }
            /* As Postfix: a target that is not a host name is skipped
             * ("malformed domain name in resource data of MX record");
             * an IP address is used as the address ("numeric domain
             * name"). */
            char why[96];
            int hc = dns_host_check(host, why, sizeof why);
            if (hc == DNS_HOST_INVALID) {
                if (invalid < MXS_MAX_MX_INVALID) {
                    struct mxs_mx_invalid *x = &f->mx_invalid[invalid];
                    x->record = total;
                    x->preference = pref;
                    snprintf(x->host, sizeof x->host, "%s", host);
                    x->raw_len = (int)dns_host_raw(host, x->raw, sizeof x->raw - 1);
                    snprintf(x->why, sizeof x->why, "%s", why);
                }
                invalid++;
                continue;
            }
            valid++;
            if (dns_mx_insert(f, pref, host) == 0 && hc == DNS_HOST_LITERAL)
                for (int k = 0; k < f->n_mx; k++)
                    if (strcmp(f->mx[k].host, host) == 0 && f->mx[k].preference == pref)
                        f->mx[k].literal = 1;
        }
        dropped = valid - f->n_mx;
        f->mx_records = total;
        f->mx_not_kept = dropped;
        f->n_mx_invalid = invalid;
        if (f->null_mx) {
            dns_line_add(&l, "0 . (null MX: the domain accepts no mail)");
        } else {
            for (int i = 0; i < f->n_mx; i++)
                dns_line_add(&l, "%s%u %s", i ? ", " : "",
                             (unsigned)f->mx[i].preference, f->mx[i].host);
            if (f->n_mx == 0)
                dns_line_add(&l, "no usable MX record");
        }
        if (bad)
            dns_line_add(&l, " (%d malformed record%s ignored)", bad, bad > 1 ? "s" : "");
        if (nulls && !f->null_mx)
            dns_line_add(&l, " (%d \".\" target%s among other MXs ignored)", nulls,
                         nulls > 1 ? "s" : "");
        if (invalid) {
            dns_line_add(&l, " (%d target%s not a host name, skipped as senders do:", invalid,
                         invalid > 1 ? "s" : "");
            for (int k = 0; k < invalid && k < MXS_MAX_MX_INVALID; k++)
                dns_line_add(&l, "%s %u %s", k ? "," : "", (unsigned)f->mx_invalid[k].preference,
                             f->mx_invalid[k].host);
            dns_line_add(&l, "%s)", invalid > MXS_MAX_MX_INVALID ? ", ..." : "");
        }
        if (dropped)
            dns_line_add(&l, " (%d more beyond the first %d not kept)", dropped, MXS_MAX_MX);
    } else if (bogus) {
        dns_line_add(&l, "%s", r && r->rcode == 3 ? "NXDOMAIN" : r && r->rcode == 0 ? "NODATA" : "none");
    } else if (f->mx_answer.rcode == MXS_DNS_NODATA) {
        /* RFC 5321 5.1: no MX records -> the domain itself, preference 0. */
        f->implicit_mx = 1;
        f->n_mx = 1;
        memset(&f->mx[0], 0, sizeof f->mx[0]);
        snprintf(f->mx[0].host, sizeof f->mx[0].host, "%s", d->target);
        dns_line_add(&l, "no MX records (NODATA): implicit MX %s", d->target);
    } else {
        dns_line_add(&l, "%s", mxs_dns_rcode_name(f->mx_answer.rcode));
        if (f->mx_answer.rcode == MXS_DNS_ERROR && f->mx_answer.why_bogus[0])
            dns_line_add(&l, " (%s)", f->mx_answer.why_bogus);
    }
    if (bogus) {
        d->scratch.mx_answer = d->out->mx_answer;
        dns_line_add(&l, ")");
    }
    /* The mail domain itself an alias: allowed (RFC 5321 5.1), said. */
    if (r && r->canonname && r->rcode == 0) {
        size_t cl = strlen(r->canonname);
        if (cl > 0 && r->canonname[cl - 1] == '.')
            cl--;
        if (cl != strlen(d->target) || strncasecmp(r->canonname, d->target, cl) != 0)
            dns_line_add(&l, " (%s is an alias of %.*s)", d->target, (int)cl, r->canonname);
    }
    dns_line_status(&l, &d->out->mx_answer);
    dns_line_meta(d, &l, &d->out->mx_answer);
    dns_emit(d, &l);
}

void dns_rebuild_addrs(struct dns_ctx *d, int mx)
{
    struct mxs_mx *m = &d->out->mx[mx];
    struct dns_addrs *a = &d->addrs[mx];
    m->n_addr = 0;
    for (int i = 0; i < a->n4 && m->n_addr < MXS_MAX_ADDR; i++, m->n_addr++) {
        m->addr[m->n_addr].family = 4;
        snprintf(m->addr[m->n_addr].text, sizeof m->addr[0].text, "%s", a->v4[i]);
    }
    for (int i = 0; i < a->n6 && m->n_addr < MXS_MAX_ADDR; i++, m->n_addr++) {
        m->addr[m->n_addr].family = 6;
        snprintf(m->addr[m->n_addr].text, sizeof m->addr[0].text, "%s", a->v6[i]);
    }
}

static void dns_on_host(struct dns_ctx *d, struct dns_q *q, const struct ub_result *r)
{
    struct mxs_dns_answer *ans = dns_answer_of(d, q);
    struct mxs_mx *m = q->kind == Q_TLSA_EXP ? &d->tlsa_exp[q->mx].mx : &d->out->mx[q->mx];
    struct dns_addrs *ad = &d->addrs[q->mx];
    struct line l = { .n = 0 };
    int shown = 0, bad = 0, dropped = 0;
    int bogus = ans->dnssec == MXS_DNSSEC_BOGUS;

    dns_line_add(&l, "%s %s: ", dns_kind_name(q->kind), q->name);
    if (bogus) {
        m = &d->scratch.mx[0];
        ad = &d->scratch_addrs;
        memset(m, 0, sizeof *m);
        memset(ad, 0, sizeof *ad);
        dns_line_add(&l, "SERVFAIL (DNSSEC validation failed; unvalidated answer: ");
    }
    if (r && r->rcode == 0 && r->havedata && r->data) {
        for (int i = 0; r->data[i]; i++) {
            const unsigned char *p = (const unsigned char *)r->data[i];
            int n = r->len[i];
            if (q->kind == Q_A || q->kind == Q_AAAA) {
                int v6 = q->kind == Q_AAAA;
                char txt[64];
                if (n != (v6 ? 16 : 4) ||
                    !inet_ntop(v6 ? AF_INET6 : AF_INET, p, txt, sizeof txt)) {
                    bad++;
                    continue;
                }
                int *cnt = v6 ? &ad->n6 : &ad->n4;
                if (*cnt >= MXS_MAX_ADDR) {
                    dropped++;
                    continue;
                }
                snprintf(v6 ? ad->v6[*cnt] : ad->v4[*cnt], 64, "%s", txt);
                (*cnt)++;
                dns_line_add(&l, "%s%s", shown++ ? ", " : "", txt);
            } else {
                struct mxs_tlsa t;
                if (n < 0 || dns_parse_tlsa(p, (size_t)n, &t) != 0) {
                    bad++;
                    continue;
                }
                if (m->n_tlsa >= MXS_MAX_TLSA) {
                    dropped++;
                    continue;
                }
                m->tlsa_rr[m->n_tlsa++] = t;
                dns_line_add(&l, "%s%u %u %u ", shown++ ? ", " : "", t.usage,
                             t.selector, t.mtype);
                for (size_t k = 0; k < t.len; k++)
                    dns_line_add(&l, "%02X", t.data[k]);
                if (t.truncated)
                    dns_line_add(&l, "... (%d bytes, first %zu kept)", n - 3, t.len);
            }
        }
        if ((q->kind == Q_A || q->kind == Q_AAAA) && !bogus)
            dns_rebuild_addrs(d, q->mx);
        if (!shown)
            dns_line_add(&l, "no usable record");
        if (bad)
            dns_line_add(&l, " (%d malformed record%s ignored)", bad, bad > 1 ? "s" : "");
        if (dropped)
            dns_line_add(&l, " (%d more not kept)", dropped);
    } else if (bogus) {
        dns_line_add(&l, "%s", r && r->rcode == 3 ? "NXDOMAIN" : r && r->rcode == 0 ? "NODATA" : "none");
    } else {
        dns_line_add(&l, "%s", mxs_dns_rcode_name(ans->rcode));
        if (ans->rcode == MXS_DNS_ERROR && ans->why_bogus[0])
            dns_line_add(&l, " (%s)", ans->why_bogus);
    }
    if (bogus)
        dns_line_add(&l, ")");
    dns_line_status(&l, ans);
    dns_line_meta(d, &l, ans);
    dns_emit(d, &l);
    /* An address answer that came from another name (a CNAME) or failed
     * (a loop or a chain too long for the resolver ends in SERVFAIL): walk
     * the chain hop by hop to say which. */
    if ((q->kind == Q_A || q->kind == Q_AAAA) && !bogus && q->mx < MXS_MAX_MX) {
        int other = 0;
        if (r && r->canonname) {
            size_t cl = strlen(r->canonname), ql = strlen(q->name);
            if (cl > 0 && r->canonname[cl - 1] == '.')
                cl--;
            if (ql > 0 && q->name[ql - 1] == '.')
                ql--;
            other = cl != ql || strncasecmp(r->canonname, q->name, cl) != 0;
            if (other && cl < sizeof d->walk[q->mx].end) {
                memcpy(d->walk[q->mx].end, r->canonname, cl);
                d->walk[q->mx].end[cl] = '\0';
            }
        }
        /* A SERVFAIL only when it came at once (a resolver finds a loop
         * in its cache): a slow one would cost the stage its deadline. */
        if (other || (ans->rcode == MXS_DNS_SERVFAIL && ans->ms < DNS_SLOW_MS))
            d->walk[q->mx].wanted = 1;
    }
}

static void dns_callback(void *mydata, int err, struct ub_result *r)
{
    struct dns_q *q = mydata;
    struct dns_ctx *d = q->d;

    if (!q->pending) {                 /* cancelled: ub_cancel raced us */
        if (r)
            ub_resolve_free(r);
        return;
    }
    q->pending = 0;
    d->pending--;
    struct mxs_dns_answer *a = dns_answer_of(d, q);
    dns_fill_answer(a, err, r);
    a->ms = dns_now_ms() - q->t0;
    a->bytes = r && r->answer_len > 0 ? r->answer_len : 0;
    if (q->kind == Q_MX) {
        dns_on_mx(d, r);
        d->mx_answered = 1;
    } else if (q->kind == Q_ANCHOR) {
        dns_on_anchor(d);
    } else if (q->kind == Q_CNAME) {
        dns_on_walk(d, q, r);
    } else if (q->kind == Q_TXT) {
        dns_on_txt(d, r);
    } else {
        dns_on_host(d, q, r);
    }
    if (r)
        ub_resolve_free(r);
}

/* ---- is it our resolver? ------------------------------------------------ */

/* Any answer that failed validation?  Then we ask the resolver for the
 * DNSKEY of the trust anchor's zone (the root with Debian's root.key): if
 * that validates, the resolver passes DNSSEC and the bogus answer is the
 * zone's; if not, the resolver strips signatures or cannot fetch them, and
 * blaming the partner would send the operator down the wrong path. */
static int dns_any_bogus(const struct mxs_dns_facts *f)
{
    if (f->mx_answer.dnssec == MXS_DNSSEC_BOGUS)
        return 1;
    for (int i = 0; i < f->n_mx; i++)
        if (f->mx[i].a.dnssec == MXS_DNSSEC_BOGUS || f->mx[i].aaaa.dnssec == MXS_DNSSEC_BOGUS ||
            f->mx[i].tlsa.dnssec == MXS_DNSSEC_BOGUS)
            return 1;
    return 0;
}

static void dns_on_anchor(struct dns_ctx *d)
{
    struct mxs_dns_facts *f = d->out;
    const struct mxs_dns_answer *a = &d->anchor;
    struct line l = { .n = 0 };
    char why[300];

    snprintf(f->anchor_zone, sizeof f->anchor_zone, "%s", d->anchor_zone);
    if (a->rcode == MXS_DNS_OK && a->dnssec == MXS_DNSSEC_SECURE) {
        f->resolver_check = MXS_RESCHK_VALIDATES;
        dns_line_add(&l, "DNSKEY %s: validated (secure): the resolver passes DNSSEC, "
                     "so the bogus answers above are the zone's", d->anchor_zone);
    } else {
        f->resolver_check = MXS_RESCHK_BROKEN;
        mxs_escape_str(a->why_bogus, why, sizeof why, 0);
        if (a->dnssec == MXS_DNSSEC_BOGUS)
            snprintf(f->resolver_why, sizeof f->resolver_why,
                     "the DNSKEY of the trust anchor %s does not validate either (%s): "
                     "the resolver strips DNSSEC signatures or cannot fetch them",
                     d->anchor_zone, why[0] ? why : "no reason given");
        else if (a->rcode == MXS_DNS_OK || a->rcode == MXS_DNS_NODATA)
            snprintf(f->resolver_why, sizeof f->resolver_why,
                     "the resolver returned the DNSKEY of the trust anchor %s unvalidated",
                     d->anchor_zone);
        else
            snprintf(f->resolver_why, sizeof f->resolver_why,
                     "the resolver gave no DNSKEY for the trust anchor %s (%s)",
                     d->anchor_zone, mxs_dns_rcode_name(a->rcode));
        dns_line_add(&l, "DNSKEY %s: %s", d->anchor_zone, f->resolver_why);
    }
    dns_emit(d, &l);
}

/* ---- queries ------------------------------------------------------------ */

int dns_send(struct dns_ctx *d, int kind, int mx, const char *name)
{
    static const int types[] = { RR_MX, RR_A, RR_AAAA, RR_TLSA, RR_DNSKEY, RR_CNAME, RR_TXT,
                                 RR_TLSA };
    struct dns_q *q;
    int r;

    if (d->n_q >= DNS_MAX_Q)
        return -1;
    q = &d->q[d->n_q++];
    memset(q, 0, sizeof *q);
    q->d = d;
    q->kind = kind;
    q->mx = mx;
    snprintf(q->name, sizeof q->name, "%s", name);
    q->pending = 1;
    q->t0 = dns_now_ms();
    d->pending++;
    r = ub_resolve_async(d->ub, name, types[kind], 1 /* IN */, q, dns_callback,
                         &q->async_id);
    if (r != 0) {
        /* Report it as this query's answer: the other queries still run. */
        q->pending = 0;
        d->pending--;
        dns_fill_answer(dns_answer_of(d, q), r, NULL);
        if (kind == Q_MX)
            dns_on_mx(d, NULL);
        else if (kind == Q_ANCHOR)
            dns_on_anchor(d);
        else if (kind == Q_CNAME)
            dns_on_walk(d, q, NULL);
        else if (kind == Q_TXT)
            dns_on_txt(d, NULL);
        else
            dns_on_host(d, q, NULL);
    }
    return 0;
}

/* A, AAAA (as the family allows) and TLSA of every MX host, all at once. */
static void dns_send_hosts(struct dns_ctx *d)
{
    struct mxs_dns_facts *f = d->out;
    for (int i = 0; i < f->n_mx; i++) {
        char tname[300];
        if (f->mx[i].literal) {
            dns_literal(d, i);
            continue;
        }
        if (d->family != 6)
            dns_send(d, Q_A, i, f->mx[i].host);
        if (d->family != 4)
            dns_send(d, Q_AAAA, i, f->mx[i].host);
        if (!d->port)                      /* an address lookup only (dns.h) */
            continue;
        snprintf(tname, sizeof tname, "_%u._tcp.%s", (unsigned)d->port, f->mx[i].host);
        snprintf(f->mx[i].tlsa_name, sizeof f->mx[i].tlsa_name, "%s", tname);
        dns_send(d, Q_TLSA, i, tname);
    }
}

/* ---- lifecycle (the context itself: dns_context.c) ---------------------- */

static void dns_cancel_all(struct dns_ctx *d, int mark)
{
    for (int i = 0; i < d->n_q; i++) {
        struct dns_q *q = &d->q[i];
        if (!q->pending)
            continue;
        ub_cancel(d->ub, q->async_id);
        q->pending = 0;
        d->pending--;
        if (mark && d->out) {
            struct mxs_dns_answer *a = dns_answer_of(d, q);
            struct line l = { .n = 0 };
            memset(a, 0, sizeof *a);
            a->rcode = MXS_DNS_TIMEOUT;
            a->dnssec = MXS_DNSSEC_UNKNOWN;
            dns_line_add(&l, "%s %s: TIMEOUT (no answer before the deadline, %.1f s)",
                         dns_kind_name(q->kind), q->kind == Q_MX ? d->target : q->name,
                         (double)(dns_now_ms() - q->t0) / 1000.0);
            a->ms = dns_now_ms() - q->t0;
            dns_emit(d, &l);
            if (q->kind == Q_CNAME && q->mx < MXS_MAX_MX && !d->walk[q->mx].done)
                dns_walk_finish(d, q->mx, "timed out");
        }
    }
    d->pending = 0;
}

void dns_free(struct dns_ctx *d)
{
    if (!d)
        return;
    dns_cancel_all(d, 0);
    dns_shared_free(d->own);
    free(d);
}

/* Forget the previous lookup (its queries cancelled) and aim at new sinks. */
void dns_reset(struct dns_ctx *d, struct mxs_dns_facts *out, struct dns_txt *txt,
                      dns_record_cb cb, void *arg)
{
    dns_cancel_all(d, 0);
    d->cb = cb;
    d->arg = arg;
    d->out = out;
    d->txt = txt;
    d->n_q = 0;
    d->pending = 0;
    d->mx_answered = 0;
    d->anchor_asked = 0;
    memset(d->addrs, 0, sizeof d->addrs);
    memset(d->walk, 0, sizeof d->walk);
    memset(d->tlsa_exp, 0, sizeof d->tlsa_exp);
}

int dns_start(struct dns_ctx *d, const char *target, int is_host, uint16_t port,
              int family, struct mxs_dns_facts *out, dns_record_cb cb,
              void *arg, char *err, size_t errlen)
{
    size_t tl;

    if (!d || !target || !out) {
        snprintf(err, errlen, "dns_start: bad arguments");
        return -1;
    }
    tl = strlen(target);
    if (tl > 0 && target[tl - 1] == '.')
        tl--;                              /* "example.org." == "example.org" */
    if (tl == 0 || tl > 253) {
        snprintf(err, errlen, "target name is empty or longer than 253 characters");
        return -1;
    }
    if (family != 0 && family != 4 && family != 6) {
        snprintf(err, errlen, "family must be 0, 4 or 6");
        return -1;
    }
    dns_reset(d, out, NULL, cb, arg);      /* a re-run: forget the old queries */
    memcpy(d->target, target, tl);
    d->target[tl] = '\0';
    d->port = port;
    d->family = family;
    memset(out, 0, sizeof *out);

    if (is_host) {
        out->n_mx = 1;
        snprintf(out->mx[0].host, sizeof out->mx[0].host, "%s", d->target);
        dns_send_hosts(d);
    } else {
        dns_send(d, Q_MX, 0, d->target);
        if (d->pending == 0)               /* the send failed and was reported */
            d->mx_answered = 1;
    }
    if (d->mx_answered) {
        d->mx_answered = 0;
        if (!out->null_mx && out->mx_answer.rcode != MXS_DNS_ERROR)
            dns_send_hosts(d);
    }
    if (d->pending == 0)
        out->done = 1;
    return 0;
}

int dns_fd(struct dns_ctx *d)
{
    return d ? ub_fd(d->ub) : -1;
}

int dns_host_pending(const struct dns_ctx *d, int mx)
{
    for (int i = 0; i < d->n_q; i++)
        if (d->q[i].pending && d->q[i].mx == mx && (d->q[i].kind == Q_A || d->q[i].kind == Q_AAAA))
            return 1;
    return 0;
}

int dns_process(struct dns_ctx *d, char *err, size_t errlen)
{
    int r;

    if (!d || !d->out)
        return 1;
    /* A shared context is read once per pass by its owner
     * (dns_shared_process), before every lookup on it is advanced. */
    if (d->pending > 0 && d->own) {
        r = ub_process(d->ub);
        if (r != 0) {
            snprintf(err, errlen, "libunbound: %s", ub_strerror(r));
            return -1;
        }
    }
    /* Host queries start outside ub_process(), never from its callback. */
    if (d->mx_answered) {
        struct mxs_dns_facts *f = d->out;
        d->mx_answered = 0;
        if (!f->null_mx && f->n_mx > 0)
            dns_send_hosts(d);
    }
    /* CNAME walks: the first hop once the host's address queries are in
     * (they fill libunbound's cache), then one hop per answer. */
    for (int i = 0; i < d->out->n_mx && i < MXS_MAX_MX; i++) {
        struct dns_walk *w = &d->walk[i];
        if (w->wanted && !w->started && !dns_host_pending(d, i)) {
            w->started = 1;
            snprintf(w->cur, sizeof w->cur, "%s", d->out->mx[i].host);
            snprintf(w->seen[0], sizeof w->seen[0], "%s", d->out->mx[i].host);
            w->n_seen = 1;
            w->next = 1;
        }
        if (w->next && !w->done) {
            w->next = 0;
            if (dns_send(d, Q_CNAME, i, w->cur) != 0)
                dns_walk_finish(d, i, "no query slot left");
        }
    }
    dns_tlsa_expand(d);
    if (d->pending == 0)
        dns_tlsa_merge(d);
    if (d->pending == 0 && !d->anchor_asked && d->anchor_zone[0] && dns_any_bogus(d->out)) {
        d->anchor_asked = 1;
        dns_send(d, Q_ANCHOR, 0, d->anchor_zone);
    }
    if (d->pending > 0)
        return 0;
    d->out->done = 1;
    return 1;
}

void dns_cancel(struct dns_ctx *d)
{
    if (!d)
        return;
    dns_cancel_all(d, 1);
    d->mx_answered = 0;
    if (d->out)
        d->out->done = 1;
}
