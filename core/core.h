/*
 * core.h - the one header a front end includes: the whole public API of the
 * client library (libmxbase, libmxdiag, libmxprobe, libmxsession, libmxcmd)
 * and the interface of the built-in lab (liblab.a).  tui/ includes no other
 * core header (make check-layering fails if it does); the headers in the
 * core/ folders are internal to core.  Groups below, lowest module first,
 * each headed by one "---- Group (module files)" line.
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
 * escaped: every output path must pass them through mxs_escape() (below).
 * Nothing here exposes a library type (mbedTLS, jansson, libunbound).
 */
#ifndef MXS_CORE_H
#define MXS_CORE_H

#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define MXS_VERSION "0.1.0"

/* ---- Steps (base/names.c) ---------------------------------------------- */

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
    /* Appended last so the indices (and the JSON) of the others stay; it
     * RUNS right after RESOLVE: the order tables of engine.c and
     * mxs_step_order() below say where each step runs and is shown. */
    MXS_STEP_POLICY,           /* MTA-STS and TLS-RPT: the domain's policy  */
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
/* The step at position i (0 .. MXS_STEP_COUNT-1) of the plain run order
 * (RESOLVE, POLICY, CONNECT ... QUIT): reports and panes list steps so. */
enum mxs_step mxs_step_order(int i);
/* Its position in that order (sorting findings by step). */
int mxs_step_rank(enum mxs_step s);

/* ---- Settings (base/settings.c) ---------------------------------------- */

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
    int dual_cert;           /* also handshake offering only RSA (1)         */
    int warn_ok;             /* warnings exit 0, not MXS_EXIT_WARNINGS (0)   */
    int mx_index;            /* which MX to probe (-1: first that answers)   */
    int addr_index;          /* which address of that MX (-1: in order)      */
    int stop_after;          /* run no step after this one (-1: to the end)  */
    int port_given;          /* set by --port, HOST:PORT, ADDR:PORT: then
                                --tls-on-connect keeps the port            */
    int dane_days;           /* --days N: are the TLSA records still
                                satisfied N days from now? (0: not asked)  */
    uint16_t policy_port;    /* POLICY: the port the MTA-STS policy fetch
                                connects to (443; another for a staging
                                policy host or the lab)                    */
};

/* Defaults: port 25, timeouts (RESOLVE 10 s, CONNECT 10 s, BANNER 60 s, EHLO
 * 30 s, STARTTLS 30 s, HANDSHAKE 30 s, CHAIN 5 s, EHLO2 30 s, QUIT 5 s). */
void mxs_settings_init(struct mxs_settings *s);

/* The setting table (core/base/settings.c): ONE row per setting drives
 * `--NAME VALUE` on the command line (tui/options.c builds getopt's table
 * and --help from it), `set`/`show settings`/completion/`help set` in the
 * console and scripts, the transcript's "set NAME VALUE" notes and the
 * JSON's "settings".  Adding a setting = a field in struct mxs_settings,
 * one row, its use (and an example in tests/unit/test_settings.c, which
 * checks every row).  The text fields are for people and front ends; the
 * rest is private to settings.c. */
enum mxs_setting_flag {
    MXS_SETF_NOCLI    = 1 << 0, /* console and scripts only: no --NAME        */
    MXS_SETF_SWITCH   = 1 << 1, /* --NAME takes no value: it sets `cli_value` */
    MXS_SETF_FOLDED   = 1 << 2, /* --help shows it in the row above's line     */
    MXS_SETF_FILE     = 1 << 3, /* the value is a file name (completion)       */
    MXS_SETF_MXHOST   = 1 << 4, /* complete with the MX host names             */
    MXS_SETF_MXINDEX  = 1 << 5, /* complete with the MX indices                */
};

/* A word a setting accepts and the number stored for it ("ipv4" = 4). */
struct mxs_setting_choice { const char *word; int value; };

struct mxs_setting_def;
typedef int (*mxs_setting_set_fn)(struct mxs_settings *s, const struct mxs_setting_def *d,
                                  const char *v, char *err, size_t errlen);
typedef void (*mxs_setting_get_fn)(const struct mxs_settings *s, const struct mxs_setting_def *d,
                                   char *out, size_t len);

struct mxs_setting_def {
    const char *name;      /* `set NAME`, `--NAME`                           */
    const char *arg;       /* the value in help: "N", "FILE", "HOST[:PORT]"  */
    const char *range;     /* what is accepted, in words ("1-65535 or auto") */
    const char *words;     /* completion words for the value, or NULL        */
    const char *help;      /* one line for --help                            */
    const char *synopsis;  /* --help's left column when not "--NAME ARG"     */
    const char *group;     /* --help section that starts at this row, or NULL */
    const char *json;      /* where --json also writes it ("target.port")    */
    const char *cli_value; /* MXS_SETF_SWITCH: the value --NAME sets         */
    unsigned flags;        /* enum mxs_setting_flag                          */
    /* private to settings.c: how the field is parsed and shown */
    mxs_setting_set_fn set;
    mxs_setting_get_fn get;
    size_t off, size;      /* the field in struct mxs_settings               */
    long lo, hi;           /* numeric range; for per-step timeouts lo = step */
    const char *empty;     /* shown when a text field is empty               */
    const struct mxs_setting_choice *choices; /* NULL-terminated; first = shown */
};

/* NULL-terminated (name == NULL), in --help and `show settings` order. */
extern const struct mxs_setting_def mxs_setting_table[];
/* The row named `name` (case does not matter: "timeout-BANNER"), or NULL. */
const struct mxs_setting_def *mxs_setting_find(const char *name);

/* Set one setting by its name ("ehlo", "sni", "tls-min", "timeout-banner",
 * ...).  Returns 0, or -1 with a reason in err. */
int mxs_settings_set(struct mxs_settings *s, const char *key, const char *value,
                     char *err, size_t errlen);
/* Current value of a setting as text (for `set` without value). */
int mxs_settings_get(const struct mxs_settings *s, const char *key, char *out,
                     size_t outlen);
/* Operator words for a value where the value alone is jargon ("mx" of sni:
 * "SNI: the MX host name"), NULL where the value speaks for itself.  Shown
 * next to the value (`show settings`, `set`); what is saved stays the value. */
const char *mxs_setting_value_words(const char *key, const char *value);

/* ---- Facts (probe/: what the engine learnt) ---------------------------- */

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
    int64_t ms;                  /* sent to answered, whole ms (0: < 1 ms)   */
    int bytes;                   /* size of the answer message (0: not asked,*/
                                 /* no answer, or an old saved session)      */
};

/* The CNAME chain an MX host's address lookup went through, walked hop by
 * hop (dns.c) when the answer came from another name or failed. */
#define MXS_MAX_CNAME_HOPS 16
struct mxs_cname {
    int hops;                    /* CNAME records seen (0: none)             */
    int loop;                    /* a name came back: hops ends there        */
    int too_long;                /* more than MXS_MAX_CNAME_HOPS: cut at the 17th */
    char canon[256];             /* where it ended (the loop: the name seen again) */
    char chain[600];             /* "a -> b -> c", names in presentation form, cut with "..." */
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
    int literal;                 /* an IP address as MX target: used as is  */
    struct mxs_cname cname;      /* the A/AAAA lookup's CNAME chain         */
    struct mxs_addr addr[MXS_MAX_ADDR];
    int n_addr;
    struct mxs_dns_answer a, aaaa, tlsa;
    struct mxs_tlsa tlsa_rr[MXS_MAX_TLSA];
    int n_tlsa;
    /* Where the TLSA records were asked (RFC 7672 2.2.2): at the MX host's
     * CNAME-expanded name first when its address lookup went through an
     * alias DNSSEC-securely, else (or when that has none) at the host. */
    char tlsa_name[300];         /* "_25._tcp.HOST" the records came from ("" */
                                 /* when none was asked: a literal, a load)  */
    int tlsa_expanded;           /* they came from the expanded name         */
};

/* Whether our own resolver path validates DNSSEC, asked only when an answer
 * came back bogus: a bogus answer is the partner's fault only when the
 * resolver returns the trust anchor zone's DNSKEY validated (as danecheck
 * checks the root DNSKEY).  Otherwise the resolver strips signatures or
 * cannot reach them: our side. */
enum mxs_resolver_check {
    MXS_RESCHK_NOT_ASKED = 0,    /* no bogus answer: nothing to tell apart   */
    MXS_RESCHK_VALIDATES,        /* anchor DNSKEY secure: the zone is bogus  */
    MXS_RESCHK_BROKEN            /* anchor DNSKEY not validated: our resolver*/
};

struct mxs_dns_facts {
    int done;
    struct mxs_dns_answer mx_answer;
    int implicit_mx;             /* no MX: the domain itself (RFC 5321 5.1)  */
    int null_mx;                 /* "0 ." (RFC 7505)                         */
    struct mxs_mx mx[MXS_MAX_MX];
    int n_mx;
    enum mxs_resolver_check resolver_check;
    char anchor_zone[256];       /* the trust anchor's zone ("." root)       */
    char resolver_why[768];      /* BROKEN: what the DNSKEY query returned   */
    int mx_records;              /* MX records in the answer, all of them    */
    int mx_not_kept;             /* valid ones past MXS_MAX_MX, counted only */
    int n_mx_invalid;            /* targets that are not host names: skipped */
    struct mxs_mx_invalid {      /* the first MXS_MAX_MX_INVALID of them     */
        int record;              /* 1-based position in the answer           */
        uint16_t preference;
        char host[256];          /* presentation form (\DDD escapes)          */
        char raw[256];           /* the label bytes as sent, '.' between     */
        int raw_len;             /* labels (escape at output: may hold NUL)  */
        char why[96];            /* "contains control bytes (0x1B)"          */
    } mx_invalid[4];
};
#define MXS_MAX_MX_INVALID 4

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
    char local_addr[64];         /* our address on the connection ("": unknown) */
};

#define MXS_REPLY_MAX_LINES 64
#define MXS_REPLY_MAX_TEXT 4096

/* One complete SMTP reply. */
struct mxs_reply {
    int code;                    /* 0: none                                  */
    char enhanced[16];           /* "5.7.0" when present                     */
    int n_lines;                 /* every line received (none dropped)        */
    size_t bytes;                /* every byte of them, CRLFs included        */
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
    /* TLS versions the server accepts, [0..3] = TLS 1.0 .. 1.3: 0 not known,
     * 1 accepted, -1 refused.  From our handshake (what we offered and what
     * came back) and, after a protocol_version refusal, the hand-built TLS
     * 1.0 and 1.1 ClientHellos on fresh connections (probe/side.c). */
    int version_accepted[4];
    int legacy_probed;           /* the TLS 1.0/1.1 probes ran               */
    int pss_retry;               /* ours failed on mbedTLS's RSA-PSS defect; a
                                  * TLS 1.2 retry without RSA-PSS completed */
    size_t cert_msg_bytes;       /* the server's Certificate message, from its
                                  * handshake header; 0: not seen            */
    size_t cert_msg_limit;       /* the largest our TLS library takes        */
    int refused;                 /* a certificate our TLS library could not
                                  * parse: refused_cert, its index           */
    int refused_cert;
    int refused_san;             /* in it, an iPAddress SAN entry of odd
                                  * length: refused_san_entry (index) ...    */
    int refused_san_entry;
    int refused_san_len;         /* ... of this many bytes (0 is odd too)    */
    int local_error;             /* our --cafile/--cert/--key cannot be used:
                                  * nothing was sent, error says why        */
    int key_update;              /* after the handshake the server sent a TLS
                                  * 1.3 KeyUpdate, which mbedTLS 3.6 cannot
                                  * follow (Mbed-TLS#10881): our limit       */
    int key_update_retry;        /* EHLO after TLS re-run over a TLS 1.2
                                  * session (fresh connection): 1 it gave the
                                  * evidence, -1 it failed, 0 not run       */
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
/* Days left of a certificate, the one computation every view uses (days.c):
 * floor((not_after - now) / 86400), so one second past expiry is -1. */
int mxs_days_left(int64_t not_after, int64_t now);
/* "10 days left", "1 day left", "-2 days left" (the same number, always). */
size_t mxs_days_text(int days_left, char *out, size_t outlen);
/* An exact span for evidence: "1 day 0 h 3 min", "5 h 2 min", "42 s". */
size_t mxs_duration_text(int64_t seconds, char *out, size_t outlen);
/* one for 1 and -1, many otherwise. */
const char *mxs_plural(long long n, const char *one, const char *many);

/* All set bits as "expired, not-trusted"; "ok" when 0. */
size_t mxs_verify_flags_text(unsigned flags, char *out, size_t outlen);

#define MXS_MAX_CHAIN 16
#define MXS_CERT_MAX_SAN 64

enum { MXS_EKU_SERVER = 1, MXS_EKU_CLIENT = 2, MXS_EKU_OTHER = 4 };

/* The plain view of one certificate (x509view.h fills it). */
struct mxs_cert {
    int depth;                   /* 0 = leaf, as sent by the server          */
    /* Names are raw bytes as the certificate has them (UTF-8 for BMP and
     * Universal strings), never escaped: the field holds the first
     * min(len, sizeof field - 1) bytes, NUL bytes included, then a NUL;
     * *_len is the whole name's length in bytes (0: the field is a C
     * string).  Print them with mxs_escape_name() only. */
    char subject[512];           /* "CN=..., O=..." (x509view.h)             */
    char issuer[512];
    char cn[256];
    char san[MXS_CERT_MAX_SAN][256]; /* dNSName (and IP) entries, in order   */
    size_t subject_len, issuer_len, cn_len, san_len[MXS_CERT_MAX_SAN];
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
    int path_len;                /* certificates in the path built as OpenSSL
                                  * does (issuers in any position, duplicates
                                  * skipped), leaf to trust anchor (a stored
                                  * anchor counted); 0: not known           */
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
    /* Each TLSA record of the probed MX (index as its tlsa_rr[]) on its own:
     * which certificate it matched, and whether it authenticates the chain
     * (RFC 7671 8.1: the lifecycle is judged record by record). */
    int n_dane_rr;
    struct mxs_dane_rr {
        int usable;              /* DANE-TA(2)/DANE-EE(3), parameters we can compare */
        int match_depth;         /* the certificate whose data it matches, -1 none */
        int ok;                  /* it authenticates the chain               */
        char why[160];           /* not ok: why, in words                    */
    } dane_rr[MXS_MAX_TLSA];
    /* Dual certificates: a second handshake on a fresh connection offering
     * only RSA signatures (ours offers ECDSA first).  A server with an RSA
     * and an ECDSA certificate shows the other one there. */
    int alt_probed;              /* that handshake ran                       */
    int alt_ok;                  /* and completed                            */
    char alt_error[256];         /* why not                                  */
    int alt_present;             /* its leaf is another certificate          */
    struct mxs_cert alt_leaf;    /* that leaf (der owned by the engine)      */
    int alt_name_matches;        /* it covers the MX host name               */
    int alt_fp_match;            /* it matches --expect-fingerprint          */
    /* DANE for that second certificate: the same TLSA records against the
     * RSA-only handshake's chain as sent (engine_dane.c), record by record
     * as dane_rr[].  A DANE sender that negotiates it (one without ECDSA)
     * is judged by these; our verdict stays the one of our handshake. */
    int alt_dane_checked;        /* alt_present and TLSA records to match    */
    int alt_dane_match;          /* a usable record authenticates its chain  */
    int alt_dane_match_rr;       /* the first that does (index), -1          */
    int n_alt_dane_rr;
    struct mxs_dane_rr alt_dane_rr[MXS_MAX_TLSA];
    int64_t checked_at;          /* wall clock when CHAIN judged it (0: never) */
};

/* ---- MTA-STS and TLS-RPT facts (probe/engine_policy.c) ---------------
 * The POLICY step (issue 12): the domain's _mta-sts and _smtp._tls TXT
 * records, the policy fetched from https://mta-sts.DOMAIN/.well-known/
 * mta-sts.txt as a sender fetches it, and the parse (core/policy).  Every
 * char field below that came from the network is RAW: escape at output. */
#define MXS_PTXT_KEEP 4          /* TXT records kept per name               */
#define MXS_PTXT_LEN 512         /* bytes kept per record                   */
#define MXS_PMX_MAX 16           /* policy mx patterns kept                 */
#define MXS_PPROB_MAX 8          /* policy problems kept                    */
#define MXS_PRUA_MAX 8           /* TLS-RPT rua URIs kept                   */

struct mxs_policy_txt {          /* one TXT lookup and its pick            */
    int asked;                   /* the query was sent                      */
    char name[256];              /* "_mta-sts.example.com"                  */
    struct mxs_dns_answer answer;
    int n_rr;                    /* records in the answer                   */
    int n_kept;                  /* in rr[]                                 */
    char rr[MXS_PTXT_KEEP][MXS_PTXT_LEN]; /* RAW text, NUL-terminated prefix */
    size_t rr_len[MXS_PTXT_KEEP];/* bytes kept                              */
    int n_versioned;             /* records that begin with the version tag */
    int picked;                  /* index in rr[] of the one record, -1     */
    int valid;                   /* that record parses                      */
    char error[160];             /* why not: our words                      */
};

/* How the policy fetch ended (the https_outcome of probe/https.h). */
enum mxs_fetch { MXS_FETCH_NONE = 0, MXS_FETCH_OK, MXS_FETCH_DNS, MXS_FETCH_CONNECT,
                 MXS_FETCH_TLS, MXS_FETCH_CERT, MXS_FETCH_HTTP, MXS_FETCH_TOO_BIG,
                 MXS_FETCH_TIMEOUT, MXS_FETCH_OTHER };
const char *mxs_fetch_name(enum mxs_fetch f);     /* "ok", "dns", "tls" ... */
int mxs_fetch_from_name(const char *name);        /* exact; -1 if unknown  */

struct mxs_policy_facts {
    int done;                    /* POLICY ran to its end                   */
    char domain[256];            /* the mail domain the policy is for       */
    struct mxs_policy_txt sts;   /* _mta-sts.DOMAIN (v=STSv1)               */
    char sts_id[33];             /* its id, when valid                      */
    struct mxs_policy_txt rpt;   /* _smtp._tls.DOMAIN (v=TLSRPTv1)          */
    int n_rua, n_rua_total;      /* TLS-RPT report URIs kept / in the record*/
    struct {
        int kind;                /* 1 mailto, 2 https, 0 other              */
        int ok;                  /* well formed for its scheme              */
        char uri[256];           /* RAW                                     */
    } rua[MXS_PRUA_MAX];
    /* the policy fetch (only with one valid v=STSv1 record) */
    enum mxs_fetch fetch;        /* NONE: not tried                         */
    char url[300];
    char host_addr[64];          /* mta-sts.DOMAIN's address (our resolver) */
    long http_status;            /* 0: none came                            */
    char status_line[256];       /* RAW                                     */
    char content_type[128];      /* RAW                                     */
    char location[256];          /* RAW: a redirect's target                */
    char fetch_error[256];       /* RAW: the HTTP library's words           */
    long verify_result;          /* OpenSSL X509_V_* of the policy host     */
    char cert_subject[256];      /* RAW: the policy host's leaf             */
    char cert_issuer[256];
    char cert_not_after[64];
    size_t body_len;             /* bytes kept (<= 64 KiB)                  */
    size_t body_seen;            /* bytes that came, also past the cap      */
    unsigned char body_head[96]; /* RAW: the first bytes of the body        */
    size_t body_head_len;
    int64_t fetch_ms;
    /* the policy file, parsed (only after a 200 text/plain body) */
    int parsed;
    int policy_valid;            /* usable by a sender                      */
    int mode;                    /* 0 unset, 1 enforce, 2 testing, 3 none   */
    long max_age;                /* -1 absent or bad                        */
    int n_mx, n_mx_total;
    char mx[MXS_PMX_MAX][256];   /* the patterns (ASCII: validated)         */
    int lines, crlf, lf;
    int n_problems, n_problems_total;
    struct {
        int line;                /* 1-based; 0 the whole file               */
        int fatal;
        char what[120];          /* our words                               */
        char raw[64];            /* RAW start of the line                   */
        size_t raw_len;
    } problem[MXS_PPROB_MAX];
};

/* ---- Diagnosis (diag/diag.c) ------------------------------------------- */

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

/* The RFC 8460 (TLS-RPT) result type a sender puts in its report for this
 * finding ("certificate-expired" ...), so operators can match mxscope to the
 * reports they receive; NULL when the finding is no TLS failure a sender
 * reports (connection and SMTP errors, warnings, our own side).  One table:
 * core/diag/tlsrpt_map.c, listed in docs/findings.md. */
const char *mxs_tlsrpt_result_type(const struct mxs_finding *f);

/* MTASTS: what an MTA-STS sender (Gmail, Exchange Online) does with the
 * domain's policy (RFC 8461), after DANE where both exist (§2). */
enum mxs_policy { MXS_POL_OPPORTUNISTIC = 0, MXS_POL_REQUIRED, MXS_POL_VERIFIED,
                  MXS_POL_DANE, MXS_POL_MTASTS, MXS_POL_COUNT };
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
    char words[640];             /* plain words (MTA-STS quotes another's)   */
};

#define MXS_MAX_FINDINGS 128

/* ---- Transcript (probe/engine.c) --------------------------------------- */

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
    MXS_REC_HTTP_OUT,  /* POLICY: one line of the HTTP request head as sent  */
    MXS_REC_HTTP_IN,   /* POLICY: one line of the response head, raw         */
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

/* ---- Events (probe/engine.c) ------------------------------------------- */

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

/* ---- Engine (probe/engine.c, version.c) -------------------------------- */

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
const struct mxs_policy_facts *engine_policy(const struct engine *e);
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
 * for its reply through engine_step(); returns -1 with err when no session
 * (or STARTTLS: that is a step).  After a 354 to DATA the engine is in DATA
 * mode: each line is a body line (dot-stuffed, RFC 5321 4.5.2), written
 * without waiting for a reply; "." ends it and waits for the final reply.
 * A QUIT answered 221 (or EOF) closes the session: engine_send refuses
 * more, and the QUIT step is skipped, saying so. */
int engine_send(struct engine *e, const char *line, char *err, size_t errlen);
enum engine_raw_mode {
    ENGINE_RAW_COMMAND = 0,  /* one command, one reply                       */
    ENGINE_RAW_DATA,         /* inside DATA: body lines, "." ends            */
    ENGINE_RAW_CLOSED        /* the operator's QUIT closed the session       */
};
enum engine_raw_mode engine_raw_mode(const struct engine *e);
/* on: a run stops before QUIT while the session is open (engine_step
 * returns MXS_PROG_FINISHED there, QUIT pending) so raw commands can
 * follow; off: QUIT runs on the next engine_step.  Batch never holds. */
void engine_hold_quit(struct engine *e, int on);
/* 1 while the run stands before QUIT with the session kept open. */
int engine_held_open(const struct engine *e);

/* Append a NOTE record (front ends log commands the operator typed). */
void engine_note(struct engine *e, enum mxs_rec_kind kind, const char *text);

/* Library versions, for --version. */
void mxs_library_versions(char *out, size_t outlen); /* "Mbed TLS 3.6.6" */
const char *mxs_unbound_version(void);
/* The operator's own files (--cafile, --cert, --key) readable, parseable and
 * the key matching the certificate: 0, or -1 with err naming the option, the
 * file and the reason.  Called before any probe (exit 2), and by `set`. */
int mxs_check_local_files(const struct mxs_settings *s, char *err, size_t errlen);
const char *mxs_jansson_version(void);

/* ---- Buffers (base/buf.c): growable text with a hard cap --------------- */
/*
 * Ownership: the buffer owns data; buf_free() releases it.
 * Bounding: data never holds more than max bytes (plus the NUL).  When an
 * append does not fit, as much as fits is kept, cut back to a UTF-8
 * character boundary (escaped appends cut on an escape boundary), failed is
 * set, and every later append is ignored: the text is always a clean prefix
 * of what was asked for.  max 0 means BUF_DEFAULT_MAX.
 */
#define BUF_DEFAULT_MAX (16u * 1024 * 1024)

struct buf {
    char *data;     /* always NUL-terminated when non-NULL; NULL until the
                       first append: use buf_str() to read               */
    size_t len, cap, max;
    int failed;     /* allocation failed or max reached */
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
/* Forget the content (keeps the memory) and clear failed. */
void buf_reset(struct buf *b);
/* The text, "" when nothing was appended: never NULL. */
const char *buf_str(const struct buf *b);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Append untrusted bytes through mxs_escape(). */
void buf_add_escaped(struct buf *b, const void *p, size_t n, int flags);
void buf_puts_escaped(struct buf *b, const char *s);

/* ---- Escaping (base/esc.c): every output path goes through it ---------- */
/*
 * Server- and certificate-supplied bytes never reach a terminal, a file or a
 * JSON string raw.  mxs_escape() turns them into printable, visible text:
 *   - printable ASCII passes through (backslash becomes "\\");
 *   - C0 controls, DEL, C1 controls become "\xHH" (TAB too, unless
 *     MXS_ESC_KEEP_TAB);
 *   - valid UTF-8 passes through, except C1 encoded as UTF-8 (U+0080-U+009F),
 *     bidi controls (U+202A-U+202E, U+2066-U+2069, U+200E/F, U+061C),
 *     zero-width and invisible characters (U+200B-U+200D, U+2060-U+2064,
 *     U+FEFF, U+00AD), line/paragraph separators (U+2028/9), unassigned
 *     surrogates and non-characters, plus other invisible or data-hiding
 *     code points (U+034F, U+061C, U+115F/60, U+17B4/5, U+180B-180F,
 *     U+206A-206F, U+3164, U+FFA0, U+FE00-FE0F, U+FFF0-FFFB, tags and
 *     VS supplement U+E0000-E0FFF, private use): these become "<U+XXXX>"
 *     (5 or 6 hex digits above U+FFFF);
 *   - invalid UTF-8 (overlong, surrogates, truncated, > U+10FFFF) becomes
 *     "\xHH" for each offending byte;
 *   - with MXS_ESC_ASCII, every non-ASCII code point becomes "<U+XXXX>";
 *   - with MXS_ESC_KEEP_NL, LF passes through (CR is still "\x0D").
 * Output is always NUL-terminated and never longer than outlen-1; when it
 * does not fit it ends at a character boundary.  Returns the length the
 * complete escaped text needs (like snprintf, without the NUL), so callers
 * can detect cuts: result >= outlen means cut.  outlen 0 (out may be NULL)
 * only measures.
 * Pure: no allocation, no locale, no global state.
 */
enum { MXS_ESC_KEEP_TAB = 1, MXS_ESC_ASCII = 2, MXS_ESC_KEEP_NL = 4 };

size_t mxs_escape(const void *in, size_t len, char *out, size_t outlen, int flags);
/* Same, into a malloc'd string the caller frees (NULL on allocation failure). */
char *mxs_escape_dup(const void *in, size_t len, int flags);
/* For NUL-terminated input. */
size_t mxs_escape_str(const char *in, char *out, size_t outlen, int flags);
/* 1 if s (len bytes) would pass through mxs_escape unchanged. */
int mxs_is_safe(const void *s, size_t len, int flags);
/* 1 if s is text as the escaper writes it (findings' text, core/diag/
 * diag.h): printable ASCII with the backslashes of its notation, '\n', and
 * the valid UTF-8 it lets through; such text is shown as it is. */
int mxs_is_escaped_text(const void *s, size_t len);

/* Text already escaped (report, transcript) for a terminal that is not
 * UTF-8: every non-ASCII character becomes "<U+XXXX>" as MXS_ESC_ASCII
 * writes it (a byte that is not UTF-8, "\xHH"); ASCII, backslashes
 * included, is left as it is.  On a Latin-1 terminal a UTF-8 byte such as
 * 0x9B (in U+201B) would act as the C1 control CSI.  Returns like
 * mxs_escape(). */
size_t mxs_text_to_ascii(const char *in, size_t len, char *out, size_t outlen);

/* Certificate names (struct mxs_cert: subject, issuer, cn, san[]) kept raw:
 * field holds the first min(len, cap - 1) bytes of a name of len bytes
 * (len 0: field is a C string of at most cap - 1 bytes).  Escaped once,
 * as mxs_escape() with flags; a cut name loses a trailing incomplete UTF-8
 * character and, with MXS_ESC_CUTMARK, ends in U+2026 " (N bytes, cut)"
 * ("... (N bytes, cut)" with MXS_ESC_ASCII); with MXS_ESC_IDN, a whole
 * host name with an A-label ("xn--") is followed by its U-label (libidn2),
 * escaped the same way: "xn--mnchen-3ya.example (münchen.example)".
 * With MXS_ESC_CUTMARK the marker also ends an output that outlen cuts
 * (the name shorter still), so a bounded buffer never drops it.
 * Returns like mxs_escape().  MXS_CERT_NAME(c->cn, c->cn_len) spells the
 * first three arguments. */
enum { MXS_ESC_IDN = 8, MXS_ESC_CUTMARK = 16 };
#define MXS_CERT_NAME(field, len) (field), sizeof(field), (len)
size_t mxs_escape_name(const char *field, size_t cap, size_t len, char *out,
                       size_t outlen, int flags);
char *mxs_escape_name_dup(const char *field, size_t cap, size_t len, int flags);
/* The bytes of such a name the field holds. */
size_t mxs_name_stored(const char *field, size_t cap, size_t len);

/* The inverse of mxs_escape(..., 0) for its output (loading a saved text
 * transcript back): "\xHH" becomes that byte (either case of hex digit),
 * "\\" one backslash, "<U+XXXX>" the UTF-8 encoding of the code point;
 * everything else, invalid or truncated sequences included, is copied as it
 * is.  "<U+...>" is decoded only in the exact form mxs_escape writes (upper-
 * case, 4 digits up to U+FFFF, 5 up to U+FFFFF, else 6) and only for code
 * points mxs_escape hides: a server that sent the literal text "<U+0041>"
 * must not get "A" back, so mxs_escape(mxs_unescape(t)) == t for every t
 * that mxs_escape(..., 0) produced.  The output never exceeds the input
 * length; it is not NUL-terminated; pieces are written whole (never half a
 * UTF-8 sequence) and writing stops at the first that does not fit in
 * outlen.  Returns the number of bytes written. */
size_t mxs_unescape(const char *in, size_t len, unsigned char *out, size_t outlen);

/* ---- Files (base/savefile.c): saved whole or not at all ---------------- */
/*
 * savefile_write() writes to a temp file in the target's folder (mode 0600),
 * handles short writes and EINTR, fsyncs it, renames it over the target and
 * fsyncs the folder.  On any failure the temp file is removed, the target is
 * untouched and err names the step and errno ("write: No space left on
 * device").  An existing target is replaced only by a complete new file.
 *
 * Owner: savefile.c.  Steps named in err: "file name", "create temp file",
 * "chmod", "write", "fsync", "close", "rename", "fsync folder".  The last
 * one happens after the rename: then the target already holds the complete
 * new content, err says "(the file was replaced)", and -1 is returned
 * because its durability is not guaranteed.  The temp file is
 * "<folder>/.<name>.XXXXXX"; only a process killed mid-save (SIGKILL, power
 * loss) can leave one behind, never a failed call.  The target ends up mode
 * 0600 whatever it was before; a symlink target is replaced by the file.
 *
 * No test seam: tests/unit/test_savefile.c defines write() and fsync() in
 * the test program, which take precedence over libc's at link time.
 */
int savefile_write(const char *path, const void *data, size_t len, char *err,
                   size_t errlen);

/* Read a whole file of at most max bytes into a malloc'd buffer (+NUL).
 * Returns 0, or -1 with err ("open: ...", "open: not a regular file",
 * "read: file is larger than MAX bytes").  Only regular files; a FIFO does
 * not block.  Files that grow while read (or /proc files of size 0) are
 * read up to max. */
int savefile_read(const char *path, size_t max, char **out, size_t *outlen,
                  char *err, size_t errlen);

/* ---- Output (session/): text, JSON, PEM, saves, replay ----------------- */
/*
 * Every network- or certificate-supplied string passes through mxs_escape().
 * Ownership: returned strings are malloc'd, the caller frees them; buffers
 * passed in are the caller's.
 */
/* The readable step-by-step report the batch front end prints. */
void render_report_text(const struct engine *e, struct buf *out);
/* The transcript as text: "+0.012s BANNER S: 220 ..." with direction marks
 * (C: client, S: server, D: DNS, T: TLS, !: error, #: note, *: finding). */
void render_transcript_text(const struct engine *e, struct buf *out);
/* One transcript record as a single escaped line (no newline); used by the
 * console's Exchange pane and the text transcript alike. */
void render_record_line(const struct mxs_record *r, struct buf *out);
/* The JSON document of docs/json.md (malloc'd, NUL-terminated). */
char *render_json(const struct engine *e);
/* PEM of every certificate the server sent, leaf first. */
void render_chain_pem(const struct engine *e, struct buf *out);
/* Certificate detail: every field of the view, every verify flag in words. */
void render_cert_detail(const struct mxs_cert *c, struct buf *out);

/* Saves: write whole or not at all, mode 0600.  Return 0 or -1 with err. */
int render_save_text(const struct engine *e, const char *path, char *err, size_t errlen);
int render_save_json(const struct engine *e, const char *path, char *err, size_t errlen);
int render_save_chain(const struct engine *e, const char *path, char *err, size_t errlen);
int render_save_report(const struct engine *e, const char *path, char *err, size_t errlen);
/* The email-ready problem report (diag_report) into out. */
void render_problem_report(const struct engine *e, struct buf *out);
/* Two sessions side by side (session_diff.c): what changed from A to B in
 * the step results, the certificates (thumbprints, expiry), capabilities,
 * TLS facts, findings and verdicts; only differences, each section "same"
 * otherwise.  Returns the number of differences. */
int render_diff(const struct engine *a, const char *name_a, const struct engine *b,
                const char *name_b, struct buf *out);

/* Exit code of the batch front end: 0 all passed, 4 all passed with
 * warnings (0 with warn-ok), 3 cancelled, 10 + step index of the first
 * failed step (10 RESOLVE ... 17 EHLO2). */
int render_exit_code(const struct engine *e);

/* Load a session saved as JSON: returns a read-only engine (engine_step does
 * nothing; facts, steps, findings and transcript are the saved ones), or
 * NULL with a clear error for a damaged or hostile file. */
struct engine *engine_load(const char *path, char *err, size_t errlen);
/* The same from memory (path only names it in errors): fuzzed. */
struct engine *engine_load_buffer(const char *text, size_t len, const char *path, char *err,
                                  size_t errlen);
/* A text transcript (render_transcript_text) back into a read-only engine:
 * records, step states, findings, verdicts and the PEM chain (session_text.c). */
struct engine *engine_load_text(const char *text, size_t len, const char *path, char *err,
                                size_t errlen);

/* ---- Monitoring (session/monitor.c): Nagios and Prometheus ------------- */
/*
 * Session documents (docs/json.md: one per domain, a single probe's or the
 * --all survey's) as a Nagios plugin's output or a Prometheus textfile
 * collector's exposition.  Only the facts monitoring needs are kept from each
 * document (a few hundred bytes per MX address), so a 100,000-domain list is
 * rendered without holding its documents.  Every string taken from a document
 * goes through mxs_escape() (after mxs_unescape(): the document's own escaping
 * is kept, not doubled), then through the output format's quoting.
 *
 * Nagios (monitoring-plugins guidelines): exit 0 OK, 1 WARNING, 2 CRITICAL,
 * 3 UNKNOWN; one status line "MXSCOPE CRITICAL - 2 of 40 domains fail:
 * a.example (CHAIN cert-expired), ... | perfdata", perfdata days left of the
 * served leaf per domain ('a.example_days'=12;30:;7:, U without a
 * certificate), then one line per domain that is not OK.  A domain is
 * CRITICAL when a probe failed a step or a leaf has fewer than crit_days
 * left; WARNING with fewer than warn_days or a warning finding; UNKNOWN when
 * its document is unreadable or a verdict could not be evaluated on our side
 * (a LOCAL finding); the worst state wins (CRITICAL > WARNING > UNKNOWN > OK).
 *
 * Ownership: struct mxs_monitor owns copies of what it keeps; out is the
 * caller's buffer (appended to).
 */
enum mxs_monitor_format { MXS_MONITOR_NAGIOS = 0, MXS_MONITOR_PROMETHEUS };

struct mxs_monitor_opts {
    int warn_days;           /* WARNING below this many days left (30)      */
    int crit_days;           /* CRITICAL below this many (7)                */
    time_t now;              /* the run's time (mxscope_last_run gauge); 0:
                                time(NULL) when rendered                    */
    int max_listed;          /* domains named in the status line (10)       */
};
void mxs_monitor_opts_init(struct mxs_monitor_opts *o);
/* "nagios" / "prometheus" -> the format; -1 if unknown. */
int mxs_monitor_format_from_name(const char *name);

struct mxs_monitor;
/* NULL on allocation failure; o NULL: the defaults. */
struct mxs_monitor *mxs_monitor_new(const struct mxs_monitor_opts *o);
void mxs_monitor_free(struct mxs_monitor *m);
/* One document (JSON text, len bytes).  0, or -1 with err when it is not a
 * session or survey document: it still counts, as an UNKNOWN domain. */
int mxs_monitor_add(struct mxs_monitor *m, const char *json, size_t len, char *err,
                    size_t errlen);
/* Everything added so far, in fmt, appended to out.  Returns the Nagios exit
 * code (0 for Prometheus; 3 when out could not hold it). */
int mxs_monitor_write(const struct mxs_monitor *m, enum mxs_monitor_format fmt,
                      struct buf *out);
/* The same for n documents at once (new, add each, write, free). */
int mxs_monitor_render(enum mxs_monitor_format fmt, const char *const *docs, size_t n,
                       const struct mxs_monitor_opts *o, struct buf *out);

/* ---- Lab interface: how the command table reaches a lab ---------------- */
/*
 * `open lab:NAME` needs a lab, but the client library never calls one: the
 * lab's servers (a thread, listening sockets, an mbedTLS server) live in
 * liblab.a, which only front ends and tests link.  A front end that offers
 * the lab registers its operations once (cmd_set_lab_provider(&lab_ops));
 * the client archives see only these function pointers.
 */
struct lab;                  /* a running lab: opaque                        */
struct lab_scenario {
    const char *name;        /* "expired"                                    */
    const char *story;       /* one line for --lab --list                    */
    const char *expect;      /* finding id it demonstrates ("" for good)     */
};
struct mxs_lab_ops {
    const struct lab_scenario *scenarios; /* NULL name terminates            */
    /* Start a lab; NULL with err on failure. */
    struct lab *(*start)(char *err, size_t errlen);
    void (*stop)(struct lab *l);
    /* Point settings at a scenario's server; 0, or -1 with err. */
    int (*apply)(const struct lab *l, const char *scenario, struct mxs_settings *s,
                 char *err, size_t errlen);
};

/* ---- Commands (cmd/cmd.c): one table for console and --script ---------- */
/*
 * The one command table shared by the console's command line and
 * the `--script` / `--batch` front end (in the spirit of tmux's command
 * entries: name, alias, usage, help, argument bounds, handler, completion).
 *
 * core/ never prints: a handler fills a struct cmd_result with a status, a
 * message (already escaped, safe to show) and an action code for the things
 * only a front end can do (show a certificate pane, the help screen, quit,
 * ask for confirmation, dump the screen, drive the engine without blocking).
 *
 * Two modes (struct cmd_ctx.blocking):
 *   - blocking (batch): `step`, `run`, `send` and `open` drive the engine to
 *     completion here, in poll(), bounded by the engine's stage deadlines;
 *   - non-blocking (console): they start the work and return CMD_ACT_STEP /
 *     CMD_ACT_RUN / CMD_ACT_WAIT; the console's poll loop advances it.
 *
 * Ownership: the ctx holds the current engine.  The engine it was created
 * with belongs to the caller and is never freed here; engines made by
 * `open` and `load`, and a lab started by `open lab:NAME`, belong to the ctx
 * and are freed by cmd_ctx_free() (or when replaced).
 * Owner: core/cmd/cmd.c.
 */
#define CMD_MAX_ARGS 16
#define CMD_MAX_LINE 4096

enum cmd_status { CMD_OK = 0, CMD_ERROR, CMD_NEEDS_CONFIRM };

enum cmd_action {
    CMD_ACT_NONE = 0,
    CMD_ACT_STEP,       /* console: one step was started, keep advancing it  */
    CMD_ACT_RUN,        /* console: run to the end, step after step          */
    CMD_ACT_WAIT,       /* console: a raw command was sent, advance to reply */
    CMD_ACT_SHOW_CERT,  /* open the certificate pane for depth `arg`         */
    CMD_ACT_HELP,       /* show the help screen (message holds the text)     */
    CMD_ACT_OUTPUT,     /* a multi-line message worth a scrollable view      */
    CMD_ACT_QUIT,
    CMD_ACT_CONFIRM,    /* ask; if yes, run `confirm` (status NEEDS_CONFIRM) */
    CMD_ACT_DUMP,       /* write the screen as text to `path`                */
    CMD_ACT_YANK,       /* `data` for the clipboard (the front end's choice) */
    CMD_ACT_DOMAINS     /* console: open the list `path` ("": show the one open) */
};

struct cmd_result {
    enum cmd_status status;
    enum cmd_action action;
    int arg;                 /* SHOW_CERT: depth                              */
    int engine_changed;      /* open/load replaced ctx->engine: reset views   */
    int cancelled;           /* engine_cancel was called                      */
    char path[1024];         /* DUMP: file; YANK: the file written, or ""   */
    char confirm[CMD_MAX_LINE]; /* CONFIRM: the command line to run on "yes" */
    struct buf msg;          /* escaped text for the operator; may be empty  */
    struct buf data;         /* YANK: the text copied (a thumbprint, a PEM)   */
};

struct cmd_ctx {
    struct engine *engine;   /* current engine (NULL: nothing opened)        */
    struct lab *lab;         /* lab in use (caller's or owned)                */
    char lab_scenario[64];   /* "" when the target is not the lab             */
    int blocking;            /* 1: batch, drive the engine here               */
    int cert_sel;            /* the certificate the front end has selected
                                (the console's Chain pane; 0: the leaf)      */
    int keep_open;           /* run stops before QUIT (console default: on)   */
    /* private */
    struct engine *caller_engine; /* never freed here                         */
    int own_lab;
    const struct mxs_lab_ops *lab_ops; /* the provider that started own_lab   */
    size_t saved_records;    /* engine_record_count at the last save          */
    int saved_engine_gen, engine_gen;
};

typedef void (*cmd_fn)(struct cmd_ctx *c, int argc, char **argv,
                       struct cmd_result *r);

enum cmd_complete_kind {
    CMD_CPL_NONE = 0,
    CMD_CPL_COMMAND,         /* help CMD */
    CMD_CPL_SETTING,         /* set KEY */
    CMD_CPL_FILE,            /* save/load/dump: the front end's file names */
    CMD_CPL_WORDS,           /* fixed first words (entry.words)             */
    CMD_CPL_OPEN             /* open: "host", "lab:NAME", MX host names     */
};

struct cmd_entry {
    const char *name;
    const char *alias;       /* NULL: none */
    const char *usage;       /* arguments, e.g. "KEY [VALUE]" */
    const char *help;        /* one line */
    int min_args, max_args;  /* words after the name */
    cmd_fn fn;
    enum cmd_complete_kind complete;
    const char *words;       /* CMD_CPL_WORDS: space-separated first words */
};

extern const struct cmd_entry cmd_table[]; /* NULL name terminates */

/* lab: a lab the caller started (the ctx never stops it), or NULL;
 * lab_scenario: the scenario e was set up for, or NULL. */
void cmd_ctx_init(struct cmd_ctx *c, struct engine *e, struct lab *lab,
                  const char *lab_scenario, int blocking);
void cmd_ctx_free(struct cmd_ctx *c);
/* 1 when the transcript has records that were never saved. */
int cmd_unsaved(const struct cmd_ctx *c);
/* Replace the current engine (front end's --load at start); the ctx owns it. */
void cmd_ctx_adopt(struct cmd_ctx *c, struct engine *e);

void cmd_result_init(struct cmd_result *r);
void cmd_result_free(struct cmd_result *r);

/* Split a line into words: blanks separate, '...' is literal, "..." allows
 * \" and \\, a backslash outside quotes escapes the next byte, '#' at the
 * start of a word begins a comment.  Words are written into store (NUL
 * separated).  Returns the word count, or -1 with err (unterminated quote,
 * too many words, line too long). */
int cmd_tokenize(const char *line, char *store, size_t storelen, char **argv,
                 int maxargs, char *err, size_t errlen);

const struct cmd_entry *cmd_find(const char *name);

/* Parse and run one command line.  r must be cmd_result_init'ed; the caller
 * frees it.  Empty lines and comments are CMD_OK with no message. */
void cmd_exec(struct cmd_ctx *c, const char *line, struct cmd_result *r);

/* Completion for the word that starts at byte `start` of `line` (the text
 * before the cursor; `word` is line+start).  Fills out[] with up to max
 * candidates (each escaped, NUL-terminated, < 256 bytes) and returns their
 * number; *want_files is set when the front end should complete file names
 * instead. */
#define CMD_CPL_LEN 256
int cmd_complete(const struct cmd_ctx *c, const char *line, size_t start,
                 char out[][CMD_CPL_LEN], int max, int *want_files);

/* Help text: every command (name == NULL) or one command. */
void cmd_help_text(const char *name, struct buf *out);

/* Default transcript name: mxscope-<target>-<UTC YYYYmmddTHHMMSSZ>.txt, the
 * target reduced to [A-Za-z0-9.-_]. */
void cmd_default_save_name(const struct engine *e, char *out, size_t outlen);

/* Register the lab that `open lab:NAME` uses (the lab interface above):
 * process-wide, once at start-up before any cmd_ctx is made; ops must
 * outlive every ctx.  NULL (the default) means no lab: `open lab:NAME`
 * fails with "this build has no lab" and completion offers no lab:NAME. */
void cmd_set_lab_provider(const struct mxs_lab_ops *ops);

/* Drive the engine while a step or a raw command is in flight (blocking,
 * poll()); used by the batch front end.  Bounded by the engine's deadlines. */
void cmd_drive(struct engine *e);
/* 1 while a step or raw command is in flight (a deadline is pending). */
int cmd_engine_busy(const struct engine *e);

/* ---- Survey (cmd/survey.c): every MX and address (--all) --------------- */
/*
 * Operators ask for it first: "try every MX and every address, and show
 * which address was tested" (nodes behind a balancer that differ).  One
 * RESOLVE, then one engine per (MX, address), all run at once from one
 * poll() loop (the engines never block), then the nodes are compared
 * (diag_compare: mx-hosts-disagree).
 *
 * Ownership: struct survey owns its engines; survey_free() frees them.
 */
struct survey;

#define SURVEY_MAX_PROBES 32

/* Resolves s->target (blocking, with the RESOLVE deadline).  NULL with err
 * when even that is impossible (no target). */
struct survey *survey_new(const struct mxs_settings *s, char *err, size_t errlen);
void survey_free(struct survey *v);
/* Run every probe to the end, concurrently (blocking). */
void survey_run(struct survey *v);

/* The RESOLVE engine (DNS facts, its findings when the lookup failed). */
const struct engine *survey_resolver(const struct survey *v);
int survey_count(const struct survey *v);
const struct engine *survey_probe(const struct survey *v, int i);
/* mx-hosts-disagree findings over all probes. */
const struct mxs_finding *survey_findings(const struct survey *v, int *n);
/* 0 when every probe passed; else the exit code of the first probe (in MX
 * and address order) that failed; RESOLVE's when there was nothing to probe. */
int survey_exit_code(const struct survey *v);

/* A matrix, one line per probe, then the disagreements and each probe's
 * findings. */
void survey_render_text(const struct survey *v, struct buf *out);
/* {"survey": true, "target": ..., "dns": <RESOLVE document>, "probes": [<one
 * document per probe, docs/json.md>], "findings": [...], "exit_code": N} */
char *survey_render_json(const struct survey *v);

/* ---- Domain lists (cmd/domains.c): --batch --domains FILE -------------- */
/*
 * An operator's list of partner domains, every MX and address of each (a
 * survey per domain, as --all), all driven from ONE poll loop:
 *   - the list is read from an fd line by line as slots free up (a 100,000
 *     line list is never loaded whole); a name seen before is not probed
 *     again (a hash set of the names seen: it is the one thing that grows
 *     with the list);
 *   - "NAME [--SETTING VALUE ...]  # comment": blank lines and comments are
 *     skipped; the words after the name are settings of the table
 *     (--port 465, --expect-fingerprint HEX, --tls-on-connect, -4, -6;
 *     not --host or --target) for that line only; a UTF-8 BOM is skipped;
 *   - NAME is lower-cased, an IDN name becomes its A-label (libidn2; both
 *     forms kept); a name with a control byte, over 253 octets, not a host
 *     name, or bad options is rejected with its line number, and the rest
 *     is still probed;
 *   - at most `parallel` engines work at once (RESOLVE engines, at most 4
 *     of them: each has a libunbound context of its own; and probes);
 *     at most `per_host` probes at once against one MX host name and one
 *     address:port (partners share MX hosts); every domain has a deadline
 *     for all of its probes, counted from its first query: what still runs
 *     then is cancelled (the transcript says why).
 * Results come out as each domain finishes (mxs_domains_next), not in list
 * order.  Nothing is printed; the front end renders.
 *
 * Ownership: mxs_domains_new() returns a runner the caller frees with
 * mxs_domains_free() (it never closes the fd); every result from
 * mxs_domains_next() is the caller's, freed with mxs_domain_free(); its
 * survey belongs to it.
 */
struct mxs_domains;

/* The list's exit code when a domain failed (a step, or its deadline);
 * the front end documents the rest (0, 4 warnings, 3 interrupted). */
#define MXS_EXIT_DOMAINS_FAILED 6

struct mxs_domains_opts {
    int parallel;            /* engines working at once (16)                 */
    int per_host;            /* probes at once per MX host / address (2)     */
    int domain_timeout_s;    /* whole-domain deadline, seconds (180)         */
    /* Called for each line to probe, after its own settings, with the name
     * as probed: a front end may point the settings elsewhere (the built-in
     * lab: the name is a scenario).  0, or -1 with err: the line is
     * rejected.  NULL (the default): none. */
    int (*line_hook)(void *arg, const char *name, struct mxs_settings *s, char *err,
                     size_t errlen);
    void *line_arg;
};
void mxs_domains_opts_init(struct mxs_domains_opts *o);

enum mxs_domain_kind {
    MXS_DOMAIN_PROBED = 0,   /* survey holds every MX and address           */
    MXS_DOMAIN_REJECTED,     /* not probed: why says so                     */
    MXS_DOMAIN_DUPLICATE     /* seen on line first_line: probed there       */
};

/* Classes, most urgent first (the summary's order, the exit code). */
enum mxs_domain_class { MXS_DCLASS_FAIL = 0, MXS_DCLASS_WARN, MXS_DCLASS_OK };

struct mxs_domain {
    enum mxs_domain_kind kind;
    unsigned long line;          /* 1-based line of the list                 */
    unsigned long first_line;    /* DUPLICATE: where it was probed           */
    char input[300];             /* the name as written, raw bytes (escape it) */
    size_t input_len;            /* its whole length (input may be cut)      */
    char name[256];              /* the name probed: lower case, A-labels    */
    char uname[1024];            /* its U-label form ("" when all ASCII)     */
    char why[160];               /* REJECTED: why, in words (no raw bytes)   */
    char options[512];           /* the line's settings as written, raw ("" none) */
    /* PROBED */
    struct survey *survey;       /* owned by the result                     */
    int deadline_passed;         /* the whole-domain deadline cancelled probes */
    int64_t elapsed_ms;
    int exit_code;               /* survey_exit_code                        */
    enum mxs_domain_class cls;
    /* The probe the summary shows (-1: none, RESOLVE's facts): the first
     * that failed, else the first with a warning, else the first. */
    int shown;
    enum mxs_step failed_step;   /* its first failing step (NONE: passed)    */
    enum mxs_outcome outcome[MXS_POL_COUNT];
    /* The served leaf that expires first over every probe (expiry watch). */
    int has_leaf;
    int days_left;
    char sha1[41];
    char leaf_host[256];         /* the MX host that served it (raw)        */
};

/* Reads the list from fd (not closed; a regular file is scanned once first
 * for the total, then read again from the start).  base: the settings every
 * line starts from.  NULL with err on a bad option or no memory. */
struct mxs_domains *mxs_domains_new(int fd, const struct mxs_settings *base,
                                    const struct mxs_domains_opts *o, char *err,
                                    size_t errlen);
void mxs_domains_free(struct mxs_domains *d);
/* Advance everything, waiting at most max_wait_ms in poll() (0: never;
 * an interrupting signal returns early).  Returns 1 when the list is done
 * (read to the end, every domain finished; results may still wait in
 * mxs_domains_next), 0 otherwise. */
int mxs_domains_run(struct mxs_domains *d, int max_wait_ms);
/* The next finished domain, or NULL. */
struct mxs_domain *mxs_domains_next(struct mxs_domains *d);
void mxs_domain_free(struct mxs_domain *r);
/* Ctrl-C: stop reading, drop the domains still running (their engines
 * freed, their results never made).  Results already finished stay. */
void mxs_domains_cancel(struct mxs_domains *d);

struct mxs_domains_stats {
    unsigned long lines;         /* lines read                              */
    unsigned long total;         /* names in the list (-1 UL: not known yet: a pipe) */
    unsigned long done;          /* results made (rejected, duplicates too) */
    unsigned long running;       /* domains started, not finished           */
    unsigned long failing, warning, rejected, duplicates, dropped;
    int read_error;              /* errno of a failed read (the list ends there) */
};
void mxs_domains_stats(const struct mxs_domains *d, struct mxs_domains_stats *st);

/* One domain as one line of JSON: the --all --json document with a
 * "domain" object added (docs/json.md); malloc'd, NUL-terminated, no
 * newline.  NULL for a result that is not PROBED, or out of memory. */
char *mxs_domain_json(const struct mxs_domain *r);
/* Its transcript: every probe's text transcript one after another (the
 * RESOLVE one when nothing was probed), escaped. */
void mxs_domain_transcript(const struct mxs_domain *r, struct buf *out);

/* ---- TLS-RPT reports (cmd/tlsrpt_cmd.c): --tlsrpt, `load-report` ------- */
/*
 * A sender's aggregate TLS-RPT report (RFC 8460 §4.4, JSON, gzip as mailed):
 * its policies and failure details, and, on request, each failing MX host
 * probed now (sequential, blocking, at most 16 hosts, each bounded by the
 * settings' stage deadlines) to say whether each reported failure still
 * reproduces.  Hostile files (huge, gzip bombs, deep JSON, bad gzip) are
 * refused with a clear error.
 *
 * Ownership: mxs_tlsrpt_load() returns a report the caller frees with
 * mxs_tlsrpt_free(); the strings from _text/_json are malloc'd, escaped,
 * the caller's to free.
 */
struct mxs_tlsrpt;

#define MXS_EXIT_TLSRPT_STILL 5  /* --recheck: a reported failure still happens */

struct mxs_tlsrpt *mxs_tlsrpt_load(const char *path, char *err, size_t errlen);
void mxs_tlsrpt_free(struct mxs_tlsrpt *t);
/* Probe each failing MX host with base's settings (target and
 * target_is_host replaced).  Returns the number of hosts probed. */
int mxs_tlsrpt_recheck(struct mxs_tlsrpt *t, const struct mxs_settings *base);
char *mxs_tlsrpt_text(const struct mxs_tlsrpt *t);
/* {"report": {...}, "recheck": [...] | null, "checked_at": ..., "exit_code": N}
 * (docs/json.md, "TLS-RPT reports"). */
char *mxs_tlsrpt_json(const struct mxs_tlsrpt *t);
/* 0, or MXS_EXIT_TLSRPT_STILL after a recheck that found a failure still there. */
int mxs_tlsrpt_exit_code(const struct mxs_tlsrpt *t);

/* ---- Built-in lab (liblab.a, core/lab/): link liblab.a to use it ------- */
/*
 * Misconfigured SMTP receivers on 127.0.0.1, one listener per scenario,
 * served by one thread (core/lab/lab.h lists the scenarios and how each one
 * is made).  Defined in liblab.a, not in the client library: a program that
 * uses them links liblab.a too.  Nothing is printed.
 */
extern const struct lab_scenario lab_scenarios[]; /* NULL name terminates */
const struct lab_scenario *lab_find(const char *name); /* NULL: unknown  */
/* Start the lab (certificates, listeners, thread: well under a second).
 * Returns NULL with err on failure. */
struct lab *lab_start(char *err, size_t errlen);
/* Stop and join the thread, close the sockets, remove the temp folder,
 * free everything.  NULL is a no-op. */
void lab_stop(struct lab *l);
/* Fill settings for a scenario: target = the lab's MX host name,
 * target_is_host = 1, connect_addr = "127.0.0.1", port, cafile = the lab CA,
 * and expect_fp for fingerprint-after-renewal.  For any other scenario
 * expect_fp is cleared only if it still holds the lab's own thumbprint.
 * Everything else stays as the caller had it.  Returns 0, or -1 with err
 * (unknown scenario). */
int lab_apply(const struct lab *l, const char *scenario, struct mxs_settings *s,
              char *err, size_t errlen);
/* lab_scenarios, lab_start, lab_stop and lab_apply as the command table's
 * provider: a front end calls cmd_set_lab_provider(&lab_ops) once. */
extern const struct mxs_lab_ops lab_ops;

#endif
