/* test_tlsrec.c - the raw TLS record decoder on hand-built records (cmocka). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "probe/tlsrec.h"

/* ---- a tiny byte builder ------------------------------------------------ */

struct bb { unsigned char d[65536]; size_t n; };

static void bb_u8(struct bb *b, unsigned v) { assert_true(b->n < sizeof b->d); b->d[b->n++] = (unsigned char)v; }
static void bb_u16(struct bb *b, unsigned v) { bb_u8(b, v >> 8); bb_u8(b, v & 0xFF); }
static void bb_u24(struct bb *b, unsigned v) { bb_u8(b, v >> 16); bb_u16(b, v & 0xFFFF); }
static void bb_fill(struct bb *b, unsigned v, size_t n) { while (n--) bb_u8(b, v); }
static void bb_put(struct bb *b, const void *p, size_t n) {
    assert_true(b->n + n <= sizeof b->d);
    memcpy(b->d + b->n, p, n);
    b->n += n;
}

/* Wrap handshake bytes into records of at most max bytes each. */
static void records(struct bb *out, int type, unsigned ver, const unsigned char *p,
                    size_t n, size_t max)
{
    do {
        size_t k = n < max ? n : max;
        bb_u8(out, (unsigned)type);
        bb_u16(out, ver);
        bb_u16(out, (unsigned)k);
        bb_put(out, p, k);
        p += k;
        n -= k;
    } while (n > 0);
}

static const unsigned char hrr_random[32] = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02,
    0x1E, 0x65, 0xB8, 0x91, 0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E,
    0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C
};

/* A ServerHello handshake message.  ver13: add supported_versions 0x0304;
 * group: key_share (0: none); hrr: HelloRetryRequest random and the HRR form
 * of key_share; ext: 0 = no extensions block at all (TLS 1.0 style). */
static void server_hello(struct bb *hs, unsigned legacy, unsigned cipher, int ver13,
                         unsigned group, int hrr, int ext)
{
    struct bb body = { .n = 0 };
    bb_u16(&body, legacy);
    if (hrr) bb_put(&body, hrr_random, 32);
    else bb_fill(&body, 0x11, 32);
    bb_u8(&body, 32);
    bb_fill(&body, 0x22, 32);        /* session id echo */
    bb_u16(&body, cipher);
    bb_u8(&body, 0);
    if (ext) {
        struct bb e = { .n = 0 };
        if (ver13) { bb_u16(&e, 43); bb_u16(&e, 2); bb_u16(&e, 0x0304); }
        if (group && hrr) { bb_u16(&e, 51); bb_u16(&e, 2); bb_u16(&e, group); }
        else if (group) {
            bb_u16(&e, 51); bb_u16(&e, 4 + 32);
            bb_u16(&e, group); bb_u16(&e, 32); bb_fill(&e, 0x33, 32);
        }
        bb_u16(&e, 0xFF01); bb_u16(&e, 1); bb_u8(&e, 0);   /* reneg info */
        bb_u16(&body, (unsigned)e.n);
        bb_put(&body, e.d, e.n);
    }
    bb_u8(hs, 2);
    bb_u24(hs, (unsigned)body.n);
    bb_put(hs, body.d, body.n);
}

struct cbinfo { int n; int types[64]; int from_server[64]; };
static void rec_cb(void *arg, int from_server, int type, int version,
                   const unsigned char *body, size_t len)
{
    struct cbinfo *c = arg;
    (void)version; (void)body; (void)len;
    if (c->n < 64) {
        c->types[c->n] = type;
        c->from_server[c->n] = from_server;
    }
    c->n++;
}

static void run(const struct bb *srv, size_t split, struct tlsrec_facts *f, struct cbinfo *ci)
{
    struct tlsrec_stream s;
    tlsrec_stream_init(&s);
    tlsrec_facts_init(f);
    if (ci) memset(ci, 0, sizeof *ci);
    if (split == 0) {
        tlsrec_feed(&s, 1, srv->d, srv->n, f, ci ? rec_cb : NULL, ci);
    } else {
        for (size_t i = 0; i < srv->n; i += split)
            tlsrec_feed(&s, 1, srv->d + i, srv->n - i < split ? srv->n - i : split,
                        f, ci ? rec_cb : NULL, ci);
    }
    tlsrec_stream_free(&s);
}

static void test_tls13(void **state)
{
    (void)state;
    static struct bb hs, srv;
    hs.n = srv.n = 0;
    server_hello(&hs, 0x0303, 0x1301, 1, 29, 0, 1);
    records(&srv, 22, 0x0303, hs.d, hs.n, 16384);
    bb_put(&srv, "\x14\x03\x03\x00\x01\x01", 6);          /* compat CCS */
    /* "encrypted" records: must not be decoded as a ServerHello / alert */
    hs.n = 0;
    server_hello(&hs, 0x0301, 0xC02F, 0, 23, 0, 1);
    records(&srv, 22, 0x0303, hs.d, hs.n, 16384);
    bb_put(&srv, "\x15\x03\x03\x00\x02\x02\x28", 7);
    bb_put(&srv, "\x17\x03\x03\x00\x05" "abcde", 10);

    struct tlsrec_facts f;
    struct cbinfo ci;
    run(&srv, 0, &f, &ci);
    assert_true(f.sh_seen);
    assert_int_equal(f.sh_legacy_version, 0x0303);
    assert_int_equal(f.sh_selected_version, 0x0304);
    assert_int_equal(f.sh_cipher, 0x1301);
    assert_int_equal(f.sh_group, 29);
    assert_string_equal(tlsrec_group_name(f.sh_group), "x25519");
    assert_false(f.hello_retry);
    assert_int_equal(f.alert_desc, -1);
    assert_int_equal(f.ske_group, 0);
    assert_false(f.not_tls);
    assert_int_equal(f.record_version, 0x0303);
    assert_int_equal(ci.n, 5);
    assert_int_equal(ci.types[0], 22);
    assert_int_equal(ci.types[1], 20);
    assert_int_equal(ci.types[4], 23);
}

static void build_tls12(struct bb *srv, int big_cert)
{
    static struct bb hs;
    hs.n = 0;
    server_hello(&hs, 0x0303, 0xC02F, 0, 0, 0, 1);
    /* Certificate: large enough to span two records */
    size_t clen = big_cert ? 20000 : 500;
    bb_u8(&hs, 11); bb_u24(&hs, (unsigned)clen + 3);
    bb_u24(&hs, (unsigned)clen); bb_fill(&hs, 0x30, clen);
    /* ServerKeyExchange: named_curve secp256r1, 65-byte point, signature */
    bb_u8(&hs, 12); bb_u24(&hs, 4 + 65 + 4 + 64);
    bb_u8(&hs, 3); bb_u16(&hs, 23); bb_u8(&hs, 65); bb_fill(&hs, 0x04, 65);
    bb_u16(&hs, 0x0401); bb_u16(&hs, 64); bb_fill(&hs, 0x55, 64);
    /* CertificateRequest: types, sig algs, no CAs */
    bb_u8(&hs, 13); bb_u24(&hs, 1 + 1 + 2 + 2 + 2);
    bb_u8(&hs, 1); bb_u8(&hs, 1); bb_u16(&hs, 2); bb_u16(&hs, 0x0401); bb_u16(&hs, 0);
    bb_u8(&hs, 14); bb_u24(&hs, 0);                    /* ServerHelloDone */
    /* Odd record sizes so that messages span records. */
    records(srv, 22, 0x0303, hs.d, hs.n, big_cert ? 16384 : 97);
    bb_put(srv, "\x14\x03\x03\x00\x01\x01", 6);
    /* encrypted Finished and an encrypted alert: not to be decoded */
    bb_u8(srv, 22); bb_u16(srv, 0x0303); bb_u16(srv, 40);
    bb_u8(srv, 2); bb_fill(srv, 0x77, 39);
    bb_u8(srv, 21); bb_u16(srv, 0x0303); bb_u16(srv, 26); bb_fill(srv, 0x02, 26);
}

static void check_tls12(const struct tlsrec_facts *f)
{
    assert_true(f->sh_seen);
    assert_int_equal(f->sh_legacy_version, 0x0303);
    assert_int_equal(f->sh_selected_version, 0x0303);
    assert_int_equal(f->sh_cipher, 0xC02F);
    assert_int_equal(f->sh_group, 0);
    assert_int_equal(f->ske_group, 23);
    assert_string_equal(tlsrec_group_name(f->ske_group), "secp256r1");
    assert_true(f->cert_request_seen);
    assert_int_equal(f->alert_desc, -1);
    assert_false(f->not_tls);
    assert_string_equal(tlsrec_cipher_name(f->sh_cipher),
                        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
}

static void test_tls12(void **state)
{
    (void)state;
    static struct bb srv;
    struct tlsrec_facts ref;
    struct cbinfo ci;
    srv.n = 0;
    build_tls12(&srv, 1);
    run(&srv, 0, &ref, &ci);
    check_tls12(&ref);
    assert_int_equal(ref.cert_msg_len, 20003); /* from the Certificate header */
    assert_int_equal(ci.n, 5);       /* 2 handshake, CCS, Finished, alert */
}

/* The same flight, split at every byte boundary and fed byte by byte. */
static void test_split(void **state)
{
    (void)state;
    static struct bb srv;
    struct tlsrec_facts ref, f;
    struct cbinfo ci, ci2;
    srv.n = 0;
    build_tls12(&srv, 0);
    run(&srv, 0, &ref, &ci);
    check_tls12(&ref);
    for (size_t cut = 1; cut < srv.n; cut++) {
        struct tlsrec_stream s;
        tlsrec_stream_init(&s);
        tlsrec_facts_init(&f);
        memset(&ci2, 0, sizeof ci2);
        tlsrec_feed(&s, 1, srv.d, cut, &f, rec_cb, &ci2);
        tlsrec_feed(&s, 1, srv.d + cut, srv.n - cut, &f, rec_cb, &ci2);
        tlsrec_stream_free(&s);
        assert_memory_equal(&f, &ref, sizeof f);
        assert_int_equal(ci2.n, ci.n);
    }
    run(&srv, 1, &f, &ci2);
    assert_memory_equal(&f, &ref, sizeof f);
    assert_int_equal(ci2.n, ci.n);
    run(&srv, 3, &f, NULL);
    assert_memory_equal(&f, &ref, sizeof f);
}

static void test_tls10(void **state)
{
    (void)state;
    static struct bb hs, srv;
    hs.n = srv.n = 0;
    server_hello(&hs, 0x0301, 0x002F, 0, 0, 0, 0);
    bb_u8(&hs, 14); bb_u24(&hs, 0);
    records(&srv, 22, 0x0301, hs.d, hs.n, 16384);
    struct tlsrec_facts f;
    run(&srv, 0, &f, NULL);
    assert_true(f.sh_seen);
    assert_int_equal(f.sh_legacy_version, 0x0301);
    assert_int_equal(f.sh_selected_version, 0x0301);
    assert_string_equal(tlsrec_version_name(f.sh_selected_version), "TLSv1.0");
    assert_int_equal(f.sh_cipher, 0x002F);
    assert_int_equal(f.record_version, 0x0301);
    assert_int_equal(f.ske_group, 0);
}

static void test_alert(void **state)
{
    (void)state;
    struct tlsrec_stream s, c;
    struct tlsrec_facts f;
    tlsrec_stream_init(&s);
    tlsrec_stream_init(&c);
    tlsrec_facts_init(&f);
    /* the client's ClientHello passes by, then the server refuses */
    static struct bb ch;
    ch.n = 0;
    bb_u8(&ch, 22); bb_u16(&ch, 0x0301); bb_u16(&ch, 50); bb_u8(&ch, 1); bb_fill(&ch, 0, 49);
    tlsrec_feed(&c, 0, ch.d, ch.n, &f, NULL, NULL);
    tlsrec_feed(&s, 1, "\x15\x03\x01\x00\x02\x02\x46", 7, &f, NULL, NULL);
    assert_int_equal(f.alert_level, 2);
    assert_int_equal(f.alert_desc, 70);
    assert_string_equal(tlsrec_alert_name(f.alert_desc), "protocol_version");
    assert_int_equal(f.client_alert_desc, -1);
    /* a second alert does not overwrite the first */
    tlsrec_feed(&s, 1, "\x15\x03\x01\x00\x02\x01\x00", 7, &f, NULL, NULL);
    assert_int_equal(f.alert_desc, 70);
    tlsrec_feed(&c, 0, "\x15\x03\x03\x00\x02\x02\x28", 7, &f, NULL, NULL);
    assert_int_equal(f.client_alert_desc, 40);
    assert_false(f.not_tls);
    tlsrec_stream_free(&s);
    tlsrec_stream_free(&c);
}

static void test_hrr(void **state)
{
    (void)state;
    static struct bb hs, srv;
    hs.n = srv.n = 0;
    server_hello(&hs, 0x0303, 0x1302, 1, 23, 1, 1);
    records(&srv, 22, 0x0303, hs.d, hs.n, 16384);
    bb_put(&srv, "\x14\x03\x03\x00\x01\x01", 6);   /* compat CCS after HRR */
    struct tlsrec_facts f;
    run(&srv, 0, &f, NULL);
    assert_true(f.hello_retry);
    assert_int_equal(f.sh_group, 23);
    /* then the real ServerHello, still in the clear */
    hs.n = 0;
    server_hello(&hs, 0x0303, 0x1302, 1, 29, 0, 1);
    records(&srv, 22, 0x0303, hs.d, hs.n, 16384);
    run(&srv, 7, &f, NULL);
    assert_true(f.hello_retry);
    assert_int_equal(f.sh_group, 29);
    assert_int_equal(f.sh_cipher, 0x1302);
    assert_int_equal(f.sh_selected_version, 0x0304);
}

static void test_not_tls(void **state)
{
    (void)state;
    const char *t = "554 5.7.0 TLS not available due to local problem\r\n";
    static struct bb srv;
    srv.n = 0;
    bb_put(&srv, t, strlen(t));
    for (size_t split = 0; split < 4; split++) {
        struct tlsrec_facts f;
        struct cbinfo ci;
        run(&srv, split, &f, &ci);
        assert_true(f.not_tls);
        /* the whole line fits the 256-byte evidence */
        assert_int_equal(f.n_not_tls, strlen(t));
        assert_memory_equal(f.not_tls_bytes, t, strlen(t));
        assert_false(f.sh_seen);
        assert_int_equal(ci.n, 0);
    }
    /* short answer: as many bytes as came */
    srv.n = 0;
    bb_put(&srv, "421\r\n", 5);
    struct tlsrec_facts f;
    run(&srv, 1, &f, NULL);
    assert_true(f.not_tls);
    assert_int_equal(f.n_not_tls, 5);
    assert_memory_equal(f.not_tls_bytes, "421\r\n", 5);
    /* oversized record length */
    srv.n = 0;
    bb_put(&srv, "\x16\x03\x03\xff\xff", 5);
    run(&srv, 0, &f, NULL);
    assert_true(f.not_tls);
    /* a bad record after a good one: stream stops, but it was TLS */
    srv.n = 0;
    bb_put(&srv, "\x15\x03\x03\x00\x02\x02\x28" "garbage", 14);
    run(&srv, 0, &f, NULL);
    assert_false(f.not_tls);
    assert_int_equal(f.alert_desc, 40);
    assert_true(f.late_not_tls);
    assert_int_equal(f.n_late, 7);
    assert_memory_equal(f.late_bytes, "garbage", 7);
}

/* Plaintext inside a TLS session ("250 OK" after application data records):
 * the bytes from the bad header on are kept, the same whatever the
 * chunking. */
static void test_late_not_tls(void **state)
{
    (void)state;
    static struct bb srv;
    srv.n = 0;
    bb_put(&srv, "\x17\x03\x03\x00\x03" "abc" "\x17\x03\x03\x00\x01" "d", 14);
    bb_put(&srv, "250 OK\r\n", 8);
    for (size_t split = 0; split < 6; split++) {
        struct tlsrec_facts f;
        struct cbinfo ci;
        run(&srv, split, &f, &ci);
        assert_false(f.not_tls);
        assert_true(f.late_not_tls);
        assert_int_equal(ci.n, 2);
        assert_int_equal(f.n_late, 8);
        assert_memory_equal(f.late_bytes, "250 OK\r\n", 8);
    }
    /* a bad header whose first 3 bytes looked like TLS: they are kept too */
    srv.n = 0;
    bb_put(&srv, "\x17\x03\x03\x00\x01" "d" "\x17\x03\x09" "xyz", 12);
    struct tlsrec_facts f;
    run(&srv, 0, &f, NULL);
    assert_true(f.late_not_tls);
    assert_int_equal(f.n_late, 6);
    assert_memory_equal(f.late_bytes, "\x17\x03\x09xyz", 6);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(tlsrec_alert_name(0), "close_notify");
    assert_string_equal(tlsrec_alert_name(40), "handshake_failure");
    assert_string_equal(tlsrec_alert_name(42), "bad_certificate");
    assert_string_equal(tlsrec_alert_name(112), "unrecognized_name");
    assert_string_equal(tlsrec_alert_name(116), "certificate_required");
    assert_string_equal(tlsrec_alert_name(109), "missing_extension");
    assert_string_equal(tlsrec_alert_name(86), "inappropriate_fallback");
    assert_null(tlsrec_alert_name(200));
    assert_null(tlsrec_alert_name(-1));
    assert_string_equal(tlsrec_group_name(24), "secp384r1");
    assert_string_equal(tlsrec_group_name(30), "x448");
    assert_string_equal(tlsrec_group_name(256), "ffdhe2048");
    assert_string_equal(tlsrec_group_name(4588), "X25519MLKEM768");
    assert_null(tlsrec_group_name(9999));
    assert_string_equal(tlsrec_version_name(0x0300), "SSLv3");
    assert_string_equal(tlsrec_version_name(0x0304), "TLSv1.3");
    assert_null(tlsrec_version_name(0x0305));
    assert_string_equal(tlsrec_content_type_name(21), "alert");
    assert_string_equal(tlsrec_content_type_name(23), "application_data");
    assert_null(tlsrec_content_type_name(99));
    assert_string_equal(tlsrec_handshake_name(2), "server_hello");
    assert_string_equal(tlsrec_cipher_name(0x1301), "TLS_AES_128_GCM_SHA256");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls13), cmocka_unit_test(test_tls12),
        cmocka_unit_test(test_split), cmocka_unit_test(test_tls10),
        cmocka_unit_test(test_alert), cmocka_unit_test(test_hrr),
        cmocka_unit_test(test_not_tls), cmocka_unit_test(test_late_not_tls),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
