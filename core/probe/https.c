/*
 * https.c - one HTTPS GET with libcurl's multi interface, socket-callback
 * style, so the caller's poll() loop drives it (see https.h).
 *
 * Why the socket callback and not curl_multi_fdset(): fd_set breaks on
 * descriptors above FD_SETSIZE, and the engine already owns a poll() loop;
 * curl tells us which sockets to watch and when its timer is due, we tell
 * it what poll() saw.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "probe/https.h"
#include "core.h"

#define HTTPS_MAX_SOCKS 4

struct https_sock {
    curl_socket_t fd;
    int what;                      /* CURL_POLL_IN / OUT / INOUT             */
};

struct https_fetch {
    CURLM *m;
    CURL *e;
    struct curl_slist *resolve;
    struct curl_slist *connect_to;
    struct https_sock sock[HTTPS_MAX_SOCKS];
    int nsock;
    int64_t timer_due_ms;          /* monotonic; -1: no timer                */
    int64_t started_ms;
    size_t cap;
    int too_big;
    long long announced;           /* Content-Length seen, -1: none         */
    int done;
    char errbuf[CURL_ERROR_SIZE];
    struct https_result r;
};

static pthread_once_t https_once = PTHREAD_ONCE_INIT;
static int https_global_ok;
static void https_global_init(void)
{
    https_global_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

static int64_t https_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *https_library_version(void)
{
    return curl_version();
}

const char *https_outcome_name(enum https_outcome o)
{
    static const char *const n[] = {
        [HTTPS_RUNNING] = "running", [HTTPS_OK] = "ok", [HTTPS_ERR_DNS] = "dns",
        [HTTPS_ERR_CONNECT] = "connect", [HTTPS_ERR_TLS] = "tls", [HTTPS_ERR_CERT] = "certificate",
        [HTTPS_ERR_HTTP] = "http", [HTTPS_ERR_TOO_BIG] = "too-big",
        [HTTPS_ERR_TIMEOUT] = "timeout", [HTTPS_ERR_OTHER] = "other",
    };
    return (unsigned)o < sizeof n / sizeof n[0] && n[o] ? n[o] : "other";
}

/* ---- curl callbacks ---------------------------------------------------- */

static int https_sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    struct https_fetch *f = userp;
    (void)e; (void)socketp;
    int i;
    for (i = 0; i < f->nsock && f->sock[i].fd != s; i++)
        ;
    if (what == CURL_POLL_REMOVE) {
        if (i < f->nsock)
            f->sock[i] = f->sock[--f->nsock];
        return 0;
    }
    if (i == f->nsock) {
        if (f->nsock == HTTPS_MAX_SOCKS)
            return -1;   /* more sockets than one GET ever needs: refuse */
        f->nsock++;
    }
    f->sock[i].fd = s;
    f->sock[i].what = what;
    return 0;
}

static int https_timer_cb(CURLM *m, long timeout_ms, void *userp)
{
    struct https_fetch *f = userp;
    (void)m;
    f->timer_due_ms = timeout_ms < 0 ? -1 : https_now_ms() + timeout_ms;
    return 0;
}

static void https_append(char *dst, size_t *len, size_t cap, const char *src, size_t n)
{
    size_t room = cap - 1 - *len;
    if (n > room)
        n = room;
    memcpy(dst + *len, src, n);
    *len += n;
    dst[*len] = 0;
}

static size_t https_write_cb(char *p, size_t size, size_t nmemb, void *ud)
{
    struct https_fetch *f = ud;
    size_t n = size * nmemb;
    f->r.body_seen += n;
    size_t room = f->cap - f->r.body_len;
    size_t take = n < room ? n : room;
    if (take) {
        memcpy(f->r.body + f->r.body_len, p, take);
        f->r.body_len += take;
    }
    if (n > room) {
        f->too_big = 1;
        return 0;        /* CURLE_WRITE_ERROR: stop reading */
    }
    return n;
}

static size_t https_header_cb(char *p, size_t size, size_t nmemb, void *ud)
{
    struct https_fetch *f = ud;
    size_t n = size * nmemb;
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        /* a new response head (after a 1xx, or the first) */
        size_t l = n;
        while (l && (p[l - 1] == '\r' || p[l - 1] == '\n'))
            l--;
        if (l >= sizeof f->r.status_line)
            l = sizeof f->r.status_line - 1;
        memcpy(f->r.status_line, p, l);
        f->r.status_line[l] = 0;
    }
    /* Content-Length ourselves: when the cap stops curl early, its own
     * CURLINFO_CONTENT_LENGTH_DOWNLOAD_T may not be set yet. */
    if (n > 15 && strncasecmp(p, "content-length:", 15) == 0) {
        char num[24];
        size_t i = 15, k = 0;
        while (i < n && (p[i] == ' ' || p[i] == '\t'))
            i++;
        while (i < n && p[i] >= '0' && p[i] <= '9' && k < sizeof num - 1)
            num[k++] = p[i++];
        num[k] = 0;
        if (k)
            f->announced = strtoll(num, NULL, 10);
    }
    https_append(f->r.response_head, &f->r.response_head_len, sizeof f->r.response_head, p, n);
    return n;
}

static int https_debug_cb(CURL *e, curl_infotype type, char *data, size_t size, void *ud)
{
    struct https_fetch *f = ud;
    (void)e;
    if (type == CURLINFO_HEADER_OUT)
        https_append(f->r.request_head, &f->r.request_head_len, sizeof f->r.request_head,
                     data, size);
    return 0;   /* everything else: dropped (core never writes to stderr) */
}

/* ---- start ------------------------------------------------------------- */

/* The pin: "HOST:PORT:IP" for CURLOPT_RESOLVE, or, with another port to
 * connect to, "HOST:PORT:IP:TO" for CURLOPT_CONNECT_TO (the connection goes
 * to IP:TO; names, SNI and the certificate check stay the URL's). */
static int https_resolve_entry(const char *url, const char *ip, unsigned to, char *out,
                               size_t outlen)
{
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL;
    int ok = 0;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
        int v6 = strchr(ip, ':') != NULL;
        char tail[16] = "";
        if (to)
            snprintf(tail, sizeof tail, ":%u", to);
        ok = snprintf(out, outlen, "%s:%s:%s%s%s%s", host, port, v6 ? "[" : "", ip,
                      v6 ? "]" : "", tail) < (int)outlen;
    }
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return ok ? 0 : -1;
}

#define HTTPS_SET(opt, val) (ok = ok && curl_easy_setopt(f->e, opt, val) == CURLE_OK)

struct https_fetch *https_start(const char *url, const char *pin_ip, unsigned port,
                                const char *cafile, long deadline_ms, size_t cap, char *err,
                                size_t errlen)
{
    pthread_once(&https_once, https_global_init);
    if (!https_global_ok) {
        snprintf(err, errlen, "libcurl could not be initialised");
        return NULL;
    }
    struct https_fetch *f = calloc(1, sizeof *f);
    if (!f || !(f->r.body = malloc(cap ? cap : 1))) {
        free(f);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    f->cap = cap;
    f->timer_due_ms = -1;
    f->announced = -1;
    f->started_ms = https_now_ms();
    f->m = curl_multi_init();
    f->e = curl_easy_init();
    if (!f->m || !f->e) {
        snprintf(err, errlen, "libcurl: no handle");
        https_free(f);
        return NULL;
    }
    if (port && (!pin_ip || !*pin_ip)) {
        snprintf(err, errlen, "another port needs the address pinned");
        https_free(f);
        return NULL;
    }
    if (pin_ip && *pin_ip) {
        char entry[600];
        struct curl_slist **l = port ? &f->connect_to : &f->resolve;
        if (https_resolve_entry(url, pin_ip, port, entry, sizeof entry) != 0 ||
            !(*l = curl_slist_append(NULL, entry))) {
            snprintf(err, errlen, "cannot pin the address for this URL");
            https_free(f);
            return NULL;
        }
    }
    int ok = 1;
    HTTPS_SET(CURLOPT_URL, url);
    HTTPS_SET(CURLOPT_PROTOCOLS_STR, "https");
    HTTPS_SET(CURLOPT_FOLLOWLOCATION, 0L);            /* RFC 8461 §3.3: no redirects */
    HTTPS_SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    HTTPS_SET(CURLOPT_SSL_VERIFYPEER, 1L);
    HTTPS_SET(CURLOPT_SSL_VERIFYHOST, 2L);
    HTTPS_SET(CURLOPT_CERTINFO, 1L);
    HTTPS_SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    HTTPS_SET(CURLOPT_PROXY, "");                     /* a sender uses no proxy of ours */
    HTTPS_SET(CURLOPT_NOSIGNAL, 1L);
    HTTPS_SET(CURLOPT_TIMEOUT_MS, deadline_ms);
    HTTPS_SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cap);
    HTTPS_SET(CURLOPT_USERAGENT, "mxscope/" MXS_VERSION);
    HTTPS_SET(CURLOPT_ERRORBUFFER, f->errbuf);
    HTTPS_SET(CURLOPT_WRITEFUNCTION, https_write_cb);
    HTTPS_SET(CURLOPT_WRITEDATA, f);
    HTTPS_SET(CURLOPT_HEADERFUNCTION, https_header_cb);
    HTTPS_SET(CURLOPT_HEADERDATA, f);
    HTTPS_SET(CURLOPT_DEBUGFUNCTION, https_debug_cb);
    HTTPS_SET(CURLOPT_DEBUGDATA, f);
    HTTPS_SET(CURLOPT_VERBOSE, 1L);                   /* feeds the debug callback only */
    if (cafile && *cafile)
        HTTPS_SET(CURLOPT_CAINFO, cafile);
    if (f->resolve)
        HTTPS_SET(CURLOPT_RESOLVE, f->resolve);
    if (f->connect_to)
        HTTPS_SET(CURLOPT_CONNECT_TO, f->connect_to);
    ok = ok && curl_multi_setopt(f->m, CURLMOPT_SOCKETFUNCTION, https_sock_cb) == CURLM_OK;
    ok = ok && curl_multi_setopt(f->m, CURLMOPT_SOCKETDATA, f) == CURLM_OK;
    ok = ok && curl_multi_setopt(f->m, CURLMOPT_TIMERFUNCTION, https_timer_cb) == CURLM_OK;
    ok = ok && curl_multi_setopt(f->m, CURLMOPT_TIMERDATA, f) == CURLM_OK;
    ok = ok && curl_multi_add_handle(f->m, f->e) == CURLM_OK;
    if (!ok) {
        snprintf(err, errlen, "libcurl refused an option (a libcurl older than 7.85?)");
        https_free(f);
        return NULL;
    }
    return f;
}

/* ---- driving it -------------------------------------------------------- */

int https_pollfds(struct https_fetch *f, struct pollfd *fds, int max)
{
    int n = 0;
    for (int i = 0; i < f->nsock && n < max; i++) {
        fds[n].fd = f->sock[i].fd;
        fds[n].events = (short)(((f->sock[i].what & CURL_POLL_IN) ? POLLIN : 0) |
                                ((f->sock[i].what & CURL_POLL_OUT) ? POLLOUT : 0));
        fds[n].revents = 0;
        n++;
    }
    return n;
}

int https_timeout_ms(struct https_fetch *f)
{
    if (f->done)
        return 0;
    if (f->timer_due_ms < 0)
        return -1;
    int64_t d = f->timer_due_ms - https_now_ms();
    return d < 0 ? 0 : d > 60000 ? 60000 : (int)d;
}

static enum https_outcome https_classify(struct https_fetch *f, CURLcode rc)
{
    switch (rc) {
    case CURLE_OK:
        return f->r.status == 200 ? HTTPS_OK : HTTPS_ERR_HTTP;
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
        return HTTPS_ERR_TOO_BIG;
    case CURLE_COULDNT_RESOLVE_HOST:
        return HTTPS_ERR_DNS;
    case CURLE_COULDNT_CONNECT:
        return HTTPS_ERR_CONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        return HTTPS_ERR_TIMEOUT;
    case CURLE_PEER_FAILED_VERIFICATION:
        return HTTPS_ERR_CERT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
        return HTTPS_ERR_TLS;
    default:
        return HTTPS_ERR_OTHER;   /* CURLE_SSL_CACERT_BADFILE (our CA file) lands here */
    }
}

static void https_finish(struct https_fetch *f, CURLcode rc)
{
    struct https_result *r = &f->r;
    char *s = NULL;
    long v = 0;
    if (curl_easy_getinfo(f->e, CURLINFO_RESPONSE_CODE, &v) == CURLE_OK)
        r->status = v;
    if (curl_easy_getinfo(f->e, CURLINFO_CONTENT_TYPE, &s) == CURLE_OK && s)
        snprintf(r->content_type, sizeof r->content_type, "%s", s);
    s = NULL;
    if (curl_easy_getinfo(f->e, CURLINFO_REDIRECT_URL, &s) == CURLE_OK && s)
        snprintf(r->location, sizeof r->location, "%s", s);
    s = NULL;
    if (curl_easy_getinfo(f->e, CURLINFO_PRIMARY_IP, &s) == CURLE_OK && s)
        snprintf(r->primary_ip, sizeof r->primary_ip, "%s", s);
    if (curl_easy_getinfo(f->e, CURLINFO_SSL_VERIFYRESULT, &v) == CURLE_OK)
        r->verify_result = v;
    curl_off_t cl = -1;
    r->content_length = f->announced;
    if (r->content_length < 0 && curl_easy_getinfo(f->e, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK)
        r->content_length = cl;
    struct curl_certinfo *ci = NULL;
    if (curl_easy_getinfo(f->e, CURLINFO_CERTINFO, &ci) == CURLE_OK && ci) {
        for (int i = 0; i < ci->num_of_certs && r->n_certs < HTTPS_MAX_CERTS; i++) {
            struct https_cert *c = &r->cert[r->n_certs++];
            for (struct curl_slist *l = ci->certinfo[i]; l; l = l->next) {
                if (!strncmp(l->data, "Subject:", 8))
                    snprintf(c->subject, sizeof c->subject, "%s", l->data + 8);
                else if (!strncmp(l->data, "Issuer:", 7))
                    snprintf(c->issuer, sizeof c->issuer, "%s", l->data + 7);
                else if (!strncmp(l->data, "Expire date:", 12))
                    snprintf(c->not_after, sizeof c->not_after, "%s", l->data + 12);
            }
        }
    }
    r->outcome = https_classify(f, rc);
    if (rc == CURLE_WRITE_ERROR && !f->too_big)
        r->outcome = HTTPS_ERR_OTHER;
    if (r->outcome == HTTPS_ERR_TOO_BIG && r->content_length > (long long)f->cap)
        snprintf(r->error, sizeof r->error,
                 "the server announced a body of %lld bytes (Content-Length), over the %zu bytes allowed",
                 r->content_length, f->cap);
    else if (r->outcome == HTTPS_ERR_TOO_BIG)
        snprintf(r->error, sizeof r->error, "the body is over %zu bytes (%zu came before reading stopped)",
                 f->cap, r->body_seen);
    else if (rc != CURLE_OK)
        snprintf(r->error, sizeof r->error, "%s", f->errbuf[0] ? f->errbuf : curl_easy_strerror(rc));
    r->elapsed_ms = (long)(https_now_ms() - f->started_ms);
    f->done = 1;
}

int https_step(struct https_fetch *f, const struct pollfd *fds, int n)
{
    int running = 1;
    if (f->done)
        return 1;
    for (int i = 0; i < n; i++) {
        if (!fds[i].revents)
            continue;
        int ev = ((fds[i].revents & POLLIN) ? CURL_CSELECT_IN : 0) |
                 ((fds[i].revents & POLLOUT) ? CURL_CSELECT_OUT : 0) |
                 ((fds[i].revents & (POLLERR | POLLHUP | POLLNVAL)) ? CURL_CSELECT_ERR : 0);
        curl_multi_socket_action(f->m, fds[i].fd, ev, &running);
    }
    if (f->timer_due_ms >= 0 && https_now_ms() >= f->timer_due_ms) {
        f->timer_due_ms = -1;
        curl_multi_socket_action(f->m, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    int left;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(f->m, &left)))
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == f->e)
            https_finish(f, msg->data.result);
    return f->done;
}

const struct https_result *https_result(const struct https_fetch *f)
{
    return &f->r;
}

void https_free(struct https_fetch *f)
{
    if (!f)
        return;
    if (f->m && f->e)
        curl_multi_remove_handle(f->m, f->e);
    if (f->e)
        curl_easy_cleanup(f->e);
    if (f->m)
        curl_multi_cleanup(f->m);
    curl_slist_free_all(f->resolve);
    curl_slist_free_all(f->connect_to);
    free(f->r.body);
    free(f);
}
