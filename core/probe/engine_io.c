/*
 * engine_io.c - the engine's connection and SMTP I/O: closing the
 * transport, sending a command line, flushing, reading one reply through the
 * parser (plaintext or TLS), and one command/reply exchange that ends the
 * step on failure.  Owner: the engine.  Never blocks: "would block" is
 * returned as 0 with e->want set for engine_pollfds().
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "probe/engine_int.h"
#include "probe/net.h"
#include "probe/smtp.h"
#include "probe/tls.h"

#define INBUF_MAX 8192

void engine_conn_close(struct engine *e)
{
    if (e->tlc) {
        tls_client_free(e->tlc);
        e->tlc = NULL;
    }
    if (e->tlc_failed) {
        tls_client_free(e->tlc_failed);
        e->tlc_failed = NULL;
    }
    if (e->t.ops) {
        e->t.ops->close(e->t.ctx);
        e->t.ops = NULL;
        e->t.ctx = NULL;
    }
    e->connected = 0;
    e->tls_active = 0;
    e->inlen = 0;
    e->outlen = e->outoff = 0;
    smtp_parser_reset(&e->parser);
    e->parser.line_cb = engine_smtp_line_cb;
    e->parser.line_arg = e;
}

void engine_smtp_line_cb(void *arg, const char *line, size_t len, int cut)
{
    struct engine *e = arg;
    enum mxs_step s = e->running ? e->cur : MXS_STEP_NONE;
    engine_rec_add(e, MXS_REC_SMTP_IN, s, line, len);
    if (cut)
        engine_rec_printf(e, MXS_REC_NOTE, s, "the line above was cut: longer than %d bytes",
                          MXS_SMTP_MAX_LINE);
}

void engine_send_line(struct engine *e, const char *line)
{
    size_t n = strlen(line);
    if (n + 2 > sizeof e->outbuf - e->outlen)
        n = sizeof e->outbuf - e->outlen - 2;
    memcpy(e->outbuf + e->outlen, line, n);
    e->outlen += n;
    e->outbuf[e->outlen++] = '\r';
    e->outbuf[e->outlen++] = '\n';
    engine_rec_add(e, MXS_REC_SMTP_OUT, e->running ? e->cur : MXS_STEP_NONE, line, n);
}

void engine_io_clear(struct engine *e)
{
    e->io_eof = 0;
    e->io_errno = 0;
    e->parse_err = 0;
    e->io_words[0] = 0;
    e->io_kind = 0;
    e->last_in_ms = 0;
    e->step_in = 0;
}

const char *engine_timeout_words(struct engine *e, enum mxs_step s, char *buf, size_t n)
{
    double lim = e->set.timeout_ms[s] / 1000.0;
    size_t got = s == MXS_STEP_HANDSHAKE ? e->tls.bytes_in : e->step_in;
    int lines = e->parser.cur.n_lines;
    if (s == MXS_STEP_RESOLVE || s == MXS_STEP_CONNECT || got == 0 || e->last_in_ms <= 0) {
        snprintf(buf, n, "no answer within the %.1f s deadline", lim);
        return buf;
    }
    double before = (e->deadline - e->last_in_ms) / 1000.0;
    if (before < 0)
        before = 0;
    char what[96];
    if (s != MXS_STEP_HANDSHAKE && lines > 0)
        snprintf(what, sizeof what, "%d complete line%s (%zu bytes in all)", lines,
                 lines == 1 ? "" : "s", got);
    else
        snprintf(what, sizeof what, "%zu byte%s", got, got == 1 ? "" : "s");
    const char *how = s == MXS_STEP_HANDSHAKE ? "the server was answering, too slowly"
                      : before < 1.0 ? "the server was still sending"
                                     : "the server was answering, then stopped";
    snprintf(buf, n, "%s not complete within the %.1f s deadline: %s arrived, the last %.1f s "
             "before the deadline: %s", s == MXS_STEP_HANDSHAKE ? "the handshake was" : "the reply was",
             lim, what, before, how);
    return buf;
}

const char *engine_io_words(struct engine *e, char *buf, size_t n)
{
    if (e->io_words[0])
        snprintf(buf, n, "%s", e->io_words);
    else if (e->io_eof)
        snprintf(buf, n, "the server closed the connection");
    else if (e->io_errno)
        snprintf(buf, n, "%s (errno %d)", strerror(e->io_errno), e->io_errno);
    else
        snprintf(buf, n, "the connection failed");
    return buf;
}

const char *engine_plain_shown(const unsigned char *b, size_t n, char *shown, size_t len)
{
    size_t k = 0;
    for (; k < n && k + 4 < len && b[k] != '\r' && b[k] != '\n'; k++)
        shown[k] = b[k] ? (char)b[k] : '.';
    if (k < n && b[k] != '\r' && b[k] != '\n')
        memcpy(shown + k, "...", 3), k += 3;
    shown[k] = 0;
    return shown;
}

size_t engine_rec_plain(struct engine *e, enum mxs_step s, const unsigned char *first,
                        size_t nfirst, unsigned char *b, size_t cap)
{
    size_t n = nfirst < cap ? nfirst : cap, i = 0;
    memcpy(b, first, n);
    ssize_t more = n < cap ? e->t.ops->read(e->t.ctx, b + n, cap - n) : 0;
    if (more > 0)
        n += (size_t)more;
    while (i < n) {
        size_t j = i;
        while (j < n && b[j] != '\n')
            j++;
        size_t l = j - i;
        if (l && b[i + l - 1] == '\r')
            l--;
        engine_rec_add(e, MXS_REC_SMTP_IN, s, b + i, l);
        i = j + 1;
    }
    return n;
}

/* A TLS read or write failed: ask the TLS client what happened.  Plaintext
 * in the session: mbedTLS read one record header's worth; what else is
 * already here (one non-blocking read) goes to the transcript, line by
 * line, so the operator sees what the server said. */
static void io_tls_failed(struct engine *e)
{
    int sys = 0;
    enum mxs_step s = e->running ? e->cur : MXS_STEP_NONE;
    e->io_kind = (int)tls_client_fail(e->tlc, e->io_words, sizeof e->io_words, &sys);
    e->io_errno = sys;
    if (e->io_kind == TLS_FK_EOF)
        e->io_eof = 1;
    /* Our library's limit whichever step met it (EHLO2 usually; the
     * greeting under implicit TLS): the diagnosis files it as ours. */
    if (e->io_kind == TLS_FK_KEY_UPDATE)
        e->tls.key_update = 1;
    if (e->io_kind != TLS_FK_NOT_TLS)
        return;
    const struct tlsrec_facts *raw = tls_client_raw(e->tlc);
    unsigned char b[512];
    size_t n = engine_rec_plain(e, s, raw->late_bytes, raw->n_late, b, sizeof b);
    engine_rec_printf(e, MXS_REC_NOTE, s, "the %zu byte%s above came in the clear inside the TLS "
                      "session: not a TLS record", n, n == 1 ? "" : "s");
    char shown[72];
    snprintf(e->io_words, sizeof e->io_words,
             "not a TLS record: the server sent '%s' in the clear inside the TLS session "
             "(%zu bytes)", engine_plain_shown(b, n, shown, sizeof shown), n);
}

/* 1 all sent, 0 would block, -1 error (step_err set by caller). */
int engine_flush_out(struct engine *e)
{
    while (e->outoff < e->outlen) {
        ssize_t n;
        if (e->tls_active) {
            n = tls_client_write(e->tlc, e->outbuf + e->outoff, e->outlen - e->outoff);
            if (n == TLS_WANT_READ || n == TLS_WANT_WRITE) {
                e->want = n == TLS_WANT_READ ? POLLIN : POLLOUT;
                return 0;
            }
            if (n < 0) {
                io_tls_failed(e);
                return -1;
            }
        } else {
            n = e->t.ops->write(e->t.ctx, e->outbuf + e->outoff, e->outlen - e->outoff);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    e->want = POLLOUT;
                    return 0;
                }
                e->io_errno = errno;
                return -1;
            }
        }
        e->outoff += (size_t)n;
    }
    e->outlen = e->outoff = 0;
    return 1;
}

/* Read one reply.  1 complete (in *r), 0 waiting, -1 error: io_eof/io_errno
 * or a parser error in e->parse_err. */
int engine_read_reply(struct engine *e, struct mxs_reply *r)
{
    for (;;) {
        /* The parser may hold a whole reply already (pipelined by the
         * server): feed even when there is nothing new. */
        if (e->inlen || smtp_parser_pending(&e->parser)) {
            size_t used = 0;
            enum smtp_feed_result fr = smtp_parser_feed(&e->parser, e->inbuf, e->inlen, &used, r);
            if (used > e->inlen)
                used = e->inlen;
            memmove(e->inbuf, e->inbuf + used, e->inlen - used);
            e->inlen -= used;
            if (fr == SMTP_REPLY) {
                if (r->n_lines > MXS_SMTP_MAX_REPLY_LINES)
                    engine_rec_printf(e, MXS_REC_NOTE, e->running ? e->cur : MXS_STEP_NONE,
                                      "the reply had %d lines (%zu bytes): all read; lines %d to %d "
                                      "were not kept (mxscope keeps %d lines of a reply and the "
                                      "final one); the final line decides, as for a sender",
                                      r->n_lines, r->bytes, MXS_SMTP_MAX_REPLY_LINES + 1,
                                      r->n_lines - 1, MXS_SMTP_MAX_REPLY_LINES);
                return 1;
            }
            if (fr == SMTP_ERR_SYNTAX) {
                e->parse_err = fr;
                return -1;
            }
            if (e->inlen && used == 0) {
                /* The parser took nothing and wants more: should not happen
                 * with a bounded parser; fail rather than spin. */
                e->parse_err = SMTP_ERR_SYNTAX;
                return -1;
            }
        }
        if (e->inlen >= INBUF_MAX)
            continue;
        /* A server that never stops sending never makes a read wait: the
         * stage deadline is checked here too (the caller ends the step). */
        if (engine_now_ms() >= e->deadline)
            return 0;
        ssize_t n;
        if (e->tls_active) {
            n = tls_client_read(e->tlc, e->inbuf + e->inlen, INBUF_MAX - e->inlen);
            if (n == TLS_WANT_READ || n == TLS_WANT_WRITE) {
                e->want = n == TLS_WANT_READ ? POLLIN : POLLOUT;
                return 0;
            }
            if (n == TLS_EOF) {
                e->io_eof = 1;
                return -1;
            }
            if (n < 0) {
                io_tls_failed(e);
                return -1;
            }
        } else {
            n = e->t.ops->read(e->t.ctx, e->inbuf + e->inlen, INBUF_MAX - e->inlen);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    e->want = POLLIN;
                    return 0;
                }
                e->io_errno = errno;
                return -1;
            }
            if (n == 0) {
                e->io_eof = 1;
                return -1;
            }
        }
        e->inlen += (size_t)n;
        e->step_in += (size_t)n;
        e->last_in_ms = engine_now_ms();
    }
}

/* Words for why a reply could not be read.  The transcript must be complete
 * up to the failure: a line the server started but never finished is in the
 * parser (or our input buffer) and is recorded as it was. */
void engine_record_partial(struct engine *e, enum mxs_step s)
{
    struct smtp_parser *p = &e->parser;
    if (!e->parse_err && p->len > p->start) {
        engine_rec_add(e, MXS_REC_SMTP_IN, s, p->buf + p->start, p->len - p->start);
        engine_rec_printf(e, MXS_REC_NOTE, s, "the line above is incomplete: %zu bytes without CRLF%s",
                          p->len - p->start, p->in_long_line ? " (after a cut long line)" : "");
    }
    if (!e->parse_err && e->inlen) {
        engine_rec_add(e, MXS_REC_SMTP_IN, s, e->inbuf, e->inlen);
        engine_rec_printf(e, MXS_REC_NOTE, s, "the line above is incomplete: %zu bytes without CRLF", e->inlen);
    }
    if (p->cur.n_lines > MXS_SMTP_MAX_REPLY_LINES)
        engine_rec_printf(e, MXS_REC_NOTE, s, "%d lines (%zu bytes) of an unfinished reply had "
                          "arrived; lines past %d were read and not kept",
                          p->cur.n_lines, p->cur_raw, MXS_SMTP_MAX_REPLY_LINES);
    p->start = p->len;
    e->inlen = 0;
}

static void io_failure(struct engine *e, enum mxs_step s, const char *what)
{
    char w[sizeof e->io_words + 40], mid[96] = "";
    int lines = e->parser.cur.n_lines;
    size_t bytes = e->parser.cur_raw;
    engine_record_partial(e, s);
    if (lines > 1)
        snprintf(mid, sizeof mid, " in the middle of a reply (%d lines, %zu bytes so far)", lines,
                 bytes);
    if (e->parse_err)
        engine_step_end(e, s, MXS_ST_FAIL, "%s: the server sent a line that is not an SMTP reply", what);
    else if (e->io_kind == TLS_FK_NOT_TLS || e->io_kind == TLS_FK_KEY_UPDATE ||
             e->io_kind == TLS_FK_ALERT || e->io_kind == TLS_FK_OTHER) {
        /* Something happened inside the TLS session: no reset, say what. */
        engine_step_end(e, s, MXS_ST_FAIL, "%s: %s", what, engine_io_words(e, w, sizeof w));
    } else if (e->io_eof) {
        e->reset[s] = 1;
        engine_step_end(e, s, MXS_ST_FAIL, "%s: the server closed the connection%s", what, mid);
    } else {
        e->reset[s] = 1;
        engine_step_end(e, s, MXS_ST_FAIL, "%s: %s%s", what, engine_io_words(e, w, sizeof w), mid);
    }
}

/* Send a command (phase 0), flush (phase 1), read its reply (phase 2).
 * Returns 1 with the reply, 0 waiting, -1 failed (step ended). */
int engine_exchange(struct engine *e, enum mxs_step s, const char *cmd, struct mxs_reply *r,
                    const char *what)
{
    if (e->phase == 0) {
        engine_io_clear(e);
        if (cmd)
            engine_send_line(e, cmd);
        e->phase = 1;
    }
    if (e->phase == 1) {
        int f = engine_flush_out(e);
        if (f < 0) {
            io_failure(e, s, what);
            return -1;
        }
        if (f == 0)
            return 0;
        e->phase = 2;
    }
    int rr = engine_read_reply(e, r);
    if (rr < 0) {
        if (e->io_kind == TLS_FK_KEY_UPDATE && s == MXS_STEP_EHLO2 && !e->ku_state)
            return -2;
        io_failure(e, s, what);
        return -1;
    }
    return rr;
}
