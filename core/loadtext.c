/*
 * loadtext.c - a saved text transcript back into a read-only engine.
 * (Placeholder until the loader lands: refuses clearly.)
 */
#include <stdio.h>
#include "render.h"

struct engine *engine_load_text(const char *text, size_t len, const char *path, char *err,
                                size_t errlen)
{
    (void)text; (void)len;
    snprintf(err, errlen, "%s: loading text transcripts is not supported yet; save json FILE instead", path);
    return NULL;
}
