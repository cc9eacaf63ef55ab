/*
 * engine_policy.c - the POLICY step: what the mail domain publishes about
 * TLS to its MX hosts, read as a sender reads it (issue 12).  Owner: the
 * engine.
 *
 * Right after RESOLVE (engine.c's order tables), one whole-stage deadline
 * (--timeout-policy), never blocking, in phases:
 *   0  TXT _mta-sts.DOMAIN (RFC 8461 §3.1)       dns_txt_start on the
 *   1  TXT _smtp._tls.DOMAIN (RFC 8460 §3)       engine's resolver
 *   2  A/AAAA of mta-sts.DOMAIN, by our resolver (the fetch is pinned to the
 *      address, so the policy host is looked up where the MX hosts were)
 *   3  GET https://mta-sts.DOMAIN/.well-known/mta-sts.txt (probe/https.c:
 *      PKIX with --cafile or the system store, SNI, TLS 1.2+, no redirects,
 *      64 KiB), then the policy parsed (core/policy)
 * Only with exactly one valid v=STSv1 record is the policy fetched, as a
 * sender does.  The step ends OK, or WARN when the domain's publications
 * have a problem; it never FAILs: a broken MTA-STS policy does not stop
 * opportunistic, required, verified or DANE senders (the MTA-STS verdict
 * and the findings of diag/check_policy.c say what it does).
 *
 * Transcript: the TXT answers (D:), the HTTP request and response head one
 * line per record (H> / H<), a NOTE for the outcome and the policy.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "probe/dns.h"
#include "probe/engine_int.h"
#include "probe/https.h"

#define POL_URL_PATH "/.well-known/mta-sts.txt"

/* core.h keeps the mode as an int with these values (no policy.h there). */
_Static_assert(STS_MODE_UNSET == 0 && STS_MODE_ENFORCE == 1 && STS_MODE_TESTING == 2 &&
               STS_MODE_NONE == 3, "struct mxs_policy_facts.mode follows enum sts_mode");

static void pol_dns_line(void *arg, const char *line)
{
    struct engine *e = arg;
    engine_rec_add(e, MXS_REC_DNS, MXS_STEP_POLICY, line, strlen(line));
}

const char *engine_policy_cannot_run(const struct engine *e)
{
    const enum mxs_step_state r = e->st[MXS_STEP_RESOLVE];
    if (e->set.target_is_host)
        return "a host was given, not a mail domain: no MTA-STS policy to read";
    if (e->set.connect_addr[0] || r == MXS_ST_SKIPPED)
        return "address given, no lookup";
    if (r == MXS_ST_FAIL || r == MXS_ST_CANCELLED)
        return "RESOLVE failed: no mail domain to read a policy for";
    return NULL;
}

static void pol_free_fetch(struct engine *e)
{
    https_free(e->pol_fetch);
    e->pol_fetch = NULL;
}

static void pol_read_sts(struct engine *e, const struct dns_txt *d);
static void pol_read_rpt(struct engine *e, const struct dns_txt *d);

void engine_policy_stop(struct engine *e)
{
    struct mxs_policy_facts *p = &e->pol;
    if (e->running && e->cur == MXS_STEP_POLICY && !p->done) {
        /* What was asked when the deadline (or the operator) ended the
         * step: the unanswered query is TIMEOUT (dns_cancel ran first). */
        if (e->phase == 1 && e->pol_txt)
            pol_read_sts(e, e->pol_txt);
        else if (e->phase == 2 && e->pol_txt)
            pol_read_rpt(e, e->pol_txt);
        else if (e->phase >= 3) {
            p->fetch = MXS_FETCH_TIMEOUT;
            if (e->pol_fetch) {
                const struct https_result *r = https_result(e->pol_fetch);
                p->body_seen = r->body_seen;
            }
            snprintf(p->fetch_error, sizeof p->fetch_error, "the POLICY deadline (%.1f s) passed %s",
                     e->set.timeout_ms[MXS_STEP_POLICY] / 1000.0,
                     e->phase == 3 ? "before mta-sts.DOMAIN resolved" : "during the fetch");
        }
        p->done = 1;
    }
    pol_free_fetch(e);
}

void engine_policy_clear(struct engine *e)
{
    pol_free_fetch(e);
    free(e->pol_txt);
    e->pol_txt = NULL;
    free(e->pol_host);
    e->pol_host = NULL;
    memset(&e->pol, 0, sizeof e->pol);
}

int engine_policy_pollfds(struct engine *e, struct pollfd *fds, int max)
{
    if (e->pol_fetch)
        return https_pollfds(e->pol_fetch, fds, max);
    if (max > 0 && e->dns_ctx && dns_fd(e->dns_ctx) >= 0) {
        fds[0].fd = dns_fd(e->dns_ctx);
        fds[0].events = POLLIN;
        fds[0].revents = 0;
        return 1;
    }
    return 0;
}

int engine_policy_timeout_ms(struct engine *e)
{
    return e->pol_fetch ? https_timeout_ms(e->pol_fetch) : -1;
}

/* One TXT answer into the facts, the version record picked and parsed. */
static void pol_txt_copy(struct mxs_policy_txt *t, const struct dns_txt *d, const char *prefix)
{
    const char *rec[DNS_TXT_MAX_RR];
    size_t len[DNS_TXT_MAX_RR];
    int others = 0;
    t->asked = 1;
    snprintf(t->name, sizeof t->name, "%s", d->name);
    t->answer = d->answer;
    t->n_rr = d->n_rr;
    t->picked = -1;
    for (int i = 0; i < d->kept; i++) {
        rec[i] = d->rr[i].text;
        len[i] = d->rr[i].len;
        if (i < MXS_PTXT_KEEP) {
            size_t n = d->rr[i].len < MXS_PTXT_LEN - 1 ? d->rr[i].len : MXS_PTXT_LEN - 1;
            memcpy(t->rr[i], d->rr[i].text, n);
            t->rr[i][n] = 0;
            t->rr_len[i] = n;
            t->n_kept = i + 1;
        }
    }
    int idx = -1;
    enum policy_txt_pick pk = policy_txt_pick(prefix, rec, len, d->kept, &idx, &others);
    t->n_versioned = pk == POLICY_TXT_NONE ? 0 : pk == POLICY_TXT_ONE ? 1 : d->kept - others;
    if (pk == POLICY_TXT_ONE)
        t->picked = idx;
}

static void pol_read_sts(struct engine *e, const struct dns_txt *d)
{
    struct mxs_policy_txt *t = &e->pol.sts;
    pol_txt_copy(t, d, "v=STSv1");
    if (t->picked < 0)
        return;
    struct sts_txt st;
    t->valid = sts_txt_parse(d->rr[t->picked].text, d->rr[t->picked].len, &st) == 0;
    if (t->valid)
        snprintf(e->pol.sts_id, sizeof e->pol.sts_id, "%s", st.id);
    else
        snprintf(t->error, sizeof t->error, "%s", st.error);
}

static void pol_read_rpt(struct engine *e, const struct dns_txt *d)
{
    struct mxs_policy_txt *t = &e->pol.rpt;
    pol_txt_copy(t, d, "v=TLSRPTv1");
    if (t->picked < 0)
        return;
    struct tlsrpt_txt r;
    t->valid = tlsrpt_txt_parse(d->rr[t->picked].text, d->rr[t->picked].len, &r) == 0;
    if (!t->valid)
        snprintf(t->error, sizeof t->error, "%s", r.error);
    e->pol.n_rua_total = r.n_rua_total;
    for (int i = 0; i < r.n_rua && i < MXS_PRUA_MAX; i++) {
        size_t n = r.rua[i].len < sizeof e->pol.rua[i].uri - 1 ? r.rua[i].len
                                                                : sizeof e->pol.rua[i].uri - 1;
        e->pol.rua[i].kind = (int)r.rua[i].kind;
        e->pol.rua[i].ok = r.rua[i].ok;
        memcpy(e->pol.rua[i].uri, r.rua[i].uri, n);
        e->pol.rua[i].uri[n] = 0;
        e->pol.n_rua = i + 1;
    }
}

/* One record per line of an HTTP head (CRLF-separated), raw. */
static void pol_head_records(struct engine *e, enum mxs_rec_kind k, const char *h, size_t n)
{
    const char *p = h, *end = h + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t l = (size_t)(le - p);
        if (l && p[l - 1] == '\r')
            l--;
        if (l)
            engine_rec_add(e, k, MXS_STEP_POLICY, p, l);
        p = nl ? nl + 1 : end;
    }
}

static enum mxs_fetch pol_fetch_kind(enum https_outcome o)
{
    switch (o) {
    case HTTPS_OK: return MXS_FETCH_OK;
    case HTTPS_ERR_DNS: return MXS_FETCH_DNS;
    case HTTPS_ERR_CONNECT: return MXS_FETCH_CONNECT;
    case HTTPS_ERR_TLS: return MXS_FETCH_TLS;
    case HTTPS_ERR_CERT: return MXS_FETCH_CERT;
    case HTTPS_ERR_HTTP: return MXS_FETCH_HTTP;
    case HTTPS_ERR_TOO_BIG: return MXS_FETCH_TOO_BIG;
    case HTTPS_ERR_TIMEOUT: return MXS_FETCH_TIMEOUT;
    default: return MXS_FETCH_OTHER;
    }
}

/* text/plain, parameters (charset) allowed: RFC 8461 §3.3. */
static int pol_type_plain(const char *ct)
{
    size_t n = strcspn(ct, ";");
    while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    return n == 10 && !strncasecmp(ct, "text/plain", 10);
}

static void pol_parse(struct engine *e, const unsigned char *body, size_t len)
{
    struct mxs_policy_facts *p = &e->pol;
    struct sts_policy *sp = calloc(1, sizeof *sp);
    if (!sp)
        return;
    p->parsed = 1;
    p->policy_valid = sts_policy_parse((const char *)body, len, sp) == 0;
    p->mode = (int)sp->mode;
    p->max_age = sp->max_age;
    p->n_mx_total = sp->n_mx_total;
    for (int i = 0; i < sp->n_mx && i < MXS_PMX_MAX; i++) {
        snprintf(p->mx[i], sizeof p->mx[i], "%s", sp->mx[i]);
        p->n_mx = i + 1;
    }
    p->lines = sp->lines;
    p->crlf = sp->crlf;
    p->lf = sp->lf;
    p->n_problems_total = sp->n_problems_total;
    for (int i = 0; i < sp->n_problems && i < MXS_PPROB_MAX; i++) {
        p->problem[i].line = sp->problem[i].line;
        p->problem[i].fatal = sp->problem[i].fatal;
        snprintf(p->problem[i].what, sizeof p->problem[i].what, "%s", sp->problem[i].what);
        size_t n = sp->problem[i].raw_len < sizeof p->problem[i].raw
                   ? sp->problem[i].raw_len : sizeof p->problem[i].raw;
        memcpy(p->problem[i].raw, sp->problem[i].raw, n);
        p->problem[i].raw_len = n;
        p->n_problems = i + 1;
    }
    free(sp);
}

static void pol_fetch_done(struct engine *e)
{
    const struct https_result *r = https_result(e->pol_fetch);
    struct mxs_policy_facts *p = &e->pol;
    pol_head_records(e, MXS_REC_HTTP_OUT, r->request_head, r->request_head_len);
    pol_head_records(e, MXS_REC_HTTP_IN, r->response_head, r->response_head_len);
    p->fetch = pol_fetch_kind(r->outcome);
    p->http_status = r->status;
    snprintf(p->status_line, sizeof p->status_line, "%s", r->status_line);
    snprintf(p->content_type, sizeof p->content_type, "%s", r->content_type);
    snprintf(p->location, sizeof p->location, "%s", r->location);
    snprintf(p->fetch_error, sizeof p->fetch_error, "%s", r->error);
    p->verify_result = r->verify_result;
    if (r->n_certs > 0) {
        snprintf(p->cert_subject, sizeof p->cert_subject, "%s", r->cert[0].subject);
        snprintf(p->cert_issuer, sizeof p->cert_issuer, "%s", r->cert[0].issuer);
        snprintf(p->cert_not_after, sizeof p->cert_not_after, "%s", r->cert[0].not_after);
    }
    p->body_len = r->body_len;
    p->body_seen = r->body_seen;
    p->body_head_len = r->body_len < sizeof p->body_head ? r->body_len : sizeof p->body_head;
    if (p->body_head_len)
        memcpy(p->body_head, r->body, p->body_head_len);
    p->fetch_ms = r->elapsed_ms;
    engine_rec_printf(e, MXS_REC_NOTE, MXS_STEP_POLICY, "policy fetch: %s, HTTP %ld, %zu bytes%s%s",
                      mxs_fetch_name(p->fetch), p->http_status, p->body_seen,
                      r->error[0] ? ": " : "", r->error);
    if (p->fetch == MXS_FETCH_OK && pol_type_plain(p->content_type))
        pol_parse(e, r->body, r->body_len);
    pol_free_fetch(e);
}

/* The step's end: OK when what is published is usable (or nothing is), WARN
 * when a sender would find a problem. */
static int pol_end(struct engine *e)
{
    struct mxs_policy_facts *p = &e->pol;
    const struct mxs_policy_txt *s = &p->sts;
    p->done = 1;
    engine_event(e, MXS_EV_FACTS, MXS_STEP_POLICY, MXS_ST_OK, 0);
    int rpt_bad = (p->rpt.picked >= 0 && !p->rpt.valid) || p->rpt.n_versioned > 1;
    const char *rpt = rpt_bad ? "TLS-RPT invalid" : p->rpt.picked < 0 ? "no TLS-RPT" : "TLS-RPT";
    if (s->n_versioned == 0) {
        engine_step_end(e, MXS_STEP_POLICY, rpt_bad ? MXS_ST_WARN : MXS_ST_OK,
                        "no MTA-STS record, %s", rpt);
        return 1;
    }
    if (s->picked < 0 || !s->valid) {
        engine_step_end(e, MXS_STEP_POLICY, MXS_ST_WARN, "MTA-STS record %s, %s",
                        s->picked < 0 ? "not unique" : "invalid", rpt);
        return 1;
    }
    if (p->fetch != MXS_FETCH_OK || !p->parsed) {
        engine_step_end(e, MXS_STEP_POLICY, MXS_ST_WARN, "policy fetch failed (%s%s), %s",
                        p->fetch == MXS_FETCH_OK ? "content type " : mxs_fetch_name(p->fetch),
                        p->fetch == MXS_FETCH_OK ? p->content_type : "", rpt);
        return 1;
    }
    const char *mode = sts_mode_name((enum sts_mode)p->mode);
    engine_rec_printf(e, MXS_REC_NOTE, MXS_STEP_POLICY, "policy: mode %s, %d mx pattern%s, max_age %ld%s",
                      mode, p->n_mx, p->n_mx == 1 ? "" : "s", p->max_age,
                      p->policy_valid ? "" : " (invalid)");
    /* An MX the policy does not list: refused under enforce, reported under
     * testing (check_policy.c names each). */
    int uncovered = 0;
    for (int i = 0; i < e->dns.n_mx && i < MXS_MAX_MX && p->mode != STS_MODE_NONE; i++) {
        int hit = 0;
        for (int k = 0; k < p->n_mx && !hit; k++)
            hit = sts_mx_match(p->mx[k], e->dns.mx[i].host);
        uncovered += !hit;
    }
    engine_step_end(e, MXS_STEP_POLICY, p->policy_valid && !rpt_bad && p->n_problems == 0 && !uncovered
                    ? MXS_ST_OK : MXS_ST_WARN, "MTA-STS %s%s, id %s, %s",
                    p->policy_valid ? "mode " : "policy invalid", p->policy_valid ? mode : "",
                    p->sts_id, rpt);
    return 1;
}

static int pol_fail_setup(struct engine *e, const char *what, const char *err)
{
    engine_rec_printf(e, MXS_REC_ERROR, MXS_STEP_POLICY, "%s: %s", what, err);
    return pol_end(e);
}

int engine_step_policy(struct engine *e)
{
    char err[256] = "";
    struct mxs_policy_facts *p = &e->pol;
    char name[300];
    if (e->phase == 0) {
        memset(p, 0, sizeof *p);
        p->sts.picked = p->rpt.picked = -1;
        size_t tl = strlen(e->set.target);
        while (tl && e->set.target[tl - 1] == '.')
            tl--;
        snprintf(p->domain, sizeof p->domain, "%.*s", (int)tl, e->set.target);
        if (!e->dns_ctx && !(e->dns_ctx = dns_new_for(e->dns_shared, &e->set, err, sizeof err)))
            return pol_fail_setup(e, "resolver set-up", err);
        if (!e->pol_txt && !(e->pol_txt = calloc(1, sizeof *e->pol_txt)))
            return pol_fail_setup(e, "memory", "no room for the TXT answer");
        snprintf(name, sizeof name, "_mta-sts.%s", p->domain);
        if (dns_txt_start(e->dns_ctx, name, e->pol_txt, pol_dns_line, e, err, sizeof err) != 0)
            return pol_fail_setup(e, "TXT lookup", err);
        e->phase = 1;
    }
    if (e->phase >= 1 && e->phase <= 3) {
        int r = dns_process(e->dns_ctx, err, sizeof err);
        if (r < 0)
            return pol_fail_setup(e, "resolver", err);
        if (r == 0)
            return 0;
        if (e->phase == 1) {
            pol_read_sts(e, e->pol_txt);
            snprintf(name, sizeof name, "_smtp._tls.%s", p->domain);
            if (dns_txt_start(e->dns_ctx, name, e->pol_txt, pol_dns_line, e, err, sizeof err) != 0)
                return pol_fail_setup(e, "TXT lookup", err);
            e->phase = 2;
            return 0;
        }
        if (e->phase == 2) {
            pol_read_rpt(e, e->pol_txt);
            if (p->sts.picked < 0 || !p->sts.valid)
                return pol_end(e);  /* no policy: a sender fetches nothing */
            if (!e->pol_host && !(e->pol_host = calloc(1, sizeof *e->pol_host)))
                return pol_fail_setup(e, "memory", "no room for the policy host");
            snprintf(name, sizeof name, "mta-sts.%s", p->domain);
            if (dns_start(e->dns_ctx, name, 1, 0 /* no TLSA: an address */, e->set.family, e->pol_host, pol_dns_line, e,
                          err, sizeof err) != 0)
                return pol_fail_setup(e, "address lookup", err);
            e->phase = 3;
            return 0;
        }
        /* phase 3: the policy host's address */
        snprintf(p->url, sizeof p->url, "https://mta-sts.%s" POL_URL_PATH, p->domain);
        const struct mxs_mx *h = &e->pol_host->mx[0];
        if (e->pol_host->n_mx < 1 || h->n_addr < 1) {
            p->fetch = MXS_FETCH_DNS;
            snprintf(p->fetch_error, sizeof p->fetch_error, "mta-sts.%.200s: no address (A %s, AAAA %s)",
                     p->domain, mxs_dns_rcode_name(h->a.rcode), mxs_dns_rcode_name(h->aaaa.rcode));
            engine_rec_printf(e, MXS_REC_NOTE, MXS_STEP_POLICY, "policy fetch: dns: %s", p->fetch_error);
            return pol_end(e);
        }
        snprintf(p->host_addr, sizeof p->host_addr, "%s", h->addr[0].text);
        /* The fetch ends a little before the stage, so its own words (what
         * came, from whom) are what the deadline leaves. */
        long left = (long)(e->deadline - engine_now_ms()) - 250;
        /* --policy-port: the URL (Host, SNI, the name checked) stays
         * mta-sts.DOMAIN; only the connection goes to another port. */
        unsigned pport = e->set.policy_port && e->set.policy_port != 443 ? e->set.policy_port : 0;
        e->pol_fetch = https_start(p->url, p->host_addr, pport, e->set.cafile,
                                   left > 0 ? left : 1, STS_POLICY_MAX, err, sizeof err);
        if (!e->pol_fetch) {
            p->fetch = MXS_FETCH_OTHER;
            snprintf(p->fetch_error, sizeof p->fetch_error, "%s", err);
            return pol_fail_setup(e, "HTTPS", err);
        }
        if (pport)
            engine_rec_printf(e, MXS_REC_NOTE, MXS_STEP_POLICY, "GET %s (address %s, port %u: --policy-port)",
                              p->url, p->host_addr, pport);
        else
            engine_rec_printf(e, MXS_REC_NOTE, MXS_STEP_POLICY, "GET %s (address %s)", p->url, p->host_addr);
        e->phase = 4;
    }
    /* phase 4: the fetch.  engine_step() is called after the caller's
     * poll(), without its revents: ask again, without waiting. */
    struct pollfd fds[8];
    int n = https_pollfds(e->pol_fetch, fds, 8);
    if (n > 0 && poll(fds, (nfds_t)n, 0) < 0)
        n = 0;
    if (!https_step(e->pol_fetch, fds, n))
        return 0;
    pol_fetch_done(e);
    return pol_end(e);
}
