/*
 * savefile.h - files saved whole or not at all.
 *
 * savefile_write() writes to a temp file in the target's folder (mode 0600),
 * handles short writes and EINTR, fsyncs it, renames it over the target and
 * fsyncs the folder.  On any failure the temp file is removed, the target is
 * untouched and err names the step and errno ("write: No space left on
 * device").  An existing target is replaced only by a complete new file.
 */
#ifndef MXS_SAVEFILE_H
#define MXS_SAVEFILE_H
#include <stddef.h>

int savefile_write(const char *path, const void *data, size_t len, char *err,
                   size_t errlen);

/* Read a whole file of at most max bytes into a malloc'd buffer (+NUL).
 * Returns 0, or -1 with err. */
int savefile_read(const char *path, size_t max, char **out, size_t *outlen,
                  char *err, size_t errlen);

#endif
