/*
 * lab.h - the built-in lab: misconfigured SMTP receivers on loopback.
 *
 * lab_start() makes a throw-away CA (and intermediate) in memory, writes the
 * CA certificate to a private temp folder (mode 0700) so the client can trust
 * it, and runs one listening socket per scenario on 127.0.0.1 (kernel-chosen
 * ports) from a server thread with its own poll() loop.  The SMTP side is a
 * small, honest ESMTP server (banner, EHLO/HELO, STARTTLS, NOOP, RSET, MAIL,
 * RCPT, DATA discarded up to 10 MB, VRFY, QUIT; a fresh state after TLS as
 * RFC 3207 requires); TLS is a real mbedTLS 3.6 server.  Every buffer is
 * bounded, at most 64 sessions are served at once, idle ones close after
 * 300 s.  Nothing is printed: the lab thread only talks to its sockets and
 * blocks all signals.
 *
 * Scenarios (lab_scenarios[] has the operator's one-line story and the
 * finding id each one demonstrates; "" means no finding expected):
 *   good                      STARTTLS, TLS 1.2+1.3, leaf + intermediate
 *   expired                   leaf not_after = yesterday
 *   expiring-soon             leaf expires in 10 days (+1 h)
 *   not-yet-valid             leaf not_before = tomorrow
 *   wrong-name                SAN and CN other.example.net only
 *   self-signed               self-signed leaf for the MX name, sent alone
 *   untrusted-root            leaf from a second root; sends leaf + that root
 *   missing-intermediate      sends the leaf only
 *   chain-order               sends leaf, root, intermediate (mbedTLS needs
 *                             the leaf first; paths still verify: flags 0)
 *   weak-key                  RSA-1024 leaf (server offers RSA-PSS/PKCS1
 *                             SHA-256 only: mbedTLS 3.6 would otherwise pick
 *                             PSS-SHA512, impossible with 1024 bits)
 *   weak-signature            leaf signed with ECDSA-SHA1
 *   not-server-auth           EKU clientAuth only (served although mbedTLS
 *                             servers normally refuse such a certificate)
 *   no-starttls               EHLO without STARTTLS; STARTTLS -> 502
 *   starttls-refused          STARTTLS -> 454 4.7.0; session stays plaintext
 *   plaintext-after-starttls  "220 ... \r\n250-injected\r\n250 pipelined\r\n"
 *                             in one write, then TLS as in good
 *   tls12-only / tls13-only   server version range capped / floored
 *   tls10-only                a hand-built TLS 1.0 ServerHello record
 *   client-cert-required      authmode REQUIRED, TLS 1.2 at most, plaintext
 *                             handshake_failure alert (see lab.c for why)
 *   banner-rejected           554 greeting; then 503 to all but QUIT
 *   banner-throttled          421 greeting and hang-up
 *   slow-banner               greeting after 5 s
 *   masked-ehlo               PIX/ASA-style EHLO (XXXXXXXA, *****); STARTTLS -> 500
 *   fingerprint-after-renewal serves the old leaf; lab_expected_fingerprint()
 *                             is the SHA-1 of a renewed one never served
 *   sts-enforce, sts-mx-not-covered, sts-testing, sts-no-tlsrpt,
 *   sts-policy-404, sts-webpki-invalid
 *                             the mail domain lab.mxscope.test (MTA-STS,
 *                             TLS-RPT): DNS data for the client's resolver
 *                             (--unbound-conf) and an HTTPS policy host on its
 *                             own port (--policy-port); see lab_https.c
 *
 * The lab's public interface (lab_scenarios, lab_find, lab_start, lab_stop,
 * lab_apply, lab_ops) is in core.h, group "Built-in lab"; this header adds
 * what tests need to look inside.  The client library never calls the lab:
 * cmd.c reaches it through the struct mxs_lab_ops a front end registers.
 *
 * Ownership: struct lab is opaque; lab_stop() stops and joins the thread,
 * closes the sockets, removes the temp folder and frees everything.  Owned
 * by the lab module (lab.c, lab_smtp.c, lab_tls.c, lab_https.c,
 * lab_scenarios.c, lab_int.h, labcert.[ch]).
 */
#ifndef MXS_LAB_H
#define MXS_LAB_H
#include <stdint.h>
#include "core.h"

/* Port of a scenario's listener (0 if unknown). */
uint16_t lab_port(const struct lab *l, const char *scenario);
/* The MX host name the lab's certificates are made for. */
const char *lab_host(void);              /* "mx.lab.mxscope.test" */
/* The lab root CA, PEM, in a private temp folder; valid until lab_stop(). */
const char *lab_ca_file(const struct lab *l);
/* For fingerprint-after-renewal: SHA-1 thumbprint (40 uppercase hex, no
 * separators) of the renewed (new) certificate the operator expects; the lab
 * still serves the old one. */
const char *lab_expected_fingerprint(const struct lab *l);

#endif
