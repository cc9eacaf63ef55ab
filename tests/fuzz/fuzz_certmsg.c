/*
 * fuzz_certmsg.c - libFuzzer target for tls_cert_msg_scan() (tls.c): the
 * walk of a Certificate message body that names a certificate mbedTLS
 * refuses and its odd iPAddress SAN entry.  Owner: TLS client.  Built with
 * libFuzzer (make fuzz) and with tests/fuzz/replay_main.c over
 * tests/fuzz/corpus/certmsg/ (make test).
 *
 * Input: byte 0 selects TLS 1.3 framing (odd) or TLS 1.2 (even); the rest
 * is the message body.  Checked: the result is 0 or 1, a named entry has a
 * length other than 4 and 16 (0 included) and lies within the input, the index of the
 * refused certificate is possible for the input's size.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "probe/tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int cert = -7, entry = -7, len = -7;
    int r = tls_cert_msg_scan(data + 1, size - 1, data[0] & 1, &cert, &entry, &len);
    if (r != 0 && r != 1)
        abort();
    if (r == 1) {
        /* each certificate costs at least its 3-byte length */
        if (cert < 0 || (size_t)cert * 3 > size)
            abort();
        if (entry >= 0 && (len == 4 || len == 16 || len < 0 || (size_t)len > size))
            abort();
        if (entry < 0 && len != 0)
            abort();
    }
    return 0;
}
