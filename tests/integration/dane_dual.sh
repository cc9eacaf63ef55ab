#!/bin/sh
# tests/integration/dane_dual.sh - DANE for both certificates of a dual RSA +
# ECDSA server: the RSA-only side handshake's chain is matched against the
# same TLSA records as ours (second_certificate.dane), and
# dane-second-cert-unmatched warns when ours is authenticated and the second
# is not, without changing the DANE verdict.  Real Postfix (the dualgood
# listener: good.pem RSA + ecgood.pem ECDSA, both valid) and the signed zone
# of tests/world-dns.sh ("Dual RSA + ECDSA"):
#   dane-dual      3 1 1 of both keys            -> no finding
#   dane-dual-ec   3 1 1 of the ECDSA key only   -> the warning, DANE delivered
#   dane-dual-rsa  3 1 1 of the RSA key only     -> dane-mismatch (ours), the
#                                                   second matches and it says so
#   dane-cname3    2 0 1 of the intermediate (mx2) -> DANE-TA, both match
# Then every view: report, transcript, JSON and text saved and loaded back.
. "$(dirname "$0")/../lib.sh"
need jq
need openssl
world_env
tmp=$(mktemp -d /tmp/mxscope-danedual.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
[ -n "${MXS_DNS_RESOLVER:-}" ] || { fail "test world DNS" "MXS_DNS_RESOLVER not set"; finish; }
[ -n "${MXS_PORT_DUALGOOD:-}" ] || { fail "test world" "no dualgood listener"; finish; }

. "$(dirname "$0")/../dane.inc"   # dane expect f
dane_v='[.verdict[] | select(.policy == "dane")][0]'
fp256() { openssl x509 -in "$MXS_CERTDIR/$1.crt" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g'; }
spki() { openssl x509 -in "$MXS_CERTDIR/$1.crt" -noout -pubkey | openssl pkey -pubin -outform DER |
         openssl dgst -sha256 -r | cut -c1-64 | tr a-f A-F; }
rsa256=$(fp256 good); ec256=$(fp256 ecgood); rsa_spki=$(spki good); ec_spki=$(spki ecgood)

# --- (a) both keys published: each chain authenticated, no finding -----------
dane both DUALGOOD dane-dual.example.test
expect both '.chain[0].key_type == "EC" and .second_certificate.leaf.key_type == "RSA"'
# the world's dualgood: both leaves valid, alike (same names, same CA)
expect both "$(f cert-dual-differs) == [] and .second_certificate.leaf.days_left > 0 and .chain[0].days_left > 0"
expect both "$dane_v.outcome == \"delivered-encrypted\""
expect both '.second_certificate.dane.match == true and ([.second_certificate.dane.records[] | .authenticates] | sort) == [false, true]'
expect both '([.verification.dane.records[] | .authenticates] | sort) == [false, true]'
# the record that authenticates the second chain is the RSA key's, ours the ECDSA key's
expect both ".dns.mx[0].tlsa.records[.second_certificate.dane.match_record].data == \"$rsa_spki\""
expect both ".dns.mx[0].tlsa.records[.verification.dane.match_record].data == \"$ec_spki\""
expect both "$(f dane-second-cert-unmatched) == [] and $(f dane-mismatch) == []"

# --- (b) only the ECDSA key: the warning, the DANE verdict unchanged ----------
dane ec DUALGOOD dane-dual-ec.example.test
expect ec "$dane_v | .outcome == \"delivered-encrypted\" and .finding == null"
expect ec '.verification.dane.match == true and .second_certificate.dane.match == false and .second_certificate.dane.match_record == null'
expect ec '.second_certificate.dane.records == [{"record": 0, "usable": true, "match_depth": null, "authenticates": false, "why": "matches none of the certificates sent"}]'
expect ec "$(f dane-second-cert-unmatched) | length == 1 and .[0].severity == \"warning\" and .[0].step == \"CHAIN\" and .[0].cert_depth == 0 and .[0].tlsrpt_result_type == null"
expect ec "$(f dane-second-cert-unmatched)[0].message | test(\"^The RSA certificate that dx9.example.test gives senders that offer only RSA signatures matches no TLSA record: DANE senders that negotiate it \\\\(those whose TLS offers no ECDSA\\\\) will defer mail\")"
expect ec "$(f dane-second-cert-unmatched)[0].evidence | contains(\"SHA-256 $rsa256\") and contains(\"SHA-256 $ec256\") and contains(\"TLSA 3 1 1 $ec_spki: ECDSA chain matches certificate 0, authenticates; RSA chain matches none of the certificates sent\")"
expect ec "$(f dane-second-cert-unmatched)[0].advice | contains(\"3 1 1 $rsa_spki\")"
expect ec "$(f dane-mismatch) == []"

# --- (c) only the RSA key: ours fails DANE as before, the second matches ------
dane rsa DUALGOOD dane-dual-rsa.example.test
expect rsa "$dane_v | .outcome == \"not-delivered\" and .finding == \"dane-mismatch\""
expect rsa '.verification.dane.match == false and .second_certificate.dane.match == true and .second_certificate.dane.records[0].match_depth == 0'
expect rsa "$(f dane-mismatch) | length == 1 and .[0].severity == \"error\""
expect rsa "$(f dane-mismatch)[0].message | test(\"Its second certificate \\\\(RSA, which senders that offer only RSA get\\\\) matches TLSA record 0: DANE senders that negotiate it deliver\")"
expect rsa "$(f dane-mismatch)[0].evidence | contains(\"RSA chain matches certificate 0, authenticates\")"
expect rsa "$(f dane-second-cert-unmatched) == []"

# --- DANE-TA: mx2's 2 0 1 of the intermediate issues both leaves ------------
dane ta DUALGOOD dane-cname3.example.test
expect ta '.second_certificate.dane.records[0] | .match_depth == 1 and .authenticates == true'
expect ta "$dane_v.outcome == \"delivered-encrypted\" and $(f dane-second-cert-unmatched) == []"

# --- nothing to compare: no second certificate, or --dual-cert off -----------
dane single GOOD dane-dual-rsa.example.test
expect single '.second_certificate.leaf == null and .second_certificate.dane == null'
dane off DUALGOOD dane-dual-ec.example.test --dual-cert off
expect off ".second_certificate == null and $(f dane-second-cert-unmatched) == []"
# a dual server with no TLSA records: no DANE facts for either chain
dane notlsa DUALGOOD mx1.example.test --tlsa-port 26
expect notlsa '.second_certificate.leaf.key_type == "RSA" and .second_certificate.dane == null'

# --- every view ---------------------------------------------------------------
if grep -q 'TLSA record 0 (3 1 1 [0-9A-F]*\.\.\.) against the second certificate: matches none of the certificates sent' "$tmp/ec.txt" &&
   grep -q 'DANE for the second certificate (RSA, RSA-only handshake): no TLSA record matches it' "$tmp/ec.txt"; then
    ok "transcript: the TLSA records against the second certificate"
else fail "transcript: the second certificate's TLSA lines" "$(grep 'second' "$tmp/ec.txt" | head -4 | tr '\n' '|')"; fi
# the text report: the second certificate's own DANE lines
eval port=\$MXS_PORT_DUALGOOD
"$MXS_BIN" --batch --resolver "$MXS_DNS_RESOLVER" --trust-anchor "$MXS_TRUST_ANCHOR" \
    --unbound-conf "$MXS_UNBOUND_CONF" --cafile "$MXS_CA" --port "$port" --tlsa-port 25 \
    --timeout 10 -4 --save "$tmp/ec.r.txt" dane-dual-ec.example.test > "$tmp/ec.report" 2>&1
if grep -q '^         2nd certificate (RSA-only handshake): CN=mx1.example.test$' "$tmp/ec.report" &&
   grep -q '^           DANE for it (senders that offer only RSA): no TLSA record matches$' "$tmp/ec.report" &&
   grep -qE '^             3 1 1 [0-9A-F]{16}\.\.\.: matches none of the certificates sent$' "$tmp/ec.report" &&
   grep -q '^  warning dane-second-cert-unmatched ' "$tmp/ec.report"; then
    ok "report: the second certificate's DANE lines and the warning"
else fail "report: the second certificate's DANE lines" "$(sed -n '/2nd certificate/,/EHLO2/p' "$tmp/ec.report" | tr '\n' '|')"; fi
# the text transcript loads back: the same report, the same text saved again
# (line 1 of a report: the start time, whole seconds in the text)
"$MXS_BIN" --batch --load "$tmp/ec.r.txt" --save "$tmp/ec.again.txt" > "$tmp/ec.load" 2>&1
sed 1d "$tmp/ec.report" > "$tmp/ec.report.n"; sed 1d "$tmp/ec.load" > "$tmp/ec.load.n"
if cmp -s "$tmp/ec.report.n" "$tmp/ec.load.n" && cmp -s "$tmp/ec.r.txt" "$tmp/ec.again.txt" &&
   grep -q '^# fact second.json {.*"dane":{"match":false' "$tmp/ec.r.txt"; then
    ok "text: saved and loaded back, the report and the text are the live ones"
else fail "text: loaded back" "$(diff "$tmp/ec.report.n" "$tmp/ec.load.n" | head -8 | tr '\n' '|') $(diff "$tmp/ec.r.txt" "$tmp/ec.again.txt" | head -4 | tr '\n' '|')"; fi
# and as JSON (the text's facts and the JSON loader's agree)
"$MXS_BIN" --batch --json --load "$tmp/ec.r.txt" > "$tmp/ec.txtload.json" 2>&1
if jq -e --slurpfile a "$tmp/ec.json" '.second_certificate.dane == $a[0].second_certificate.dane and
       ([.findings[] | select(.id == "dane-second-cert-unmatched") | .evidence] ==
        [$a[0].findings[] | select(.id == "dane-second-cert-unmatched") | .evidence])' "$tmp/ec.txtload.json" > /dev/null 2>&1; then
    ok "text: the second certificate's DANE facts and the finding's evidence come back"
else fail "text: the second certificate's DANE facts come back" "$(jq -c '.second_certificate.dane' "$tmp/ec.txtload.json" 2>&1 | head -c 300)"; fi
for n in ec rsa; do
    "$MXS_BIN" --batch --json --load "$tmp/$n.json" > "$tmp/$n.reload.json" 2> "$tmp/$n.reload.err"
    if cmp -s "$tmp/$n.json" "$tmp/$n.reload.json"; then
        ok "$n: the saved JSON loads back byte for byte"
    else fail "$n: JSON loaded back" "$(diff "$tmp/$n.json" "$tmp/$n.reload.json" | head -8 | tr '\n' '|')"; fi
done
finish
