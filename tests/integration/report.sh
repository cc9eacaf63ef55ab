#!/bin/sh
# report.sh - the report for the other side's admins replaces `openssl
# s_client -starttls smtp` output as evidence: a Subject with the domain,
# the failing step and the cause; the SMTP dialog with timings, the TLS
# facts (IANA cipher names) and the PEM chain as served; every line at most
# 72 columns and never a hash or PEM line cut; the From line is our address
# on the connection, never made up from the EHLO name; `report` before any step says there is nothing yet.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d /tmp/mxscope-report.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
"$MXS_BIN" --batch --lab expired --ehlo probe.sender.test --report "$tmp/r.txt" > /dev/null 2>&1
r="$tmp/r.txt"
[ -s "$r" ] || { fail "report written" "empty"; finish; }
long=$(awk 'length($0) > 72' "$r" | head -3)
[ -z "$long" ] && ok "every line at most 72 columns" || fail "every line at most 72 columns" "$long"
# The Subject may fold (RFC 5322: a continuation starts with a space).
subj=$(awk '/^Subject: /{s=$0; getline n; if (n ~ /^ /) s = s n; print s; exit}' "$r")
case "$subj" in
    *"mx.lab.mxscope.test"*"fails at  CHAIN: the certificate has expired (cert-expired)"*|\
    *"mx.lab.mxscope.test"*"fails at CHAIN: the certificate has expired (cert-expired)"*)
        ok "Subject names the domain, the step and the cause" ;;
    *) fail "Subject names the domain, the step and the cause" "$subj" ;;
esac
grep -qxE '  \+0\.000 S: 220 mx\.lab\.mxscope\.test ESMTP mxscope lab \(expired\)' "$r" &&
    grep -qxE '  \+[0-9]+\.[0-9]{3} C: STARTTLS' "$r" &&
    grep -qxE '  \+[0-9]+\.[0-9]{3} S: 220 2\.0\.0 Ready to start TLS' "$r" &&
    ok "the SMTP dialog, with timings" || fail "the SMTP dialog, with timings" "$(grep -E '^  \+' "$r" | head -3)"
grep -qxE '  cipher: +TLS_[A-Z0-9_]+' "$r" && ! grep -q 'TLS1-3-' "$r" &&
    ok "the TLS facts, IANA cipher name" || fail "the TLS facts, IANA cipher name" "$(grep 'cipher' "$r")"
# The PEM chain: every base64 line whole (64 characters, the last may be
# shorter), and it decodes to the certificates (openssl reads them back).
pem=$(sed -n '/^-----BEGIN CERTIFICATE-----$/,/^-----END CERTIFICATE-----$/p' "$r")
nb=$(printf '%s\n' "$pem" | grep -c '^-----BEGIN CERTIFICATE-----$')
bad=$(printf '%s\n' "$pem" | grep -vE '^-----(BEGIN|END) CERTIFICATE-----$' | awk 'length($0) > 64' | head -1)
if [ "$nb" = 2 ] && [ -z "$bad" ] && printf '%s\n' "$pem" | openssl x509 -noout -subject > "$tmp/subj" 2>&1 &&
   grep -q 'mx.lab.mxscope.test' "$tmp/subj"; then ok "the PEM chain as served, whole (2 certificates)"
else fail "the PEM chain as served, whole" "$nb certificates, long line: $bad; $(cat "$tmp/subj")"; fi
# SHA-256 thumbprints (64 hex) are whole on their lines.
# Every run of 20+ hex digits is a whole SHA-1 (40) or SHA-256 (64).
runs=$(grep -oE '[0-9A-F]{20,}' "$r" | awk '{print length($0)}' | sort -u | tr '\n' ' ')
[ "$runs" = "40 64 " ] && ok "hashes are never cut (hex runs: $runs)" || fail "hashes are never cut" "hex run lengths: $runs"
grep -qx '  From:         127\.0\.0\.1 (our address on the connection)' "$r" &&
    grep -qx '  EHLO name:    probe.sender.test' "$r" && ! grep -q 'From: *probe.sender.test' "$r" &&
    ok "From is never the EHLO name" || fail "From is never the EHLO name" "$(grep -E 'From|EHLO name' "$r")"
printf 'report\n' > "$tmp/s"
out=$("$MXS_BIN" --batch --lab good --script "$tmp/s" 2>&1 | tail -1)
[ "$out" = "nothing to report yet: no step has run (n runs the next step, r runs them all)" ] &&
    ok "report before any step: nothing to report yet" || fail "report before any step" "$out"
finish
