/*
 * test_keymap.c - the console's key table (tui/keymap.c) and the help
 * screen's key list made from it (cmocka).
 *
 * keymap.c is compiled into this test directly: it uses only curses' KEY_*
 * constants, no curses calls, so the test links core alone like the others.
 * The checks: every entry has help text; every entry's key name and help
 * text are on one line of the help, in its context's section; the help has
 * no key line the table does not explain; look-up and fallbacks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../tui/keymap.c"

/* NULL when the table is sound, else why not. */
static const char *table_problem(const struct km_binding *t, int n, int *at)
{
    for (int i = 0; i < n; i++) {
        *at = i;
        if (!t[i].help || !t[i].help[0])
            return "an entry without help text";
        if (t[i].ctx < 0 || t[i].ctx >= KM_CTX_COUNT)
            return "an entry with no valid context";
        if (t[i].action <= KA_NONE || t[i].action >= KA_COUNT)
            return "an entry with no action";
        for (int j = 0; j < i; j++)
            if (t[j].ctx == t[i].ctx && t[j].key == t[i].key)
                return "a key bound twice in one context (the second is dead)";
    }
    return NULL;
}

static void test_every_entry_has_help(void **state)
{
    (void)state;
    int at = -1;
    const char *why = table_problem(km_bindings, km_nbindings, &at);
    if (why)
        fail_msg("keymap entry %d (key %d): %s", at, at >= 0 ? km_bindings[at].key : 0, why);
    assert_true(km_nbindings > 20);
    for (int c = 0; c < KM_CTX_COUNT; c++) {
        assert_non_null(km_contexts[c].title);
        /* A fallback that does something must say so in the help. */
        if (km_contexts[c].fallback != KA_NONE) {
            assert_non_null(km_contexts[c].fallback_help);
            assert_true(km_contexts[c].fallback_help[0] != 0);
        }
    }
}

/* The checker itself catches what it is there for. */
static void test_checker_rejects_missing_help(void **state)
{
    (void)state;
    const struct km_binding bad[] = {
        {'n', KM_PANES, KA_STEP, "run the next step"},
        {'x', KM_PANES, KA_RUN, ""},
    };
    const struct km_binding bad_null[] = {{'x', KM_PANES, KA_RUN, NULL}};
    const struct km_binding twice[] = {
        {'x', KM_PANES, KA_RUN, "a"}, {'x', KM_PANES, KA_STEP, "b"},
    };
    int at = -1;
    assert_non_null(table_problem(bad, 2, &at));
    assert_int_equal(at, 1);
    assert_non_null(table_problem(bad_null, 1, &at));
    assert_non_null(table_problem(twice, 2, &at));
}

/* The help text's section for context c: from its title to the next blank
 * line.  Returns a malloc'd copy. */
static char *section(const char *help, enum km_ctx c)
{
    char head[160];
    snprintf(head, sizeof head, "%s\n", km_contexts[c].title);
    const char *p = help;
    /* the title must start a line */
    while ((p = strstr(p, head)) && p != help && p[-1] != '\n')
        p++;
    if (!p)
        return NULL;
    p += strlen(head);
    const char *end = strstr(p, "\n\n");
    size_t n = end ? (size_t)(end - p) + 1 : strlen(p);
    char *s = malloc(n + 1);
    assert_non_null(s);
    memcpy(s, p, n);
    s[n] = 0;
    return s;
}

/* Does sec have a line "  KEYS  HELP" with name among KEYS? */
static int has_line(const char *sec, const char *name, const char *help)
{
    for (const char *l = sec; *l; ) {
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)len, l);
        size_t hl = strlen(help);
        if (len > hl + 2 && !strncmp(line, "  ", 2) && !strcmp(line + len - hl, help)) {
            /* the key column: names separated by ", " */
            char keys[256];
            snprintf(keys, sizeof keys, "%.*s", (int)(len - hl - 2), line + 2);
            for (char *t = strtok(keys, ","); t; t = strtok(NULL, ",")) {
                while (*t == ' ')
                    t++;
                char *e = t + strlen(t);
                while (e > t && e[-1] == ' ')
                    *--e = 0;
                if (!strcmp(t, name))
                    return 1;
            }
        }
        l = nl ? nl + 1 : l + len;
    }
    return 0;
}

static void test_help_lists_every_entry(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1u << 20);
    keymap_help_text(&b);
    assert_non_null(b.data);
    for (int i = 0; i < km_nbindings; i++) {
        const struct km_binding *k = &km_bindings[i];
        char name[32];
        keymap_key_name(k->key, name, sizeof name);
        char *sec = section(b.data, k->ctx);
        if (!sec)
            fail_msg("no help section \"%s\"", km_contexts[k->ctx].title);
        if (!has_line(sec, name, k->help))
            fail_msg("help has no line for %s (%s): %s", name, km_contexts[k->ctx].title, k->help);
        free(sec);
    }
    for (int c = 0; c < KM_CTX_COUNT; c++) {
        if (!km_contexts[c].fallback_help)
            continue;
        char *sec = section(b.data, (enum km_ctx)c);
        assert_non_null(sec);
        assert_true(has_line(sec, "other keys", km_contexts[c].fallback_help));
        free(sec);
    }
    buf_free(&b);
}

/* Nothing in the key list that the table does not say: every line is a
 * section title, blank, or ends with some entry's (or fallback's) help. */
static void test_help_has_nothing_else(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1u << 20);
    keymap_help_text(&b);
    int lines = 0;
    for (char *l = strtok(b.data, "\n"); l; l = strtok(NULL, "\n")) {
        int known = 0;
        for (int c = 0; c < KM_CTX_COUNT && !known; c++)
            known = !strcmp(l, km_contexts[c].title) ||
                    (km_contexts[c].fallback_help &&
                     strstr(l, km_contexts[c].fallback_help) &&
                     !strcmp(l + strlen(l) - strlen(km_contexts[c].fallback_help),
                             km_contexts[c].fallback_help));
        for (int i = 0; i < km_nbindings && !known; i++) {
            size_t hl = strlen(km_bindings[i].help), ll = strlen(l);
            known = ll > hl && !strcmp(l + ll - hl, km_bindings[i].help);
        }
        if (!known)
            fail_msg("help line not from the keymap: %s", l);
        lines++;
    }
    assert_true(lines > 20);
    buf_free(&b);
}

static void test_lookup(void **state)
{
    (void)state;
    assert_int_equal(keymap_lookup(KM_PANES, 'n'), KA_STEP);
    assert_int_equal(keymap_lookup(KM_PANES, ' '), KA_STEP);
    assert_int_equal(keymap_lookup(KM_EXCHANGE, 'n'), KA_MATCH_NEXT);
    assert_int_equal(keymap_lookup(KM_PANES, KM_CTRL('C')), KA_CANCEL);
    assert_int_equal(keymap_lookup(KM_CHAIN, KEY_ENTER), KA_OPEN);
    assert_int_equal(keymap_lookup(KM_CHAIN, '\r'), KA_OPEN);
    /* fallbacks: a letter starts a command; a function key does nothing */
    assert_int_equal(keymap_lookup(KM_PANES, 'x'), KA_TYPE_COMMAND);
    assert_int_equal(keymap_lookup(KM_PANES, KEY_F(5)), KA_NONE);
    assert_int_equal(keymap_bound(KM_EXCHANGE, 'x'), KA_NONE);
    assert_int_equal(keymap_lookup(KM_PROMPT, ' '), KA_PROMPT_TYPE);
    assert_int_equal(keymap_lookup(KM_PROMPT, KEY_F(5)), KA_NONE);
    assert_int_equal(keymap_lookup(KM_OVERLAY, 'x'), KA_IGNORE);
    assert_int_equal(keymap_lookup(KM_CONFIRM, 'y'), KA_YES);
    assert_int_equal(keymap_lookup(KM_CONFIRM, 'n'), KA_NO);
    assert_int_equal(keymap_lookup(KM_CMDLINE, 'a'), KA_CL_EDIT);
    char n[32];
    assert_string_equal(keymap_action_key(KM_PANES, KA_CANCEL, n, sizeof n), "Esc");
    assert_string_equal(keymap_action_key(KM_CMDLINE, KA_CL_EDIT, n, sizeof n), "Tab");
    assert_null(keymap_action_key(KM_CHAIN, KA_SEARCH, n, sizeof n));
    assert_string_equal(keymap_key_name(KM_CTRL('C'), n, sizeof n), "Ctrl-C");
    assert_string_equal(keymap_key_name(KEY_NPAGE, n, sizeof n), "PgDn");
    assert_string_equal(keymap_key_name('\n', n, sizeof n), "Enter");
    assert_string_equal(keymap_key_name('?', n, sizeof n), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_entry_has_help),
        cmocka_unit_test(test_checker_rejects_missing_help),
        cmocka_unit_test(test_help_lists_every_entry),
        cmocka_unit_test(test_help_has_nothing_else),
        cmocka_unit_test(test_lookup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
