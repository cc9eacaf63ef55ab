/*
 * tlsrpt_report.c - reading an aggregate TLS-RPT report (RFC 8460 §4.4):
 * gunzip with a cap (zlib), JSON (jansson), then the fields senders write.
 *
 * Lenient where senders differ, strict where it matters: a missing or
 * wrong-typed field is a format problem listed with the report (reports
 * from real senders leave out optional fields, and some misspell them), but
 * a file that is not JSON, is too big, or has no "policies" array is not a
 * TLS-RPT report and is refused with the reason.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <zlib.h>

#include "policy/tlsrpt_report.h"

int tlsrpt_result_type_known(const char *t)
{
    static const char *const types[] = {
        "starttls-not-supported", "certificate-host-mismatch", "certificate-expired",
        "certificate-not-trusted", "validation-failure", "tlsa-invalid", "dnssec-invalid",
        "dane-required", "sts-policy-fetch-error", "sts-policy-invalid", "sts-webpki-invalid",
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(types[i], t))
            return 1;
    return 0;
}

/* gunzip into a malloc'd buffer of at most TLSRPT_REPORT_MAX_JSON bytes. */
static int rr_gunzip(const unsigned char *in, size_t len, unsigned char **out, size_t *outlen,
                     char *err, size_t errlen)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
        snprintf(err, errlen, "gzip: zlib could not start");
        return -1;
    }
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    int rc = Z_OK;
    zs.next_in = (unsigned char *)in;
    zs.avail_in = (uInt)len;
    while (buf && rc != Z_STREAM_END) {
        if (n == cap) {
            if (cap >= TLSRPT_REPORT_MAX_JSON) {
                snprintf(err, errlen, "the report is over %u bytes once uncompressed (a gzip bomb?)",
                         TLSRPT_REPORT_MAX_JSON);
                goto fail;
            }
            size_t ncap = cap * 2 > TLSRPT_REPORT_MAX_JSON ? TLSRPT_REPORT_MAX_JSON : cap * 2;
            unsigned char *nb = realloc(buf, ncap);
            if (!nb)
                break;
            buf = nb;
            cap = ncap;
        }
        zs.next_out = buf + n;
        zs.avail_out = (uInt)(cap - n);
        rc = inflate(&zs, Z_NO_FLUSH);
        n = cap - zs.avail_out;
        if (rc == Z_STREAM_END)
            break;
        if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
            snprintf(err, errlen, "gzip: the file ends inside the compressed data (truncated)");
            goto fail;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            snprintf(err, errlen, "gzip: %s", zs.msg ? zs.msg : "bad compressed data");
            goto fail;
        }
    }
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    inflateEnd(&zs);
    *out = buf;
    *outlen = n;
    return 0;
fail:
    inflateEnd(&zs);
    free(buf);
    return -1;
}

static void rr_problem(struct tlsrpt_report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void rr_problem(struct tlsrpt_report *r, const char *fmt, ...)
{
    if (r->n_problems < (int)(sizeof r->problem / sizeof r->problem[0])) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->problem[r->n_problems], sizeof r->problem[0], fmt, ap);
        va_end(ap);
    }
    r->n_problems++;
}

/* Copy a string member; note a problem when required and absent/wrong. */
static void rr_str(struct tlsrpt_report *r, json_t *obj, const char *key, char *out, size_t outlen,
                   const char *where, int required)
{
    json_t *v = json_object_get(obj, key);
    out[0] = 0;
    if (json_is_string(v)) {
        snprintf(out, outlen, "%s", json_string_value(v));
    } else if (v || required) {
        rr_problem(r, v ? "%s: \"%s\" is not a string" : "%s: no \"%s\"", where, key);
    }
}

static long long rr_int(struct tlsrpt_report *r, json_t *obj, const char *key, const char *where)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_integer(v) && json_integer_value(v) >= 0)
        return (long long)json_integer_value(v);
    rr_problem(r, v ? "%s: \"%s\" is not a count" : "%s: no \"%s\"", where, key);
    return -1;
}

static void rr_lines(json_t *arr, char lines[][256], int *n, int *total)
{
    size_t i;
    json_t *v;
    *n = *total = 0;
    if (!json_is_array(arr))
        return;
    json_array_foreach(arr, i, v) {
        (*total)++;
        if (*n < TLSRPT_REPORT_MAX_LINES && json_is_string(v))
            snprintf(lines[(*n)++], 256, "%s", json_string_value(v));
    }
}

static int rr_policy(struct tlsrpt_report *r, json_t *item, struct tlsrpt_rpolicy *p)
{
    json_t *pol = json_object_get(item, "policy");
    if (!json_is_object(pol)) {
        rr_problem(r, "%s: no \"%s\" object", "a policies entry", "policy");
        pol = json_object();   /* an empty one: the rest still reads */
    } else {
        json_incref(pol);
    }
    rr_str(r, pol, "policy-type", p->type, sizeof p->type, "policy", 1);
    rr_str(r, pol, "policy-domain", p->domain, sizeof p->domain, "policy", 1);
    rr_lines(json_object_get(pol, "policy-string"), p->strings, &p->n_strings, &p->n_strings_total);
    rr_lines(json_object_get(pol, "mx-host"), p->mx, &p->n_mx, &p->n_mx_total);
    json_decref(pol);
    json_t *sum = json_object_get(item, "summary");
    p->ok_sessions = p->failed_sessions = -1;
    if (json_is_object(sum)) {
        p->ok_sessions = rr_int(r, sum, "total-successful-session-count", "summary");
        p->failed_sessions = rr_int(r, sum, "total-failure-session-count", "summary");
    } else {
        rr_problem(r, "%s: no \"%s\" object", "a policies entry", "summary");
    }
    json_t *fd = json_object_get(item, "failure-details");
    if (!json_is_array(fd))
        return 0;   /* optional: no failures */
    p->fail = calloc(TLSRPT_REPORT_MAX_FAILURES, sizeof *p->fail);
    if (!p->fail)
        return -1;
    size_t i;
    json_t *v;
    json_array_foreach(fd, i, v) {
        p->n_fail_total++;
        if (p->n_fail >= TLSRPT_REPORT_MAX_FAILURES || !json_is_object(v))
            continue;
        struct tlsrpt_failure *f = &p->fail[p->n_fail++];
        rr_str(r, v, "result-type", f->result_type, sizeof f->result_type, "failure-details", 1);
        f->type_known = tlsrpt_result_type_known(f->result_type);
        rr_str(r, v, "sending-mta-ip", f->sending_ip, sizeof f->sending_ip, "failure-details", 0);
        rr_str(r, v, "receiving-mx-hostname", f->receiving_mx, sizeof f->receiving_mx,
               "failure-details", 0);
        rr_str(r, v, "receiving-ip", f->receiving_ip, sizeof f->receiving_ip, "failure-details", 0);
        rr_str(r, v, "failure-reason-code", f->reason_code, sizeof f->reason_code, "failure-details", 0);
        rr_str(r, v, "additional-information", f->info, sizeof f->info, "failure-details", 0);
        f->count = rr_int(r, v, "failed-session-count", "failure-details");
    }
    return 0;
}

int tlsrpt_report_parse(const unsigned char *data, size_t len, struct tlsrpt_report *r,
                        char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->file_bytes = len;
    unsigned char *plain = NULL;
    size_t plen = len;
    if (len >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
        if (rr_gunzip(data, len, &plain, &plen, err, errlen) != 0)
            return -1;
        r->gzipped = 1;
    } else if (len > TLSRPT_REPORT_MAX_JSON) {
        snprintf(err, errlen, "the report is over %u bytes", TLSRPT_REPORT_MAX_JSON);
        return -1;
    }
    r->json_bytes = plen;
    json_error_t je;
    json_t *root = json_loadb(plain ? (const char *)plain : (const char *)data, plen,
                              JSON_REJECT_DUPLICATES, &je);
    free(plain);
    if (!root) {
        /* je.text is jansson's words; it may quote a byte of the file, so
         * the caller escapes err like any text from the report. */
        snprintf(err, errlen, "not valid JSON (line %d, column %d): %s", je.line, je.column, je.text);
        return -1;
    }
    json_t *pols = json_object_get(root, "policies");
    if (!json_is_object(root) || !json_is_array(pols)) {
        json_decref(root);
        snprintf(err, errlen, "not a TLS-RPT report: no \"policies\" array (RFC 8460 section 4.4)");
        return -1;
    }
    rr_str(r, root, "organization-name", r->org, sizeof r->org, "report", 1);
    rr_str(r, root, "contact-info", r->contact, sizeof r->contact, "report", 0);
    rr_str(r, root, "report-id", r->report_id, sizeof r->report_id, "report", 1);
    json_t *dr = json_object_get(root, "date-range");
    if (json_is_object(dr)) {
        rr_str(r, dr, "start-datetime", r->start, sizeof r->start, "date-range", 1);
        rr_str(r, dr, "end-datetime", r->end, sizeof r->end, "date-range", 1);
    } else {
        rr_problem(r, "%s: no \"%s\" object", "report", "date-range");
    }
    size_t i;
    json_t *v;
    int rc = 0;
    json_array_foreach(pols, i, v) {
        r->n_pol_total++;
        if (r->n_pol >= TLSRPT_REPORT_MAX_POLICIES)
            continue;
        if (!json_is_object(v)) {
            rr_problem(r, "policies: an entry is not an object");
            continue;
        }
        if (rr_policy(r, v, &r->pol[r->n_pol++]) != 0) {
            rc = -1;
            snprintf(err, errlen, "out of memory");
            break;
        }
    }
    json_decref(root);
    if (rc)
        tlsrpt_report_free(r);
    return rc;
}

int tlsrpt_report_load(const char *path, struct tlsrpt_report *r, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        snprintf(err, errlen, "is a folder");
        return -1;
    }
    unsigned char *buf = malloc(TLSRPT_REPORT_MAX_FILE + 1);
    if (!buf) {
        fclose(f);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t n = fread(buf, 1, TLSRPT_REPORT_MAX_FILE + 1, f);
    int rerr = ferror(f);
    fclose(f);
    int rc = -1;
    if (rerr)
        snprintf(err, errlen, "read error");
    else if (n > TLSRPT_REPORT_MAX_FILE)
        snprintf(err, errlen, "over %u bytes: not a TLS-RPT report a sender would mail",
                 TLSRPT_REPORT_MAX_FILE);
    else if (n == 0)
        snprintf(err, errlen, "empty file");
    else
        rc = tlsrpt_report_parse(buf, n, r, err, errlen);
    free(buf);
    return rc;
}

void tlsrpt_report_free(struct tlsrpt_report *r)
{
    for (int i = 0; i < r->n_pol; i++) {
        free(r->pol[i].fail);
        r->pol[i].fail = NULL;
    }
}
