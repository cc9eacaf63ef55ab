/*
 * tls_int.h - inside core/probe only: what tls.c (the client, the
 * handshake driver) and tls_chain.c (the chain as sent, the path we build,
 * its verification) share.  The client struct is tls.c's: created and freed
 * there (tls_client_new / tls_client_free, which also frees the copied
 * chain); tls_chain.c fills chain[] and the path fields.
 *
 * Both files define MBEDTLS_ALLOW_PRIVATE_ACCESS before any mbedTLS header
 * (tls.c says why): the struct must look the same in both.
 */
#ifndef MXS_TLS_INT_H
#define MXS_TLS_INT_H
#ifndef MBEDTLS_ALLOW_PRIVATE_ACCESS
#error "define MBEDTLS_ALLOW_PRIVATE_ACCESS before including tls_int.h"
#endif
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "probe/tls.h"

/* How many certificates we keep and verify: OpenSSL's default verify depth
 * is 100; a server sending more is counted (n_chain_total), not kept. */
#define TLS_MAX_SENT 100

struct captured {
    unsigned char *der;
    size_t len;
    unsigned flags;      /* MXS_V_* of its link in the path we built (0: not in it) */
    int path_pos;        /* position in that path (0 = leaf), -1 if not in it */
};

struct tls_client {
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    struct tls_ca *ca_ref;      /* the trust store, shared (tls_ca.h)       */
    mbedtls_x509_crt *ca;       /* its chain, read-only                     */
    mbedtls_x509_crt own;
    mbedtls_pk_context own_key;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    struct net_transport *t;
    struct tlsrec_stream rs_in, rs_out;
    struct tlsrec_facts rf;
    tlsrec_record_cb cb;
    void *cbarg;
    int last_err;
    int io_errno;
    int peer_eof;
    int handshake_done;
    int verify_ran;
    unsigned verify_flags;
    char sni[256];
    /* The chain as sent, copied as soon as mbedTLS has parsed it (see
     * tls_capture_chain), and what our own path building made of it. */
    struct captured chain[TLS_MAX_SENT];
    int n_chain, n_chain_total;
    int path_len;               /* leaf .. trust anchor (sent or stored)    */
    int path_anchored;          /* ends at a trust anchor                   */
    int path_anchor_stored;     /* that anchor is from the store, not sent  */
    /* A certificate mbedTLS refused to parse (tls_refused_analyse). */
    int refused_seen, refused_cert, refused_san_entry, refused_san_len;
    size_t cert_msg_hdr_len;    /* Certificate message length from in_msg   */
    size_t dbg_cert_msg_len;    /* the same from mbedTLS's debug trail      */
    int client_cert_loaded;
    int cert_req_seen;          /* from mbedTLS's debug trail (TLS 1.3) */
    size_t bytes_in, bytes_out;
};

/* tls_chain.c: copy the chain as sent, once, between handshake steps. */
void tls_capture_chain(struct tls_client *c);
/* tls_chain.c: after a failed handshake, the Certificate message mbedTLS
 * held: its length, and the certificate it could not parse. */
void tls_refused_analyse(struct tls_client *c);

#endif
