/*
 * engine_int.h - the engine's insides, shared by engine.c, engine_io.c,
 * engine_steps.c and engine_replay.c (and the tests that drive the engine
 * over a scripted transport; the survey reads the facts of its engines).
 * Front ends use core.h only; the session module (saves, loads, reports)
 * uses probe/engine_replay.h and never sees struct engine.
 *
 * Only engine*.c write step state: through engine_step_set(), the one state
 * setter (step_begin, engine_step_end, engine_step_skip, re-run, the replay
 * API all call it).
 */
#ifndef MXS_ENGINE_INT_H
#define MXS_ENGINE_INT_H
#include <poll.h>
#include <time.h>
#include "core.h"
#include "probe/net.h"
#include "probe/engine_replay.h"
#include "probe/smtp.h"

#define ENGINE_EVQ 4096

struct dns_ctx;
struct dns_shared;
struct dns_txt;
struct https_fetch;
struct tls_client;

struct engine {
    struct mxs_settings set;
    /* steps */
    enum mxs_step_state st[MXS_STEP_COUNT];
    int64_t t_start[MXS_STEP_COUNT], elapsed_ms[MXS_STEP_COUNT];
    int timed_out[MXS_STEP_COUNT], reset[MXS_STEP_COUNT];
    char step_err[MXS_STEP_COUNT][256];
    enum mxs_step cur;          /* the running step                          */
    int running;
    int phase, sub;             /* progress inside the running step          */
    int next_idx;               /* index in the step order of the next step  */
    int auto_until;             /* re-run: replay steps up to this one       */
    int64_t deadline, attempt_deadline;
    int finished;
    int replay;                 /* loaded from a file: read-only             */
    /* transcript */
    struct mxs_record *rec;
    size_t n_rec, cap_rec, rec_bytes;
    uint32_t seq;
    int rec_truncated;
    int64_t t0_us;
    time_t started_wall;
    /* events */
    struct mxs_event evq[ENGINE_EVQ];
    int ev_head, ev_count, ev_overflow;
    /* facts */
    struct mxs_dns_facts dns;
    struct mxs_connect_facts conn;
    struct mxs_smtp_facts smtp;
    struct mxs_tls_facts tls;
    struct mxs_chain_facts chain;
    struct mxs_policy_facts pol;
    struct mxs_finding findings[MXS_MAX_FINDINGS];
    int n_findings;
    struct mxs_verdict verdicts[MXS_POL_COUNT];
    /* resolver */
    struct dns_ctx *dns_ctx;
    struct dns_shared *dns_shared; /* a list's one libunbound context (not ours) */
    /* A list run (engine_set_list_mode): the RSA-only side handshake starts
     * only when ours shows a certificate that is not RSA, so a partner sees
     * a second connection only when it has a second certificate to show. */
    int side_lazy;
    /* connection */
    net_factory factory;
    void *factory_arg;
    struct net_transport t;
    int connected, tls_active;
    int try_mx, try_addr;
    int64_t t_connected_ms;
    struct tls_client *tlc;
    /* A handshake that failed keeps its client (not its connection) until
     * the next handshake: the certificates the server sent before the
     * failure are copies owned by it, and CHAIN shows them. */
    struct tls_client *tlc_failed;
    int tls_logged;
    short want;                 /* POLLIN/POLLOUT the transport waits for    */
    /* SMTP i/o */
    struct smtp_parser parser;
    unsigned char inbuf[8192];
    size_t inlen;
    unsigned char outbuf[1100];
    size_t outlen, outoff;
    int io_eof, io_errno, parse_err;
    /* A failure inside the TLS session, in words (tls_client_fail): what
     * arrived, a KeyUpdate, an alert.  io_errno is set only when a system
     * call returned it. */
    char io_words[320];
    int io_kind;                /* enum tls_fail_kind, 0 none                */
    /* When the running step last received a byte (engine_now_ms, 0 none):
     * a slow server is told from a silent one at the deadline. */
    int64_t last_in_ms;
    /* EHLO2 after a server's TLS 1.3 KeyUpdate (mbedTLS cannot follow it):
     * 1 a TLS 1.2 session on a fresh connection is being made (side probe
     * SIDE_TLS12_PKCS1), 2 the EHLO is re-run over it; 0 otherwise. */
    int ku_state;
    char ku_words[320];
    size_t step_in;             /* bytes the running step received           */
    /* raw command typed by the operator */
    int cmd_active, cmd_phase;
    /* engine_raw.c: what the reply in flight answers, DATA mode or closed
     * by the operator's QUIT (raw_words say how), a session kept open
     * before QUIT (hold_quit asked for it, held: it is) */
    int raw_expect, hold_quit, held;
    int findings_logged;        /* FINDING records written (finish or hold) */
    enum engine_raw_mode raw_mode;
    char raw_words[128];
    /* side handshakes of the HANDSHAKE step (engine_side.c, probe/side.h) */
    struct side_probe *side[3];
    int n_side;
    char hs_extra[200];         /* HANDSHAKE failure: what else we saw      */
    /* the POLICY step (engine_policy.c): the TXT answer being read, the
     * policy host's addresses, the HTTPS fetch */
    struct dns_txt *pol_txt;
    struct mxs_dns_facts *pol_host;
    struct https_fetch *pol_fetch;
};

int64_t engine_now_us(void);
int64_t engine_now_ms(void);
void engine_event(struct engine *e, enum mxs_event_type t, enum mxs_step s,
                  enum mxs_step_state st, uint32_t seq);
void engine_rec_add(struct engine *e, enum mxs_rec_kind k, enum mxs_step s,
                   const void *data, size_t len);
__attribute__((format(printf, 4, 5)))
void engine_rec_printf(struct engine *e, enum mxs_rec_kind k, enum mxs_step s, const char *fmt, ...);
void engine_smtp_line_cb(void *arg, const char *line, size_t len, int cut);

/* ---- step state (engine.c) ---- */
/* The one state setter: state, elapsed time (-1: keep) and detail (NULL:
 * keep) of step s.  No record, no event: the callers below add those. */
void engine_step_set(struct engine *e, enum mxs_step s, enum mxs_step_state st,
                     int64_t elapsed_ms, const char *detail);
/* The running step ends: its result, its STEP (and ERROR) record, the event,
 * the diagnosis again.  fmt NULL keeps the detail. */
__attribute__((format(printf, 4, 5)))
void engine_step_end(struct engine *e, enum mxs_step s, enum mxs_step_state st,
                     const char *fmt, ...);
void engine_step_skip(struct engine *e, enum mxs_step s, const char *why);
void engine_run_diag(struct engine *e);
/* The findings as FINDING records (the run's end, or a hold before QUIT:
 * a transcript saved then has them); sets findings_logged. */
void engine_log_findings(struct engine *e);
/* Advance step s (engine_steps.c): 1 done, -1 failed (step ended), 0 waiting. */
int engine_step_run(struct engine *e, enum mxs_step s);
/* CHAIN's DANE part (engine_dane.c): every TLSA record of the MX probed
 * against the certificates der[0..n) as sent; fills the chain facts' dane_*
 * and one transcript line per record. */
void engine_dane_check(struct engine *e, const unsigned char *const *der, const size_t *len, int n);
/* The same for the RSA-only handshake's chain (after alt_leaf is set). */
void engine_dane_check_alt(struct engine *e, const unsigned char *const *der, const size_t *len, int n);

/* ---- connection and SMTP I/O (engine_io.c) ---- */
void engine_conn_close(struct engine *e);
void engine_send_line(struct engine *e, const char *line);
/* 1 all sent, 0 would block, -1 error (e->io_errno, or e->io_words). */
int engine_flush_out(struct engine *e);
/* Why the last read or write failed, in words: the TLS words, the system
 * error, or "the server closed the connection".  Never an invented errno. */
const char *engine_io_words(struct engine *e, char *buf, size_t n);
void engine_io_clear(struct engine *e);
/* Plain bytes where TLS was expected belong in the exchange, one record per
 * line as for any SMTP reply: first (what the record decoder saw) plus what
 * else is already here (one non-blocking read: mbedTLS reads a record
 * header's worth), into b (cap bytes).  Returns the bytes in b. */
size_t engine_rec_plain(struct engine *e, enum mxs_step s, const unsigned char *first,
                        size_t nfirst, unsigned char *b, size_t cap);
/* The first line of such bytes for words: raw (NUL as '.'; every output
 * escapes step words itself), "..." when cut to fit len. */
const char *engine_plain_shown(const unsigned char *b, size_t n, char *shown, size_t len);
/* The words for step s passing its deadline: "no answer" only when nothing
 * came; else how much arrived and when the last byte did. */
const char *engine_timeout_words(struct engine *e, enum mxs_step s, char *buf, size_t n);
/* One reply: 1 complete (in *r), 0 waiting, -1 error: io_eof/io_errno or a
 * parser error in e->parse_err. */
int engine_read_reply(struct engine *e, struct mxs_reply *r);
/* What the server started but never finished goes into the transcript. */
void engine_record_partial(struct engine *e, enum mxs_step s);
/* Send cmd (NULL: none), flush, read its reply: 1 with the reply, 0 waiting,
 * -1 failed (the step ended with "what: why"), -2 (EHLO2 only, once) the
 * server's KeyUpdate ended the TLS session: the step is not ended, the
 * caller re-runs it (e->io_words say what happened). */
int engine_exchange(struct engine *e, enum mxs_step s, const char *cmd, struct mxs_reply *r,
                    const char *what);

/* ---- the operator's raw commands (engine_raw.c) ---- */
enum mxs_progress engine_raw_progress(struct engine *e);
/* Esc while a raw command waits: a note; DATA mode ends when the "." was
 * what waited (the message's fate is unknown, the server's state too). */
void engine_raw_cancel(struct engine *e);
/* The next step is QUIT: 1 when the session is to stay open (the run
 * stops here; a note says so once), 0 to run QUIT. */
int engine_raw_hold(struct engine *e);
/* A session kept open is closed (re-run, engine_free): QUIT written once,
 * not awaited; a note says why. */
void engine_raw_close_held(struct engine *e, const char *why);
/* Why the QUIT step has nothing to do (the operator's QUIT), or NULL. */
const char *engine_raw_quit_skip(const struct engine *e);

/* ---- side handshakes (engine_side.c) ---- */
/* Start one (real sockets only: a scripted transport in tests speaks for
 * one connection).  The address and names are the main probe's. */
void engine_side_start(struct engine *e, int kind);
int engine_side_pending(const struct engine *e);
void engine_side_pump(struct engine *e);
int engine_side_pollfds(struct engine *e, struct pollfd *fds, int max);
void engine_side_cancel(struct engine *e, const char *why);
void engine_side_free(struct engine *e);
/* The finished result of that kind, NULL when none ran or it still runs. */
const struct side_result *engine_side_result(const struct engine *e, int kind);
/* A completed side session of that kind becomes the engine's own
 * (transport, TLS client).  0, or -1 when there is none. */
int engine_side_adopt(struct engine *e, int kind);
/* EHLO2 after the server's TLS 1.3 KeyUpdate (mbedTLS cannot follow it):
 * start, pump and adopt a TLS 1.2 session on a fresh connection (e->ku_state
 * 0 -> 1 -> 2).  1 adopted (re-run the EHLO), 0 waiting, -1 the step ended. */
int engine_side_key_update(struct engine *e);
/* The engine's TLS record callback (transcript), for an adopted session. */
void engine_side_tls_record(void *arg, int from_server, int type, int version,
                            const unsigned char *body, size_t len);

/* ---- the POLICY step (engine_policy.c) ---- */
int engine_step_policy(struct engine *e);
/* Why POLICY cannot run for this target (a host or an address was given,
 * RESOLVE failed), or NULL. */
const char *engine_policy_cannot_run(const struct engine *e);
int engine_policy_pollfds(struct engine *e, struct pollfd *fds, int max);
int engine_policy_timeout_ms(struct engine *e);
/* Stop a running fetch (cancel, deadline); the facts stay. */
void engine_policy_stop(struct engine *e);
/* That, and forget the facts (re-run, free). */
void engine_policy_clear(struct engine *e);

void engine_chain_clear(struct engine *e);
/* A new engine for MX mx, address addr of src's RESOLVE (the survey):
 * the DNS facts and RESOLVE records are copied, the next step is CONNECT.
 * NULL when src has no such address. */
struct engine *engine_new_resolved(const struct engine *src, int mx, int addr);
/* Tests and the engine fuzzer: connect through another transport. */
void engine_set_factory(struct engine *e, net_factory f, void *arg);
/* How a list runner (cmd/domains.c) runs e: lookups on its shared libunbound
 * context sh (dns.h; the runner calls dns_shared_process() each pass and
 * owns sh), the RSA-only side handshake only when needed (side_lazy above).
 * Engines made from e by engine_new_resolved() run the same way. */
void engine_set_list_mode(struct engine *e, struct dns_shared *sh);

#endif
