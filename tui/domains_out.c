/*
 * domains_out.c - `mxscope --batch --domains LIST`: the front end of core's
 * list runner (core.h, "Domain lists").  Owner: this file.
 *
 * One loop: mxs_domains_run() advances every engine (its poll() is the only
 * wait), then the finished domains are written as they come: a JSON line
 * (--json), a transcript file (--save-dir), a row for the summary.  The
 * summary table (text) is sorted by urgency at the end.  Ctrl-C stops the
 * run: what finished is written, the summary says the run is partial, exit 3.
 * Every name printed went through mxs_escape (a list line is untrusted text
 * too: it may hold control bytes).
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "core.h"
#include "options.h"

#define EXIT_INTERRUPTED 3
#define EXIT_WARNINGS 4
#define REJECTED_SHOWN 50        /* the summary lists the first ones; stderr all */
#define CHUNK (64 * 1024)        /* the summary goes out in pieces this big */

/* One summary row (kept for every domain: small on purpose). */
struct row {
    unsigned long line;
    unsigned char kind, cls, deadline;
    signed char step;            /* first failing step, -1 none             */
    unsigned char out[MXS_POL_COUNT];
    unsigned char n_probes;
    int has_leaf, days;
    char sha1[41];
    char *name;                  /* escaped: "a-label (u-label)" or the input */
    char *host;                  /* escaped leaf host (NULL: none)          */
    char *why;                   /* rejected: why                           */
};

struct run {
    const struct front_opts *o;
    struct row *rows;
    size_t n_rows, cap_rows;
    int progress;                /* stderr is a terminal                    */
    int progress_shown;
    int local_error;             /* a file not saved, stdout failed         */
    size_t rejected_kept;        /* rejected lines seen (rows: the first few) */
    struct mxs_monitor *mon;     /* --format: each document as it comes    */
    struct timespec t0;
};

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
    (void)sig;
    interrupted = 1;
}

static double elapsed_s(const struct run *u)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - u->t0.tv_sec) + (double)(t.tv_nsec - u->t0.tv_nsec) / 1e9;
}

static void progress_clear(struct run *u)
{
    if (u->progress_shown) {
        fputs("\r\033[K", stderr);
        u->progress_shown = 0;
    }
}

static void progress_show(struct run *u, const struct mxs_domains *d)
{
    if (!u->progress)
        return;
    struct mxs_domains_stats st;
    mxs_domains_stats(d, &st);
    char total[32];
    if (st.total == (unsigned long)-1)
        snprintf(total, sizeof total, "%lu+", st.done + st.running);
    else
        snprintf(total, sizeof total, "%lu", st.total);
    fprintf(stderr, "\r\033[Kmxscope: %lu/%s done, %lu failing, %lu running, %.0f s", st.done, total,
            st.failing, st.running, elapsed_s(u));
    u->progress_shown = 1;
}

/* A bounded int option: 0, or EXIT_USAGE after saying why. */
static int int_opt(const char *name, const char *v, int lo, int hi, int *out)
{
    if (!v)
        return 0;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi) {
        char shown[80];
        mxs_escape_str(v, shown, sizeof shown, 0);
        fprintf(stderr, "mxscope: --%s: '%s' is not a number from %d to %d\n", name, shown, lo, hi);
        return EXIT_USAGE;
    }
    *out = (int)n;
    return 0;
}

static char *escape_dup(const char *s, size_t n)
{
    return mxs_escape_dup(s, n, 0);
}

static void save_transcript(struct run *u, const struct mxs_domain *r)
{
    struct buf b;
    char path[4096], err[512];
    buf_init(&b, 0);
    mxs_domain_transcript(r, &b);
    /* r->name is a checked host name ([a-z0-9.-]): a safe file name.  A
     * line with settings may list the name again with others: its line
     * number keeps the files apart. */
    if (r->options[0])
        snprintf(path, sizeof path, "%s/%s.line%lu.txt", u->o->save_dir, r->name, r->line);
    else
        snprintf(path, sizeof path, "%s/%s.txt", u->o->save_dir, r->name);
    if (b.failed || savefile_write(path, buf_str(&b), b.len, err, sizeof err) != 0) {
        char shown[600], where[600];
        mxs_escape_str(b.failed ? "too large for memory" : err, shown, sizeof shown, 0);
        mxs_escape_str(path, where, sizeof where, 0);
        progress_clear(u);
        fprintf(stderr, "mxscope: transcript not saved to %s: %s\n", where, shown);
        u->local_error = 1;
    }
    buf_free(&b);
}

static void add_row(struct run *u, const struct mxs_domain *r)
{
    if (r->kind == MXS_DOMAIN_REJECTED && u->rejected_kept++ >= REJECTED_SHOWN)
        return;
    if (u->n_rows == u->cap_rows) {
        size_t nc = u->cap_rows ? u->cap_rows * 2 : 256;
        struct row *nr = realloc(u->rows, nc * sizeof *nr);
        if (!nr) {
            u->local_error = 1;
            return;
        }
        u->rows = nr;
        u->cap_rows = nc;
    }
    struct row *w = &u->rows[u->n_rows];
    memset(w, 0, sizeof *w);
    w->line = r->line;
    w->kind = (unsigned char)r->kind;
    if (r->kind == MXS_DOMAIN_REJECTED) {
        char shown[88];
        size_t need = mxs_escape(r->input, strlen(r->input), shown, 81, 0);
        if (need > 80 || r->input_len > strlen(r->input))
            strcat(shown, "...");
        w->name = strdup(shown);
        w->why = escape_dup(r->why, strlen(r->why));
    } else {
        struct buf b;
        buf_init(&b, 0);
        buf_puts_escaped(&b, r->name);
        if (r->uname[0]) {
            buf_puts(&b, " (");
            buf_puts_escaped(&b, r->uname);
            buf_puts(&b, ")");
        }
        if (r->options[0]) { /* the same name may be listed with other settings */
            buf_puts(&b, " [");
            buf_puts_escaped(&b, r->options);
            buf_puts(&b, "]");
        }
        w->name = b.failed ? NULL : strdup(buf_str(&b));
        buf_free(&b);
    }
    if (r->kind == MXS_DOMAIN_PROBED) {
        w->cls = (unsigned char)r->cls;
        w->deadline = (unsigned char)r->deadline_passed;
        w->step = (signed char)r->failed_step;
        for (int p = 0; p < MXS_POL_COUNT; p++)
            w->out[p] = (unsigned char)r->outcome[p];
        w->n_probes = (unsigned char)survey_count(r->survey);
        w->has_leaf = r->has_leaf;
        w->days = r->days_left;
        snprintf(w->sha1, sizeof w->sha1, "%s", r->sha1);
        if (r->has_leaf)
            w->host = escape_dup(r->leaf_host, strlen(r->leaf_host));
    }
    u->n_rows++;
}

static void handle(struct run *u, struct mxs_domain *r)
{
    const struct front_opts *o = u->o;
    if (r->kind == MXS_DOMAIN_REJECTED) {
        char shown[1300];
        mxs_escape(r->input, strlen(r->input), shown, sizeof shown, 0);
        progress_clear(u);
        fprintf(stderr, "mxscope: line %lu: %s%s: rejected: %s\n", r->line, shown,
                r->input_len > strlen(r->input) ? "..." : "", r->why);
    } else if (r->kind == MXS_DOMAIN_DUPLICATE) {
        char shown[1100];
        mxs_escape_str(r->name, shown, sizeof shown, 0);
        progress_clear(u);
        fprintf(stderr, "mxscope: line %lu: %s: also on line %lu, probed once\n", r->line, shown,
                r->first_line);
        return; /* no row: it is the row of its first line */
    } else {
        if (o->json || u->mon) {
            char *js = mxs_domain_json(r);
            char err[300];
            if (!js) {
                progress_clear(u);
                fprintf(stderr, "mxscope: line %lu: JSON: out of memory\n", r->line);
                u->local_error = 1;
            } else if (u->mon) {
                /* the monitor keeps a few facts of it, never the document */
                if (mxs_monitor_add(u->mon, js, strlen(js), err, sizeof err) != 0) {
                    progress_clear(u);
                    fprintf(stderr, "mxscope: line %lu: monitoring: %s\n", r->line, err);
                }
            } else {
                progress_clear(u); /* stdout may be the same terminal */
                fputs(js, stdout);
                fputs("\n", stdout);
            }
            free(js);
        }
        if (o->save_dir)
            save_transcript(u, r);
    }
    if (!o->json && !u->mon)
        add_row(u, r);
}

/* ---- the summary ---------------------------------------------------------- */

/* Most urgent first: failing, warning, ok; in each, the leaf that expires
 * first (no certificate at all before any); then list order. */
static int row_cmp(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    if (x->cls != y->cls)
        return x->cls < y->cls ? -1 : 1;
    if (x->has_leaf != y->has_leaf)
        return x->has_leaf ? 1 : -1;
    if (x->has_leaf && x->days != y->days)
        return x->days < y->days ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

static int days_cmp(const void *a, const void *b)
{
    const struct row *const *x = a, *const *y = b;
    if ((*x)->days != (*y)->days)
        return (*x)->days < (*y)->days ? -1 : 1;
    return (*x)->line < (*y)->line ? -1 : (*x)->line > (*y)->line;
}

/* A sender's verdict in a table cell. */
static const char *const outcome_cell[] = {
    [MXS_OUT_ENCRYPTED] = "encrypted", [MXS_OUT_CLEAR] = "CLEAR",
    [MXS_OUT_NOT_DELIVERED] = "NO", [MXS_OUT_NOT_EVALUATED] = "-",
};
static const char *const class_cell[] = { "FAIL", "WARN", "ok" };

/* Out with what the summary holds so far: a 100,000-line list is not one
 * buffer. */
static void chunk(struct run *u, struct buf *b, int force)
{
    if (!force && b->len < CHUNK)
        return;
    if (batch_print_buf(b))
        u->local_error = 1;
    buf_init(b, 0);
}

static void summary(struct run *u, const struct mxs_domains *d, struct buf *b)
{
    struct mxs_domains_stats st;
    mxs_domains_stats(d, &st);
    size_t probed = 0;
    for (size_t i = 0; i < u->n_rows; i++)
        probed += u->rows[i].kind == MXS_DOMAIN_PROBED;
    qsort(u->rows, u->n_rows, sizeof *u->rows, row_cmp);

    buf_puts(b, "mxscope: ");
    buf_puts_escaped(b, strcmp(u->o->domains, "-") ? u->o->domains : "(stdin)");
    buf_printf(b, ": %zu domain%s probed (%lu failing, %lu warning, %lu ok), %lu line%s rejected, "
               "%lu duplicate%s, %.1f s\n\n", probed, probed == 1 ? "" : "s", st.failing, st.warning,
               (unsigned long)probed - st.failing - st.warning, st.rejected, st.rejected == 1 ? "" : "s",
               st.duplicates, st.duplicates == 1 ? "" : "s", elapsed_s(u));
    if (probed) {
        buf_printf(b, "%-7s %-6s %-10s %-10s %-10s %-10s %-10s %-10s %-6s %-40s %-6s %s\n", "urgency",
                   "line", "failed at", "opportun.", "required", "verified", "dane", "mta-sts", "days",
                   "leaf SHA-1 (thumbprint)", "probes", "domain [settings]");
        for (size_t i = 0; i < u->n_rows; i++) {
            const struct row *w = &u->rows[i];
            if (w->kind != MXS_DOMAIN_PROBED)
                continue;
            char days[16];
            snprintf(days, sizeof days, "%d", w->days);
            buf_printf(b, "%-7s %-6lu %-10s %-10s %-10s %-10s %-10s %-10s %-6s %-40s %-6u %s\n",
                       class_cell[w->cls], w->line,
                       w->deadline ? "deadline" : w->step < 0 ? "-" : mxs_step_name((enum mxs_step)w->step),
                       outcome_cell[w->out[MXS_POL_OPPORTUNISTIC]], outcome_cell[w->out[MXS_POL_REQUIRED]],
                       outcome_cell[w->out[MXS_POL_VERIFIED]], outcome_cell[w->out[MXS_POL_DANE]],
                       outcome_cell[w->out[MXS_POL_MTASTS]],
                       w->has_leaf ? days : "-", w->has_leaf ? w->sha1 : "-", w->n_probes, w->name ? w->name : "?");
            chunk(u, b, 0);
        }
    }
    /* the expiry watch: the ten served leaves that expire first */
    const struct row **by_days = calloc(u->n_rows ? u->n_rows : 1, sizeof *by_days);
    size_t nd = 0;
    for (size_t i = 0; by_days && i < u->n_rows; i++)
        if (u->rows[i].has_leaf)
            by_days[nd++] = &u->rows[i];
    if (nd) {
        qsort(by_days, nd, sizeof *by_days, days_cmp);
        int warn = u->o->set.expiry_warn_days;
        buf_printf(b, "\nExpires first (--expiry-warn %d: within %d day%s is a warning)\n", warn, warn,
                   warn == 1 ? "" : "s");
        for (size_t i = 0; i < nd && i < 10; i++) {
            const struct row *w = by_days[i];
            char dt[48];
            mxs_days_text(w->days, dt, sizeof dt);
            buf_printf(b, "  %-16s %s %s  %s (line %lu)%s\n", dt, w->sha1, w->host ? w->host : "?",
                       w->name ? w->name : "?", w->line, w->days <= warn ? "  <- warning" : "");
        }
    }
    free(by_days);
    if (st.rejected) {
        buf_printf(b, "\nRejected lines (not probed)\n");
        for (size_t i = 0; i < u->n_rows; i++) {
            const struct row *w = &u->rows[i];
            if (w->kind == MXS_DOMAIN_REJECTED)
                buf_printf(b, "  line %-6lu %s: %s\n", w->line, w->name ? w->name : "?", w->why ? w->why : "?");
        }
        if (st.rejected > REJECTED_SHOWN)
            buf_printf(b, "  ... and %lu more (each on stderr with its line number)\n",
                       st.rejected - REJECTED_SHOWN);
    }
}

static void interrupted_note(const struct mxs_domains *d, struct buf *b)
{
    struct mxs_domains_stats st;
    mxs_domains_stats(d, &st);
    buf_printf(b, "\nINTERRUPTED: a partial run. %lu line%s finished and written; %lu domain%s "
               "still running were dropped; the rest of the list was not read.\n",
               st.done, st.done == 1 ? "" : "s", st.dropped, st.dropped == 1 ? "" : "s");
}

static int exit_code(const struct run *u, const struct mxs_domains *d)
{
    struct mxs_domains_stats st;
    mxs_domains_stats(d, &st);
    if (interrupted)
        return EXIT_INTERRUPTED;
    if (st.failing)
        return MXS_EXIT_DOMAINS_FAILED;
    if (u->local_error || st.read_error)
        return EXIT_LOCAL;
    if ((st.warning || st.rejected) && !u->o->set.warn_ok)
        return EXIT_WARNINGS;
    return 0;
}

static const char *exit_words(int rc)
{
    switch (rc) {
    case 0: return "every domain passed";
    case EXIT_INTERRUPTED: return "interrupted: the list is not complete";
    case MXS_EXIT_DOMAINS_FAILED: return "a domain failed";
    case EXIT_LOCAL: return "a local error: see above";
    default: return "warnings: a domain warned, or a line was rejected";
    }
}

static int check_usage(const struct front_opts *o)
{
    const char *bad = o->positional ? "a DOMAIN" : o->set.target_is_host ? "--host" : o->load ? "--load" : o->script ? "--script" : o->save ? "--save"
                    : o->save_json ? "--save-json" : o->save_chain ? "--save-chain"
                    : o->report ? "--report" : NULL;
    if (bad) {
        fprintf(stderr, "mxscope: --domains takes no %s (a list line takes settings: NAME --port N)\n", bad);
        return EXIT_USAGE;
    }
    if (o->format && o->json) {
        fprintf(stderr, "mxscope: --format and --json are two outputs: one at a time\n");
        return EXIT_USAGE;
    }
    if (o->format && mxs_monitor_format_from_name(o->format) < 0) {
        char shown[80];
        mxs_escape_str(o->format, shown, sizeof shown, 0);
        fprintf(stderr, "mxscope: --format: '%s' is not nagios or prometheus\n", shown);
        return EXIT_USAGE;
    }
    if (o->save_dir) {
        struct stat sb;
        if (stat(o->save_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            char shown[600];
            mxs_escape_str(o->save_dir, shown, sizeof shown, 0);
            fprintf(stderr, "mxscope: --save-dir %s: not a folder\n", shown);
            return EXIT_LOCAL;
        }
    }
    return 0;
}

/* Enough file descriptors for --parallel: each engine at work holds up to
 * four (a probe and its side handshakes), a lookup's resolver context
 * several.  Running out would look like the partner's failed connect: the
 * soft limit is raised, or the run refused up front.  0 or EXIT_LOCAL. */
static int fd_room(int parallel)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)parallel * 6 + 64;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
        return 0;
    if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need) {
        rl.rlim_cur = need;
        if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
            return 0;
    }
    fprintf(stderr, "mxscope: --parallel %d needs about %llu file descriptors; the limit is %llu (ulimit -n)\n",
            parallel, (unsigned long long)need, (unsigned long long)rl.rlim_cur);
    return EXIT_LOCAL;
}

/* --lab --domains: each line names a lab scenario (lab_apply). */
static int lab_line(void *arg, const char *name, struct mxs_settings *s, char *err, size_t errlen)
{
    return lab_apply(arg, name, s, err, errlen);
}

int domains_tuning(const struct front_opts *o, struct mxs_domains_opts *dopt)
{
    int rc;
    mxs_domains_opts_init(dopt);
    if ((rc = int_opt("parallel", o->parallel, 1, 512, &dopt->parallel)) ||
        (rc = int_opt("per-host", o->per_host, 1, 64, &dopt->per_host)) ||
        (rc = int_opt("domain-timeout", o->domain_timeout, 1, 86400, &dopt->domain_timeout_s)))
        return rc;
    return fd_room(dopt->parallel);
}

int batch_domains(const struct front_opts *o)
{
    struct mxs_domains_opts dopt;
    int rc = check_usage(o);
    if (rc || (rc = domains_tuning(o, &dopt)))
        return rc;
    int fd = strcmp(o->domains, "-") ? open(o->domains, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
    char err[512], shown[600];
    if (fd < 0) {
        mxs_escape_str(o->domains, shown, sizeof shown, 0);
        fprintf(stderr, "mxscope: --domains %s: %s\n", shown, strerror(errno));
        return EXIT_LOCAL;
    }
    struct lab *lb = NULL;
    if (o->lab && !(lb = lab_start(err, sizeof err)))
        fprintf(stderr, "mxscope: lab: %s\n", err);
    dopt.line_hook = lb ? lab_line : NULL;
    dopt.line_arg = lb;
    struct mxs_domains *d = o->lab && !lb ? NULL : mxs_domains_new(fd, &o->set, &dopt, err, sizeof err);
    if (!d) {
        if (!o->lab || lb)
            fprintf(stderr, "mxscope: --domains: %s\n", err);
        lab_stop(lb);
        if (fd != STDIN_FILENO)
            close(fd);
        return EXIT_LOCAL;
    }
    /* An engine is about 850 KB, mostly zeros until used.  Mapped, calloc
     * need not clear it and what is never touched is never resident; from
     * the heap (glibc raises its mmap threshold after the first free) calloc
     * clears all of it: 64 probes at once would cost 55 MB for nothing. */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    struct run u = { .o = o, .progress = isatty(STDERR_FILENO) };
    if (o->format) {
        struct mxs_monitor_opts mo;
        mxs_monitor_opts_init(&mo);
        mo.warn_days = o->set.expiry_warn_days;
        mo.now = time(NULL);
        if (!(u.mon = mxs_monitor_new(&mo))) {
            fputs("mxscope: out of memory\n", stderr);
            mxs_domains_free(d);
            lab_stop(lb);
            if (fd != STDIN_FILENO)
                close(fd);
            return EXIT_LOCAL;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &u.t0);
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt; /* no SA_RESTART: poll() returns at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    struct timespec last = u.t0;
    for (;;) {
        int fin = interrupted ? 1 : mxs_domains_run(d, 250);
        if (interrupted)
            mxs_domains_cancel(d); /* what finished stays in the queue */
        struct mxs_domain *r;
        while ((r = mxs_domains_next(d))) {
            handle(&u, r);
            mxs_domain_free(r);
        }
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (u.progress && (t.tv_sec - last.tv_sec) * 1000 + (t.tv_nsec - last.tv_nsec) / 1000000 >= 250) {
            progress_show(&u, d);
            last = t;
        }
        if (fin || interrupted)
            break;
    }
    progress_clear(&u);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);

    struct mxs_domains_stats st;
    mxs_domains_stats(d, &st);
    if (st.read_error) {
        mxs_escape_str(o->domains, shown, sizeof shown, 0);
        fprintf(stderr, "mxscope: --domains %s: read: %s (the list ends there)\n", shown, strerror(st.read_error));
    }
    if (fflush(stdout) != 0)
        u.local_error = 1;
    rc = exit_code(&u, d);
    struct buf b;
    buf_init(&b, 0);
    if (u.mon) {
        /* the monitoring conventions decide the exit code: Nagios 0-3
         * (the run's 3, interrupted, is its UNKNOWN too), Prometheus 0 */
        enum mxs_monitor_format fmt = (enum mxs_monitor_format)mxs_monitor_format_from_name(o->format);
        int mrc = mxs_monitor_write(u.mon, fmt, &b);
        chunk(&u, &b, 1);
        buf_free(&b);
        if (interrupted) { /* the exposition has no place for it: stderr */
            interrupted_note(d, &b);
            fputs(buf_str(&b) + 1, stderr);
            buf_free(&b);
        }
        rc = interrupted ? EXIT_INTERRUPTED : u.local_error ? EXIT_LOCAL
             : fmt == MXS_MONITOR_NAGIOS ? mrc : mrc ? EXIT_LOCAL : 0;
        mxs_monitor_free(u.mon);
    } else if (!o->json) {
        summary(&u, d, &b);
        if (interrupted)
            interrupted_note(d, &b);
        buf_printf(&b, "\nResult: exit %d (%s)\n", rc, exit_words(rc));
        int was = u.local_error;
        u.local_error = 0;
        chunk(&u, &b, 1);
        buf_free(&b);
        if (u.local_error && rc != EXIT_INTERRUPTED && rc != MXS_EXIT_DOMAINS_FAILED)
            rc = EXIT_LOCAL;
        u.local_error |= was;
    } else if (interrupted) {
        interrupted_note(d, &b);
        fputs(buf_str(&b) + 1, stderr); /* JSON Lines on stdout: the note on stderr */
        buf_free(&b);
    }
    for (size_t i = 0; i < u.n_rows; i++) {
        free(u.rows[i].name);
        free(u.rows[i].host);
        free(u.rows[i].why);
    }
    free(u.rows);
    mxs_domains_free(d);
    lab_stop(lb);
    if (fd != STDIN_FILENO)
        close(fd);
    return rc;
}
