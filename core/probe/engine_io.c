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
                e->io_errno = EPIPE;
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
            if (fr == SMTP_REPLY)
                return 1;
            if (fr == SMTP_ERR_SYNTAX || fr == SMTP_ERR_TOO_LONG) {
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
                e->io_errno = ECONNRESET;
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
    p->start = p->len;
    e->inlen = 0;
}

static void io_failure(struct engine *e, enum mxs_step s, const char *what)
{
    engine_record_partial(e, s);
    if (e->parse_err == SMTP_ERR_TOO_LONG)
        engine_step_end(e, s, MXS_ST_FAIL, "%s: the reply has more than %d lines (endless reply)",
                        what, MXS_SMTP_MAX_REPLY_LINES);
    else if (e->parse_err)
        engine_step_end(e, s, MXS_ST_FAIL, "%s: the server sent a line that is not an SMTP reply", what);
    else if (e->io_eof) {
        e->reset[s] = 1;
        engine_step_end(e, s, MXS_ST_FAIL, "%s: the server closed the connection", what);
    } else {
        e->reset[s] = 1;
        engine_step_end(e, s, MXS_ST_FAIL, "%s: %s (errno %d)", what, strerror(e->io_errno), e->io_errno);
    }
}

/* Send a command (phase 0), flush (phase 1), read its reply (phase 2).
 * Returns 1 with the reply, 0 waiting, -1 failed (step ended). */
int engine_exchange(struct engine *e, enum mxs_step s, const char *cmd, struct mxs_reply *r,
                    const char *what)
{
    if (e->phase == 0) {
        e->io_eof = 0;
        e->io_errno = 0;
        e->parse_err = 0;
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
        io_failure(e, s, what);
        return -1;
    }
    return rr;
}
