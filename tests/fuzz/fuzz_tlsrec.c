/*
 * fuzz_tlsrec.c - the raw TLS record decoder on arbitrary streams.
 * Byte 0, bit 0: 0 = all bytes are from the server, fed whole and in
 * pieces (the facts must not depend on the chunking); 1 = a two-direction
 * conversation: each segment is one control byte (bit 7: from the server,
 * low 7 bits: length) followed by its bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/tlsrec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t fz_records;

static void fz_cb(void *arg, int from_server, int type, int version,
                  const unsigned char *body, size_t len)
{
    (void)arg; (void)from_server; (void)version;
    if (type < 20 || type > 24 || len > TLSREC_MAX_BODY) abort();
    if (len) {
        volatile unsigned char x = body[0];
        x = body[len - 1];          /* ASan: the body is really len bytes */
        (void)x;
    }
    fz_records++;
}

static void fz_check(const struct tlsrec_facts *f)
{
    if (f->n_not_tls > sizeof f->not_tls_bytes) abort();
    if (f->not_tls && f->n_not_tls == 0) abort();
    if (f->alert_desc < -1 || f->alert_desc > 255) abort();
    if (f->client_alert_desc < -1 || f->client_alert_desc > 255) abort();
    if (f->sh_cipher < 0 || f->sh_cipher > 0xFFFF) abort();
    if (f->sh_group < 0 || f->sh_group > 0xFFFF) abort();
    const char *s = tlsrec_alert_name(f->alert_desc);
    if (s && !*s) abort();
    s = tlsrec_group_name(f->sh_group);
    if (s && !*s) abort();
    s = tlsrec_version_name(f->sh_selected_version);
    if (s && !*s) abort();
    (void)tlsrec_content_type_name(f->record_version & 0xFF);
}

static void fz_server_only(const uint8_t *d, size_t n, size_t chunk,
                           struct tlsrec_facts *f, size_t *recs)
{
    struct tlsrec_stream s;
    tlsrec_stream_init(&s);
    tlsrec_facts_init(f);
    fz_records = 0;
    for (size_t i = 0; i < n; i += chunk)
        tlsrec_feed(&s, 1, d + i, n - i < chunk ? n - i : chunk, f, fz_cb, NULL);
    *recs = fz_records;
    tlsrec_stream_free(&s);
    fz_check(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const uint8_t *d = data + 1;
    size_t n = size - 1;
    if (!(data[0] & 1)) {
        struct tlsrec_facts a, b;
        size_t ra, rb;
        fz_server_only(d, n, n ? n : 1, &a, &ra);
        fz_server_only(d, n, 1 + (data[0] >> 1) % 11, &b, &rb);
        if (memcmp(&a, &b, sizeof a) || ra != rb)
            abort();
        return 0;
    }
    struct tlsrec_stream srv, cli;
    struct tlsrec_facts f;
    tlsrec_stream_init(&srv);
    tlsrec_stream_init(&cli);
    tlsrec_facts_init(&f);
    size_t i = 0;
    while (i < n) {
        int from_server = d[i] >> 7;
        size_t len = d[i] & 0x7F;
        i++;
        if (len > n - i)
            len = n - i;
        tlsrec_feed(from_server ? &srv : &cli, from_server, d + i, len, &f,
                    fz_cb, NULL);
        i += len;
        fz_check(&f);
    }
    tlsrec_stream_free(&srv);
    tlsrec_stream_free(&cli);
    return 0;
}
