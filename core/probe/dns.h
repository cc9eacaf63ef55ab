/*
 * dns.h - RESOLVE with libunbound: MX, A/AAAA, TLSA and DNSSEC state.
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

/* target is a mail domain (MX lookup) or, with is_host, one MX host name.
 * family 0/4/6 limits the address queries.  Returns 0 or -1 with err. */
int dns_start(struct dns_ctx *d, const char *target, int is_host, uint16_t port,
              int family, struct mxs_dns_facts *out, dns_record_cb cb,
              void *arg, char *err, size_t errlen);
int dns_fd(struct dns_ctx *d);
/* Returns 1 when every query is answered, 0 while some are pending, -1 on a
 * library error (err). */
int dns_process(struct dns_ctx *d, char *err, size_t errlen);
void dns_cancel(struct dns_ctx *d);

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

#endif
