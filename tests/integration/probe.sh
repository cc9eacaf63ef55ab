#!/bin/sh
# tests/integration/probe.sh - the batch front end end-to-end against the
# test world: a real Postfix (one listener per problem, certificates made at
# test time) and a real unbound serving signed zones.  Every assertion reads
# the facts mxscope reports in its JSON (docs/json.md) and its exit code.
. "$(dirname "$0")/../lib.sh"
need jq
world_env
tmp=$(mktemp -d /tmp/mxscope-probe.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# probe NAME PORTVAR [args...]: --host mx1.example.test pinned to loopback.
probe() {
    n=$1; pv=$2; shift 2
    eval port=\$MXS_PORT_$pv
    "$MXS_BIN" --batch --json --host mx1.example.test --connect "127.0.0.1:$port" \
        --cafile "$MXS_CA" --timeout 10 "$@" > "$tmp/$n.json" 2> "$tmp/$n.err"
    echo $? > "$tmp/$n.rc"
}
# expect NAME JQ-EXPR: the expression must be true for NAME's document.
expect() {
    n=$1; e=$2
    if jq -e "$e" "$tmp/$n.json" > /dev/null 2>&1; then ok "$n: $e"
    else fail "$n: $e" "got $(jq -c "$e" "$tmp/$n.json" 2>&1 | head -c 300)"; fi
}
rc_is() {
    r=$(cat "$tmp/$1.rc")
    if [ "$r" = "$2" ]; then ok "$1: exit $2"; else fail "$1: exit $2" "exit $r: $(head -c 300 "$tmp/$1.err")"; fi
}

# --- good, TLS 1.3 -----------------------------------------------------------
probe good GOOD
rc_is good 0
expect good '.result | has("failed_step") and .failed_step == null and .exit_code == 0'
expect good '[.steps[].status] == ["skipped","ok","ok","ok","ok","ok","ok","ok","ok","skipped"]'
expect good '.smtp.banner.code == 220 and (.smtp.banner.lines[0] | test("ESMTP"))'
expect good '.smtp.ehlo.code == 250 and (.smtp.capabilities | index("STARTTLS") != null) and .smtp.starttls_offered == true'
expect good '.smtp.starttls.code == 220 and .smtp.starttls.leftover_bytes == 0'
expect good '.tls.version == "TLSv1.3" and (.tls.cipher | length > 0) and .tls.group == "x25519"'
expect good '.tls.sni == "mx1.example.test"'
expect good '(.chain | length) == 2 and .chain[0].verify_flags == [] and .verification.trusted'
expect good ".chain[0].sha1 == \"$MXS_GOOD_SHA1\" and .chain[0].sha256 == \"$MXS_GOOD_SHA256\""
expect good '.chain[0].san | index("mx1.example.test") != null'
expect good '.chain[0].days_left >= 80 and .chain[0].days_left <= 90'
expect good '.chain[1].ca == true and (.chain[0].issuer == .chain[1].subject)'
expect good '.smtp.ehlo2.code == 250 and .smtp.capabilities_changed == false'
expect good '[.transcript[] | select(.kind == "smtp-out") | .text] | index("STARTTLS") != null'
expect good '[.transcript[] | select(.kind == "smtp-out") | .text] | last == "QUIT"'

# --- TLS 1.2 only server ------------------------------------------------------
probe tls12 TLS12
rc_is tls12 0
expect tls12 '.tls.version == "TLSv1.2" and .tls.server_hello_version == "TLSv1.2"'
expect tls12 '.tls.group == "x25519"'
# ...and the same server when we insist on TLS 1.3: no common version
probe tls12min13 TLS12 --tls-min 1.3
rc_is tls12min13 15
expect tls12min13 '.result.failed_step == "HANDSHAKE" and .tls.alert_received == "protocol_version"'
# good server, we cap at 1.2
probe goodmax12 GOOD --tls-max 1.2
rc_is goodmax12 0
expect goodmax12 '.tls.version == "TLSv1.2"'

# --- certificate problems -------------------------------------------------------
probe expired EXPIRED
rc_is expired 16
expect expired '.result.failed_step == "CHAIN" and .chain[0].verify_flags == ["expired"] and .verification.flags == ["expired"]'
expect expired '.chain[0].days_left < 0 and .tls.version == "TLSv1.3" and .smtp.ehlo2.code == 250'

probe wrongname WRONGNAME
rc_is wrongname 16
expect wrongname '.chain[0].verify_flags == ["name-mismatch"] and .verification.name_matches_mx == false'
expect wrongname '.chain[0].san == ["other.example.net"]'

probe selfsigned SELFSIGNED
rc_is selfsigned 16
expect selfsigned '(.chain | length) == 1 and .chain[0].self_issued == true and .chain[0].verify_flags == ["not-trusted"]'

probe missing MISSING_INT
rc_is missing 16
expect missing '(.chain | length) == 1 and .chain[0].self_issued == false and .chain[0].verify_flags == ["not-trusted"]'

probe untrusted UNTRUSTED
rc_is untrusted 16
expect untrusted '.verification.trusted == false and .verification.flags == ["not-trusted"] and .chain[0].verify_flags == []'

probe weakkey WEAKKEY
expect weakkey '.chain[0].key_bits == 1024 and .chain[0].key == "RSA 1024" and .chain[0].verify_flags == ["weak-key"]'
probe sha1sig SHA1SIG
expect sha1sig '.chain[0].signature == "RSA with SHA-1" and .chain[0].verify_flags == ["weak-hash"]'

# the old certificate still served after a renewal: a thumbprint mismatch
probe renewal OLD --expect-fingerprint "$MXS_GOOD_SHA1"
rc_is renewal 16
expect renewal ".verification.fingerprint_match == false and .chain[0].sha1 == \"$MXS_OLD_SHA1\""
probe renewal_ok GOOD --expect-fingerprint "$MXS_GOOD_SHA256"
rc_is renewal_ok 0
expect renewal_ok '.verification.fingerprint_match == true'

# --- STARTTLS problems -------------------------------------------------------------
probe nostarttls NOSTARTTLS
rc_is nostarttls 14
expect nostarttls '(.smtp.capabilities | length > 0 and index("STARTTLS") == null) and .smtp.starttls_offered == false'
expect nostarttls '.result.failed_step == "STARTTLS" and .steps[5].status == "skipped" and .steps[8].status == "ok"'

probe refused REFUSED454
rc_is refused 14
expect refused '.smtp.starttls.code == 454 and (.smtp.starttls.lines[0] | test("TLS not available"))'

# --- banner problems ---------------------------------------------------------------
probe b554 BANNER554
rc_is b554 12
expect b554 '.smtp.banner.code == 554 and .steps[3].status == "skipped"'
probe b421 BANNER421
rc_is b421 12
expect b421 '.smtp.banner.code == 421'

# a banner slower than the stage deadline: cut at the deadline, not later
start=$(date +%s%N)
probe slow SLOWBANNER --timeout-banner 1.5
end=$(date +%s%N)
ms=$(( (end - start) / 1000000 ))
rc_is slow 12
expect slow '.steps[2].timed_out == true and .steps[2].status == "fail"'
if [ $ms -lt 2500 ]; then ok "slow banner cut at the 1.5 s deadline (${ms} ms)"; else fail "slow banner deadline" "took ${ms} ms"; fi
probe slowok SLOWBANNER
rc_is slowok 4   # banner-slow is a warning: exit 4
expect slowok '.smtp.banner.elapsed_ms >= 4500 and .steps[2].status == "warn"'

# --- client certificate ----------------------------------------------------------
probe ccert CCERT
# TLS 1.3: the server asks for the certificate after the handshake; the
# missing one ends the session at EHLO2
expect ccert '.tls.client_cert_requested == true and .result.failed_step == "EHLO2"'
probe ccert_ok CCERT --cert "$MXS_CLIENT_CERT" --key "$MXS_CLIENT_KEY"
rc_is ccert_ok 0

# --- DNS: MX by preference, DNSSEC, implicit/null MX, NXDOMAIN ------------------------
dnsprobe() {
    n=$1; shift
    "$MXS_BIN" --batch --json --resolver "$MXS_DNS_RESOLVER" --trust-anchor "$MXS_TRUST_ANCHOR" \
        --unbound-conf "$MXS_UNBOUND_CONF" --cafile "$MXS_CA" --port "$MXS_PORT_GOOD" --timeout 10 "$@" \
        > "$tmp/$n.json" 2> "$tmp/$n.err"
    echo $? > "$tmp/$n.rc"
}
dnsprobe domain example.test
rc_is domain 0
expect domain '[.dns.mx[] | .preference] == [10, 20, 20]'
expect domain '[.dns.mx[] | .host] == ["mx1.example.test", "mx2.example.test", "mx3.example.test"]'
expect domain '.dns.dnssec == "secure" and .dns.mx[0].a.dnssec == "secure"'
expect domain '[.dns.mx[0].addresses[] | .address] == ["127.0.0.1", "::1"]'
expect domain '.connect.address == "127.0.0.1" and .steps[0].status == "ok"'
# DANE: the zone's TLSA 3 1 1 at _25._tcp.mx1.example.test is the good key
dnsprobe dane -4 --mx 0 --tlsa-port 25 example.test
rc_is dane 0
expect dane '.dns.mx[0].tlsa.dnssec == "secure" and .dns.mx[0].tlsa.records[0].usage == 3'
expect dane ".verification.dane.match == true and .verification.dane.match_depth == 0 and .chain[0].spki_sha256 == \"$MXS_GOOD_SPKI_SHA256\""
expect dane '[.verdict[] | select(.policy == "dane")][0].outcome == "delivered-encrypted"'
"$MXS_BIN" --batch --json --resolver "$MXS_DNS_RESOLVER" --trust-anchor "$MXS_TRUST_ANCHOR" \
    --unbound-conf "$MXS_UNBOUND_CONF" --cafile "$MXS_CA" --port "$MXS_PORT_OLD" --timeout 10 \
    -4 --mx 0 --tlsa-port 25 example.test > "$tmp/danebad.json" 2>/dev/null
expect danebad '.verification.dane.match == false and ([.findings[] | select(.id == "dane-mismatch" and .step == "CHAIN")] | length == 1)'
expect danebad '[.verdict[] | select(.policy == "dane")][0] | .outcome == "not-delivered" and .step == "CHAIN" and .finding == "dane-mismatch"'
expect danebad '[.verdict[] | select(.policy == "verified")][0].outcome == "delivered-encrypted"'
# DANE-TA: mx2's TLSA 2 0 1 is the intermediate CA the chain goes through
dnsprobe daneta -4 --mx 1 --tlsa-port 25 example.test
expect daneta '.dns.mx[1].tlsa.records[0].usage == 2 and .verification.dane.match == true and .verification.dane.match_depth == 1'
expect daneta '[.verdict[] | select(.policy == "dane")][0].outcome == "delivered-encrypted"'
"$MXS_BIN" --batch --json --resolver "$MXS_DNS_RESOLVER" --trust-anchor "$MXS_TRUST_ANCHOR" \
    --unbound-conf "$MXS_UNBOUND_CONF" --cafile "$MXS_CA" --port "$MXS_PORT_SELFSIGNED" --timeout 10 \
    -4 --mx 1 --tlsa-port 25 example.test > "$tmp/danetabad.json" 2>/dev/null
expect danetabad '.verification.dane.match == false and ([.findings[] | select(.id == "dane-mismatch")] | length == 1)'
dnsprobe v6 -6 --port "$MXS_PORT_GOOD6" example.test
rc_is v6 4   # dns-no-address (mx3 has no AAAA) is a warning: exit 4
expect v6 '.connect.address == "::1" and .connect.family == 6 and .tls.version == "TLSv1.3"'
dnsprobe insecure insecure.test
expect insecure '.dns.dnssec == "insecure" and .dns.mx[0].host == "mx1.insecure.test"'
dnsprobe implicit implicit.example.test
expect implicit '.dns.implicit_mx == true and .dns.mx[0].host == "implicit.example.test"'
# the world's certificate does not cover implicit.example.test: said so
expect implicit '.verification.name_checked == "implicit.example.test" and .verification.name_matches_mx == false'
dnsprobe nullmx nullmx.example.test
rc_is nullmx 10
expect nullmx '.dns.null_mx == true and .steps[1].status == "skipped"'
dnsprobe nx nx.example.test
rc_is nx 10
expect nx '.dns.mx_rcode == "nxdomain"'
dnsprobe bogus bogus.example.test
rc_is bogus 10
# the world's bogus.example.test: every signature expired in 2020
expect bogus '.dns.mx_rcode == "servfail" and .dns.dnssec == "bogus" and (.dns.why_bogus | test("signature expired"))'
"$MXS_BIN" --batch --json --resolver "$MXS_DNS_DEAD_RESOLVER" --unbound-conf "$MXS_UNBOUND_CONF" \
    --timeout-resolve 2 example.test > "$tmp/dead.json" 2>/dev/null; echo $? > "$tmp/dead.rc"
rc_is dead 10
expect dead '.steps[0].timed_out == true and .steps[0].status == "fail" and .dns.mx_rcode == "timeout"'

# --- saves: transcript, JSON (loads back), PEM chain ----------------------------------
port=$MXS_PORT_GOOD
"$MXS_BIN" --batch --host mx1.example.test --connect "127.0.0.1:$port" --cafile "$MXS_CA" \
    --save "$tmp/t.txt" --save-json "$tmp/t.json" --save-chain "$tmp/t.pem" > "$tmp/t.out" 2>&1
check "saved transcript has C:/S: marks" grep -q ' C: STARTTLS' "$tmp/t.txt"
check "saved transcript has the banner" grep -q ' S: 220 ' "$tmp/t.txt"
check "saved files are mode 0600" test "$(stat -c %a "$tmp/t.txt" "$tmp/t.json" "$tmp/t.pem" | sort -u)" = 600
n=$(grep -c 'BEGIN CERTIFICATE' "$tmp/t.pem")
if [ "$n" = 2 ]; then ok "PEM chain has 2 certificates"; else fail "PEM chain" "$n certificates"; fi
if openssl x509 -in "$tmp/t.pem" -noout -fingerprint -sha1 | tr -d ':' | grep -qi "$MXS_GOOD_SHA1"; then
    ok "PEM leaf matches the served certificate (openssl)"; else fail "PEM leaf fingerprint"; fi
"$MXS_BIN" --batch --json --load "$tmp/t.json" > "$tmp/l.json" 2>&1
if jq -e '.chain[0].sha1 == "'"$MXS_GOOD_SHA1"'" and (.transcript | length) > 10' "$tmp/l.json" >/dev/null; then
    ok "--load replays the saved session"; else fail "--load" "$(head -c 300 "$tmp/l.json")"; fi
# a hostile session file: escape sequences in fields the report prints
jq '.tls.version = "TLS\u001b[31mX" | .tls.cipher = "\u001b]0;pwn\u0007" | .findings = [{"id":"x\u001b[2Jy","severity":"error","step":"CHAIN","message":"m\u009bq","evidence":"e","advice":"a"}] | .verdict[0].words = "w\u001bz"' \
    "$tmp/t.json" > "$tmp/hostile.json"
"$MXS_BIN" --batch --load "$tmp/hostile.json" > "$tmp/hostile.out" 2>&1
"$MXS_BIN" --batch --json --load "$tmp/hostile.json" >> "$tmp/hostile.out" 2>&1
if LC_ALL=C grep -q "$(printf '\033')" "$tmp/hostile.out" || LC_ALL=C grep -q "$(printf '\302\233')" "$tmp/hostile.out"; then
    fail "hostile session file: no raw escape reaches the output"
else
    ok "hostile session file: no raw escape reaches the output"
fi
printf '{"schema": 1, "steps": 5' > "$tmp/bad.json"
"$MXS_BIN" --batch --load "$tmp/bad.json" > "$tmp/bad.out" 2>&1; r=$?
if [ $r = 2 ] && grep -q 'not a mxscope JSON session' "$tmp/bad.out"; then ok "damaged session file: clear error"
else fail "damaged session file" "exit $r: $(head -c 200 "$tmp/bad.out")"; fi
finish
