#!/bin/sh
# tests/bench/domains.sh BUILD - a partner list of 1,000 domains, probed by
# `mxscope --batch --domains` and by `xargs -P 64` running posttls-finger per
# domain, side by side in one run; then 10,000 probes in one mxscope process
# (the list ten times) watched for memory and file-descriptor growth; then
# 20 domains of the list probed alone, whose results must equal the list's.
# A benchmark, not a test: it prints figures and the targets of issue 13
# (at least 2x faster, peak RSS under 64 MiB, no growth, identical results),
# and fails only when it cannot run.
# Owner: benchmark (issue 13).
#
# The world: tests/world.sh (its Postfix listeners good, expired, wrongname
# and nostarttls are the MX hosts; MXS_WORLD=DIR reuses a running one) and
# tests/bench/domains-dns.sh (an unbound with the generated zone).  Each
# list line carries the listener's port (NAME --port N, the list format);
# posttls-finger gets DOMAIN:PORT and the same unbound through a resolv.conf
# bind-mounted in a mount namespace of its own (resolv.conf has no port, so
# that unbound listens on port 53 of MXS_HTTPS_ADDR's address).
#
# Both tools do the same work per domain: MX lookup, A lookup, connect,
# EHLO, STARTTLS, handshake, certificate verified against the MX host name
# (posttls-finger -l verify: Postfix's smtp_tls_security_level = verify;
# mxscope's "verified" policy), with PARALLEL (64) at once; mxscope also gets
# --per-host PARALLEL, or its per-destination limit (2 at once against one
# MX address) would make this a test of that limit against four listeners.
# Environment: PARALLEL (64), DOMAINS (1000), SOAK (10 passes), SAMPLE (20).
set -u
build=${1:-build}
bin=$(cd "$build" && pwd)/mxscope
top=$(cd "$(dirname "$0")/../.." && pwd)
par=${PARALLEL:-64}
n=${DOMAINS:-1000}
soak=${SOAK:-10}
nsample=${SAMPLE:-20}
work=$(mktemp -d /tmp/mxscope-bench-domains.XXXXXX)
own_world=""
cleanup() {
    sh "$top/tests/bench/domains-dns.sh" down "$work/dns" > /dev/null 2>&1
    [ -n "$own_world" ] && sh "$top/tests/world.sh" down "$own_world" > /dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "${MXS_WORLD:-}" ] && [ -f "$MXS_WORLD/env" ]; then
    world=$MXS_WORLD
else
    own_world=$work/w
    world=$own_world
    echo "bench-domains: starting the test world (Postfix + unbound on loopback)..."
    if ! sh "$top/tests/world.sh" up "$world" > "$work/up.log" 2>&1; then
        echo "bench-domains: the test world did not start:"; tail -n 20 "$work/up.log"; exit 1
    fi
fi
. "$world/env"
if ! DOMAINS=$n SOAK=$soak sh "$top/tests/bench/domains-dns.sh" up "$work/dns" "$world/env" > "$work/dns.log" 2>&1; then
    echo "bench-domains: the bench DNS did not start:"; cat "$work/dns.log"; exit 1
fi
. "$work/dns/dns.env"
dnsopts="--resolver $BENCH_RESOLVER --trust-anchor $BENCH_TRUST_ANCHOR --unbound-conf $MXS_UNBOUND_CONF --cafile $MXS_CA"

now_ms() { date +%s%N | cut -c1-13; }
# CPU seconds (user + system) a /usr/bin/time -v report gives, children
# included (xargs waits for every posttls-finger); "-" without one.
cpu() {
    awk -F': ' '/User time|System time/ { t += $2; n++ } END { if (n) printf "%.2f", t; else print "-" }' "$1" 2> /dev/null || echo -
}
# CPU ticks the servers spent: the world's Postfix (master and every child,
# live or reaped) and the bench unbound.  Both tools are judged against the
# same servers on the same cores: what the servers take, neither can use.
hz=$(getconf CLK_TCK 2> /dev/null || echo 100)
pf_master=$(cat "$(postconf -c "$MXS_POSTFIX_DIR" -h queue_directory 2> /dev/null)/pid/master.pid" 2> /dev/null | tr -d ' ')
srv_ticks() {
    t=0
    for p in $(srv_tree "$pf_master") $(cat "$work/dns/unbound.pid" 2> /dev/null); do
        # utime stime cutime cstime: fields 14-17 of /proc/PID/stat (after the comm)
        v=$(sed 's/^.*) //' "/proc/$p/stat" 2> /dev/null | awk '{ print $12 + $13 + $14 + $15 }')
        t=$((t + ${v:-0}))
    done
    echo "$t"
}
srv_tree() { [ -n "$1" ] || return; echo "$1"; for c in $(cat /proc/"$1"/task/*/children 2> /dev/null); do srv_tree "$c"; done; }
secs() { awk -v ms="$1" 'BEGIN { printf "%.2f", ms / 1000 }'; }
mib() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }

help=$("$bin" --help 2>/dev/null)
has() { printf '%s\n' "$help" | grep -q -- "$1"; }
domopts=""
has '--parallel' && domopts="$domopts --parallel $par"
has '--per-host' && domopts="$domopts --per-host $par"

echo "bench-domains: $n domains (7 in 10 good, 1 in 10 each expired, wrong name, no STARTTLS),"
echo "  MX mx1..mx3.example.test on the test world's Postfix, $par at once"

# --- posttls-finger, xargs -P PARALLEL ------------------------------------------
pf=$(command -v posttls-finger || echo /usr/sbin/posttls-finger)
pf_ms=""
if [ ! -x "$pf" ]; then
    echo "bench-domains: no posttls-finger (Debian package postfix): its column is skipped"
elif ! unshare -m true 2> /dev/null; then
    echo "bench-domains: unshare -m is not allowed here (posttls-finger needs the bench resolver): its column is skipped"
else
    # pf_run TARGETS OUT: every target through xargs, in a mount namespace
    # whose /etc/resolv.conf names the bench unbound.  MAIL_CONFIG: the
    # world's main.cf, not the system's; dnssec_probe off (a root NS query
    # per process that the bench DNS does not answer: not the work compared).
    pf_run() {
        MAIL_CONFIG=$MXS_POSTFIX_DIR $tv_pf unshare -m sh -c \
            'mount --bind "$1" /etc/resolv.conf && exec xargs -P "$2" -n 1 "$3" -c -l verify -o dnssec_probe= -F "$4" < "$5"' \
            sh "$work/dns/resolv.conf" "$par" "$pf" "$MXS_CA" "$1" > "$2" 2>&1
    }
    # Warm-up (not timed): Postfix starts its smtpd processes for both tools.
    head -n "$par" "$work/dns/targets" > "$work/warm"
    tv_pf=""
    pf_run "$work/warm" "$work/warm.out"
    [ -x /usr/bin/time ] && tv_pf="/usr/bin/time -v -o $work/time-pf.txt"
    s0=$(srv_ticks); a=$(now_ms)
    pf_run "$work/dns/targets" "$work/pf.out"
    b=$(now_ms); s1=$(srv_ticks)
    pf_srv=$(awk -v t=$((s1 - s0)) -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }')
    pf_ms=$((b - a))
    pf_ok=$(grep -c 'Verified TLS connection established' "$work/pf.out")
    pf_untrusted=$(grep -c 'Untrusted TLS connection established' "$work/pf.out")
fi

# --- mxscope --batch --domains ---------------------------------------------------
mx_ms=""
if ! has '--domains'; then
    echo "bench-domains: mxscope has no --domains yet: its column, the soak and the comparison"
    echo "  with single-domain runs are skipped (run again once the --domains work is merged)"
else
    tv=""
    [ -x /usr/bin/time ] && tv="/usr/bin/time -v -o $work/time.txt"
    s0=$(srv_ticks); a=$(now_ms)
    # shellcheck disable=SC2086
    $tv "$bin" --batch --domains "$work/dns/list" --json $domopts $dnsopts > "$work/mx.jsonl" 2> "$work/mx.err"
    rc=$?
    b=$(now_ms); s1=$(srv_ticks)
    mx_srv=$(awk -v t=$((s1 - s0)) -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }')
    mx_ms=$((b - a))
    mx_docs=$(wc -l < "$work/mx.jsonl")
    # What a verifying sender gets, per probe: delivered-encrypted is verified.
    jq -r '(.probes // [.])[] | .verdict[] | select(.policy == "verified") | .outcome' "$work/mx.jsonl" \
        > "$work/mx.verified" 2> /dev/null
    mx_ok=$(grep -c '^delivered-encrypted$' "$work/mx.verified")
    mx_not=$(grep -vc '^delivered-encrypted$' "$work/mx.verified")
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.txt" 2> /dev/null)
    echo "bench-domains: mxscope exit $rc, $mx_docs documents for $n domains$( [ -s "$work/mx.err" ] && echo "; stderr: $(head -c 200 "$work/mx.err")")"
fi

echo
echo "$n domains, one full STARTTLS probe each, $par at once, lower is better"
printf '%-34s %9s %10s %7s %8s %9s %13s\n' tool "wall s" "domains/s" "CPU s" "srv CPU" verified "not verified"
if [ -n "$mx_ms" ]; then
    printf '%-34s %9s %10s %7s %8s %9s %13s\n' "mxscope --batch --domains" "$(secs $mx_ms)" \
        "$(awk -v n="$n" -v ms="$mx_ms" 'BEGIN { printf "%.0f", n * 1000 / ms }')" "$(cpu "$work/time.txt")" \
        "$mx_srv" "$mx_ok" "$mx_not"
fi
if [ -n "$pf_ms" ]; then
    printf '%-34s %9s %10s %7s %8s %9s %13s\n' "xargs -P $par posttls-finger" "$(secs $pf_ms)" \
        "$(awk -v n="$n" -v ms="$pf_ms" 'BEGIN { printf "%.0f", n * 1000 / ms }')" "$(cpu "$work/time-pf.txt")" \
        "$pf_srv" "$pf_ok" "$((n - pf_ok))"
    echo "  (posttls-finger: $pf_untrusted untrusted TLS, the rest no TLS at all)"
    echo "  CPU s: the client's own user + system time (all its processes); srv CPU: what"
    echo "  the world's Postfix and the bench unbound spent meanwhile.  They run on the"
    echo "  same cores, so on a small machine the wall time also measures the servers."
fi
if [ -n "$mx_ms" ] && [ -n "$pf_ms" ]; then
    awk -v m="$mx_ms" -v p="$pf_ms" 'BEGIN { r = p / m;
        printf "\nmxscope vs xargs posttls-finger: %.2fx faster (target: at least 2x: %s)\n", r, (r >= 2 ? "met" : "NOT met") }'
    mc=$(cpu "$work/time.txt"); pc=$(cpu "$work/time-pf.txt")
    [ "$mc" != - ] && [ "$pc" != - ] && awk -v m="$mc" -v p="$pc" 'BEGIN {
        if (m > 0) printf "client CPU: %.2fx less for mxscope (%.2f s vs %.2f s)\n", p / m, m, p }'
    # The floor: no run takes less wall time than the CPU it and the servers
    # spent, spread over every core.  mxscope steps its engines in one
    # thread (its resolver has a thread of its own), so on a small machine
    # its wall time is about its own CPU; posttls-finger runs 64 processes.
    cores=$(nproc 2> /dev/null || echo 1)
    [ "$mc" != - ] && [ "$pc" != - ] && awk -v m="$mc" -v p="$pc" -v ms="$mx_srv" -v ps="$pf_srv" \
        -v c="$cores" -v pw="$pf_ms" 'BEGIN {
        fm = (m + ms) / c; fp = (p + ps) / c
        printf "floor on this machine (%d cores, all CPU / cores): mxscope %.2f s, posttls-finger %.2f s;\n", c, fm, fp
        printf "  against the posttls-finger run measured, the most any client could be here is %.2fx;\n", pw / 1000 / fm
        printf "  one engine thread bounds mxscope near its own CPU (%.2f s): %.2fx\n", m, pw / 1000 / m }'
fi
if [ -n "${rss:-}" ]; then
    awk -v kb="$rss" 'BEGIN { printf "mxscope peak RSS: %.1f MiB (target: under 64 MiB: %s)\n", kb / 1024, (kb < 65536 ? "met" : "NOT met") }'
fi
[ -n "$mx_ms" ] || exit 0

# --- soak: the list SOAK times in one process -------------------------------------
total=$((n * soak))
echo
echo "bench-domains: $total probes in one process (the list $soak times, names made distinct), sampling VmRSS and open fds..."
# shellcheck disable=SC2086
"$bin" --batch --domains "$work/dns/soak" --json $domopts $dnsopts > "$work/soak.jsonl" 2> "$work/soak.err" &
pid=$!
a=$(now_ms)
: > "$work/samples"
while kill -0 "$pid" 2> /dev/null; do
    r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2> /dev/null)
    f=$(ls "/proc/$pid/fd" 2> /dev/null | wc -l)
    d=$(wc -l < "$work/soak.jsonl")
    [ -n "$r" ] && echo "$d $r $f" >> "$work/samples"
    sleep 0.5
done
wait "$pid"
src=$?
b=$(now_ms)
sdocs=$(wc -l < "$work/soak.jsonl")
echo "bench-domains: exit $src, $sdocs documents in $(secs $((b - a))) s, $(wc -l < "$work/samples") samples"
# Steady state: from 10% to 95% of the documents written, in two halves
# (10-50%, 50-95%), each judged by the same figures: its median VmRSS (what
# a leak lifts) and its largest (a moment with many probes in flight, which
# either half can have).  Growth: the second half's median over the first's
# by more than 5% and 2 MiB, or more than 4 fds at most open.
awk -v total="$sdocs" '
    function median(a, n,    i, j, t) {
        for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    $1 >= total * 0.10 && $1 <= total * 0.95 {
        if ($1 < total * 0.5) { r1[++n1] = $2; if ($2 > m1) m1 = $2; if ($3 > fd1) fd1 = $3 }
        else { r2[++n2] = $2; if ($2 > m2) m2 = $2; if ($3 > fd2) fd2 = $3 }
    }
    END {
        if (n1 < 3 || n2 < 3) { print "too few samples in the steady state to judge growth"; exit }
        e = median(r1, n1); l = median(r2, n2); g = l - e
        printf "memory: VmRSS median %.1f MiB in the first half, %.1f MiB in the second (%+.1f MiB; largest %.1f and %.1f MiB): %s\n",
            e / 1024, l / 1024, g / 1024, m1 / 1024, m2 / 1024,
            (g > 2048 && g > e * 0.05) ? "GROWS" : "no growth"
        printf "fds: at most %d open in the first half, %d in the second: %s\n", fd1, fd2,
            (fd2 > fd1 + 4) ? "GROWS" : "no growth"
    }' "$work/samples"

# --- each result equals a single-domain run ----------------------------------------
# What a run says of a domain, per probe: failed step, exit code, MX, address,
# TLS version, certificates, finding ids, verdicts.  A list document is a
# single session or a survey (several MX): both read as a list of probes.
facts='[(.probes // [.])[] | {failed: .result.failed_step, exit: .result.exit_code,
    mx: .dns.mx[.connect.mx // 0].host, address: .connect.address, tls: .tls.version,
    chain: [.chain[].sha256], findings: ([.findings[].id] | sort),
    verdict: [.verdict[] | "\(.policy)=\(.outcome)"]}]'
step=$((n / nsample)); [ $step -ge 1 ] || step=1
same=0; differ=0; i=1
while [ $i -le "$n" ] && [ $((same + differ)) -lt "$nsample" ]; do
    set -- $(sed -n "${i}p" "$work/dns/kinds")
    name=$1; port=$3
    # shellcheck disable=SC2086
    "$bin" --batch --json --port "$port" $dnsopts "$name" 2> /dev/null | jq -c "$facts" > "$work/one.facts"
    jq -c --arg d "$name" "select((.target.input // .dns.target.input) == \$d) | $facts" "$work/mx.jsonl" > "$work/list.facts"
    if [ -s "$work/one.facts" ] && cmp -s "$work/one.facts" "$work/list.facts"; then
        same=$((same + 1))
    else
        differ=$((differ + 1))
        if [ $differ -le 3 ]; then
            echo "differs: $name ($2)"
            echo "  alone:   $(head -c 400 "$work/one.facts")"
            echo "  in list: $(head -c 400 "$work/list.facts")"
        fi
    fi
    i=$((i + step))
done
echo "results: $same of $((same + differ)) sampled domains identical to a single-domain run$( [ $differ = 0 ] && echo "" || echo " ($differ differ)")"
