/*
 * domains.c - a list of partner domains, every MX of each, from one poll
 * loop (core.h, group "Domain lists").  Owner: this file.
 *
 * Shape: a reader that hands out one line at a time (never the whole list),
 * a hash set of the names seen (duplicates are probed once), a bounded set
 * of domains in flight, each a survey (cmd/survey.h) whose RESOLVE engine
 * and probes are stepped here without blocking, a table of destinations
 * (MX host names and address:port) counting the probes at each, and a queue
 * of finished results for the front end.
 *
 * Why not survey_new()/survey_run(): both block (one domain at a time);
 * here one poll() waits on every engine of every domain in flight.
 */
#include <errno.h>
#include <idn2.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/esc.h"
#include "cmd/cmd.h"
#include "cmd/survey.h"
#include "probe/dns.h"

#define LINE_MAX_BYTES 4096     /* a longer line is rejected whole          */
#define QUEUE_MAX 16            /* results waiting: stop reading beyond     */
#define INFLIGHT_FACTOR 4       /* domains in flight, and probes made but
                                   waiting for a busy MX host: parallel x
                                   this each, so a run of domains on one
                                   host does not keep the engines of others
                                   idle (a waiting probe is a mapped engine,
                                   mostly untouched: cheap)                 */
/* RESOLVE engines at once: a quarter of parallel, from 1 to 4.  Lookups
 * share one libunbound context (dns_shared_new: one thread, one cache), so
 * a lookup is cheap, and 4 at a time outrun what 64 probes finish: the
 * probes are what needs the slots.  (Measured with tests/bench/domains.sh:
 * 16 or 32 at once made the run no faster and larger.) */
#define MAX_RESOLVING(par) ((par) < 4 ? 1 : (par) / 4 < 4 ? (par) / 4 : 4)

enum { P_WAITING = 0, P_RUNNING, P_DONE };

struct dom {
    struct mxs_domain *r;       /* r->survey is the survey                  */
    int expanded;               /* RESOLVE finished, probes made            */
    int64_t start_ms, deadline_ms;
    int cancelled;              /* the deadline note was written            */
    int n;
    unsigned char st[SURVEY_MAX_PROBES];
};

struct dest {
    char *key;
    int count;
};

struct reader {
    int fd;
    int regular;                /* a regular file: read() never waits       */
    char buf[65536];
    size_t off, len;
    int eof, err;
    char line[LINE_MAX_BYTES + 1];
    size_t n;
    int too_long;
    unsigned long lineno;
};

struct seen {
    char **key;
    unsigned long *line;
    size_t cap, n;
};

struct mxs_domains {
    struct mxs_settings base;
    struct mxs_settings line_set; /* the line being parsed (large: not on the stack) */
    struct mxs_domains_opts o;
    struct reader rd;
    struct seen seen;
    struct dom **act;           /* in flight, in the order started          */
    int n_act, cap_act;
    int working;                /* engines working: resolvers and probes    */
    int resolving;              /* of them, RESOLVE engines                 */
    int waiting;                /* probes made, not started (a busy host)   */
    struct dest *dest;
    int n_dest, cap_dest;
    struct mxs_domain **q;      /* finished, a ring                         */
    size_t q_head, q_n, q_cap;
    struct pollfd *fds;
    int cap_fds;
    int input_done, cancelled;
    struct mxs_domains_stats st;
    /* One libunbound context for every domain (dns.h, struct dns_shared):
     * read once per pass in advance_all(), before the engines.  NULL when it
     * could not be made: each domain then makes its own and says why not. */
    struct dns_shared *dns;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void mxs_domains_opts_init(struct mxs_domains_opts *o)
{
    o->parallel = 16;
    o->per_host = 2;
    o->domain_timeout_s = 180;
    o->line_hook = NULL;
    o->line_arg = NULL;
}

/* ---- the list, one line at a time ---------------------------------------- */

/* A regular file is counted once first (names, not blank lines or comments:
 * the progress line's total), then read again from the start.  A pipe is
 * not: its total is known only at its end. */
static unsigned long count_names(int fd)
{
    char b[65536];
    unsigned long names = 0;
    int at_start = 1, counted = 0;
    ssize_t k;
    for (int first = 1; (k = read(fd, b, sizeof b)) > 0 || (k < 0 && errno == EINTR); first = 0) {
        ssize_t i = first && k >= 3 && !memcmp(b, "\xEF\xBB\xBF", 3) ? 3 : 0; /* as parse_line */
        for (; i < k; i++) {
            unsigned char c = (unsigned char)b[i];
            if (c == '\n') {
                at_start = 1;
                counted = 0;
            } else if (at_start && (c == ' ' || c == '\t' || c == '\r')) {
                continue;
            } else if (at_start) {
                at_start = 0;
                if (c != '#' && !counted) {
                    names++;
                    counted = 1;
                }
            }
        }
    }
    return names;
}

/* 1: a line is in rd->line (rd->n bytes, too_long when cut), 0: the end,
 * -1: nothing to read now (a pipe; poll its fd). */
static int reader_next(struct reader *rd)
{
    for (;;) {
        if (rd->off == rd->len) {
            if (rd->eof) {
                if (rd->n || rd->too_long)
                    break; /* the last line had no newline */
                return 0;
            }
            if (!rd->regular) {
                struct pollfd p = { .fd = rd->fd, .events = POLLIN };
                if (poll(&p, 1, 0) == 0)
                    return -1;
            }
            ssize_t k = read(rd->fd, rd->buf, sizeof rd->buf);
            if (k < 0 && (errno == EINTR || errno == EAGAIN))
                return -1;
            if (k <= 0) {
                if (k < 0)
                    rd->err = errno;
                rd->eof = 1;
                continue;
            }
            rd->off = 0;
            rd->len = (size_t)k;
        }
        const char *p = rd->buf + rd->off;
        const char *nl = memchr(p, '\n', rd->len - rd->off);
        size_t take = nl ? (size_t)(nl - p) : rd->len - rd->off;
        size_t room = LINE_MAX_BYTES - rd->n, keep = take < room ? take : room;
        memcpy(rd->line + rd->n, p, keep);
        rd->n += keep;
        if (take > room)
            rd->too_long = 1;
        rd->off += take;
        if (nl) {
            rd->off++;
            break;
        }
    }
    rd->line[rd->n] = 0;
    rd->lineno++;
    return 1;
}

/* ---- names seen ----------------------------------------------------------- */

static size_t seen_hash(const char *s)
{
    size_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* 0 when key is new (added, line kept), else the line it was first seen
 * on; -1 UL out of memory. */
static unsigned long seen_add(struct seen *t, const char *key, unsigned long line)
{
    if ((t->n + 1) * 2 > t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 1024;
        char **nk = calloc(nc, sizeof *nk);
        unsigned long *nl = calloc(nc, sizeof *nl);
        if (!nk || !nl) {
            free(nk);
            free(nl);
            return (unsigned long)-1;
        }
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->key[i])
                continue;
            size_t j = seen_hash(t->key[i]) & (nc - 1);
            while (nk[j])
                j = (j + 1) & (nc - 1);
            nk[j] = t->key[i];
            nl[j] = t->line[i];
        }
        free(t->key);
        free(t->line);
        t->key = nk;
        t->line = nl;
        t->cap = nc;
    }
    size_t j = seen_hash(key) & (t->cap - 1);
    for (; t->key[j]; j = (j + 1) & (t->cap - 1))
        if (!strcmp(t->key[j], key))
            return t->line[j];
    if (!(t->key[j] = strdup(key)))
        return (unsigned long)-1;
    t->line[j] = line;
    t->n++;
    return 0;
}

/* ---- one line: the name and its options ---------------------------------- */

__attribute__((format(printf, 2, 3)))
static int reject(struct mxs_domain *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
    r->kind = MXS_DOMAIN_REJECTED;
    return 1;
}

static void keep_input(struct mxs_domain *r, const char *p, size_t n)
{
    r->input_len = n;
    n = n < sizeof r->input - 1 ? n : sizeof r->input - 1;
    memcpy(r->input, p, n);
    r->input[n] = 0;
}

/* The name: lower case, A-labels, no trailing dot; 0 or reject(). */
static int parse_name(struct mxs_domain *r, const char *w)
{
    size_t len = strlen(w);
    int ascii = 1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)w[i];
        if (c < 0x20 || c == 0x7f)
            return reject(r, "the name has a control byte (0x%02X) at byte %zu", c, i + 1);
        if (c >= 0x80)
            ascii = 0;
    }
    if (len && w[len - 1] == '.')
        len--;
    if (len > 253)
        return reject(r, "the name is %zu octets long: a domain name has at most 253", len);
    char plain[256];
    memcpy(plain, w, len);
    plain[len] = 0;
    if (ascii) {
        for (char *p = plain; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        snprintf(r->name, sizeof r->name, "%s", plain);
    } else {
        char *a = NULL;
        int rc = idn2_to_ascii_8z(plain, &a, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
        if (rc != IDN2_OK || !a) {
            idn2_free(a);
            return reject(r, "not a valid internationalised name: %s", idn2_strerror(rc));
        }
        size_t al = strlen(a);
        if (al > 253) {
            idn2_free(a);
            return reject(r, "its A-label form is %zu octets long: a domain name has at most 253", al);
        }
        snprintf(r->name, sizeof r->name, "%s", a);
        idn2_free(a);
    }
    char why[128];
    int hc = dns_host_check(r->name, why, sizeof why);
    if (hc == DNS_HOST_LITERAL)
        return reject(r, "an IP address, not a mail domain");
    if (hc != DNS_HOST_OK)
        return reject(r, "not a host name: %s", why);
    if (strstr(r->name, "xn--")) {
        char *u = NULL;
        if (idn2_to_unicode_8z8z(r->name, &u, 0) == IDN2_OK && u)
            snprintf(r->uname, sizeof r->uname, "%s", u);
        idn2_free(u);
    }
    return 0;
}

/* The words after the name: settings of the table for this line only. */
static int parse_options(struct mxs_domain *r, struct mxs_settings *s, int argc, char **argv)
{
    char err[512];
    for (int i = 1; i < argc; i++) {
        const char *w = argv[i], *key, *val = NULL;
        char name[64];
        if (!strcmp(w, "-4") || !strcmp(w, "-6")) {
            s->family = w[1] - '0';
            continue;
        }
        if (strncmp(w, "--", 2) != 0)
            return reject(r, "'%.60s' is not an option (--NAME VALUE after the name)", w);
        const char *eq = strchr(w + 2, '=');
        size_t nl = eq ? (size_t)(eq - (w + 2)) : strlen(w + 2);
        if (nl >= sizeof name)
            return reject(r, "unknown option --%.40s", w + 2);
        memcpy(name, w + 2, nl);
        name[nl] = 0;
        key = name;
        const struct mxs_setting_def *d = mxs_setting_find(key);
        if (!d || (d->flags & MXS_SETF_NOCLI) || !strcmp(d->name, "host"))
            return reject(r, "--%s is not an option a list line takes", name);
        if (eq)
            val = eq + 1;
        else if (d->flags & MXS_SETF_SWITCH)
            val = d->cli_value;
        else if (i + 1 < argc)
            val = argv[++i];
        else
            return reject(r, "--%s needs a value", name);
        if (mxs_settings_set(s, d->name, val, err, sizeof err) != 0)
            return reject(r, "--%s: %.120s", name, err);
    }
    /* as on the command line: SMTPS listens on 465 unless a port was given */
    if (s->tls_on_connect && !s->port_given && s->port == 25)
        s->port = 465;
    if (argc > 1 && mxs_check_local_files(s, err, sizeof err) != 0)
        return reject(r, "%.150s", err);
    return 0;
}

/* 0: nothing on the line; 1: r is a finished result (rejected or
 * duplicate); 2: r and s are ready to probe. */
static int parse_line(struct mxs_domains *d, struct mxs_domain *r, struct mxs_settings *s)
{
    struct reader *rd = &d->rd;
    char *line = rd->line;
    size_t n = rd->n;
    r->line = rd->lineno;
    /* a list saved by a Windows tool starts with a UTF-8 byte order mark */
    if (rd->lineno == 1 && n >= 3 && !memcmp(line, "\xEF\xBB\xBF", 3)) {
        line += 3;
        n -= 3;
    }
    if (rd->too_long) {
        keep_input(r, line, n);
        return reject(r, "the line is longer than %d bytes", LINE_MAX_BYTES);
    }
    if (memchr(line, 0, n)) {
        keep_input(r, line, n);
        return reject(r, "the line has a NUL byte");
    }
    char store[LINE_MAX_BYTES + 64], err[128];
    char *argv[CMD_MAX_ARGS];
    int argc = cmd_tokenize(line, store, sizeof store, argv, CMD_MAX_ARGS, err, sizeof err);
    if (argc < 0) {
        keep_input(r, line, strcspn(line, " \t"));
        return reject(r, "%s", err);
    }
    if (argc == 0)
        return 0;
    keep_input(r, argv[0], strlen(argv[0]));
    *s = d->base;
    if (parse_name(r, argv[0]) || parse_options(r, s, argc, argv))
        return 1;
    if (mxs_settings_set(s, "target", r->name, err, sizeof err) != 0)
        return reject(r, "%s", err);
    if (d->o.line_hook && d->o.line_hook(d->o.line_arg, r->name, s, err, sizeof err) != 0)
        return reject(r, "%s", err);
    /* the same name with the same options is one probe */
    struct buf key;
    buf_init(&key, 0);
    buf_puts(&key, r->name);
    for (int i = 1; i < argc; i++) {
        buf_printf(&key, " %s", argv[i]);
        size_t ol = strlen(r->options);
        snprintf(r->options + ol, sizeof r->options - ol, "%s%s", i > 1 ? " " : "", argv[i]);
    }
    unsigned long first = key.failed ? (unsigned long)-1 : seen_add(&d->seen, buf_str(&key), r->line);
    buf_free(&key);
    if (first == (unsigned long)-1)
        return reject(r, "out of memory");
    if (first) {
        r->kind = MXS_DOMAIN_DUPLICATE;
        r->first_line = first;
        return 1;
    }
    return 2;
}

/* ---- destinations --------------------------------------------------------- */

static struct dest *dest_find(struct mxs_domains *d, const char *key)
{
    for (int i = 0; i < d->n_dest; i++)
        if (!strcmp(d->dest[i].key, key))
            return &d->dest[i];
    return NULL;
}

/* The two keys of probe e: "h HOST" and "a ADDR port". */
static void probe_keys(const struct engine *e, char *h, size_t hl, char *a, size_t al)
{
    const struct mxs_settings *s = engine_settings(e);
    const struct mxs_mx *m = &engine_dns(e)->mx[s->mx_index];
    snprintf(h, hl, "h %s", m->host);
    snprintf(a, al, "a %s %u", s->connect_addr[0] ? s->connect_addr : m->addr[s->addr_index].text,
             (unsigned)s->port);
}

static int dest_free_for(struct mxs_domains *d, const struct engine *e)
{
    char h[300], a[120];
    probe_keys(e, h, sizeof h, a, sizeof a);
    const struct dest *x = dest_find(d, h), *y = dest_find(d, a);
    return (!x || x->count < d->o.per_host) && (!y || y->count < d->o.per_host);
}

static int dest_add(struct mxs_domains *d, const char *key, int delta)
{
    struct dest *x = dest_find(d, key);
    if (!x) {
        if (delta < 0)
            return 0;
        if (d->n_dest == d->cap_dest) {
            int nc = d->cap_dest ? d->cap_dest * 2 : 32;
            struct dest *nd = realloc(d->dest, (size_t)nc * sizeof *nd);
            if (!nd)
                return -1;
            d->dest = nd;
            d->cap_dest = nc;
        }
        x = &d->dest[d->n_dest];
        if (!(x->key = strdup(key)))
            return -1;
        x->count = 0;
        d->n_dest++;
    }
    x->count += delta;
    if (x->count <= 0) {
        free(x->key);
        *x = d->dest[--d->n_dest];
    }
    return 0;
}

static void dest_take(struct mxs_domains *d, const struct engine *e, int delta)
{
    char h[300], a[120];
    probe_keys(e, h, sizeof h, a, sizeof a);
    /* out of memory: the probe runs uncounted (a limit, never a hang) */
    dest_add(d, h, delta);
    dest_add(d, a, delta);
}

/* ---- results -------------------------------------------------------------- */

static int queue_push(struct mxs_domains *d, struct mxs_domain *r)
{
    if (d->q_n == d->q_cap) {
        size_t nc = d->q_cap ? d->q_cap * 2 : 64;
        struct mxs_domain **nq = malloc(nc * sizeof *nq);
        if (!nq)
            return -1;
        for (size_t i = 0; i < d->q_n; i++)
            nq[i] = d->q[(d->q_head + i) % d->q_cap];
        free(d->q);
        d->q = nq;
        d->q_head = 0;
        d->q_cap = nc;
    }
    d->q[(d->q_head + d->q_n) % d->q_cap] = r;
    d->q_n++;
    d->st.done++;
    if (r->kind == MXS_DOMAIN_REJECTED)
        d->st.rejected++;
    else if (r->kind == MXS_DOMAIN_DUPLICATE)
        d->st.duplicates++;
    else if (r->cls == MXS_DCLASS_FAIL)
        d->st.failing++;
    else if (r->cls == MXS_DCLASS_WARN)
        d->st.warning++;
    return 0;
}

struct mxs_domain *mxs_domains_next(struct mxs_domains *d)
{
    if (!d->q_n)
        return NULL;
    struct mxs_domain *r = d->q[d->q_head];
    d->q_head = (d->q_head + 1) % d->q_cap;
    d->q_n--;
    return r;
}

void mxs_domain_free(struct mxs_domain *r)
{
    if (!r)
        return;
    survey_free(r->survey);
    free(r);
}

/* The summary of a finished domain: class, the probe shown, the leaf that
 * expires first. */
static void summarise(struct dom *m)
{
    struct mxs_domain *r = m->r;
    struct survey *v = r->survey;
    r->exit_code = survey_exit_code(v);
    r->cls = m->cancelled || (r->exit_code && r->exit_code != 4) ? MXS_DCLASS_FAIL
             : r->exit_code == 4 ? MXS_DCLASS_WARN : MXS_DCLASS_OK;
    r->deadline_passed = m->cancelled;
    r->shown = m->n ? 0 : -1;
    for (int want = 0; want < 2 && m->n; want++) {
        int hit = -1;
        for (int i = 0; i < m->n && hit < 0; i++) {
            int rc = render_exit_code(survey_engine(v, i));
            if (want == 0 ? rc && rc != 4 : rc == 4)
                hit = i;
        }
        if (hit >= 0) {
            r->shown = hit;
            break;
        }
    }
    const struct engine *e = survey_engine(v, r->shown);
    r->failed_step = engine_failed_step(e);
    /* Every step passed but MTA-STS enforce does not cover the MX: where
     * delivery breaks for MTA-STS senders (render_exit_code's 19). */
    if (r->failed_step == MXS_STEP_NONE && render_exit_code(e) == 10 + (int)MXS_STEP_POLICY)
        r->failed_step = MXS_STEP_POLICY;
    for (int p = 0; p < MXS_POL_COUNT; p++)
        r->outcome[p] = engine_verdicts(e)[p].outcome;
    for (int i = 0; i < m->n; i++) {
        const struct engine *pe = survey_engine(v, i);
        const struct mxs_chain_facts *c = engine_chain(pe);
        if (!c->n || (r->has_leaf && c->cert[0].days_left >= r->days_left))
            continue;
        r->has_leaf = 1;
        r->days_left = c->cert[0].days_left;
        snprintf(r->sha1, sizeof r->sha1, "%s", c->cert[0].sha1);
        snprintf(r->leaf_host, sizeof r->leaf_host, "%s",
                 engine_dns(pe)->mx[engine_settings(pe)->mx_index].host);
    }
}

/* ---- the runner ----------------------------------------------------------- */

struct mxs_domains *mxs_domains_new(int fd, const struct mxs_settings *base,
                                    const struct mxs_domains_opts *o, char *err, size_t errlen)
{
    if (o->parallel < 1 || o->per_host < 1 || o->domain_timeout_s < 1) {
        snprintf(err, errlen, "parallel, per-host and the domain deadline must be at least 1");
        return NULL;
    }
    struct mxs_domains *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    d->base = *base;
    d->o = *o;
    d->rd.fd = fd;
    d->st.total = (unsigned long)-1;
    struct stat sb;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
        d->rd.regular = 1;
        off_t at = lseek(fd, 0, SEEK_CUR);
        if (at >= 0) {
            d->st.total = count_names(fd);
            if (lseek(fd, at, SEEK_SET) < 0)
                d->st.total = (unsigned long)-1;
        }
    }
    char derr[256];
    d->dns = dns_shared_new(base, derr, sizeof derr);
    d->cap_act = o->parallel * INFLIGHT_FACTOR;
    d->cap_fds = o->parallel * 4 + 8; /* a probe: main + up to 3 side handshakes */
    d->act = calloc((size_t)d->cap_act, sizeof *d->act);
    d->fds = calloc((size_t)d->cap_fds, sizeof *d->fds);
    if (!d->act || !d->fds) {
        mxs_domains_free(d);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    return d;
}

static void dom_drop(struct mxs_domains *d, struct dom *m)
{
    struct survey *v = m->r->survey;
    if (!m->expanded) {
        d->working--;
        d->resolving--;
    } else {
        for (int i = 0; i < m->n; i++)
            if (m->st[i] == P_RUNNING) {
                dest_take(d, survey_engine(v, i), -1);
                d->working--;
            } else if (m->st[i] == P_WAITING) {
                d->waiting--;
            }
    }
    mxs_domain_free(m->r);
    free(m);
}

void mxs_domains_free(struct mxs_domains *d)
{
    if (!d)
        return;
    for (int i = 0; i < d->n_act; i++)
        dom_drop(d, d->act[i]);
    struct mxs_domain *r;
    while ((r = mxs_domains_next(d)))
        mxs_domain_free(r);
    for (size_t i = 0; i < d->seen.cap; i++)
        free(d->seen.key[i]);
    free(d->seen.key);
    free(d->seen.line);
    for (int i = 0; i < d->n_dest; i++)
        free(d->dest[i].key);
    free(d->dest);
    free(d->q);
    free(d->act);
    free(d->fds);
    dns_shared_free(d->dns); /* last: every lookup made on it is gone */
    free(d);
}

void mxs_domains_cancel(struct mxs_domains *d)
{
    d->cancelled = 1;
    d->st.dropped += (unsigned long)d->n_act;
    for (int i = 0; i < d->n_act; i++)
        dom_drop(d, d->act[i]);
    d->n_act = 0;
}

void mxs_domains_stats(const struct mxs_domains *d, struct mxs_domains_stats *st)
{
    *st = d->st;
    st->lines = d->rd.lineno;
    st->running = (unsigned long)d->n_act;
    st->read_error = d->rd.err;
    /* a pipe's total is known at its end; a file changed since the count
     * is told by what was read */
    if (d->input_done && (st->total == (unsigned long)-1 || st->total < st->done + st->running))
        st->total = st->done + st->running + st->dropped;
}

/* Read lines while there is room; start the domains they name. */
static void fill(struct mxs_domains *d)
{
    while (!d->input_done && !d->cancelled && d->n_act < d->cap_act && d->working < d->o.parallel &&
           d->resolving < MAX_RESOLVING(d->o.parallel) && d->waiting < d->cap_act && d->q_n < QUEUE_MAX) {
        int k = reader_next(&d->rd);
        if (k < 0)
            return;
        if (k == 0) {
            d->input_done = 1;
            return;
        }
        struct mxs_domain *r = calloc(1, sizeof *r);
        if (!r) {
            d->input_done = 1;
            d->rd.err = ENOMEM;
            return;
        }
        struct mxs_settings *s = &d->line_set;
        int pk = parse_line(d, r, s);
        d->rd.n = 0;
        d->rd.too_long = 0;
        if (pk == 0) {
            free(r);
            continue;
        }
        if (pk == 2) {
            char err[256];
            struct dom *m = calloc(1, sizeof *m);
            if (m && (r->survey = survey_start(s, err, sizeof err))) {
                survey_list_mode(r->survey, d->dns);
                m->r = r;
                m->start_ms = now_ms();
                m->deadline_ms = m->start_ms + (int64_t)d->o.domain_timeout_s * 1000;
                d->act[d->n_act++] = m;
                d->working++;
                d->resolving++;
                continue;
            }
            free(m);
            reject(r, "%s", r->survey ? "out of memory" : err);
        }
        if (queue_push(d, r) != 0) {
            mxs_domain_free(r);
            d->input_done = 1;
            d->rd.err = ENOMEM;
            return;
        }
    }
}

/* Step an engine as far as it goes; 1 when it has finished. */
static int drive(struct engine *e)
{
    enum mxs_progress p;
    while ((p = engine_step(e)) == MXS_PROG_STEP_DONE)
        ;
    return p == MXS_PROG_FINISHED;
}

/* The deadline cancels what e runs (or was to run): said in its transcript. */
static void deadline_cancel(const struct mxs_domains *d, struct dom *m, struct engine *e)
{
    char note[160];
    m->cancelled = 1;
    snprintf(note, sizeof note, "the whole-domain deadline (%d s, --domain-timeout) passed: cancelled",
             d->o.domain_timeout_s);
    engine_note(e, MXS_REC_NOTE, note);
    engine_cancel(e);
}

/* Advance one domain; 1 when it has finished. */
static int advance(struct mxs_domains *d, struct dom *m, int64_t now)
{
    struct survey *v = m->r->survey;
    int late = now >= m->deadline_ms;
    if (!m->expanded) {
        struct engine *e = survey_engine(v, -1);
        if (late && engine_current_step(e) == MXS_STEP_RESOLVE &&
            engine_step_state(e, MXS_STEP_RESOLVE) == MXS_ST_RUNNING) {
            deadline_cancel(d, m, e);
        }
        if (!drive(e))
            return 0;
        d->working--;
        d->resolving--;
        survey_expand(v);
        m->expanded = 1;
        m->n = survey_count(v);
        d->waiting += m->n;
    }
    int left = 0;
    for (int i = 0; i < m->n; i++) {
        struct engine *e = survey_engine(v, i);
        if (m->st[i] == P_WAITING) {
            if (late) {
                /* never started: started and cancelled at once, so its
                 * CONNECT says "cancelled" (with the note) */
                engine_step(e);
                deadline_cancel(d, m, e);
                drive(e);
                m->st[i] = P_DONE;
                d->waiting--;
                continue;
            }
            if (d->working >= d->o.parallel || !dest_free_for(d, e)) {
                left++;
                continue;
            }
            dest_take(d, e, 1);
            d->working++;
            d->waiting--;
            m->st[i] = P_RUNNING;
        }
        if (m->st[i] == P_RUNNING) {
            if (late && engine_step_state(e, engine_current_step(e)) == MXS_ST_RUNNING)
                deadline_cancel(d, m, e);
            if (drive(e)) {
                dest_take(d, e, -1);
                d->working--;
                m->st[i] = P_DONE;
            } else {
                left++;
            }
        }
    }
    if (left)
        return 0;
    survey_compare(v);
    m->r->elapsed_ms = now_ms() - m->start_ms;
    summarise(m);
    return 1;
}

static void advance_all(struct mxs_domains *d)
{
    char err[256];
    /* The answers in first, then every engine goes on from them.  A
     * library error reaches no one here: each lookup still ends at its
     * RESOLVE deadline, which names what was not answered. */
    (void)dns_shared_process(d->dns, err, sizeof err);
    fill(d);
    int64_t now = now_ms();
    for (int i = 0; i < d->n_act;) {
        struct dom *m = d->act[i];
        if (!advance(d, m, now)) {
            i++;
            continue;
        }
        memmove(&d->act[i], &d->act[i + 1], (size_t)(d->n_act - i - 1) * sizeof *d->act);
        d->n_act--;
        if (queue_push(d, m->r) != 0)
            mxs_domain_free(m->r);
        free(m);
        fill(d); /* a slot freed: the next line can start now */
    }
}

int mxs_domains_run(struct mxs_domains *d, int max_wait_ms)
{
    advance_all(d);
    if (d->q_n)
        return 0; /* results first: the front end drains, then calls again */
    if ((d->input_done || d->cancelled) && !d->n_act)
        return 1;
    int nf = 0, timeout = max_wait_ms;
    int64_t now = now_ms();
    for (int i = 0; i < d->n_act; i++) {
        struct dom *m = d->act[i];
        int64_t left = m->deadline_ms - now;
        if (left < timeout)
            timeout = left < 0 ? 0 : (int)left;
        for (int k = m->expanded ? 0 : -1; k < (m->expanded ? m->n : 0); k++) {
            if (k >= 0 && m->st[k] != P_RUNNING)
                continue;
            struct engine *e = survey_engine(m->r->survey, k);
            if (nf + 4 <= d->cap_fds)
                nf += engine_pollfds(e, d->fds + nf, 4);
            int t = engine_timeout_ms(e);
            if (t >= 0 && t < timeout)
                timeout = t;
        }
    }
    if (!d->input_done && !d->cancelled && !d->rd.regular && d->n_act < d->cap_act &&
        d->working < d->o.parallel && d->resolving < MAX_RESOLVING(d->o.parallel) &&
        d->waiting < d->cap_act && nf < d->cap_fds) {
        d->fds[nf].fd = d->rd.fd;
        d->fds[nf].events = POLLIN;
        d->fds[nf].revents = 0;
        nf++;
    }
    if (timeout > 0 && poll(d->fds, (nfds_t)nf, timeout) < 0 && errno == EINTR)
        return 0; /* a signal: the caller looks at its flags */
    advance_all(d);
    return (d->input_done || d->cancelled) && !d->n_act && !d->q_n;
}

/* ---- output helpers ------------------------------------------------------- */

static json_t *escaped_json(const char *p, size_t n)
{
    char *s = mxs_escape_dup(p, n, 0);
    json_t *j = s ? json_string(s) : json_null();
    free(s);
    return j;
}

char *mxs_domain_json(const struct mxs_domain *r)
{
    if (r->kind != MXS_DOMAIN_PROBED || !r->survey)
        return NULL;
    static const char *const cls[] = { "fail", "warning", "ok" };
    json_t *root = survey_json_tree(r->survey);
    json_t *dm = json_object();
    if (!root || !dm) {
        json_decref(root);
        json_decref(dm);
        return NULL;
    }
    json_object_set_new(dm, "line", json_integer((json_int_t)r->line));
    json_object_set_new(dm, "name", escaped_json(r->name, strlen(r->name)));
    json_object_set_new(dm, "unicode", r->uname[0] ? escaped_json(r->uname, strlen(r->uname)) : json_null());
    json_object_set_new(dm, "input", escaped_json(r->input, strlen(r->input)));
    json_object_set_new(dm, "options", escaped_json(r->options, strlen(r->options)));
    json_object_set_new(dm, "class", json_string(cls[r->cls]));
    json_object_set_new(dm, "deadline_passed", json_boolean(r->deadline_passed));
    json_object_set_new(dm, "elapsed_ms", json_integer((json_int_t)r->elapsed_ms));
    json_object_set_new(root, "domain", dm);
    char *s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    return s;
}

void mxs_domain_transcript(const struct mxs_domain *r, struct buf *out)
{
    if (r->kind != MXS_DOMAIN_PROBED || !r->survey)
        return;
    struct survey *v = r->survey;
    int n = survey_count(v);
    if (!n)
        render_transcript_text(survey_engine(v, -1), out);
    for (int i = 0; i < n; i++) {
        if (i)
            buf_puts(out, "\n");
        render_transcript_text(survey_engine(v, i), out);
    }
}
