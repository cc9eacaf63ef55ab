#!/bin/sh
# sideprobe.sh - side handshakes (core/probe/side.c) against the real
# Postfix listeners of the test world, through tests/fixtures/sideprobe:
#   - the hand-built TLS 1.0 / 1.1 ClientHello gets the ServerHello of a
#     server limited to that version, and the protocol_version alert from
#     one that is not (tls10, tls11 listeners: OpenSSL at security level 0);
#   - an ECDSA-only and an RSA-only full handshake against the dual
#     certificate listener (RSA good + ECDSA expired) each see their own leaf.
. "$(dirname "$0")/../lib.sh"
need jq
world_env
sp="$MXS_BUILD/fixtures/sideprobe"
[ -x "$sp" ] || { fail "sideprobe fixture" "$sp missing"; exit 1; }
tmp=$(mktemp -d /tmp/mxscope-side.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

run() { # name kind port -> $tmp/name
    "$sp" "$2" 127.0.0.1 "$3" "$MXS_CA" > "$tmp/$1" 2>&1
}
has() { # name text
    if grep -qF -- "$2" "$tmp/$1"; then ok "$1: $2"; else fail "$1: $2" "$(tr '\n' '|' < "$tmp/$1" | head -c 400)"; fi
}

run t10_on_10 tls10 "$MXS_PORT_TLS10"
has t10_on_10 "result: end=1 server_hello=1 version=0x0301 alert=-1"
run t10_on_11 tls10 "$MXS_PORT_TLS11"
has t10_on_11 "the server refused it: alert protocol_version(70)"
run t11_on_11 tls11 "$MXS_PORT_TLS11"
has t11_on_11 "result: end=1 server_hello=1 version=0x0302 alert=-1"
# A 1.0-only server answers a 1.1 hello with its own version: accepted at 1.0.
run t11_on_10 tls11 "$MXS_PORT_TLS10"
has t11_on_10 "ServerHello TLSv1.0: the server accepts it"

run ec ecdsa "$MXS_PORT_DUALCERT"
run rsa rsa "$MXS_PORT_DUALCERT"
has ec "result: handshake_ok=1"
has ec "cert 0: key EC"
has rsa "cert 0: key RSA"
ec_days=$(sed -n 's/^cert 0: .* days_left \(-*[0-9]*\)$/\1/p' "$tmp/ec")
rsa_days=$(sed -n 's/^cert 0: .* days_left \(-*[0-9]*\)$/\1/p' "$tmp/rsa")
if [ -n "$ec_days" ] && [ "$ec_days" -lt 0 ] && [ -n "$rsa_days" ] && [ "$rsa_days" -gt 0 ]; then
    ok "dual: the ECDSA leaf is expired ($ec_days), the RSA leaf valid ($rsa_days)"
else
    fail "dual: ECDSA expired, RSA valid" "ecdsa $ec_days rsa $rsa_days"
fi
# Through the binary: the dual-certificate Postfix.  Both leaves in the
# report's CHAIN section and in JSON; the saved JSON loads back to the very
# same document and report (the second leaf's fields, without its DER).
"$MXS_BIN" --batch --json --host mx1.example.test --connect "127.0.0.1:$MXS_PORT_DUALCERT" \
    --cafile "$MXS_CA" --timeout 10 --save-json "$tmp/dual.saved.json" > "$tmp/dual.json" 2>&1
"$MXS_BIN" --batch --load "$tmp/dual.saved.json" --json > "$tmp/dual.load.json" 2>&1
if jq -e '.second_certificate.leaf.key_type == "RSA" and .chain[0].key_type == "EC" and
          ([.findings[].id] | index("cert-dual-differs") != null)' "$tmp/dual.json" > /dev/null &&
   cmp -s "$tmp/dual.json" "$tmp/dual.load.json"; then
    ok "dualcert: both leaves, cert-dual-differs, and the saved JSON loads back the same"
else
    fail "dualcert: both leaves, loaded back the same" "$(diff "$tmp/dual.json" "$tmp/dual.load.json" | head -4 | tr '\n' '|')"
fi
"$MXS_BIN" --batch --host mx1.example.test --connect "127.0.0.1:$MXS_PORT_DUALCERT" \
    --cafile "$MXS_CA" --timeout 10 > "$tmp/dual.txt" 2>&1
if grep -qE '^         2nd certificate \(RSA-only handshake\): CN=mx1\.example\.test$' "$tmp/dual.txt"; then
    ok "dualcert: the report's CHAIN section shows the second certificate"
else fail "dualcert: the report shows the second certificate" "$(sed -n '/CHAIN/,/EHLO2/p' "$tmp/dual.txt" | head -12 | tr '\n' '|')"; fi

# Through the binary: the preempt12 Postfix (server cipher preference, TLS
# 1.2 only, RSA key) signs its ServerKeyExchange with RSA-PSS, which mbedTLS
# 3.6.6 refuses in TLS 1.2.  The engine retries on a fresh connection
# offering no RSA-PSS and goes on over that session: delivered, as OpenSSL
# senders do.
"$MXS_BIN" --batch --json --host mx1.example.test --connect "127.0.0.1:$MXS_PORT_PREEMPT12" \
    --cafile "$MXS_CA" --timeout 10 > "$tmp/pss.json" 2>&1
rc=$?
if [ $rc = 0 ] && jq -e '.tls.ok and .tls.version == "TLSv1.2" and .tls.pss_retry == true and
        .steps[7].status == "ok" and ([.verdict[] | select(.outcome == "delivered-encrypted")] | length) == 3
        and ([.transcript[] | select(.kind == "tls-info") | .text | select(test("RSA-PSS defect"))] | length) == 1' \
        "$tmp/pss.json" > /dev/null; then
    ok "preempt12 (RSA-PSS in TLS 1.2): a retry without RSA-PSS, EHLO2 over it, delivered (exit 0)"
else
    fail "preempt12 (RSA-PSS in TLS 1.2)" "exit $rc: $(jq -c '{ok: .tls.ok, v: .tls.version, r: .tls.pss_retry, e: .tls.error}' "$tmp/pss.json" 2>&1 | head -c 300)"
fi
# The text report says why a second connection was made and whose defect
# it was (it said nothing before), never "IN CLEAR"; a saved JSON loaded
# back says the same.
"$MXS_BIN" --batch --host mx1.example.test --connect "127.0.0.1:$MXS_PORT_PREEMPT12" \
    --cafile "$MXS_CA" --timeout 10 > "$tmp/pss.txt" 2>&1
rc=$?
"$MXS_BIN" --load "$tmp/pss.json" --batch > "$tmp/pss.load.txt" 2>&1
pss_line='^         on a second connection, offering no RSA-PSS: the first handshake failed on our TLS library.s defect \(mbedTLS 3\.6\.6'
if [ $rc = 0 ] && grep -qE "$pss_line" "$tmp/pss.txt" && grep -qE "$pss_line" "$tmp/pss.load.txt" &&
        ! grep -qi 'in clear' "$tmp/pss.txt"; then
    ok "preempt12: the text report names the retry without RSA-PSS as our library's defect (live and loaded), no 'in clear'"
else
    fail "preempt12: the text report names the retry" "exit $rc: $(sed -n '/HANDSHAKE/,/CHAIN/p' "$tmp/pss.txt" "$tmp/pss.load.txt" | head -8 | tr '\n' '|')"
fi
finish
