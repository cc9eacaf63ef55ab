/*
 * net.c - non-blocking TCP transport.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe/net.h"

struct sock { int fd; };

static int sock_start(void *ctx, const struct mxs_addr *addr, uint16_t port, int *err_no)
{
    struct sock *s = ctx;
    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof ss);
    if (addr->family == 6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        if (inet_pton(AF_INET6, addr->text, &a->sin6_addr) != 1) { *err_no = EINVAL; return -1; }
        sl = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons(port);
        if (inet_pton(AF_INET, addr->text, &a->sin_addr) != 1) { *err_no = EINVAL; return -1; }
        sl = sizeof *a;
    }
    s->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (s->fd < 0) { *err_no = errno; return -1; }
    int one = 1;
    /* SMTP is lock-step: every command waits for its reply, so Nagle would
     * only add delay to each small write. */
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(s->fd, (struct sockaddr *)&ss, sl) == 0)
        return 0;
    if (errno == EINPROGRESS)
        return 1;
    *err_no = errno;
    return -1;
}

static int sock_finish(void *ctx, int *err_no)
{
    struct sock *s = ctx;
    int e = 0;
    socklen_t l = sizeof e;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &e, &l) != 0)
        e = errno;
    /* A reset after the handshake completed: the connection existed, and
     * the server dropped it before greeting.  That is BANNER's story (the
     * first read says "reset"), not a refused connect. */
    if (e == ECONNRESET || e == EPIPE)
        return 0;
    if (e) { *err_no = e; return -1; }
    return 0;
}

static ssize_t sock_read(void *ctx, void *buf, size_t n)
{
    struct sock *s = ctx;
    ssize_t r;
    do r = recv(s->fd, buf, n, 0); while (r < 0 && errno == EINTR);
    return r;
}

static ssize_t sock_write(void *ctx, const void *buf, size_t n)
{
    struct sock *s = ctx;
    ssize_t r;
    do r = send(s->fd, buf, n, MSG_NOSIGNAL); while (r < 0 && errno == EINTR);
    return r;
}

static int sock_fd(void *ctx) { return ((struct sock *)ctx)->fd; }

static void sock_close(void *ctx)
{
    struct sock *s = ctx;
    if (s->fd >= 0)
        close(s->fd);
    free(s);
}

static void sock_local(void *ctx, char *out, size_t outlen)
{
    struct sock *s = ctx;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    out[0] = 0;
    if (s->fd < 0 || getsockname(s->fd, (struct sockaddr *)&ss, &sl) != 0)
        return;
    if (ss.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, out, (socklen_t)outlen);
    else if (ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, out, (socklen_t)outlen);
}

static const struct net_ops sock_ops = {
    sock_start, sock_finish, sock_read, sock_write, sock_fd, sock_close, sock_local
};

int net_socket_factory(void *arg, struct net_transport *out)
{
    (void)arg;
    struct sock *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->fd = -1;
    out->ops = &sock_ops;
    out->ctx = s;
    return 0;
}

const char *net_conn_words(int err_no, char *buf, size_t n)
{
    if (err_no)
        snprintf(buf, n, "%s (errno %d)", strerror(err_no), err_no);
    else
        snprintf(buf, n, "no answer within the deadline (the system reported no error: "
                 "the connection was neither accepted nor refused)");
    return buf;
}

enum mxs_conn_error net_classify_errno(int e)
{
    switch (e) {
    case 0: return MXS_CONN_OK;
    case ECONNREFUSED: case ECONNRESET: return MXS_CONN_REFUSED;
    case ETIMEDOUT: return MXS_CONN_TIMEOUT;
    case ENETUNREACH: case EHOSTUNREACH: case EADDRNOTAVAIL: case ENETDOWN:
    case EHOSTDOWN: case EAFNOSUPPORT: return MXS_CONN_UNREACHABLE;
    default: return MXS_CONN_OTHER;
    }
}
