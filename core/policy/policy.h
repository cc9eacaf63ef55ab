/*
 * policy.h - the domain's own TLS publications as senders read them:
 * MTA-STS (RFC 8461: the _mta-sts TXT record and the policy file) and
 * TLS-RPT (RFC 8460: the _smtp._tls TXT record).
 *
 * Pure parsers: no DNS, no HTTP, no output.  The probe engine fetches the
 * bytes (TXT answers, the HTTPS body) and hands them here; the diagnosis
 * judges the results.  Everything given to these functions is hostile:
 * every input is bounded by its length argument (never NUL-terminated),
 * every kept value is bounded, and counts past a bound are kept as totals.
 * Values copied from the input are raw bytes (an excerpt of a bad line, a
 * report URI): front ends must pass them through mxs_escape() like every
 * other network byte.  Values this module validated (an mx pattern, an id)
 * are plain ASCII by construction.
 *
 * Ownership: every struct here is a plain value the caller owns (no heap,
 * nothing to free).
 */
#ifndef MXS_POLICY_H
#define MXS_POLICY_H
#include <stddef.h>

/* ---- TXT record selection (RFC 8461 §3.1, RFC 8460 §3) -----------------
 * Both RFCs: records that do not begin with the version tag are discarded;
 * if the number left is not exactly one, the domain has no policy. */
enum policy_txt_pick { POLICY_TXT_NONE = 0, POLICY_TXT_ONE, POLICY_TXT_SEVERAL };
/* prefix: "v=STSv1" or "v=TLSRPTv1"; a record "begins with" it when the
 * prefix is followed by ';', whitespace or the end.  *index: the one
 * record (POLICY_TXT_ONE), else -1.  *others: records discarded. */
enum policy_txt_pick policy_txt_pick(const char *prefix, const char *const *rec,
                                     const size_t *len, int n, int *index, int *others);

/* ---- MTA-STS TXT record (RFC 8461 §3.1) -------------------------------- */
struct sts_txt {
    int valid;             /* v=STSv1 first, one valid id, fields well formed */
    char id[33];           /* 1*32 ALPHA/DIGIT (valid records only)            */
    int n_ext;             /* extension fields seen (ignored, as §3.1 says)    */
    char error[160];       /* why invalid: our words, no input bytes           */
};
int sts_txt_parse(const char *rec, size_t len, struct sts_txt *out); /* 0 valid, -1 */

/* ---- MTA-STS policy file (RFC 8461 §3.2) ------------------------------- */
#define STS_POLICY_MAX 65536          /* §3.3: senders cap the body at 64 KiB */
#define STS_MAX_AGE_MAX 31557600L     /* §3.2: one year                      */
#define STS_MAX_MX 32                 /* patterns kept; more are counted      */
#define STS_MAX_PROBLEMS 16           /* problems kept; more are counted      */
#define STS_PATTERN_MAX 256

enum sts_mode { STS_MODE_UNSET = 0, STS_MODE_ENFORCE, STS_MODE_TESTING, STS_MODE_NONE };

struct sts_problem {
    int line;              /* 1-based line of the policy; 0: the whole file   */
    int fatal;             /* 1: the policy is invalid for senders            */
    char what[120];        /* our words                                       */
    unsigned char raw[64]; /* the start of the offending line, RAW bytes      */
    size_t raw_len;
};

struct sts_policy {
    int valid;             /* usable by a sender: no fatal problem            */
    int version_ok;        /* "version: STSv1" present                        */
    enum sts_mode mode;
    long max_age;          /* -1: absent or bad                               */
    int n_mx, n_mx_total;  /* mx patterns kept / seen                         */
    char mx[STS_MAX_MX][STS_PATTERN_MAX];
    int lines;             /* lines in the file                               */
    int crlf, lf;          /* line ends seen of each kind                     */
    int n_problems, n_problems_total;
    struct sts_problem problem[STS_MAX_PROBLEMS];
};
/* Parse at most STS_POLICY_MAX bytes of body (the caller reports a larger
 * body: senders refuse it).  Returns p->valid ? 0 : -1. */
int sts_policy_parse(const char *body, size_t len, struct sts_policy *p);

/* 1 if the MX host name matches the pattern (RFC 8461 §4.1): case-
 * insensitive, a trailing dot on the host ignored, "*." covers exactly one
 * whole leftmost label ("*.example.com" covers "mx.example.com", not
 * "a.mx.example.com" nor "example.com"). */
int sts_mx_match(const char *pattern, const char *host);
/* Index of the first pattern of p that host matches, or -1. */
int sts_policy_match(const struct sts_policy *p, const char *host);

const char *sts_mode_name(enum sts_mode m);   /* "enforce", ... "(unset)" */

/* ---- TLS-RPT TXT record (RFC 8460 §3) ---------------------------------- */
#define TLSRPT_MAX_RUA 8
enum tlsrpt_uri_kind { TLSRPT_URI_OTHER = 0, TLSRPT_URI_MAILTO, TLSRPT_URI_HTTPS };
struct tlsrpt_txt {
    int valid;             /* v=TLSRPTv1 first, at least one rua URI          */
    int n_rua, n_rua_total;
    struct {
        enum tlsrpt_uri_kind kind;
        int ok;            /* well formed for its scheme                      */
        unsigned char uri[256]; /* RAW bytes of the URI (escape on output)    */
        size_t len;        /* bytes kept                                      */
        size_t full_len;   /* bytes in the record                             */
    } rua[TLSRPT_MAX_RUA];
    int n_ext;
    char error[160];       /* our words                                       */
};
int tlsrpt_txt_parse(const char *rec, size_t len, struct tlsrpt_txt *out); /* 0 valid, -1 */
const char *tlsrpt_uri_kind_name(enum tlsrpt_uri_kind k); /* "mailto", "https", "other" */

#endif
