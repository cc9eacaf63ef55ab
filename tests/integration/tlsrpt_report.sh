#!/bin/sh
# tlsrpt_report.sh - `mxscope --tlsrpt REPORT [--recheck] [--json]` (issue
# 12): a sender's aggregate TLS-RPT report (RFC 8460 §4.4) read as mailed
# (JSON or gzip), its failures listed, each failing MX host probed now
# against the world's real Postfix listeners, and hostile files refused with
# a clear error.  Reports are written here, now; nothing is committed.
. "$(dirname "$0")/../lib.sh"
world_env
need jq
need gzip
tmp=$(mktemp -d /tmp/mxscope-tlsrpt.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
dns="--resolver $MXS_DNS_RESOLVER --trust-anchor $MXS_TRUST_ANCHOR --unbound-conf $MXS_UNBOUND_CONF --cafile $MXS_CA --timeout 10"

# A report from "a big sender": mx1.example.test failed with an expired
# certificate (100 sessions) and, at another time, STARTTLS (5); a host of
# a name that does not exist failed too.  The org name carries ESC and a
# bidi control: shown escaped.
cat > "$tmp/r.json" <<'EOF'
{"organization-name": "Big Sender \u001b[31mInc\u202e",
 "date-range": {"start-datetime": "2026-12-01T00:00:00Z", "end-datetime": "2026-12-01T23:59:59Z"},
 "contact-info": "tlsrpt@sender.example", "report-id": "2026-12-01T00:00:00Z_example.test",
 "policies": [{
   "policy": {"policy-type": "sts", "policy-domain": "example.test",
              "policy-string": ["version: STSv1", "mode: enforce", "mx: mx1.example.test", "max_age: 86400"],
              "mx-host": ["mx1.example.test"]},
   "summary": {"total-successful-session-count": 10, "total-failure-session-count": 105},
   "failure-details": [
     {"result-type": "certificate-expired", "sending-mta-ip": "192.0.2.1",
      "receiving-mx-hostname": "mx1.example.test", "receiving-ip": "127.0.0.1", "failed-session-count": 100},
     {"result-type": "starttls-not-supported", "sending-mta-ip": "192.0.2.2",
      "receiving-mx-hostname": "mx1.example.test.", "failed-session-count": 5}]},
  {"policy": {"policy-type": "no-policy-found", "policy-domain": "gone.example.test"},
   "summary": {"total-successful-session-count": 0, "total-failure-session-count": 1},
   "failure-details": [{"result-type": "validation-failure", "sending-mta-ip": "192.0.2.3",
      "receiving-mx-hostname": "nx.example.test", "failed-session-count": 1,
      "failure-reason-code": "X509_V_ERR_CERT_HAS_EXPIRED"}]}]}
EOF
gzip -9 -c "$tmp/r.json" > "$tmp/r.json.gz"

# 1. Read as mailed: the same listing from JSON and from gzip.
"$MXS_BIN" --tlsrpt "$tmp/r.json" > "$tmp/plain.txt" 2> "$tmp/plain.err"; rc=$?
"$MXS_BIN" --tlsrpt "$tmp/r.json.gz" > "$tmp/gz.txt" 2>&1; rcz=$?
if [ $rc = 0 ] && [ $rcz = 0 ] && grep -q "^Policy 1: sts for example.test: 10 sessions succeeded, 105 failed" "$tmp/plain.txt" &&
   grep -q "     100  certificate-expired  MX mx1.example.test at 127.0.0.1, from sender 192.0.2.1" "$tmp/plain.txt" &&
   grep -q "reason: X509_V_ERR_CERT_HAS_EXPIRED" "$tmp/plain.txt" &&
   grep -q "gzip" "$tmp/gz.txt" && [ "$(sed 1,2d "$tmp/plain.txt")" = "$(sed 1,2d "$tmp/gz.txt")" ]; then
    ok "--tlsrpt: policies and failure details, the same from JSON and gzip"
else
    fail "--tlsrpt listing" "rc $rc/$rcz: $(head -c 600 "$tmp/plain.txt") $(cat "$tmp/plain.err")"
fi
if grep -q 'Big Sender \\x1B\[31mInc<U+202E>' "$tmp/plain.txt" && ! grep -qP '\x1b' "$tmp/plain.txt"; then
    ok "--tlsrpt: the sender's ESC and bidi control are shown escaped"
else
    fail "--tlsrpt escaping" "$(head -n 1 "$tmp/plain.txt" | od -c | head -3)"
fi
grep -q "mxscope --tlsrpt FILE --recheck" "$tmp/plain.txt" && ok "--tlsrpt: says how to probe the failing MX hosts now" ||
    fail "--tlsrpt: the offer to probe" "no hint"

# 2. --recheck against the listener with the expired certificate: the
# reported certificate-expired still happens (exit 5), starttls was another
# time; the host that does not exist cannot be told.
"$MXS_BIN" --tlsrpt "$tmp/r.json.gz" --recheck $dns --port "$MXS_PORT_EXPIRED" > "$tmp/still.txt" 2>&1; rc=$?
if [ $rc = 5 ] && grep -q "^  mx1.example.test (reported: certificate-expired, starttls-not-supported): still fails: cert-expired at CHAIN" "$tmp/still.txt" &&
   grep -q "^  nx.example.test (reported: validation-failure): cannot tell: the probe stopped before TLS (dns-nxdomain at RESOLVE)" "$tmp/still.txt"; then
    ok "--recheck: the expired certificate still fails (exit 5); an unknown host cannot be told"
else
    fail "--recheck (expired)" "rc $rc: $(sed -n '/^Now/,$p' "$tmp/still.txt")"
fi
# Only mx1: the good listener now.  No longer reproduces, exit 0.
jq '.policies |= [.[0]]' "$tmp/r.json" > "$tmp/one.json"
"$MXS_BIN" --tlsrpt "$tmp/one.json" --recheck $dns --port "$MXS_PORT_GOOD" > "$tmp/fixed.txt" 2>&1; rc=$?
if [ $rc = 0 ] && grep -q "^  mx1.example.test (reported: certificate-expired, starttls-not-supported): no longer reproduces: a verifying sender now gets delivered-encrypted" "$tmp/fixed.txt"; then
    ok "--recheck: after the renewal the failure no longer reproduces (exit 0)"
else
    fail "--recheck (good)" "rc $rc: $(sed -n '/^Now/,$p' "$tmp/fixed.txt")"
fi
# The wrong name now, where the report said expired: fails differently.
"$MXS_BIN" --tlsrpt "$tmp/one.json" --recheck $dns --port "$MXS_PORT_WRONGNAME" > "$tmp/diff.txt" 2>&1; rc=$?
if [ $rc = 5 ] && grep -q "fails, but now as certificate-host-mismatch (cert-name-mismatch at CHAIN)" "$tmp/diff.txt"; then
    ok "--recheck: a different failure now is named with its RFC 8460 type"
else
    fail "--recheck (wrongname)" "rc $rc: $(sed -n '/^Now/,$p' "$tmp/diff.txt")"
fi

# 3. JSON: the same facts, escaped strings, the recheck states.
"$MXS_BIN" --tlsrpt "$tmp/r.json.gz" --recheck --json $dns --port "$MXS_PORT_EXPIRED" > "$tmp/r.out.json" 2>&1; rc=$?
if [ $rc = 5 ] && jq -e '.report.gzip == true and .report.policies[0].failure_details[0].failed_session_count == 100
        and .report.policies[0].failure_details[0].result_type_known == true
        and (.report.organization_name | test("^Big Sender \\\\x1B"))
        and (.recheck | map(.state) == ["still-fails", "cannot-tell"])
        and .recheck[0].result_types_now == ["certificate-expired"] and .exit_code == 5' "$tmp/r.out.json" > /dev/null; then
    ok "--tlsrpt --json: report, escaped strings, recheck states, exit code"
else
    fail "--tlsrpt --json" "rc $rc: $(head -c 800 "$tmp/r.out.json")"
fi

# 4. Hostile files: each a clear one-line error, exit 2, fast, bounded.
head -c 50000000 /dev/zero | gzip -9 > "$tmp/bomb.gz"                     # 50 MB of NULs
head -c 100 "$tmp/r.json.gz" > "$tmp/trunc.gz"
printf '\037\213\010\000garbage-after-the-magic' > "$tmp/badgz.gz"
awk 'BEGIN { for (i = 0; i < 200000; i++) printf "["; for (i = 0; i < 200000; i++) printf "]" }' > "$tmp/deep.json"
printf '{"organization-name": "x"}' > "$tmp/nopol.json"
printf 'this is not json\n' > "$tmp/text.json"
head -c 17000000 /dev/zero | tr '\0' ' ' > "$tmp/huge.json"
hostile() { # file expected-words
    f=$1; want=$2
    /usr/bin/time -f %M -o "$tmp/mem" "$MXS_BIN" --tlsrpt "$tmp/$f" > "$tmp/$f.out" 2> "$tmp/$f.err"; rc=$?
    kib=$(tail -n 1 "$tmp/mem")
    if [ $rc = 2 ] && [ "$(wc -l < "$tmp/$f.err")" = 1 ] && grep -qF -- "$want" "$tmp/$f.err" &&
       [ ! -s "$tmp/$f.out" ] && [ "$kib" -lt 200000 ]; then
        ok "hostile report $f: exit 2, \"$(cat "$tmp/$f.err")\" (${kib} KiB)"
    else
        fail "hostile report $f" "rc $rc, ${kib} KiB, stderr: $(head -c 300 "$tmp/$f.err")"
    fi
}
hostile bomb.gz "once uncompressed (a gzip bomb?)"
hostile trunc.gz "truncated"
hostile badgz.gz "gzip:"
hostile deep.json "not valid JSON"
hostile nopol.json "not a TLS-RPT report: no \"policies\" array"
hostile text.json "text.json: not valid JSON (line 1, column 4)"
hostile huge.json "over 16777216 bytes"
"$MXS_BIN" --tlsrpt /nonexistent.json > /dev/null 2> "$tmp/nx.err"; rc=$?
[ $rc = 2 ] && grep -q "^mxscope: --tlsrpt /nonexistent.json: No such file or directory$" "$tmp/nx.err" && ok "a missing report: exit 2, named" ||
    fail "missing report" "rc $rc $(cat "$tmp/nx.err")"
"$MXS_BIN" --recheck example.test > /dev/null 2> "$tmp/use.err"; rc=$?
[ $rc = 1 ] && grep -q -- "--recheck goes with --tlsrpt" "$tmp/use.err" && ok "--recheck without --tlsrpt: usage error" ||
    fail "--recheck alone" "rc $rc $(cat "$tmp/use.err")"
finish
