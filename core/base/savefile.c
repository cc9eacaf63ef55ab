/*
 * savefile.c - files saved whole or not at all (savefile.h).
 *
 * Owner: the savefile module.  The sequence is the classic one, because each
 * step closes a way to lose data:
 *   mkostemp in the target's folder  - rename() is only atomic within one
 *                                      file system, so the temp file must sit
 *                                      beside the target;
 *   write loop (short writes, EINTR) - a full disk shows up here (ENOSPC);
 *   fsync(temp)                      - without it a crash after rename can
 *                                      leave a zero-length target (ext4,
 *                                      XFS delayed allocation);
 *   close                            - NFS reports some write errors here;
 *   rename(temp, target)             - the atomic switch: readers see the old
 *                                      or the new file, never a mix;
 *   fsync(folder)                    - makes the rename itself durable.
 * No seam for tests in here: tests/unit/test_savefile.c interposes write()
 * and fsync() at link time, and the integration test fills a real tmpfs.
 */
#include "base/savefile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One write() asks for at most this much: Linux caps a single write at
 * 0x7ffff000 bytes anyway, and smaller requests keep EINTR cheap. */
#define SAVEFILE_CHUNK ((size_t)1 << 24)

static void savefile_err(char *err, size_t errlen, const char *step, int e)
{
    char eb[128];
    const char *et;
    if (err == NULL || errlen == 0)
        return;
    /* GNU strerror_r (we build with _GNU_SOURCE): thread-safe, returns the
     * text, which may or may not be eb. */
    et = strerror_r(e, eb, sizeof eb);
    snprintf(err, errlen, "%s: %s", step, et);
}

/* Split path into its folder ("." when there is no slash) and base name.
 * Returns -1 when path names no file (empty, ends in '/'). */
static int savefile_split(const char *path, char *dir, size_t dirlen, const char **base)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        snprintf(dir, dirlen, ".");
        *base = path;
    } else {
        size_t dl = (size_t)(slash - path);
        if (slash[1] == '\0')
            return -1;
        if (dl == 0)
            dl = 1; /* "/name": the folder is "/" */
        if (dl >= dirlen)
            return -1;
        memcpy(dir, path, dl);
        dir[dl] = '\0';
        *base = slash + 1;
    }
    return (*base)[0] == '\0' ? -1 : 0;
}

static int savefile_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc, e;
    if (fd < 0)
        return -1;
    do
        rc = fsync(fd);
    while (rc != 0 && errno == EINTR);
    e = errno;
    close(fd);
    /* Some file systems cannot fsync a directory at all; the rename is then
     * as durable as that file system makes it, which is not our error. */
    if (rc != 0 && (e == EINVAL || e == ENOTSUP || e == EROFS))
        rc = 0;
    errno = e;
    return rc;
}

int savefile_write(const char *path, const void *data, size_t len, char *err,
                   size_t errlen)
{
    char dir[PATH_MAX], tmp[PATH_MAX];
    const char *base;
    const unsigned char *p = data;
    size_t off = 0;
    int fd, e, n;
    const char *step;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (path == NULL || path[0] == '\0' || strlen(path) >= PATH_MAX ||
        savefile_split(path, dir, sizeof dir, &base) != 0) {
        savefile_err(err, errlen, "file name", EINVAL);
        return -1;
    }
    if (data == NULL && len > 0) {
        savefile_err(err, errlen, "data", EINVAL);
        return -1;
    }
    /* ".<name>.XXXXXX": hidden, recognisable as ours if a crash leaves it
     * behind, and the base is cut so the name stays within NAME_MAX. */
    n = snprintf(tmp, sizeof tmp, "%s/.%.200s.XXXXXX", dir, base);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        savefile_err(err, errlen, "file name", ENAMETOOLONG);
        return -1;
    }
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        savefile_err(err, errlen, "create temp file", errno);
        return -1;
    }
    /* mkostemp creates 0600 already; say it explicitly so a future libc or
     * an inherited umask cannot make a saved transcript group-readable. */
    if (fchmod(fd, 0600) != 0) {
        step = "chmod";
        goto fail;
    }
    while (off < len) {
        size_t want = len - off;
        ssize_t w;
        if (want > SAVEFILE_CHUNK)
            want = SAVEFILE_CHUNK;
        w = write(fd, p + off, want);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            step = "write";
            goto fail;
        }
        if (w == 0) { /* should not happen for a regular file; never spin */
            errno = EIO;
            step = "write";
            goto fail;
        }
        off += (size_t)w;
    }
    for (;;) {
        if (fsync(fd) == 0)
            break;
        if (errno != EINTR) {
            step = "fsync";
            goto fail;
        }
    }
    if (close(fd) != 0) {
        fd = -1;
        step = "close";
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        step = "rename";
        goto fail;
    }
    if (savefile_sync_dir(dir) != 0) {
        /* Past the rename the target already holds the complete new
         * content; only its durability across a power cut is in doubt. */
        e = errno;
        if (err != NULL && errlen > 0) {
            char eb[128];
            snprintf(err, errlen, "fsync folder: %s (the file was replaced)",
                     strerror_r(e, eb, sizeof eb));
        }
        return -1;
    }
    return 0;

fail:
    e = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    savefile_err(err, errlen, step, e);
    errno = e;
    return -1;
}

int savefile_read(const char *path, size_t max, char **out, size_t *outlen,
                  char *err, size_t errlen)
{
    struct stat st;
    char *buf = NULL;
    size_t cap, total = 0;
    int fd;

    if (out != NULL)
        *out = NULL;
    if (outlen != NULL)
        *outlen = 0;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (path == NULL || out == NULL) {
        savefile_err(err, errlen, "open", EINVAL);
        return -1;
    }
    if (max > SIZE_MAX - 1)
        max = SIZE_MAX - 1; /* room for the NUL */
    /* O_NONBLOCK: opening a FIFO for reading must not hang the console; a
     * regular file ignores the flag. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        savefile_err(err, errlen, "open", errno);
        return -1;
    }
    if (fstat(fd, &st) != 0) {
        savefile_err(err, errlen, "stat", errno);
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "open: not a regular file");
        close(fd);
        return -1;
    }
    if (st.st_size < 0 || (uintmax_t)st.st_size > (uintmax_t)max) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "read: file is larger than %zu bytes", max);
        close(fd);
        return -1;
    }
    cap = (size_t)st.st_size;
    buf = malloc(cap + 1);
    if (buf == NULL) {
        savefile_err(err, errlen, "read", ENOMEM);
        close(fd);
        return -1;
    }
    for (;;) {
        ssize_t r;
        if (total == cap) {
            /* As big as fstat said: probe for EOF; the file may have grown
             * since, so keep reading, but never past max. */
            char probe;
            do
                r = read(fd, &probe, 1);
            while (r < 0 && errno == EINTR);
            if (r < 0)
                goto rerr;
            if (r == 0)
                break;
            if (cap >= max) {
                if (err != NULL && errlen > 0)
                    snprintf(err, errlen, "read: file is larger than %zu bytes", max);
                goto fail;
            }
            size_t ncap = cap < (SIZE_MAX - 4096) / 2 ? cap * 2 + 4096 : max;
            if (ncap > max)
                ncap = max;
            char *nb = realloc(buf, ncap + 1);
            if (nb == NULL) {
                savefile_err(err, errlen, "read", ENOMEM);
                goto fail;
            }
            buf = nb;
            cap = ncap;
            buf[total++] = probe;
            continue;
        }
        r = read(fd, buf + total, cap - total);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            goto rerr;
        }
        if (r == 0)
            break;
        total += (size_t)r;
    }
    close(fd);
    buf[total] = '\0';
    *out = buf;
    if (outlen != NULL)
        *outlen = total;
    return 0;

rerr:
    savefile_err(err, errlen, "read", errno);
fail:
    free(buf);
    close(fd);
    return -1;
}
