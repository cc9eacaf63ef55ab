#!/bin/sh
# tests/integration/monitor.sh - the monitoring renderer (core/session/monitor.c,
# driven by tests/fixtures/monitorcat) on documents of real runs against the
# test world: `mxscope --batch --json` of the good, expiring, expired,
# wrong-name and no-STARTTLS Postfix listeners, and an `--all` survey of
# example.test.  The Nagios status line, exit code and perfdata are checked
# against each document's own facts (jq), and the Prometheus exposition with
# Debian's `promtool check metrics` and against the same facts.
# Owner: monitoring (issue 13).
. "$(dirname "$0")/../lib.sh"
need jq
need promtool
world_env
cat=$MXS_BUILD/fixtures/monitorcat
[ -x "$cat" ] || { fail "monitorcat" "$cat not built (make tests-bin)"; finish; }
tmp=$(mktemp -d /tmp/mxscope-monitor.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# doc NAME PORTVAR: a single-host run; the document's domain becomes
# NAME.example.test (every run here probes mx1.example.test: a list has one
# domain a line, so the names must differ).
doc() {
    eval port=\$MXS_PORT_$2
    "$MXS_BIN" --batch --json --host mx1.example.test --connect "127.0.0.1:$port" \
        --cafile "$MXS_CA" --timeout 10 > "$tmp/$1.raw" 2> "$tmp/$1.err"
    jq -c --arg d "$1.example.test" '.target.input = $d' "$tmp/$1.raw" > "$tmp/$1.json" ||
        fail "document $1" "not JSON: $(head -c 200 "$tmp/$1.err")"
}
for n in good:GOOD expiring:EXPIRING expired:EXPIRED wrongname:WRONGNAME nostarttls:NOSTARTTLS; do
    doc "${n%%:*}" "${n#*:}"
done
dns="--resolver $MXS_DNS_RESOLVER --trust-anchor $MXS_TRUST_ANCHOR --unbound-conf $MXS_UNBOUND_CONF --cafile $MXS_CA"
# shellcheck disable=SC2086
"$MXS_BIN" --batch --all --json $dns --port "$MXS_PORT_OLD" --timeout 10 example.test > "$tmp/survey.json" 2>/dev/null
jq -e '.survey == true and (.probes | length) >= 3' "$tmp/survey.json" > /dev/null &&
    ok "the survey document of example.test has its probes" ||
    fail "survey document" "$(head -c 300 "$tmp/survey.json")"

days() { jq -r '[.probes // [.] | .[] | .chain[0].days_left // empty] | min // "U"' "$tmp/$1.json"; }
failure() { jq -r '"\(.result.failed_step) \([.findings[] | select(.severity == "error") | .id][0])"' "$tmp/$1.json"; }

# --- Nagios --------------------------------------------------------------------
"$cat" nagios "$tmp"/good.json > "$tmp/n-good.out"; rc=$?
[ $rc = 0 ] && ok "nagios: the good listener alone is OK (exit 0)" || fail "nagios good exit 0" "exit $rc: $(cat "$tmp/n-good.out")"
check "nagios: OK line names the first expiry" grep -q "^MXSCOPE OK - 1 domain pass; first expiry: good.example.test in $(days good) days | " "$tmp/n-good.out"

"$cat" nagios "$tmp"/expiring.json > "$tmp/n-exp.out"; rc=$?
[ $rc = 1 ] && ok "nagios: a leaf 10 days from expiry is WARNING (exit 1)" || fail "nagios expiring exit 1" "exit $rc: $(cat "$tmp/n-exp.out")"
check "nagios: WARNING says how many days" grep -q "^MXSCOPE WARNING - 1 of 1 domain warn: expiring.example.test (leaf expires in $(days expiring) days)" "$tmp/n-exp.out"
"$cat" nagios -w 30 -c 11 "$tmp"/expiring.json > /dev/null; rc=$?
[ $rc = 2 ] && ok "nagios: under the critical threshold (-c 11) it is CRITICAL" || fail "nagios -c 11" "exit $rc"

set -- good expiring expired wrongname nostarttls survey
files=""; for n; do files="$files $tmp/$n.json"; done
# shellcheck disable=SC2086
"$cat" nagios $files > "$tmp/n-all.out"; rc=$?
[ $rc = 2 ] && ok "nagios: the mix is CRITICAL (exit 2)" || fail "nagios mix exit 2" "exit $rc: $(head -c 400 "$tmp/n-all.out")"
line=$(head -n 1 "$tmp/n-all.out")
nfail=0
for n in expired wrongname nostarttls; do
    f=$(failure $n)
    case $line in
        *"$n.example.test ($f)"*) ok "nagios: $n.example.test listed with its failure ($f)" ;;
        *) fail "nagios lists $n.example.test ($f)" "$line" ;;
    esac
    nfail=$((nfail + 1))
done
# The survey fails when one of its probes failed (the old certificate on
# 127.0.0.1 expires within 30 days: a warning at most).
sv_fail=$(jq '[.probes[] | select(.result.failed_step != null)] | length' "$tmp/survey.json")
[ "$sv_fail" -gt 0 ] && nfail=$((nfail + 1))
case $line in
    "MXSCOPE CRITICAL - $nfail of 6 domains fail: "*) ok "nagios: $nfail of 6 domains fail" ;;
    *) fail "nagios: $nfail of 6 domains fail" "$line" ;;
esac
for n in "$@"; do
    d=$(days $n)
    name=$n.example.test; [ $n = survey ] && name=example.test
    case $line in
        *" '$name""_days'=$d;30:;7:"*) ok "nagios perfdata: '${name}_days'=$d" ;;
        *) fail "nagios perfdata for $name: $d" "$line" ;;
    esac
done
[ "$(printf '%s' "$line" | tr -cd '|' | wc -c)" = 1 ] && ok "nagios: one '|' on the status line" || fail "nagios: one '|'" "$line"
n_long=$(($(wc -l < "$tmp/n-all.out") - 1))
n_bad=$(grep -c '^\(CRITICAL\|WARNING\|UNKNOWN\): ' "$tmp/n-all.out")
[ "$n_long" = "$n_bad" ] && [ "$n_bad" -ge 4 ] && ok "nagios: one long-text line per domain not OK ($n_bad)" ||
    fail "nagios long text" "$n_long lines, $n_bad states"

# JSON Lines (what --domains --json writes) give the same output.
cat "$tmp"/good.json "$tmp"/expiring.json "$tmp"/expired.json "$tmp"/wrongname.json \
    "$tmp"/nostarttls.json > "$tmp/lines.jsonl"
jq -c . "$tmp/survey.json" >> "$tmp/lines.jsonl"
"$cat" nagios -l "$tmp/lines.jsonl" > "$tmp/n-lines.out"
check "nagios: JSON Lines input renders the same" cmp -s "$tmp/n-all.out" "$tmp/n-lines.out"

# --- Prometheus ------------------------------------------------------------------
# shellcheck disable=SC2086
"$cat" prometheus -t 1764000000 $files > "$tmp/p.prom"; rc=$?
[ $rc = 0 ] && ok "prometheus: exit 0" || fail "prometheus exit 0" "exit $rc"
if promtool check metrics < "$tmp/p.prom" > "$tmp/promtool.out" 2>&1; then
    ok "promtool check metrics accepts the exposition"
else
    fail "promtool check metrics" "$(head -c 400 "$tmp/promtool.out")"
fi
series=$(grep -c '^mxscope_probe_success{' "$tmp/p.prom")
want=$(jq -s '[.[] | (.probes // [.]) | length] | add' $files)
[ "$series" = "$want" ] && ok "prometheus: one probe_success per (domain, MX, address): $want" ||
    fail "prometheus probe_success series" "$series, documents have $want probes"
for n in good expired nostarttls; do
    s=$(jq -r '.result.failed_step == null | if . then 1 else 0 end' "$tmp/$n.json")
    check "prometheus: $n probe_success $s" grep -q "^mxscope_probe_success{domain=\"$n.example.test\",mx=\"mx1.example.test\",address=\"127.0.0.1\"} $s\$" "$tmp/p.prom"
done
v=$(jq -r .tls.version "$tmp/good.json")
check "prometheus: TLS version $v of good" grep -q "^mxscope_tls_version_info{domain=\"good.example.test\",mx=\"mx1.example.test\",address=\"127.0.0.1\",version=\"$v\"} 1\$" "$tmp/p.prom"
left=$(sed -n 's/^mxscope_cert_seconds_left{domain="expiring.example.test",[^}]*} //p' "$tmp/p.prom")
[ -n "$left" ] && [ $((left / 86400)) = "$(days expiring)" ] && ok "prometheus: seconds left of expiring is its $(days expiring) days" ||
    fail "prometheus seconds left" "'$left' vs $(days expiring) days"
pol=$(jq -r '.verdict[] | select(.policy == "verified") | .outcome' "$tmp/expired.json")
check "prometheus: verified verdict of expired ($pol) is 0" grep -q "^mxscope_verdict{domain=\"expired.example.test\",mx=\"mx1.example.test\",address=\"127.0.0.1\",policy=\"verified\",outcome=\"$pol\"} 0\$" "$tmp/p.prom"
addrs=$(grep -c '^mxscope_probe_success{domain="example.test",' "$tmp/p.prom")
[ "$addrs" = "$(jq '.probes | length' "$tmp/survey.json")" ] && ok "prometheus: every address of the survey ($addrs)" ||
    fail "prometheus survey addresses" "$addrs"
check "prometheus: the run's timestamp" grep -q '^mxscope_last_run_timestamp_seconds 1764000000$' "$tmp/p.prom"

# The --domains front end's JSON Lines (one survey document a domain, with
# "domain"), when this binary has it; then --format, when it has that.
if "$MXS_BIN" --help 2>/dev/null | grep -q -- '--domains'; then
    printf 'example.test --port %s\ninsecure.test --port %s\n' "$MXS_PORT_GOOD" "$MXS_PORT_NOSTARTTLS" > "$tmp/list"
    # shellcheck disable=SC2086
    "$MXS_BIN" --batch --domains "$tmp/list" -4 --json $dns --timeout 10 > "$tmp/list.jsonl" 2> "$tmp/list.err"
    "$cat" nagios -l "$tmp/list.jsonl" > "$tmp/n-list.out"; rc=$?
    f=$(jq -r 'select(.domain.name == "insecure.test") | .probes[0] | "\(.result.failed_step) \([.findings[] | select(.severity == "error") | .id][0])"' "$tmp/list.jsonl")
    if [ $rc = 2 ] && grep -q "^MXSCOPE CRITICAL - 1 of 2 domains fail: insecure.test ($f) | " "$tmp/n-list.out"; then
        ok "nagios over --domains --json: insecure.test fails ($f), example.test passes"
    else
        fail "nagios over --domains --json" "exit $rc: $(head -c 300 "$tmp/n-list.out") $(head -c 200 "$tmp/list.err")"
    fi
    "$cat" prometheus -l "$tmp/list.jsonl" | promtool check metrics > "$tmp/promtool-list.out" 2>&1 &&
        ok "promtool accepts the exposition of --domains --json" ||
        fail "promtool on --domains --json" "$(head -c 300 "$tmp/promtool-list.out")"
    if "$MXS_BIN" --help 2>/dev/null | grep -q -- '--format'; then
        # shellcheck disable=SC2086
        "$MXS_BIN" --batch --domains "$tmp/list" -4 --format nagios $dns --timeout 10 > "$tmp/fmt-n.out" 2>/dev/null; rc=$?
        [ $rc = 2 ] && grep -q '^MXSCOPE CRITICAL - 1 of 2 domains fail: insecure.test (' "$tmp/fmt-n.out" &&
            ok "--format nagios: exit 2 and the status line" || fail "--format nagios" "exit $rc: $(head -c 300 "$tmp/fmt-n.out")"
        # shellcheck disable=SC2086
        "$MXS_BIN" --batch --domains "$tmp/list" -4 --format prometheus $dns --timeout 10 > "$tmp/fmt-p.out" 2>/dev/null
        promtool check metrics < "$tmp/fmt-p.out" > "$tmp/promtool-fmt.out" 2>&1 &&
            grep -q '^mxscope_probe_success{domain="example.test",' "$tmp/fmt-p.out" &&
            ok "--format prometheus: promtool accepts it" || fail "--format prometheus" "$(head -c 300 "$tmp/promtool-fmt.out")"
    else
        echo "# this mxscope has --domains but no --format: the renderer was checked through monitorcat only"
    fi
else
    echo "# this mxscope has no --domains: its JSON Lines were not checked (monitorcat -l was, above)"
fi

# A hostile name in a forged document (a quote, a backslash, a newline, ESC,
# '|', a bidi override): escaped once by mxs_escape (\\ \x0A \x1B <U+202E>),
# then quoted for the exposition (\ and " escaped again); promtool accepts it.
jq -c '.target.input = "evil\"\\\n\u001b[31m|x" | .dns.mx[0].host = "\u202eevil"' "$tmp/expired.json" > "$tmp/evil.json"
"$cat" prometheus "$tmp/evil.json" > "$tmp/evil.prom"
if promtool check metrics < "$tmp/evil.prom" > "$tmp/promtool-evil.out" 2>&1 &&
   grep -qF 'mxscope_probe_success{domain="evil\"\\\\\\x0A\\x1B[31m|x",mx="<U+202E>evil",' "$tmp/evil.prom"; then
    ok "prometheus: hostile names escaped (mxs_escape, then the exposition's quoting)"
else
    fail "prometheus hostile names" "$(cat "$tmp/promtool-evil.out"; grep -m1 probe_success "$tmp/evil.prom")"
fi
finish
