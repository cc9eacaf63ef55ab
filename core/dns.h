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
/* Decode a wire-format domain name (no compression pointers in RDATA from
 * libunbound) into dotted text without the trailing dot ("." for root). */
int dns_name_to_text(const unsigned char *p, size_t len, size_t *used, char *out,
                     size_t outlen);

#endif
