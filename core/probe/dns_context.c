/*
 * dns_context.c - the libunbound context a lookup runs on (dns.h): made as
 * the settings ask (resolver, config file, trust anchor, a stub's patience,
 * its worker thread), for one lookup alone (dns_new) or shared by every
 * lookup of a partner list (struct dns_shared, dns_new_for).  Apart from
 * dns.c, which asks the queries and reads the answers, because making a
 * context is configuration, not DNS.  Owner: DNS module.
 */
#include "probe/dns.h"
#include "probe/dns_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unbound.h>
#include <unistd.h>

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

/* One libunbound context as the settings ask (resolver, config file, trust
 * anchor), its worker thread started; the anchor's zone and the EDNS buffer
 * size come back for the answers' notes.  NULL with err. */
static struct ub_ctx *dns_ub_new(const struct mxs_settings *s, int list, char *anchor_zone,
                                 size_t azlen, int *udp_limit, char *err, size_t errlen)
{
    struct ub_ctx *ub = ub_ctx_create();
    int r;

    anchor_zone[0] = '\0';
    if (!ub) {
        snprintf(err, errlen, "libunbound: cannot create a context");
        return NULL;
    }
    /* libunbound 1.17 rotates RRsets by default (rrset-roundrobin: yes):
     * MX ties would then come out in a random order.  We report ties in the
     * order the server sent them; a config file may still turn it back on. */
    if ((r = ub_ctx_set_option(ub, "rrset-roundrobin:", "no")) != 0) {
        snprintf(err, errlen, "rrset-roundrobin: %s", ub_strerror(r));
        goto fail;
    }
    /* A list's one context lives for the whole list, every domain's
     * answers passing through it: its caches are kept small (4 MB each by
     * default), so 10,000 probes run in the memory of the first thousand.
     * What a list shares (the parent zones' keys, MX hosts many partners
     * use) fits many times over.  Set before the config file: an
     * operator's own sizes win. */
    static const char *const list_caches[][2] = {
        { "msg-cache-size:", "1m" }, { "rrset-cache-size:", "1m" },
        { "key-cache-size:", "1m" }, { "neg-cache-size:", "256k" },
    };
    for (size_t i = 0; list && i < sizeof list_caches / sizeof list_caches[0]; i++)
        if ((r = ub_ctx_set_option(ub, list_caches[i][0], list_caches[i][1])) != 0) {
            snprintf(err, errlen, "%s %s", list_caches[i][0], ub_strerror(r));
            goto fail;
        }
    /* The config file next: the settings below then override it. */
    if (s->unbound_conf[0] && (r = ub_ctx_config(ub, s->unbound_conf)) != 0) {
        snprintf(err, errlen, "unbound config %s: %s", s->unbound_conf, ub_strerror(r));
        goto fail;
    }
    if (s->resolver[0]) {
        if (dns_lift_special_zones(ub, err, errlen) != 0)
            goto fail;
        if ((r = ub_ctx_set_fwd(ub, s->resolver)) != 0) {
            snprintf(err, errlen, "resolver %s: %s", s->resolver, ub_strerror(r));
            goto fail;
        }
        /* libunbound refuses to send queries to loopback by default. */
        if (dns_is_loopback(s->resolver) &&
            (r = ub_ctx_set_option(ub, "do-not-query-localhost:", "no")) != 0) {
            snprintf(err, errlen, "do-not-query-localhost: %s", ub_strerror(r));
            goto fail;
        }
    } else if ((r = ub_ctx_resolvconf(ub, NULL)) != 0) {
        snprintf(err, errlen, "/etc/resolv.conf: %s", ub_strerror(r));
        goto fail;
    }
    if (s->trust_anchor[0]) {
        dns_anchor_zone(s->trust_anchor, anchor_zone, azlen);
        if ((r = ub_ctx_add_ta_file(ub, s->trust_anchor)) != 0) {
            snprintf(err, errlen, "trust anchor %s: %s", s->trust_anchor, ub_strerror(r));
            goto fail;
        }
    } else if (dns_access("/usr/share/dns/root.key")) {
        /* Debian's dns-root-data.  Without any anchor every answer is
         * merely "insecure", which is still a truthful report. */
        dns_anchor_zone("/usr/share/dns/root.key", anchor_zone, azlen);
        if ((r = ub_ctx_add_ta_file(ub, "/usr/share/dns/root.key")) != 0) {
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
    if ((r = ub_ctx_set_option(ub, "infra-cache-min-rtt:", "3000")) != 0) {
        snprintf(err, errlen, "infra-cache-min-rtt: %s", ub_strerror(r));
        goto fail;
    }
    {
        char *v = NULL;
        *udp_limit = 1232;                 /* libunbound's default since 1.16 */
        if (ub_ctx_get_option(ub, "edns-buffer-size", &v) == 0 && v) {
            int n = atoi(v);
            if (n >= 512)
                *udp_limit = n;
        }
        free(v);
    }
    if ((r = ub_ctx_async(ub, 1)) != 0) {   /* a thread: see the top */
        snprintf(err, errlen, "libunbound async: %s", ub_strerror(r));
        goto fail;
    }
    return ub;
fail:
    ub_ctx_delete(ub);
    return NULL;
}

/* ---- one context for a whole list (dns.h: struct dns_shared) ------------- */

struct dns_shared {
    struct ub_ctx *ub;
    char anchor_zone[256];
    int udp_limit;
    /* what the context was made from: a line that asks otherwise gets its own */
    char resolver[sizeof ((struct mxs_settings *)0)->resolver];
    char unbound_conf[sizeof ((struct mxs_settings *)0)->unbound_conf];
    char trust_anchor[sizeof ((struct mxs_settings *)0)->trust_anchor];
};

/* list: made for a list (small caches: dns_ub_new); dns_new() makes one
 * for itself alone. */
static struct dns_shared *dns_shared_make(const struct mxs_settings *s, int list, char *err,
                                          size_t errlen)
{
    struct dns_shared *sh = calloc(1, sizeof *sh);
    if (!sh) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    sh->ub = dns_ub_new(s, list, sh->anchor_zone, sizeof sh->anchor_zone, &sh->udp_limit, err, errlen);
    if (!sh->ub) {
        free(sh);
        return NULL;
    }
    memcpy(sh->resolver, s->resolver, sizeof sh->resolver);
    memcpy(sh->unbound_conf, s->unbound_conf, sizeof sh->unbound_conf);
    memcpy(sh->trust_anchor, s->trust_anchor, sizeof sh->trust_anchor);
    return sh;
}

void dns_shared_free(struct dns_shared *sh)
{
    if (!sh)
        return;
    ub_ctx_delete(sh->ub);
    free(sh);
}

/* A lookup on sh; with owns, sh is its own and goes with it (dns_free). */
static struct dns_ctx *dns_on(struct dns_shared *sh, int owns, char *err, size_t errlen)
{
    struct dns_ctx *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        if (owns)
            dns_shared_free(sh);
        return NULL;
    }
    d->ub = sh->ub;
    d->own = owns ? sh : NULL;
    memcpy(d->anchor_zone, sh->anchor_zone, sizeof d->anchor_zone);
    d->udp_limit = sh->udp_limit;
    return d;
}

struct dns_shared *dns_shared_new(const struct mxs_settings *s, char *err, size_t errlen)
{
    return dns_shared_make(s, 1, err, errlen);
}

struct dns_ctx *dns_new(const struct mxs_settings *s, char *err, size_t errlen)
{
    struct dns_shared *sh = dns_shared_make(s, 0, err, errlen);
    return sh ? dns_on(sh, 1, err, errlen) : NULL;
}

struct dns_ctx *dns_new_for(struct dns_shared *sh, const struct mxs_settings *s, char *err,
                            size_t errlen)
{
    if (!sh || strcmp(sh->resolver, s->resolver) || strcmp(sh->unbound_conf, s->unbound_conf) ||
        strcmp(sh->trust_anchor, s->trust_anchor))
        return dns_new(s, err, errlen);
    return dns_on(sh, 0, err, errlen);
}

int dns_shared_fd(const struct dns_shared *sh)
{
    return sh ? ub_fd(sh->ub) : -1;
}

int dns_shared_process(struct dns_shared *sh, char *err, size_t errlen)
{
    int r = sh ? ub_process(sh->ub) : 0;
    if (r != 0) {
        snprintf(err, errlen, "libunbound: %s", ub_strerror(r));
        return -1;
    }
    return 0;
}
