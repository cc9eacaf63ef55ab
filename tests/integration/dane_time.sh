#!/bin/sh
# tests/integration/dane_time.sh - DANE over time (issue 12) against the test
# world: each TLSA record judged on its own, the lifecycle findings
# (dane-next-key-missing, dane-full-cert, dane-ta-not-issuer, dane-days),
# the TLSA lookup at an alias's CNAME-expanded name first (RFC 7672 2.2.2)
# and an MX target with an underscore.  The records are in example.test
# (tests/world-dns.sh, "DANE over time"), made from the certificates of
# tests/world-certs.sh at test time; real Postfix listeners serve them.
. "$(dirname "$0")/../lib.sh"
need jq
world_env
tmp=$(mktemp -d /tmp/mxscope-dane.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
[ -n "${MXS_DNS_RESOLVER:-}" ] || { fail "test world DNS" "MXS_DNS_RESOLVER not set"; finish; }

. "$(dirname "$0")/../dane.inc"   # dane expect f
# delivered NAME PORTVAR DOMAIN [args...]: as dane, and a DANE sender delivers
delivered() { dane "$@"; expect "$1" "$dane_ok"; }
# days NAME PORTVAR DOMAIN N SEVERITY REGEX [args...]: --days N files one
# dane-days of SEVERITY whose evidence matches REGEX
days() {
    dn=$1 dp=$2 dd=$3 dN=$4 dsev=$5 dre=$6; shift 6
    dane "$dn" "$dp" "$dd" --days "$dN" "$@"
    expect "$dn" "$(f dane-days) | length == 1 and .[0].severity == \"$dsev\""
    expect "$dn" "$(f dane-days)[0].evidence | test(\"$dre\")"
}
dane_ok='([.verdict[] | select(.policy == "dane")][0].outcome == "delivered-encrypted")'

# --- only a 3 1 1, the leaf 10 days from expiry ------------------------------
spki_exp=$(openssl x509 -in "$MXS_CERTDIR/expiring.crt" -noout -pubkey | openssl pkey -pubin -outform DER |
           openssl dgst -sha256 -r | cut -c1-64 | tr a-f A-F)
delivered exp EXPIRING dane-exp.example.test
expect exp '.verification.dane.records == [{"record": 0, "usable": true, "match_depth": 0, "authenticates": true, "why": null}]'
expect exp "$(f dane-next-key-missing) | length == 1 and .[0].severity == \"warning\" and .[0].step == \"CHAIN\""
expect exp "$(f dane-next-key-missing)[0].evidence | contains(\"keep: 3 1 1 $spki_exp\")"
expect exp "$(f dane-next-key-missing)[0].advice | contains(\"3 1 1 $spki_exp\")"
expect exp "$(f dane-days) | length == 0"
# the same leaf with more than 10 days of warning window left is no finding
dane exp5 EXPIRING dane-exp.example.test --expiry-warn 5
expect exp5 "$(f dane-next-key-missing) | length == 0"
# the next key's 3 1 1 published beside it: the renewal is prepared
delivered exp2 EXPIRING dane-exp2.example.test
# DNS orders an RRset as it likes (by RDATA): which record is the current
# key's is read from the data, not assumed from the position.
expect exp2 '([.verification.dane.records[] | .authenticates] | sort) == [false, true]'
expect exp2 ".dns.mx[0].tlsa.records[.verification.dane.match_record].data == \"$spki_exp\""
expect exp2 "$(f dane-next-key-missing) | length == 0"
# --days: 20 days on, the leaf has been renewed: holds only if the key stays
days exp20 EXPIRING dane-exp.example.test 20 warning "TLSA 3 1 1 $spki_exp: holds only if the renewal keeps the key"
days exp5d EXPIRING dane-exp.example.test 5 info "TLSA 3 1 1 $spki_exp: holds: the certificate is valid until"
expect exp5d "$(f dane-days)[0].message | test(\"still satisfied: 1 record holds\")"
expect exp5d '.settings.days == "5"'

# --- a 3 0 1 beside the 3 1 1 ---------------------------------------------------
delivered full GOOD dane-full.example.test
expect full '[.verification.dane.records[] | .match_depth] == [0, 0] and ([.dns.mx[0].tlsa.records[] | .selector] == [0, 1])'
expect full "$(f dane-full-cert) | length == 1 and .[0].severity == \"warning\" and (.[0].message | test(\"3 0 1 \"))"
expect full "$(f dane-next-key-missing) | length == 0"
# 100 days on (good.crt ends in 89): the 3 0 1 fails, the 3 1 1 is at risk
days full100 GOOD dane-full.example.test 100 warning "TLSA 3 0 1 [0-9A-F]{64}: fails: the certificate expires"
days full30 GOOD dane-full.example.test 30 info "TLSA 3 0 1 [0-9A-F]{64}: holds"
expect full30 "$(f dane-days)[0].message | test(\"2 records hold\")"

# DANE-TA over time: mx2's 2 0 1 names the intermediate (999 days left); the
# leaf (89 days) renewed by the same CA keeps it, the CA's own expiry ends it
days ta100 GOOD example.test 100 info "TLSA 2 0 1 [0-9A-F]{64}: holds if the renewed leaf \\\\(this one expires [-0-9T:Z]+\\\\) comes from the same CA" --mx 1
days ta1000 GOOD example.test 1000 warning "TLSA 2 0 1 [0-9A-F]{64}: fails: certificate 1 \\\\(a CA\\\\) expires [-0-9T:Z]+, and it is the trust anchor this record names" --mx 1

# --- a 2 0 1 naming a CA that issued nothing served ---------------------------
delivered ta GOOD dane-ta.example.test
expect ta '.verification.dane.records[0] | .usable == true and .match_depth == null and .authenticates == false and (.why | test("names a CA that did not issue this chain"))'
expect ta '.verification.dane.records[1].authenticates == true and .verification.dane.match_record == 1'
expect ta "$(f dane-ta-not-issuer) | length == 1 and .[0].severity == \"warning\" and (.[0].message | test(\"stale record\"))"
expect ta "$(f dane-mismatch) | length == 0"

# --- TLSA at the CNAME-expanded name first, then the alias ---------------------
# dx4 is an alias of mx1: mx1's record (good's key) applies, not dx4's wrong one
dane cname GOOD dane-cname.example.test
expect cname '.dns.mx[0].tlsa | .name == "_25._tcp.mx1.example.test" and .expanded == true and .dnssec == "secure"'
expect cname ".verification.dane.match == true and .dns.mx[0].tlsa.records[0].data == \"$MXS_DNS_TLSA_HASH\""
expect cname "$dane_ok"
expect cname '[.verdict[] | select(.policy == "dane")][0].words | test("TLSA 3 1 1 for _25\\._tcp\\.mx1\\.example\\.test matches certificate 0")'
# dx5 is an alias of mx3, which has no TLSA: the alias's own record applies
dane cname2 GOOD dane-cname2.example.test
expect cname2 '.dns.mx[0].tlsa | .name == "_25._tcp.dx5.example.test" and .expanded == false and (.records | length == 1)'
expect cname2 "$dane_ok"
# dx7 is an alias of mx2 (DANE-TA 2 0 1): the leaf names mx2, the TLSA base
# domain, not dx7: a reference identifier all the same (RFC 7672 3.2.2)
dane cname3 GOOD dane-cname3.example.test
expect cname3 '.dns.mx[0].tlsa.name == "_25._tcp.mx2.example.test" and .verification.name_matches_mx == false'
expect cname3 '.verification.dane.records[0] | .match_depth == 1 and .authenticates == true'
expect cname3 "$dane_ok"
if grep -q 'TLSA of dx4.example.test: the records at its CNAME-expanded name _25._tcp.mx1.example.test apply (RFC 7672 2.2.2)' "$tmp/cname.txt" &&
   grep -q 'TLSA of dx5.example.test: none at its CNAME-expanded name _25._tcp.mx3.example.test, so those at _25._tcp.dx5.example.test apply' "$tmp/cname2.txt"; then
    ok "transcript: which TLSA name applies, and why"
else
    fail "transcript: which TLSA name applies" "$(grep -h 'TLSA' "$tmp/cname.txt" "$tmp/cname2.txt" | head -6 | tr '\n' '|')"
fi

# --- an MX target with an underscore -------------------------------------------
dane under GOOD under.example.test
expect under '.dns.mx[0].host == "mx_u.example.test"'
expect under "$(f mx-target-underscore) | length == 1 and .[0].step == \"RESOLVE\" and .[0].severity == \"warning\""
dane plain GOOD example.test --mx 0
expect plain "[.findings[] | select(.id | test(\"^(mx-target-underscore|dane-)\"))] == []"

# --- every view shows each record ----------------------------------------------
# transcript: one line per record
if grep -q 'TLSA record 0 (2 0 1 [0-9A-F]*\.\.\.): matches none of the certificates sent' "$tmp/ta.txt" &&
   grep -q 'TLSA record 1 (3 1 1 [0-9A-F]*\.\.\.): matches certificate 0 (the leaf): authenticates the chain' "$tmp/ta.txt"; then
    ok "transcript: a line per TLSA record"
else
    fail "transcript: a line per TLSA record" "$(grep 'TLSA record' "$tmp/ta.txt" | head -3 | tr '\n' '|')"
fi
# the text report (batch without --json)
eval port=\$MXS_PORT_GOOD
"$MXS_BIN" --batch --resolver "$MXS_DNS_RESOLVER" --trust-anchor "$MXS_TRUST_ANCHOR" \
    --unbound-conf "$MXS_UNBOUND_CONF" --cafile "$MXS_CA" --port "$port" --tlsa-port 25 \
    --timeout 10 -4 dane-ta.example.test > "$tmp/ta.report" 2>&1
if grep -q '^         DANE, TLSA at _25._tcp.dx3.example.test (secure):$' "$tmp/ta.report" &&
   grep -qE '^           2 0 1 [0-9A-F]{16}\.\.\.: matches none of the certificates sent' "$tmp/ta.report" &&
   grep -qE '^           3 1 1 [0-9A-F]{16}\.\.\.: matches certificate 0, authenticates$' "$tmp/ta.report"; then
    ok "report: each TLSA record and what it matched"
else
    fail "report: each TLSA record" "$(grep -A3 'DANE, TLSA' "$tmp/ta.report" | tr '\n' '|')"
fi
# a saved session loads back with its records
"$MXS_BIN" --load "$tmp/ta.json" --batch --json > "$tmp/taload.json" 2> "$tmp/taload.err"
if jq -e --slurpfile a "$tmp/ta.json" '.verification.dane.records == $a[0].verification.dane.records and .dns.mx[0].tlsa.name == $a[0].dns.mx[0].tlsa.name' "$tmp/taload.json" > /dev/null 2>&1; then
    ok "load: the per-record DANE facts come back"
else
    fail "load: the per-record DANE facts come back" "$(jq -c '.verification.dane' "$tmp/taload.json" 2>&1 | head -c 300)"
fi
# the console (its script mode): `set days N` is the same setting
printf 'set days 20\nshow settings\n' > "$tmp/script"
"$MXS_BIN" --batch --lab good --script "$tmp/script" > "$tmp/script.out" 2>&1
if grep -qE '^ *days +20' "$tmp/script.out"; then ok "console: set days 20"
else fail "console: set days 20" "$(grep -i days "$tmp/script.out" | head -3 | tr '\n' '|')"; fi
finish
