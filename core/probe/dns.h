/*
 * dns.h - RESOLVE with libunbound: MX, A/AAAA, TLSA and DNSSEC state.
 * Files: dns.c (queries, answers, resolver check, a lookup's lifecycle),
 * dns_context.c (the libunbound context: made as the settings ask, alone or
 * shared by a list), dns_hostile.c (CNAME walk, IP-literal MX, bounded TXT),
 * dns_parse.c (the pure helpers below); dns_int.h is what the first three
 * share.
 *
 * Asynchronous: dns_start() sends the MX query (or, for a host target, the
 * A/AAAA/TLSA queries directly); when the MX answer arrives, the A, AAAA and
 * TLSA queries of every MX host go out together, in parallel.  The engine
 * polls dns_fd() and calls dns_process(); the stage deadline is the engine's:
 * on expiry it calls dns_cancel(), which marks every unanswered query
 * MXS_DNS_TIMEOUT.
 *
 * Configuration: settings.resolver "ADDR[@PORT]" forwards every query to that
 * server; otherwise /etc/resolv.conf.  settings.trust_anchor is a file of DS
 * or DNSKEY records (default /usr/share/dns/root.key when it exists).
 * settings.unbound_conf, when set, is passed to ub_ctx_config() (tests use it
 * to lift the special-use "test." zone: `local-zone: "test." nodefault`).
 *
 * Ownership: struct dns_ctx is opaque, dns_free() releases it; the facts
 * struct passed to dns_start() is the caller's and must outlive the queries.
 *
 * What the facts mean (dns.c):
 *   - DNSSEC bogus answers are recorded as rcode MXS_DNS_SERVFAIL with dnssec
 *     MXS_DNSSEC_BOGUS and why_bogus, as a validating resolver would tell an
 *     MTA; their data is NOT stored (no MX hosts, addresses or TLSA from a
 *     bogus answer), only shown, marked unvalidated, in the transcript line.
 *   - An answer left at rcode MXS_DNS_OK with dnssec MXS_DNSSEC_UNKNOWN was
 *     never asked: the other family with family 4/6, mx_answer for a host
 *     target, A/AAAA/TLSA after NXDOMAIN/SERVFAIL/null MX.  Every answered
 *     query has dnssec INSECURE, SECURE or BOGUS (or rcode ERROR/TIMEOUT).
 *   - mx[] is sorted by preference, ties in DNS order (libunbound's
 *     rrset-roundrobin is turned off so it is the order received); with more than
 *     MXS_MAX_MX records the worst ones are dropped.  null_mx only when the
 *     single MX record is "0 ."; implicit_mx (the target, preference 0)
 *     only on NODATA.
 *   - addr[] lists IPv4 first, then IPv6, each in DNS order, bounded.
 *   - Host names are in presentation format: "\." and "\DDD" escape a dot
 *     inside a label and bytes outside 0x21-0x7E, so they are printable
 *     ASCII (still pass them through mxs_escape() like any network text).
 *   - libunbound runs in a thread of ours (ub_ctx_async(ctx, 1)), not a
 *     forked process; callbacks run only inside dns_process().
 *
 * Hostile answers (tests/integration/dns_hostile.sh against the scripted
 * server tests/fixtures/dnssrv.py), each bounded and named:
 *   - An MX target that is not a host name (control bytes, non-ASCII, a
 *     space, a dot inside a label, a hyphen at a label's edge, all digits:
 *     dns_host_check(), Postfix's valid_hostname() rules) is skipped as
 *     Postfix skips it; the first MXS_MAX_MX_INVALID are kept in
 *     mx_invalid[] for the evidence, all are counted (n_mx_invalid).  An IP
 *     address as target is used as the address (Postfix: "numeric domain
 *     name"), mx[].literal, no lookup.
 *   - mx_records counts every MX record of the answer, mx_not_kept the valid
 *     ones past MXS_MAX_MX (500 records cost a count, not memory).
 *   - Every answer has its time (ms, from sending to the answer, retries
 *     inside libunbound included) and size (bytes).  libunbound retries a
 *     truncated UDP answer over TCP by itself and does not say so: an answer
 *     larger than its EDNS buffer (1232) can only have come over TCP, and the
 *     transcript line says so.
 *   - An A/AAAA answer that came from another name, or failed with SERVFAIL,
 *     starts a CNAME walk: one CNAME query per hop (at most
 *     MXS_MAX_CNAME_HOPS + 1 per MX host), the chain in mx[].cname, a loop
 *     when a name comes back.
 *   - The whole stage is bounded by the engine's RESOLVE deadline
 *     (dns_cancel); libunbound waits at least 3 s per try (see dns_new).
 */
#ifndef MXS_DNS_H
#define MXS_DNS_H
#include <stddef.h>
#include <stdint.h>
#include "core.h"

struct dns_ctx;

/* Called once per answer with a readable line, e.g.
 * "MX example.test: 10 mx1.example.test, 20 mx2.example.test (secure)". */
typedef void (*dns_record_cb)(void *arg, const char *line);

struct dns_ctx *dns_new(const struct mxs_settings *s, char *err, size_t errlen);
void dns_free(struct dns_ctx *d);

/* One libunbound context for many lookups at once (a partner list,
 * cmd/domains.c).  A context of its own per domain costs a worker thread,
 * the trust anchor read again and the DNSSEC chain from the root validated
 * again for every domain; one shared context does each once, and its cache
 * answers what domains have in common (the parent zones' keys, shared MX
 * hosts).  Answers are the same: the cache keeps them no longer than their
 * TTL, and validation is the same on a cached chain.  Its caches are kept
 * small (1 MB each; an --unbound-conf may set its own), so a long list
 * runs in the memory of a short one.
 *
 * dns_new_for() makes a lookup on sh when s asks for the same resolver,
 * config file and trust anchor sh was made from, else (or with sh NULL) a
 * context of its own, as dns_new().  A lookup on a shared context never
 * reads it: its owner calls dns_shared_process() once per pass of its poll
 * loop, BEFORE it calls dns_process() on the lookups (the answers are
 * handed to their lookups then; dns_process() goes on from them), and polls
 * dns_shared_fd() (the same descriptor dns_fd() gives).  An answer that
 * arrives during the pass stays in the pipe and wakes the next poll.
 * Ownership: the caller's; dns_shared_free() after every dns_ctx made on it
 * is freed (dns_free() cancels the lookup's own queries only). */
struct dns_shared;
struct dns_shared *dns_shared_new(const struct mxs_settings *s, char *err, size_t errlen);
struct dns_ctx *dns_new_for(struct dns_shared *sh, const struct mxs_settings *s, char *err,
                            size_t errlen);
int dns_shared_fd(const struct dns_shared *sh);
int dns_shared_process(struct dns_shared *sh, char *err, size_t errlen);
void dns_shared_free(struct dns_shared *sh);

/* target is a mail domain (MX lookup) or, with is_host, one MX host name.
 * family 0/4/6 limits the address queries; port names the TLSA query
 * (_port._tcp.HOST), 0 for none (the MTA-STS policy host: an address only).
 * Returns 0 or -1 with err. */
int dns_start(struct dns_ctx *d, const char *target, int is_host, uint16_t port,
              int family, struct mxs_dns_facts *out, dns_record_cb cb,
              void *arg, char *err, size_t errlen);
int dns_fd(struct dns_ctx *d);
/* Returns 1 when every query is answered, 0 while some are pending, -1 on a
 * library error (err). */
int dns_process(struct dns_ctx *d, char *err, size_t errlen);
void dns_cancel(struct dns_ctx *d);

/* TXT lookup for the MTA-STS / TLS-RPT policy records (issue 12): one query,
 * alone on the context (it resets it like dns_start), answered through
 * dns_fd()/dns_process() like the others.  Bounded: every record counted with
 * its full size, the first DNS_TXT_MAX_RR keep their first DNS_TXT_KEEP
 * bytes of text (the character-strings joined, as RFC 7208/8461 read them),
 * raw: escape at output (mxs_escape), may hold any byte.  The transcript line
 * goes to cb.  The caller owns *out; it must outlive the query. */
#define DNS_TXT_MAX_RR 8
#define DNS_TXT_KEEP 1024
#define DNS_TXT_KEEP_TEXT "1024"
struct dns_txt_rr {
    size_t total;                  /* bytes of text in the record            */
    size_t len;                    /* kept in text[] (<= DNS_TXT_KEEP)       */
    char text[DNS_TXT_KEEP];
};
struct dns_txt {
    char name[256];
    struct mxs_dns_answer answer;
    int n_rr;                      /* well-formed records in the answer      */
    int kept;                      /* in rr[]                                */
    size_t total;                  /* bytes of text in all of them           */
    struct dns_txt_rr rr[DNS_TXT_MAX_RR];
};
int dns_txt_start(struct dns_ctx *d, const char *name, struct dns_txt *out,
                  dns_record_cb cb, void *arg, char *err, size_t errlen);

/* Pure helpers (fuzzed): decode wire-format RDATA. */
int dns_parse_mx(const unsigned char *rdata, size_t len, uint16_t *pref,
                 char *host, size_t hostlen);
int dns_parse_tlsa(const unsigned char *rdata, size_t len, struct mxs_tlsa *t);
/* Return 0, or -1 on malformed input.  dns_parse_mx: 2-byte preference and a
 * name that must fill the RDATA exactly.  dns_parse_tlsa: needs at least one
 * byte of association data; t->len is what was kept (<= 64), truncated set
 * when there was more.
 * Decode a wire-format domain name (no compression pointers in RDATA from
 * libunbound) into dotted text without the trailing dot ("." for root);
 * labels > 63, a name over 255 octets, truncation or a text form that does
 * not fit outlen are errors; *used is the number of wire bytes consumed. */
int dns_name_to_text(const unsigned char *p, size_t len, size_t *used, char *out,
                     size_t outlen);
/* TXT RDATA: its character-strings joined into out (at most cap bytes kept,
 * *outlen), *total the full text length.  -1 when a string runs past the
 * RDATA or the RDATA is empty.  out may be NULL (count only). */
int dns_parse_txt(const unsigned char *rdata, size_t len, char *out, size_t cap,
                  size_t *outlen, size_t *total);
/* Judge a name in presentation form (as dns_name_to_text writes it) the way
 * Postfix judges an MX target (valid_hostaddr, then valid_hostname):
 * DNS_HOST_OK, DNS_HOST_LITERAL (an IPv4/IPv6 address) or DNS_HOST_INVALID
 * with the reason in why ("contains control bytes (0x1B)"). */
enum { DNS_HOST_INVALID = -1, DNS_HOST_OK = 0, DNS_HOST_LITERAL = 1 };
int dns_host_check(const char *name, char *why, size_t whylen);
/* The raw bytes of a presentation-form name ("\027" -> 0x1B, "\." -> '.'),
 * '.' between labels, NUL-terminated when it fits; returns the length. */
size_t dns_host_raw(const char *name, char *out, size_t cap);

#endif
