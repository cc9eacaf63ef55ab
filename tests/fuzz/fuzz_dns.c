/*
 * fuzz_dns.c - libFuzzer target for the pure helpers of dns.c: wire names,
 * MX and TLSA RDATA.  Owner: DNS module.  Built with libFuzzer (make fuzz)
 * and with tests/fuzz/replay_main.c over tests/fuzz/corpus/dns/ (make test).
 *
 * Input: byte 0 picks the output buffer size (so the "does not fit" paths
 * are reached), the rest is RDATA fed to every helper: names, MX, TLSA,
 * TXT (dns_parse_txt), and the host-name judge (dns_host_check,
 * dns_host_raw) on the name decoded and on the input as text.  Beyond "no
 * crash", it checks the promises of dns.h and aborts when one is broken.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check_text(const char *s, size_t outlen)
{
    size_t n = strnlen(s, outlen);
    if (n >= outlen || n == 0)
        abort();                         /* not terminated inside, or empty */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            abort();                     /* names must come out printable */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[1100];
    size_t outlen, used = 0;
    uint16_t pref;
    struct mxs_tlsa t;

    if (size < 1)
        return 0;
    outlen = data[0] == 0 ? sizeof out : 1 + data[0] % sizeof out;
    data++;
    size--;

    /* The input is copied to a buffer of exactly its size, so ASan sees any
     * read past the end. */
    unsigned char *p = malloc(size ? size : 1);
    if (!p)
        return 0;
    memcpy(p, data, size);

    memset(out, 'X', sizeof out);
    if (dns_name_to_text(p, size, &used, out, outlen) == 0) {
        fuzz_check_text(out, outlen);
        if (used == 0 || used > size || used > 255)
            abort();
    }
    if (dns_name_to_text(p, size, &used, out, outlen) == 0) {
        char why[96], raw[300];
        int hc = dns_host_check(out, why, sizeof why);
        if (hc != DNS_HOST_OK && hc != DNS_HOST_LITERAL && hc != DNS_HOST_INVALID)
            abort();
        if (hc == DNS_HOST_INVALID && (why[0] == '\0' || strnlen(why, sizeof why) >= sizeof why))
            abort();                     /* an invalid name always says why */
        if (dns_host_raw(out, raw, sizeof raw) > sizeof raw)
            abort();
    }
    memset(out, 'X', sizeof out);
    if (dns_parse_mx(p, size, &pref, out, outlen) == 0)
        fuzz_check_text(out, outlen);
    {
        /* The input as a NUL-terminated text: the judge must not read past it. */
        char *txt = malloc(size + 1), why[96], raw[64];
        if (txt) {
            memcpy(txt, p, size);
            txt[size] = '\0';
            (void)dns_host_check(txt, why, sizeof why);
            if (dns_host_raw(txt, raw, sizeof raw) > sizeof raw)
                abort();
            free(txt);
        }
        size_t tl = 0, tt = 0;
        char tout[16];
        if (dns_parse_txt(p, size, tout, outlen < sizeof tout ? outlen : sizeof tout, &tl,
                          &tt) == 0) {
            if (tl > tt || tl > sizeof tout || tt >= size)
                abort();                 /* at least one length byte per string */
        }
    }
    if (dns_parse_tlsa(p, size, &t) == 0) {
        if (t.len == 0 || t.len > sizeof t.data || t.len > size - 3)
            abort();
        if (t.truncated != (size - 3 > sizeof t.data))
            abort();
        if (memcmp(t.data, p + 3, t.len) != 0)
            abort();
    }
    free(p);
    return 0;
}
