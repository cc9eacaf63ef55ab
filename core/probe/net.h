/*
 * net.h - the transport under SMTP and TLS: a small vtable, so the engine
 * runs over real sockets in production and over a scripted, fault-injecting
 * transport in tests and the engine fuzzer.
 *
 * All operations are non-blocking.  read/write return bytes, 0 for EOF
 * (read only), or -1 with errno (EAGAIN when they would block).
 * Ownership: the engine owns the transport it opened and closes it with
 * ops->close(), which also frees ctx.
 */
#ifndef MXS_NET_H
#define MXS_NET_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "core.h"

struct net_ops {
    /* Begin connecting to addr:port: 0 connected, 1 in progress (poll for
     * POLLOUT, then finish), -1 failed with *err_no. */
    int (*start)(void *ctx, const struct mxs_addr *addr, uint16_t port, int *err_no);
    int (*finish)(void *ctx, int *err_no);    /* 0 connected, -1 failed    */
    ssize_t (*read)(void *ctx, void *buf, size_t n);
    ssize_t (*write)(void *ctx, const void *buf, size_t n);
    int (*fd)(void *ctx);                     /* -1: always ready (tests)  */
    void (*close)(void *ctx);
    /* Our own address on the connected socket ("" when unknown), for the
     * report's From line.  Optional: NULL in transports that have none. */
    void (*local)(void *ctx, char *out, size_t outlen);
};

struct net_transport {
    const struct net_ops *ops;
    void *ctx;
};

/* A factory, so the engine can open a fresh transport for each attempt. */
typedef int (*net_factory)(void *arg, struct net_transport *out);

/* The real one: non-blocking TCP sockets, our own connect with the stage
 * deadline (mbedtls_net_connect has no timeout and hides errno). */
int net_socket_factory(void *arg, struct net_transport *out);

/* Map a connect errno to refused / timeout / unreachable / other. */
enum mxs_conn_error net_classify_errno(int err_no);

/* A failed connect attempt in words: "Connection refused (errno 111)" for
 * what a system call returned; err_no 0 (our own deadline ended the
 * attempt, the kernel had reported nothing yet): said so, no errno made
 * up.  Returns buf. */
const char *net_conn_words(int err_no, char *buf, size_t n);

#endif
