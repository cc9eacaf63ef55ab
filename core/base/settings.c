/*
 * settings.c - defaults, the setting name table, set/get by name, and the
 * small name tables of core.h (steps, states, record kinds).
 *
 * One table drives `--KEY VALUE` on the command line, `set KEY VALUE` in
 * the console and scripts, completion and help: a setting added here is
 * everywhere at once.
 */
#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <netdb.h>

#include "core.h"

/* Default per-stage deadlines.  Postfix waits 300 s for a greeting; an
 * operator at a console will not, but greet-pause and tar-pits are real, so
 * the banner gets a minute. */
static const int default_timeout_ms[MXS_STEP_COUNT] = {
    10000, 10000, 60000, 30000, 30000, 30000, 5000, 30000, 5000
};

static void default_ehlo_name(char *out, size_t len)
{
    char host[256] = "";
    if (gethostname(host, sizeof host - 1) != 0 || host[0] == 0) {
        snprintf(out, len, "localhost.localdomain");
        return;
    }
    host[sizeof host - 1] = 0;
    if (!strchr(host, '.')) {
        /* Receivers reject bare names: ask the resolver for the FQDN. */
        struct addrinfo hints = { .ai_flags = AI_CANONNAME }, *res = NULL;
        if (getaddrinfo(host, NULL, &hints, &res) == 0 && res && res->ai_canonname &&
            strchr(res->ai_canonname, '.'))
            snprintf(host, sizeof host, "%s", res->ai_canonname);
        if (res)
            freeaddrinfo(res);
    }
    snprintf(out, len, "%s", host);
}

void mxs_settings_init(struct mxs_settings *s)
{
    memset(s, 0, sizeof *s);
    s->port = 25;
    s->family = 0;
    s->sni_mode = MXS_SNI_MXHOST;
    s->tls_min = MXS_TLS_ANY;
    s->tls_max = MXS_TLS_ANY;
    s->expiry_warn_days = 30;
    s->mx_index = -1;
    s->addr_index = -1;
    s->stop_after = -1;
    memcpy(s->timeout_ms, default_timeout_ms, sizeof s->timeout_ms);
    default_ehlo_name(s->ehlo_name, sizeof s->ehlo_name);
}

const char *const mxs_setting_names[] = {
    "target", "host", "port", "tlsa-port", "connect", "family", "tls-on-connect", "ehlo",
    "sni", "tls-min", "tls-max", "cafile", "cert", "key", "expect-fingerprint",
    "resolver", "trust-anchor", "unbound-conf", "timeout",
    "timeout-resolve", "timeout-connect", "timeout-banner", "timeout-ehlo",
    "timeout-starttls", "timeout-handshake", "timeout-chain", "timeout-ehlo2",
    "timeout-quit", "expiry-warn", "mx", "addr", "stop-after", NULL
};

__attribute__((format(printf, 3, 4)))
static int seterr(char *err, size_t len, const char *fmt, ...)
{
    if (err && len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, len, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int parse_long(const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi)
        return -1;
    *out = x;
    return 0;
}

/* Seconds, fractions allowed ("0.5"), to milliseconds. */
static int parse_seconds(const char *v, int *ms)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || !(d > 0) || d > 86400)
        return -1;
    *ms = (int)(d * 1000.0 + 0.5);
    if (*ms < 1)
        *ms = 1;
    return 0;
}

static int parse_tls_version(const char *v, int *out)
{
    if (!strcmp(v, "any") || !strcmp(v, "0")) { *out = MXS_TLS_ANY; return 0; }
    if (!strcmp(v, "1.2") || !strcasecmp(v, "tls1.2") || !strcasecmp(v, "tlsv1.2") || !strcmp(v, "12")) { *out = 12; return 0; }
    if (!strcmp(v, "1.3") || !strcasecmp(v, "tls1.3") || !strcasecmp(v, "tlsv1.3") || !strcmp(v, "13")) { *out = 13; return 0; }
    return -1;
}

static int copy(char *dst, size_t dlen, const char *v, char *err, size_t errlen)
{
    size_t n = strlen(v);
    if (n >= dlen)
        return seterr(err, errlen, "value too long: %.40s...", v);
    memcpy(dst, v, n + 1);
    return 0;
}

/* "HOST[:PORT]" or "[V6]:PORT" into host and port (port untouched if none). */
static int split_host_port(const char *v, char *host, size_t hlen, uint16_t *port)
{
    const char *colon = NULL;
    char tmp[300];
    if (strlen(v) >= sizeof tmp)
        return -1;
    if (v[0] == '[') {
        const char *rb = strchr(v, ']');
        if (!rb)
            return -1;
        size_t n = (size_t)(rb - v - 1);
        if (n >= hlen)
            return -1;
        memcpy(host, v + 1, n);
        host[n] = 0;
        if (rb[1] == ':')
            colon = rb + 1;
        else if (rb[1])
            return -1;
    } else {
        colon = strchr(v, ':');
        if (colon && strchr(colon + 1, ':'))
            colon = NULL; /* a bare IPv6 literal: no port */
        size_t n = colon ? (size_t)(colon - v) : strlen(v);
        if (n >= hlen || n == 0)
            return -1;
        memcpy(host, v, n);
        host[n] = 0;
    }
    if (colon) {
        long p;
        if (parse_long(colon + 1, 1, 65535, &p))
            return -1;
        *port = (uint16_t)p;
    }
    return 0;
}

int mxs_settings_set(struct mxs_settings *s, const char *key, const char *v,
                     char *err, size_t errlen)
{
    long x;
    int ms;
    if (!v)
        v = "";
    if (!strcmp(key, "target")) {
        s->target_is_host = 0;
        return copy(s->target, sizeof s->target, v, err, errlen);
    }
    if (!strcmp(key, "host")) {
        if (split_host_port(v, s->target, sizeof s->target, &s->port))
            return seterr(err, errlen, "host: expected HOST[:PORT], got '%.60s'", v);
        s->target_is_host = 1;
        return 0;
    }
    if (!strcmp(key, "port")) {
        if (parse_long(v, 1, 65535, &x))
            return seterr(err, errlen, "port: expected 1-65535, got '%.20s'", v);
        s->port = (uint16_t)x;
        return 0;
    }
    if (!strcmp(key, "tlsa-port")) {
        if (!strcmp(v, "auto") || !strcmp(v, "0")) { s->tlsa_port = 0; return 0; }
        if (parse_long(v, 1, 65535, &x))
            return seterr(err, errlen, "tlsa-port: expected 1-65535 or auto, got '%.20s'", v);
        s->tlsa_port = (uint16_t)x;
        return 0;
    }
    if (!strcmp(key, "connect")) {
        if (!*v || !strcmp(v, "none")) { s->connect_addr[0] = 0; return 0; }
        if (split_host_port(v, s->connect_addr, sizeof s->connect_addr, &s->port))
            return seterr(err, errlen, "connect: expected ADDR[:PORT], got '%.60s'", v);
        return 0;
    }
    if (!strcmp(key, "family")) {
        if (!strcmp(v, "any") || !strcmp(v, "0")) s->family = 0;
        else if (!strcmp(v, "4") || !strcmp(v, "ipv4")) s->family = 4;
        else if (!strcmp(v, "6") || !strcmp(v, "ipv6")) s->family = 6;
        else return seterr(err, errlen, "family: expected any, 4 or 6, got '%.20s'", v);
        return 0;
    }
    if (!strcmp(key, "tls-on-connect")) {
        if (!strcmp(v, "on") || !strcmp(v, "1") || !strcmp(v, "yes") || !*v) s->tls_on_connect = 1;
        else if (!strcmp(v, "off") || !strcmp(v, "0") || !strcmp(v, "no")) s->tls_on_connect = 0;
        else return seterr(err, errlen, "tls-on-connect: expected on or off, got '%.20s'", v);
        return 0;
    }
    if (!strcmp(key, "ehlo")) {
        if (!*v || strpbrk(v, " \t\r\n"))
            return seterr(err, errlen, "ehlo: a name without spaces, got '%.60s'", v);
        return copy(s->ehlo_name, sizeof s->ehlo_name, v, err, errlen);
    }
    if (!strcmp(key, "sni")) {
        if (!strcmp(v, "none") || !strcmp(v, "off")) { s->sni_mode = MXS_SNI_NONE; s->sni[0] = 0; return 0; }
        if (!*v || !strcmp(v, "mx")) { s->sni_mode = MXS_SNI_MXHOST; s->sni[0] = 0; return 0; }
        s->sni_mode = MXS_SNI_CUSTOM;
        return copy(s->sni, sizeof s->sni, v, err, errlen);
    }
    if (!strcmp(key, "tls-min") || !strcmp(key, "tls-max")) {
        int t;
        if (parse_tls_version(v, &t))
            return seterr(err, errlen, "TLS version: expected 1.2, 1.3 or any, got '%.20s'", v);
        if (key[4] == 'm' && key[5] == 'i') s->tls_min = t; else s->tls_max = t;
        return 0;
    }
    if (!strcmp(key, "cafile")) return copy(s->cafile, sizeof s->cafile, v, err, errlen);
    if (!strcmp(key, "cert")) return copy(s->client_cert, sizeof s->client_cert, v, err, errlen);
    if (!strcmp(key, "key")) return copy(s->client_key, sizeof s->client_key, v, err, errlen);
    if (!strcmp(key, "expect-fingerprint")) {
        char hex[65];
        size_t n = 0;
        if (!*v || !strcmp(v, "none")) { s->expect_fp[0] = 0; return 0; }
        for (const char *p = v; *p; p++) {
            if (*p == ':' || *p == ' ')
                continue; /* accept "AB:CD" and "ab cd" as shown by other tools */
            if (!isxdigit((unsigned char)*p) || n >= 64)
                return seterr(err, errlen, "expect-fingerprint: 40 (SHA-1) or 64 (SHA-256) hex digits, got '%.80s'", v);
            hex[n++] = (char)toupper((unsigned char)*p);
        }
        if (n != 40 && n != 64)
            return seterr(err, errlen, "expect-fingerprint: 40 (SHA-1) or 64 (SHA-256) hex digits, got '%.80s'", v);
        hex[n] = 0;
        memcpy(s->expect_fp, hex, n + 1);
        return 0;
    }
    if (!strcmp(key, "resolver")) return copy(s->resolver, sizeof s->resolver, v, err, errlen);
    if (!strcmp(key, "trust-anchor")) return copy(s->trust_anchor, sizeof s->trust_anchor, v, err, errlen);
    if (!strcmp(key, "unbound-conf")) return copy(s->unbound_conf, sizeof s->unbound_conf, v, err, errlen);
    if (!strcmp(key, "timeout")) {
        if (parse_seconds(v, &ms))
            return seterr(err, errlen, "timeout: seconds > 0, got '%.20s'", v);
        for (int i = 0; i < MXS_STEP_COUNT; i++)
            s->timeout_ms[i] = ms;
        return 0;
    }
    if (!strncmp(key, "timeout-", 8)) {
        int st = mxs_step_from_name(key + 8);
        if (st < 0)
            return seterr(err, errlen, "unknown setting '%.40s'", key);
        if (parse_seconds(v, &ms))
            return seterr(err, errlen, "timeout: seconds > 0, got '%.20s'", v);
        s->timeout_ms[st] = ms;
        return 0;
    }
    if (!strcmp(key, "expiry-warn")) {
        if (parse_long(v, 0, 3650, &x))
            return seterr(err, errlen, "expiry-warn: days 0-3650, got '%.20s'", v);
        s->expiry_warn_days = (int)x;
        return 0;
    }
    if (!strcmp(key, "mx") || !strcmp(key, "addr")) {
        int *dst = key[0] == 'm' ? &s->mx_index : &s->addr_index;
        if (!strcmp(v, "any") || !strcmp(v, "auto")) { *dst = -1; return 0; }
        if (parse_long(v, 0, 15, &x))
            return seterr(err, errlen, "expected an index 0-15 or 'any', got '%.20s'", v);
        *dst = (int)x;
        return 0;
    }
    if (!strcmp(key, "stop-after")) {
        if (!strcmp(v, "none") || !*v) { s->stop_after = -1; return 0; }
        int st = mxs_step_from_name(v);
        if (st < 0)
            return seterr(err, errlen, "stop-after: a step name, got '%.20s'", v);
        s->stop_after = st;
        return 0;
    }
    return seterr(err, errlen, "unknown setting '%.40s'", key);
}

static const char *tls_v_text(int v)
{
    return v == 12 ? "1.2" : v == 13 ? "1.3" : "any";
}

int mxs_settings_get(const struct mxs_settings *s, const char *key, char *out, size_t len)
{
    if (!strcmp(key, "target") || !strcmp(key, "host")) snprintf(out, len, "%s%s", s->target, s->target_is_host ? " (host)" : "");
    else if (!strcmp(key, "port")) snprintf(out, len, "%u", s->port);
    else if (!strcmp(key, "tlsa-port")) { if (s->tlsa_port) snprintf(out, len, "%u", s->tlsa_port); else snprintf(out, len, "auto (%u)", s->port); }
    else if (!strcmp(key, "connect")) snprintf(out, len, "%s", s->connect_addr[0] ? s->connect_addr : "none");
    else if (!strcmp(key, "family")) snprintf(out, len, "%s", s->family == 4 ? "4" : s->family == 6 ? "6" : "any");
    else if (!strcmp(key, "tls-on-connect")) snprintf(out, len, "%s", s->tls_on_connect ? "on" : "off");
    else if (!strcmp(key, "ehlo")) snprintf(out, len, "%s", s->ehlo_name);
    else if (!strcmp(key, "sni")) snprintf(out, len, "%s", s->sni_mode == MXS_SNI_NONE ? "none" : s->sni_mode == MXS_SNI_MXHOST ? "mx" : s->sni);
    else if (!strcmp(key, "tls-min")) snprintf(out, len, "%s", tls_v_text(s->tls_min));
    else if (!strcmp(key, "tls-max")) snprintf(out, len, "%s", tls_v_text(s->tls_max));
    else if (!strcmp(key, "cafile")) snprintf(out, len, "%s", s->cafile[0] ? s->cafile : "(system)");
    else if (!strcmp(key, "cert")) snprintf(out, len, "%s", s->client_cert[0] ? s->client_cert : "none");
    else if (!strcmp(key, "key")) snprintf(out, len, "%s", s->client_key[0] ? s->client_key : "none");
    else if (!strcmp(key, "expect-fingerprint")) snprintf(out, len, "%s", s->expect_fp[0] ? s->expect_fp : "none");
    else if (!strcmp(key, "resolver")) snprintf(out, len, "%s", s->resolver[0] ? s->resolver : "(resolv.conf)");
    else if (!strcmp(key, "trust-anchor")) snprintf(out, len, "%s", s->trust_anchor[0] ? s->trust_anchor : "(default)");
    else if (!strcmp(key, "unbound-conf")) snprintf(out, len, "%s", s->unbound_conf[0] ? s->unbound_conf : "none");
    else if (!strcmp(key, "timeout")) snprintf(out, len, "%.1f", s->timeout_ms[MXS_STEP_BANNER] / 1000.0);
    else if (!strncmp(key, "timeout-", 8) && mxs_step_from_name(key + 8) >= 0)
        snprintf(out, len, "%.1f", s->timeout_ms[mxs_step_from_name(key + 8)] / 1000.0);
    else if (!strcmp(key, "expiry-warn")) snprintf(out, len, "%d", s->expiry_warn_days);
    else if (!strcmp(key, "mx")) { if (s->mx_index < 0) snprintf(out, len, "any"); else snprintf(out, len, "%d", s->mx_index); }
    else if (!strcmp(key, "addr")) { if (s->addr_index < 0) snprintf(out, len, "any"); else snprintf(out, len, "%d", s->addr_index); }
    else if (!strcmp(key, "stop-after")) snprintf(out, len, "%s", s->stop_after < 0 ? "none" : mxs_step_name(s->stop_after));
    else return -1;
    return 0;
}
