/*
 * tlsrpt_report.h - an aggregate TLS-RPT report (RFC 8460 §4.4), as a
 * sender mails it to the domain: JSON, usually gzip-compressed.
 *
 * The file is hostile (it came by mail from anyone): its size is capped
 * before and after decompression (a gzip bomb stops at the cap), JSON depth
 * is bounded by jansson's parser, duplicate keys are refused, and every kept
 * list and string is bounded with the totals counted.  Strings copied from
 * the report are RAW bytes (NUL-free, as JSON strings are decoded by
 * jansson): escape them at output.
 *
 * Ownership: tlsrpt_report_parse/_load fill a caller-owned struct (allocate
 * it: it is large); tlsrpt_report_free() releases what they allocated
 * inside it, not the struct.
 */
#ifndef MXS_TLSRPT_REPORT_H
#define MXS_TLSRPT_REPORT_H
#include <stddef.h>

#define TLSRPT_REPORT_MAX_FILE   (16u << 20)  /* bytes read from the file           */
#define TLSRPT_REPORT_MAX_JSON   (32u << 20)  /* bytes after gunzip                 */
#define TLSRPT_REPORT_MAX_POLICIES 64
#define TLSRPT_REPORT_MAX_FAILURES 256        /* per policy                         */
#define TLSRPT_REPORT_MAX_LINES 16            /* policy-string / mx-host kept       */

struct tlsrpt_failure {
    char result_type[64];
    int type_known;            /* one of the 11 result types of RFC 8460 §4.3   */
    char sending_ip[64];
    char receiving_mx[256];
    char receiving_ip[64];
    long long count;           /* failed-session-count, -1 when absent          */
    char reason_code[128];     /* failure-reason-code                           */
    char info[256];            /* additional-information                        */
};

struct tlsrpt_rpolicy {
    char type[32];             /* "sts", "tlsa", "no-policy-found"              */
    char domain[256];          /* policy-domain                                 */
    int n_strings, n_strings_total;
    char strings[TLSRPT_REPORT_MAX_LINES][256];
    int n_mx, n_mx_total;
    char mx[TLSRPT_REPORT_MAX_LINES][256];
    long long ok_sessions, failed_sessions;   /* -1 when absent             */
    int n_fail, n_fail_total;
    struct tlsrpt_failure *fail;              /* heap, n_fail entries       */
};

struct tlsrpt_report {
    char org[256], contact[256], report_id[256], start[64], end[64];
    int gzipped;
    size_t file_bytes, json_bytes;
    int n_pol, n_pol_total;
    struct tlsrpt_rpolicy pol[TLSRPT_REPORT_MAX_POLICIES];
    int n_problems;            /* format problems (missing/wrong-typed fields)  */
    char problem[8][160];      /* the first ones, our words                     */
};

/* Parse a report from memory (gzip recognised by its magic bytes).  0, or
 * -1 with err saying what is wrong in plain words (bad gzip, over the cap,
 * not JSON at line L column C, too deep, not a TLS-RPT report). */
int tlsrpt_report_parse(const unsigned char *data, size_t len, struct tlsrpt_report *r,
                        char *err, size_t errlen);
/* Read PATH (at most TLSRPT_REPORT_MAX_FILE bytes) and parse it; err does
 * not repeat the path (the caller names it). */
int tlsrpt_report_load(const char *path, struct tlsrpt_report *r, char *err, size_t errlen);
void tlsrpt_report_free(struct tlsrpt_report *r);
/* 1 for a result type RFC 8460 §4.3 defines. */
int tlsrpt_result_type_known(const char *t);

#endif
