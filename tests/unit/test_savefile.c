/*
 * test_savefile.c - savefile_write / savefile_read.
 *
 * Faults are injected without a seam in savefile.c: this test program
 * defines write() and fsync() itself.  The executable's definitions win over
 * libc's at link time, so the calls savefile.o makes land here; we pass
 * them through with syscall() unless a fault is armed.  (libc's own stdio
 * uses internal aliases, so cmocka's output is unaffected.)  Every test that
 * relies on it also checks that the calls really went through us, so a
 * toolchain that stops interposing makes the tests fail, not pass vacuously.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/savefile.h"

/* ---- interposed system calls ------------------------------------------- */

static int t_write_calls, t_fsync_calls;
static int t_fail_write_at, t_fail_fsync_at, t_fail_err; /* 1-based, 0 off */
static size_t t_max_chunk;   /* >0: short writes of at most this much */
static int t_eintr_every;    /* >0: every Nth write fails with EINTR */

ssize_t write(int fd, const void *buf, size_t n)
{
    t_write_calls++;
    if (t_fail_write_at > 0 && t_write_calls == t_fail_write_at) {
        errno = t_fail_err;
        return -1;
    }
    if (t_eintr_every > 0 && t_write_calls % t_eintr_every == 0) {
        errno = EINTR;
        return -1;
    }
    if (t_max_chunk > 0 && n > t_max_chunk)
        n = t_max_chunk;
    return syscall(SYS_write, fd, buf, n);
}

int fsync(int fd)
{
    t_fsync_calls++;
    if (t_fail_fsync_at > 0 && t_fsync_calls == t_fail_fsync_at) {
        errno = t_fail_err;
        return -1;
    }
    return (int)syscall(SYS_fsync, fd);
}

static void t_reset(void)
{
    t_write_calls = t_fsync_calls = 0;
    t_fail_write_at = t_fail_fsync_at = t_fail_err = 0;
    t_max_chunk = 0;
    t_eintr_every = 0;
}

/* ---- helpers ----------------------------------------------------------- */

static char t_dir[64];

static int setup(void **state)
{
    (void)state;
    t_reset();
    snprintf(t_dir, sizeof t_dir, "/tmp/mxs-savefile.XXXXXX");
    return mkdtemp(t_dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    DIR *d = opendir(t_dir);
    struct dirent *de;
    char p[512];
    t_reset();
    if (d != NULL) {
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof p, "%s/%s", t_dir, de->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(t_dir);
    return 0;
}

static void t_path(char *out, size_t outlen, const char *name)
{
    snprintf(out, outlen, "%s/%s", t_dir, name);
}

/* Number of entries in the test folder besides . and .. */
static int t_entries(void)
{
    DIR *d = opendir(t_dir);
    struct dirent *de;
    int n = 0;
    assert_non_null(d);
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void t_assert_content(const char *path, const void *want, size_t wantlen)
{
    char *got = NULL;
    size_t gotlen = 0;
    char err[256];
    assert_int_equal(savefile_read(path, 1u << 26, &got, &gotlen, err, sizeof err), 0);
    assert_int_equal(gotlen, wantlen);
    assert_memory_equal(got, want, wantlen);
    assert_int_equal(got[gotlen], '\0');
    free(got);
}

static unsigned char *t_pattern(size_t n, unsigned seed)
{
    unsigned char *b = malloc(n ? n : 1);
    assert_non_null(b);
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)((i * 131u + seed * 7u + (i >> 9)) & 0xff);
    return b;
}

/* ---- tests ------------------------------------------------------------- */

static void test_save_new(void **state)
{
    (void)state;
    char p[256], err[256];
    size_t n = 300000;
    unsigned char *data = t_pattern(n, 1);
    t_path(p, sizeof p, "new.bin");
    assert_int_equal(savefile_write(p, data, n, err, sizeof err), 0);
    assert_string_equal(err, "");
    t_assert_content(p, data, n);
    assert_int_equal(t_entries(), 1);
    /* The interposition is live: savefile's calls went through us. */
    assert_true(t_write_calls >= 1);
    assert_int_equal(t_fsync_calls, 2); /* the file and the folder */
    free(data);
}

static void test_save_empty(void **state)
{
    (void)state;
    char p[256], err[256];
    t_path(p, sizeof p, "empty");
    assert_int_equal(savefile_write(p, "", 0, err, sizeof err), 0);
    t_assert_content(p, "", 0);
    assert_int_equal(t_entries(), 1);
}

static void test_replace_existing(void **state)
{
    (void)state;
    char p[256], err[256];
    size_t oldn = 100000, newn = 777;
    unsigned char *old = t_pattern(oldn, 2), *nw = t_pattern(newn, 3);
    t_path(p, sizeof p, "replace.txt");
    assert_int_equal(savefile_write(p, old, oldn, err, sizeof err), 0);
    t_assert_content(p, old, oldn);
    /* shorter new content: nothing of the old tail may survive */
    assert_int_equal(savefile_write(p, nw, newn, err, sizeof err), 0);
    t_assert_content(p, nw, newn);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal((long)st.st_size, (long)newn);
    assert_int_equal(t_entries(), 1);
    free(old);
    free(nw);
}

static void test_mode_0600(void **state)
{
    (void)state;
    char p[256], err[256];
    struct stat st;
    mode_t old = umask(0);
    t_path(p, sizeof p, "mode");
    /* a pre-existing world-readable file ends up 0600 too */
    int fd = open(p, O_CREAT | O_WRONLY, 0644);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(savefile_write(p, "secret\n", 7, err, sizeof err), 0);
    umask(old);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_true(S_ISREG(st.st_mode));
}

/* Arm one fault, save over an existing file, check the damage control. */
static void t_fault_case(int write_at, int fsync_at, int e, const char *want_err)
{
    char p[256], err[256];
    const char *oldtxt = "the old content, complete\n";
    unsigned char *nw = t_pattern(50000, 9);
    t_path(p, sizeof p, "target");
    t_reset();
    assert_int_equal(savefile_write(p, oldtxt, strlen(oldtxt), err, sizeof err), 0);
    t_reset();
    t_fail_write_at = write_at;
    t_fail_fsync_at = fsync_at;
    t_fail_err = e;
    t_max_chunk = 4096; /* several writes, so write_at > 1 lands mid-file */
    assert_int_equal(savefile_write(p, nw, 50000, err, sizeof err), -1);
    assert_string_equal(err, want_err);
    if (write_at > 0)
        assert_true(t_write_calls >= write_at);
    if (fsync_at > 0)
        assert_true(t_fsync_calls >= fsync_at);
    t_reset();
    t_assert_content(p, oldtxt, strlen(oldtxt));
    assert_int_equal(t_entries(), 1); /* no temp file left behind */
    free(nw);
}

static void test_write_eio_first(void **state)
{
    (void)state;
    t_fault_case(1, 0, EIO, "write: Input/output error");
}

static void test_write_enospc_midway(void **state)
{
    (void)state;
    t_fault_case(5, 0, ENOSPC, "write: No space left on device");
}

static void test_fsync_eio(void **state)
{
    (void)state;
    t_fault_case(0, 1, EIO, "fsync: Input/output error");
}

static void test_fsync_enospc(void **state)
{
    (void)state;
    t_fault_case(0, 1, ENOSPC, "fsync: No space left on device");
}

/* The folder fsync comes after the rename: the new content is in place and
 * complete; the error says so. */
static void test_fsync_folder_fails(void **state)
{
    (void)state;
    char p[256], err[256];
    t_path(p, sizeof p, "dirsync");
    assert_int_equal(savefile_write(p, "old", 3, err, sizeof err), 0);
    t_reset();
    t_fail_fsync_at = 2;
    t_fail_err = EIO;
    assert_int_equal(savefile_write(p, "new!", 4, err, sizeof err), -1);
    assert_non_null(strstr(err, "fsync folder: Input/output error"));
    t_reset();
    t_assert_content(p, "new!", 4);
    assert_int_equal(t_entries(), 1);
}

static void test_short_writes_and_eintr(void **state)
{
    (void)state;
    char p[256], err[256];
    size_t n = 20011;
    unsigned char *data = t_pattern(n, 4);
    t_path(p, sizeof p, "short");
    t_max_chunk = 7;
    t_eintr_every = 3;
    assert_int_equal(savefile_write(p, data, n, err, sizeof err), 0);
    /* 7-byte writes: at least n/7 successful calls plus the EINTR ones */
    assert_true(t_write_calls >= (int)(n / 7 + n / 14));
    t_reset();
    t_assert_content(p, data, n);
    assert_int_equal(t_entries(), 1);
    free(data);
}

/* A real kernel failure, no injection: RLIMIT_FSIZE makes write() fail with
 * EFBIG once the temp file reaches the limit. */
static void test_real_efbig(void **state)
{
    (void)state;
    char p[256], err[256];
    struct rlimit old, lim;
    void (*oldsig)(int);
    unsigned char *data = t_pattern(200000, 5);
    t_path(p, sizeof p, "big");
    assert_int_equal(savefile_write(p, "small old\n", 10, err, sizeof err), 0);
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 65536;
    oldsig = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int rc = savefile_write(p, data, 200000, err, sizeof err);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, oldsig);
    assert_int_equal(rc, -1);
    assert_string_equal(err, "write: File too large");
    t_assert_content(p, "small old\n", 10);
    assert_int_equal(t_entries(), 1);
    free(data);
}

static void test_bad_paths(void **state)
{
    (void)state;
    char p[256], err[256];
    assert_int_equal(savefile_write("", "x", 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "file name"));
    t_path(p, sizeof p, "sub/");
    assert_int_equal(savefile_write(p, "x", 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "file name"));
    t_path(p, sizeof p, "missing-dir/file");
    assert_int_equal(savefile_write(p, "x", 1, err, sizeof err), -1);
    assert_string_equal(err, "create temp file: No such file or directory");
    /* the target is a directory: rename fails, temp removed */
    t_path(p, sizeof p, "adir");
    assert_int_equal(mkdir(p, 0700), 0);
    assert_int_equal(savefile_write(p, "x", 1, err, sizeof err), -1);
    assert_string_equal(err, "rename: Is a directory");
    assert_int_equal(t_entries(), 1);
    rmdir(p);
}

static void test_relative_path(void **state)
{
    (void)state;
    char cwd[512], err[256];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(t_dir), 0);
    int rc = savefile_write("rel.txt", "abc", 3, err, sizeof err);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(rc, 0);
    char p[256];
    t_path(p, sizeof p, "rel.txt");
    t_assert_content(p, "abc", 3);
}

static void test_read_limits(void **state)
{
    (void)state;
    char p[256], err[256], *out = (char *)1;
    size_t len = 99;
    t_path(p, sizeof p, "r");
    assert_int_equal(savefile_write(p, "0123456789", 10, err, sizeof err), 0);
    assert_int_equal(savefile_read(p, 9, &out, &len, err, sizeof err), -1);
    assert_null(out);
    assert_string_equal(err, "read: file is larger than 9 bytes");
    assert_int_equal(savefile_read(p, 10, &out, &len, err, sizeof err), 0);
    assert_int_equal(len, 10);
    assert_string_equal(out, "0123456789");
    free(out);
    t_path(p, sizeof p, "nope");
    assert_int_equal(savefile_read(p, 10, &out, &len, err, sizeof err), -1);
    assert_string_equal(err, "open: No such file or directory");
    assert_int_equal(savefile_read(t_dir, 10, &out, &len, err, sizeof err), -1);
    assert_string_equal(err, "open: not a regular file");
    /* a file that is not regular must not block (FIFO without a writer) */
    t_path(p, sizeof p, "fifo");
    assert_int_equal(mkfifo(p, 0600), 0);
    assert_int_equal(savefile_read(p, 10, &out, &len, err, sizeof err), -1);
    assert_string_equal(err, "open: not a regular file");
    unlink(p);
    /* /proc files report size 0 but have content: read up to max */
    assert_int_equal(savefile_read("/proc/self/status", 1 << 20, &out, &len, err,
                                   sizeof err), 0);
    assert_true(len > 0);
    assert_non_null(strstr(out, "Name:"));
    free(out);
    assert_int_equal(savefile_read("/proc/self/status", 16, &out, &len, err,
                                   sizeof err), -1);
    assert_string_equal(err, "read: file is larger than 16 bytes");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_save_new, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace_existing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mode_0600, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_eio_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_enospc_midway, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fsync_eio, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fsync_enospc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fsync_folder_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_writes_and_eintr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_real_efbig, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relative_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_limits, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
