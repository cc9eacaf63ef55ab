/*
 * lab.h - the built-in lab: misconfigured SMTP receivers on loopback.
 *
 * lab_start() makes a throw-away CA (and intermediate) in memory, writes the
 * CA certificate to a private temp folder (mode 0700) so the client can trust
 * it, and runs one listening socket per scenario on 127.0.0.1 (kernel-chosen
 * ports) from a server thread with its own poll() loop.  The SMTP side is a
 * small, honest ESMTP server; TLS is a real mbedTLS server.
 * Nothing is printed: the lab thread only talks to its sockets.
 *
 * Ownership: struct lab is opaque; lab_stop() stops the thread, closes the
 * sockets, removes the temp folder and frees everything.
 */
#ifndef MXS_LAB_H
#define MXS_LAB_H
#include <stddef.h>
#include <stdint.h>

struct lab_scenario {
    const char *name;       /* "expired"                                   */
    const char *story;      /* one line for --lab --list                    */
    const char *expect;     /* finding id the scenario demonstrates ("" for good) */
};
extern const struct lab_scenario lab_scenarios[];  /* NULL name terminates */
const struct lab_scenario *lab_find(const char *name);

struct lab;
/* Start the lab.  Returns NULL with err on failure. */
struct lab *lab_start(char *err, size_t errlen);
void lab_stop(struct lab *l);

/* Port of a scenario's listener (0 if unknown). */
uint16_t lab_port(const struct lab *l, const char *scenario);
/* The MX host name the lab's certificates are made for. */
const char *lab_host(void);              /* "mx.lab.mxscope.test" */
const char *lab_ca_file(const struct lab *l);
/* For fingerprint-after-renewal: SHA-1 thumbprint of the renewed (new)
 * certificate the operator expects; the lab still serves the old one. */
const char *lab_expected_fingerprint(const struct lab *l);

/* Fill settings for a scenario: --host lab_host(), --connect 127.0.0.1:PORT,
 * --cafile lab CA, expected fingerprint where the story needs it. */
struct mxs_settings;
int lab_apply(const struct lab *l, const char *scenario, struct mxs_settings *s,
              char *err, size_t errlen);

#endif
