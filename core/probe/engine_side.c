/*
 * engine_side.c - the engine's side handshakes (see probe/side.h): extra
 * short connections of the HANDSHAKE step, driven from the same poll loop
 * as the main probe and bounded by the HANDSHAKE stage's deadline.
 *   - the RSA-only handshake for dual certificates, started with ours;
 *   - the TLS 1.0 and 1.1 ClientHellos after a protocol_version refusal;
 *   - (EHLO2) a TLS 1.2 session for the EHLO after the server's KeyUpdate.
 * Their lines go to the transcript as notes of the running step; their
 * results become facts in the HANDSHAKE and CHAIN steps.
 * Owner: probe.
 */
#include <stdio.h>
#include <string.h>

#include "probe/engine_int.h"
#include "probe/side.h"
#include "probe/tls.h"

static void side_note(void *arg, const char *line)
{
    struct engine *e = arg;
    /* HANDSHAKE's probes, or EHLO2's TLS 1.2 re-run after a KeyUpdate */
    engine_rec_add(e, MXS_REC_NOTE, e->running ? e->cur : MXS_STEP_HANDSHAKE, line, strlen(line));
}

void engine_side_start(struct engine *e, int kind)
{
    char err[200];
    if (e->factory != net_socket_factory || e->n_side >= (int)(sizeof e->side / sizeof e->side[0]) ||
        !e->conn.done || e->conn.error != MXS_CONN_OK)
        return;
    const char *sni = engine_sni(e);
    struct side_probe *p = side_new(&e->set, (enum side_kind)kind, &e->conn.addr, e->conn.port,
                                    e->set.tls_on_connect, e->set.ehlo_name, sni, e->factory,
                                    e->factory_arg, side_note, e, err, sizeof err);
    if (!p) {
        engine_rec_printf(e, MXS_REC_NOTE, MXS_STEP_HANDSHAKE, "side probe not started: %s", err);
        return;
    }
    e->side[e->n_side++] = p;
}

int engine_side_pending(const struct engine *e)
{
    int n = 0;
    for (int i = 0; i < e->n_side; i++)
        if (side_result(e->side[i])->end == SIDE_RUNNING)
            n++;
    return n;
}

void engine_side_pump(struct engine *e)
{
    for (int i = 0; i < e->n_side; i++)
        if (side_result(e->side[i])->end == SIDE_RUNNING)
            side_step(e->side[i], engine_now_us());
}

int engine_side_pollfds(struct engine *e, struct pollfd *fds, int max)
{
    int n = 0;
    for (int i = 0; i < e->n_side && n < max; i++) {
        short ev = 0;
        int fd = side_pollfd(e->side[i], &ev);
        if (fd < 0)
            continue;
        fds[n].fd = fd;
        fds[n].events = ev;
        fds[n].revents = 0;
        n++;
    }
    return n;
}

void engine_side_cancel(struct engine *e, const char *why)
{
    for (int i = 0; i < e->n_side; i++)
        side_cancel(e->side[i], why);
}

void engine_side_free(struct engine *e)
{
    for (int i = 0; i < e->n_side; i++)
        side_free(e->side[i]);
    e->n_side = 0;
}

const struct side_result *engine_side_result(const struct engine *e, int kind)
{
    for (int i = 0; i < e->n_side; i++) {
        const struct side_result *r = side_result(e->side[i]);
        if ((int)r->kind == kind && r->end != SIDE_RUNNING)
            return r;
    }
    return NULL;
}

/* The session of a completed TLS 1.2 PKCS#1 retry becomes ours: its
 * connection takes the engine's transport slot and its TLS client goes on
 * over it, its records into our transcript. */
int engine_side_adopt(struct engine *e, int kind)
{
    for (int i = 0; i < e->n_side; i++) {
        const struct side_result *r = side_result(e->side[i]);
        if ((int)r->kind != kind || !r->handshake_ok)
            continue;
        struct tls_client *c = NULL;
        if (side_adopt(e->side[i], &e->t, &c) != 0)
            return -1;
        tls_client_set_transport(c, &e->t, engine_side_tls_record, e);
        e->tlc = c;
        e->connected = 1;
        return 0;
    }
    return -1;
}

/* The server sent a TLS 1.3 KeyUpdate, which mbedTLS 3.6 cannot follow
 * (Mbed-TLS#10881) and OpenSSL senders do: our limit.  For the evidence a
 * sender would have, the EHLO is re-run over TLS 1.2 (which has no
 * KeyUpdate) on a fresh connection: the side probe that also serves the
 * RSA-PSS retry (TLS 1.2, no RSA-PSS offered), adopted as our session.
 * 1 adopted, 0 waiting, -1 the step ended. */
int engine_side_key_update(struct engine *e)
{
    if (e->ku_state == 0) {
        e->tls.key_update = 1;
        snprintf(e->ku_words, sizeof e->ku_words, "%s", e->io_words);
        engine_conn_close(e);
        engine_side_free(e);
        if (e->set.tls_min == 13) {     /* the operator excluded TLS 1.2 */
            e->tls.key_update_retry = -1;
            engine_step_end(e, MXS_STEP_EHLO2, MXS_ST_FAIL, "EHLO after TLS: %s; not re-run "
                            "over TLS 1.2 (tls-min 1.3)", e->ku_words);
            return -1;
        }
        engine_rec_printf(e, MXS_REC_NOTE, MXS_STEP_EHLO2, "%s: the EHLO is re-run over TLS 1.2 "
                          "on a fresh connection", e->ku_words);
        engine_side_start(e, SIDE_TLS12_PKCS1);
        e->ku_state = 1;
    }
    engine_side_pump(e);
    if (engine_side_pending(e))
        return 0;
    if (engine_side_adopt(e, SIDE_TLS12_PKCS1) != 0) {
        e->tls.key_update_retry = -1;
        engine_side_free(e);
        engine_step_end(e, MXS_STEP_EHLO2, MXS_ST_FAIL, "EHLO after TLS: %s; the re-run over "
                        "TLS 1.2 failed", e->ku_words);
        return -1;
    }
    engine_side_free(e);
    e->tls_active = 1;
    e->ku_state = 2;
    e->phase = 0;
    engine_io_clear(e);
    return 1;
}
