/*
 * lab.c - the built-in lab: misconfigured SMTP receivers on loopback.
 *
 * One server thread, one poll() loop, one listening socket per scenario on
 * 127.0.0.1 (kernel-chosen port).  Connections are non-blocking and every
 * buffer is bounded: a client that does not read stops being read from
 * (back-pressure), a line without an end is cut, DATA is counted and thrown
 * away, idle sessions are closed.  TLS is a real mbedTLS 3.6 server; the one
 * thing mbedTLS cannot speak (TLS 1.0) is imitated with a hand-built
 * ServerHello record.
 *
 * This file is the thread and its life: start, the poll loop, accept, stop.
 * The SMTP side is lab_smtp.c, the TLS side lab_tls.c, the scenarios
 * lab_scenarios.c (lab_int.h ties them).  The lab never prints: it only
 * talks to its sockets.  Owned by the lab module (lab*.c, lab.h, labcert.[ch]).
 */
#include "lab/lab_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <psa/crypto.h>

static int64_t lab_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the thread ---------------------------------------------------------- */

static void lab_conn_free(struct lab_conn *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    if (c->ssl_init)
        mbedtls_ssl_free(&c->ssl);
    free(c);
}

/* https: the scenario's MTA-STS policy host (lab_https.c), not its MX. */
static void lab_accept(struct lab *l, int sc, int https, int64_t now)
{
    for (int k = 0; k < 16; k++) {
        int fd = accept4(https ? l->hfd[sc] : l->lfd[sc], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                l->accept_pause_until = now + 100;
            return;
        }
        int slot = -1;
        for (int i = 0; i < LAB_MAX_CONN; i++)
            if (!l->conn[i]) {
                slot = i;
                break;
            }
        struct lab_conn *c = slot >= 0 ? calloc(1, sizeof *c) : NULL;
        if (!c) {
            static const char busy[] = "421 4.3.2 lab: too many connections\r\n";
            (void)send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            close(fd);
            continue;
        }
        c->fd = fd;
        c->sc = sc;
        c->https = https;
        c->deadline = now + LAB_IDLE_MS;
        if (https) {
            if (lab_tls_begin(l, c) < 0)
                c->phase = P_CLOSING;
        } else if (lab_defs[sc].greet == G_SLOW) {
            c->phase = P_GREET_WAIT;
            c->greet_at = now + LAB_SLOW_MS;
        } else {
            lab_greet(c);
        }
        l->conn[slot] = c;
        if (lab_service(l, c, now) < 0) {
            lab_conn_free(c);
            l->conn[slot] = NULL;
        }
    }
}

static short lab_events(const struct lab_conn *c)
{
    short ev = 0;
    int room_out = c->out_len + LAB_OUT_ROOM <= LAB_OUT_MAX;
    switch (c->phase) {
    case P_GREET_WAIT:
    case P_TLS10_HELLO:
    case P_SINK:
        if (c->in_len < LAB_IN_MAX)
            ev |= POLLIN;
        break;
    case P_SMTP:
    case P_HTTP:
        if (room_out && c->in_len < LAB_IN_MAX)
            ev |= POLLIN;
        break;
    case P_HANDSHAKE:
        ev |= POLLIN;
        break;
    default:
        break;
    }
    if (c->tls_active || c->phase == P_HANDSHAKE) {
        if (c->tls_want_write)
            ev |= POLLOUT;
        else if (c->out_len > 0 && !c->tls_pending)
            ev |= POLLOUT;
        else if (c->tls_pending)
            ev |= POLLIN;   /* mbedTLS wanted to read first */
    } else if (c->out_len > 0) {
        ev |= POLLOUT;
    }
    return ev;
}

static void *lab_thread(void *arg)
{
    struct lab *l = arg;
    struct pollfd pfd[1 + 2 * L_COUNT + LAB_MAX_CONN];
    int who[1 + 2 * L_COUNT + LAB_MAX_CONN];

    for (;;) {
        int n = 0;
        int64_t now = lab_now_ms(), next = now + 60000;
        pfd[n].fd = l->wake[0];
        pfd[n].events = POLLIN;
        who[n++] = -1;
        for (int i = 0; i < L_COUNT; i++) {
            pfd[n].fd = l->lfd[i];
            pfd[n].events = now >= l->accept_pause_until ? POLLIN : 0;
            who[n++] = 1000 + i;
            if (l->hfd[i] >= 0) {
                pfd[n].fd = l->hfd[i];
                pfd[n].events = pfd[n - 1].events;
                who[n++] = 2000 + i;
            }
        }
        if (now < l->accept_pause_until && l->accept_pause_until < next)
            next = l->accept_pause_until;
        for (int i = 0; i < LAB_MAX_CONN; i++) {
            struct lab_conn *c = l->conn[i];
            if (!c)
                continue;
            pfd[n].fd = c->fd;
            pfd[n].events = lab_events(c);
            who[n++] = i;
            if (c->deadline < next)
                next = c->deadline;
            if (c->phase == P_GREET_WAIT && c->greet_at < next)
                next = c->greet_at;
            if (c->again)
                next = now;
        }
        int timeout = next > now ? (int)(next - now) : 0;
        int r = poll(pfd, (nfds_t)n, timeout);
        if (r < 0 && errno != EINTR)
            break;
        if (r > 0 && (pfd[0].revents & POLLIN))
            break;                          /* lab_stop() */
        now = lab_now_ms();
        for (int k = 1; k < n; k++) {
            if (who[k] >= 1000) {
                if (pfd[k].revents & POLLIN)
                    lab_accept(l, who[k] % 1000, who[k] >= 2000, now);
                continue;
            }
            struct lab_conn *c = l->conn[who[k]];
            if (!c)
                continue;
            int dead = 0;
            if (pfd[k].revents & POLLNVAL)
                dead = 1;
            else if (pfd[k].revents || c->again ||
                     (c->phase == P_GREET_WAIT && now >= c->greet_at)) {
                if (pfd[k].revents)
                    if (c->phase != P_SINK)
                        c->deadline = now + LAB_IDLE_MS;
                dead = lab_service(l, c, now) < 0;
                /* POLLERR/POLLHUP without readable data: nothing more to come. */
                if (!dead && (pfd[k].revents & (POLLERR | POLLHUP)) &&
                    !(pfd[k].revents & POLLIN))
                    dead = 1;
            } else if (now >= c->deadline) {
                if (c->phase == P_SMTP && !c->tls_active) {
                    /* A last word, as Postfix does; best effort. */
                    static const char bye[] = "421 4.4.2 " LAB_HOST " Error: timeout exceeded\r\n";
                    (void)send(c->fd, bye, sizeof bye - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
                }
                dead = 1;
            }
            if (dead) {
                lab_conn_free(c);
                l->conn[who[k]] = NULL;
            }
        }
    }
    return NULL;
}

/* ---- start / stop -------------------------------------------------------- */

static void lab_free_all(struct lab *l)
{
    for (int i = 0; i < LAB_MAX_CONN; i++) {
        lab_conn_free(l->conn[i]);
        l->conn[i] = NULL;
    }
    for (int i = 0; i < L_COUNT; i++) {
        if (l->lfd[i] >= 0)
            close(l->lfd[i]);
        if (l->hfd[i] >= 0)
            close(l->hfd[i]);
        mbedtls_ssl_config_free(&l->conf[i]);
        mbedtls_x509_crt_free(&l->chain[i]);
        mbedtls_ssl_config_free(&l->hconf[i]);
        mbedtls_x509_crt_free(&l->hchain[i]);
        if (l->ubconf[i][0])
            unlink(l->ubconf[i]);
    }
    mbedtls_x509_crt_free(&l->trust);
    for (int i = 0; i < C_COUNT; i++)
        labcert_free(&l->cert[i]);
    if (l->wake[0] >= 0)
        close(l->wake[0]);
    if (l->wake[1] >= 0)
        close(l->wake[1]);
    if (l->cafile[0])
        unlink(l->cafile);
    if (l->dir[0])
        rmdir(l->dir);
    free(l);
}

static int lab_listen(uint16_t *port)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 64) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) < 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

struct lab *lab_start(char *err, size_t errlen)
{
    char dummy[8];
    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof dummy;
    }
    err[0] = '\0';
    if (psa_crypto_init() != PSA_SUCCESS) {
        snprintf(err, errlen, "lab: psa_crypto_init failed");
        return NULL;
    }
    struct lab *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, errlen, "lab: out of memory");
        return NULL;
    }
    l->wake[0] = l->wake[1] = -1;
    for (int i = 0; i < L_COUNT; i++) {
        l->lfd[i] = l->hfd[i] = -1;
        mbedtls_ssl_config_init(&l->conf[i]);
        mbedtls_x509_crt_init(&l->chain[i]);
        mbedtls_ssl_config_init(&l->hconf[i]);
        mbedtls_x509_crt_init(&l->hchain[i]);
    }
    mbedtls_x509_crt_init(&l->trust);
    for (int i = 0; i < C_COUNT; i++)
        labcert_init(&l->cert[i]);

    if (lab_make_certs(l, err, errlen) != 0 || lab_write_ca(l, err, errlen) != 0)
        goto fail;
    if (labcert_chain_add(&l->trust, &l->cert[C_ROOT]) != 0) {
        snprintf(err, errlen, "lab: cannot parse the lab root");
        goto fail;
    }
    for (int i = 0; i < L_COUNT; i++)
        if (lab_make_conf(l, i, err, errlen) != 0)
            goto fail;
    if (lab_https_setup(l, err, errlen) != 0)
        goto fail;
    for (int i = 0; i < L_COUNT; i++) {
        l->lfd[i] = lab_listen(&l->port[i]);
        if (l->lfd[i] < 0) {
            snprintf(err, errlen, "lab: cannot listen on 127.0.0.1: %s", strerror(errno));
            goto fail;
        }
        if (lab_sts[i].policy && (l->hfd[i] = lab_listen(&l->hport[i])) < 0) {
            snprintf(err, errlen, "lab: cannot listen on 127.0.0.1: %s", strerror(errno));
            goto fail;
        }
    }
    if (pipe2(l->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        snprintf(err, errlen, "lab: pipe: %s", strerror(errno));
        l->wake[0] = l->wake[1] = -1;
        goto fail;
    }
    {
        /* The lab thread takes no signals: SIGWINCH, SIGINT ... belong to the
         * front end's thread. */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        int r = pthread_create(&l->thread, NULL, lab_thread, l);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r != 0) {
            snprintf(err, errlen, "lab: pthread_create: %s", strerror(r));
            goto fail;
        }
        l->thread_started = 1;
    }
    return l;
fail:
    lab_free_all(l);
    return NULL;
}

void lab_stop(struct lab *l)
{
    if (!l)
        return;
    if (l->thread_started) {
        char b = 'q';
        while (write(l->wake[1], &b, 1) < 0 && errno == EINTR)
            ;
        pthread_join(l->thread, NULL);
    }
    lab_free_all(l);
}
