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

enum { Q_MX = 0, Q_A, Q_AAAA, Q_TLSA, Q_ANCHOR, Q_CNAME, Q_TXT };
#define RR_A 1
#define RR_CNAME 5
#define RR_MX 15
#define RR_TXT 16
#define RR_AAAA 28
#define RR_DNSKEY 48
#define RR_TLSA 52

/* One MX query + A, AAAA, TLSA per MX host + the anchor check + a CNAME
 * walk of MXS_MAX_CNAME_HOPS + 1 queries per MX host. */
#define DNS_MAX_Q (2 + 3 * MXS_MAX_MX + MXS_MAX_MX * (MXS_MAX_CNAME_HOPS + 1))
#define DNS_LINE_MAX 4096
/* An answer slower than this is named in its transcript line and the
 * dns-slow finding. */
#define DNS_SLOW_MS 1000

struct dns_q {
    struct dns_ctx *d;
    int kind;          /* Q_* */
    int mx;            /* index into out->mx */
    int async_id;
    int pending;
    int64_t t0;        /* sent, monotonic ms */
    char name[300];    /* the query name, for the transcript line */
};

/* The hop-by-hop CNAME walk of one MX host (see dns_walk_step). */
struct dns_walk {
    int wanted;        /* its A/AAAA answer came from another name, or failed */
    int started, done;
    int next;          /* a CNAME query for cur is due (sent outside callbacks) */
    char cur[256];
    char seen[MXS_MAX_CNAME_HOPS + 1][256];
    int n_seen;
    char end[256];     /* the resolver's canonical name, when it gave one */
};

/* Addresses per family, kept apart so the facts list is deterministic
 * (IPv4 first, then IPv6, each in DNS order) whatever order answers arrive. */
struct dns_addrs {
    char v4[MXS_MAX_ADDR][64];
    int n4;
    char v6[MXS_MAX_ADDR][64];
    int n6;
};

struct dns_ctx {
    struct ub_ctx *ub;
    char anchor_zone[256];   /* owner of the trust anchor ("" none)         */
    int anchor_asked;        /* the check query went out for this start     */
    struct mxs_dns_answer anchor;
    struct dns_q q[DNS_MAX_Q];
    int n_q;
    int pending;
    int mx_answered;   /* MX answer in: start the host queries after ub_process */
    struct mxs_dns_facts *out;
    struct dns_addrs addrs[MXS_MAX_MX];
    /* Bogus answers are parsed here, shown in the transcript, never used. */
    struct mxs_dns_facts scratch;
    struct dns_addrs scratch_addrs;
    dns_record_cb cb;
    void *arg;
    char target[256];
    uint16_t port;
    int family;
    int udp_limit;     /* libunbound's EDNS buffer: a larger answer came over TCP */
    struct dns_walk walk[MXS_MAX_MX];
    struct mxs_dns_answer walk_ans;   /* the walk's queries' status (not kept) */
    struct dns_txt *txt;              /* dns_txt_start()'s result           */
};

static int64_t dns_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- pure helpers ------------------------------------------------------- */

int dns_name_to_text(const unsigned char *p, size_t len, size_t *used, char *out,
                     size_t outlen)
{
    size_t i = 0, o = 0, wire = 0;

    if (used)
        *used = 0;
    if (!p || !out || outlen < 2)
        return -1;
    out[0] = '\0';
    for (;;) {
        if (i >= len)
            return -1;                     /* truncated: no root label */
        size_t l = p[i];
        if (l == 0) {
            i++;
            wire++;
            break;
        }
        if (l > 63)
            return -1;                     /* pointer or extended label type */
        if (i + 1 + l > len)
            return -1;
        wire += 1 + l;
        if (wire + 1 > 255)
            return -1;                     /* RFC 1035: 255 octets at most */
        if (o > 0) {
            if (o + 1 >= outlen)
                return -1;
            out[o++] = '.';
        }
        for (size_t k = 0; k < l; k++) {
            unsigned char c = p[i + 1 + k];
            char tmp[5];
            size_t tl;
            if (c == '.' || c == '\\') {
                tmp[0] = '\\'; tmp[1] = (char)c; tl = 2;
            } else if (c <= 0x20 || c >= 0x7f) {
                tmp[0] = '\\';
                tmp[1] = (char)('0' + c / 100);
                tmp[2] = (char)('0' + (c / 10) % 10);
                tmp[3] = (char)('0' + c % 10);
                tl = 4;
            } else {
                tmp[0] = (char)c; tl = 1;
            }
            if (o + tl >= outlen)
                return -1;
            memcpy(out + o, tmp, tl);
            o += tl;
        }
        i += 1 + l;
    }
    if (o == 0)
        out[o++] = '.';                    /* the root name */
    out[o] = '\0';
    if (used)
        *used = i;
    return 0;
}

int dns_parse_mx(const unsigned char *rdata, size_t len, uint16_t *pref,
                 char *host, size_t hostlen)
{
    size_t used = 0;

    if (!rdata || !pref || !host || len < 3)
        return -1;
    if (dns_name_to_text(rdata + 2, len - 2, &used, host, hostlen) != 0)
        return -1;
    if (used != len - 2) {                 /* trailing bytes: malformed RDATA */
        host[0] = '\0';
        return -1;
    }
    *pref = (uint16_t)((rdata[0] << 8) | rdata[1]);
    return 0;
}

int dns_parse_tlsa(const unsigned char *rdata, size_t len, struct mxs_tlsa *t)
{
    if (!rdata || !t || len < 4)           /* 3 fields + some association data */
        return -1;
    memset(t, 0, sizeof *t);
    t->usage = rdata[0];
    t->selector = rdata[1];
    t->mtype = rdata[2];
    t->len = len - 3;
    if (t->len > sizeof t->data) {
        t->len = sizeof t->data;
        t->truncated = 1;
    }
    memcpy(t->data, rdata + 3, t->len);
    return 0;
}

/* Presentation form -> raw label bytes, DNS_SEP between labels; an escaped
 * dot stays inside its label (and is flagged).  -1 on a malformed escape or
 * overflow. */
#define DNS_SEP 0x100
static int dns_pres_labels(const char *name, unsigned short *raw, size_t cap,
                           size_t *rawlen, int *inner_dot)
{
    size_t o = 0;
    *inner_dot = 0;
    for (const char *p = name; *p; p++) {
        unsigned c = (unsigned char)*p;
        if (c == '.') {
            c = DNS_SEP;
        } else if (c == '\\') {
            if (p[1] >= '0' && p[1] <= '9' && p[2] >= '0' && p[2] <= '9' &&
                p[3] >= '0' && p[3] <= '9') {
                c = (unsigned)((p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0'));
                if (c > 255)
                    return -1;
                p += 3;
            } else if (p[1]) {
                c = (unsigned char)*++p;
            } else {
                return -1;
            }
            if (c == '.')
                *inner_dot = 1;
        }
        if (o >= cap)
            return -1;
        raw[o++] = (unsigned short)c;
    }
    *rawlen = o;
    return 0;
}

size_t dns_host_raw(const char *name, char *out, size_t cap)
{
    unsigned short raw[300];
    size_t n = 0, o = 0;
    int inner = 0;
    if (!out || cap == 0)
        return 0;
    if (!name || dns_pres_labels(name, raw, sizeof raw / sizeof raw[0], &n, &inner) != 0)
        n = 0;
    for (size_t i = 0; i < n && o < cap; i++)
        out[o++] = raw[i] == DNS_SEP ? '.' : (char)raw[i];
    if (o < cap)
        out[o] = '\0';
    return o;
}

int dns_host_check(const char *name, char *why, size_t whylen)
{
    unsigned short raw[300];
    size_t n = 0;
    int inner_dot = 0, non_numeric = 0;
    unsigned char a4[16];

    if (why && whylen)
        why[0] = '\0';
    if (!name || !name[0] || strcmp(name, ".") == 0) {
        snprintf(why, whylen, "is empty");
        return DNS_HOST_INVALID;
    }
    /* Postfix valid_hostaddr() first: an address is used as is. */
    if (inet_pton(AF_INET, name, a4) == 1 || inet_pton(AF_INET6, name, a4) == 1)
        return DNS_HOST_LITERAL;
    if (dns_pres_labels(name, raw, sizeof raw / sizeof raw[0], &n, &inner_dot) != 0) {
        snprintf(why, whylen, "is not a domain name");
        return DNS_HOST_INVALID;
    }
    if (n > 0 && raw[n - 1] == DNS_SEP)
        n--;                               /* "host.example." == "host.example" */
    /* The most telling reason first: control bytes, then non-ASCII. */
    for (size_t i = 0; i < n; i++)
        if (raw[i] < 0x20 || raw[i] == 0x7f) {
            snprintf(why, whylen, "contains control bytes (0x%02X)", raw[i]);
            return DNS_HOST_INVALID;
        }
    for (size_t i = 0; i < n; i++)
        if (raw[i] >= 0x80 && raw[i] != DNS_SEP) {
            snprintf(why, whylen, "contains non-ASCII bytes (0x%02X; an IDN must be "
                     "in its xn-- form)", raw[i]);
            return DNS_HOST_INVALID;
        }
    if (inner_dot) {
        snprintf(why, whylen, "has a dot inside a label");
        return DNS_HOST_INVALID;
    }
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        unsigned c = i < n ? raw[i] : DNS_SEP;
        if (c == DNS_SEP) {                /* end of a label */
            if (i == start) {
                snprintf(why, whylen, "has an empty label");
                return DNS_HOST_INVALID;
            }
            if (raw[start] == '-' || raw[i - 1] == '-') {
                snprintf(why, whylen, "has a label that starts or ends with a hyphen");
                return DNS_HOST_INVALID;
            }
            start = i + 1;
            continue;
        }
        if (c == ' ') {
            snprintf(why, whylen, "contains a space");
            return DNS_HOST_INVALID;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_')) {
            snprintf(why, whylen, "contains the character '%c'", (char)c);
            return DNS_HOST_INVALID;
        }
        if (c < '0' || c > '9')
            non_numeric = 1;
    }
    if (!non_numeric) {
        snprintf(why, whylen, "is all digits (neither a host name nor an address)");
        return DNS_HOST_INVALID;
    }
    return DNS_HOST_OK;
}

int dns_parse_txt(const unsigned char *rdata, size_t len, char *out, size_t cap,
                  size_t *outlen, size_t *total)
{
    size_t i = 0, o = 0, t = 0;

    if (outlen)
        *outlen = 0;
    if (total)
        *total = 0;
    if (!rdata || len == 0)
        return -1;                         /* at least one character-string */
    while (i < len) {
        size_t l = rdata[i++];
        if (i + l > len)
            return -1;                     /* a string past the RDATA */
        for (size_t k = 0; k < l; k++, t++)
            if (out && o < cap)
                out[o++] = (char)rdata[i + k];
        i += l;
    }
    if (outlen)
        *outlen = o;
    if (total)
        *total = t;
    return 0;
}

/* ---- transcript lines --------------------------------------------------- */

struct line {
    char buf[DNS_LINE_MAX];
    size_t n;
    int cut;
};

static void dns_line_add(struct line *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void dns_line_add(struct line *l, const char *fmt, ...)
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

static void dns_line_status(struct line *l, const struct mxs_dns_answer *a)
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
static void dns_line_meta(struct dns_ctx *d, struct line *l, const struct mxs_dns_answer *a)
{
    if (a->ms >= DNS_SLOW_MS)
        dns_line_add(l, " (answered after %.1f s)", (double)a->ms / 1000.0);
    if (d->udp_limit > 0 && a->bytes > d->udp_limit)
        dns_line_add(l, " (%d bytes: more than a UDP answer may carry (EDNS %d), so it "
                     "came over TCP)", a->bytes, d->udp_limit);
}

static void dns_emit(struct dns_ctx *d, struct line *l)
{
    if (d->cb)
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
static void dns_on_txt(struct dns_ctx *d, const struct ub_result *r);

static struct mxs_dns_answer *dns_answer_of(struct dns_ctx *d, struct dns_q *q)
{
    struct mxs_mx *m = &d->out->mx[q->mx];
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

static void dns_rebuild_addrs(struct dns_ctx *d, int mx)
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
    struct mxs_mx *m = &d->out->mx[q->mx];
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
        if (q->kind != Q_TLSA && !bogus)
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

/* ---- the CNAME walk ------------------------------------------------------ */

/* One CNAME query per hop (libunbound has most of them cached from the
 * address lookup): the chain, a loop (a name seen before) or more than
 * MXS_MAX_CNAME_HOPS hops, stored in the MX host's facts. */
static void dns_walk_finish(struct dns_ctx *d, int mx, const char *how)
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

static void dns_on_walk(struct dns_ctx *d, struct dns_q *q, const struct ub_result *r)
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

/* ---- TXT (for MTA-STS / TLS-RPT, issue 12) ------------------------------ */

/* Every record is counted with its full size; the first DNS_TXT_MAX_RR keep
 * their first DNS_TXT_KEEP bytes, raw (escape at output).  A 64 KiB record
 * costs a count, not memory. */
static void dns_on_txt(struct dns_ctx *d, const struct ub_result *r)
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

/* The owner name of the first record in a trust anchor file ("." in
 * Debian's root.key, "example.test." in the test world's): the zone whose
 * DNSKEY the check asks for.  "" when the file cannot be read. */
static void dns_anchor_zone(const char *path, char *out, size_t outlen)
{
    FILE *fp = fopen(path, "r");
    char line[512];

    out[0] = '\0';
    if (!fp)
        return;
    while (fgets(line, sizeof line, fp)) {
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == ';' || *p == '#' || *p == '\n' || *p == '\0' || *p == '$')
            continue;
        size_t n = strcspn(p, " \t\r\n");
        if (n > 0 && n < outlen && n < 254) {
            memcpy(out, p, n);
            out[n] = '\0';
        }
        break;
    }
    fclose(fp);
}

/* ---- queries ------------------------------------------------------------ */

static int dns_send(struct dns_ctx *d, int kind, int mx, const char *name)
{
    static const int types[] = { RR_MX, RR_A, RR_AAAA, RR_TLSA, RR_DNSKEY, RR_CNAME, RR_TXT };
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

/* An IP address as MX target: Postfix takes it as the address (a warning
 * "numeric domain name", no lookup), so do we, within the family asked. */
static void dns_literal(struct dns_ctx *d, int i)
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
        snprintf(tname, sizeof tname, "_%u._tcp.%s", (unsigned)d->port, f->mx[i].host);
        dns_send(d, Q_TLSA, i, tname);
    }
}

/* ---- lifecycle ---------------------------------------------------------- */

static int dns_is_loopback(const char *addr)
{
    return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 ||
           strncmp(addr, "::1@", 4) == 0;
}

static int dns_access(const char *path)
{
    return access(path, R_OK) == 0;
}

/* With an explicit resolver every name is asked of it.  libunbound answers
 * the special-use names of RFC 6761/6762/7686/8375 (test., invalid.,
 * localhost., onion., home.arpa. ...) itself, NXDOMAIN, without asking: an
 * operator who points --resolver at the server that has the answer would
 * be told the name does not exist.  "local-zone: X nodefault" lifts that;
 * it takes effect only through a config file (ub_ctx_set_option does not
 * apply local-zone), so we write one to a private temp file, hand it to
 * ub_ctx_config() (read at once) and remove it. */
static const char *const dns_special_zones[] = {
    "test.", "invalid.", "localhost.", "onion.", "local.", "home.arpa.",
    "resolver.arpa.", "service.arpa.", "example.", NULL
};

static int dns_lift_special_zones(struct ub_ctx *ub, char *err, size_t errlen)
{
    const char *tmpdir = getenv("TMPDIR");
    char path[512], conf[1024];
    size_t n = 0;
    int fd, r;

    n += (size_t)snprintf(conf + n, sizeof conf - n, "server:\n");
    for (int i = 0; dns_special_zones[i] && n < sizeof conf; i++)
        n += (size_t)snprintf(conf + n, sizeof conf - n, "    local-zone: \"%s\" nodefault\n",
                              dns_special_zones[i]);
    snprintf(path, sizeof path, "%s/mxscope-ub.XXXXXX",
             tmpdir && tmpdir[0] == '/' ? tmpdir : "/tmp");
    fd = mkstemp(path);
    if (fd < 0) {
        snprintf(err, errlen, "resolver: cannot write the libunbound config (%s: %s)", path,
                 strerror(errno));
        return -1;
    }
    ssize_t w = write(fd, conf, n);
    int ok = w == (ssize_t)n;
    close(fd);
    r = ok ? ub_ctx_config(ub, path) : UB_NOMEM;
    unlink(path);
    if (!ok) {
        snprintf(err, errlen, "resolver: writing %s: %s", path, w < 0 ? strerror(errno) : "short write");
        return -1;
    }
    if (r != 0) {
        snprintf(err, errlen, "resolver: libunbound config: %s", ub_strerror(r));
        return -1;
    }
    return 0;
}

struct dns_ctx *dns_new(const struct mxs_settings *s, char *err, size_t errlen)
{
    struct dns_ctx *d;
    int r;

    d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    d->ub = ub_ctx_create();
    if (!d->ub) {
        snprintf(err, errlen, "libunbound: cannot create a context");
        free(d);
        return NULL;
    }
    /* libunbound 1.17 rotates RRsets by default (rrset-roundrobin: yes):
     * MX ties would then come out in a random order.  We report ties in the
     * order the server sent them; a config file may still turn it back on. */
    if ((r = ub_ctx_set_option(d->ub, "rrset-roundrobin:", "no")) != 0) {
        snprintf(err, errlen, "rrset-roundrobin: %s", ub_strerror(r));
        goto fail;
    }
    /* The config file next: the settings below then override it. */
    if (s->unbound_conf[0] && (r = ub_ctx_config(d->ub, s->unbound_conf)) != 0) {
        snprintf(err, errlen, "unbound config %s: %s", s->unbound_conf, ub_strerror(r));
        goto fail;
    }
    if (s->resolver[0]) {
        if (dns_lift_special_zones(d->ub, err, errlen) != 0)
            goto fail;
        if ((r = ub_ctx_set_fwd(d->ub, s->resolver)) != 0) {
            snprintf(err, errlen, "resolver %s: %s", s->resolver, ub_strerror(r));
            goto fail;
        }
        /* libunbound refuses to send queries to loopback by default. */
        if (dns_is_loopback(s->resolver) &&
            (r = ub_ctx_set_option(d->ub, "do-not-query-localhost:", "no")) != 0) {
            snprintf(err, errlen, "do-not-query-localhost: %s", ub_strerror(r));
            goto fail;
        }
    } else if ((r = ub_ctx_resolvconf(d->ub, NULL)) != 0) {
        snprintf(err, errlen, "/etc/resolv.conf: %s", ub_strerror(r));
        goto fail;
    }
    if (s->trust_anchor[0]) {
        dns_anchor_zone(s->trust_anchor, d->anchor_zone, sizeof d->anchor_zone);
        if ((r = ub_ctx_add_ta_file(d->ub, s->trust_anchor)) != 0) {
            snprintf(err, errlen, "trust anchor %s: %s", s->trust_anchor, ub_strerror(r));
            goto fail;
        }
    } else if (dns_access("/usr/share/dns/root.key")) {
        /* Debian's dns-root-data.  Without any anchor every answer is
         * merely "insecure", which is still a truthful report. */
        dns_anchor_zone("/usr/share/dns/root.key", d->anchor_zone, sizeof d->anchor_zone);
        if ((r = ub_ctx_add_ta_file(d->ub, "/usr/share/dns/root.key")) != 0) {
            snprintf(err, errlen, "trust anchor /usr/share/dns/root.key: %s", ub_strerror(r));
            goto fail;
        }
    }
    /* A stub's patience: libunbound starts a forwarder it does not know at
     * a 376 ms retransmit timer and doubles it, so a resolver that needs
     * 2.4 s per answer was asked 7 times and answered after 7.7 s (measured
     * with tests/fixtures/dnssrv.py).  glibc's stub, which Postfix uses,
     * waits 5 s per try.  3 s per try keeps the one answer and its true
     * time; the RESOLVE stage deadline still bounds the whole. */
    if ((r = ub_ctx_set_option(d->ub, "infra-cache-min-rtt:", "3000")) != 0) {
        snprintf(err, errlen, "infra-cache-min-rtt: %s", ub_strerror(r));
        goto fail;
    }
    {
        char *v = NULL;
        d->udp_limit = 1232;               /* libunbound's default since 1.16 */
        if (ub_ctx_get_option(d->ub, "edns-buffer-size", &v) == 0 && v) {
            int n = atoi(v);
            if (n >= 512)
                d->udp_limit = n;
        }
        free(v);
    }
    if ((r = ub_ctx_async(d->ub, 1)) != 0) {   /* a thread: see the top */
        snprintf(err, errlen, "libunbound async: %s", ub_strerror(r));
        goto fail;
    }
    return d;
fail:
    ub_ctx_delete(d->ub);
    free(d);
    return NULL;
}

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
    ub_ctx_delete(d->ub);
    free(d);
}

/* Forget the previous lookup (its queries cancelled) and aim at new sinks. */
static void dns_reset(struct dns_ctx *d, struct mxs_dns_facts *out, struct dns_txt *txt,
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

int dns_fd(struct dns_ctx *d)
{
    return d ? ub_fd(d->ub) : -1;
}

static int dns_host_pending(const struct dns_ctx *d, int mx)
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
    if (d->pending > 0) {
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
