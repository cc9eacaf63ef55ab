/*
 * test_tls_ca.c - the trust store parsed once per file (probe/tls_ca.c): a
 * second client shares the first one's chain, a file that changed is read
 * anew while the old chain stays whole for its holders, and a file that
 * cannot be read or parsed is named with mbedTLS's words.  Certificates are
 * made at test time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lab/labcert.h"
#include "probe/tls_ca.h"

static struct labcert ca1, ca2;
static char dir[] = "/tmp/mxscope-test-tls-ca.XXXXXX";
static char path[256];

static void write_file(const char *p, const struct labcert *a, const struct labcert *b)
{
    char pem[4096];
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    assert_true(labcert_pem(a, pem, sizeof pem) > 0);
    fputs(pem, f);
    if (b) {
        assert_true(labcert_pem(b, pem, sizeof pem) > 0);
        fputs(pem, f);
    }
    assert_int_equal(fclose(f), 0);
}

static int count(mbedtls_x509_crt *c)
{
    int n = 0;
    for (; c && c->raw.p; c = c->next)
        n++;
    return n;
}

static int setup(void **st)
{
    (void)st;
    char err[256];
    labcert_init(&ca1);
    labcert_init(&ca2);
    struct labcert_spec s1 = { .subject = "CN=store one", .is_ca = 1, .max_pathlen = -1 };
    struct labcert_spec s2 = { .subject = "CN=store two", .is_ca = 1, .max_pathlen = -1 };
    if (labcert_make(&ca1, &s1, NULL, err, sizeof err) || labcert_make(&ca2, &s2, NULL, err, sizeof err))
        return -1;
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/ca.pem", dir);
    return 0;
}

static int teardown(void **st)
{
    (void)st;
    labcert_free(&ca1);
    labcert_free(&ca2);
    unlink(path);
    rmdir(dir);
    return 0;
}

static void test_shared_then_changed(void **st)
{
    (void)st;
    char err[256] = "";
    write_file(path, &ca1, NULL);
    struct tls_ca *a = tls_ca_get(path, err, sizeof err);
    assert_non_null(a);
    struct tls_ca *b = tls_ca_get(path, err, sizeof err);
    assert_ptr_equal(a, b); /* parsed once: the second client shares it */
    assert_int_equal(count(tls_ca_chain(a)), 1);
    tls_ca_put(b);

    /* The operator fixes the store (another size, another mtime). */
    write_file(path, &ca1, &ca2);
    struct timespec later[2] = { { .tv_sec = time(NULL) + 5 }, { .tv_sec = time(NULL) + 5 } };
    assert_int_equal(utimensat(AT_FDCWD, path, later, 0), 0);
    struct tls_ca *c = tls_ca_get(path, err, sizeof err);
    assert_non_null(c);
    assert_ptr_not_equal(a, c);
    assert_int_equal(count(tls_ca_chain(c)), 2);
    /* the old chain is whole for whoever still holds it */
    mbedtls_x509_crt *old = tls_ca_chain(a);
    assert_int_equal(count(old), 1);
    assert_int_equal(old->raw.len, ca1.der_len);
    assert_memory_equal(old->raw.p, ca1.der, ca1.der_len);
    tls_ca_put(a);
    struct tls_ca *d = tls_ca_get(path, err, sizeof err);
    assert_ptr_equal(c, d);
    tls_ca_put(c);
    tls_ca_put(d);
}

static void test_unreadable_and_garbage(void **st)
{
    (void)st;
    char err[256] = "", p[300];
    snprintf(p, sizeof p, "%s/missing.pem", dir);
    assert_null(tls_ca_get(p, err, sizeof err));
    assert_non_null(strstr(err, "Read/write of file failed")); /* mbedTLS's words */

    snprintf(p, sizeof p, "%s/junk.pem", dir);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n", f);
    fclose(f);
    err[0] = 0;
    assert_null(tls_ca_get(p, err, sizeof err));
    assert_true(strlen(err) > 10 && !strstr(err, "Read/write"));
    unlink(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_then_changed),
        cmocka_unit_test(test_unreadable_and_garbage),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
