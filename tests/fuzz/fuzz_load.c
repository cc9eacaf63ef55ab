/*
 * fuzz_load.c - the session loaders (--load, `load FILE`: session_json.c,
 * and session_text.c for input starting "# mxscope ") on hostile files: no
 * crash, no sanitizer report, and whatever loads renders back to text and
 * JSON with nothing raw in it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "core.h"
#include "session/render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    struct engine *e = engine_load_buffer((const char *)data, size, "fuzz", err, sizeof err);
    if (!e)
        return 0;
    struct buf b;
    buf_init(&b, 0);
    render_report_text(e, &b);
    render_transcript_text(e, &b);
    for (size_t i = 0; i < b.len; i++) {
        unsigned char c = (unsigned char)buf_str(&b)[i];
        if ((c < 0x20 && c != '\n') || c == 0x7f)
            abort(); /* a raw control byte reached the text */
    }
    buf_free(&b);
    char *j = render_json(e);
    free(j);
    engine_free(e);
    return 0;
}
