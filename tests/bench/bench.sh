#!/bin/sh
# tests/bench/bench.sh BUILD - a full STARTTLS probe of a local Postfix,
# mxscope beside openssl s_client, posttls-finger and swaks, each run
# RUNS times (default 21); prints the median and the ratio to mxscope.
# A benchmark, not a test: nothing here passes or fails on a time.
#
# Every tool does the same work against the same listener (the test world's
# "good" Postfix: TLS 1.3, leaf + intermediate): connect, banner, EHLO,
# STARTTLS, handshake, verify against the test CA, and (where the tool can)
# the post-TLS EHLO.  s_client stops after the handshake (it has no
# post-TLS EHLO), so it does one round trip less than the others.
set -u
build=${1:-build}
bin=$(cd "$build" && pwd)/mxscope
runs=${RUNS:-21}
top=$(cd "$(dirname "$0")/../.." && pwd)
world=$(mktemp -d /tmp/mxscope-bench.XXXXXX)
trap 'sh "$top/tests/world.sh" down "$world/w" >/dev/null 2>&1; rm -rf "$world"' EXIT INT TERM
echo "bench: starting the test world (Postfix + unbound on loopback)..."
if ! sh "$top/tests/world.sh" up "$world/w" > "$world/up.log" 2>&1; then
    echo "bench: the test world did not start:"; tail -n 20 "$world/up.log"; exit 1
fi
. "$world/w/env"
port=$MXS_PORT_GOOD
host=mx1.example.test

now_us() { date +%s%N | cut -c1-16; }
# time_runs NAME CMD...: prints the median wall time in ms of $runs runs.
time_runs() {
    name=$1; shift
    : > "$world/$name.t"
    i=0; fails=0
    while [ $i -lt "$runs" ]; do
        a=$(now_us)
        "$@" > "$world/$name.out" 2>&1 < /dev/null || fails=$((fails + 1))
        b=$(now_us)
        echo $((b - a)) >> "$world/$name.t"
        i=$((i + 1))
    done
    med=$(sort -n "$world/$name.t" | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}')
    echo "$name $med $fails"
}

results=$world/results
: > "$results"
time_runs mxscope "$bin" --batch --host $host --connect "127.0.0.1:$port" --cafile "$MXS_CA" >> "$results"
time_runs mxscope-json "$bin" --batch --json --host $host --connect "127.0.0.1:$port" --cafile "$MXS_CA" >> "$results"
if command -v openssl >/dev/null; then
    time_runs openssl-s_client openssl s_client -quiet -no_ign_eof -starttls smtp -connect "127.0.0.1:$port" \
        -servername $host -verify_hostname $host -CAfile "$MXS_CA" -verify_return_error >> "$results"
fi
pf=$(command -v posttls-finger || echo /usr/sbin/posttls-finger)
if [ -x "$pf" ]; then
    # -F is the CA file (-p would be the protocol list); posttls-finger reads
    # main.cf from MAIL_CONFIG: the world's own, not the system's.
    export MAIL_CONFIG="$world/w/postfix"
    time_runs posttls-finger "$pf" -c -l secure -F "$MXS_CA" "[127.0.0.1]:$port" $host >> "$results"
    unset MAIL_CONFIG
fi
if command -v swaks >/dev/null; then
    time_runs swaks swaks --silent 2 --server 127.0.0.1 --port "$port" --tls --tls-verify \
        --tls-ca-path "$MXS_CA" --tls-sni $host --ehlo probe.example.net --to bench@example.test \
        --quit-after HELO >> "$results"
fi

echo
echo "median of $runs runs, full probe of a local Postfix (TLS 1.3), lower is better"
printf '%-20s %10s %8s %6s\n' tool "ms" "ratio" "fails"
base=$(awk '$1=="mxscope"{print $2}' "$results")
while read -r name med fails; do
    ratio=$(awk -v m="$med" -v b="$base" 'BEGIN{printf "%.2f", (b > 0 ? m / b : 0)}')
    printf '%-20s %10s %8s %6s\n' "$name" "$med" "${ratio}x" "$fails"
done < "$results"
fastest_peer=$(awk '$1!="mxscope" && $1!="mxscope-json" {print $2}' "$results" | sort -n | head -1)
[ -n "$fastest_peer" ] && awk -v m="$base" -v p="$fastest_peer" 'BEGIN{printf "\nmxscope vs the fastest peer: %.2fx (%s ms vs %s ms)\n", m/p, m, p}'
