/*
 * engine_raw.c - the operator's own SMTP on the live session (engine_send,
 * the console's `send`): one command and its reply; DATA mode (after a 354
 * the body lines go out without waiting for a reply, a line "." ends the
 * message and waits for the final reply); the operator's QUIT (the session
 * is closed, and the QUIT step says so instead of reporting its own result);
 * and a session kept open before QUIT (engine_hold_quit: the console's `r`
 * stops there so `send` works).  Owner: the engine (raw-send path).
 *
 * Never blocks: engine_raw_progress() is called by engine_step() while
 * e->cmd_active, writes what the transport takes, reads what is there, and
 * returns "waiting".  One deadline per command (timeout-ehlo), set when it
 * is sent: a reply that dribbles in cannot stretch it.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "probe/engine_int.h"
#include "probe/smtp.h"
#include "probe/tls.h"

/* What the reply in flight answers. */
enum { RAW_CMD = 0, RAW_DATA, RAW_DOT, RAW_QUIT, RAW_BODY };

static int raw_verb_is(const char *line, const char *verb)
{
    size_t n = strlen(verb);
    return !strncasecmp(line, verb, n) && (line[n] == 0 || line[n] == ' ');
}

/* The operator's QUIT closed the session (221, or the server hung up). */
static void raw_closed(struct engine *e, const char *how)
{
    if (e->tls_active && e->tlc)
        tls_client_close_notify(e->tlc);
    engine_conn_close(e);
    e->raw_mode = ENGINE_RAW_CLOSED;
    e->held = 0;
    snprintf(e->raw_words, sizeof e->raw_words, "closed by the operator's QUIT (%s)", how);
    engine_rec_printf(e, MXS_REC_NOTE, MXS_STEP_NONE, "session %s", e->raw_words);
}

enum mxs_progress engine_raw_progress(struct engine *e)
{
    struct mxs_reply r;
    int64_t now = engine_now_ms();
    double lim = e->set.timeout_ms[MXS_STEP_EHLO] / 1000.0;
    if (now >= e->deadline) {
        e->cmd_active = 0;
        if (e->raw_expect == RAW_BODY) {
            engine_rec_printf(e, MXS_REC_ERROR, MXS_STEP_NONE, "the body line could not be "
                              "written within %.0f s: the server does not read", lim);
            return MXS_PROG_STEP_DONE;
        }
        engine_record_partial(e, MXS_STEP_NONE);
        engine_rec_printf(e, MXS_REC_ERROR, MXS_STEP_NONE, "no reply within %.0f s", lim);
        if (e->raw_expect == RAW_DOT)
            e->raw_mode = ENGINE_RAW_COMMAND; /* the message's fate is unknown */
        if (e->raw_expect == RAW_QUIT)
            raw_closed(e, "no reply within the deadline: mxscope closed the connection");
        return MXS_PROG_STEP_DONE;
    }
    if (e->cmd_phase == 0) {
        int f = engine_flush_out(e);
        if (f == 0)
            return MXS_PROG_WAITING;
        if (f < 0) {
            e->cmd_active = 0;
            char w[sizeof e->io_words + 40];
            engine_io_words(e, w, sizeof w);
            engine_conn_close(e);
            e->raw_mode = ENGINE_RAW_COMMAND;
            engine_rec_printf(e, MXS_REC_ERROR, MXS_STEP_NONE, "send failed: %s", w);
            return MXS_PROG_STEP_DONE;
        }
        e->cmd_phase = 1;
        if (e->raw_expect == RAW_BODY) {
            /* A body line has no reply (RFC 5321 4.1.1.4): done once written. */
            e->cmd_active = 0;
            return MXS_PROG_STEP_DONE;
        }
        engine_io_clear(e);
    }
    int rr = engine_read_reply(e, &r);
    if (rr == 0)
        return MXS_PROG_WAITING;
    e->cmd_active = 0;
    if (rr < 0) {
        int eof = e->io_eof;
        engine_record_partial(e, MXS_STEP_NONE);
        if (e->raw_expect == RAW_QUIT && eof) {
            raw_closed(e, "the server closed the connection");
            return MXS_PROG_STEP_DONE;
        }
        engine_rec_printf(e, MXS_REC_ERROR, MXS_STEP_NONE, "%s",
                          eof ? "the server closed the connection" : "no valid reply");
        engine_conn_close(e);
        e->raw_mode = ENGINE_RAW_COMMAND;
        return MXS_PROG_STEP_DONE;
    }
    if (e->raw_expect == RAW_DATA && r.code == 354) {
        e->raw_mode = ENGINE_RAW_DATA;
        engine_rec_printf(e, MXS_REC_NOTE, MXS_STEP_NONE, "DATA mode: body lines go out as typed "
                          "without waiting for a reply; a line \".\" ends the message");
    } else if (e->raw_expect == RAW_DOT) {
        e->raw_mode = ENGINE_RAW_COMMAND;
    } else if (e->raw_expect == RAW_QUIT && r.code == 221) {
        char how[48];
        snprintf(how, sizeof how, "answered %d", r.code);
        raw_closed(e, how);
    }
    return MXS_PROG_STEP_DONE;
}

void engine_raw_cancel(struct engine *e)
{
    e->cmd_active = 0;
    if (e->raw_expect == RAW_DOT)
        e->raw_mode = ENGINE_RAW_COMMAND;
    engine_rec_printf(e, MXS_REC_NOTE, MXS_STEP_NONE, "command cancelled by the operator");
}

int engine_send(struct engine *e, const char *line, char *err, size_t errlen)
{
    if (e->replay) {
        snprintf(err, errlen, "a loaded session is read-only");
        return -1;
    }
    if (e->raw_mode == ENGINE_RAW_CLOSED) {
        snprintf(err, errlen, "the session was %s: `restart` connects again", e->raw_words);
        return -1;
    }
    if ((!e->connected || !e->t.ops) && e->st[MXS_STEP_QUIT] == MXS_ST_OK) {
        snprintf(err, errlen, "the QUIT step closed the session: `restart` connects again "
                 "(the console's r stops before QUIT)");
        return -1;
    }
    if (!e->connected || !e->t.ops) {
        snprintf(err, errlen, "no live session: run the steps up to EHLO first");
        return -1;
    }
    if (e->running || e->cmd_active) {
        snprintf(err, errlen, "a step is running; wait or cancel it");
        return -1;
    }
    if (strpbrk(line, "\r\n")) {
        snprintf(err, errlen, "one command per line");
        return -1;
    }
    if (strlen(line) > 998) {
        snprintf(err, errlen, "line longer than 998 bytes (RFC 5321)");
        return -1;
    }
    e->deadline = engine_now_ms() + e->set.timeout_ms[MXS_STEP_EHLO];
    e->cmd_active = 1;
    e->cmd_phase = 0;
    if (e->raw_mode == ENGINE_RAW_DATA) {
        /* Body lines: no reply is awaited, and what the server may say
         * early stays unread until the final reply (after "."). */
        if (!strcmp(line, ".")) {
            e->raw_expect = RAW_DOT;
            engine_send_line(e, ".");
            return 0;
        }
        e->raw_expect = RAW_BODY;
        if (line[0] == '.') {
            /* RFC 5321 4.5.2: a leading "." is doubled, or the server would
             * take ".x" for "x" (and "." alone for the end). */
            char stuffed[1000];
            snprintf(stuffed, sizeof stuffed, ".%s", line);
            engine_send_line(e, stuffed);
            engine_rec_printf(e, MXS_REC_NOTE, MXS_STEP_NONE, "dot-stuffed (RFC 5321 4.5.2): the "
                              "line starts with \".\", sent with one more; the server removes it");
        } else {
            engine_send_line(e, line);
        }
        return 0;
    }
    if (raw_verb_is(line, "STARTTLS")) {
        /* A raw 220 would leave the server waiting for a ClientHello while
         * the engine still talks SMTP in the clear: the STARTTLS step does
         * it properly. */
        e->cmd_active = 0;
        snprintf(err, errlen, "STARTTLS is a step, not a raw command: `restart STARTTLS` runs it "
                 "on a new connection");
        return -1;
    }
    e->raw_expect = raw_verb_is(line, "DATA") ? RAW_DATA : raw_verb_is(line, "QUIT") ? RAW_QUIT : RAW_CMD;
    /* Bytes from an earlier, unexpected reply would be taken for this one. */
    e->inlen = 0;
    smtp_parser_reset(&e->parser);
    e->parser.line_cb = engine_smtp_line_cb;
    e->parser.line_arg = e;
    engine_send_line(e, line);
    return 0;
}

enum engine_raw_mode engine_raw_mode(const struct engine *e)
{
    return e->raw_mode;
}

void engine_hold_quit(struct engine *e, int on)
{
    e->hold_quit = on;
}

int engine_held_open(const struct engine *e)
{
    return e->held && e->connected && !e->running;
}

int engine_raw_hold(struct engine *e)
{
    if (!e->hold_quit || !e->connected || e->raw_mode == ENGINE_RAW_CLOSED)
        return 0;
    if (!e->held) {
        e->held = 1;
        engine_rec_printf(e, MXS_REC_NOTE, MXS_STEP_NONE, "session kept open for the operator: "
                          "QUIT not sent yet (`send` talks to the server; n or r runs QUIT)");
        engine_run_diag(e);
        engine_log_findings(e); /* what a save now shows; finish() will not repeat them */
    }
    return 1;
}

void engine_raw_close_held(struct engine *e, const char *why)
{
    if (!e->held || !e->connected || e->replay)
        return;
    e->held = 0;
    /* Politely, without waiting: one write of QUIT, then the close.  Inside
     * DATA a QUIT would be a line of the message: just close (the server
     * drops an unfinished message). */
    int in_data = e->raw_mode == ENGINE_RAW_DATA;
    if (!in_data) {
        engine_send_line(e, "QUIT");
        engine_flush_out(e);
    }
    if (e->tls_active && e->tlc)
        tls_client_close_notify(e->tlc);
    engine_conn_close(e);
    e->raw_mode = ENGINE_RAW_COMMAND;
    engine_rec_printf(e, MXS_REC_NOTE, MXS_STEP_NONE, "the session kept open was closed (%s): %s",
                      why, in_data ? "in the middle of DATA, without QUIT: the message is abandoned"
                                   : "QUIT sent, its reply not awaited");
}

const char *engine_raw_quit_skip(const struct engine *e)
{
    return e->raw_mode == ENGINE_RAW_CLOSED ? e->raw_words : NULL;
}
