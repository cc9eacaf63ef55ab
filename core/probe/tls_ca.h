/*
 * tls_ca.h - the trust store, parsed once per file and shared.
 *
 * Every handshake (ours, and each side handshake) verifies against a CA
 * file: --cafile or the system bundle, 140-odd certificates that mbedTLS
 * takes milliseconds to parse.  A partner list makes thousands of
 * handshakes; parsing the same file for each was the largest cost a probe
 * had on our side after the key exchange.  Here a file is parsed once and
 * every client holding it reads the same chain (mbedTLS only reads a trust
 * chain while verifying).
 *
 * A file that changed since (inode, size or mtime differ: an operator
 * fixed the store and re-runs a step in the console) is parsed anew; the
 * old chain lives on until its last holder lets go.
 *
 * Thread-safe (a mutex around the table).  Ownership: tls_ca_get() returns
 * a reference the caller gives back with tls_ca_put(); the chain is
 * read-only for everyone.
 */
#ifndef MXS_TLS_CA_H
#define MXS_TLS_CA_H
#include <stddef.h>
#include <mbedtls/x509_crt.h>

struct tls_ca;

/* The parsed chain of path; NULL with mbedTLS's words on why in err. */
struct tls_ca *tls_ca_get(const char *path, char *err, size_t errlen);
mbedtls_x509_crt *tls_ca_chain(struct tls_ca *ca);
void tls_ca_put(struct tls_ca *ca);

#endif
