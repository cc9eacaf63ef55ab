#!/bin/sh
# tests/integration/survey.sh - --all: every MX and every address of a
# domain, probed at once, compared.  The world's "old" listener serves the
# old certificate on 127.0.0.1 and the renewed one on [::1] (the same port):
# the nodes of one MX disagree, as after a renewal rolled out to one node.
. "$(dirname "$0")/../lib.sh"
need jq
world_env
tmp=$(mktemp -d /tmp/mxscope-survey.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
[ -n "${MXS_HOST6:-}" ] || { fail "survey needs ::1 in the test world"; finish; }
dns="--resolver $MXS_DNS_RESOLVER --trust-anchor $MXS_TRUST_ANCHOR --unbound-conf $MXS_UNBOUND_CONF --cafile $MXS_CA"

# shellcheck disable=SC2086
"$MXS_BIN" --batch --all --json $dns --port "$MXS_PORT_OLD" example.test > "$tmp/s.json" 2> "$tmp/s.err"
rc=$?
expect() {
    if jq -e "$2" "$tmp/$1.json" > /dev/null 2>&1; then ok "$1: $2"
    else fail "$1: $2" "got $(jq -c "$2" "$tmp/$1.json" 2>&1 | head -c 300)"; fi
}
[ $rc = 4 ] && ok "survey exit 4 (every probe delivered; the old certificate expires within 30 days: a warning)" || fail "survey exit 4" "$rc: $(head -c 300 "$tmp/s.err")"
expect s '.survey == true and (.probes | length) == 5'
expect s '[.probes[] | .connect.address] == ["127.0.0.1", "::1", "127.0.0.1", "::1", "127.0.0.1"]'
expect s '[.probes[] | .dns.mx[.connect.mx].host] == ["mx1.example.test", "mx1.example.test", "mx2.example.test", "mx2.example.test", "mx3.example.test"]'
expect s "[.probes[] | .chain[0].sha1] == [\"$MXS_OLD_SHA1\", \"$MXS_GOOD_SHA1\", \"$MXS_OLD_SHA1\", \"$MXS_GOOD_SHA1\", \"$MXS_OLD_SHA1\"]"
expect s '[.findings[] | select(.id == "mx-hosts-disagree" and .step == "CHAIN")] | length == 1'
expect s "[.findings[] | select(.id == \"mx-hosts-disagree\") | .evidence | contains(\"$MXS_OLD_SHA1\") and contains(\"$MXS_GOOD_SHA1\")] | all"
expect s '.dns.steps[0].status == "ok" and .dns.dns.dnssec == "secure"'

# All the same: no disagreement.  -4 and the good port: three probes.
# shellcheck disable=SC2086
"$MXS_BIN" --batch --all --json -4 $dns --port "$MXS_PORT_GOOD" example.test > "$tmp/g.json" 2>/dev/null
expect g '(.probes | length) == 3 and (.findings | length) == 0 and .exit_code == 0'

# One node refuses: the probe fails, the survey exits with its code.
# shellcheck disable=SC2086
"$MXS_BIN" --batch --all --json $dns --port "$MXS_PORT_GOOD" example.test > "$tmp/r.json" 2>/dev/null
r=$?
expect r '[.probes[] | .result.failed_step] == [null, "CONNECT", null, "CONNECT", null]'
[ $r = 11 ] && ok "a refused node makes the survey exit 11" || fail "survey refused exit" "$r"

# The text matrix names every address tested.
# shellcheck disable=SC2086
"$MXS_BIN" --batch --all $dns --port "$MXS_PORT_OLD" example.test > "$tmp/t.txt" 2>&1
check "text matrix lists ::1" grep -q '^1 .*mx1.example.test .*::1 ' "$tmp/t.txt"
check "text matrix says the nodes disagree" grep -q 'The nodes disagree' "$tmp/t.txt"
finish
