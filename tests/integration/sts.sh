#!/bin/sh
# sts.sh - the POLICY step (MTA-STS, RFC 8461; TLS-RPT, RFC 8460) and the
# MTA-STS verdict against the test world: unbound serves CASE.sts.example.test
# (tests/world-dns.sh, sts_zone: the _mta-sts and _smtp._tls TXT records, the
# mta-sts.CASE address), nginx serves the policies (tests/world-https.sh),
# the real Postfix "good" listener (or "expired", "nostarttls") is the MX.
# For each case: the finding (id, severity, step POLICY, its evidence), the
# MTA-STS verdict, the other verdicts untouched, the exit code, and the
# transcript lines (TXT answers, the HTTP request and response head).  Also:
# a saved session with POLICY loads back (JSON and text), the POLICY step is
# skipped with its reason for --host, and the deadline bounds a slow policy.
. "$(dirname "$0")/../lib.sh"
world_env
need jq
[ -n "${MXS_HTTPS_ADDR:-}" ] || { fail "sts: world" "no MXS_HTTPS_ADDR: tests/world-https.sh did not run"; exit 1; }
[ -n "${MXS_DNS_RESOLVER:-}" ] || { fail "sts: world" "no MXS_DNS_RESOLVER: tests/world-dns.sh did not run"; exit 1; }
tmp=$(mktemp -d /tmp/mxscope-sts.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/../policy.inc"   # expect rc_is policy_step mtasts words tr_has

# sts NAME PORTNAME DOMAIN [options...] -> $tmp/NAME.json, .rc, .err
sts() {
    n=$1; p=$2; d=$3; shift 3
    eval "port=\${MXS_PORT_$p}"
    "$MXS_BIN" --batch --json --resolver "$MXS_DNS_RESOLVER" --trust-anchor "$MXS_TRUST_ANCHOR" \
        --unbound-conf "$MXS_UNBOUND_CONF" --cafile "$MXS_CA" --port "$port" -4 --timeout 10 \
        "$@" "$d" > "$tmp/$n.json" 2> "$tmp/$n.err"
    echo $? > "$tmp/$n.rc"
}
# finding NAME ID SEVERITY: exactly one, at POLICY
finding() {
    expect "$1" "[.findings[] | select(.id == \"$2\" and .step == \"POLICY\" and .severity == \"$3\")] | length == 1"
}
no_sts_findings() { # none of the POLICY findings but the ones named
    expect "$1" "[.findings[] | select(.step == \"POLICY\") | .id] - [$2] == []"
}
evidence() { expect "$1" "[.findings[] | select(.id == \"$2\") | .evidence | contains(\"$3\")] | any"; }
# The four other verdicts are those of the MX alone: a policy never moves them.
others_encrypted() {
    expect "$1" '[.verdict[] | select(.policy == "opportunistic" or .policy == "required" or .policy == "verified") | .outcome] == ["delivered-encrypted","delivered-encrypted","delivered-encrypted"]'
    expect "$1" '.result.failed_step == null'
}

# --- enforce: the policy applies, the MX is listed, the chain validates ------
sts enforce GOOD enforce.sts.example.test
rc_is enforce 0
policy_step enforce ok
no_sts_findings enforce ''
mtasts enforce delivered-encrypted - -
words enforce "MTA-STS enforce, the MX mx1.example.test is listed"
others_encrypted enforce
expect enforce '.policy.mta_sts.records == ["v=STSv1; id=20261203T1"] and .policy.mta_sts.id == "20261203T1" and .policy.mta_sts.dnssec == "secure"'
expect enforce '.policy.fetch.outcome == "ok" and .policy.fetch.status == 200 and .policy.fetch.content_type == "text/plain" and .policy.fetch.address == "'"$MXS_HTTPS_ADDR"'"'
expect enforce '.policy.policy.valid and .policy.policy.mode == "enforce" and .policy.policy.max_age == 86400 and .policy.policy.mx == ["mx1.example.test", "*.mx.example.test"]'
expect enforce '[.policy.tls_rpt.rua[] | [.kind, .uri]] == [["mailto","mailto:tlsrpt@example.test"],["https","https://tlsrpt.example.test/v1"]]'
# the exchange: the TXT answers, the request and response head
tr_has enforce dns "TXT _mta-sts.enforce.sts.example.test: 1 record"
tr_has enforce dns "TXT _smtp._tls.enforce.sts.example.test: 1 record"
tr_has enforce http-out "GET /.well-known/mta-sts.txt HTTP/1.1"
tr_has enforce http-out "Host: mta-sts.enforce.sts.example.test"
tr_has enforce http-in "HTTP/1.1 200 OK"
tr_has enforce note "policy: mode enforce, 2 mx patterns, max_age 86400"
# POLICY runs right after RESOLVE, before CONNECT
expect enforce '[.transcript[] | select(.kind == "step" and (.text | test(" started"))) | .step][0:3] == ["RESOLVE", "POLICY", "CONNECT"]'

# --- enforce, the MX's certificate fails: not delivered at CHAIN -----------
sts enfexp EXPIRED enforce.sts.example.test
mtasts enfexp not-delivered CHAIN cert-expired
words enfexp "MTA-STS enforce requires TLS 1.2+ and a certificate that validates (PKIX) for mx1.example.test"
expect enfexp '[.verdict[] | select(.policy == "opportunistic") | .outcome] == ["delivered-encrypted"]'
# --- enforce, no STARTTLS: not delivered at STARTTLS --------------------------
sts enfnotls NOSTARTTLS enforce.sts.example.test
mtasts enfnotls not-delivered STARTTLS starttls-not-offered
expect enfnotls '[.verdict[] | select(.policy == "opportunistic") | .outcome] == ["delivered-clear"]'

# --- DANE + MTA-STS: the TLSA of _25._tcp.mx1 applies, DANE takes precedence -
sts dane GOOD enforce.sts.example.test --tlsa-port 25
mtasts dane delivered-encrypted - -
words dane "DANE takes precedence over MTA-STS (RFC 8461 section 2)"
expect dane '[.verdict[] | select(.policy == "dane") | .outcome] == ["delivered-encrypted"]'

# --- testing ------------------------------------------------------------------
sts testing GOOD testing.sts.example.test
rc_is testing 0
finding testing sts-testing info
mtasts testing delivered-encrypted - -
words testing "MTA-STS mode testing (enforce would deliver too)"
expect testing '[.policy.tls_rpt.rua[] | .kind] == ["mailto"]'
sts testexp EXPIRED testing.sts.example.test
finding testexp sts-testing warning
expect testexp '[.findings[] | select(.id == "sts-testing") | .message | contains("would be refused under enforce at CHAIN (cert-expired)")] | any'
mtasts testexp delivered-encrypted - -
words testexp "would be refused under enforce at CHAIN (cert-expired); reported only"

# --- none ---------------------------------------------------------------------
sts none GOOD none.sts.example.test
no_sts_findings none ''
mtasts none delivered-encrypted - -
words none "no MTA-STS policy applies (mode none)"

# --- the MX not covered -----------------------------------------------------
sts notcovered GOOD notcovered.sts.example.test
rc_is notcovered 19   # every step passed, but MTA-STS senders refuse the MX
policy_step notcovered warn
finding notcovered sts-mx-not-covered error
evidence notcovered sts-mx-not-covered "mx patterns: other.example.net"
expect notcovered '[.findings[] | select(.id == "sts-mx-not-covered") | .tlsrpt_result_type] == ["validation-failure"]'
mtasts notcovered not-delivered POLICY sts-mx-not-covered
others_encrypted notcovered

# --- the policy file ------------------------------------------------------------
sts malformed GOOD malformed.sts.example.test
rc_is malformed 4
finding malformed sts-policy-invalid error
evidence malformed sts-policy-invalid 'line 3: not a \"key: value\" line (fatal): \"this is not a field\"'
evidence malformed sts-policy-invalid "line 5:"
evidence malformed sts-policy-invalid "line 6:"
expect malformed '[.findings[] | select(.id == "sts-policy-invalid") | .tlsrpt_result_type] == ["sts-policy-invalid"]'
mtasts malformed delivered-encrypted - -
words malformed "no MTA-STS policy applies (the policy is invalid (sts-policy-invalid))"
others_encrypted malformed
sts crlf GOOD crlf.sts.example.test
finding crlf tlsrpt-missing info
no_sts_findings crlf '"tlsrpt-missing"'
expect crlf '.policy.policy.valid and .policy.policy.mode == "enforce" and .policy.tls_rpt.rcode == "nxdomain"'
mtasts crlf delivered-encrypted - -

# --- the fetch ------------------------------------------------------------------
fetchfail() { # NAME ID EVIDENCE TLSRPT-TYPE
    finding "$1" "$2" error
    evidence "$1" "$2" "$3"
    expect "$1" "[.findings[] | select(.id == \"$2\") | .tlsrpt_result_type] == [\"$4\"]"
    mtasts "$1" delivered-encrypted - -
    words "$1" "a sender without a cached policy"
    others_encrypted "$1"
    policy_step "$1" warn
    rc_is "$1" 4
}
sts notfound GOOD notfound.sts.example.test
fetchfail notfound sts-policy-fetch "status: HTTP/1.1 404 Not Found" sts-policy-fetch-error
tr_has notfound http-in "HTTP/1.1 404 Not Found"
sts redirect GOOD redirect.sts.example.test
fetchfail redirect sts-policy-redirect "Location: https://mta-sts.enforce.sts.example.test/.well-known/mta-sts.txt" sts-policy-fetch-error
sts html GOOD html.sts.example.test
fetchfail html sts-policy-fetch "content type: text/html" sts-policy-fetch-error
evidence html sts-policy-fetch 'first bytes: \"<html><body>mta-sts</body></html>'
sts big GOOD big.sts.example.test
fetchfail big sts-policy-fetch "over the 65536 bytes allowed" sts-policy-fetch-error
t0=$(date +%s%N)
sts slow GOOD slow.sts.example.test --timeout-policy 2
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
fetchfail slow sts-policy-fetch ": timeout" sts-policy-fetch-error
if [ "$ms" -lt 6000 ]; then ok "slow: the POLICY deadline bounds the fetch (${ms} ms for 2 s)"; else fail "slow: deadline" "${ms} ms"; fi
for k in expired wrongname untrusted; do
    sts $k GOOD $k.sts.example.test
done
fetchfail expired sts-webpki-invalid "certificate has expired" sts-webpki-invalid
fetchfail wrongname sts-webpki-invalid "mta-sts.wrongname.sts.example.test" sts-webpki-invalid
fetchfail untrusted sts-webpki-invalid "self-signed certificate" sts-webpki-invalid
evidence expired sts-webpki-invalid "certificate verify result 10 (OpenSSL X509_V_ERR)"
sts nohost GOOD nohost.sts.example.test
fetchfail nohost sts-policy-fetch "no address (A NXDOMAIN" sts-policy-fetch-error

# --- the TXT records ------------------------------------------------------------
sts nosts GOOD nosts.sts.example.test
rc_is nosts 0
policy_step nosts ok
finding nosts sts-txt-missing info
no_sts_findings nosts '"sts-txt-missing"'
mtasts nosts delivered-encrypted - -
words nosts "no MTA-STS policy applies (no _mta-sts record)"
expect nosts '.policy.fetch == null and .policy.mta_sts.rcode == "nxdomain"'
sts twotxt GOOD twotxt.sts.example.test
rc_is twotxt 4
finding twotxt sts-txt-multiple warning
evidence twotxt sts-txt-multiple '\"v=STSv1; id=first1\"'
evidence twotxt sts-txt-multiple '\"v=STSv1; id=second2\"'
expect twotxt '.policy.fetch == null'
words twotxt "several v=STSv1 records (sts-txt-multiple)"
sts badtxt GOOD badtxt.sts.example.test
finding badtxt sts-txt-invalid warning
evidence badtxt sts-txt-invalid '\"v=STSv1; id=not-valid!\"'
words badtxt "the record is invalid (sts-txt-invalid)"
sts badrpt GOOD badrpt.sts.example.test
finding badrpt tlsrpt-invalid warning
evidence badrpt tlsrpt-invalid "rua=ftp://tlsrpt.example.test/"
finding badrpt sts-txt-missing info

# --- a host, not a domain: POLICY skipped, the verdict says why ---------------
"$MXS_BIN" --batch --json --host mx1.example.test --connect "127.0.0.1:$MXS_PORT_GOOD" --cafile "$MXS_CA" \
    > "$tmp/host.json" 2> "$tmp/host.err"
policy_step host skipped
expect host '.policy == null and ([.findings[] | select(.step == "POLICY")] | length == 0)'
mtasts host not-evaluated POLICY -
words host "POLICY was skipped"

# --- the survey (--all): the policy read once, every node judged by it --------
eval "port=\${MXS_PORT_GOOD}"
"$MXS_BIN" --batch --json --all -4 --resolver "$MXS_DNS_RESOLVER" --trust-anchor "$MXS_TRUST_ANCHOR" \
    --unbound-conf "$MXS_UNBOUND_CONF" --cafile "$MXS_CA" --port "$port" notcovered.sts.example.test \
    > "$tmp/all.json" 2> "$tmp/all.err"
expect all '[.dns.steps[] | select(.step == "POLICY") | .status] == ["warn"]'
expect all '[.probes[] | [.verdict[] | select(.policy == "mta-sts") | .outcome, .step, .finding]] == [["not-delivered", "POLICY", "sts-mx-not-covered"]]'
expect all '[.probes[] | .policy.policy.mx] == [["other.example.net"]]'

# --- saved and loaded back: JSON and the text transcript -------------------------
"$MXS_BIN" --batch --load "$tmp/malformed.json" --json > "$tmp/reload.json" 2> "$tmp/reload.err"
expect reload '.policy.policy.problems | length == 3'
expect reload '[.steps[] | select(.step == "POLICY") | .status] == ["warn"]'
expect reload '[.verdict[] | select(.policy == "mta-sts") | .outcome] == ["delivered-encrypted"]'
expect reload '[.findings[] | select(.id == "sts-policy-invalid")] | length == 1'
# a hostile saved file: control bytes in the policy facts never reach the output raw
jq '.policy.policy.mx[0] = "\u001b[31mevil" | .policy.fetch.address = "\u001b]0;x\u0007" |
    .policy.mta_sts.records[0] = "v=STSv1; \u001b[2J"' "$tmp/malformed.json" > "$tmp/evil.json"
"$MXS_BIN" --batch --load "$tmp/evil.json" > "$tmp/evil.txt" 2>&1
if ! grep -q "$(printf '\033')" "$tmp/evil.txt" && grep -q 'mx: \\x1B\[31mevil' "$tmp/evil.txt"; then
    ok "hostile saved policy: escaped in the report"
else fail "hostile saved policy: escaped in the report" "$(grep -a 'mx:\|GET' "$tmp/evil.txt" | head -3)"; fi
eval "port=\${MXS_PORT_GOOD}"
"$MXS_BIN" --batch --resolver "$MXS_DNS_RESOLVER" --trust-anchor "$MXS_TRUST_ANCHOR" \
    --unbound-conf "$MXS_UNBOUND_CONF" --cafile "$MXS_CA" --port "$port" -4 \
    --save "$tmp/nc.txt" notcovered.sts.example.test > "$tmp/nc.report" 2>&1
if grep -q '^+ *[0-9.]*s POLICY *H> GET /.well-known/mta-sts.txt HTTP/1.1' "$tmp/nc.txt"; then
    ok "text transcript: H> request line"; else fail "text transcript: H> request line" "$(grep POLICY "$tmp/nc.txt" | head -5)"; fi
if grep -q '^+ *[0-9.]*s POLICY *H< HTTP/1.1 200 OK' "$tmp/nc.txt"; then
    ok "text transcript: H< status line"; else fail "text transcript: H< status line" "$(grep POLICY "$tmp/nc.txt" | head -5)"; fi
if grep -q 'POLICY.*MTA-STS mode enforce' "$tmp/nc.report" && grep -q 'policy: mode enforce, max_age 86400, mx: other.example.net' "$tmp/nc.report"; then
    ok "report: the POLICY step and the policy"; else fail "report: the POLICY step" "$(head -c 400 "$tmp/nc.report")"; fi
if grep -q '^  mta-sts  *not-delivered  *at POLICY (sts-mx-not-covered)' "$tmp/nc.report"; then
    ok "report: the MTA-STS verdict line"; else fail "report: the MTA-STS verdict line" "$(grep -A1 mta-sts "$tmp/nc.report" | head -4)"; fi
"$MXS_BIN" --batch --load "$tmp/nc.txt" --json > "$tmp/ncload.json" 2> "$tmp/ncload.err"
expect ncload '[.steps[] | select(.step == "POLICY") | .status] == ["warn"]'
expect ncload '[.verdict[] | select(.policy == "mta-sts") | [.outcome, .step, .finding]] == [["not-delivered", "POLICY", "sts-mx-not-covered"]]'
expect ncload '[.transcript[] | select(.kind == "http-out")] | length >= 2'
# The wildcard against real MX hosts (RFC 8461 4.1): "*.mx.example.test" covers
# a.mx.example.test (one label), not b.a.mx.example.test nor mx.example.test.
"$MXS_BIN" --batch --json --all -4 --resolver "$MXS_DNS_RESOLVER" --trust-anchor "$MXS_TRUST_ANCHOR" \
    --unbound-conf "$MXS_UNBOUND_CONF" --cafile "$MXS_CA" --port "$port" --timeout 10 \
    wild.sts.example.test > "$tmp/wild.json" 2> "$tmp/wild.err"
# Each probe judges its own MX (the verdict); the findings name every MX of
# the domain the policy does not cover.
expect wild '[.probes[] | {h: .dns.mx[.connect.mx].host,
              v: ([.verdict[] | select(.policy == "mta-sts") | .step][0])}] | sort_by(.h) ==
             [{h: "a.mx.example.test", v: "CHAIN"}, {h: "b.a.mx.example.test", v: "POLICY"},
              {h: "mx.example.test", v: "POLICY"}]'
expect wild '[.probes[0].findings[] | select(.id == "sts-mx-not-covered") | .message | capture("The MX (?<h>[^ ]+) ").h] | sort ==
             ["b.a.mx.example.test", "mx.example.test"]'
finish
