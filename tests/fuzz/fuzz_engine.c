/*
 * fuzz_engine.c - the whole engine over a scripted transport: the input is
 * everything the server says (banner, EHLO, STARTTLS reply, then TLS bytes).
 * The connection ends when the input does, so no input waits for a
 * deadline.  Checks: no crash, no sanitizer report, the engine finishes,
 * and the JSON and text renderings of whatever happened are produced.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "core.h"
#include "probe/engine_int.h"
#include "session/render.h"
#include "scripted.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct scripted sc;
    struct mxs_settings s;
    char err[64];
    mxs_settings_init(&s);
    mxs_settings_set(&s, "host", "mx.example.test", err, sizeof err);
    mxs_settings_set(&s, "connect", "127.0.0.1", err, sizeof err);
    mxs_settings_set(&s, "timeout", "2", err, sizeof err);
    mxs_settings_set(&s, "cafile", "/dev/null", err, sizeof err);
    scripted_init(&sc, data, size);
    sc.eof_at_end = 1;
    sc.chunk = size ? (size_t)(data[0] % 7) : 0; /* vary the chunking too */
    struct engine *e = engine_new(&s);
    if (!e)
        return 0;
    engine_set_factory(e, scripted_factory, &sc);
    engine_run(e);
    if (!engine_finished(e))
        abort();
    char *j = render_json(e);
    free(j);
    struct buf b;
    buf_init(&b, 0);
    render_report_text(e, &b);
    buf_free(&b);
    engine_free(e);
    return 0;
}
