/*
 * fuzz_x509view.c - libFuzzer target for x509view.c.  Owner: certificate
 * view module.  Built with libFuzzer (make fuzz) and with
 * tests/fuzz/replay_main.c over tests/fuzz/corpus/x509view/ (make test).
 *
 * Input: the whole input is DER for x509view_decode().  When it decodes,
 * every promise of x509view.h is checked (bounded, terminated fields, the
 * SAN counts, fingerprints of exactly these bytes, PEM that fits the
 * computed size) and the name matcher is run with the certificate's own
 * names and a few hostile references, with and without the DER.
 * x509view_pem and the flag texts are exercised on every input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/x509view.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_TERMINATED(field) \
    do { if (strnlen((field), sizeof(field)) >= sizeof(field)) abort(); } while (0)

static void fuzz_hex_field(const char *s, size_t want)
{
    if (strlen(s) != want)
        abort();
    for (size_t i = 0; i < want; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F')))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mxs_cert c;
    char err[256];
    static const char *const hosts[] = {
        "mx.example.com", "a.b.example.com", "*.example.com", "example.com.",
        "192.0.2.1", "2001:db8::1", "", ".", "a..b", "localhost",
    };

    /* PEM of arbitrary bytes: must fit the computed size exactly. */
    if (size <= 65536) {
        size_t cap = (size + 2) / 3 * 4 + (size / 48 + 2) + 64;
        char *pem = malloc(cap);
        if (pem != NULL) {
            int n = x509view_pem(data, size, pem, cap);
            if (n >= 0 && (size_t)n != strlen(pem))
                abort();
            if (n < 0 && size > 0)
                abort(); /* the buffer was computed to be big enough */
            free(pem);
        }
    }

    /* Flag texts: the first bytes as a flag word. */
    if (size >= 4) {
        unsigned f = (unsigned)data[0] | (unsigned)data[1] << 8 |
                     (unsigned)data[2] << 16 | (unsigned)data[3] << 24;
        char t[64];
        size_t need = mxs_verify_flags_text(x509view_map_flags(f), t, sizeof t);
        if (strlen(t) >= sizeof t || (need < sizeof t && strlen(t) != need))
            abort();
        (void)mxs_verify_flags_text(f, t, sizeof t);
    }

    memset(&c, 0x5A, sizeof c);
    if (x509view_decode(data, size, (time_t)1700000000, &c, err, sizeof err) != 0) {
        if (c.der != NULL || strnlen(err, sizeof err) == 0)
            abort();
        return 0;
    }
    if (c.der == NULL || c.der_len != size || memcmp(c.der, data, size) != 0)
        abort();
    if (c.n_san < 0 || c.n_san > MXS_CERT_MAX_SAN || c.n_san > c.n_san_total)
        abort();
    if (c.n_san_total > c.n_san && c.n_san != MXS_CERT_MAX_SAN)
        abort();
    FUZZ_TERMINATED(c.subject);
    FUZZ_TERMINATED(c.issuer);
    FUZZ_TERMINATED(c.cn);
    FUZZ_TERMINATED(c.serial);
    FUZZ_TERMINATED(c.key_type);
    FUZZ_TERMINATED(c.curve);
    FUZZ_TERMINATED(c.sig_alg);
    for (int i = 0; i < c.n_san; i++)
        FUZZ_TERMINATED(c.san[i]);
    fuzz_hex_field(c.sha1, 40);
    fuzz_hex_field(c.sha256, 64);
    {
        char s1[41], s256[65];
        x509view_fingerprints(data, size, s1, s256);
        if (strcmp(s1, c.sha1) != 0 || strcmp(s256, c.sha256) != 0)
            abort();
    }
    if (c.eku & ~(unsigned)(MXS_EKU_SERVER | MXS_EKU_CLIENT | MXS_EKU_OTHER))
        abort();
    if (!c.has_eku && c.eku != 0)
        abort();
    if (c.max_pathlen < -1 || (!c.is_ca && c.max_pathlen != -1))
        abort();

    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++)
        (void)x509view_matches_name(&c, hosts[i]);
    /* The certificate's own names, through the DER and through the view. */
    {
        struct mxs_cert v = c;
        v.der = NULL;
        v.der_len = 0;
        for (int i = 0; i < c.n_san && i < 4; i++) {
            (void)x509view_matches_name(&c, c.san[i]);
            (void)x509view_matches_name(&v, c.san[i]);
        }
        (void)x509view_matches_name(&c, c.cn);
        (void)x509view_matches_name(&v, c.cn);
        for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++)
            (void)x509view_matches_name(&v, hosts[i]);
    }
    x509view_clear(&c);
    if (c.der != NULL)
        abort();
    return 0;
}
