/*
 * lab_smtp.c - one lab connection's SMTP side: bounded in/out buffers with
 * back-pressure, a small honest ESMTP server (each scenario's greeting,
 * EHLO and STARTTLS answers), DATA counted and thrown away, and the
 * per-connection state machine (lab_service) that the lab thread drives.
 * Owned by the lab module.
 */
#include "lab/lab_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* ---- output ------------------------------------------------------------- */

/* Queue bytes; replies are small and the queue is only filled while it has
 * LAB_OUT_ROOM free, so a full queue means a bug or a hostile client: drop. */
void lab_queue(struct lab_conn *c, const char *s, size_t n)
{
    if (n > LAB_OUT_MAX - c->out_len)
        n = LAB_OUT_MAX - c->out_len;
    memcpy(c->out + c->out_len, s, n);
    c->out_len += n;
}

static void lab_reply(struct lab_conn *c, const char *s)
{
    lab_queue(c, s, strlen(s));
}

static void lab_consume_out(struct lab_conn *c, size_t n)
{
    memmove(c->out, c->out + n, c->out_len - n);
    c->out_len -= n;
}

/* Returns -1 when the connection is dead. */
static int lab_flush(struct lab_conn *c)
{
    while (c->out_len > 0) {
        if (c->tls_active) {
            size_t n = c->tls_pending ? c->tls_pending
                                      : (c->out_len > 16384 ? 16384 : c->out_len);
            int r = mbedtls_ssl_write(&c->ssl, c->out, n);
            if (r == MBEDTLS_ERR_SSL_WANT_WRITE || r == MBEDTLS_ERR_SSL_WANT_READ) {
                /* mbedTLS wants the very same call again later. */
                c->tls_pending = n;
                c->tls_want_write = (r == MBEDTLS_ERR_SSL_WANT_WRITE);
                return 0;
            }
            if (r < 0)
                return -1;
            c->tls_pending = 0;
            c->tls_want_write = 0;
            lab_consume_out(c, (size_t)r);
        } else {
            /* One send of everything queued: the plaintext-after-starttls
             * injection must reach the client in the same segment as the 220. */
            ssize_t r = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
            if (r < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                    return 0;
                return -1;
            }
            lab_consume_out(c, (size_t)r);
        }
    }
    return 0;
}

/* ---- SMTP --------------------------------------------------------------- */

static int lab_verb(const char *line, const char *verb)
{
    size_t n = strlen(verb);
    return strncasecmp(line, verb, n) == 0 && (line[n] == '\0' || line[n] == ' ');
}

static void lab_ehlo_reply(struct lab_conn *c)
{
    const struct lab_def *d = &lab_defs[c->sc];
    if (d->starttls == S_MASKED) {
        /* What a Cisco PIX/ASA "fixup protocol smtp" leaves of an EHLO reply:
         * unknown keywords overwritten, STARTTLS turned into XXXXXXXA. */
        lab_reply(c, "250-" LAB_HOST "\r\n"
                     "250-XXXXXXXA\r\n"
                     "250-**********\r\n"
                     "250-SIZE 10240000\r\n"
                     "250-*******************\r\n"
                     "250 8BITMIME\r\n");
        return;
    }
    lab_reply(c, "250-" LAB_HOST "\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n");
    if (!c->tls_active && d->starttls != S_NONE)
        lab_reply(c, "250-STARTTLS\r\n");
    lab_reply(c, "250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n");
}

static void lab_starttls(struct lab_conn *c, const char *arg)
{
    const struct lab_def *d = &lab_defs[c->sc];
    if (d->starttls == S_MASKED) {
        /* The fixup lets no unknown verb through: it arrives as XXXXXXXX. */
        lab_reply(c, "500 5.5.1 Command unrecognized: \"XXXXXXXX\"\r\n");
        return;
    }
    if (d->starttls == S_NONE) {
        lab_reply(c, "502 5.5.1 Error: command not implemented\r\n");
        return;
    }
    if (c->tls_active) {
        lab_reply(c, "554 5.5.1 Error: TLS already active\r\n");
        return;
    }
    if (*arg) {
        lab_reply(c, "501 5.5.4 Syntax: STARTTLS\r\n");
        return;
    }
    if (d->starttls == S_REFUSE) {
        lab_reply(c, "454 4.7.0 TLS not available due to local problem\r\n");
        return;
    }
    /* Anything pipelined after STARTTLS is plaintext the client must not
     * have sent; a careful server drops it (CVE-2011-0411). */
    c->in_len = 0;
    c->skip_line = 0;
    if (d->starttls == S_INJECT) {
        lab_reply(c, "220 2.0.0 Ready to start TLS\r\n250-injected\r\n250 pipelined\r\n");
        c->phase = P_STARTTLS_FLUSH;
    } else if (d->starttls == S_TLS10) {
        lab_reply(c, "220 2.0.0 Ready to start TLS\r\n");
        c->phase = P_TLS10_FLUSH;
    } else {
        lab_reply(c, "220 2.0.0 Ready to start TLS\r\n");
        c->phase = P_STARTTLS_FLUSH;
    }
}

static void lab_command(struct lab_conn *c, char *line)
{
    const char *arg;
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' '))
        line[--n] = '\0';
    arg = strchr(line, ' ');
    arg = arg ? arg + 1 : "";
    while (*arg == ' ')
        arg++;

    if (lab_verb(line, "QUIT")) {
        lab_reply(c, "221 2.0.0 Bye\r\n");
        c->phase = P_CLOSING;
        return;
    }
    if (lab_defs[c->sc].greet == G_REJECT) {
        /* RFC 5321 3.1: after a 554 greeting, wait for QUIT, answer 503. */
        lab_reply(c, "503 5.5.1 Error: no SMTP service here\r\n");
        return;
    }
    if (lab_verb(line, "EHLO") || lab_verb(line, "HELO")) {
        if (!*arg) {
            lab_reply(c, lab_verb(line, "EHLO") ? "501 5.5.4 Syntax: EHLO hostname\r\n"
                                                : "501 5.5.4 Syntax: HELO hostname\r\n");
            return;
        }
        c->helo = 1;
        c->mail = c->rcpt = 0;
        if (lab_verb(line, "EHLO"))
            lab_ehlo_reply(c);
        else
            lab_reply(c, "250 " LAB_HOST "\r\n");
    } else if (lab_verb(line, "STARTTLS")) {
        lab_starttls(c, arg);
    } else if (lab_verb(line, "NOOP")) {
        lab_reply(c, "250 2.0.0 Ok\r\n");
    } else if (lab_verb(line, "RSET")) {
        c->mail = c->rcpt = 0;
        lab_reply(c, "250 2.0.0 Ok\r\n");
    } else if (lab_verb(line, "MAIL")) {
        if (!c->helo)
            lab_reply(c, "503 5.5.1 Error: send HELO/EHLO first\r\n");
        else if (c->mail)
            lab_reply(c, "503 5.5.1 Error: nested MAIL command\r\n");
        else if (strncasecmp(arg, "FROM:", 5) != 0)
            lab_reply(c, "501 5.5.4 Syntax: MAIL FROM:<address>\r\n");
        else {
            c->mail = 1;
            lab_reply(c, "250 2.1.0 Ok\r\n");
        }
    } else if (lab_verb(line, "RCPT")) {
        if (!c->mail)
            lab_reply(c, "503 5.5.1 Error: need MAIL command\r\n");
        else if (strncasecmp(arg, "TO:", 3) != 0)
            lab_reply(c, "501 5.5.4 Syntax: RCPT TO:<address>\r\n");
        else {
            c->rcpt++;
            lab_reply(c, "250 2.1.5 Ok\r\n");
        }
    } else if (lab_verb(line, "DATA")) {
        if (!c->rcpt)
            lab_reply(c, "503 5.5.1 Error: need RCPT command\r\n");
        else {
            c->data = 1;
            c->data_bytes = 0;
            lab_reply(c, "354 End data with <CR><LF>.<CR><LF>\r\n");
        }
    } else if (lab_verb(line, "VRFY")) {
        lab_reply(c, "252 2.0.0 Cannot VRFY user; try RCPT\r\n");
    } else {
        lab_reply(c, "502 5.5.2 Error: command not recognized\r\n");
    }
}

/* One line of message content (without its LF); "." ends DATA. */
static void lab_data_line(struct lab_conn *c, const char *line, size_t n)
{
    if (n > 0 && line[n - 1] == '\r')
        n--;
    if (n == 1 && line[0] == '.') {
        c->data = 0;
        c->mail = c->rcpt = 0;
        lab_reply(c, c->data_bytes > LAB_DATA_MAX
                         ? "552 5.3.4 Error: message too big (discarded)\r\n"
                         : "250 2.0.0 Ok: queued nowhere (the lab discards mail)\r\n");
        return;
    }
    c->data_bytes += (long)n + 2;
    if (c->data_bytes > LAB_DATA_MAX + 1)
        c->data_bytes = LAB_DATA_MAX + 1; /* counted enough to refuse      */
}

/* Handle the complete lines in c->in while there is room to answer. */
static void lab_process(struct lab_conn *c)
{
    while (c->phase == P_SMTP && c->out_len + LAB_OUT_ROOM <= LAB_OUT_MAX) {
        unsigned char *lf = memchr(c->in, '\n', c->in_len);
        if (!lf) {
            if (c->in_len == LAB_IN_MAX) {
                /* A line longer than we keep: drop it, say so once. */
                if (c->data)
                    c->data_bytes += (long)c->in_len;
                else if (!c->skip_line)
                    lab_reply(c, "500 5.5.2 Error: line too long\r\n");
                c->skip_line = 1;
                c->in_len = 0;
            }
            return;
        }
        size_t n = (size_t)(lf - c->in);
        *lf = '\0';
        if (c->skip_line) {
            c->skip_line = 0;
            if (c->data)
                c->data_bytes += (long)n + 1;
        } else if (c->data) {
            lab_data_line(c, (const char *)c->in, n);
        } else if (memchr(c->in, '\0', n)) {
            lab_reply(c, "500 5.5.2 Error: NUL in command\r\n");
        } else {
            lab_command(c, (char *)c->in);
        }
        /* lab_starttls() may have emptied the buffer on purpose. */
        if (c->in_len >= n + 1) {
            memmove(c->in, c->in + n + 1, c->in_len - n - 1);
            c->in_len -= n + 1;
        }
    }
}

/* Read what is there.  Returns 1 progress, 0 nothing, -1 EOF or error. */
int lab_read(struct lab_conn *c)
{
    size_t room = LAB_IN_MAX - c->in_len;
    if (room == 0)
        return 0;
    if (c->tls_active) {
        int r = mbedtls_ssl_read(&c->ssl, c->in + c->in_len, room);
        if (r == MBEDTLS_ERR_SSL_WANT_READ)
            return 0;
        if (r == MBEDTLS_ERR_SSL_WANT_WRITE) {
            c->tls_want_write = 1;
            return 0;
        }
        if (r == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
            return 1;
        if (r <= 0)
            return -1;
        c->in_len += (size_t)r;
        return 1;
    }
    ssize_t r = recv(c->fd, c->in + c->in_len, room, 0);
    if (r < 0)
        return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -1;
    if (r == 0)
        return -1;
    c->in_len += (size_t)r;
    return 1;
}

void lab_greet(struct lab_conn *c)
{
    char b[160];
    switch (lab_defs[c->sc].greet) {
    case G_REJECT:
        lab_reply(c, "554 5.7.1 lab.mxscope.test: no SMTP service here\r\n");
        c->phase = P_SMTP;
        break;
    case G_THROTTLE:
        lab_reply(c, "421 4.7.0 lab.mxscope.test: too many connections, try later\r\n");
        c->phase = P_CLOSING;
        break;
    default:
        snprintf(b, sizeof b, "220 %s ESMTP mxscope lab (%s)\r\n", LAB_HOST,
                 lab_scenarios[c->sc].name);
        lab_reply(c, b);
        c->phase = P_SMTP;
        break;
    }
}

/* Move one connection forward as far as it goes without waiting.
 * Returns -1 when it must be closed. */
int lab_service(struct lab *l, struct lab_conn *c, int64_t now)
{
    c->again = 0;
    for (int rounds = 0; rounds < 64; rounds++) {
        int progress = 0;
        size_t before_out = c->out_len, before_in = c->in_len;
        enum lab_phase before_phase = c->phase;

        if (c->phase == P_GREET_WAIT) {
            if (now < c->greet_at) {
                /* Keep what the client sends early; answer it later. */
                int r = lab_read(c);
                return r < 0 ? -1 : 0;
            }
            lab_greet(c);
        }
        if (lab_flush(c) < 0)
            return -1;
        switch (c->phase) {
        case P_CLOSING:
            if (c->out_len == 0) {
                if (c->tls_active)
                    (void)mbedtls_ssl_close_notify(&c->ssl);
                return -1;
            }
            return 0;
        case P_STARTTLS_FLUSH:
            if (c->out_len > 0)
                return 0;
            if (lab_tls_begin(l, c) < 0)
                return -1;
            progress = 1;
            break;
        case P_HANDSHAKE:
            if (!lab_tls_handshake(c, now))
                return 0;
            progress = 1;
            break;
        case P_TLS10_FLUSH:
            if (c->out_len > 0)
                return 0;
            c->phase = P_TLS10_HELLO;
            progress = 1;
            break;
        case P_TLS10_HELLO: {
            int r = lab_read(c);
            if (r < 0)
                return -1;
            if (c->in_len >= 1 && c->in[0] != 0x16)
                return -1;      /* not TLS: a real server would give up too */
            if (c->in_len >= 5) {
                size_t rec = ((size_t)c->in[3] << 8) | c->in[4];
                if (c->in_len >= 5 + rec || c->in_len == LAB_IN_MAX) {
                    lab_tls10_hello(c);
                    c->in_len = 0;
                    c->phase = P_SINK;
                    c->deadline = now + LAB_SINK_MS;
                    progress = 1;
                }
            }
            break;
        }
        case P_HTTP:
            if (lab_http_service(c) < 0)
                return -1;
            break;
        case P_SINK: {
            int r = lab_read(c);
            if (r < 0)
                return -1;
            c->in_len = 0;      /* the client's alert: nothing to answer */
            break;
        }
        case P_SMTP: {
            int r = 0;
            if (c->out_len + LAB_OUT_ROOM <= LAB_OUT_MAX)
                r = lab_read(c);
            lab_process(c);
            if (r < 0 && c->phase == P_SMTP) {
                /* EOF (maybe a half-close after "QUIT"): send what is
                 * queued, then close. */
                if (c->out_len == 0)
                    return -1;
                c->phase = P_CLOSING;
            }
            break;
        }
        default:
            break;
        }
        if (c->out_len != before_out || c->in_len != before_in || c->phase != before_phase)
            progress = 1;
        if (!progress)
            return 0;
    }
    /* Still moving after many rounds (a client pipelining hard): let the
     * other connections have their turn and come back without waiting, since
     * what is left may sit in our buffers or mbedTLS's, not in the socket. */
    c->again = 1;
    return 0;
}
