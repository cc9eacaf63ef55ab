/*
 * core.h - the one header a front end includes.
 *
 * The engine probes one SMTP receiver step by step: RESOLVE, CONNECT, BANNER,
 * EHLO, STARTTLS, HANDSHAKE, CHAIN, EHLO2, QUIT.  It never blocks unless asked
 * to (engine_run), never prints, and never includes curses or readline: it
 * appends to a transcript and to a bounded event queue that the front end
 * drains after each call.
 *
 * Ownership: every pointer returned by an engine_* accessor is owned by the
 * engine and stays valid until the next call that mutates the engine
 * (engine_step, engine_restart, engine_set, engine_free ...).  Strings in the
 * fact structures are raw bytes from the network, NUL-terminated but NOT
 * escaped: every output path must pass them through mxs_escape() (esc.h).
 */
#ifndef MXS_CORE_H
#define MXS_CORE_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define MXS_VERSION "0.1.0"

/* ---- Steps ------------------------------------------------------------ */

enum mxs_step {
    MXS_STEP_RESOLVE = 0,
    MXS_STEP_CONNECT,
    MXS_STEP_BANNER,
    MXS_STEP_EHLO,
    MXS_STEP_STARTTLS,
    MXS_STEP_HANDSHAKE,
    MXS_STEP_CHAIN,
    MXS_STEP_EHLO2,
    MXS_STEP_QUIT,
    MXS_STEP_COUNT,
    MXS_STEP_NONE = -1 /* records not tied to a step (notes, commands) */
};

enum mxs_step_state {
    MXS_ST_PENDING = 0,
    MXS_ST_RUNNING,
    MXS_ST_OK,
    MXS_ST_WARN,
    MXS_ST_FAIL,
    MXS_ST_SKIPPED,
    MXS_ST_CANCELLED
};

const char *mxs_step_name(enum mxs_step s);       /* "RESOLVE" ...; "-" for NONE */
const char *mxs_step_state_name(enum mxs_step_state s); /* "pending", "ok" ... */
int mxs_step_state_from_name(const char *name);          /* exact; -1 if unknown */
/* Parse a step name, case-insensitive ("ehlo2"); -1 if unknown. */
int mxs_step_from_name(const char *name);

/* ---- Settings --------------------------------------------------------- */

enum mxs_sni_mode { MXS_SNI_MXHOST = 0, MXS_SNI_CUSTOM, MXS_SNI_NONE };

/* TLS versions as "major*10+minor" of the TLS name: 10, 11, 12, 13. */
#define MXS_TLS_ANY 0

struct mxs_settings {
    char target[256];        /* domain (MX lookup) or host (target_is_host)  */
    int target_is_host;      /* --host: skip the MX lookup                   */
    uint16_t port;           /* 25 by default, 465 with tls_on_connect       */
    uint16_t tlsa_port;      /* TLSA at _PORT._tcp; 0: the port probed       */
    char connect_addr[64];   /* --connect: pin the address (literal IP)      */
    int family;              /* 0 any, 4 or 6                                */
    int tls_on_connect;      /* implicit TLS (465): skip STARTTLS            */
    char ehlo_name[256];     /* default: the machine's FQDN                  */
    enum mxs_sni_mode sni_mode;
    char sni[256];           /* with MXS_SNI_CUSTOM                          */
    int tls_min, tls_max;    /* 12/13, MXS_TLS_ANY = library default         */
    char cafile[1024];       /* empty: system bundle                         */
    char client_cert[1024], client_key[1024];
    char expect_fp[65];      /* SHA-1 (40 hex) or SHA-256 (64 hex) thumbprint */
    char resolver[128];      /* "ADDR[@PORT]", empty: resolv.conf            */
    char trust_anchor[1024]; /* DNSSEC anchor file; empty: Debian root key   */
    char unbound_conf[1024]; /* extra libunbound config file (tests, labs)   */
    int timeout_ms[MXS_STEP_COUNT]; /* per whole stage                       */
    int expiry_warn_days;    /* cert-expiring-soon threshold (30)            */
    int mx_index;            /* which MX to probe (-1: first that answers)   */
    int addr_index;          /* which address of that MX (-1: in order)      */
    int stop_after;          /* run no step after this one (-1: to the end)  */
};

/* Defaults: port 25, timeouts (RESOLVE 10 s, CONNECT 10 s, BANNER 60 s, EHLO
 * 30 s, STARTTLS 30 s, HANDSHAKE 30 s, CHAIN 5 s, EHLO2 30 s, QUIT 5 s). */
void mxs_settings_init(struct mxs_settings *s);

/* Set one setting by its command-line name ("ehlo", "sni", "tls-min",
 * "timeout-banner", ...).  Returns 0, or -1 with a reason in err. */
int mxs_settings_set(struct mxs_settings *s, const char *key, const char *value,
                     char *err, size_t errlen);
/* Name table for completion and help: NULL-terminated. */
extern const char *const mxs_setting_names[];
/* Current value of a setting as text (for `set` without value). */
int mxs_settings_get(const struct mxs_settings *s, const char *key, char *out,
                     size_t outlen);

/* ---- Facts ------------------------------------------------------------ */

enum mxs_dnssec { MXS_DNSSEC_UNKNOWN = 0, MXS_DNSSEC_INSECURE, MXS_DNSSEC_SECURE,
                  MXS_DNSSEC_BOGUS };
const char *mxs_dnssec_name(enum mxs_dnssec d); /* "insecure" ... */

enum mxs_dns_rcode { MXS_DNS_OK = 0, MXS_DNS_NODATA, MXS_DNS_NXDOMAIN,
                     MXS_DNS_SERVFAIL, MXS_DNS_TIMEOUT, MXS_DNS_ERROR };
const char *mxs_dns_rcode_name(enum mxs_dns_rcode r);

#define MXS_MAX_MX 16
#define MXS_MAX_ADDR 16
#define MXS_MAX_TLSA 16

struct mxs_dns_answer {          /* the status of one query */
    enum mxs_dns_rcode rcode;
    enum mxs_dnssec dnssec;
    char why_bogus[256];
};

struct mxs_addr {
    int family;                  /* 4 or 6 */
    char text[64];               /* literal */
};

struct mxs_tlsa {
    uint8_t usage, selector, mtype;
    size_t len;
    uint8_t data[64];            /* SHA-512 at most; full certs truncated */
    int truncated;
};

struct mxs_mx {
    uint16_t preference;
    char host[256];
    struct mxs_addr addr[MXS_MAX_ADDR];
    int n_addr;
    struct mxs_dns_answer a, aaaa, tlsa;
    struct mxs_tlsa tlsa_rr[MXS_MAX_TLSA];
    int n_tlsa;
};

struct mxs_dns_facts {
    int done;
    struct mxs_dns_answer mx_answer;
    int implicit_mx;             /* no MX: the domain itself (RFC 5321 5.1)  */
    int null_mx;                 /* "0 ." (RFC 7505)                         */
    struct mxs_mx mx[MXS_MAX_MX];
    int n_mx;
};

enum mxs_conn_error { MXS_CONN_OK = 0, MXS_CONN_REFUSED, MXS_CONN_TIMEOUT,
                      MXS_CONN_UNREACHABLE, MXS_CONN_OTHER };
/* "refused", "timeout", "unreachable", "other"; NULL for OK (or unknown). */
const char *mxs_conn_error_name(enum mxs_conn_error c);

struct mxs_connect_facts {
    int done;
    int mx_index, addr_index;    /* what was used                            */
    struct mxs_addr addr;
    uint16_t port;
    enum mxs_conn_error error;
    int err_no;                  /* errno of the last failure                */
    int attempts;
    int64_t elapsed_ms;
};

#define MXS_REPLY_MAX_LINES 64
#define MXS_REPLY_MAX_TEXT 4096

/* One complete SMTP reply. */
struct mxs_reply {
    int code;                    /* 0: none                                  */
    char enhanced[16];           /* "5.7.0" when present                     */
    int n_lines;
    char text[MXS_REPLY_MAX_TEXT]; /* lines joined by '\n', codes stripped    */
    int truncated;               /* lines or bytes dropped                   */
    int mixed_codes;             /* continuation lines with another code     */
};

/* EHLO capabilities, parsed. */
#define MXS_MAX_CAPS 32
struct mxs_caps {
    int n;
    char name[MXS_MAX_CAPS][32]; /* upper-cased keyword ("STARTTLS", "SIZE") */
    char args[MXS_MAX_CAPS][96]; /* what follows the keyword                 */
    int starttls, pipelining, chunking, smtputf8, requiretls, eightbitmime;
    long size;                   /* -1 when not advertised                   */
    int masked;                  /* keywords like XXXXXXXA or ****            */
};

struct mxs_smtp_facts {
    struct mxs_reply banner;
    int64_t banner_ms;           /* connect to greeting complete             */
    struct mxs_reply ehlo;
    int used_helo;               /* EHLO was refused, HELO used              */
    struct mxs_reply helo;
    struct mxs_caps caps;
    struct mxs_reply starttls;
    size_t leftover_plain;       /* bytes after "220 Ready": discarded       */
    struct mxs_reply ehlo2;
    struct mxs_caps caps2;
    int caps_changed;            /* caps2 differ from caps (besides STARTTLS)*/
};

struct mxs_tls_facts {
    int attempted, ok;
    int version;                 /* 12, 13 (0 unknown)                       */
    char version_name[16];       /* "TLSv1.3"                                */
    char cipher[96];
    char group[32];              /* "x25519", "secp256r1" ... from the raw records */
    int server_hello_version;    /* from the raw ServerHello: 10,11,12,13     */
    int alert_received;          /* -1 none, else the description number     */
    char alert_name[48];
    int alert_sent;              /* -1 none */
    char alert_sent_name[48];
    int cert_requested;          /* the server asked for a client certificate */
    int client_cert_sent;
    int mbedtls_error;           /* last error code (negative)               */
    char error[256];             /* mbedtls_strerror + our words             */
    size_t bytes_in, bytes_out;
    int64_t handshake_ms;
    char sni_sent[256];          /* empty: none                              */
};

/* Our verify flags, independent of the TLS library. */
enum {
    MXS_V_EXPIRED      = 1u << 0,
    MXS_V_FUTURE       = 1u << 1,
    MXS_V_NAME         = 1u << 2,  /* host name mismatch (leaf)              */
    MXS_V_NOT_TRUSTED  = 1u << 3,  /* no path to a trusted root              */
    MXS_V_REVOKED      = 1u << 4,
    MXS_V_KEY_USAGE    = 1u << 5,
    MXS_V_EXT_KEY_USAGE= 1u << 6,
    MXS_V_BAD_MD       = 1u << 7,  /* weak signature hash                    */
    MXS_V_BAD_PK       = 1u << 8,
    MXS_V_BAD_KEY      = 1u << 9,  /* key too short / bad curve              */
    MXS_V_MISSING      = 1u << 10,
    MXS_V_SKIPPED      = 1u << 11,
    MXS_V_OTHER        = 1u << 12
};
/* Words for one flag bit ("expired"); NULL for an unknown bit. */
const char *mxs_verify_flag_name(unsigned bit);
/* The bit of a flag name (len bytes, exact); 0 if unknown. */
unsigned mxs_verify_flag_from_name(const char *name, size_t len);
/* The same bit in plain English ("the certificate has expired"), for
 * findings and the detail pane; NULL for an unknown bit or 0. */
const char *mxs_verify_flag_words(unsigned bit);
/* All set bits as "expired, not-trusted"; "ok" when 0. */
size_t mxs_verify_flags_text(unsigned flags, char *out, size_t outlen);

#define MXS_MAX_CHAIN 16
#define MXS_CERT_MAX_SAN 64

enum { MXS_EKU_SERVER = 1, MXS_EKU_CLIENT = 2, MXS_EKU_OTHER = 4 };

/* The plain view of one certificate (x509view.h fills it). */
struct mxs_cert {
    int depth;                   /* 0 = leaf, as sent by the server          */
    char subject[512];
    char issuer[512];
    char cn[256];
    char san[MXS_CERT_MAX_SAN][256]; /* dNSName (and IP) entries, in order   */
    int n_san;                   /* stored                                   */
    int n_san_total;             /* in the certificate                       */
    char serial[132];            /* uppercase hex                            */
    int64_t not_before, not_after; /* unix time, UTC                         */
    int days_left;               /* floor((not_after - now) / 86400)         */
    char key_type[16];           /* "RSA", "EC"                              */
    int key_bits;
    char curve[24];
    char sig_alg[48];            /* "RSA with SHA-256", "ECDSA with SHA-256" */
    int sig_weak;                /* MD5/SHA-1 signature                      */
    char sha1[41], sha256[65];   /* uppercase hex, no separators             */
    char spki_sha256[65];        /* SHA-256 of SubjectPublicKeyInfo (TLSA x 1 1) */
    unsigned eku;                /* MXS_EKU_* bits; 0: no EKU extension      */
    int has_eku;
    int has_basic_constraints, is_ca, max_pathlen;
    int self_issued;             /* subject == issuer                        */
    unsigned verify_flags;       /* MXS_V_* at this depth                    */
    unsigned char *der;          /* owned by the engine                      */
    size_t der_len;
};

struct mxs_chain_facts {
    int n;                       /* certificates sent                        */
    int n_total;                 /* sent, when more than MXS_MAX_CHAIN       */
    struct mxs_cert cert[MXS_MAX_CHAIN];
    unsigned verify_result;      /* MXS_V_* of the whole verification        */
    int name_matches_mx;         /* leaf covers the MX host name             */
    int name_matches_domain;     /* leaf covers the mail domain              */
    char name_checked[256];      /* what the leaf was checked against        */
    int trusted;                 /* a path to a trusted root was built       */
    int fp_expected, fp_match;   /* --expect-fingerprint                     */
    /* DANE (RFC 7672): the MX host's TLSA records against the chain. */
    int dane_checked;            /* TLSA records were there to match         */
    int dane_usable;             /* DANE-TA(2)/DANE-EE(3) records we can use */
    int dane_match;              /* a usable record matched                  */
    int dane_match_depth;        /* the certificate it matched, -1           */
    int dane_match_rr;           /* the TLSA record (index), -1              */
    char dane_detail[256];       /* why not, in words                        */
};

/* ---- Diagnosis -------------------------------------------------------- */

enum mxs_severity { MXS_SEV_INFO = 0, MXS_SEV_WARNING, MXS_SEV_ERROR };
const char *mxs_severity_name(enum mxs_severity s);
int mxs_severity_from_name(const char *name);       /* exact; -1 if unknown */

struct mxs_finding {
    char id[40];                 /* stable: "cert-expired"                   */
    enum mxs_severity severity;
    enum mxs_step step;
    int cert_depth;              /* -1 when not about a certificate          */
    char message[512];           /* plain words                              */
    char evidence[1024];         /* reply lines, alert, flags, dates         */
    char advice[1024];           /* what to do                               */
};

enum mxs_policy { MXS_POL_OPPORTUNISTIC = 0, MXS_POL_REQUIRED, MXS_POL_VERIFIED,
                  MXS_POL_DANE, MXS_POL_COUNT };
enum mxs_outcome { MXS_OUT_ENCRYPTED = 0, MXS_OUT_CLEAR, MXS_OUT_NOT_DELIVERED,
                   MXS_OUT_NOT_EVALUATED };
const char *mxs_policy_name(enum mxs_policy p);   /* "opportunistic" ...   */
const char *mxs_outcome_name(enum mxs_outcome o); /* "delivered-encrypted" */
int mxs_policy_from_name(const char *name);        /* exact; -1 if unknown */
int mxs_outcome_from_name(const char *name);       /* exact; -1 if unknown */

struct mxs_verdict {
    enum mxs_policy policy;
    enum mxs_outcome outcome;
    enum mxs_step step;          /* first failing step, NONE if delivered    */
    char finding[40];            /* id of the finding behind it              */
    char words[256];             /* one line in plain words                  */
};

#define MXS_MAX_FINDINGS 128

/* ---- Transcript ------------------------------------------------------- */

enum mxs_rec_kind {
    MXS_REC_STEP = 0,  /* step started/ended: text "EHLO ok 12 ms"           */
    MXS_REC_DNS,       /* one answer, text                                   */
    MXS_REC_SMTP_IN,   /* one reply line as received (no CRLF)               */
    MXS_REC_SMTP_OUT,  /* one command line as sent (no CRLF)                 */
    MXS_REC_TLS_IN,    /* one raw TLS record (binary)                        */
    MXS_REC_TLS_OUT,
    MXS_REC_TLS_INFO,  /* handshake summary, text                            */
    MXS_REC_CERT,      /* one certificate, DER                               */
    MXS_REC_FINDING,   /* "severity id: message"                             */
    MXS_REC_NOTE,
    MXS_REC_ERROR,
    MXS_REC_KIND_COUNT
};
const char *mxs_rec_kind_name(enum mxs_rec_kind k); /* "smtp-in" ...        */
int mxs_rec_kind_from_name(const char *name);

struct mxs_record {
    uint32_t seq;
    int64_t t_us;                /* since the session started (monotonic)    */
    enum mxs_step step;
    enum mxs_rec_kind kind;
    size_t len;
    unsigned char *data;         /* len bytes + a NUL; owned by transcript   */
};

/* ---- Events ----------------------------------------------------------- */

enum mxs_event_type {
    MXS_EV_STEP_STATE = 0,       /* step changed state                       */
    MXS_EV_RECORD,               /* a transcript record was appended         */
    MXS_EV_FACTS,                /* facts changed (chain decoded, DNS...)    */
    MXS_EV_FINDINGS,             /* diagnosis recomputed                     */
    MXS_EV_FINISHED,             /* nothing left to run                      */
    MXS_EV_OVERFLOW              /* events were dropped (queue bound)        */
};

struct mxs_event {
    enum mxs_event_type type;
    enum mxs_step step;
    enum mxs_step_state state;
    uint32_t seq;                /* record seq for MXS_EV_RECORD             */
};

/* ---- Engine ----------------------------------------------------------- */

struct engine;

/* Result of engine_step(). */
enum mxs_progress {
    MXS_PROG_WAITING = 0,        /* a step runs; poll engine_pollfds()       */
    MXS_PROG_STEP_DONE,          /* one step ended (see its state)           */
    MXS_PROG_FINISHED            /* nothing left to run                      */
};

struct engine *engine_new(const struct mxs_settings *s);
void engine_free(struct engine *e);

/* Start the next step, or advance the running one as far as it can go
 * without blocking.  Exactly one step is started per call. */
enum mxs_progress engine_step(struct engine *e);
/* Run to the end (or stop_after), blocking in poll(): batch and tests. */
void engine_run(struct engine *e);
/* Stop the running step now; it ends CANCELLED, the connection is closed. */
void engine_cancel(struct engine *e);
/* Forget everything after RESOLVE (or everything, from_resolve=1) and close
 * the connection: the next engine_step() starts again. */
void engine_restart(struct engine *e, int from_resolve);
/* Re-run a step: reconnects and replays the earlier steps as needed. */
int engine_rerun_from(struct engine *e, enum mxs_step s);

/* fds to poll while a step runs; returns how many were written (<= max). */
int engine_pollfds(struct engine *e, struct pollfd *fds, int max);
/* Milliseconds until the running step's deadline (-1: nothing running). */
int engine_timeout_ms(const struct engine *e);

/* Settings: a copy; changes apply to the next step that uses them. */
const struct mxs_settings *engine_settings(const struct engine *e);
int engine_set(struct engine *e, const char *key, const char *value, char *err,
               size_t errlen);

/* State. */
enum mxs_step engine_current_step(const struct engine *e); /* running or next */
enum mxs_step_state engine_step_state(const struct engine *e, enum mxs_step s);
int64_t engine_step_elapsed_ms(const struct engine *e, enum mxs_step s);
int engine_finished(const struct engine *e);
int engine_is_replay(const struct engine *e);   /* loaded from a file: read-only */
int engine_connected(const struct engine *e);   /* a live session exists */
int engine_tls_active(const struct engine *e);

/* Facts. */
const struct mxs_dns_facts *engine_dns(const struct engine *e);
const struct mxs_connect_facts *engine_connection(const struct engine *e);
const struct mxs_smtp_facts *engine_smtp(const struct engine *e);
const struct mxs_tls_facts *engine_tls(const struct engine *e);
const struct mxs_chain_facts *engine_chain(const struct engine *e);
const struct mxs_finding *engine_findings(const struct engine *e, int *n);
const struct mxs_verdict *engine_verdicts(const struct engine *e); /* [MXS_POL_COUNT] */
/* The outcome the exit code reports: the step that failed, NONE if all ok. */
enum mxs_step engine_failed_step(const struct engine *e);

/* Transcript. */
size_t engine_record_count(const struct engine *e);
const struct mxs_record *engine_record(const struct engine *e, size_t i);
time_t engine_started_at(const struct engine *e); /* wall clock, for saves */

/* Events: returns 1 and fills ev, or 0 when the queue is empty. */
int engine_next_event(struct engine *e, struct mxs_event *ev);

/* Send a raw SMTP command over the live session (plaintext or TLS) and wait
 * for its reply through engine_step(); returns -1 with err when no session. */
int engine_send(struct engine *e, const char *line, char *err, size_t errlen);

/* Append a NOTE record (front ends log commands the operator typed). */
void engine_note(struct engine *e, enum mxs_rec_kind kind, const char *text);

/* Library versions, for --version. */
void mxs_library_versions(char *out, size_t outlen); /* "Mbed TLS 3.6.6" */
const char *mxs_unbound_version(void);
const char *mxs_jansson_version(void);

#endif
