/*
 * tls_ca.c - the trust store, parsed once per file and shared (tls_ca.h).
 */
#include "probe/tls_ca.h"

#include <mbedtls/error.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct tls_ca {
    char path[1024];
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    int refs;        /* holders, the table's own included while listed */
    mbedtls_x509_crt crt;
};

/* A handful of files at most: --cafile, the system bundle, a line's own. */
#define TLS_CA_SLOTS 8
static struct tls_ca *tls_ca_table[TLS_CA_SLOTS];
static pthread_mutex_t tls_ca_mu = PTHREAD_MUTEX_INITIALIZER;

static void tls_ca_unref(struct tls_ca *ca) /* under the mutex */
{
    if (--ca->refs == 0) {
        mbedtls_x509_crt_free(&ca->crt);
        free(ca);
    }
}

static int tls_ca_same(const struct tls_ca *ca, const char *path, const struct stat *st)
{
    return !strcmp(ca->path, path) && ca->dev == st->st_dev && ca->ino == st->st_ino &&
           ca->size == st->st_size && ca->mtime.tv_sec == st->st_mtim.tv_sec &&
           ca->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

struct tls_ca *tls_ca_get(const char *path, char *err, size_t errlen)
{
    struct stat st;
    /* A file we cannot stat is parsed all the same, for mbedTLS's own
     * words on why it cannot be read; it is never found again. */
    int known = stat(path, &st) == 0 && strlen(path) < sizeof ((struct tls_ca *)0)->path;
    if (!known)
        memset(&st, 0, sizeof st);
    pthread_mutex_lock(&tls_ca_mu);
    for (int i = 0; known && i < TLS_CA_SLOTS; i++) {
        struct tls_ca *ca = tls_ca_table[i];
        if (ca && tls_ca_same(ca, path, &st)) {
            ca->refs++;
            pthread_mutex_unlock(&tls_ca_mu);
            return ca;
        }
    }
    pthread_mutex_unlock(&tls_ca_mu);

    /* Parsed outside the lock: two threads may parse the same file at
     * once, and the second simply lists its own. */
    struct tls_ca *ca = calloc(1, sizeof *ca);
    if (!ca) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    mbedtls_x509_crt_init(&ca->crt);
    int r = mbedtls_x509_crt_parse_file(&ca->crt, path);
    if (r < 0) { /* > 0: some certificates did not parse; the rest serve */
        mbedtls_strerror(r, err, errlen);
        mbedtls_x509_crt_free(&ca->crt);
        free(ca);
        return NULL;
    }
    snprintf(ca->path, sizeof ca->path, "%s", path);
    ca->dev = st.st_dev;
    ca->ino = st.st_ino;
    ca->size = st.st_size;
    ca->mtime = st.st_mtim;
    ca->refs = 1; /* the caller's */
    if (!known)
        return ca;

    pthread_mutex_lock(&tls_ca_mu);
    int slot = -1;
    for (int i = 0; i < TLS_CA_SLOTS; i++) {
        struct tls_ca *o = tls_ca_table[i];
        if (o && !strcmp(o->path, path)) { /* the file changed: the new one serves */
            slot = i;
            break;
        }
        if (!o && slot < 0)
            slot = i;
    }
    if (slot < 0)
        slot = 0; /* a full table: the first goes (its holders keep it) */
    if (tls_ca_table[slot])
        tls_ca_unref(tls_ca_table[slot]);
    tls_ca_table[slot] = ca;
    ca->refs++; /* the table's */
    pthread_mutex_unlock(&tls_ca_mu);
    return ca;
}

mbedtls_x509_crt *tls_ca_chain(struct tls_ca *ca)
{
    return &ca->crt;
}

void tls_ca_put(struct tls_ca *ca)
{
    if (!ca)
        return;
    pthread_mutex_lock(&tls_ca_mu);
    tls_ca_unref(ca);
    pthread_mutex_unlock(&tls_ca_mu);
}
