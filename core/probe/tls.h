/*
 * tls.h - the TLS client side of a probe, over a net_transport, with mbedTLS
 * 3.6.  Everything mbedTLS-specific stays in tls.c, tls_chain.c (the chain
 * and the path; tls_int.h) and x509view.c.
 *
 * Non-blocking: handshake/read/write return TLS_WANT_READ or TLS_WANT_WRITE
 * when the transport would block.  Every byte crossing the wire goes through
 * the raw record decoder (tlsrec.h), so alerts, a TLS 1.0 ServerHello or a
 * non-TLS answer are named even where mbedTLS refuses them; every complete
 * record is passed to the record callback (for the transcript).
 * mbedTLS does not verify inside the handshake (authmode NONE): the
 * handshake completes whatever the chain, and the chain as sent is copied
 * between handshake steps, so a handshake failing after the Certificate
 * message still shows the certificates.  We then build the path as OpenSSL
 * (and so Postfix) does, issuers in any position, duplicates skipped, up to
 * a trust anchor, and have mbedTLS verify it link by link: its compile-time
 * limit of 8 intermediates per verification never fails a long chain.
 *
 * Ownership: tls_client_free() releases everything; the transport stays the
 * caller's.
 */
#ifndef MXS_TLS_H
#define MXS_TLS_H
#include <stddef.h>
#include <sys/types.h>
#include "core.h"
#include "probe/net.h"
#include "probe/tlsrec.h"

enum { TLS_OK = 0, TLS_WANT_READ = 1, TLS_WANT_WRITE = 2, TLS_FAIL = -1, TLS_EOF = -2 };

struct tls_client;

/* sni: NULL sends none.  Returns NULL with err. */
struct tls_client *tls_client_new(const struct mxs_settings *s, const char *sni,
                                  struct net_transport *t, tlsrec_record_cb cb,
                                  void *cbarg, char *err, size_t errlen);
void tls_client_free(struct tls_client *c);

/* What signature algorithms the ClientHello offers; call before the
 * handshake.  TLS_SIG_ALL is the default. */
enum tls_sigset { TLS_SIG_ALL = 0, TLS_SIG_ECDSA, TLS_SIG_RSA, TLS_SIG_PKCS1 };
void tls_client_offer(struct tls_client *c, enum tls_sigset set);
/* The transport (and record callback) moved: a session adopted from a side
 * handshake goes on over the engine's own transport slot. */
void tls_client_set_transport(struct tls_client *c, struct net_transport *t,
                              tlsrec_record_cb cb, void *cbarg);

/* The operator's own files (--cafile, --cert, --key): readable, parseable,
 * the key matching the certificate.  0, or -1 with err naming the option,
 * the file and the reason.  Front ends call it (engine_check_settings)
 * before any probe: our mistake must never look like the partner's. */
int tls_check_local_files(const struct mxs_settings *s, char *err, size_t errlen);

int tls_client_handshake(struct tls_client *c);
/* > 0 bytes, or TLS_WANT_*, TLS_EOF (close_notify or EOF), TLS_FAIL. */
ssize_t tls_client_read(struct tls_client *c, void *buf, size_t n);
ssize_t tls_client_write(struct tls_client *c, const void *buf, size_t n);
/* Why the last read or write inside the session failed (after TLS_FAIL or
 * TLS_EOF), in words for the step's error: what arrived instead of a TLS
 * record (its first bytes, escaped), a TLS 1.3 KeyUpdate our library cannot
 * follow, an alert, the peer's close, or the library error.  *sys_errno is
 * set only when a system call returned that errno (else 0): no errno is ever
 * made up.  Returns the kind. */
enum tls_fail_kind {
    TLS_FK_NONE = 0, TLS_FK_OTHER, TLS_FK_NOT_TLS, TLS_FK_KEY_UPDATE, TLS_FK_ALERT, TLS_FK_SYSCALL,
    TLS_FK_EOF
};
enum tls_fail_kind tls_client_fail(struct tls_client *c, char *words, size_t n, int *sys_errno);
/* Bytes mbedTLS already decrypted and holds: read them before polling. */
size_t tls_client_pending(struct tls_client *c);
void tls_client_close_notify(struct tls_client *c);

/* Fill the TLS facts (version, cipher, group, alerts, error words). */
void tls_client_facts(struct tls_client *c, struct mxs_tls_facts *f);
/* The certificates the server sent, in order (copies owned by c), with the
 * mbedTLS verify flags mapped to MXS_V_* (name check excluded: the engine
 * checks names itself, against the MX host).  Returns the count. */
int tls_client_chain(struct tls_client *c, const unsigned char **der, size_t *len,
                     unsigned *flags, int max, int *total);
/* The path we built: pos[i] = position of sent certificate i in it (0 =
 * leaf, -1 not in it) for i < max; *anchored: it ends at a trust anchor,
 * *anchor_stored: that anchor is from the store (not sent; counted in the
 * length).  Returns the path length (0: no certificate). */
int tls_client_path(struct tls_client *c, int *pos, int max, int *anchored, int *anchor_stored);
/* Overall verify result (MXS_V_*, name check excluded); -1 if none ran. */
int tls_client_verify_result(struct tls_client *c, unsigned *flags);

/* A Certificate message body (after the 4-byte handshake header; tls13:
 * with its request context and per-certificate extensions): 1 if a
 * certificate in it does not parse with mbedTLS, *cert its index, and
 * *entry / *entry_len an iPAddress SAN entry in it whose length is not 4
 * or 16 (*entry -1 if none found); 0 if all parse or the list is cut.
 * Pure and bounded (tests/fuzz/fuzz_certmsg.c). */
int tls_cert_msg_scan(const unsigned char *msg, size_t n, int tls13, int *cert, int *entry,
                      int *entry_len);

/* The raw record view (ServerHello version, first non-TLS bytes ...). */
const struct tlsrec_facts *tls_client_raw(const struct tls_client *c);

/* mbedTLS's cipher suite name in IANA spelling
 * ("TLS1-3-AES-128-GCM-SHA256" -> "TLS_AES_128_GCM_SHA256"). */
void tls_iana_cipher(const char *mbed, char *out, size_t outlen);

/* One-time library set-up (psa_crypto_init). 0 or -1. */
int tls_global_init(void);
/* "Mbed TLS 3.6.6" */
const char *tls_library_version(void);

#endif
