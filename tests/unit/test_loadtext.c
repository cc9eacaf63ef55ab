/*
 * test_loadtext.c - a saved text transcript loads back (engine_load_text via
 * engine_load_buffer): records, steps, findings, verdicts and the PEM chain
 * survive, the text renders again the same; mxs_unescape() is the inverse of
 * mxs_escape(); damaged and hostile files give errors, never crashes.
 * Owner: the text loader (core/session/session_text.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <psa/crypto.h>

#include "base/buf.h"
#include "core.h"
#include "probe/engine_int.h" /* engine_set_factory: the scripted transport */
#include "base/esc.h"
#include "lab/lab.h"
#include "lab/labcert.h"
#include "session/render.h"
#include "scripted.h"

/* ---- helpers ---------------------------------------------------------------- */

static char *transcript(const struct engine *e, size_t *len)
{
    struct buf b;
    buf_init(&b, 0);
    render_transcript_text(e, &b);
    assert_false(b.failed);
    char *s = strdup(buf_str(&b));
    assert_non_null(s);
    *len = b.len;
    buf_free(&b);
    return s;
}

static struct engine *load(const char *text, size_t len, char *err, size_t errlen)
{
    err[0] = 0;
    struct engine *e = engine_load_buffer(text, len, "t.txt", err, errlen);
    if (!e)
        assert_true(err[0] != 0); /* every refusal says why */
    return e;
}

static struct engine *load_ok(const char *text, size_t len)
{
    char err[512];
    struct engine *e = load(text, len, err, sizeof err);
    if (!e)
        fail_msg("load failed: %s", err);
    return e;
}

/* Must fail, and the error must contain want (e.g. "line 4"). */
static void load_fails(const char *text, size_t len, const char *want)
{
    char err[512];
    struct engine *e = load(text, len, err, sizeof err);
    if (e) {
        engine_free(e);
        fail_msg("loaded, expected an error containing \"%s\"", want);
    }
    if (!strstr(err, want))
        fail_msg("error \"%s\" does not contain \"%s\"", err, want);
}

static void line_of(const struct mxs_record *r, char *out, size_t outlen)
{
    struct buf b;
    buf_init(&b, 0);
    render_record_line(r, &b);
    snprintf(out, outlen, "%s", buf_str(&b));
    buf_free(&b);
}

/* The loaded engine shows the same session as the live one.  tls: the live
 * one had raw TLS records (those come back as TLS_INFO descriptions). */
static void assert_same_session(const struct engine *a, const struct engine *b)
{
    assert_true(engine_is_replay(b));
    assert_true(engine_finished(b));
    assert_int_equal(engine_started_at(a), engine_started_at(b));
    assert_string_equal(engine_settings(a)->target, engine_settings(b)->target);
    assert_int_equal(engine_settings(a)->port, engine_settings(b)->port);
    assert_int_equal(engine_settings(a)->target_is_host, engine_settings(b)->target_is_host);
    assert_int_equal(engine_record_count(a), engine_record_count(b));
    for (size_t i = 0; i < engine_record_count(a); i++) {
        const struct mxs_record *x = engine_record(a, i), *y = engine_record(b, i);
        char lx[70000], ly[70000];
        assert_int_equal(x->step, y->step);
        /* times as written: whole milliseconds */
        assert_true(llabs((long long)(x->t_us - y->t_us)) <= 500);
        if (x->kind == MXS_REC_TLS_IN || x->kind == MXS_REC_TLS_OUT) {
            /* The record's description, with its direction mark. */
            assert_int_equal(y->kind, x->kind);
            line_of(x, lx, sizeof lx);
            line_of(y, ly, sizeof ly);
            char *mx = strstr(lx, x->kind == MXS_REC_TLS_IN ? " T< " : " T> ");
            char *my = strstr(ly, x->kind == MXS_REC_TLS_IN ? " T< " : " T> ");
            assert_non_null(mx);
            assert_non_null(my);
            assert_string_equal(mx + 4, my + 4);
            continue;
        }
        line_of(x, lx, sizeof lx);
        line_of(y, ly, sizeof ly);
        /* Raw bytes are the same unless the server sent literal "<U+...>"
         * text: that reads back as the code point, which escapes to the
         * same text (the line is what must not change). */
        int literal_cp = memmem(x->data, x->len, "<U+", 3) != NULL;
        if (x->kind != y->kind || (!literal_cp && (x->len != y->len || memcmp(x->data, y->data, x->len))) ||
            strcmp(lx, ly))
            fail_msg("record %zu differs:\n  live:   %s\n  loaded: %s", i, lx, ly);
    }
    for (int s = 0; s < MXS_STEP_COUNT; s++) {
        assert_int_equal(engine_step_state(a, s), engine_step_state(b, s));
        assert_int_equal(engine_step_elapsed_ms(a, s), engine_step_elapsed_ms(b, s));
        struct engine_step_info ia, ib;
        engine_step_info(a, (enum mxs_step)s, &ia);
        engine_step_info(b, (enum mxs_step)s, &ib);
        assert_string_equal(ia.detail, ib.detail);
    }
    int na, nb;
    const struct mxs_finding *fa = engine_findings(a, &na), *fb = engine_findings(b, &nb);
    assert_int_equal(na, nb);
    for (int i = 0; i < na; i++) {
        assert_string_equal(fa[i].id, fb[i].id);
        assert_int_equal(fa[i].severity, fb[i].severity);
        assert_int_equal(fa[i].step, fb[i].step);
        assert_string_equal(fa[i].message, fb[i].message);
    }
    const struct mxs_verdict *va = engine_verdicts(a), *vb = engine_verdicts(b);
    for (int p = 0; p < MXS_POL_COUNT; p++) {
        assert_int_equal(va[p].policy, vb[p].policy);
        assert_int_equal(va[p].outcome, vb[p].outcome);
        assert_int_equal(va[p].step, vb[p].step);
        assert_string_equal(va[p].finding, vb[p].finding);
    }
    assert_int_equal(engine_failed_step(a), engine_failed_step(b));
    assert_int_equal(render_exit_code(a), render_exit_code(b));
}

/* ---- mxs_unescape ------------------------------------------------------------- */

static void unesc_is(const char *in, const void *want, size_t wantlen)
{
    unsigned char out[256];
    memset(out, 0xAA, sizeof out);
    size_t n = mxs_unescape(in, strlen(in), out, sizeof out);
    if (n != wantlen || memcmp(out, want, n))
        fail_msg("mxs_unescape(\"%s\"): %zu bytes, want %zu", in, n, wantlen);
}

static void test_unescape_cases(void **st)
{
    (void)st;
    unesc_is("plain text", "plain text", 10);
    unesc_is("\\x41\\x0D\\x0a\\xff", "A\r\n\xff", 4);
    unesc_is("\\x00", "\0", 1);
    unesc_is("a\\\\b", "a\\b", 3);
    unesc_is("\\\\x41", "\\x41", 4);          /* a literal "\x41" the server sent */
    unesc_is("\\\\\\x41", "\\A", 2);
    /* invalid or truncated sequences are copied as they are */
    unesc_is("\\x4", "\\x4", 3);
    unesc_is("end\\x", "end\\x", 5);
    unesc_is("\\", "\\", 1);
    unesc_is("\\xZZ\\q", "\\xZZ\\q", 6);
    /* code points: only what mxs_escape writes, for code points it hides */
    unesc_is("<U+202E>", "\xe2\x80\xae", 3);
    unesc_is("<U+0085>", "\xc2\x85", 2);
    unesc_is("<U+FEFF>x", "\xef\xbb\xbfx", 4);
    unesc_is("<U+E0041>", "\xf3\xa0\x81\x81", 4);
    unesc_is("<U+F0000>", "\xf3\xb0\x80\x80", 4);
    unesc_is("<U+10FFFF>", "\xf4\x8f\xbf\xbf", 4);
    unesc_is("<U+0041>", "<U+0041>", 8);      /* visible: literal text */
    unesc_is("<U+00E9>", "<U+00E9>", 8);
    unesc_is("<U+202e>", "<U+202e>", 8);      /* not the canonical form */
    unesc_is("<U+0202E>", "<U+0202E>", 9);
    unesc_is("<U+110000>", "<U+110000>", 10);  /* beyond Unicode */
    unesc_is("<U+1000000>", "<U+1000000>", 11);
    unesc_is("<U+D800>", "<U+D800>", 8);      /* surrogate */
    unesc_is("<U+202E", "<U+202E", 7);
    unesc_is("<U+>", "<U+>", 4);
    unesc_is("<<U+200B>>", "<\xe2\x80\x8b>", 5);

    /* tiny outlen: whole pieces or nothing, never past outlen */
    unsigned char out[8];
    memset(out, 0xAA, sizeof out);
    assert_int_equal(mxs_unescape("abc", 3, out, 2), 2);
    assert_memory_equal(out, "ab", 2);
    assert_int_equal(out[2], 0xAA);
    memset(out, 0xAA, sizeof out);
    assert_int_equal(mxs_unescape("<U+202E>", 8, out, 2), 0);
    assert_int_equal(out[0], 0xAA);
    assert_int_equal(mxs_unescape("a<U+202E>", 9, out, 3), 1);
    assert_int_equal(out[1], 0xAA);
    assert_int_equal(mxs_unescape("<U+E0041>", 9, out, 4), 4);
    assert_int_equal(mxs_unescape("abc", 3, out, 0), 0);
    assert_int_equal(out[0], 0xF3);  /* untouched since the last call */
    assert_int_equal(mxs_unescape("abc", 3, NULL, 8), 0);
    assert_int_equal(mxs_unescape(NULL, 3, out, 8), 0);
    assert_int_equal(mxs_unescape("\\x41", 2, out, 8), 2); /* len bounds the input */
    assert_memory_equal(out, "\\x", 2);
}

static uint32_t rng_state = 12345;
static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* Bytes that stress both directions: escape syntax, hidden and invalid
 * UTF-8, controls. */
static size_t hostile_bytes(unsigned char *d, size_t max, int allow_lt)
{
    static const char *const pieces[] = {
        "\\", "\\x41", "<U+202E>", "<U+0041>", "<U+", ">", "x", "A", "7", "F", "+", "U",
        "\xe2\x80\xae", "\xe2\x80\x8b", "\xef\xbb\xbf", "\xc2\x85", "\xf3\xa0\x81\x81", "\xc3\xa9",
        "\xff", "\xfe", "\xc3", "\xe2\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\x1b[31m",
        "\r", "\n", "\t", "\x7f", "\0", " ", "\xf0\x9f\x98\x80",
    };
    size_t n = 0, k = rng() % 24;
    for (size_t i = 0; i < k; i++) {
        const char *p = pieces[rng() % (sizeof pieces / sizeof pieces[0])];
        size_t pl = p[0] ? strlen(p) : 1;
        if (!allow_lt && memchr(p, '<', pl))
            continue;
        if (n + pl > max)
            break;
        memcpy(d + n, p, pl);
        n += pl;
    }
    return n;
}

static void test_unescape_inverse(void **st)
{
    (void)st;
    for (int it = 0; it < 20000; it++) {
        unsigned char d[512], back[1024];
        char t1[4096], t2[4096];
        int allow_lt = it & 1;
        size_t n = hostile_bytes(d, sizeof d, allow_lt);
        size_t l1 = mxs_escape(d, n, t1, sizeof t1, 0);
        assert_true(l1 < sizeof t1);
        size_t bn = mxs_unescape(t1, l1, back, sizeof back);
        assert_true(bn <= l1);
        size_t l2 = mxs_escape(back, bn, t2, sizeof t2, 0);
        /* the text survives unescape -> escape unchanged */
        assert_int_equal(l1, l2);
        assert_memory_equal(t1, t2, l1);
        /* and without literal "<U+...>" text the bytes come back exactly */
        if (!allow_lt) {
            assert_int_equal(bn, n);
            assert_memory_equal(back, d, n);
        }
    }
}

/* ---- a scripted session: hostile server lines, findings, failed step ----- */

static const char srv_hostile[] =
    "220-mx.example.test \x1b[31mred\x1b[0m \xe2\x80\xae evil \\x41 back\\slash\r\n"
    "220-literal <U+202E> and <U+0041> \xff\xfe \xc3\xa9t\xc3\xa9 \xe2\x80\x8b zw\r\n"
    "220 ready\x7f\t tab\r\n"
    "250-mx.example.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 8BITMIME\r\n"
    "502 5.5.1 no STARTTLS here\r\n"
    "221 bye\r\n";

static struct engine *scripted_session(struct scripted *sc)
{
    struct mxs_settings s;
    char err[128];
    mxs_settings_init(&s);
    assert_int_equal(mxs_settings_set(&s, "host", "mx.example.test", err, sizeof err), 0);
    assert_int_equal(mxs_settings_set(&s, "connect", "127.0.0.1", err, sizeof err), 0);
    assert_int_equal(mxs_settings_set(&s, "ehlo", "probe.example.net", err, sizeof err), 0);
    struct engine *e = engine_new(&s);
    assert_non_null(e);
    engine_set_factory(e, scripted_factory, sc);
    engine_run(e);
    engine_note(e, MXS_REC_NOTE, "operator note: \\ <U+202E> \x01");
    return e;
}

static void test_scripted_roundtrip(void **st)
{
    (void)st;
    struct scripted sc;
    scripted_init(&sc, srv_hostile, sizeof srv_hostile - 1);
    struct engine *a = scripted_session(&sc);
    assert_int_equal(engine_failed_step(a), MXS_STEP_STARTTLS);
    int nf;
    engine_findings(a, &nf);
    assert_true(nf > 0);

    size_t len;
    char *t1 = transcript(a, &len);
    struct engine *b = load_ok(t1, len);
    assert_same_session(a, b);
    /* the replay is read-only */
    assert_int_equal(engine_step(b), MXS_PROG_FINISHED);
    char err[128];
    assert_int_equal(engine_send(b, "NOOP", err, sizeof err), -1);
    /* rendering it again gives the same text, byte for byte */
    size_t len2;
    char *t2 = transcript(b, &len2);
    assert_int_equal(len, len2);
    assert_string_equal(t1, t2);
    /* the hostile banner is the raw bytes again, facts rebuilt from it */
    const struct mxs_smtp_facts *ma = engine_smtp(a), *mb = engine_smtp(b);
    assert_int_equal(mb->banner.code, 220);
    char ea[8192], eb[8192];
    mxs_escape_str(ma->banner.text, ea, sizeof ea, 0);
    mxs_escape_str(mb->banner.text, eb, sizeof eb, 0);
    assert_string_equal(ea, eb);
    assert_non_null(strstr(mb->banner.text, "\x1b[31mred\x1b[0m \xe2\x80\xae evil \\x41 back\\slash"));
    assert_non_null(strstr(mb->banner.text, "\xff\xfe \xc3\xa9t\xc3\xa9 \xe2\x80\x8b zw"));
    assert_int_equal(mb->ehlo.code, 250);
    assert_int_equal(mb->caps.size, 1000);
    assert_true(mb->caps.pipelining);
    assert_false(mb->caps.starttls);
    assert_int_equal(mb->starttls.code, 502);
    /* findings keep their words where the diagnosis agrees */
    int n;
    const struct mxs_finding *f = engine_findings(b, &n);
    const struct mxs_finding *fa = engine_findings(a, &nf);
    for (int i = 0; i < n; i++)
        assert_string_equal(f[i].advice, fa[i].advice);
    assert_string_equal(engine_verdicts(b)[MXS_POL_REQUIRED].words, engine_verdicts(a)[MXS_POL_REQUIRED].words);
    /* JSON of the loaded session */
    char *j = render_json(b);
    assert_non_null(j);
    assert_non_null(strstr(j, "\"schema\""));
    free(j);
    free(t2);
    free(t1);
    engine_free(b);
    engine_free(a);
}

/* HELO fallback: the second reply of EHLO is the HELO one. */
static void test_helo_roundtrip(void **st)
{
    (void)st;
    static const char srv[] = "220 old ready\r\n502 5.5.2 what?\r\n250 old hello\r\n"
                              "502 5.5.1 unknown command\r\n";
    struct scripted sc;
    scripted_init(&sc, srv, sizeof srv - 1);
    struct engine *a = scripted_session(&sc);
    size_t len;
    char *t = transcript(a, &len);
    struct engine *b = load_ok(t, len);
    assert_same_session(a, b);
    assert_true(engine_smtp(b)->used_helo);
    assert_int_equal(engine_smtp(b)->ehlo.code, 502);
    assert_int_equal(engine_smtp(b)->helo.code, 250);
    free(t);
    engine_free(b);
    engine_free(a);
}

/* ---- the lab: a real TLS session with the PEM appendix --------------------- */

static struct lab *g_lab;

static int lab_setup(void **state)
{
    (void)state;
    char err[256];
    if (psa_crypto_init() != PSA_SUCCESS)
        return -1;
    g_lab = lab_start(err, sizeof err);
    if (!g_lab) {
        printf("# lab_start failed: %s\n", err);
        return -1;
    }
    return 0;
}

static int lab_teardown(void **state)
{
    (void)state;
    lab_stop(g_lab);
    return 0;
}

static struct engine *lab_session(const char *scenario)
{
    struct mxs_settings s;
    char err[256];
    mxs_settings_init(&s);
    assert_int_equal(lab_apply(g_lab, scenario, &s, err, sizeof err), 0);
    for (int i = 0; i < MXS_STEP_COUNT; i++)
        s.timeout_ms[i] = 10000;
    struct engine *e = engine_new(&s);
    assert_non_null(e);
    engine_run(e);
    return e;
}

static void lab_roundtrip(const char *scenario, int want_exit, int want_chain)
{
    struct engine *a = lab_session(scenario);
    assert_int_equal(render_exit_code(a), want_exit);
    size_t len;
    char *t1 = transcript(a, &len);
    if (want_chain)
        assert_non_null(strstr(t1, "-----BEGIN CERTIFICATE-----"));
    struct engine *b = load_ok(t1, len);
    assert_same_session(a, b);

    const struct mxs_chain_facts *ca = engine_chain(a), *cb = engine_chain(b);
    assert_int_equal(ca->n, want_chain);
    assert_int_equal(cb->n, ca->n);
    int certs = 0;
    for (size_t i = 0; i < engine_record_count(b); i++)
        if (engine_record(b, i)->kind == MXS_REC_CERT) {
            const struct mxs_record *r = engine_record(b, i);
            assert_true(certs < cb->n);
            assert_int_equal(r->len, ca->cert[certs].der_len);
            assert_memory_equal(r->data, ca->cert[certs].der, r->len);
            certs++;
        }
    assert_int_equal(certs, ca->n);
    for (int i = 0; i < ca->n; i++) {
        const struct mxs_cert *x = &ca->cert[i], *y = &cb->cert[i];
        assert_int_equal(y->depth, i);
        assert_string_equal(x->sha1, y->sha1);
        assert_string_equal(x->sha256, y->sha256);
        assert_string_equal(x->subject, y->subject);
        assert_int_equal(x->not_after, y->not_after);
        assert_int_equal(x->days_left, y->days_left);
        assert_int_equal(x->der_len, y->der_len);
        assert_memory_equal(x->der, y->der, x->der_len);
        char fx[200], fy[200];
        mxs_verify_flags_text(x->verify_flags, fx, sizeof fx);
        mxs_verify_flags_text(y->verify_flags, fy, sizeof fy);
        assert_string_equal(fx, fy);
    }
    assert_int_equal(ca->verify_result, cb->verify_result);
    assert_int_equal(ca->trusted, cb->trusted);
    assert_int_equal(ca->name_matches_mx, cb->name_matches_mx);
    if (engine_tls(a)->ok) {
        assert_true(engine_tls(b)->ok);
        assert_string_equal(engine_tls(a)->version_name, engine_tls(b)->version_name);
        assert_string_equal(engine_tls(a)->cipher, engine_tls(b)->cipher);
        assert_string_equal(engine_tls(a)->group, engine_tls(b)->group);
    }
    /* again as text: the same, byte for byte (raw TLS records are their
     * descriptions now, under the same direction marks) */
    size_t len2;
    char *t2 = transcript(b, &len2);
    assert_string_equal(t1, t2);
    /* and that text loads to the same once more */
    struct engine *c = load_ok(t2, len2);
    assert_same_session(b, c);
    free(t1);
    free(t2);
    engine_free(c);
    engine_free(b);
    engine_free(a);
}

static void test_lab_expired(void **st) { (void)st; lab_roundtrip("expired", 16, 2); }
static void test_lab_good(void **st) { (void)st; lab_roundtrip("good", 0, 2); }
static void test_lab_wrong_name(void **st) { (void)st; lab_roundtrip("wrong-name", 16, 2); }
static void test_lab_untrusted(void **st) { (void)st; lab_roundtrip("untrusted-root", 16, 2); }
static void test_lab_no_starttls(void **st) { (void)st; lab_roundtrip("no-starttls", 14, 0); }

static void test_lab_expired_flags(void **st)
{
    (void)st;
    struct engine *a = lab_session("expired");
    size_t len;
    char *t = transcript(a, &len);
    struct engine *b = load_ok(t, len);
    const struct mxs_chain_facts *cb = engine_chain(b);
    assert_true(cb->cert[0].verify_flags & MXS_V_EXPIRED);
    assert_true(cb->verify_result & MXS_V_EXPIRED);
    assert_true(cb->cert[0].days_left < 0);
    assert_string_equal(engine_verdicts(b)[MXS_POL_VERIFIED].finding, "cert-expired");
    assert_int_equal(engine_verdicts(b)[MXS_POL_VERIFIED].outcome, MXS_OUT_NOT_DELIVERED);
    assert_int_equal(engine_verdicts(b)[MXS_POL_VERIFIED].step, MXS_STEP_CHAIN);
    int n;
    const struct mxs_finding *f = engine_findings(b, &n);
    int found = 0;
    for (int i = 0; i < n; i++)
        if (!strcmp(f[i].id, "cert-expired")) {
            found = 1;
            assert_int_equal(f[i].step, MXS_STEP_CHAIN);
            assert_int_equal(f[i].severity, MXS_SEV_ERROR);
            assert_int_equal(f[i].cert_depth, 0);
        }
    assert_true(found);
    /* the report of the loaded session names the failure like the live one */
    struct buf ra, rb;
    buf_init(&ra, 0);
    buf_init(&rb, 0);
    render_report_text(a, &ra);
    render_report_text(b, &rb);
    assert_non_null(strstr(buf_str(&rb), "Result: CHAIN (exit 16)"));
    assert_non_null(strstr(buf_str(&rb), engine_chain(a)->cert[0].sha1));
    buf_free(&ra);
    buf_free(&rb);
    /* cut before the appendix: records load, the verdicts are the diagnosis
     * of what the records say (no chain: the PEM was in the appendix) */
    size_t keep = (size_t)(strstr(t, "\n#\n") - t) + 1;
    struct engine *c = load_ok(t, keep);
    assert_int_equal(engine_chain(c)->n, 0);
    assert_int_equal(engine_record_count(c), engine_record_count(b) - 2); /* no CERT records */
    assert_int_equal(engine_verdicts(c)[MXS_POL_VERIFIED].outcome, MXS_OUT_NOT_DELIVERED);
    assert_int_equal(engine_verdicts(c)[MXS_POL_VERIFIED].step, MXS_STEP_CHAIN);
    assert_int_equal(engine_verdicts(c)[MXS_POL_OPPORTUNISTIC].outcome, MXS_OUT_ENCRYPTED);
    assert_int_equal(render_exit_code(c), 16);
    engine_free(c);
    free(t);
    engine_free(b);
    engine_free(a);
}

/* ---- a hand-made transcript around labcert certificates ---------------------- */

struct made { struct labcert ca, inter, leaf; };

static void make_chain(struct made *m)
{
    char err[256];
    labcert_init(&m->ca);
    labcert_init(&m->inter);
    labcert_init(&m->leaf);
    struct labcert_spec ca = { .subject = "CN=test root,O=t", .is_ca = 1, .max_pathlen = -1 };
    struct labcert_spec in = { .subject = "CN=test inter,O=t", .is_ca = 1, .max_pathlen = 0 };
    struct labcert_spec lf = { .subject = "CN=mx.example.test,O=t", .san = { "mx.example.test", NULL },
                               .eku = LABCERT_EKU_SERVER };
    assert_int_equal(labcert_make(&m->ca, &ca, NULL, err, sizeof err), 0);
    assert_int_equal(labcert_make(&m->inter, &in, &m->ca, err, sizeof err), 0);
    assert_int_equal(labcert_make(&m->leaf, &lf, &m->inter, err, sizeof err), 0);
}

static void free_chain(struct made *m)
{
    labcert_free(&m->ca);
    labcert_free(&m->inter);
    labcert_free(&m->leaf);
}

#define HDR "# mxscope 0.1.0 transcript, started 2026-01-02T03:04:05Z\n# target: mx.example.test port 25\n" \
            "# marks: C: client  S: server\n"

static void add_cert(struct buf *b, int d, const struct labcert *c, const char *sha1)
{
    char pem[4096];
    assert_true(labcert_pem(c, pem, sizeof pem) > 0);
    buf_printf(b, "# %d %s\n# SHA-1 %s\n%s", d, c->subject, sha1 ? sha1 : c->sha1, pem);
}

static void test_labcert_chain(void **st)
{
    (void)st;
    struct made m;
    make_chain(&m);
    struct buf b;
    buf_init(&b, 0);
    buf_puts(&b, HDR);
    buf_puts(&b, "+  0.010s CHAIN     == CHAIN started (deadline 5.0 s)\n");
    buf_printf(&b, "+  0.011s CHAIN     X: certificate, %zu bytes DER\n", m.leaf.der_len);
    buf_printf(&b, "+  0.011s CHAIN     X: certificate, %zu bytes DER\n", m.inter.der_len);
    buf_printf(&b, "+  0.012s CHAIN     T: cert 0: CN=mx.example.test, O=t, SHA-1 x, 77 days left, SHA-1 %s: expired, name\n",
               m.leaf.sha1);
    buf_printf(&b, "+  0.012s CHAIN     T: cert 1: CN=test inter, O=t, 5 days left, SHA-1 %s: ok\n", m.inter.sha1);
    buf_puts(&b, "+  0.012s CHAIN     !! CHAIN failed: verification: expired, name-mismatch\n");
    buf_puts(&b, "+  0.013s CHAIN     == CHAIN fail 3 ms\n");
    buf_puts(&b, "+  0.014s CHAIN     ** error cert-expired: The leaf certificate expired.\n");
    buf_puts(&b, "#\n# verdict opportunistic delivered-encrypted - -\n# verdict required delivered-encrypted - -\n"
                 "# verdict verified not-delivered CHAIN cert-expired\n# verdict dane not-evaluated - -\n");
    buf_puts(&b, "# chain: 2 certificates as sent, leaf first\n");
    add_cert(&b, 0, &m.leaf, NULL);
    add_cert(&b, 1, &m.inter, NULL);
    struct engine *e = load_ok(buf_str(&b), b.len);
    assert_int_equal(engine_started_at(e), 1767323045); /* 2026-01-02T03:04:05Z */
    assert_int_equal(engine_record_count(e), 8);
    const struct mxs_chain_facts *c = engine_chain(e);
    assert_int_equal(c->n, 2);
    assert_string_equal(c->cert[0].sha1, m.leaf.sha1);
    assert_string_equal(c->cert[1].sha1, m.inter.sha1);
    assert_int_equal(c->cert[0].days_left, 77);    /* as the line says */
    assert_int_equal(c->cert[1].days_left, 5);
    assert_int_equal(engine_record(e, 1)->kind, MXS_REC_CERT);
    assert_int_equal(engine_record(e, 1)->len, m.leaf.der_len);
    assert_memory_equal(engine_record(e, 1)->data, m.leaf.der, m.leaf.der_len);
    assert_int_equal(engine_record(e, 2)->t_us, 11000);
    assert_int_equal(c->cert[1].verify_flags, 0);
    /* "name" is not a flag name: only "expired" counts on the leaf line; the
     * step's detail adds name-mismatch to the chain's result */
    assert_int_equal(c->cert[0].verify_flags, MXS_V_EXPIRED);
    assert_int_equal(c->verify_result, MXS_V_EXPIRED | MXS_V_NAME);
    assert_int_equal(engine_step_state(e, MXS_STEP_CHAIN), MXS_ST_FAIL);
    assert_int_equal(engine_step_elapsed_ms(e, MXS_STEP_CHAIN), 3);
    struct engine_step_info si;
    engine_step_info(e, MXS_STEP_CHAIN, &si);
    assert_string_equal(si.detail, "verification: expired, name-mismatch");
    assert_int_equal(engine_step_state(e, MXS_STEP_RESOLVE), MXS_ST_PENDING);
    assert_int_equal(render_exit_code(e), 16);
    int n;
    const struct mxs_finding *f = engine_findings(e, &n);
    assert_int_equal(n, 1);
    assert_string_equal(f[0].id, "cert-expired");
    assert_string_equal(f[0].message, "The leaf certificate expired.");
    engine_free(e);

    /* damaged appendices */
    char *good = strdup(buf_str(&b));
    size_t glen = b.len;
    char *pem0 = strstr(good, "-----BEGIN CERTIFICATE-----\n") + 28;
    /* a certificate whose SHA-1 line lies */
    struct buf x;
    buf_init(&x, 0);
    buf_add(&x, good, (size_t)(strstr(good, "# chain:") - good));
    buf_puts(&x, "# chain: 1 certificate as sent, leaf first\n");
    add_cert(&x, 0, &m.leaf, m.inter.sha1);
    load_fails(buf_str(&x), x.len, "does not match its PEM");
    buf_free(&x);
    /* base64 damaged */
    char *bad = strdup(good);
    bad[pem0 - good + 10] = '*';
    load_fails(bad, glen, "not valid base64");
    free(bad);
    /* Strict where mbedtls_base64_decode (x509view_pem_base64) is lenient:
     * a space ending the block's last line, and a character missing (no
     * longer a multiple of 4: mbedTLS alone would decode it without its
     * padding and the error would be "not a certificate"). */
    size_t endat = (size_t)(strstr(pem0, "\n-----END CERTIFICATE-----") - good);
    buf_init(&x, 0);
    buf_add(&x, good, endat);
    buf_puts(&x, " ");
    buf_add(&x, good + endat, glen - endat);
    load_fails(buf_str(&x), x.len, "not valid base64");
    buf_free(&x);
    buf_init(&x, 0);
    buf_add(&x, good, (size_t)(pem0 - good) + 10);
    buf_add(&x, pem0 + 11, glen - (size_t)(pem0 - good) - 11);
    load_fails(buf_str(&x), x.len, "not valid base64");
    buf_free(&x);
    /* '=' inside the block, not at its end */
    bad = strdup(good);
    bad[pem0 - good + 10] = '=';
    load_fails(bad, glen, "not valid base64");
    free(bad);
    /* valid base64, not a certificate */
    bad = strdup(good);
    memcpy(bad + (pem0 - good), "AAAA", 4);
    load_fails(bad, glen, "certificate 0:");
    free(bad);
    /* cut inside the second PEM block, and after the first */
    char *last = strstr(good, "# 1 ");
    load_fails(good, (size_t)(last - good) + 200, "no END line");
    load_fails(good, (size_t)(last - good), "announces 2 certificates but 1");
    /* certificates out of order */
    buf_init(&x, 0);
    buf_add(&x, good, (size_t)(strstr(good, "# chain:") - good));
    buf_puts(&x, "# chain: 2 certificates as sent, leaf first\n");
    add_cert(&x, 1, &m.inter, NULL);
    load_fails(buf_str(&x), x.len, "certificate 0 expected");
    buf_free(&x);
    /* a bad verdict */
    bad = strdup(good);
    char *v = strstr(bad, "# verdict dane not-evaluated");
    memcpy(v + 10, "DANE", 4);
    load_fails(bad, glen, "unknown policy");
    free(bad);
    free(good);
    buf_free(&b);
    free_chain(&m);
}

/* ---- damaged and hostile files ------------------------------------------------ */

static void test_damaged(void **st)
{
    (void)st;
    char err[256];
    assert_null(engine_load_text("", 0, "e", err, sizeof err));
    assert_non_null(strstr(err, "e: "));
    assert_null(engine_load_text("garbage\n", 8, "g", err, sizeof err));
    assert_non_null(strstr(err, "not a mxscope transcript"));

    static const char norec[] = HDR "#\n# verdict dane not-evaluated - -\n";
    load_fails(norec, sizeof norec - 1, "not a mxscope transcript");
    static const char one[] = HDR "+  0.001s -         #  hello\n";
    struct engine *e = load_ok(one, sizeof one - 1);
    assert_int_equal(engine_record_count(e), 1);
    assert_string_equal((const char *)engine_record(e, 0)->data, "hello");
    assert_int_equal(engine_record(e, 0)->step, MXS_STEP_NONE);
    assert_int_equal(engine_record(e, 0)->kind, MXS_REC_NOTE);
    engine_free(e);
    /* CRLF line ends (a file that went through Windows) and no final newline */
    static const char crlf[] = "# mxscope 0.1.0 transcript, started 2026-01-02T03:04:05Z\r\n"
                               "# target: x port 25\r\n+  0.001s BANNER    S: 220 hi";
    e = load_ok(crlf, sizeof crlf - 1);
    assert_string_equal((const char *)engine_record(e, 0)->data, "220 hi");
    engine_free(e);

    load_fails("# mxscope 0.1.0 transcript, started yesterday\n", 46, "line 1: start time");
    load_fails("# mxscope 0.1.0 log\n+  0.001s -         #  x\n", 46, "line 1: not a mxscope transcript header");
    static const char notarget[] = "# mxscope 0.1.0 transcript, started 2026-01-02T03:04:05Z\n+  0.001s -         #  x\n";
    load_fails(notarget, sizeof notarget - 1, "target");
    static const char badport[] = "# mxscope 0.1.0 transcript, started 2026-01-02T03:04:05Z\n# target: x port 99999\n";
    load_fails(badport, sizeof badport - 1, "line 2:");
    static const char garbage[] = HDR "+  0.001s -         #  x\nhello world\n";
    load_fails(garbage, sizeof garbage - 1, "line 5: not a transcript record");
    static const char badstep[] = HDR "+  0.001s NOPE      S: x\n";
    load_fails(badstep, sizeof badstep - 1, "line 4: unknown step \"NOPE\"");
    static const char badmark[] = HDR "+  0.001s BANNER    S? x\n";
    load_fails(badmark, sizeof badmark - 1, "line 4: unknown mark");
    static const char badtime[] = HDR "+  x.001s BANNER    S: x\n";
    load_fails(badtime, sizeof badtime - 1, "line 4: a record starts with");
    static const char bigtime[] = HDR "+  99999999999999.001s BANNER    S: x\n";
    load_fails(bigtime, sizeof bigtime - 1, "line 4:");
    static const char nul[] = HDR "+  0.001s BANNER    S: a\0b\n";
    load_fails(nul, sizeof nul - 1, "line 4: a NUL byte");
    static const char trailing[] = HDR "+  0.001s BANNER    S: x\n#\n# verdict dane not-evaluated - -\nnot a comment\n";
    load_fails(trailing, sizeof trailing - 1, "line 7: unexpected text");

    /* a 1 MB line */
    size_t big = 1u << 20;
    char *t = malloc(sizeof HDR + big + 64);
    assert_non_null(t);
    size_t n = (size_t)sprintf(t, "%s+  0.001s BANNER    S: ", HDR);
    memset(t + n, 'A', big);
    n += big;
    t[n++] = '\n';
    load_fails(t, n, "line 4: line longer than 65536");
    /* just under the bound loads */
    n = (size_t)sprintf(t, "%s+  0.001s BANNER    S: ", HDR);
    size_t room = 65536 - strlen("+  0.001s BANNER    S: ");
    memset(t + n, 'B', room);
    n += room;
    t[n++] = '\n';
    e = load_ok(t, n);
    assert_int_equal(engine_record(e, 0)->len, room);
    engine_free(e);
    free(t);

    /* more records than the engine keeps: bounded, with a note saying so */
    struct buf b;
    buf_init(&b, 0);
    buf_puts(&b, HDR);
    for (int i = 0; i < 30000; i++)
        buf_printf(&b, "+  0.%03ds EHLO      S: 250-line %d\n", i % 1000, i);
    e = load_ok(buf_str(&b), b.len);
    assert_true(engine_record_count(e) <= 20001);
    assert_true(engine_record_count(e) >= 1000);
    const struct mxs_record *lastr = engine_record(e, engine_record_count(e) - 1);
    assert_int_equal(lastr->kind, MXS_REC_NOTE);
    assert_non_null(strstr((const char *)lastr->data, "limit"));
    engine_free(e);
    buf_free(&b);
}

/* Every prefix and many mutations of real transcripts: loads or refuses with
 * words, never crashes (ASan run of the suite checks memory). */
static void torture(const char *t, size_t len)
{
    char err[512];
    for (size_t cut = 0; cut <= len; cut += (len > 4000 ? 3 : 1)) {
        struct engine *e = engine_load_buffer(t, cut, "cut", err, sizeof err);
        if (e) {
            char *j = render_json(e);
            assert_non_null(j);
            free(j);
            engine_free(e);
        } else {
            assert_true(err[0] != 0);
        }
    }
    char *m = malloc(len);
    assert_non_null(m);
    static const char junk[] = { '\n', ' ', '#', '+', '-', '\\', '<', '>', 'x', '0', '9', '\0', '\r', ':', 'A', '=' };
    for (int it = 0; it < 3000; it++) {
        memcpy(m, t, len);
        int flips = 1 + (int)(rng() % 4);
        for (int k = 0; k < flips; k++) {
            size_t at = 10 + rng() % (len - 10);
            m[at] = rng() % 3 ? junk[rng() % sizeof junk] : (char)rng();
        }
        struct engine *e = engine_load_buffer(m, len, "mut", err, sizeof err);
        if (e) {
            struct buf b;
            buf_init(&b, 0);
            render_report_text(e, &b);
            render_transcript_text(e, &b);
            for (size_t i = 0; i < b.len; i++) {
                unsigned char c = (unsigned char)buf_str(&b)[i];
                if ((c < 0x20 && c != '\n') || c == 0x7f) {
                    FILE *fo = fopen("/tmp/h10-ctl.txt", "wb");
                    if (fo) { fwrite(m, 1, len, fo); fclose(fo); }
                    fail_msg("raw control byte 0x%02X at %zu of the rendering: \"%.80s\"", c, i,
                             buf_str(&b) + (i > 40 ? i - 40 : 0));
                }
            }
            buf_free(&b);
            engine_free(e);
        } else {
            assert_true(err[0] != 0);
        }
    }
    free(m);
}

static void test_torture_scripted(void **st)
{
    (void)st;
    struct scripted sc;
    scripted_init(&sc, srv_hostile, sizeof srv_hostile - 1);
    struct engine *a = scripted_session(&sc);
    size_t len;
    char *t = transcript(a, &len);
    torture(t, len);
    free(t);
    engine_free(a);
}

static void test_torture_lab(void **st)
{
    (void)st;
    struct engine *a = lab_session("expired");
    size_t len;
    char *t = transcript(a, &len);
    torture(t, len);
    free(t);
    engine_free(a);
}

int main(void)
{
    const struct CMUnitTest plain[] = {
        cmocka_unit_test(test_unescape_cases),
        cmocka_unit_test(test_unescape_inverse),
        cmocka_unit_test(test_scripted_roundtrip),
        cmocka_unit_test(test_helo_roundtrip),
        cmocka_unit_test(test_labcert_chain),
        cmocka_unit_test(test_damaged),
        cmocka_unit_test(test_torture_scripted),
    };
    const struct CMUnitTest lab[] = {
        cmocka_unit_test(test_lab_expired),
        cmocka_unit_test(test_lab_good),
        cmocka_unit_test(test_lab_wrong_name),
        cmocka_unit_test(test_lab_untrusted),
        cmocka_unit_test(test_lab_no_starttls),
        cmocka_unit_test(test_lab_expired_flags),
        cmocka_unit_test(test_torture_lab),
    };
    int r = cmocka_run_group_tests_name("loadtext", plain, NULL, NULL);
    r += cmocka_run_group_tests_name("loadtext-lab", lab, lab_setup, lab_teardown);
    return r;
}
