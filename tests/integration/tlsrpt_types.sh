#!/bin/sh
# tlsrpt_types.sh - every failure is also named by its RFC 8460 result type
# (issue 12), in the JSON, the batch report and the problem report, so an
# operator can match a sender's TLS-RPT report to what mxscope shows; DNS,
# connection and SMTP failures, warnings and our own side carry none.
# Lab scenarios only (no network beyond loopback, no world needed).
. "$(dirname "$0")/../lib.sh"
need jq
tmp=$(mktemp -d /tmp/mxscope-tlsrpt.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

json_type() { # scenario finding-id expected-type-or-null
    "$MXS_BIN" --batch --json --lab "$1" > "$tmp/$1.json" 2>/dev/null
    got=$(jq -r --arg id "$2" '[.findings[] | select(.id == $id)][0].tlsrpt_result_type' "$tmp/$1.json")
    if [ "$got" = "$3" ]; then ok "json/$1: $2 -> $3"; else fail "json/$1: $2" "tlsrpt_result_type '$got', want '$3'"; fi
}
json_type expired cert-expired certificate-expired
json_type wrong-name cert-name-mismatch certificate-host-mismatch
json_type untrusted-root cert-untrusted-root certificate-not-trusted
json_type missing-intermediate chain-incomplete certificate-not-trusted
json_type no-starttls starttls-not-offered starttls-not-supported
json_type starttls-refused starttls-refused starttls-not-supported
json_type client-cert-required tls-client-cert-required validation-failure
json_type expiring-soon cert-expiring-soon null
json_type banner-rejected banner-rejected null

# Every error finding of every lab scenario has the key, a string or null,
# and every string is an RFC 8460 §4.3 result type.
bad=0
for s in $("$MXS_BIN" --lab --list 2>/dev/null | awk '{print $1}'); do
    "$MXS_BIN" --batch --json --lab "$s" 2>/dev/null |
        jq -e '[.findings[] | has("tlsrpt_result_type") and (.tlsrpt_result_type == null or
            (.tlsrpt_result_type | IN("starttls-not-supported","certificate-host-mismatch",
             "certificate-expired","certificate-not-trusted","validation-failure","tlsa-invalid",
             "dnssec-invalid","dane-required","sts-policy-fetch-error","sts-policy-invalid",
             "sts-webpki-invalid")))] | all' > /dev/null || { bad=1; echo "# $s: a bad tlsrpt_result_type"; }
done
[ $bad = 0 ] && ok "every lab scenario: tlsrpt_result_type present, RFC 8460 names only" ||
    fail "every lab scenario" "see above"

# The batch report and the problem report say it too.
"$MXS_BIN" --batch --lab expired --report "$tmp/r.txt" > "$tmp/batch.txt" 2>/dev/null
grep -q "^          TLS-RPT:  certificate-expired" "$tmp/batch.txt" &&
    ok "batch report: TLS-RPT line under cert-expired" || fail "batch report" "$(grep -n TLS-RPT "$tmp/batch.txt")"
grep -q "In TLS-RPT (RFC 8460) reports: certificate-expired" "$tmp/r.txt" &&
    ok "problem report: the result type under the finding" || fail "problem report" "no TLS-RPT line"
"$MXS_BIN" --batch --lab expiring-soon > "$tmp/warn.txt" 2>/dev/null
if grep -q "TLS-RPT:" "$tmp/warn.txt"; then fail "warnings carry no type" "$(grep TLS-RPT "$tmp/warn.txt")"
else ok "a warning (cert-expiring-soon) carries no TLS-RPT type"; fi
finish
