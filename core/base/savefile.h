/*
 * savefile.h - files saved whole or not at all.
 *
 * savefile_write() writes to a temp file in the target's folder (mode 0600),
 * handles short writes and EINTR, fsyncs it, renames it over the target and
 * fsyncs the folder.  On any failure the temp file is removed, the target is
 * untouched and err names the step and errno ("write: No space left on
 * device").  An existing target is replaced only by a complete new file.
 *
 * Owner: savefile.c.  Steps named in err: "file name", "create temp file",
 * "chmod", "write", "fsync", "close", "rename", "fsync folder".  The last
 * one happens after the rename: then the target already holds the complete
 * new content, err says "(the file was replaced)", and -1 is returned
 * because its durability is not guaranteed.  The temp file is
 * "<folder>/.<name>.XXXXXX"; only a process killed mid-save (SIGKILL, power
 * loss) can leave one behind, never a failed call.  The target ends up mode
 * 0600 whatever it was before; a symlink target is replaced by the file.
 *
 * No test seam: tests/unit/test_savefile.c defines write() and fsync() in
 * the test program, which take precedence over libc's at link time.
 */
#ifndef MXS_SAVEFILE_H
#define MXS_SAVEFILE_H
#include <stddef.h>

int savefile_write(const char *path, const void *data, size_t len, char *err,
                   size_t errlen);

/* Read a whole file of at most max bytes into a malloc'd buffer (+NUL).
 * Returns 0, or -1 with err ("open: ...", "open: not a regular file",
 * "read: file is larger than MAX bytes").  Only regular files; a FIFO does
 * not block.  Files that grow while read (or /proc files of size 0) are
 * read up to max. */
int savefile_read(const char *path, size_t max, char **out, size_t *outlen,
                  char *err, size_t errlen);

#endif
