#!/bin/sh
# tests/integration/findings.sh - every finding id against a server that
# really shows the problem, with its step, severity, key evidence and the
# four verdict lines (opportunistic, required, verified, dane).
# Owner: findings coverage (this file and docs/findings.md).
#
# Servers used, all on loopback or inside a private network namespace:
#   1. the built-in lab (`mxscope --lab SCENARIO`), every scenario;
#   2. the "Postfix twin": the same problem staged by the test world's real
#      Postfix (tests/world-postfix.sh), where Postfix can stage it;
#   3. the world's real unbound for the RESOLVE findings; a closed loopback
#      port, a listener with a full accept queue (SYNs dropped) and a private
#      network namespace without routes for the CONNECT findings;
#   4. the hostile fixture (tests/fixtures/scriptsrv with a scenario from
#      tests/hostile/scenarios) for the SMTP/TLS failures neither the lab nor
#      Postfix can stage (silence, resets, garbage, rejections after TLS).
# Expected verdicts follow core/diag.h and what an MTA really does; see
# docs/findings.md.  Nothing here is weakened to match the client: a failing
# line here is a client bug to fix (or a world that did not come up).
. "$(dirname "$0")/../lib.sh"
need jq
need ss
world_env
tmp=$(mktemp -d /tmp/mxscope-findings.XXXXXX)
ns=""
bgpid=""
cleanup() {
    [ -n "${MXS_FINDINGS_KEEP:-}" ] && { echo "# kept $tmp"; tmp=/nonexistent; }
    [ -n "$bgpid" ] && kill "$bgpid" 2>/dev/null
    [ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

# ---- helpers ----------------------------------------------------------------
# Every probe writes $tmp/NAME.json and $tmp/NAME.rc.
lab() { # NAME SCENARIO [args...]
    n=$1; s=$2; shift 2
    "$MXS_BIN" --batch --json --lab "$s" --timeout 15 "$@" > "$tmp/$n.json" 2> "$tmp/$n.err"
    echo $? > "$tmp/$n.rc"
}
pf() { # NAME PORTVAR [args...]: the world's Postfix, as tests/integration/probe.sh
    n=$1; pv=$2; shift 2
    eval port=\$MXS_PORT_$pv
    "$MXS_BIN" --batch --json --host mx1.example.test --connect "127.0.0.1:$port" \
        --cafile "$MXS_CA" --timeout 10 "$@" > "$tmp/$n.json" 2> "$tmp/$n.err"
    echo $? > "$tmp/$n.rc"
}
dnsq() { # NAME [args...] DOMAIN: the world's unbound, DNSSEC validated
    n=$1; shift
    "$MXS_BIN" --batch --json --resolver "$MXS_DNS_RESOLVER" --trust-anchor "$MXS_TRUST_ANCHOR" \
        --unbound-conf "$MXS_UNBOUND_CONF" --cafile "$MXS_CA" --port "$MXS_PORT_GOOD" \
        --timeout 10 "$@" > "$tmp/$n.json" 2> "$tmp/$n.err"
    echo $? > "$tmp/$n.rc"
}
SRV=$MXS_BUILD/fixtures/scriptsrv
hostile() { # NAME SCENARIO|PATH [args...]: scriptsrv plays tests/hostile/scenarios/SCENARIO.scn
    n=$1; s=$2; shift 2
    rm -f "$tmp/$n.port"
    case $s in */*) scn=$s ;; *) scn=tests/hostile/scenarios/$s.scn ;; esac
    "$SRV" "$scn" --port-file "$tmp/$n.port" --ca-file "$tmp/$n.ca" \
        --lifetime 30 > /dev/null 2> "$tmp/$n.srv" &
    sp=$!
    i=0
    while [ ! -s "$tmp/$n.port" ] && [ $i -lt 200 ] && kill -0 $sp 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
    if [ ! -s "$tmp/$n.port" ]; then
        echo '{}' > "$tmp/$n.json"; echo 99 > "$tmp/$n.rc"
        fail "$n: scriptsrv started" "$(head -c 200 "$tmp/$n.srv")"; kill $sp 2>/dev/null; return
    fi
    timeout 20 "$MXS_BIN" --batch --json --host mx.hostile.test --connect "127.0.0.1:$(cat "$tmp/$n.port")" \
        --cafile "$tmp/$n.ca" --timeout 5 "$@" > "$tmp/$n.json" 2> "$tmp/$n.err" < /dev/null
    echo $? > "$tmp/$n.rc"
    kill $sp 2>/dev/null; wait $sp 2>/dev/null
}

# expect NAME LABEL JQ-EXPR [--arg k v ...]: the expression must be true.
expect() {
    n=$1; l=$2; e=$3; shift 3
    if jq -e "$@" "$e" "$tmp/$n.json" > /dev/null 2>&1; then ok "$n: $l"
    else fail "$n: $l" "$e -> $(jq -c '{findings: [.findings[]? | [.id, .severity, .step, .cert_depth]], verdict: [.verdict[]? | [.policy, .outcome, .step, .finding]]}' "$tmp/$n.json" 2>&1 | head -c 600)"; fi
}
rc_is() {
    r=$(cat "$tmp/$1.rc")
    if [ "$r" = "$2" ]; then ok "$1: exit $2"; else fail "$1: exit $2" "exit $r: $(head -c 200 "$tmp/$1.err")"; fi
}
# finding NAME ID STEP SEVERITY [DEPTH]: the finding is there, as filed.
finding() {
    if [ -n "${5:-}" ]; then
        expect "$1" "finding $2 ($4, $3, cert $5)" \
            '[.findings[] | select(.id == $id and .step == $st and .severity == $sv and .cert_depth == ($d | tonumber))] | length >= 1' \
            --arg id "$2" --arg st "$3" --arg sv "$4" --arg d "$5"
    else
        expect "$1" "finding $2 ($4, $3)" \
            '[.findings[] | select(.id == $id and .step == $st and .severity == $sv)] | length >= 1' \
            --arg id "$2" --arg st "$3" --arg sv "$4"
    fi
}
# evidence NAME ID TEXT: TEXT (fixed string) is in that finding's evidence.
evidence() {
    expect "$1" "$2 evidence has '$3'" \
        '[.findings[] | select(.id == $id) | .evidence | contains($t)] | any' --arg id "$2" --arg t "$3"
}
evidence_re() {
    expect "$1" "$2 evidence matches /$3/" \
        '[.findings[] | select(.id == $id) | .evidence | test($t)] | any' --arg id "$2" --arg t "$3"
}
# verdict NAME POLICY OUTCOME STEP FINDING ("-" for null)
verdict() {
    expect "$1" "verdict $2: $3 ${4#-} ${5#-}" \
        '[.verdict[] | select(.policy == $p)] | length == 1 and (.[0].outcome == $o) and
         (.[0].step == (if $s == "-" then null else $s end)) and
         (.[0].finding == (if $f == "-" then null else $f end))' \
        --arg p "$2" --arg o "$3" --arg s "$4" --arg f "$5"
}
# Every document: the verdict's finding is a finding of that step, and no
# error finding may sit behind a "delivered-encrypted" verified verdict.
coherent() {
    expect "$1" "verdicts name findings that exist at their step" \
        '. as $doc | [.verdict[] | select(.finding != null) | . as $v |
          [$doc.findings[] | select(.id == $v.finding and .step == $v.step)] | length >= 1] | all'
    # fingerprint-mismatch is the operator's own check: an error that blocks
    # no sender, so it may stand beside a delivered verdict.
    expect "$1" "verified delivered-encrypted only without error findings that block senders" \
        '([.verdict[] | select(.policy == "verified" and .outcome == "delivered-encrypted")] | length == 0)
         or ([.findings[] | select(.severity == "error" and .id != "fingerprint-mismatch")] | length == 0)'
}
no_errors() { expect "$1" "no error findings" '[.findings[] | select(.severity == "error")] | length == 0'; }
no_findings() { expect "$1" "no findings at all" '(.findings | length) == 0'; }

# Verdict patterns (a DANE verdict is not-evaluated without secure TLSA
# records, which no --host / --lab run looks up).
v_all_encrypted() {
    verdict "$1" opportunistic delivered-encrypted - -; verdict "$1" required delivered-encrypted - -
    verdict "$1" verified delivered-encrypted - -; verdict "$1" dane not-evaluated - -
}
v_verify_fails() { # NAME ID: TLS works, verification fails at CHAIN
    verdict "$1" opportunistic delivered-encrypted - -; verdict "$1" required delivered-encrypted - -
    verdict "$1" verified not-delivered CHAIN "$2"; verdict "$1" dane not-evaluated - -
}
v_tls_lost() { # NAME STEP ID: opportunistic senders fall back to clear text
    verdict "$1" opportunistic delivered-clear "$2" "$3"; verdict "$1" required not-delivered "$2" "$3"
    verdict "$1" verified not-delivered "$2" "$3"; verdict "$1" dane not-evaluated - -
}
v_blocked() { # NAME STEP ID: nobody delivers
    verdict "$1" opportunistic not-delivered "$2" "$3"; verdict "$1" required not-delivered "$2" "$3"
    verdict "$1" verified not-delivered "$2" "$3"; verdict "$1" dane not-evaluated - -
}
# The leaf's (or DEPTH's) thumbprint is quoted in the finding's evidence.
thumb_in_evidence() { # NAME ID DEPTH
    expect "$1" "$2 evidence has the SHA-1 thumbprint of certificate $3" \
        '(.chain[$d | tonumber].sha1) as $t | ($t | length) == 40 and
         ([.findings[] | select(.id == $id) | .evidence | contains($t)] | any)' --arg id "$2" --arg d "$3"
}

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1

# ======================================================================
# 1. The lab: every scenario
# ======================================================================
known="good expired expiring-soon not-yet-valid wrong-name self-signed untrusted-root
missing-intermediate chain-order weak-key weak-signature not-server-auth no-starttls
starttls-refused plaintext-after-starttls tls12-only tls13-only tls10-only
client-cert-required banner-rejected banner-throttled slow-banner masked-ehlo
fingerprint-after-renewal
sts-enforce sts-mx-not-covered sts-testing sts-no-tlsrpt sts-policy-404 sts-webpki-invalid"
# (the sts-* scenarios, a mail domain with its policy host, are asserted in
# tests/integration/lab_sts.sh)
"$MXS_BIN" --lab --list > "$tmp/list" 2>&1
missing=""
for s in $(awk '{print $1}' "$tmp/list"); do
    case " $(echo $known) " in *" $s "*) ;; *) missing="$missing $s" ;; esac
done
if [ -z "$missing" ] && [ "$(awk '{print $1}' "$tmp/list" | wc -l)" -eq "$(echo $known | wc -w)" ]; then
    ok "lab: every scenario of --lab --list is asserted here"
else fail "lab: every scenario of --lab --list is asserted here" "not covered:$missing; list: $(head -c 200 "$tmp/list")"; fi

lab good good
rc_is good 0; no_findings good; v_all_encrypted good; coherent good
for s in tls12-only tls13-only; do
    lab "$s" "$s"; rc_is "$s" 0; no_findings "$s"; v_all_encrypted "$s"; coherent "$s"
done
expect tls12-only "TLS 1.2 negotiated" '.tls.version == "TLSv1.2"'
expect tls13-only "TLS 1.3 negotiated" '.tls.version == "TLSv1.3"'
# The same server with the sender's range outside its own: no common
# version.  (tls12-only with --tls-min 1.3 is not used: the lab's mbedTLS
# server answers a 1.3-only ClientHello with handshake_failure, not
# protocol_version, so nothing on the wire says "version"; the Postfix twin
# below answers protocol_version, as OpenSSL does.)
lab tls13-only-max12 tls13-only --tls-max 1.2
finding tls13-only-max12 tls-no-common-version HANDSHAKE error
evidence tls13-only-max12 tls-no-common-version protocol_version
v_tls_lost tls13-only-max12 HANDSHAKE tls-no-common-version; coherent tls13-only-max12

# Certificate problems: TLS works, only verifying senders stop.
# cert_case NAME ID DEPTH FACT
cert_case() {
    rc_is "$1" 16; finding "$1" "$2" CHAIN error "$3"; thumb_in_evidence "$1" "$2" "$3"
    evidence "$1" "$2" "$4"; v_verify_fails "$1" "$2"; coherent "$1"
}
lab expired expired;              cert_case expired cert-expired 0 "not after"
expect expired "leaf days_left < 0" '.chain[0].days_left < 0'
lab not-yet-valid not-yet-valid;  cert_case not-yet-valid cert-not-yet-valid 0 "not before"
lab wrong-name wrong-name;        cert_case wrong-name cert-name-mismatch 0 "other.example.net"
evidence wrong-name cert-name-mismatch "checked against mx.lab.mxscope.test"
lab self-signed self-signed;      cert_case self-signed cert-self-signed 0 "subject == issuer"
lab untrusted-root untrusted-root; cert_case untrusted-root cert-untrusted-root 1 "not in the trust store"
lab missing-intermediate missing-intermediate; cert_case missing-intermediate chain-incomplete 0 "1 certificate sent"
lab weak-key weak-key;            cert_case weak-key cert-weak-key 0 "RSA 1024"
lab weak-signature weak-signature; cert_case weak-signature cert-weak-signature 0 "SHA-1"
lab not-server-auth not-server-auth; cert_case not-server-auth cert-not-server-auth 0 "clientAuth"

# Warnings: everyone still delivers, verified included.
lab expiring-soon expiring-soon
rc_is expiring-soon 4; finding expiring-soon cert-expiring-soon CHAIN warning 0
thumb_in_evidence expiring-soon cert-expiring-soon 0; evidence_re expiring-soon cert-expiring-soon '1[01] days left'
no_errors expiring-soon; v_all_encrypted expiring-soon; coherent expiring-soon
lab chain-order chain-order
rc_is chain-order 4; finding chain-order chain-order CHAIN warning 1
evidence chain-order chain-order "path built (positions as sent, leaf first): 0, 2, 1"
no_errors chain-order; v_all_encrypted chain-order; coherent chain-order

# The old certificate after a renewal: both thumbprints in the evidence.
lab fingerprint-after-renewal fingerprint-after-renewal
rc_is fingerprint-after-renewal 16
finding fingerprint-after-renewal fingerprint-mismatch CHAIN error 0
expect fingerprint-after-renewal "expected and served thumbprints differ, both in the evidence" \
    '.verification.expected_fingerprint as $e | .chain[0].sha1 as $s |
     ($e | test("^[0-9A-F]{40}$")) and ($s | test("^[0-9A-F]{40}$")) and $e != $s and
     ([.findings[] | select(.id == "fingerprint-mismatch") | .evidence | contains($e) and contains($s)] | any)'
# A PKIX sender delivers to the old, valid certificate: the expected
# thumbprint is our check, not a sender's policy (exit 16 all the same).
v_all_encrypted fingerprint-after-renewal; coherent fingerprint-after-renewal

# STARTTLS problems: opportunistic senders go in clear, the others wait.
lab no-starttls no-starttls
rc_is no-starttls 14; finding no-starttls starttls-not-offered STARTTLS error
evidence no-starttls starttls-not-offered "502"
v_tls_lost no-starttls STARTTLS starttls-not-offered; coherent no-starttls
lab starttls-refused starttls-refused
rc_is starttls-refused 14; finding starttls-refused starttls-refused STARTTLS error
evidence starttls-refused starttls-refused "454 4.7.0"
v_tls_lost starttls-refused STARTTLS starttls-refused; coherent starttls-refused
# Injected plaintext is discarded (as Postfix does): TLS goes on, a warning.
lab plaintext-after-starttls plaintext-after-starttls
rc_is plaintext-after-starttls 4
finding plaintext-after-starttls starttls-plaintext-leftover STARTTLS warning
expect plaintext-after-starttls "leftover byte count in the evidence" \
    '(.smtp.starttls.leftover_bytes | tostring) as $b | .smtp.starttls.leftover_bytes > 0 and
     ([.findings[] | select(.id == "starttls-plaintext-leftover") | .evidence | startswith($b + " plaintext bytes")] | any)'
no_errors plaintext-after-starttls; v_all_encrypted plaintext-after-starttls; coherent plaintext-after-starttls
# A firewall masking EHLO: TLS is lost at EHLO, and the verdict must name the
# firewall (ehlo-masked), not tell the admin to enable STARTTLS on an MTA
# that has it (starttls-not-offered's advice).
lab masked-ehlo masked-ehlo
rc_is masked-ehlo 14; finding masked-ehlo ehlo-masked EHLO error
evidence masked-ehlo ehlo-masked "XXXXXXXA"
v_tls_lost masked-ehlo EHLO ehlo-masked; coherent masked-ehlo

# Handshake problems: opportunistic senders retry in clear (Postfix "may").
lab tls10-only tls10-only
rc_is tls10-only 15; finding tls10-only tls-obsolete-only HANDSHAKE error
evidence tls10-only tls-obsolete-only "protocol_version"; evidence tls10-only tls-obsolete-only "TLS 1.0"
v_tls_lost tls10-only HANDSHAKE tls-obsolete-only; coherent tls10-only
lab client-cert-required client-cert-required
rc_is client-cert-required 15; finding client-cert-required tls-client-cert-required HANDSHAKE error
evidence client-cert-required tls-client-cert-required "handshake_failure"
evidence client-cert-required tls-client-cert-required "CertificateRequest"
v_tls_lost client-cert-required HANDSHAKE tls-client-cert-required; coherent client-cert-required

# Banner problems: nobody gets past the greeting.
lab banner-rejected banner-rejected
rc_is banner-rejected 12; finding banner-rejected banner-rejected BANNER error
evidence banner-rejected banner-rejected "554 5.7.1"
v_blocked banner-rejected BANNER banner-rejected; coherent banner-rejected
lab banner-throttled banner-throttled
rc_is banner-throttled 12; finding banner-throttled banner-throttled BANNER error
evidence banner-throttled banner-throttled "421 4.7.0"
v_blocked banner-throttled BANNER banner-throttled; coherent banner-throttled
lab slow-banner slow-banner
rc_is slow-banner 4; finding slow-banner banner-slow BANNER warning
evidence_re slow-banner banner-slow 'greeting after [5-9]\.[0-9] s'
no_errors slow-banner; v_all_encrypted slow-banner; coherent slow-banner
# ...and a sender whose greeting deadline is shorter than the server's delay.
lab slow-banner-2s slow-banner --timeout-banner 2
rc_is slow-banner-2s 12; finding slow-banner-2s banner-timeout BANNER error
evidence slow-banner-2s banner-timeout "2.0 s"
v_blocked slow-banner-2s BANNER banner-timeout; coherent slow-banner-2s

# ======================================================================
# 2. The Postfix twins
# ======================================================================
pf pf-good GOOD
rc_is pf-good 0; no_findings pf-good; v_all_encrypted pf-good; coherent pf-good
pf pf-tls12 TLS12
rc_is pf-tls12 0; no_findings pf-tls12; v_all_encrypted pf-tls12; coherent pf-tls12
pf pf-tls12-min13 TLS12 --tls-min 1.3
rc_is pf-tls12-min13 15; finding pf-tls12-min13 tls-no-common-version HANDSHAKE error
evidence pf-tls12-min13 tls-no-common-version "protocol_version"
v_tls_lost pf-tls12-min13 HANDSHAKE tls-no-common-version; coherent pf-tls12-min13

pf pf-expired EXPIRED;         cert_case pf-expired cert-expired 0 "not after"
pf pf-notyet NOTYET;           cert_case pf-notyet cert-not-yet-valid 0 "not before"
pf pf-wrongname WRONGNAME;     cert_case pf-wrongname cert-name-mismatch 0 "other.example.net"
evidence pf-wrongname cert-name-mismatch "checked against mx1.example.test"
pf pf-selfsigned SELFSIGNED;   cert_case pf-selfsigned cert-self-signed 0 "subject == issuer"
pf pf-untrusted UNTRUSTED
# The world's untrusted listener sends leaf + private root, as the lab does.
cert_case pf-untrusted cert-untrusted-root 1 "not in the trust store"
pf pf-missing-int MISSING_INT; cert_case pf-missing-int chain-incomplete 0 "1 certificate sent"
pf pf-weakkey WEAKKEY;         cert_case pf-weakkey cert-weak-key 0 "RSA 1024"
pf pf-sha1sig SHA1SIG;         cert_case pf-sha1sig cert-weak-signature 0 "SHA-1"
pf pf-clientauth CLIENTAUTH;   cert_case pf-clientauth cert-not-server-auth 0 "clientAuth"

pf pf-expiring EXPIRING
rc_is pf-expiring 4; finding pf-expiring cert-expiring-soon CHAIN warning 0
thumb_in_evidence pf-expiring cert-expiring-soon 0; evidence_re pf-expiring cert-expiring-soon '[0-9]+ days left'
no_errors pf-expiring; v_all_encrypted pf-expiring; coherent pf-expiring

pf pf-old OLD --expect-fingerprint "$MXS_GOOD_SHA1"
rc_is pf-old 16; finding pf-old fingerprint-mismatch CHAIN error 0
evidence pf-old fingerprint-mismatch "$MXS_GOOD_SHA1"; evidence pf-old fingerprint-mismatch "$MXS_OLD_SHA1"
v_all_encrypted pf-old; coherent pf-old

pf pf-nostarttls NOSTARTTLS
rc_is pf-nostarttls 14; finding pf-nostarttls starttls-not-offered STARTTLS error
evidence pf-nostarttls starttls-not-offered "502 5.5.1"
v_tls_lost pf-nostarttls STARTTLS starttls-not-offered; coherent pf-nostarttls
pf pf-refused454 REFUSED454
rc_is pf-refused454 14; finding pf-refused454 starttls-refused STARTTLS error
evidence pf-refused454 starttls-refused "454 4.7.0"
v_tls_lost pf-refused454 STARTTLS starttls-refused; coherent pf-refused454

# Postfix with smtpd_tls_req_ccert=yes: the handshake completes (TLS 1.3
# checks the client certificate afterwards) and the next command gets "421
# 4.7.1 ... No client certificate presented".  The problem is the client
# certificate requirement; this listener is security_level=encrypt, so
# nobody delivers, not even in clear.
pf pf-ccert CCERT
expect pf-ccert "the server asked for a client certificate" '.tls.client_cert_requested == true'
expect pf-ccert "finding tls-client-cert-required (error)" \
    '[.findings[] | select(.id == "tls-client-cert-required" and .severity == "error")] | length >= 1'
evidence pf-ccert tls-client-cert-required "No client certificate presented"
expect pf-ccert "verdicts: not delivered because of tls-client-cert-required" \
    '[.verdict[] | select(.policy != "dane" and .policy != "mta-sts") | .outcome == "not-delivered" and .finding == "tls-client-cert-required"] | all'
verdict pf-ccert dane not-evaluated - -; coherent pf-ccert
# The rejection after TLS itself really is ehlo2-rejected: filed at EHLO2.
finding pf-ccert ehlo2-rejected EHLO2 error
evidence pf-ccert ehlo2-rejected "421 4.7.1"
pf pf-ccert-ok CCERT --cert "$MXS_CLIENT_CERT" --key "$MXS_CLIENT_KEY"
rc_is pf-ccert-ok 0; no_errors pf-ccert-ok; v_all_encrypted pf-ccert-ok

pf pf-banner554 BANNER554
rc_is pf-banner554 12; finding pf-banner554 banner-rejected BANNER error
evidence pf-banner554 banner-rejected "554 5.7.1"
v_blocked pf-banner554 BANNER banner-rejected; coherent pf-banner554
pf pf-banner421 BANNER421
rc_is pf-banner421 12; finding pf-banner421 banner-throttled BANNER error
evidence pf-banner421 banner-throttled "421 4.7.0"
v_blocked pf-banner421 BANNER banner-throttled; coherent pf-banner421
pf pf-slowbanner SLOWBANNER
rc_is pf-slowbanner 4; finding pf-slowbanner banner-slow BANNER warning
evidence_re pf-slowbanner banner-slow 'greeting after [4-9]\.[0-9] s'
no_errors pf-slowbanner; v_all_encrypted pf-slowbanner; coherent pf-slowbanner
pf pf-slowbanner-2s SLOWBANNER --timeout-banner 2
rc_is pf-slowbanner-2s 12; finding pf-slowbanner-2s banner-timeout BANNER error
evidence pf-slowbanner-2s banner-timeout "2.0 s"
v_blocked pf-slowbanner-2s BANNER banner-timeout; coherent pf-slowbanner-2s

# ======================================================================
# 3. DNS (the world's unbound) and CONNECT
# ======================================================================
dnsq dns-good example.test
# A domain probe reads the MTA-STS policy too (POLICY): example.test has none,
# an info finding, nothing else (tests/integration/sts.sh has the cases).
rc_is dns-good 0; coherent dns-good
expect dns-good "only sts-txt-missing (info)" '[.findings[] | [.id, .severity]] == [["sts-txt-missing", "info"]]'
verdict dns-good mta-sts delivered-encrypted - -
# Secure TLSA records exist for mx1, but matching is not implemented: DANE
# is not evaluated (core/diag.h), never "delivered".
v_all_encrypted dns-good
dnsq dns-nx nx.example.test
rc_is dns-nx 10; finding dns-nx dns-nxdomain RESOLVE error
evidence dns-nx dns-nxdomain "NXDOMAIN"; evidence dns-nx dns-nxdomain "nx.example.test"
v_blocked dns-nx RESOLVE dns-nxdomain; coherent dns-nx
dnsq dns-bogus bogus.example.test
rc_is dns-bogus 10; finding dns-bogus dnssec-bogus RESOLVE error
evidence dns-bogus dnssec-bogus "signature expired"
v_blocked dns-bogus RESOLVE dnssec-bogus; coherent dns-bogus
# A name under test. outside every zone the world's unbound serves: the
# iterator's only root hint is a.root.invalid = 127.0.0.1, which unbound
# will not query (do-not-query-localhost), so the answer is SERVFAIL and no
# packet leaves loopback.
dnsq dns-servfail nozone.test
rc_is dns-servfail 10; finding dns-servfail dns-servfail RESOLVE error
evidence dns-servfail dns-servfail "SERVFAIL"
v_blocked dns-servfail RESOLVE dns-servfail; coherent dns-servfail
"$MXS_BIN" --batch --json --resolver "$MXS_DNS_DEAD_RESOLVER" --unbound-conf "$MXS_UNBOUND_CONF" \
    --timeout-resolve 2 example.test > "$tmp/dns-timeout.json" 2> "$tmp/dns-timeout.err"
echo $? > "$tmp/dns-timeout.rc"
rc_is dns-timeout 10; finding dns-timeout dns-timeout RESOLVE error
evidence dns-timeout dns-timeout "timeout"
v_blocked dns-timeout RESOLVE dns-timeout; coherent dns-timeout
dnsq dns-nullmx nullmx.example.test
rc_is dns-nullmx 10; finding dns-nullmx mx-null RESOLVE error
evidence dns-nullmx mx-null "0 ."
v_blocked dns-nullmx RESOLVE mx-null; coherent dns-nullmx
# No MX: mail goes to the domain's own A record (RFC 5321 5.1).  The world's
# certificate does not cover implicit.example.test, so verified stops.
dnsq dns-implicit implicit.example.test
rc_is dns-implicit 16; finding dns-implicit mx-implicit RESOLVE warning
evidence dns-implicit mx-implicit "NODATA"
finding dns-implicit cert-name-mismatch CHAIN error 0
v_verify_fails dns-implicit cert-name-mismatch; coherent dns-implicit
# Only IPv6 allowed, the only MX has an A record only.
dnsq dns-noaddr -6 insecure.test
rc_is dns-noaddr 10; finding dns-noaddr dns-no-address RESOLVE error
evidence dns-noaddr dns-no-address "mx1.insecure.test: A NOERROR, AAAA NODATA"
v_blocked dns-noaddr RESOLVE dns-no-address; coherent dns-noaddr
# ...and when another MX has an address it is only a warning (mx3 is v4-only).
dnsq dns-noaddr-warn -6 --port "$MXS_PORT_GOOD6" example.test
rc_is dns-noaddr-warn 4; finding dns-noaddr-warn dns-no-address RESOLVE warning
evidence dns-noaddr-warn dns-no-address "mx3.example.test"
v_all_encrypted dns-noaddr-warn; coherent dns-noaddr-warn

# connect-refused: a loopback port nobody listens on (checked with ss).
free=""
for p in $(seq 39171 39271); do
    if ! ss -Htan "sport = :$p" | grep -q .; then free=$p; break; fi
done
if [ -z "$free" ]; then fail "connect-refused: a free loopback port" "none in 39171..39271"
else
    "$MXS_BIN" --batch --json --host mx1.example.test --connect "127.0.0.1:$free" --timeout 5 \
        > "$tmp/connect-refused.json" 2> "$tmp/connect-refused.err"; echo $? > "$tmp/connect-refused.rc"
    rc_is connect-refused 11; finding connect-refused connect-refused CONNECT error
    evidence connect-refused connect-refused "port $free"; evidence connect-refused connect-refused "Connection refused"
    v_blocked connect-refused CONNECT connect-refused; coherent connect-refused
fi

# connect-timeout: a loopback listener with backlog 0 whose single queue
# slot is taken by a connection it never accepts; Linux then drops further
# SYNs (the accept queue is full), exactly what a firewall's DROP looks like
# to the sender.  Nothing leaves 127.0.0.1.
need perl
cat > "$tmp/backlog.pl" <<'EOF'
use strict; use Socket;
socket(my $l, PF_INET, SOCK_STREAM, 0) or die "socket: $!";
bind($l, pack_sockaddr_in(0, inet_aton("127.0.0.1"))) or die "bind: $!";
listen($l, 0) or die "listen: $!";
my ($port) = unpack_sockaddr_in(getsockname($l));
socket(my $c, PF_INET, SOCK_STREAM, 0) or die "socket: $!";
connect($c, pack_sockaddr_in($port, inet_aton("127.0.0.1"))) or die "connect: $!";
$| = 1; print "$port\n"; sleep(30);
EOF
perl "$tmp/backlog.pl" > "$tmp/backlog.port" 2> "$tmp/backlog.err" &
bgpid=$!
i=0; while [ ! -s "$tmp/backlog.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
if [ ! -s "$tmp/backlog.port" ]; then fail "connect-timeout: backlog listener" "$(head -c 200 "$tmp/backlog.err")"
else
    bp=$(cat "$tmp/backlog.port")
    t0=$(date +%s%N)
    "$MXS_BIN" --batch --json --host mx1.example.test --connect "127.0.0.1:$bp" --timeout 10 \
        --timeout-connect 2 > "$tmp/connect-timeout.json" 2> "$tmp/connect-timeout.err"
    echo $? > "$tmp/connect-timeout.rc"
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    rc_is connect-timeout 11; finding connect-timeout connect-timeout CONNECT error
    evidence connect-timeout connect-timeout "port $bp"; evidence connect-timeout connect-timeout "2.0 s"
    v_blocked connect-timeout CONNECT connect-timeout; coherent connect-timeout
    if [ $ms -ge 1800 ] && [ $ms -lt 4000 ]; then ok "connect-timeout: ended at the 2 s deadline (${ms} ms)"
    else fail "connect-timeout: ended at the 2 s deadline" "took ${ms} ms"; fi
fi
kill "$bgpid" 2>/dev/null; wait "$bgpid" 2>/dev/null; bgpid=""

# connect-unreachable: a private network namespace with only its loopback
# up, so 10.254.0.1 has no route: connect() fails with ENETUNREACH at once,
# and no packet can leave the namespace (it has no other interface).
ns="mxs-findings-$$"
if ip netns add "$ns" 2> "$tmp/netns.err" && ip netns exec "$ns" ip link set lo up 2>> "$tmp/netns.err"; then
    ip netns exec "$ns" "$MXS_BIN" --batch --json --host mx1.example.test --connect 10.254.0.1:25 \
        --timeout 5 > "$tmp/connect-unreachable.json" 2> "$tmp/connect-unreachable.err"
    echo $? > "$tmp/connect-unreachable.rc"
    rc_is connect-unreachable 11; finding connect-unreachable connect-unreachable CONNECT error
    evidence connect-unreachable connect-unreachable "unreachable"
    v_blocked connect-unreachable CONNECT connect-unreachable; coherent connect-unreachable
    # connect-failed: a "prohibit" route makes connect() fail with EACCES,
    # an error that is neither refused, timeout nor unreachable.
    if ip netns exec "$ns" ip route add prohibit 10.253.0.0/24 2>> "$tmp/netns.err"; then
        ip netns exec "$ns" "$MXS_BIN" --batch --json --host mx1.example.test --connect 10.253.0.1:25 \
            --timeout 5 > "$tmp/connect-failed.json" 2> "$tmp/connect-failed.err"
        echo $? > "$tmp/connect-failed.rc"
        rc_is connect-failed 11; finding connect-failed connect-failed CONNECT error
        evidence connect-failed connect-failed "10.253.0.1"
        v_blocked connect-failed CONNECT connect-failed; coherent connect-failed
    else fail "connect-failed: prohibit route in $ns" "$(head -c 200 "$tmp/netns.err")"; fi
else
    fail "connect-unreachable: private network namespace" "ip netns: $(head -c 200 "$tmp/netns.err")"
fi
[ -n "$ns" ] && ip netns del "$ns" 2>/dev/null; ns=""

# ======================================================================
# 4. The hostile fixture: what neither the lab nor Postfix can stage
# ======================================================================
if [ ! -x "$SRV" ]; then fail "hostile fixture" "$SRV not built (make tests-bin)"
else
    hostile h-banner-closed banner-close-silent
    rc_is h-banner-closed 12; finding h-banner-closed banner-closed BANNER error
    evidence h-banner-closed banner-closed "closed"
    v_blocked h-banner-closed BANNER banner-closed; coherent h-banner-closed
    hostile h-banner-failed banner-random-garbage
    rc_is h-banner-failed 12; finding h-banner-failed banner-failed BANNER error
    evidence h-banner-failed banner-failed "not an SMTP reply"
    v_blocked h-banner-failed BANNER banner-failed; coherent h-banner-failed
    hostile h-ehlo-rejected ehlo-5xx-helo-5xx
    rc_is h-ehlo-rejected 13; finding h-ehlo-rejected ehlo-rejected EHLO error
    evidence h-ehlo-rejected ehlo-rejected "550 5.7.1 Go away"; evidence h-ehlo-rejected ehlo-rejected "550 5.7.1 Still go away"
    v_blocked h-ehlo-rejected EHLO ehlo-rejected; coherent h-ehlo-rejected
    hostile h-ehlo-timeout ehlo-silence --timeout-ehlo 2
    rc_is h-ehlo-timeout 13; finding h-ehlo-timeout ehlo-timeout EHLO error
    evidence h-ehlo-timeout ehlo-timeout "2.0 s"
    v_blocked h-ehlo-timeout EHLO ehlo-timeout; coherent h-ehlo-timeout
    hostile h-ehlo-failed ehlo-reset
    rc_is h-ehlo-failed 13; finding h-ehlo-failed ehlo-failed EHLO error
    evidence h-ehlo-failed ehlo-failed "reset"
    v_blocked h-ehlo-failed EHLO ehlo-failed; coherent h-ehlo-failed
    hostile h-starttls-timeout starttls-silence --timeout-starttls 2
    rc_is h-starttls-timeout 14; finding h-starttls-timeout starttls-timeout STARTTLS error
    evidence h-starttls-timeout starttls-timeout "2.0 s"
    v_tls_lost h-starttls-timeout STARTTLS starttls-timeout; coherent h-starttls-timeout
    hostile h-starttls-failed starttls-reset
    rc_is h-starttls-failed 14; finding h-starttls-failed starttls-failed STARTTLS error
    evidence h-starttls-failed starttls-failed "reset"
    v_tls_lost h-starttls-failed STARTTLS starttls-failed; coherent h-starttls-failed
    hostile h-tls-alert tls-alert-internal-error
    rc_is h-tls-alert 15; finding h-tls-alert tls-handshake-failed HANDSHAKE error
    evidence h-tls-alert tls-handshake-failed "internal_error"
    v_tls_lost h-tls-alert HANDSHAKE tls-handshake-failed; coherent h-tls-alert
    # Not TLS at all after 220: the evidence quotes the bytes; it is plain
    # text with real line breaks (core/diag.h), never a doubly escaped "\x0A".
    hostile h-tls-garbage tls-garbage
    rc_is h-tls-garbage 15; finding h-tls-garbage tls-handshake-failed HANDSHAKE error
    evidence h-tls-garbage tls-handshake-failed "not TLS"
    expect h-tls-garbage "tls-handshake-failed evidence is not escaped twice" \
        '[.findings[] | select(.id == "tls-handshake-failed") | .evidence | (contains("\\x0A") or contains("\\\\")) | not] | all'
    v_tls_lost h-tls-garbage HANDSHAKE tls-handshake-failed; coherent h-tls-garbage
    hostile h-ehlo2-rejected ehlo2-5xx
    rc_is h-ehlo2-rejected 17; finding h-ehlo2-rejected ehlo2-rejected EHLO2 error
    evidence h-ehlo2-rejected ehlo2-rejected "554 5.7.0 Go away"
    v_blocked h-ehlo2-rejected EHLO2 ehlo2-rejected; coherent h-ehlo2-rejected
    hostile h-ehlo2-timeout ehlo2-silence --timeout-ehlo2 2
    rc_is h-ehlo2-timeout 17; finding h-ehlo2-timeout ehlo2-timeout EHLO2 error
    evidence h-ehlo2-timeout ehlo2-timeout "2.0 s"
    v_blocked h-ehlo2-timeout EHLO2 ehlo2-timeout; coherent h-ehlo2-timeout
    hostile h-ehlo2-failed ehlo2-reset
    rc_is h-ehlo2-failed 17; finding h-ehlo2-failed ehlo2-failed EHLO2 error
    evidence h-ehlo2-failed ehlo2-failed "reset"
    v_blocked h-ehlo2-failed EHLO2 ehlo2-failed; coherent h-ehlo2-failed
    # A server whose EHLO keywords change after TLS (SIZE dropped, AUTH
    # added): informational, everyone delivers.  Our own scenario file.
    cat > "$tmp/caps-changed.scn" <<'SCN'
send "220 mx.hostile.test ESMTP scriptsrv\r\n"
expect "EHLO"
send "250-mx.hostile.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 STARTTLS\r\n"
expect "STARTTLS"
send "220 2.0.0 Ready to start TLS\r\n"
tls cert=normal
expect "EHLO"
send "250-mx.hostile.test\r\n250-PIPELINING\r\n250 AUTH PLAIN LOGIN\r\n"
readtimeout 3000
readline
send "221 2.0.0 Bye\r\n"
close
SCN
    hostile h-caps-changed "$tmp/caps-changed.scn"
    rc_is h-caps-changed 4; finding h-caps-changed ehlo2-capabilities-changed EHLO2 warning
    evidence h-caps-changed ehlo2-capabilities-changed "+AUTH"
    evidence h-caps-changed ehlo2-capabilities-changed "-SIZE"
    no_errors h-caps-changed; v_all_encrypted h-caps-changed; coherent h-caps-changed
fi
finish
