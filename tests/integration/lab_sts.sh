#!/bin/sh
# lab_sts.sh - the built-in lab's MTA-STS / TLS-RPT scenarios (sts-*): no
# network and no test world.  The lab publishes lab.mxscope.test in its own
# DNS data (a libunbound file handed over as --unbound-conf) and serves the
# policy from its own HTTPS responder (lab_https.c) on a loopback port
# (--policy-port); the engine does the POLICY work of a real run: the TXT
# lookups, the GET with PKIX validation against the lab CA, the parse, the
# findings and the MTA-STS verdict.  Per scenario: the POLICY step's state,
# the finding ids, the MTA-STS verdict and the transcript (D: / H> / H<).
# Also: --policy-port and `set policy-port` are a setting like the others.
. "$(dirname "$0")/../lib.sh"
need jq
tmp=$(mktemp -d /tmp/mxscope-labsts.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/../policy.inc"   # expect rc_is policy_step mtasts words tr_has

lab() { # NAME SCENARIO [args...]
    n=$1; s=$2; shift 2
    "$MXS_BIN" --batch --json --lab "$s" --timeout 15 "$@" > "$tmp/$n.json" 2> "$tmp/$n.err"
    echo $? > "$tmp/$n.rc"
}
policy_ids() { # NAME '"id", ...': exactly these POLICY findings
    expect "$1" "[.findings[] | select(.step == \"POLICY\") | .id] | sort == ([$2] | sort)"
}
tr_none() { # NAME KIND: no POLICY transcript record of that kind
    expect "$1" "[.transcript[] | select(.step == \"POLICY\" and .kind == \"$2\")] | length == 0"
}
# What every sts-* run shares: a mail domain looked up in the lab's DNS data,
# the MX at 127.0.0.1, the policy fetched from the lab's port (not 443).
common() {
    expect "$1" '.target.kind == "domain" and .target.input == "lab.mxscope.test" and .target.connect == null'
    expect "$1" '[.steps[] | select(.step == "RESOLVE") | .status] == ["ok"]'
    expect "$1" '.settings["policy-port"] != "443" and .settings["policy-port"] != (.target.port | tostring)'
    tr_has "$1" dns 'TXT _mta-sts.lab.mxscope.test: 1 record'
    tr_has "$1" dns 'A mta-sts.lab.mxscope.test: 127.0.0.1'
    tr_has "$1" note 'GET https://mta-sts.lab.mxscope.test/.well-known/mta-sts.txt (address 127.0.0.1, port '
    tr_has "$1" note ': --policy-port)'
}
request() { # the request went out (the TLS handshake with the policy host passed)
    tr_has "$1" http-out 'GET /.well-known/mta-sts.txt HTTP/1.1'
    tr_has "$1" http-out 'Host: mta-sts.lab.mxscope.test'
}

# --- the list --------------------------------------------------------------
"$MXS_BIN" --lab --list > "$tmp/list" 2>&1
for s in sts-enforce sts-mx-not-covered sts-testing sts-no-tlsrpt sts-policy-404 sts-webpki-invalid; do
    if grep -q "^$s " "$tmp/list"; then ok "--lab --list names $s"
    else fail "--lab --list names $s" "$(head -c 300 "$tmp/list")"; fi
done

# --- sts-enforce: enforce, the MX covered, both certificates good ----------
lab enforce sts-enforce
rc_is enforce 0
common enforce; request enforce
policy_step enforce ok
policy_ids enforce ''
mtasts enforce delivered-encrypted - -
words enforce "MTA-STS enforce, the MX mx.lab.mxscope.test is listed"
expect enforce '.policy.fetch.outcome == "ok" and .policy.fetch.status == 200 and .policy.fetch.content_type == "text/plain" and .policy.fetch.verify_result == 0'
expect enforce '.policy.fetch.certificate.subject | contains("mta-sts.lab.mxscope.test")'
expect enforce '.policy.policy.valid and .policy.policy.mode == "enforce" and .policy.policy.max_age == 86400 and .policy.policy.mx == ["mx.lab.mxscope.test"]'
expect enforce '.policy.mta_sts.valid and (.policy.mta_sts.id | test("^[A-Za-z0-9]+$"))'
expect enforce '[.policy.tls_rpt.rua[] | [.kind, .uri]] == [["mailto","mailto:tlsrpt@lab.mxscope.test"]]'
tr_has enforce dns 'TXT _smtp._tls.lab.mxscope.test: 1 record'
tr_has enforce http-in 'HTTP/1.1 200 OK'
tr_has enforce http-in 'Content-Type: text/plain'
tr_has enforce note 'policy: mode enforce, 1 mx pattern, max_age 86400'

# --- sts-mx-not-covered: enforce, the policy lists another MX --------------
lab notcovered sts-mx-not-covered
rc_is notcovered 19   # every step passed, but MTA-STS senders refuse the MX
common notcovered; request notcovered
policy_step notcovered warn
policy_ids notcovered '"sts-mx-not-covered"'
mtasts notcovered not-delivered POLICY sts-mx-not-covered
words notcovered "matches no mx pattern (mail.lab.mxscope.test)"
expect notcovered '[.verdict[] | select(.policy == "verified") | .outcome] == ["delivered-encrypted"]'

# --- sts-testing: testing mode, the MX certificate has the wrong name ------
lab testing sts-testing
rc_is testing 16
common testing; request testing
policy_step testing ok
policy_ids testing '"sts-testing"'
expect testing '[.findings[] | select(.id == "cert-name-mismatch")] | length == 1'
mtasts testing delivered-encrypted - -
words testing "would be refused under enforce at CHAIN (cert-name-mismatch); reported only"
expect testing '.policy.policy.mode == "testing"'

# --- sts-no-tlsrpt: MTA-STS without _smtp._tls -----------------------------
lab nortp sts-no-tlsrpt
rc_is nortp 0
common nortp; request nortp
policy_step nortp ok
policy_ids nortp '"tlsrpt-missing"'
mtasts nortp delivered-encrypted - -
tr_has nortp dns 'TXT _smtp._tls.lab.mxscope.test: NXDOMAIN'
expect nortp '.policy.tls_rpt.rcode == "nxdomain"'

# --- sts-policy-404: the policy host answers 404 ----------------------------
lab p404 sts-policy-404
rc_is p404 4
common p404; request p404
policy_step p404 warn
policy_ids p404 '"sts-policy-fetch"'
tr_has p404 http-in 'HTTP/1.1 404 Not Found'
expect p404 '.policy.fetch.status == 404 and .policy.policy == null'
mtasts p404 delivered-encrypted - -
words p404 "no MTA-STS policy applies"

# --- sts-webpki-invalid: the policy host's certificate names another host ---
lab webpki sts-webpki-invalid
rc_is webpki 4
common webpki
policy_step webpki warn
policy_ids webpki '"sts-webpki-invalid"'
tr_none webpki http-in; tr_none webpki http-out
expect webpki '.policy.fetch.outcome == "certificate" and (.policy.fetch.certificate.subject | contains("other.example.net"))'
mtasts webpki delivered-encrypted - -

# --- the other lab scenarios keep their pinned host: POLICY skipped ----------
lab good good
expect good '.target.kind == "host" and .settings["policy-port"] == "443" and .settings["unbound-conf"] == "none"'
expect good '[.steps[] | select(.step == "POLICY") | .status] == ["skipped"]'

# --- policy-port is a setting: --policy-port N, range checked ---------------
"$MXS_BIN" --batch --json --lab sts-enforce --policy-port 1 --timeout-policy 3 \
    > "$tmp/port1.json" 2> "$tmp/port1.err"
# the lab sets its own port; --policy-port 1 given with --lab is overridden
expect port1 '.settings["policy-port"] != "1" and .policy.fetch.outcome == "ok"'
# --policy-port on its own (no lab): our own DNS data for a domain whose policy
# host is 127.0.0.1; the fetch goes to the port given (nothing listens on 9),
# the URL and its Host stay mta-sts.DOMAIN, the transcript says the port.
cat > "$tmp/pp.conf" <<'CONF'
server:
    local-zone: "pp.mxscope.test." static
    local-data: "pp.mxscope.test. 300 IN MX 10 mx.pp.mxscope.test."
    local-data: "mx.pp.mxscope.test. 300 IN A 127.0.0.1"
    local-data: "mta-sts.pp.mxscope.test. 300 IN A 127.0.0.1"
    local-data: '_mta-sts.pp.mxscope.test. 300 IN TXT "v=STSv1; id=pp1"'
CONF
"$MXS_BIN" --batch --json --unbound-conf "$tmp/pp.conf" --port 9 --policy-port 9 --timeout 5 \
    pp.mxscope.test > "$tmp/pp.json" 2> "$tmp/pp.err"
expect pp '.settings["policy-port"] == "9" and .policy.fetch.outcome == "connect"'
expect pp '.policy.fetch.url == "https://mta-sts.pp.mxscope.test/.well-known/mta-sts.txt"'
expect pp '.policy.fetch.error | contains("127.0.0.1 port 9")'
tr_has pp note 'GET https://mta-sts.pp.mxscope.test/.well-known/mta-sts.txt (address 127.0.0.1, port 9: --policy-port)'
if "$MXS_BIN" --batch --policy-port 0 example.test > "$tmp/bad.out" 2>&1; then
    fail "--policy-port 0 refused" "accepted"
else
    grep -q "policy-port: expected 1-65535, got .0." "$tmp/bad.out" && ok "--policy-port 0 refused" ||
        fail "--policy-port 0 refused" "$(head -c 200 "$tmp/bad.out")"
fi
finish
