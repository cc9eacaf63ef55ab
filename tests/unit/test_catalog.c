/*
 * test_catalog.c - the catalogue of findings (core/diag/catalog.c) and its
 * documentation: every row is whole, every advice template names only
 * known facts, diag_find_id() finds each id, and docs/findings.md
 * documents every id of the catalogue and names no other.
 * Owner: diagnosis.
 *
 * Run from the repository root (as tests/run.sh and `make test` do):
 * docs/findings.md is read from there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "diag/diag.h"
#include "policy/tlsrpt_report.h"

#define DOC "docs/findings.md"
#define MAX_IDS 256

/* ---- the rows ------------------------------------------------------------- */

static int known_key(const char *k, size_t n)
{
    static const char *const keys[] = {"domain", "name", "what", "port",
                                       "expected", "spki"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strlen(keys[i]) == n && !memcmp(keys[i], k, n))
            return 1;
    return 0;
}

/* Every {key} of a template is one diag_advise fills; no stray braces. */
static void template_ok(const char *id, const char *t)
{
    for (const char *p = strchr(t, '{'); p; p = strchr(p + 1, '{')) {
        const char *q = strchr(p, '}');
        if (!q || !known_key(p + 1, (size_t)(q - p - 1)))
            fail_msg("%s: unknown template key at \"%.20s\"", id, p);
    }
    if (strstr(t, "If it is"))
        fail_msg("%s: the advice carries its own \"If it is ...\" prefix", id);
}

static void t_rows_whole(void **st)
{
    (void)st;
    int n = 0;
    const struct diag_entry *r = diag_catalog(&n);
    assert_non_null(r);
    assert_true(n > 40);
    for (int i = 0; i < n; i++) {
        const struct diag_entry *e = &r[i];
        if (!e->id)
            fail_msg("row %d has no id (a hole in the designated initializers)", i);
        assert_non_null(e->advice_own);
        assert_non_null(e->advice_third);
        assert_true(e->advice_own[0] && e->advice_third[0]);
        template_ok(e->id, e->advice_own);
        template_ok(e->id, e->advice_third);
        assert_true(e->severity == MXS_SEV_ERROR || e->severity == MXS_SEV_WARNING);
        /* A warning stops nobody; only the four known classes exist. */
        if (e->severity == MXS_SEV_WARNING)
            assert_int_equal(e->blocks, 0);
        assert_int_equal(e->blocks & ~(unsigned)(DIAG_BLK_ALL | DIAG_BLK_TLS |
                                                 DIAG_BLK_VERIFY | DIAG_BLK_LOCAL), 0);
        /* A LOCAL finding is ours: it never also blocks a sender. */
        if (e->blocks & DIAG_BLK_LOCAL)
            assert_int_equal(e->blocks, DIAG_BLK_LOCAL);
        const struct diag_entry *own = diag_find_id(e->id);
        if (!own)
            fail_msg("%s: diag_find_id finds no own row", e->id);
        if (e->variant) {
            assert_null(e->title);
            assert_true(own != e);
            assert_int_equal(own->step, e->step);
        } else {
            assert_ptr_equal(own, e);
            assert_non_null(e->title);
            assert_true(e->title[0] != 0);
        }
        /* One own row per id, one row per (id, variant). */
        for (int j = 0; j < i; j++) {
            const struct diag_entry *x = &r[j];
            if (strcmp(x->id, e->id))
                continue;
            if (!x->variant && !e->variant)
                fail_msg("%s: two own rows", e->id);
            if (x->variant && e->variant && !strcmp(x->variant, e->variant))
                fail_msg("%s: variant %s twice", e->id, e->variant);
        }
    }
}

static void t_find_id(void **st)
{
    (void)st;
    const struct diag_entry *e = diag_find_id("cert-expired");
    assert_non_null(e);
    assert_string_equal(e->id, "cert-expired");
    assert_null(e->variant);
    assert_int_equal(e->step, MXS_STEP_CHAIN);
    assert_int_equal(e->severity, MXS_SEV_ERROR);
    assert_int_equal(e->blocks, DIAG_BLK_VERIFY);
    e = diag_find_id("starttls-not-offered");
    assert_non_null(e);
    assert_int_equal(e->blocks, DIAG_BLK_TLS);
    e = diag_find_id("mx-hosts-disagree");
    assert_non_null(e);
    assert_int_equal(e->step, MXS_STEP_NONE);
    assert_null(diag_find_id("no-such-finding"));
    assert_null(diag_find_id("cert-expire"));
    assert_null(diag_find_id(""));
    assert_null(diag_find_id(NULL));
}

/* ---- docs/findings.md ------------------------------------------------------ */

struct doc {
    char table[MAX_IDS][40];  /* first cells of rows under "## The table" */
    int n_table;
    char named[MAX_IDS][40];  /* id-shaped first cells of every table row  */
    int n_named;
};

/* "dns-nxdomain": lower-case words joined by '-', at least two. */
static int id_shaped(const char *s)
{
    int dash = 0;
    if (!islower((unsigned char)s[0]))
        return 0;
    for (const char *p = s; *p; p++) {
        if (*p == '-') {
            if (p[1] == 0 || p[1] == '-')
                return 0;
            dash = 1;
        } else if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p)) {
            return 0;
        }
    }
    return dash;
}

static void add(char ids[][40], int *n, const char *id)
{
    for (int i = 0; i < *n; i++)
        if (!strcmp(ids[i], id))
            return;
    assert_true(*n < MAX_IDS);
    snprintf(ids[*n], 40, "%s", id);
    (*n)++;
}

static void read_doc(struct doc *d)
{
    FILE *f = fopen(DOC, "r");
    if (!f)
        fail_msg("cannot open %s: run the test from the repository root", DOC);
    char line[4096];
    int in_table = 0;
    memset(d, 0, sizeof *d);
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "## ", 3))
            in_table = !strncmp(line, "## The table", 12);
        if (strncmp(line, "| ", 2))
            continue;
        char cell[64];
        size_t len = strcspn(line + 2, "|");
        while (len > 0 && line[2 + len - 1] == ' ')
            len--;
        if (len == 0 || len >= sizeof cell)
            continue;
        memcpy(cell, line + 2, len);
        cell[len] = 0;
        if (!id_shaped(cell))
            continue;
        add(d->named, &d->n_named, cell);
        if (in_table)
            add(d->table, &d->n_table, cell);
    }
    fclose(f);
}

static int in_list(char ids[][40], int n, const char *id)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(ids[i], id))
            return 1;
    return 0;
}

static void t_docs_match(void **st)
{
    (void)st;
    struct doc *d = calloc(1, sizeof *d);
    assert_non_null(d);
    read_doc(d);
    assert_true(d->n_table > 0);
    int n = 0, bad = 0;
    const struct diag_entry *r = diag_catalog(&n);
    for (int i = 0; i < n; i++)
        if (!r[i].variant && !in_list(d->table, d->n_table, r[i].id)) {
            print_message("catalogue id %s has no row in \"## The table\" of %s\n",
                          r[i].id, DOC);
            bad++;
        }
    for (int i = 0; i < d->n_named; i++)
        if (!diag_find_id(d->named[i])) {
            print_message("%s names %s, which is not in the catalogue\n", DOC,
                          d->named[i]);
            bad++;
        }
    free(d);
    if (bad)
        fail_msg("%d mismatch(es) between core/diag/catalog.c and %s", bad, DOC);
}

/* ---- advice names real things ---------------------------------------------- */

/* Every `set NAME` in an advice is a setting of the table, every `--NAME`
 * an option of it, every "mxscope `CMD`" a console command: advice that
 * sends an operator to `set client-cert` (which does not exist) is a bug. */
static int check_names(const char *id, const char *text)
{
    int bad = 0;
    for (const char *p = text; (p = strstr(p, "`set ")) != NULL; p += 5) {
        char w[64];
        if (sscanf(p + 5, "%63[a-z0-9-]", w) != 1 || !mxs_setting_find(w)) {
            print_error("%s: advice names `set %s`, which is no setting\n", id, w);
            bad = 1;
        }
    }
    for (const char *p = text; (p = strstr(p, "--")) != NULL; p += 2) {
        char w[64];
        if (!isalpha((unsigned char)p[2]) || sscanf(p + 2, "%63[a-z0-9-]", w) != 1)
            continue;
        const struct mxs_setting_def *d = mxs_setting_find(w);
        if (!d || (d->flags & MXS_SETF_NOCLI)) {
            print_error("%s: advice names --%s, which is no option\n", id, w);
            bad = 1;
        }
    }
    for (const char *p = text; (p = strstr(p, "mxscope `")) != NULL; p += 9) {
        char w[64];
        if (sscanf(p + 9, "%63[a-z0-9-]", w) != 1 || !cmd_find(w)) {
            print_error("%s: advice names the command `%s`, which does not exist\n", id, w);
            bad = 1;
        }
    }
    return bad;
}

static void t_advice_names_exist(void **st)
{
    int n = 0, bad = 0, seen_set = 0;
    (void)st;
    const struct diag_entry *r = diag_catalog(&n);
    for (int i = 0; i < n; i++) {
        bad |= check_names(r[i].id, r[i].advice_own);
        bad |= check_names(r[i].id, r[i].advice_third);
        seen_set += strstr(r[i].advice_own, "`set ") != NULL;
    }
    assert_int_equal(bad, 0);
    assert_true(seen_set > 0);       /* the check looked at something */
    /* ...and it can fail. */
    assert_int_equal(check_names("probe", "use `set client-cert` and --nope"), 1);
    assert_int_equal(check_names("probe", "mxscope `frobnicate`"), 1);
    assert_int_equal(check_names("probe", "`set cert` / `set key`, --resolver, mxscope `report`"), 0);
}

/* ---- RFC 8460 result types -------------------------------------------------- */

/* Every catalogue id is classified (a type or, explicitly, none), every type
 * is one RFC 8460 §4.3 defines, and only errors carry one. */
static void t_tlsrpt_types(void **st)
{
    (void)st;
    int n = 0, unclassified = 0, typed = 0;
    const struct diag_entry *r = diag_catalog(&n);
    for (int i = 0; i < n; i++) {
        int known = 0;
        const char *t = diag_tlsrpt_type(r[i].id, &known);
        if (!known) {
            print_message("id %s has no RFC 8460 classification (core/diag/tlsrpt_map.c)\n", r[i].id);
            unclassified++;
        }
        if (t) {
            typed++;
            if (!tlsrpt_result_type_known(t))
                fail_msg("%s: \"%s\" is not an RFC 8460 result type", r[i].id, t);
        }
    }
    assert_int_equal(unclassified, 0);
    assert_true(typed > 10);

    /* docs/findings.md "## TLS-RPT result types": one row per typed id. */
    FILE *fp = fopen(DOC, "r");
    assert_non_null(fp);
    char line[512];
    int in_sec = 0, rows = 0, bad = 0, ids_typed = 0;
    while (fgets(line, sizeof line, fp)) {
        if (!strncmp(line, "## ", 3))
            in_sec = !strncmp(line, "## TLS-RPT result types", 23);
        char id[64], type[64];
        if (!in_sec || sscanf(line, "| %63[a-z0-9-] | %63[a-z0-9-] |", id, type) != 2 || id[0] == '-')
            continue;
        rows++;
        const char *want = diag_tlsrpt_type(id, NULL);
        if (!want || strcmp(want, type)) {
            print_message("%s: the docs say %s, the table %s\n", id, type, want ? want : "none");
            bad++;
        }
    }
    fclose(fp);
    for (int i = 0; i < n; i++)
        if (!r[i].variant && diag_tlsrpt_type(r[i].id, NULL))
            ids_typed++;
    assert_int_equal(bad, 0);
    assert_int_equal(rows, ids_typed);
    int known = 1;
    assert_null(diag_tlsrpt_type("no-such-finding", &known));
    assert_int_equal(known, 0);
    struct mxs_finding f = { .severity = MXS_SEV_ERROR, .cert_depth = 0 };
    snprintf(f.id, sizeof f.id, "cert-expired");
    assert_string_equal(mxs_tlsrpt_result_type(&f), "certificate-expired");
    f.severity = MXS_SEV_WARNING;
    assert_null(mxs_tlsrpt_result_type(&f));
    f.severity = MXS_SEV_ERROR;
    snprintf(f.id, sizeof f.id, "connect-refused");
    assert_null(mxs_tlsrpt_result_type(&f));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_rows_whole),
        cmocka_unit_test(t_find_id),
        cmocka_unit_test(t_docs_match),
        cmocka_unit_test(t_advice_names_exist),
        cmocka_unit_test(t_tlsrpt_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
