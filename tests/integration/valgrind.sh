#!/bin/sh
# tests/integration/valgrind.sh - memcheck-clean probes: the lab (a server
# thread in the same process), the real Postfix, and the real DNS with
# libunbound's thread.  Any invalid read/write, use of uninitialised memory
# or definite leak fails.  (The ASan suite skips it: valgrind cannot run
# sanitizer binaries; ASan covers that build.)
. "$(dirname "$0")/../lib.sh"
need valgrind
need jq
world_env
tmp=$(mktemp -d /tmp/mxscope-vg.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

vg() { # NAME ARGS...: run mxscope under memcheck
    n=$1; shift
    valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
        --show-leak-kinds=definite --track-origins=yes --log-file="$tmp/$n.vg" \
        "$MXS_BIN" --batch --json "$@" > "$tmp/$n.json" 2> "$tmp/$n.err"
    r=$?
    if [ $r = 99 ] || grep -q 'Invalid\|uninitialised\|definitely lost' "$tmp/$n.vg"; then
        fail "valgrind $n" "$(head -c 600 "$tmp/$n.vg")"
    elif ! jq -e '.steps | length == 10' "$tmp/$n.json" > /dev/null 2>&1; then
        fail "valgrind $n" "no JSON (exit $r): $(head -c 300 "$tmp/$n.err")"
    else
        ok "valgrind $n: memcheck clean (exit $r)"
    fi
}
vg lab-good --lab good
vg lab-expired --lab expired
vg lab-tls10 --lab tls10-only
vg postfix-good --host mx1.example.test --connect "127.0.0.1:$MXS_PORT_GOOD" --cafile "$MXS_CA"
vg postfix-nostarttls --host mx1.example.test --connect "127.0.0.1:$MXS_PORT_NOSTARTTLS" --cafile "$MXS_CA"
vg dns-example --resolver "$MXS_DNS_RESOLVER" --trust-anchor "$MXS_TRUST_ANCHOR" \
    --unbound-conf "$MXS_UNBOUND_CONF" --cafile "$MXS_CA" --port "$MXS_PORT_GOOD" example.test
# POLICY: the TXT lookups and the HTTPS policy fetch (libcurl, OpenSSL)
vg sts-enforce --resolver "$MXS_DNS_RESOLVER" --trust-anchor "$MXS_TRUST_ANCHOR" \
    --unbound-conf "$MXS_UNBOUND_CONF" --cafile "$MXS_CA" --port "$MXS_PORT_GOOD" -4 enforce.sts.example.test
vg sts-slow --resolver "$MXS_DNS_RESOLVER" --trust-anchor "$MXS_TRUST_ANCHOR" \
    --unbound-conf "$MXS_UNBOUND_CONF" --cafile "$MXS_CA" --port "$MXS_PORT_GOOD" -4 \
    --timeout-policy 2 slow.sts.example.test
finish
