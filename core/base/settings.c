/*
 * settings.c - defaults, and the setting table: one row per setting, read
 * by set/get here, by the command line and --help (tui/options.c), and by
 * the console's set/show/completion/`help set` (core/cmd/cmd.c).
 *
 * A row names the field (offset and size) and a parser/printer pair by
 * kind (text, port, choice, index, seconds ...); settings with their own
 * rules (host, connect, sni, expect-fingerprint) have their own pair.
 * Adding a setting: a field in struct mxs_settings, one row below, its use.
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
    10000, 10000, 60000, 30000, 30000, 30000, 5000, 30000, 5000,
    10000 /* POLICY: three DNS answers and one HTTPS fetch, as a sender waits */
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
    s->policy_port = 443;
    s->family = 0;
    s->sni_mode = MXS_SNI_MXHOST;
    s->tls_min = MXS_TLS_ANY;
    s->tls_max = MXS_TLS_ANY;
    s->expiry_warn_days = 30;
    s->dual_cert = 1;
    s->mx_index = -1;
    s->addr_index = -1;
    s->stop_after = -1;
    memcpy(s->timeout_ms, default_timeout_ms, sizeof s->timeout_ms);
    default_ehlo_name(s->ehlo_name, sizeof s->ehlo_name);
}

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

static int copy(char *dst, size_t dlen, const char *v, char *err, size_t errlen)
{
    size_t n = strlen(v);
    if (n >= dlen)
        return seterr(err, errlen, "value too long: %.40s...", v);
    memcpy(dst, v, n + 1);
    return 0;
}

/* "HOST[:PORT]" or "[V6]:PORT" into host and port (port untouched if none). */
static int split_host_port(const char *v, char *host, size_t hlen, uint16_t *port,
                           int *port_given)
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
        *port_given = 1;
    }
    return 0;
}


/* ---- the field a row names ---------------------------------------------- */

#define FIELD(s, d, type) ((type *)(void *)((char *)(s) + (d)->off))
#define CFIELD(s, d, type) ((const type *)(const void *)((const char *)(s) + (d)->off))

static int bad_value(const struct mxs_setting_def *d, const char *v, char *err, size_t errlen)
{
    return seterr(err, errlen, "%s: expected %s, got '%.60s'", d->name, d->range, v);
}

/* Plain text (file names, the resolver): stored as given. */
static int set_text(struct mxs_settings *s, const struct mxs_setting_def *d, const char *v,
                    char *err, size_t errlen)
{
    return copy(FIELD(s, d, char), d->size, v, err, errlen);
}

static void get_text(const struct mxs_settings *s, const struct mxs_setting_def *d, char *out,
                     size_t len)
{
    const char *f = CFIELD(s, d, char);
    snprintf(out, len, "%s", f[0] || !d->empty ? f : d->empty);
}

/* One word: a name sent on the wire (EHLO) must not hold spaces. */
static int set_word(struct mxs_settings *s, const struct mxs_setting_def *d, const char *v,
                    char *err, size_t errlen)
{
    if (!*v || strpbrk(v, " \t\r\n"))
        return bad_value(d, v, err, errlen);
    return copy(FIELD(s, d, char), d->size, v, err, errlen);
}

/* A port; with lo == 0, "auto" (or 0) stores 0: the port probed. */
static int set_port(struct mxs_settings *s, const struct mxs_setting_def *d, const char *v,
                    char *err, size_t errlen)
{
    long x;
    if (d->lo == 0 && (!strcmp(v, "auto") || !strcmp(v, "0"))) {
        *FIELD(s, d, uint16_t) = 0;
        return 0;
    }
    if (parse_long(v, 1, 65535, &x))
        return bad_value(d, v, err, errlen);
    *FIELD(s, d, uint16_t) = (uint16_t)x;
    if (FIELD(s, d, uint16_t) == &s->port)
        s->port_given = 1;
    return 0;
}

static void get_port(const struct mxs_settings *s, const struct mxs_setting_def *d, char *out,
                     size_t len)
{
    unsigned p = *CFIELD(s, d, uint16_t);
    if (p)
        snprintf(out, len, "%u", p);
    else
        snprintf(out, len, "auto (%u)", s->port);
}

/* A word from the row's choices (case does not matter: "TLSv1.2"). */
static int set_choice(struct mxs_settings *s, const struct mxs_setting_def *d, const char *v,
                      char *err, size_t errlen)
{
    for (const struct mxs_setting_choice *c = d->choices; c->word; c++)
        if (!strcasecmp(v, c->word)) {
            *FIELD(s, d, int) = c->value;
            return 0;
        }
    return bad_value(d, v, err, errlen);
}

static void get_choice(const struct mxs_settings *s, const struct mxs_setting_def *d, char *out,
                       size_t len)
{
    int x = *CFIELD(s, d, int);
    for (const struct mxs_setting_choice *c = d->choices; c->word; c++)
        if (c->value == x) {
            snprintf(out, len, "%s", c->word);
            return;
        }
    snprintf(out, len, "%d", x);
}

/* A number in [lo, hi]; with choices, words for values outside it ("any"). */
static int set_int(struct mxs_settings *s, const struct mxs_setting_def *d, const char *v,
                   char *err, size_t errlen)
{
    long x;
    if (d->choices && set_choice(s, d, v, NULL, 0) == 0)
        return 0;
    if (parse_long(v, d->lo, d->hi, &x))
        return bad_value(d, v, err, errlen);
    *FIELD(s, d, int) = (int)x;
    return 0;
}

static void get_int(const struct mxs_settings *s, const struct mxs_setting_def *d, char *out,
                    size_t len)
{
    int x = *CFIELD(s, d, int);
    if (d->choices && (x < d->lo || x > d->hi))
        get_choice(s, d, out, len);
    else
        snprintf(out, len, "%d", x);
}

/* A deadline in seconds: lo is the step, -1 for every step ("timeout"). */
static int set_seconds(struct mxs_settings *s, const struct mxs_setting_def *d, const char *v,
                       char *err, size_t errlen)
{
    int ms;
    if (parse_seconds(v, &ms))
        return bad_value(d, v, err, errlen);
    for (int i = 0; i < MXS_STEP_COUNT; i++)
        if (d->lo < 0 || d->lo == i)
            s->timeout_ms[i] = ms;
    return 0;
}

static void get_seconds(const struct mxs_settings *s, const struct mxs_setting_def *d, char *out,
                        size_t len)
{
    /* "timeout" shows the banner's: the stage an operator waits on. */
    snprintf(out, len, "%.1f", s->timeout_ms[d->lo < 0 ? MXS_STEP_BANNER : d->lo] / 1000.0);
}

static int set_step(struct mxs_settings *s, const struct mxs_setting_def *d, const char *v,
                    char *err, size_t errlen)
{
    if (!strcmp(v, "none") || !*v) {
        *FIELD(s, d, int) = -1;
        return 0;
    }
    int st = mxs_step_from_name(v);
    if (st < 0)
        return bad_value(d, v, err, errlen);
    *FIELD(s, d, int) = st;
    return 0;
}

static void get_step(const struct mxs_settings *s, const struct mxs_setting_def *d, char *out,
                     size_t len)
{
    int st = *CFIELD(s, d, int);
    snprintf(out, len, "%s", st < 0 ? "none" : mxs_step_name(st));
}

/* ---- settings with rules of their own ----------------------------------- */

static int set_target(struct mxs_settings *s, const struct mxs_setting_def *d, const char *v,
                      char *err, size_t errlen)
{
    (void)d;
    s->target_is_host = 0;
    return copy(s->target, sizeof s->target, v, err, errlen);
}

static int set_host(struct mxs_settings *s, const struct mxs_setting_def *d, const char *v,
                    char *err, size_t errlen)
{
    /* Into a copy first: a refused value changes nothing. */
    struct mxs_settings t = *s;
    if (split_host_port(v, t.target, sizeof t.target, &t.port, &t.port_given))
        return bad_value(d, v, err, errlen);
    t.target_is_host = 1;
    *s = t;
    return 0;
}

static void get_target(const struct mxs_settings *s, const struct mxs_setting_def *d, char *out,
                       size_t len)
{
    (void)d;
    snprintf(out, len, "%s%s", s->target, s->target_is_host ? " (host)" : "");
}

static int set_connect(struct mxs_settings *s, const struct mxs_setting_def *d, const char *v,
                       char *err, size_t errlen)
{
    if (!*v || !strcmp(v, "none")) {
        s->connect_addr[0] = 0;
        return 0;
    }
    struct mxs_settings t = *s;
    if (split_host_port(v, t.connect_addr, sizeof t.connect_addr, &t.port, &t.port_given))
        return bad_value(d, v, err, errlen);
    *s = t;
    return 0;
}

static int set_sni(struct mxs_settings *s, const struct mxs_setting_def *d, const char *v,
                   char *err, size_t errlen)
{
    (void)d;
    s->sni[0] = 0;
    if (!strcmp(v, "none") || !strcmp(v, "off")) { s->sni_mode = MXS_SNI_NONE; return 0; }
    if (!*v || !strcmp(v, "mx")) { s->sni_mode = MXS_SNI_MXHOST; return 0; }
    s->sni_mode = MXS_SNI_CUSTOM;
    return copy(s->sni, sizeof s->sni, v, err, errlen);
}

static void get_sni(const struct mxs_settings *s, const struct mxs_setting_def *d, char *out,
                    size_t len)
{
    (void)d;
    snprintf(out, len, "%s", s->sni_mode == MXS_SNI_NONE ? "none" :
             s->sni_mode == MXS_SNI_MXHOST ? "mx" : s->sni);
}

static int set_fingerprint(struct mxs_settings *s, const struct mxs_setting_def *d, const char *v,
                           char *err, size_t errlen)
{
    char hex[65];
    size_t n = 0;
    if (!*v || !strcmp(v, "none")) {
        s->expect_fp[0] = 0;
        return 0;
    }
    for (const char *p = v; *p; p++) {
        if (*p == ':' || *p == ' ')
            continue; /* accept "AB:CD" and "ab cd" as shown by other tools */
        if (!isxdigit((unsigned char)*p) || n >= 64)
            return bad_value(d, v, err, errlen);
        hex[n++] = (char)toupper((unsigned char)*p);
    }
    if (n != 40 && n != 64)
        return bad_value(d, v, err, errlen);
    hex[n] = 0;
    memcpy(s->expect_fp, hex, n + 1);
    return 0;
}

/* ---- the table ------------------------------------------------------------ */

static const struct mxs_setting_choice family_words[] = {
    { "any", 0 }, { "0", 0 }, { "4", 4 }, { "ipv4", 4 }, { "6", 6 }, { "ipv6", 6 }, { NULL, 0 }
};
static const struct mxs_setting_choice onoff_words[] = {
    { "off", 0 }, { "on", 1 }, { "1", 1 }, { "yes", 1 }, { "", 1 }, { "0", 0 }, { "no", 0 }, { NULL, 0 }
};
static const struct mxs_setting_choice tls_words[] = {
    { "any", MXS_TLS_ANY }, { "0", MXS_TLS_ANY }, { "1.2", 12 }, { "tls1.2", 12 }, { "tlsv1.2", 12 },
    { "12", 12 }, { "1.3", 13 }, { "tls1.3", 13 }, { "tlsv1.3", 13 }, { "13", 13 }, { NULL, 0 }
};
static const struct mxs_setting_choice anyindex_words[] = {
    { "any", -1 }, { "auto", -1 }, { NULL, 0 }
};

#define AT(f) .off = offsetof(struct mxs_settings, f), .size = sizeof ((struct mxs_settings *)0)->f
#define TEXT(f, shown) .set = set_text, .get = get_text, AT(f), .empty = shown
#define FILEPATH(f, shown) TEXT(f, shown), .flags = MXS_SETF_FILE
#define TIMEOUT(st, nm) { .name = "timeout-" nm, .arg = "S", .range = "seconds > 0", \
    .help = "the " #st " stage's deadline", .flags = MXS_SETF_FOLDED, \
    .set = set_seconds, .get = get_seconds, .lo = MXS_STEP_##st }

const struct mxs_setting_def mxs_setting_table[] = {
    { .name = "target", .arg = "DOMAIN", .range = "a mail domain", .group = "target",
      .help = "the mail domain to probe (on the command line: DOMAIN)", .json = "target.input",
      .flags = MXS_SETF_NOCLI | MXS_SETF_MXHOST, .set = set_target, .get = get_target },
    { .name = "host", .arg = "HOST[:PORT]", .range = "HOST[:PORT]",
      .help = "probe this MX host (skip the MX lookup)", .json = "target.kind",
      .flags = MXS_SETF_MXHOST, .set = set_host, .get = get_target },
    { .name = "connect", .arg = "ADDR[:PORT]", .range = "ADDR[:PORT] or none",
      .help = "connect to this address (keep HOST for SNI and names)", .json = "target.connect",
      .set = set_connect, .get = get_text, AT(connect_addr), .empty = "none" },
    { .name = "port", .arg = "N", .range = "1-65535", .json = "target.port",
      .help = "port (25; 465 with --tls-on-connect)", .set = set_port, .get = get_port, AT(port),
      .lo = 1 },
    { .name = "tlsa-port", .arg = "N", .range = "1-65535 or auto",
      .help = "TLSA at _N._tcp.HOST (default: the port probed)", .words = "auto",
      .set = set_port, .get = get_port, AT(tlsa_port) },
    { .name = "family", .arg = "4|6|any", .range = "any, 4 or 6", .words = "any 4 6",
      .help = "IPv4 or IPv6 only (on the command line: -4, -6)", .flags = MXS_SETF_NOCLI,
      .set = set_choice, .get = get_choice, AT(family), .choices = family_words },
    { .name = "mx", .arg = "N", .range = "an index 0-15 or any", .words = "any",
      .help = "which MX to probe, by order (default: the first that answers)",
      .flags = MXS_SETF_MXINDEX, .set = set_int, .get = get_int, AT(mx_index), .lo = 0, .hi = 15,
      .choices = anyindex_words },
    { .name = "addr", .arg = "N", .range = "an index 0-15 or any", .words = "any",
      .help = "which address of that MX (default: each in order)",
      .set = set_int, .get = get_int, AT(addr_index), .lo = 0, .hi = 15, .choices = anyindex_words },
    { .name = "tls-on-connect", .arg = "on|off", .range = "on or off", .words = "on off",
      .help = "implicit TLS (port 465): no STARTTLS", .json = "target.tls_on_connect",
      .flags = MXS_SETF_SWITCH, .cli_value = "on",
      .set = set_choice, .get = get_choice, AT(tls_on_connect), .choices = onoff_words },

    { .name = "stop-after", .arg = "STEP", .range = "a step name or none",
      .group = "steps and deadlines (seconds, per whole stage)",
      .words = "none RESOLVE POLICY CONNECT BANNER EHLO STARTTLS HANDSHAKE CHAIN EHLO2 QUIT",
      .help = "run no step after STEP", .set = set_step, .get = get_step, AT(stop_after) },
    { .name = "timeout", .arg = "S", .range = "seconds > 0", .help = "every stage",
      .set = set_seconds, .get = get_seconds, .lo = -1 },
    { .name = "timeout-resolve", .arg = "S", .range = "seconds > 0", .synopsis = "--timeout-STAGE S",
      .help = "one stage: resolve policy connect banner ehlo starttls handshake chain ehlo2 quit",
      .set = set_seconds, .get = get_seconds, .lo = MXS_STEP_RESOLVE },
    TIMEOUT(CONNECT, "connect"), TIMEOUT(BANNER, "banner"), TIMEOUT(EHLO, "ehlo"),
    TIMEOUT(STARTTLS, "starttls"), TIMEOUT(HANDSHAKE, "handshake"), TIMEOUT(CHAIN, "chain"),
    TIMEOUT(EHLO2, "ehlo2"), TIMEOUT(QUIT, "quit"), TIMEOUT(POLICY, "policy"),
    { .name = "policy-port", .arg = "N", .range = "1-65535",
      .help = "port the MTA-STS policy fetch connects to (443; for a staging policy host or the lab)",
      .set = set_port, .get = get_port, AT(policy_port), .lo = 1 },

    { .name = "ehlo", .arg = "NAME", .range = "a name without spaces", .group = "SMTP and TLS",
      .help = "EHLO name (default: this machine's FQDN)", .json = "target.ehlo_name",
      .set = set_word, .get = get_text, AT(ehlo_name) },
    { .name = "sni", .arg = "NAME", .range = "a name, mx or none", .words = "mx none",
      .help = "SNI to send (default, mx: the MX host name)", .json = "target.sni",
      .set = set_sni, .get = get_sni },
    { .name = "tls-min", .arg = "V", .range = "1.2, 1.3 or any", .words = "1.2 1.3 any",
      .help = "lowest TLS version offered", .set = set_choice, .get = get_choice, AT(tls_min),
      .choices = tls_words },
    { .name = "tls-max", .arg = "V", .range = "1.2, 1.3 or any", .words = "1.2 1.3 any",
      .help = "highest TLS version offered", .set = set_choice, .get = get_choice, AT(tls_max),
      .choices = tls_words },
    { .name = "cafile", .arg = "FILE", .range = "a file of PEM roots",
      .help = "trust these roots (default: the system bundle)", FILEPATH(cafile, "(system)") },
    { .name = "cert", .arg = "FILE", .range = "a PEM certificate file",
      .help = "client certificate (with --key)", FILEPATH(client_cert, "none") },
    { .name = "key", .arg = "FILE", .range = "a PEM key file",
      .help = "client certificate's key", FILEPATH(client_key, "none") },
    { .name = "expect-fingerprint", .arg = "HEX", .words = "none",
      .range = "40 (SHA-1) or 64 (SHA-256) hex digits, or none",
      .help = "the SHA-1 (thumbprint) or SHA-256 the server should show",
      .json = "verification.expected_fingerprint", .set = set_fingerprint, .get = get_text,
      AT(expect_fp), .empty = "none" },
    { .name = "expiry-warn", .arg = "DAYS", .range = "days 0-3650",
      .help = "warn when the leaf expires within DAYS (30)",
      .set = set_int, .get = get_int, AT(expiry_warn_days), .lo = 0, .hi = 3650 },
    { .name = "days", .arg = "N", .range = "days 0-3650",
      .help = "DANE: are the TLSA records still satisfied N days from now (0: not asked)",
      .set = set_int, .get = get_int, AT(dane_days), .lo = 0, .hi = 3650 },
    { .name = "dual-cert", .arg = "on|off", .range = "on or off", .words = "on off",
      .help = "also handshake offering RSA only: a second (RSA/ECDSA) certificate",
      .set = set_choice, .get = get_choice, AT(dual_cert), .choices = onoff_words },

    { .name = "warn-ok", .arg = "on|off", .range = "on or off", .words = "on off",
      .help = "warnings exit 0 (default: exit 4 when every step passed but with warnings)",
      .flags = MXS_SETF_SWITCH, .cli_value = "on",
      .set = set_choice, .get = get_choice, AT(warn_ok), .choices = onoff_words },

    { .name = "resolver", .arg = "ADDR[@PORT]", .range = "ADDR[@PORT]", .group = "DNS",
      .help = "ask this resolver (default: /etc/resolv.conf)", .json = "dns.resolver",
      TEXT(resolver, "(resolv.conf)") },
    { .name = "trust-anchor", .arg = "FILE", .range = "a DNSSEC trust anchor file",
      .help = "DNSSEC trust anchor (default: Debian's root key)", FILEPATH(trust_anchor, "(default)") },
    { .name = "unbound-conf", .arg = "FILE", .range = "a libunbound configuration file",
      .help = "extra libunbound configuration", FILEPATH(unbound_conf, "none") },
    { .name = NULL }
};

const struct mxs_setting_def *mxs_setting_find(const char *name)
{
    for (const struct mxs_setting_def *d = mxs_setting_table; d->name; d++)
        if (!strcasecmp(d->name, name)) /* "timeout-BANNER" as the step is shown */
            return d;
    return NULL;
}

int mxs_settings_set(struct mxs_settings *s, const char *key, const char *v,
                     char *err, size_t errlen)
{
    const struct mxs_setting_def *d = mxs_setting_find(key);
    if (!d)
        return seterr(err, errlen, "unknown setting '%.40s'", key);
    return d->set(s, d, v ? v : "", err, errlen);
}

const char *mxs_setting_value_words(const char *key, const char *value)
{
    static const struct { const char *key, *value, *words; } w[] = {
        { "sni", "mx", "SNI: the MX host name" },
        { "sni", "none", "no SNI sent" },
        { "mx", "any", "the first MX that answers" },
        { "addr", "any", "each address in order" },
        { "connect", "none", "the addresses DNS gives" },
    };
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
        if (!strcasecmp(w[i].key, key) && !strcmp(w[i].value, value))
            return w[i].words;
    return NULL;
}

int mxs_settings_get(const struct mxs_settings *s, const char *key, char *out, size_t len)
{
    const struct mxs_setting_def *d = mxs_setting_find(key);
    if (!d)
        return -1;
    d->get(s, d, out, len);
    return 0;
}
