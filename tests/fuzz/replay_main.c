/*
 * replay_main.c - run a libFuzzer target over a corpus without libFuzzer,
 * so `make test` replays every seed (and every crash found and committed)
 * under the normal and the sanitizer builds.
 *
 * Usage: replay_NAME PATH...  (files, or directories: their files and the
 * files of their immediate subdirectories).  Exits non-zero when no input at
 * all was found: an empty or mistyped corpus must fail, not pass.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_INPUT (16u * 1024 * 1024)

static size_t replay_count;
static int replay_errors;

static void replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        replay_errors++;
        return;
    }
    size_t cap = 4096, n = 0;
    uint8_t *d = malloc(cap);
    while (d) {
        if (n == cap) {
            if (cap >= REPLAY_MAX_INPUT)
                break;
            uint8_t *nd = realloc(d, cap * 2);
            if (!nd) {
                free(d);
                d = NULL;
                break;
            }
            d = nd;
            cap *= 2;
        }
        size_t k = fread(d + n, 1, cap - n, f);
        if (k == 0)
            break;
        n += k;
    }
    fclose(f);
    if (!d) {
        fprintf(stderr, "replay: out of memory on %s\n", path);
        replay_errors++;
        return;
    }
    /* An exact-size copy, so ASan sees reads past the end of the input. */
    uint8_t *exact = malloc(n ? n : 1);
    if (exact) {
        memcpy(exact, d, n);
        LLVMFuzzerTestOneInput(exact, n);
        replay_count++;
    } else {
        replay_errors++;
    }
    free(exact);
    free(d);
}

static int replay_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void replay_path(const char *path, int depth)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: no such file: %s\n", path);
        replay_errors++;
        return;
    }
    if (S_ISREG(st.st_mode)) {
        replay_file(path);
        return;
    }
    if (!S_ISDIR(st.st_mode) || depth > 1)
        return;
    DIR *dir = opendir(path);
    if (!dir) {
        fprintf(stderr, "replay: cannot open directory %s\n", path);
        replay_errors++;
        return;
    }
    /* Sorted, so runs are reproducible. */
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof *names);
            if (!nn)
                break;
            names = nn;
        }
        size_t l = strlen(path) + 1 + strlen(de->d_name) + 1;
        names[n] = malloc(l);
        if (!names[n])
            break;
        snprintf(names[n], l, "%s/%s", path, de->d_name);
        n++;
    }
    closedir(dir);
    if (n)
        qsort(names, n, sizeof *names, replay_cmp);
    for (size_t i = 0; i < n; i++) {
        replay_path(names[i], depth + 1);
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++)
        replay_path(argv[i], 0);
    printf("replay: %zu inputs ran\n", replay_count);
    if (replay_count == 0) {
        fprintf(stderr, "replay: no inputs found: an empty corpus is a failure\n");
        return 1;
    }
    return replay_errors ? 1 : 0;
}
