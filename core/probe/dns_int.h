/*
 * dns_int.h - what dns.c and dns_hostile.c share; not for other modules.
 * Owner: DNS module.  dns.c: the context, the queries, the MX/A/AAAA/TLSA
 * answers, the resolver check, the lifecycle.  dns_hostile.c: what hostile
 * answers need beyond that: the hop-by-hop CNAME walk, an IP address as MX
 * target, the bounded TXT lookup (see dns.h).
 */
#ifndef MXS_DNS_INT_H
#define MXS_DNS_INT_H
#include <stddef.h>
#include <stdint.h>
#include <unbound.h>

#include "probe/dns.h"

/* Q_TLSA_EXP: the TLSA lookup at an MX host's CNAME-expanded name. */
enum { Q_MX = 0, Q_A, Q_AAAA, Q_TLSA, Q_ANCHOR, Q_CNAME, Q_TXT, Q_TLSA_EXP };
#define RR_A 1
#define RR_CNAME 5
#define RR_MX 15
#define RR_TXT 16
#define RR_AAAA 28
#define RR_DNSKEY 48
#define RR_TLSA 52

/* One MX query + A, AAAA, TLSA per MX host + the anchor check + a CNAME
 * walk of MXS_MAX_CNAME_HOPS + 1 queries per MX host + a TLSA lookup at
 * the expanded name per MX host. */
#define DNS_MAX_Q (2 + 4 * MXS_MAX_MX + MXS_MAX_MX * (MXS_MAX_CNAME_HOPS + 1))
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

/* The hop-by-hop CNAME walk of one MX host (dns_hostile.c, dns_on_walk). */
struct dns_walk {
    int wanted;        /* its A/AAAA answer came from another name, or failed */
    int started, done;
    int next;          /* a CNAME query for cur is due (sent outside callbacks) */
    char cur[256];
    char seen[MXS_MAX_CNAME_HOPS + 1][256];
    int n_seen;
    char end[256];     /* the resolver's canonical name, when it gave one */
};

/* RFC 7672 2.2.2: the TLSA lookup at an MX host's CNAME-expanded name,
 * asked once its address lookup went through an alias securely; its
 * answer lands here and replaces the host's own when it has records (or is
 * bogus) once every query is in (dns_hostile.c). */
struct dns_tlsa_exp {
    int sent, merged;
    char name[300];
    struct mxs_mx mx;  /* its answer and records only */
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
    /* dns_new(): the context is ours, read and freed by us; NULL: a list's
     * (dns_new_for), read by its owner (dns_shared_process) */
    struct dns_shared *own;
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
    struct dns_tlsa_exp tlsa_exp[MXS_MAX_MX];
};

/* One transcript line under construction (bounded, "..." when cut). */
struct line {
    char buf[DNS_LINE_MAX];
    size_t n;
    int cut;
};

/* dns.c */
int64_t dns_now_ms(void);
void dns_line_add(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dns_line_status(struct line *l, const struct mxs_dns_answer *a);
void dns_line_meta(struct dns_ctx *d, struct line *l, const struct mxs_dns_answer *a);
void dns_emit(struct dns_ctx *d, struct line *l);
void dns_rebuild_addrs(struct dns_ctx *d, int mx);
/* An A or AAAA query of MX host mx is still out. */
int dns_host_pending(const struct dns_ctx *d, int mx);
/* Send one query of kind Q_* (for MX host mx); -1 when no slot is left. */
int dns_send(struct dns_ctx *d, int kind, int mx, const char *name);
/* Forget the previous lookup (its queries cancelled) and aim at new sinks. */
void dns_reset(struct dns_ctx *d, struct mxs_dns_facts *out, struct dns_txt *txt,
               dns_record_cb cb, void *arg);

/* dns_hostile.c */
void dns_walk_finish(struct dns_ctx *d, int mx, const char *how);
void dns_on_walk(struct dns_ctx *d, struct dns_q *q, const struct ub_result *r);
void dns_on_txt(struct dns_ctx *d, const struct ub_result *r);
void dns_literal(struct dns_ctx *d, int i);
/* RFC 7672 2.2.2: send the TLSA lookups at the CNAME-expanded names that
 * are due; once nothing is pending, take their answers where they count. */
void dns_tlsa_expand(struct dns_ctx *d);
void dns_tlsa_merge(struct dns_ctx *d);

#endif
