/*
 * dns_hostile.c - what hostile answers need beyond the plain lookup (see
 * dns.h, "Hostile answers"): the hop-by-hop CNAME walk of an MX host's
 * address lookup (the chain, a loop, more than MXS_MAX_CNAME_HOPS), an IP
 * address as MX target used as Postfix uses it, and the bounded TXT lookup
 * for issue 12, the TLSA lookup at an alias's expanded name (RFC 7672
 * 2.2.2).  Callbacks run inside dns_process() like dns.c's.
 * Owner: DNS module.
 */
#include "probe/dns.h"
#include "probe/dns_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- the CNAME walk ------------------------------------------------------ */

/* One CNAME query per hop (libunbound has most of them cached from the
 * address lookup): the chain, a loop (a name seen before) or more than
 * MXS_MAX_CNAME_HOPS hops, stored in the MX host's facts. */
void dns_walk_finish(struct dns_ctx *d, int mx, const char *how)
{
    struct dns_walk *w = &d->walk[mx];
    struct mxs_cname *c = &d->out->mx[mx].cname;
    struct line l = { .n = 0 };
    size_t n = 0;

    w->done = 1;
    c->chain[0] = '\0';
    for (int i = 0; i < w->n_seen; i++) {
        int r = snprintf(c->chain + n, sizeof c->chain - n, "%s%s", i ? " -> " : "", w->seen[i]);
        if (r < 0 || (size_t)r >= sizeof c->chain - n) {
            memcpy(c->chain + sizeof c->chain - 4, "...", 4);
            break;
        }
        n += (size_t)r;
    }
    if (c->loop && n + 8 + strlen(w->cur) < sizeof c->chain)
        snprintf(c->chain + n, sizeof c->chain - n, " -> %s", w->cur);
    snprintf(c->canon, sizeof c->canon, "%s", w->cur);
    if (c->hops == 0)
        return;                            /* no CNAME after all: nothing to say */
    dns_line_add(&l, "CNAME %s: chain of %d: %s", w->seen[0], c->hops, c->chain);
    if (c->loop)
        dns_line_add(&l, " (loop: %s again)", w->cur);
    else if (c->too_long)
        dns_line_add(&l, " (more than %d: cut)", MXS_MAX_CNAME_HOPS);
    else if (how)
        dns_line_add(&l, " (%s)", how);
    dns_emit(d, &l);
}

void dns_on_walk(struct dns_ctx *d, struct dns_q *q, const struct ub_result *r)
{
    struct dns_walk *w = &d->walk[q->mx];
    struct mxs_cname *c = &d->out->mx[q->mx].cname;
    char next[256];
    size_t used = 0;

    if (!r || r->rcode != 0 || !r->havedata || !r->data || !r->data[0] || r->len[0] < 1 ||
        dns_name_to_text((const unsigned char *)r->data[0], (size_t)r->len[0], &used, next,
                         sizeof next) != 0) {
        /* No (further) CNAME: the chain ends at cur. */
        dns_walk_finish(d, q->mx, r && r->rcode == 3 ? "ends in NXDOMAIN" :
                        r && r->rcode == 2 ? "ends in SERVFAIL" : NULL);
        return;
    }
    c->hops++;
    for (int i = 0; i < w->n_seen; i++)
        if (strcasecmp(w->seen[i], next) == 0) {
            c->loop = 1;
            snprintf(w->cur, sizeof w->cur, "%s", next);
            dns_walk_finish(d, q->mx, NULL);
            return;
        }
    if (w->n_seen > MXS_MAX_CNAME_HOPS) {   /* the host and 16 names seen: a 17th */
        c->too_long = 1;
        snprintf(w->cur, sizeof w->cur, "%s", next);
        dns_walk_finish(d, q->mx, NULL);
        return;
    }
    snprintf(w->cur, sizeof w->cur, "%s", next);
    snprintf(w->seen[w->n_seen++], sizeof w->seen[0], "%s", next);
    if (w->end[0] && strcasecmp(next, w->end) == 0) {
        dns_walk_finish(d, q->mx, NULL);   /* where the resolver said it ends */
        return;
    }
    w->next = 1;                           /* the next hop goes out after ub_process */
}

/* An IP address as MX target: Postfix takes it as the address (a warning
 * "numeric domain name", no lookup), so do we, within the family asked. */
void dns_literal(struct dns_ctx *d, int i)
{
    struct mxs_mx *m = &d->out->mx[i];
    struct dns_addrs *a = &d->addrs[i];
    struct line l = { .n = 0 };
    int v6 = strchr(m->host, ':') != NULL;

    if ((v6 && d->family == 4) || (!v6 && d->family == 6)) {
        dns_line_add(&l, "%s %s: an IP address as MX target, not of the family asked",
                     v6 ? "AAAA" : "A", m->host);
    } else {
        snprintf(v6 ? a->v6[0] : a->v4[0], 64, "%s", m->host);
        if (v6)
            a->n6 = 1;
        else
            a->n4 = 1;
        dns_rebuild_addrs(d, i);
        dns_line_add(&l, "%s %s: an IP address as MX target: used as the address, as "
                     "Postfix does (no lookup)", v6 ? "AAAA" : "A", m->host);
    }
    dns_emit(d, &l);
}

/* ---- TXT (for MTA-STS / TLS-RPT, issue 12) ------------------------------ */

/* Every record is counted with its full size; the first DNS_TXT_MAX_RR keep
 * their first DNS_TXT_KEEP bytes, raw (escape at output).  A 64 KiB record
 * costs a count, not memory. */
void dns_on_txt(struct dns_ctx *d, const struct ub_result *r)
{
    struct dns_txt *t = d->txt;
    struct line l = { .n = 0 };
    int bad = 0;

    if (!t)
        return;
    dns_line_add(&l, "TXT %s: ", t->name);
    if (r && r->rcode == 0 && r->havedata && r->data && t->answer.dnssec != MXS_DNSSEC_BOGUS) {
        for (int i = 0; r->data[i]; i++) {
            size_t len = 0, total = 0;
            struct dns_txt_rr *x = t->kept < DNS_TXT_MAX_RR ? &t->rr[t->kept] : NULL;
            if (r->len[i] < 1 ||
                dns_parse_txt((const unsigned char *)r->data[i], (size_t)r->len[i],
                              x ? x->text : NULL, x ? sizeof x->text : 0, &len, &total) != 0) {
                bad++;
                continue;
            }
            t->n_rr++;
            t->total += total;
            if (x) {
                x->len = len;
                x->total = total;
                t->kept++;
            }
        }
        dns_line_add(&l, "%d record%s, %zu bytes of text", t->n_rr, t->n_rr == 1 ? "" : "s",
                     t->total);
        for (int i = 0; i < t->kept; i++) {
            /* A prefix of the raw text: the transcript escapes it once at
             * output; a NUL ends the prefix (a line is a C string). */
            size_t show = t->rr[i].len < 60 ? t->rr[i].len : 60;
            size_t nul = strnlen(t->rr[i].text, show);
            dns_line_add(&l, "%s \"%.*s%s\" (%zu bytes%s)", i ? "," : ":", (int)nul,
                         t->rr[i].text, nul < t->rr[i].len ? "..." : "", t->rr[i].total,
                         t->rr[i].total > t->rr[i].len ? ", first " DNS_TXT_KEEP_TEXT " kept" : "");
        }
        if (t->n_rr > t->kept)
            dns_line_add(&l, " (%d more not kept)", t->n_rr - t->kept);
        if (bad)
            dns_line_add(&l, " (%d malformed record%s ignored)", bad, bad > 1 ? "s" : "");
    } else {
        dns_line_add(&l, "%s", mxs_dns_rcode_name(t->answer.rcode));
    }
    dns_line_status(&l, &t->answer);
    dns_line_meta(d, &l, &t->answer);
    dns_emit(d, &l);
}

int dns_txt_start(struct dns_ctx *d, const char *name, struct dns_txt *out,
                  dns_record_cb cb, void *arg, char *err, size_t errlen)
{
    size_t nl;

    if (!d || !name || !out) {
        snprintf(err, errlen, "dns_txt_start: bad arguments");
        return -1;
    }
    nl = strlen(name);
    if (nl == 0 || nl > 253) {
        snprintf(err, errlen, "TXT name is empty or longer than 253 characters");
        return -1;
    }
    memset(&d->scratch, 0, sizeof d->scratch);
    dns_reset(d, &d->scratch, out, cb, arg);   /* no MX facts: a private sink */
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", name);
    d->anchor_asked = 1;                   /* no anchor check for a TXT alone */
    dns_send(d, Q_TXT, 0, name);
    if (d->pending == 0)
        d->scratch.done = 1;
    return 0;
}

/* ---- TLSA at the CNAME-expanded name (RFC 7672 2.2.2) ------------------- */

/* An MX host that is an alias: a DANE sender asks for the TLSA records at
 * the fully expanded name first, when the expansion validated (the address
 * answer came back secure), and uses the host's own only when there are
 * none there.  Both names are asked (the host's with the addresses, at
 * once; the expanded one when the addresses are in and named the end of
 * the chain); the choice is made when every answer is in. */
void dns_tlsa_expand(struct dns_ctx *d)
{
    for (int i = 0; i < d->out->n_mx && i < MXS_MAX_MX; i++) {
        struct dns_tlsa_exp *x = &d->tlsa_exp[i];
        const struct mxs_mx *m = &d->out->mx[i];
        if (x->sent || m->literal || !d->walk[i].end[0] || dns_host_pending(d, i))
            continue;
        x->sent = 1;
        if (m->a.dnssec != MXS_DNSSEC_SECURE && m->aaaa.dnssec != MXS_DNSSEC_SECURE) {
            x->merged = 1;                 /* an insecure alias: the host's name only */
            continue;
        }
        memset(&x->mx, 0, sizeof x->mx);
        char name[sizeof x->name];         /* built apart: both live in d */
        snprintf(name, sizeof name, "_%u._tcp.%s", (unsigned)d->port, d->walk[i].end);
        memcpy(x->name, name, sizeof name);
        if (dns_send(d, Q_TLSA_EXP, i, x->name) != 0)
            x->merged = 1;
    }
}

void dns_tlsa_merge(struct dns_ctx *d)
{
    for (int i = 0; i < d->out->n_mx && i < MXS_MAX_MX; i++) {
        struct dns_tlsa_exp *x = &d->tlsa_exp[i];
        struct mxs_mx *m = &d->out->mx[i];
        struct line l = { .n = 0 };
        if (!x->sent || x->merged)
            continue;
        x->merged = 1;
        int bogus = x->mx.tlsa.dnssec == MXS_DNSSEC_BOGUS;
        if (bogus || (x->mx.tlsa.rcode == MXS_DNS_OK && x->mx.n_tlsa > 0)) {
            m->tlsa = x->mx.tlsa;
            memcpy(m->tlsa_rr, x->mx.tlsa_rr, sizeof m->tlsa_rr);
            m->n_tlsa = x->mx.n_tlsa;
            snprintf(m->tlsa_name, sizeof m->tlsa_name, "%s", x->name);
            m->tlsa_expanded = 1;
            dns_line_add(&l, "TLSA of %s: the records at its CNAME-expanded name %s apply "
                         "(RFC 7672 2.2.2)%s", m->host, x->name,
                         bogus ? ": DNSSEC-bogus there, so the MX is not usable by DANE senders"
                               : "");
        } else {
            dns_line_add(&l, "TLSA of %s: none at its CNAME-expanded name %s, so those at "
                         "%s apply (RFC 7672 2.2.2)", m->host, x->name, m->tlsa_name);
        }
        dns_emit(d, &l);
    }
}
