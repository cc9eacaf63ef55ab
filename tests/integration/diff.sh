#!/bin/sh
# diff.sh - `mxscope --diff A B` (issue 11): two saved sessions side by
# side, the before/after of a renewal.  Against the world's real Postfix:
# the "old" listener still serves the certificate a renewal replaced, the
# "good" one the renewed certificate from the same intermediate.  The diff
# names the replaced leaf with both thumbprints and the expiry moved, keeps
# the intermediate "same", and says the verdicts that changed; a session
# against itself has no difference; text transcripts load too.
# What DNS and the sender policies said: two real probes of two world
# domains (testing.sts / enforce.sts: the MTA-STS mode, the policy's mx
# patterns, the TLS-RPT rua; dane-exp / dane-exp2: the MX host), a pair
# edited with jq from a real session (TLSA records renewed with their DANE
# judgement, an MX and an address added, the MX answer's DNSSEC, the policy
# id), an unchanged pair (JSON against its text transcript: DNS and policy
# "same"), and a hostile pair whose names and TXT text carry control bytes.
. "$(dirname "$0")/../lib.sh"
world_env
need jq
tmp=$(mktemp -d /tmp/mxscope-diff.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
probe() { # name port extra...
    n=$1 p=$2; shift 2
    "$MXS_BIN" --batch --host mx1.example.test --connect 127.0.0.1:"$p" --cafile "$MXS_CA" --timeout 10 \
        --save-json "$tmp/$n.json" --save "$tmp/$n.txt" "$@" > /dev/null 2>&1
}
probe old "$MXS_PORT_OLD"
probe good "$MXS_PORT_GOOD"
probe expired "$MXS_PORT_EXPIRED"

"$MXS_BIN" --diff "$tmp/old.json" "$tmp/good.json" > "$tmp/d.txt" 2> "$tmp/d.err"; rc=$?
if [ $rc = 0 ] && grep -q "^  depth 0  replaced$" "$tmp/d.txt" &&
   grep -q "^      SHA-1 $MXS_OLD_SHA1  not after " "$tmp/d.txt" &&
   grep -q "^      SHA-1 $MXS_GOOD_SHA1  not after " "$tmp/d.txt" &&
   grep -q "^      expiry moved +59 days$" "$tmp/d.txt" &&
   grep -q "^  depth 1  same certificate (SHA-1 " "$tmp/d.txt"; then
    ok "--diff: the replaced leaf with both thumbprints and the expiry moved; the intermediate same"
else
    fail "--diff old/good" "rc $rc: $(cat "$tmp/d.txt" "$tmp/d.err" | head -30)"
fi
"$MXS_BIN" --diff "$tmp/expired.json" "$tmp/good.json" > "$tmp/e.txt" 2>&1
if grep -q "^  CHAIN      fail -> ok$" "$tmp/e.txt" &&
   grep -q "^  gone: error   cert-expired \[CHAIN\] (TLS-RPT certificate-expired)$" "$tmp/e.txt" &&
   grep -q "^  verified       not-delivered at CHAIN -> delivered-encrypted$" "$tmp/e.txt" &&
   grep -q "^TLS$" "$tmp/e.txt"; then
    ok "--diff: the step, the finding gone and the verdict that changed after the fix"
else
    fail "--diff expired/good" "$(cat "$tmp/e.txt" | head -40)"
fi
"$MXS_BIN" --diff "$tmp/good.json" "$tmp/good.txt" > "$tmp/s.txt" 2>&1; rc=$?
if [ $rc = 0 ] && tail -n 1 "$tmp/s.txt" | grep -qx "No difference." && [ "$(grep -c '^  same' "$tmp/s.txt")" -ge 4 ]; then
    ok "--diff: a session against its own text transcript: no difference"
else
    fail "--diff self" "rc $rc: $(cat "$tmp/s.txt")"
fi
"$MXS_BIN" --diff "$tmp/good.json" > /dev/null 2> "$tmp/u.err"; rc=$?
[ $rc = 1 ] && grep -q "usage: mxscope --diff A B" "$tmp/u.err" && ok "--diff with one file: usage error" ||
    fail "--diff one file" "rc $rc $(cat "$tmp/u.err")"
printf '{"not": "a session"}' > "$tmp/bad.json"
"$MXS_BIN" --diff "$tmp/bad.json" "$tmp/good.json" > "$tmp/b.out" 2> "$tmp/b.err"; rc=$?
[ $rc = 2 ] && [ ! -s "$tmp/b.out" ] && [ "$(wc -l < "$tmp/b.err")" = 1 ] && ok "--diff with a damaged file: exit 2, one line" ||
    fail "--diff damaged" "rc $rc $(cat "$tmp/b.err")"

# --- DNS and policy facts ------------------------------------------------------
# has FILE LINE...: each LINE is a whole line of FILE (fixed strings)
has() {
    hf=$1; shift
    for hl in "$@"; do grep -qxF -- "$hl" "$hf" || { echo "missing: $hl"; return 1; }; done
}
# domain NAME PORTNAME DOMAIN: a real probe of a world domain (RESOLVE, POLICY, DANE at _25._tcp)
domain() {
    eval "dport=\${MXS_PORT_$2}"
    "$MXS_BIN" --batch --resolver "$MXS_DNS_RESOLVER" --trust-anchor "$MXS_TRUST_ANCHOR" \
        --unbound-conf "$MXS_UNBOUND_CONF" --cafile "$MXS_CA" --port "$dport" --tlsa-port 25 -4 --timeout 10 \
        --save-json "$tmp/$1.json" --save "$tmp/$1.txt" "$3" > /dev/null 2>&1
}
domain testing GOOD testing.sts.example.test
domain enforce GOOD enforce.sts.example.test
"$MXS_BIN" --diff "$tmp/testing.txt" "$tmp/enforce.json" > "$tmp/p.txt" 2>&1; rc=$?
if [ $rc = 0 ] && has "$tmp/p.txt" "MTA-STS and TLS-RPT" "  MTA-STS mode testing -> enforce" \
       "  MTA-STS mx added: *.mx.example.test" "  TLS-RPT rua added: https://tlsrpt.example.test/v1" \
       '  _smtp._tls TXT removed: "v=TLSRPTv1; rua=mailto:tlsrpt@example.test"' > "$tmp/p.why" &&
   ! grep -q "policy id" "$tmp/p.txt" && sed -n '/^DNS$/{n;p;}' "$tmp/p.txt" | grep -qx "  same"; then
    ok "--diff: two real probes, MTA-STS testing -> enforce (mode, mx pattern, rua; the same id and DNS say nothing)"
else
    fail "--diff testing/enforce" "rc $rc $(cat "$tmp/p.why") $(cat "$tmp/p.txt")"
fi
domain dexp EXPIRING dane-exp.example.test
domain dexp2 EXPIRING dane-exp2.example.test
"$MXS_BIN" --diff "$tmp/dexp.json" "$tmp/dexp2.txt" > "$tmp/x.txt" 2>&1
has "$tmp/x.txt" "  MX removed: 10 dx1.example.test" "  MX added: 10 dx6.example.test" > "$tmp/x.why" &&
    ok "--diff: two real probes, the MX host replaced" || fail "--diff dane-exp/dane-exp2" "$(cat "$tmp/x.why" "$tmp/x.txt")"
# unchanged: a real session against its own text transcript
"$MXS_BIN" --diff "$tmp/enforce.json" "$tmp/enforce.txt" > "$tmp/u.txt" 2>&1; rc=$?
if [ $rc = 0 ] && [ "$(sed -n '/^DNS$/,/^Certificates/p' "$tmp/u.txt")" = "$(printf 'DNS\n  same\n\nMTA-STS and TLS-RPT\n  same\n\nCertificates (2 sent before, 2 now)')" ] &&
   tail -n 1 "$tmp/u.txt" | grep -qx "No difference."; then
    ok "--diff: an unchanged pair says nothing about DNS or the policies"
else
    fail "--diff enforce self" "rc $rc $(cat "$tmp/u.txt")"
fi

# a pinned address (--connect) is no DNS answer; a probe of a host asks no policy
"$MXS_BIN" --diff "$tmp/good.json" "$tmp/enforce.txt" > "$tmp/k.txt" 2>&1
has "$tmp/k.txt" "  the address was given in A (--connect), looked up in B: not compared" "  asked only in B" > "$tmp/k.why" &&
    ok "--diff: a pinned address against a lookup, a host probe against a domain's policy: said, not compared" ||
    fail "--diff pinned/domain" "$(cat "$tmp/k.why" "$tmp/k.txt")"

# Edited with jq from the real enforce session: a renewal.  A: the old key's
# 3 1 1 (it authenticates) and a 2 0 1 that matches nothing; policy testing,
# id 2026A.  B: the 2 0 1 now matching the issuer, the new key's 3 1 1
# instead of the old, mx2 added, mx1's AAAA, the MX answer insecure, policy
# enforce, id 2026B.
old=$(jq -r '.dns.mx[0].tlsa.records[0].data' "$tmp/enforce.json")
new=ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789
ta=0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
rr() { echo "{\"usage\": $1, \"selector\": $2, \"mtype\": 1, \"data\": \"$3\", \"truncated\": false}"; }
judged() { echo "{\"record\": $1, \"usable\": true, \"match_depth\": $2, \"authenticates\": $3, \"why\": $4}"; }
jq "(.dns.mx[0].tlsa.records) = [$(rr 3 1 "$old"), $(rr 2 0 $ta)] |
    (.verification.dane.records) = [$(judged 0 0 true null), $(judged 1 -1 false '"matches no certificate of the chain"')] |
    .policy.mta_sts.id = \"2026A\" | .policy.mta_sts.records = [\"v=STSv1; id=2026A\"] |
    .policy.policy.mode = \"testing\"" "$tmp/enforce.json" > "$tmp/before.json"
jq "(.dns.mx[0].tlsa.records) = [$(rr 2 0 $ta), $(rr 3 1 $new)] |
    (.verification.dane.records) = [$(judged 0 1 true null), $(judged 1 0 true null)] |
    .dns.dnssec = \"insecure\" | .dns.mx[0].addresses += [{\"family\": 6, \"address\": \"::1\"}] |
    .dns.mx += [.dns.mx[0] | .preference = 20 | .host = \"mx2.example.test\"] |
    .policy.mta_sts.id = \"2026B\" | .policy.mta_sts.records = [\"v=STSv1; id=2026B\"]" "$tmp/enforce.json" > "$tmp/after.json"
"$MXS_BIN" --diff "$tmp/before.json" "$tmp/after.json" > "$tmp/r.txt" 2>&1; rc=$?
if [ $rc = 0 ] && has "$tmp/r.txt" "  MX answer secure -> insecure" "  MX added: 20 mx2.example.test" \
       "  mx1.example.test AAAA added ::1" \
       "  mx1.example.test TLSA 3 1 1 $old removed (matches certificate 0, authenticates)" \
       "  mx1.example.test TLSA 3 1 1 $new added (matches certificate 0, authenticates)" \
       "  mx1.example.test TLSA 2 0 1 $ta: matches no certificate of the chain -> matches certificate 1, authenticates" \
       '  _mta-sts TXT removed: "v=STSv1; id=2026A"' '  _mta-sts TXT added: "v=STSv1; id=2026B"' \
       "  policy id 2026A -> 2026B" "  MTA-STS mode testing -> enforce" > "$tmp/r.why" &&
   [ "$(sed -n '/^DNS$/,/^$/p' "$tmp/r.txt" | grep -c '^  ')" = 6 ] &&
   [ "$(sed -n '/^MTA-STS and TLS-RPT$/,/^$/p' "$tmp/r.txt" | grep -c '^  ')" = 4 ] &&
   tail -n 1 "$tmp/r.txt" | grep -qx "10 differences."; then
    ok "--diff: TLSA renewed (each record's judgement), MX and address added, DNSSEC, policy id and mode"
else
    fail "--diff renewal" "rc $rc $(cat "$tmp/r.why") $(cat "$tmp/r.txt")"
fi

# Hostile: names, TXT text, patterns and URIs with control bytes, raw in the
# JSON (\u001b) and as the escaped text a save writes (\\x00: the loader
# refuses \u0000); B also as a text transcript whose # fact lines carry them.
jq '.dns.mx += [.dns.mx[0] | .host = "evil\u001b[2J\u0007.example.test" | .preference = 5] |
    .dns.mx[0].addresses += [{"family": 4, "address": "127.0.0.9\u001b[31m"}] |
    .policy.mta_sts.records = ["v=STSv1; id=x\u0008\u007f", "v=STSv1\\x00\u001b]0;t\u0007"] |
    .policy.mta_sts.id = "x\u000dy" | .policy.policy.mx += ["*.\u001b[1m.example.test"] |
    .policy.tls_rpt.rua += [{"kind": "mailto", "ok": true, "uri": "mailto:a\u001bb@x\u009b"}]' "$tmp/enforce.json" > "$tmp/evil.json"
grep -v '^# fact \(dns\|policy\)\.json ' "$tmp/enforce.txt" > "$tmp/evil.txt"
printf '# fact dns.json %s\n# fact policy.json %s\n' "$(jq -c .dns "$tmp/evil.json")" "$(jq -c .policy "$tmp/evil.json")" >> "$tmp/evil.txt"
for ev in evil.json evil.txt; do
    "$MXS_BIN" --diff "$tmp/enforce.json" "$tmp/$ev" > "$tmp/h.txt" 2>&1; rc=$?
    if [ $rc = 0 ] && ! tr -d '\n' < "$tmp/h.txt" | LC_ALL=C grep -q '[[:cntrl:]]' &&
       has "$tmp/h.txt" '  MX added: 5 evil\x1B[2J\x07.example.test' '  mx1.example.test A added 127.0.0.9\x1B[31m' \
           '  _mta-sts TXT added: "v=STSv1; id=x\x08\x7F"' '  _mta-sts TXT added: "v=STSv1\x00\x1B]0;t\x07"' \
           '  policy id 20261203T1 -> x\x0Dy' '  MTA-STS mx added: *.\x1B[1m.example.test' \
           '  TLS-RPT rua added: mailto:a\x1Bb@x<U+009B>' > "$tmp/h.why"; then
        ok "--diff $ev: hostile names and TXT text escaped, no raw control byte"
    else
        fail "--diff hostile $ev" "rc $rc $(cat "$tmp/h.why") $(od -c "$tmp/h.txt" | head -60)"
    fi
done
finish
