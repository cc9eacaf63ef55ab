#!/bin/sh
# tests/integration/domains.sh - --batch --domains LIST against the test
# world: a partner list with bad lines, JSON Lines, --save-dir, the summary,
# each domain the same as a single-domain run of it, the per-host limit and
# the whole-domain deadline (the slow-banner listener), Ctrl-C, and a
# 100,000-line list streamed (peak RSS).
. "$(dirname "$0")/../lib.sh"
need jq
world_env
tmp=$(mktemp -d /tmp/mxscope-domains.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
dns="--resolver $MXS_DNS_RESOLVER --trust-anchor $MXS_TRUST_ANCHOR --unbound-conf $MXS_UNBOUND_CONF --cafile $MXS_CA"
expect() { # FILE JQ-EXPR [jq options]: jq -e over the whole file
    f=$1; e=$2; shift 2
    if jq -e "$@" "$e" "$tmp/$f" > /dev/null 2>&1; then ok "$f: $e"
    else fail "$f: $e" "got $(jq -c "$@" "$e" "$tmp/$f" 2>&1 | head -c 300)"; fi
}
long=$(printf 'a%.0s' $(seq 63)); long="$long.$long.$long.$long.$(printf 'b%.0s' $(seq 44))"   # 300 octets
esc=$(printf '\033')

# ---- a list with everything an operator's list has --------------------------------
# line: 1 comment, 2 blank, 3 good, 4 wrong name, 5 duplicate of 3, 6 NXDOMAIN,
# 7 IDN, 8 control byte, 9 over 253 octets, 10 per-line port (expired),
# 11 implicit MX, 12 null MX, 13 an indented comment
cat > "$tmp/list" <<EOF
# partners with TLS-required connectors
  
example.test -4 --port $MXS_PORT_GOOD
insecure.test --port $MXS_PORT_GOOD   # wrong name
EXAMPLE.test. -4 --port $MXS_PORT_GOOD
nothere.insecure.test
bücher.insecure.test
bad${esc}name.test
$long
example.test -4 --port $MXS_PORT_EXPIRED
implicit.example.test --port $MXS_PORT_GOOD
nullmx.example.test
   # the end
EOF
mkdir "$tmp/saved"
# shellcheck disable=SC2086
"$MXS_BIN" --batch --json --domains "$tmp/list" --save-dir "$tmp/saved" $dns > "$tmp/l.json" 2> "$tmp/l.err"
rc=$?
[ $rc = 6 ] && ok "a list with failing domains exits 6" || fail "list exit 6" "$rc: $(head -c 300 "$tmp/l.err")"
n=$(wc -l < "$tmp/l.json")
[ "$n" = 7 ] && ok "7 JSON lines: one per domain probed (duplicate once, 2 rejected)" || fail "7 JSON lines" "$n"
expect l.json '[.[] | .domain.line] | sort == [3, 4, 6, 7, 10, 11, 12]' -s
# every line is a whole survey document, its parts session documents
expect l.json 'all(.survey == true and .dns.schema == 1 and (.dns.steps | length) == 10 and
               all(.probes[]; .schema == 1 and (.steps | length) == 10 and (.result | has("failed_step"))) and
               (.exit_code | type) == "number")' -s
expect l.json 'all(.[]; .domain | (.name | type) == "string" and (.class | IN("fail", "warning", "ok")))' -s
check "stderr names the control-byte line by its number" \
    grep -q '^mxscope: line 8: bad\\x1Bname.test: rejected: the name has a control byte (0x1B)' "$tmp/l.err"
check "stderr names the 300-octet line by its number" \
    grep -q '^mxscope: line 9: aaaa.*rejected: the name is 300 octets long' "$tmp/l.err"
check "the duplicate is said, probed once" grep -q '^mxscope: line 5: example.test: also on line 3, probed once' "$tmp/l.err"
if grep -q "$esc" "$tmp/l.err" "$tmp/l.json"; then fail "no raw ESC on stderr or in the JSON"; else ok "no raw ESC on stderr or in the JSON"; fi
# IDN: A-label probed, both forms kept
expect l.json '.[] | select(.domain.line == 7) | .domain.name == "xn--bcher-kva.insecure.test" and .domain.unicode == "bücher.insecure.test" and .dns.target.input == "xn--bcher-kva.insecure.test" and .dns.dns.mx_rcode == "nxdomain"' -s
expect l.json '.[] | select(.domain.line == 6) | .domain.class == "fail" and .dns.result.failed_step == "RESOLVE" and (.probes | length) == 0' -s
# per-line --port: the expired listener on line 10, the good one on line 3
expect l.json ".[] | select(.domain.line == 10) | all(.probes[]; .connect.port == $MXS_PORT_EXPIRED and .chain[0].sha1 != \"$MXS_GOOD_SHA1\" and .result.failed_step == \"CHAIN\")" -s
expect l.json ".[] | select(.domain.line == 3) | (.probes | length) == 3 and all(.probes[]; .connect.port == $MXS_PORT_GOOD and .chain[0].sha1 == \"$MXS_GOOD_SHA1\") and .domain.class == \"ok\" and .domain.options == \"-4 --port $MXS_PORT_GOOD\"" -s

# docs/json.md's partner-list section names every key of .domain
top=$(cd "$(dirname "$0")/../.." && pwd)
sed -n '/^## Partner lists/,/^## The TLS-RPT/p' "$top/docs/json.md" > "$tmp/doc"
missing=""
for k in $(jq -r '.domain | keys[]' "$tmp/l.json" | sort -u); do
    grep -q "\"$k\":" "$tmp/doc" || missing="$missing $k"
done
[ -n "$(jq -r '.domain | keys[]' "$tmp/l.json" | head -1)" ] && [ -z "$missing" ] && ok "docs/json.md names every key of .domain" \
    || fail "docs/json.md names every key of .domain" "missing:$missing"

# ---- --save-dir: whole files, 0600, one per domain ----------------------------------
for f in example.test.line3 insecure.test.line4 nothere.insecure.test xn--bcher-kva.insecure.test \
         example.test.line10 implicit.example.test.line11 nullmx.example.test; do
    p="$tmp/saved/$f.txt"
    if [ -f "$p" ] && [ "$(stat -c %a "$p")" = 600 ] && head -1 "$p" | grep -q '^# mxscope .* transcript'; then
        ok "saved $f.txt, mode 0600"
    else fail "saved $f.txt, mode 0600" "$(ls -la "$tmp/saved" | head -12)"; fi
done
h=$(grep -c '^# mxscope .* transcript' "$tmp/saved/example.test.line3.txt")
[ "$h" = 3 ] && ok "the domain's file holds each of its 3 probes' transcripts" || fail "3 transcripts in one file" "$h"
check "every transcript ends with its chain (whole)" sh -c "[ \$(grep -c -- '-----END CERTIFICATE-----' '$tmp/saved/example.test.line3.txt') -ge 3 ]"
left=$(find "$tmp/saved" -name '.*' -type f | wc -l)
[ "$left" = 0 ] && ok "no temp files left in the save folder" || fail "temp files left" "$left"
[ "$(ls "$tmp/saved" | wc -l)" = 7 ] && ok "7 files: the rejected and duplicate lines saved nothing" || fail "7 files" "$(ls "$tmp/saved")"

# ---- each domain as a single-domain run of it ------------------------------------------
# A single run probes the first MX that answers; the list's document has that
# probe among its own (same MX host and address): same first failing step,
# verdicts and thumbprint.  A domain without probes: RESOLVE's result.
same=0; diff=0
for line in 3 4 6 7 10 11 12; do
    jq -c "select(.domain.line == $line)" "$tmp/l.json" > "$tmp/d$line.json"
    name=$(jq -r '.domain.name' "$tmp/d$line.json")
    opts=$(jq -r '.domain.options' "$tmp/d$line.json")
    # shellcheck disable=SC2086
    "$MXS_BIN" --batch --json $dns $opts "$name" > "$tmp/s$line.json" 2>/dev/null
    key='{fs: .result.failed_step, v: [.verdict[] | [.policy, .outcome, .step, .finding]], sha1: .chain[0].sha1}'
    want=$(jq -c "$key" "$tmp/s$line.json")
    host=$(jq -r 'if .connect.address then .dns.mx[.connect.mx].host else "" end' "$tmp/s$line.json")
    addr=$(jq -r '.connect.address // ""' "$tmp/s$line.json")
    if [ -n "$addr" ]; then
        got=$(jq -c --arg h "$host" --arg a "$addr" "[.probes[] | select(.connect.address == \$a and .dns.mx[.connect.mx].host == \$h)][0] | $key" "$tmp/d$line.json")
    else
        got=$(jq -c ".dns | $key" "$tmp/d$line.json")
    fi
    if [ -n "$want" ] && [ "$want" = "$got" ]; then same=$((same + 1))
    else diff=$((diff + 1)); fail "line $line ($name) as a single run" "single $want, list $got"; fi
done
[ $diff = 0 ] && [ $same = 7 ] && ok "every domain's result (first failing step, verdicts, thumbprint) is the single run's"

# ---- the RSA-only side handshake in a list: only where it shows something -------------
# A list run starts it once our handshake shows a certificate that is not RSA
# (engine side_lazy): the RSA-only listener sees one connection per probe,
# the dual-certificate one two; the second certificate reads as in a single run.
printf 'implicit.example.test -4 --port %s\nimplicit.example.test -4 --port %s\n' \
    "$MXS_PORT_GOOD" "$MXS_PORT_DUALCERT" > "$tmp/side.list"
n0=$(wc -l < "$MXS_POSTFIX_LOG")
# shellcheck disable=SC2086
"$MXS_BIN" --batch --domains "$tmp/side.list" --json $dns > "$tmp/side.json" 2> /dev/null
conns() { # listener: "connect from" lines since n0 (postlogd writes a moment later)
    tail -n +"$((n0 + 1))" "$MXS_POSTFIX_LOG" | grep -c "postfix/$1/smtpd\[[0-9]*\]: connect from"
}
i=0; while [ $i -lt 20 ] && [ "$(conns dualcert)" -lt 2 ]; do sleep 0.1; i=$((i + 1)); done
g=$(conns good); dc=$(conns dualcert)
[ "$g" = 1 ] && [ "$dc" = 2 ] && ok "list: one connection to an RSA-only server, two to a dual-certificate one" ||
    fail "list: side handshake only where needed" "good $g connections, dualcert $dc"
skey='[.probes[0].second_certificate | .completed, .error, .leaf.sha1]'
for port in "$MXS_PORT_GOOD" "$MXS_PORT_DUALCERT"; do
    # shellcheck disable=SC2086
    want=$("$MXS_BIN" --batch --json --all $dns -4 --port "$port" implicit.example.test 2> /dev/null | jq -c "$skey")
    got=$(jq -c --arg o "-4 --port $port" "select(.domain.options == \$o) | $skey" "$tmp/side.json")
    [ -n "$want" ] && [ "$want" = "$got" ] && ok "list: port $port's second certificate as in a single run ($got)" ||
        fail "list: second certificate as a single run (port $port)" "single $want, list $got"
done

# ---- the summary (text) --------------------------------------------------------------------
# shellcheck disable=SC2086
"$MXS_BIN" --batch --domains "$tmp/list" $dns > "$tmp/t.txt" 2> "$tmp/t.err"
rc=$?
[ $rc = 6 ] && ok "summary run exits 6" || fail "summary exit" "$rc"
check "the table's first row is a failure" sh -c "grep -A1 '^urgency' '$tmp/t.txt' | tail -1 | grep -q '^FAIL '"
check "the last row is the one that passed (line 3)" sh -c "awk '/^urgency/{t=1;next} t&&/^\$/{exit} t{l=\$0} END{print l}' '$tmp/t.txt' | grep -q '^ok  *3  *-  *encrypted  *encrypted  *encrypted  *-  *encrypted  *88  *$MXS_GOOD_SHA1  *3  *example.test \\[-4 --port $MXS_PORT_GOOD\\]\$'"
check "the IDN row shows both forms" grep -q 'xn--bcher-kva.insecure.test (bücher.insecure.test)' "$tmp/t.txt"
check "what expires first: the expired leaf, a warning" sh -c "grep -A1 '^Expires first' '$tmp/t.txt' | tail -1 | grep -q 'days left.*example.test \\[-4 --port $MXS_PORT_EXPIRED\\] (line 10)  <- warning'"
check "rejected lines listed with their numbers" sh -c "grep -q '^  line 8  *bad\\\\x1Bname.test: the name has a control byte' '$tmp/t.txt' && grep -q '^  line 9  *aaaa' '$tmp/t.txt'"
check "Result line" grep -q '^Result: exit 6 (a domain failed)' "$tmp/t.txt"
# MTA-STS enforce not covering the MX: every step passes, but MTA-STS senders
# refuse it: a failure at POLICY, the mta-sts column NO.
# shellcheck disable=SC2086
printf 'notcovered.sts.example.test -4 --port %s\nenforce.sts.example.test -4 --port %s\n' "$MXS_PORT_GOOD" "$MXS_PORT_GOOD" |
    "$MXS_BIN" --batch --domains - $dns > "$tmp/sts.txt" 2>&1
rc=$?
check "MTA-STS: the uncovered MX fails at POLICY, the mta-sts column NO (exit $rc)" sh -c "[ $rc = 6 ] &&
    grep -q '^FAIL  *1  *POLICY  *encrypted  *encrypted  *encrypted  *-  *NO  *88 .* notcovered.sts.example.test' '$tmp/sts.txt' &&
    grep -q '^ok  *2  *-  *encrypted  *encrypted  *encrypted  *-  *encrypted  *88 .* enforce.sts.example.test' '$tmp/sts.txt'"
if grep -q "$(printf '\r')" "$tmp/t.err"; then fail "no progress line when stderr is not a terminal"; else ok "no progress line when stderr is not a terminal"; fi
# ---- stdin, exit codes 0 and 4 ----------------------------------------------------------------
printf 'example.test -4 --port %s\n' "$MXS_PORT_GOOD" > "$tmp/good"
# shellcheck disable=SC2086
"$MXS_BIN" --batch --json --domains - $dns < "$tmp/good" > "$tmp/g.json" 2>/dev/null
rc=$?
[ $rc = 0 ] && ok "a list that passes exits 0 (read from stdin)" || fail "exit 0" "$rc"
expect g.json '.domain.line == 1 and .exit_code == 0'
# shellcheck disable=SC2086
"$MXS_BIN" --batch --domains "$tmp/good" --expiry-warn 365 $dns > "$tmp/w.txt" 2>/dev/null
rc=$?
[ $rc = 4 ] && ok "--expiry-warn 365: the 88-day leaf is a warning, exit 4" || fail "expiry-warn exit 4" "$rc"
check "--expiry-warn: the row is WARN" grep -q '^WARN  *1  *- .* 88 .* example.test \[' "$tmp/w.txt"

# ---- the per-host limit and the whole-domain deadline -------------------------------------------
# Four probes, all to 127.0.0.1 at the slow-banner port (greeting after
# ${MXS_SLOWBANNER_SECS:-5} s): example.test -4 has three MX hosts on that address, insecure.test one.
# With a 2 s deadline: at most 2 at once, so 2 reach BANNER, 2 never get past CONNECT.
printf 'example.test -4 --port %s\ninsecure.test --port %s\n' "$MXS_PORT_SLOWBANNER" "$MXS_PORT_SLOWBANNER" > "$tmp/slow"
for ph in 2 4; do
    # shellcheck disable=SC2086
    "$MXS_BIN" --batch --json --domains "$tmp/slow" --domain-timeout 2 --per-host $ph $dns > "$tmp/ph$ph.json" 2>/dev/null
    echo $? > "$tmp/ph$ph.rc"
done
expect ph2.json '[.[].probes[] | .steps[] | select(.status == "cancelled") | .step] | sort == ["BANNER", "BANNER", "CONNECT", "CONNECT"]' -s
expect ph4.json '[.[].probes[] | .steps[] | select(.status == "cancelled") | .step] == ["BANNER", "BANNER", "BANNER", "BANNER"]' -s
expect ph2.json 'all(.domain.deadline_passed and .domain.class == "fail" and .domain.elapsed_ms < 3500)' -s
[ "$(cat "$tmp/ph2.rc")" = 6 ] && ok "a domain past its deadline fails: exit 6" || fail "deadline exit 6" "$(cat "$tmp/ph2.rc")"
# shellcheck disable=SC2086
"$MXS_BIN" --batch --domains "$tmp/slow" --domain-timeout 2 --save-dir "$tmp/saved" $dns > /dev/null 2>&1
if command -v script > /dev/null 2>&1; then
    # shellcheck disable=SC2086
    script -qec "'$MXS_BIN' --batch --domains '$tmp/slow' --domain-timeout 2 $dns" /dev/null > "$tmp/tty.txt" 2>&1
    check "a progress line on a terminal (done/total, failing, elapsed)" grep -qE 'mxscope: [0-9]+/2 done, [0-9]+ failing, [0-9]+ running, [0-9]+ s' "$tmp/tty.txt"
else
    fail "needs script (util-linux) for a terminal"
fi
check "the transcript says the deadline cancelled it" grep -q 'whole-domain deadline (2 s, --domain-timeout) passed' "$tmp/saved/insecure.test.line2.txt"

# ---- Ctrl-C: what finished is written, the run says it is partial, exit 3 ----------------------
printf 'insecure.test --port %s\nexample.test -4 --port %s\n' "$MXS_PORT_GOOD" "$MXS_PORT_SLOWBANNER" > "$tmp/int"
for mode in json text; do
    j=; [ $mode = json ] && j=--json
    # shellcheck disable=SC2086
    "$MXS_BIN" --batch $j --domains "$tmp/int" $dns > "$tmp/i.$mode" 2> "$tmp/i.$mode.err" &
    pid=$!
    i=0  # wait until the fast domain is done (at most 5 s), then Ctrl-C
    while [ $i -lt 50 ]; do
        if [ $mode = json ]; then [ -s "$tmp/i.$mode" ] && break; else sleep 1; break; fi
        sleep 0.1; i=$((i + 1))
    done
    kill -INT $pid
    wait $pid
    echo $? > "$tmp/i.$mode.rc"
done
[ "$(cat "$tmp/i.json.rc")" = 3 ] && ok "Ctrl-C: exit 3 (--json)" || fail "Ctrl-C exit 3 (--json)" "$(cat "$tmp/i.json.rc")"
expect i.json '[.[] | .domain.line] == [1]' -s
check "Ctrl-C (--json): the partial run is said on stderr" grep -q '^INTERRUPTED: a partial run. 1 line finished and written; 1 domain still running were dropped' "$tmp/i.json.err"
[ "$(cat "$tmp/i.text.rc")" = 3 ] && ok "Ctrl-C: exit 3 (summary)" || fail "Ctrl-C exit 3 (summary)" "$(cat "$tmp/i.text.rc")"
check "Ctrl-C: the summary has the finished domain" grep -q '^FAIL  *1  *CHAIN .* insecure.test \[--port' "$tmp/i.text"
check "Ctrl-C: the summary says the run is partial" grep -q '^INTERRUPTED: a partial run' "$tmp/i.text"
check "Ctrl-C: Result exit 3" grep -q '^Result: exit 3 (interrupted' "$tmp/i.text"

# ---- 100,000 lines, streamed -------------------------------------------------------------------
# Bad names (rejected without the network, each with its line number) and,
# every 10,000th line, a name that NXDOMAINs at once.  The file is larger
# than the peak RSS allowed: it cannot have been loaded whole.
awk -v long="$long" 'BEGIN { for (i = 1; i <= 100000; i++) if (i % 10000 == 0) print "n" i ".insecure.test"; else print long i }' > "$tmp/big"
size=$(stat -c %s "$tmp/big")
if [ -x /usr/bin/time ]; then
    # shellcheck disable=SC2086
    /usr/bin/time -f '%M' -o "$tmp/big.rss" "$MXS_BIN" --batch --json --domains "$tmp/big" $dns > "$tmp/big.json" 2> "$tmp/big.err"
    rc=$?
    rss=$(tail -1 "$tmp/big.rss")
    [ $rc = 6 ] && ok "100,000 lines: exit 6 (the NXDOMAIN names fail)" || fail "100,000 lines exit" "$rc"
    [ "$(wc -l < "$tmp/big.json")" = 10 ] && ok "100,000 lines: the 10 names probed" || fail "100,000 lines: 10 probed" "$(wc -l < "$tmp/big.json")"
    [ "$(grep -c ': rejected: the name is 30[0-9][0-9]* octets long' "$tmp/big.err")" = 99990 ] && ok "100,000 lines: 99,990 rejected, each said" \
        || fail "99,990 rejected" "$(grep -c rejected "$tmp/big.err")"
    check "100,000 lines: the last rejected line has its number" grep -q '^mxscope: line 99999: ' "$tmp/big.err"
    # (ASan's quarantine keeps 256 MiB of freed memory: the plain suite measures)
    if [ "${MXS_TAG:-}" = asan ]; then
        echo "# asan: peak RSS not measured (the plain suite holds it under 32 MiB)"
    elif [ "$rss" -lt 32768 ] && [ "$size" -gt 30000000 ]; then ok "100,000 lines (${size} bytes) streamed: peak RSS ${rss} KiB"
    else fail "100,000 lines streamed" "peak RSS ${rss} KiB for a file of $size bytes"; fi
    # shellcheck disable=SC2086
    /usr/bin/time -f '%M' -o "$tmp/big2.rss" "$MXS_BIN" --batch --domains - $dns < "$tmp/big" > "$tmp/big.txt" 2>/dev/null
    rss=$(tail -1 "$tmp/big2.rss")
    if [ "${MXS_TAG:-}" = asan ]; then :
    elif [ "$rss" -lt 32768 ]; then ok "100,000 lines from stdin, summary: peak RSS ${rss} KiB"
    else fail "100,000 lines summary RSS" "$rss KiB"; fi
    check "the summary lists the first 50 rejected lines, then counts" grep -q '^  ... and 99940 more (each on stderr with its line number)' "$tmp/big.txt"
else
    fail "needs /usr/bin/time" "apt-get install time"
fi

# ---- the built-in lab: each line a scenario --------------------------------------------------------
printf 'good\nexpired\nno-starttls\nwrong-name\nexpiring-soon\nnosuch\n' > "$tmp/lab"
"$MXS_BIN" --batch --json --lab --domains "$tmp/lab" --per-host 8 > "$tmp/lab.json" 2> "$tmp/lab.err"
rc=$?
[ $rc = 6 ] && ok "--lab --domains: exit 6" || fail "--lab --domains exit 6" "$rc: $(head -c 300 "$tmp/lab.err")"
expect lab.json '[.[] | .domain.line] | sort == [1, 2, 3, 4, 5]' -s
check "--lab --domains: an unknown scenario is a rejected line" grep -q '^mxscope: line 6: nosuch: rejected: lab: no scenario' "$tmp/lab.err"
# the same as a single run of each scenario (the lab's certificates are new in
# every process: the step and the verdicts, not the thumbprint)
labsame=0
for sc in good expired no-starttls wrong-name expiring-soon; do
    "$MXS_BIN" --batch --json --lab "$sc" > "$tmp/lab1.json" 2>/dev/null
    want=$(jq -c '{fs: .result.failed_step, v: [.verdict[] | [.policy, .outcome, .step, .finding]], f: [.findings[].id]}' "$tmp/lab1.json")
    got=$(jq -c --arg s "$sc" 'select(.domain.name == $s) | .probes[0] | {fs: .result.failed_step, v: [.verdict[] | [.policy, .outcome, .step, .finding]], f: [.findings[].id]}' "$tmp/lab.json")
    if [ -n "$want" ] && [ "$want" = "$got" ]; then labsame=$((labsame + 1)); else fail "lab $sc as a single run" "single $want, list $got"; fi
done
[ $labsame = 5 ] && ok "--lab --domains: each scenario as its single run (failed step, verdicts, findings)"

# ---- --format: the list for monitoring (core/session/monitor.c renders it) ----------------------
# shellcheck disable=SC2086
"$MXS_BIN" --batch --domains "$tmp/good" --format nagios $dns > "$tmp/n.txt" 2>/dev/null
rc=$?
[ $rc = 0 ] && grep -q '^MXSCOPE OK - ' "$tmp/n.txt" && ok "--format nagios: a passing list is OK, exit 0" \
    || fail "--format nagios OK" "$rc: $(head -c 300 "$tmp/n.txt")"
printf 'example.test -4 --port %s\n' "$MXS_PORT_EXPIRED" > "$tmp/expired"
# shellcheck disable=SC2086
"$MXS_BIN" --batch --domains "$tmp/expired" --format nagios $dns > "$tmp/n2.txt" 2>/dev/null
rc=$?
[ $rc = 2 ] && grep -q "^MXSCOPE CRITICAL - 1 of 1 domain fail: example.test (CHAIN cert-expired).*'example.test_days'=-" "$tmp/n2.txt" \
    && ok "--format nagios: an expired leaf is CRITICAL, exit 2, days left in the perfdata" || fail "--format nagios CRITICAL" "$rc: $(head -c 300 "$tmp/n2.txt")"
# shellcheck disable=SC2086
"$MXS_BIN" --batch --domains "$tmp/list" --format prometheus $dns > "$tmp/p.prom" 2>/dev/null
rc=$?
[ $rc = 0 ] && ok "--format prometheus: exit 0 once written" || fail "--format prometheus exit" "$rc"
if command -v promtool > /dev/null 2>&1; then
    check "--format prometheus: promtool check metrics" sh -c "promtool check metrics < '$tmp/p.prom'"
else
    fail "needs promtool" "apt-get install prometheus"
fi
n=$(grep -c '^mxscope_domain_state{' "$tmp/p.prom")
[ "$n" = 6 ] && ok "--format prometheus: one state per domain name probed" || fail "--format prometheus domains" "$n"
"$MXS_BIN" --batch --domains "$tmp/good" --format nagios --json > /dev/null 2>&1; rc=$?
[ $rc = 1 ] && ok "--format with --json: usage, exit 1" || fail "--format + --json" "$rc"
"$MXS_BIN" --batch --domains "$tmp/good" --format graphite > /dev/null 2>&1; rc=$?
[ $rc = 1 ] && ok "--format graphite: usage, exit 1" || fail "--format graphite" "$rc"

# ---- usage ------------------------------------------------------------------------------------------
"$MXS_BIN" --batch --domains "$tmp/good" example.test > /dev/null 2>&1; rc=$?
[ $rc = 1 ] && ok "--domains with a DOMAIN: usage, exit 1" || fail "--domains + DOMAIN" "$rc"
"$MXS_BIN" --batch --domains "$tmp/good" --parallel 0 > /dev/null 2>&1; rc=$?
[ $rc = 1 ] && ok "--parallel 0: usage, exit 1" || fail "--parallel 0" "$rc"
# shellcheck disable=SC3045  # dash and bash have ulimit -n
(ulimit -n 200; "$MXS_BIN" --batch --domains "$tmp/good" --parallel 512 > /dev/null 2> "$tmp/fd.err"); rc=$?
[ $rc = 2 ] && grep -q 'needs about 3136 file descriptors; the limit is 200' "$tmp/fd.err" \
    && ok "--parallel beyond the open-file limit: refused, exit 2" || fail "--parallel beyond ulimit -n" "$rc: $(cat "$tmp/fd.err")"
"$MXS_BIN" --batch --domains "$tmp/nonexistent" > /dev/null 2>&1; rc=$?
[ $rc = 2 ] && ok "a list that cannot be opened: exit 2" || fail "missing list" "$rc"
# without --batch --domains opens the console (tests/console/domains.sh); its outputs are batch's
"$MXS_BIN" --domains "$tmp/good" --json > /dev/null 2> "$tmp/nb.err"; rc=$?
[ $rc = 1 ] && grep -q 'go with --batch' "$tmp/nb.err" && ok "the console's --domains with --json: usage, exit 1" \
    || fail "--domains --json no --batch" "$rc: $(cat "$tmp/nb.err")"
"$MXS_BIN" --domains "$tmp/nonexistent" > /dev/null 2> "$tmp/nb.err"; rc=$?
[ $rc = 2 ] && grep -q 'nonexistent' "$tmp/nb.err" && ok "the console's --domains with a list that cannot be opened: exit 2" \
    || fail "console --domains missing list" "$rc: $(cat "$tmp/nb.err")"
"$MXS_BIN" --batch --parallel 4 example.test > /dev/null 2>&1; rc=$?
[ $rc = 1 ] && ok "--parallel without --domains: exit 1" || fail "--parallel alone" "$rc"
finish
