/*
 * scripted.h - a scripted, fault-injecting transport (net.h) for driving
 * the engine without sockets: unit tests and the engine fuzzer.
 *
 * The "server" is a byte string; faults: deliver at most `chunk` bytes per
 * read (1 = one byte at a time), answer EAGAIN to every `eagain_every`-th
 * read, reset the connection after `reset_at` bytes, or stall (EAGAIN
 * forever) after `stall_at` bytes.  Everything the client writes is kept.
 * Header-only on purpose: each test binary links core alone.
 */
#ifndef MXS_SCRIPTED_H
#define MXS_SCRIPTED_H
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "probe/net.h"

struct scripted {
    const unsigned char *data;
    size_t len, pos;
    size_t chunk;          /* 0: everything available                  */
    unsigned eagain_every; /* 0: never                                 */
    unsigned reads;
    size_t reset_at;       /* (size_t)-1: never                        */
    size_t stall_at;       /* (size_t)-1: never                        */
    int refuse;            /* connect fails with ECONNREFUSED          */
    int eof_at_end;        /* after the script: EOF, not silence       */
    unsigned char written[65536];
    size_t wlen;
    int closed;
};

static int sc_start(void *ctx, const struct mxs_addr *a, uint16_t port, int *err_no)
{
    struct scripted *s = ctx;
    (void)a; (void)port;
    if (s->refuse) { *err_no = ECONNREFUSED; return -1; }
    return 0;
}
static int sc_finish(void *ctx, int *err_no) { (void)ctx; (void)err_no; return 0; }
static ssize_t sc_read(void *ctx, void *buf, size_t n)
{
    struct scripted *s = ctx;
    s->reads++;
    if (s->eagain_every && s->reads % s->eagain_every == 0) { errno = EAGAIN; return -1; }
    if (s->pos >= s->reset_at) { errno = ECONNRESET; return -1; }
    if (s->pos >= s->stall_at) { errno = EAGAIN; return -1; }
    if (s->pos >= s->len) {
        if (s->eof_at_end) return 0;
        errno = EAGAIN; return -1; /* silent server */
    }
    size_t k = s->len - s->pos;
    if (s->chunk && k > s->chunk) k = s->chunk;
    if (k > n) k = n;
    if (s->reset_at != (size_t)-1 && s->pos + k > s->reset_at) k = s->reset_at - s->pos;
    if (s->stall_at != (size_t)-1 && s->pos + k > s->stall_at) k = s->stall_at - s->pos;
    if (k == 0) { errno = EAGAIN; return -1; }
    memcpy(buf, s->data + s->pos, k);
    s->pos += k;
    return (ssize_t)k;
}
static ssize_t sc_write(void *ctx, const void *buf, size_t n)
{
    struct scripted *s = ctx;
    if (s->pos >= s->reset_at) { errno = EPIPE; return -1; }
    size_t k = n < sizeof s->written - s->wlen ? n : sizeof s->written - s->wlen;
    memcpy(s->written + s->wlen, buf, k);
    s->wlen += k;
    return (ssize_t)n;
}
static int sc_fd(void *ctx) { (void)ctx; return -1; }
static void sc_close(void *ctx) { ((struct scripted *)ctx)->closed = 1; }

static const struct net_ops scripted_ops = { sc_start, sc_finish, sc_read, sc_write, sc_fd, sc_close };

/* net_factory: the engine opens "connections" to the one scripted server. */
static int scripted_factory(void *arg, struct net_transport *out)
{
    out->ops = &scripted_ops;
    out->ctx = arg;
    return 0;
}

static void scripted_init(struct scripted *s, const void *data, size_t len)
{
    memset(s, 0, sizeof *s);
    s->data = data;
    s->len = len;
    s->reset_at = (size_t)-1;
    s->stall_at = (size_t)-1;
}
#endif
