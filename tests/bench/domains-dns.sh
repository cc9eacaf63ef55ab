#!/bin/sh
# tests/bench/domains-dns.sh up|down DIR [WORLD_ENV] - the DNS of the
# 1,000-domain benchmark (tests/bench/domains.sh): a small unbound of its own,
# serving a zone generated now, beside the test world (tests/world.sh), whose
# Postfix listeners are the MX hosts.  Owner: benchmark (issue 13).
#
# Zones (local data of one unbound, no recursion, nothing leaves loopback):
#   bench.test    dNNNN.bench.test MX 10 mxK.example.test (K = 1..3 in turn)
#                 for N = 1..$DOMAINS (default 1000), and for the soak run the
#                 same domains again as dNNNN-pP.bench.test, P = 1..$SOAK-1
#                 (distinct names: a list probes a repeated name only once)
#   example.test  unsigned: mx1, mx2, mx3 A 127.0.0.1 only (the world's
#                 certificates name those three; no AAAA, so both tools
#                 probe the same one address)
# It listens on $ADDR port 53 (ADDR: $MXS_BENCH_DNS_ADDR, else
# $MXS_HTTPS_ADDR, else 127.0.3.43: the address of this world's HTTPS
# host, so two worlds started with different addresses do not collide):
# port 53 because posttls-finger asks the system resolver, and resolv.conf
# has no port (domains.sh gives it DIR/resolv.conf in a mount namespace).
#
# Also writes, from WORLD_ENV (the world's env file: the listeners' ports):
#   DIR/list       "dNNNN.bench.test --port PORT", one domain a line (the
#                  --domains list format, with the per-line port)
#   DIR/kinds      "dNNNN.bench.test KIND PORT": KIND is the listener:
#                  good 7 in 10, expired, wrongname, nostarttls 1 in 10 each
#   DIR/soak       the list $SOAK times (10,000 probes), one pass after another
#   DIR/targets    "dNNNN.bench.test:PORT" a line (posttls-finger's form)
#   DIR/dns.env    BENCH_DNS_ADDR, BENCH_RESOLVER=ADDR@53, BENCH_TRUST_ANCHOR
#                  (DIR/ta.key: see below)
set -eu
cmd=${1:?usage: domains-dns.sh up|down DIR [WORLD_ENV]}
dir=${2:?usage: domains-dns.sh up|down DIR [WORLD_ENV]}
n=${DOMAINS:-1000}
soak=${SOAK:-10}
addr=${MXS_BENCH_DNS_ADDR:-${MXS_HTTPS_ADDR:-127.0.3.43}}

stop() {
    [ -f "$dir/unbound.pid" ] || return 0
    pid=$(cat "$dir/unbound.pid")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    fi
    rm -f "$dir/unbound.pid"
}

if [ "$cmd" = down ]; then
    [ -d "$dir" ] && stop
    exit 0
fi
[ "$cmd" = up ] || { echo "usage: domains-dns.sh up|down DIR [WORLD_ENV]" >&2; exit 2; }
env=${3:?domains-dns.sh up needs WORLD_ENV, the env file of the test world}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
stop
. "$env"

# The zone data and the lists in one pass (awk: 10,000 names in well under
# a second).  The zones are local data of an unbound that answers nothing
# else ("." refused): no zone files, no recursion, nothing leaves loopback.
awk -v n="$n" -v soak="$soak" -v dir="$dir" \
    -v good="$MXS_PORT_GOOD" -v expired="$MXS_PORT_EXPIRED" \
    -v wrongname="$MXS_PORT_WRONGNAME" -v nostarttls="$MXS_PORT_NOSTARTTLS" 'BEGIN {
    data = dir "/local.conf"
    print "local-zone: \".\" refuse\nlocal-zone: \"bench.test.\" static\nlocal-zone: \"example.test.\" static" > data
    # example.test: the MX hosts (no AAAA: one address each)
    for (h = 1; h <= 3; h++)
        print "local-data: \"mx" h ".example.test. 3600 IN A 127.0.0.1\"" > data
    for (p = 0; p < soak; p++) {
        for (i = 1; i <= n; i++) {
            d = sprintf("d%04d", i) (p ? "-p" p : "")
            print "local-data: \"" d ".bench.test. 3600 IN MX 10 mx" (i % 3 + 1) ".example.test.\"" > data
            k = i % 10
            kind = k < 7 ? "good" : k == 7 ? "expired" : k == 8 ? "wrongname" : "nostarttls"
            port = kind == "good" ? good : kind == "expired" ? expired : kind == "wrongname" ? wrongname : nostarttls
            print d ".bench.test --port " port > (dir "/soak")
            if (!p) {
                print d ".bench.test --port " port > (dir "/list")
                print d ".bench.test " kind " " port > (dir "/kinds")
                print d ".bench.test:" port > (dir "/targets")
            }
        }
    }
}'
cat > "$dir/unbound.conf" <<EOF
server:
    interface: $addr@53
    access-control: 127.0.0.0/8 allow
    do-ip6: no
    num-threads: 1
    username: ""
    chroot: ""
    directory: "$dir"
    pidfile: "$dir/unbound.pid.unbound"
    use-syslog: no
    logfile: "$dir/unbound.log"
    include: "$dir/local.conf"
remote-control:
    control-enable: no
EOF
# A server left on the address (another run's, say) would answer in our
# place with its own ports: refuse to start beside it.
if ss -Hlnu "src $addr:53" 2> /dev/null | grep -q .; then
    echo "domains-dns: $addr port 53 is taken already: $(ss -Hlnup "src $addr:53" | head -n 1)" >&2
    echo "domains-dns: start the world with another MXS_HTTPS_ADDR, or stop that server" >&2
    exit 1
fi
unbound-checkconf "$dir/unbound.conf" > /dev/null
unbound -d -c "$dir/unbound.conf" > "$dir/unbound.stderr" 2>&1 &
echo $! > "$dir/unbound.pid"
i=0
until drill -p 53 -t MX "d$(printf %04d "$n").bench.test" "@$addr" 2>/dev/null | grep -q 'IN[[:space:]]*MX'; do
    i=$((i + 1))
    if [ $i -ge 100 ] || ! kill -0 "$(cat "$dir/unbound.pid")" 2>/dev/null; then
        echo "domains-dns: unbound did not answer on $addr@53:" >&2
        tail -n 5 "$dir/unbound.stderr" "$dir/unbound.log" >&2 2>/dev/null || true
        stop
        exit 1
    fi
    sleep 0.1
done
# mxscope validates from the root by default, and the zones are unsigned: a
# trust anchor for a zone nobody asks about leaves both insecure (as most
# partner domains are), neither bogus nor validated.
echo "anchor.bench.invalid. 3600 IN DS 1 13 2 $(printf '%064d' 0)" > "$dir/ta.key"
printf 'BENCH_DNS_ADDR=%s\nBENCH_RESOLVER=%s@53\nBENCH_TRUST_ANCHOR=%s\n' "$addr" "$addr" "$dir/ta.key" > "$dir/dns.env"
printf 'nameserver %s\n' "$addr" > "$dir/resolv.conf"
echo "domains-dns: $n domains ($((n * soak)) names) on $addr@53"
