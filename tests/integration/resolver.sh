#!/bin/sh
# resolver.sh - our resolver is never blamed on the partner, and an explicit
# --resolver is asked every name.
#   - With --resolver alone (no --unbound-conf lifting "test."), a name under
#     the special-use test. zone still reaches that resolver: libunbound would
#     answer NXDOMAIN itself (RFC 6761 default zones) without dns.c's
#     "nodefault" config.
#   - A bogus zone through a resolver that validates: the anchor check says
#     the resolver passes DNSSEC (the zone is at fault).
#   - A signed zone through the stripping resolver (tests/world-dns.sh: the
#     same zones served unsigned): the anchor check says the resolver is at
#     fault, with the evidence.
. "$(dirname "$0")/../lib.sh"
need jq
world_env
tmp=$(mktemp -d /tmp/mxscope-resolver.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

q() { # name resolver domain -> $tmp/name.json
    "$MXS_BIN" --batch --json --resolver "$2" --trust-anchor "$MXS_TRUST_ANCHOR" \
        --timeout 10 "$3" > "$tmp/$1.json" 2> "$tmp/$1.err"
}
expect() {
    if jq -e "$2" "$tmp/$1.json" > /dev/null 2>&1; then ok "$1: $2"
    else fail "$1: $2" "got $(jq -c "$3" "$tmp/$1.json" 2>&1 | head -c 400)"; fi
}

q special "$MXS_DNS_RESOLVER" insecure.test
expect special '.dns.mx_rcode == "ok" and (.dns.mx | length) == 1 and .dns.mx[0].host == "mx1.insecure.test"' '.dns'

q bogus "$MXS_DNS_RESOLVER" bogus.example.test
expect bogus '.dns.dnssec == "bogus"' '.dns'
expect bogus '[.transcript[] | select(.kind == "dns") | .text | select(test("^DNSKEY example.test.: validated"))] | length == 1' '[.transcript[] | select(.kind == "dns") | .text]'

q strip "$MXS_DNS_STRIP_RESOLVER" example.test
expect strip '[.transcript[] | select(.kind == "dns") | .text | select(test("^DNSKEY example.test.: the DNSKEY of the trust anchor example.test. does not validate either"))] | length == 1' '[.transcript[] | select(.kind == "dns") | .text]'
# The blame: the partner's zone for the bogus one, ours for the stripped one.
expect bogus '[.findings[].id] | index("dnssec-bogus") != null and index("resolver-no-dnssec") == null' '[.findings[].id]'
expect strip '[.findings[].id] | index("resolver-no-dnssec") != null and index("dnssec-bogus") == null' '[.findings[].id]'
expect strip '[.verdict[].outcome] | unique == ["not-evaluated"]' '.verdict'
expect strip '[.verdict[].finding] | unique == ["resolver-no-dnssec"]' '.verdict'
expect bogus '[.verdict[] | select(.policy == "verified") | .outcome] == ["not-delivered"]' '.verdict'
finish
