#!/bin/sh
# tests/integration/dns.sh - core's dns module (via the dnsprobe fixture)
# against a real unbound serving signed, unsigned and bogus zones on loopback.
# Owner: DNS module.
#
# Uses the running world's DNS ($MXS_WORLD/dns.env or $MXS_WORLD/dns/dns.env,
# written by tests/world-dns.sh).  Run alone (MXS_WORLD empty) it starts its
# own tests/world-dns.sh in a temporary directory and stops it at the end.
. "$(dirname "$0")/../lib.sh"

probe="$MXS_BUILD/fixtures/dnsprobe"
[ -x "$probe" ] || { fail "dnsprobe built" "$probe missing (make tests-bin)"; exit 1; }

own=""
env_file=""
if [ -n "${MXS_WORLD:-}" ]; then
    for f in "$MXS_WORLD/dns.env" "$MXS_WORLD/dns/dns.env"; do
        [ -f "$f" ] && { env_file=$f; break; }
    done
    [ -n "$env_file" ] || { fail "test world DNS" "no dns.env under $MXS_WORLD"; exit 1; }
else
    need unbound; need ldns-signzone; need drill
    own=$(mktemp -d /tmp/mxscope-dns.XXXXXX)
    trap 'sh "$(dirname "$0")/../world-dns.sh" down "$own/w" >/dev/null 2>&1; rm -rf "$own"' EXIT
    if ! sh "$(dirname "$0")/../world-dns.sh" up "$own/w" > "$own/up.log" 2>&1; then
        fail "world-dns up" "$(tail -n 5 "$own/up.log" | tr '\n' ' ')"; exit 1
    fi
    env_file="$own/w/dns.env"
fi
. "$env_file"
ok "dns world at $MXS_DNS_RESOLVER"

tmp=$(mktemp -d /tmp/mxscope-dnsprobe.XXXXXX)
trap_rm="$tmp"
cleanup() { rm -rf "$trap_rm"; [ -n "$own" ] && { sh "$(dirname "$0")/../world-dns.sh" down "$own/w" >/dev/null 2>&1; rm -rf "$own"; }; }
trap cleanup EXIT

run() { # name args... -> $tmp/name.out
    n=$1; shift
    "$probe" --resolver "$MXS_DNS_RESOLVER" --trust-anchor "$MXS_TRUST_ANCHOR" \
        --unbound-conf "$MXS_UNBOUND_CONF" "$@" > "$tmp/$n.out" 2> "$tmp/$n.err"
    echo $? > "$tmp/$n.rc"
}
has() { grep -qxF -- "$2" "$tmp/$1.out"; }           # exact line
has_re() { grep -qE -- "$2" "$tmp/$1.out"; }
expect() { # test-name probe-name exact-line
    if has "$2" "$3"; then ok "$1"; else fail "$1" "no line '$3' in: $(tr '\n' '|' < "$tmp/$2.out" | cut -c1-600)"; fi
}
expect_re() {
    if has_re "$2" "$3"; then ok "$1"; else fail "$1" "no line /$3/ in: $(tr '\n' '|' < "$tmp/$2.out" | cut -c1-600)"; fi
}
expect_no_re() {
    if has_re "$2" "$3"; then fail "$1" "unexpected /$3/: $(grep -E -- "$3" "$tmp/$2.out" | head -3 | tr '\n' '|')"; else ok "$1"; fi
}

# --- example.test: signed, three MX with a tie ------------------------------
run ex example.test
expect_re "example.test: probe finished" ex '^result done ms=[0-9]+$'
expect "example.test: MX answer secure" ex "mx_answer rcode=NOERROR dnssec=secure why="
expect "example.test: three MX" ex "n_mx=3"
expect "MX order: 10 mx1 first" ex "mx 0 pref=10 host=mx1.example.test n_addr=2 n_tlsa=1"
expect "MX order: tie 20 mx2 second (DNS order)" ex "mx 1 pref=20 host=mx2.example.test n_addr=2 n_tlsa=1"
expect "MX order: tie 20 mx3 third (DNS order)" ex "mx 2 pref=20 host=mx3.example.test n_addr=1 n_tlsa=0"
expect "mx1 A 127.0.0.1 (IPv4 first)" ex "mx 0 addr 0 4 127.0.0.1"
expect "mx1 AAAA ::1" ex "mx 0 addr 1 6 ::1"
expect "mx1 A secure" ex "mx 0 a rcode=NOERROR dnssec=secure why="
expect "mx1 AAAA secure" ex "mx 0 aaaa rcode=NOERROR dnssec=secure why="
expect "mx3 AAAA NODATA" ex "mx 2 aaaa rcode=NODATA dnssec=secure why="
# In the full world, the TLSA must be good.crt's SPKI (DANE tests rely on it).
if [ -n "${MXS_WORLD:-}" ] && [ -f "$MXS_WORLD/env" ]; then
    spki=$(sed -n 's/^MXS_GOOD_SPKI_SHA256=//p' "$MXS_WORLD/env")
    if [ -n "$spki" ]; then
        if [ "$spki" = "${MXS_DNS_TLSA_HASH:-}" ]; then ok "TLSA is good.crt's SPKI SHA-256"
        else fail "TLSA is good.crt's SPKI SHA-256" "world $spki, dns ${MXS_DNS_TLSA_HASH:-none}"; fi
    fi
fi
if [ -n "${MXS_DNS_TLSA_HASH:-}" ]; then
    expect "mx1 TLSA 3 1 1 parsed" ex "mx 0 tlsa 0 3 1 1 $MXS_DNS_TLSA_HASH"
else
    expect_re "mx1 TLSA 3 1 1 parsed" ex '^mx 0 tlsa 0 3 1 1 [0-9A-F]{64}$'
fi
expect "mx1 TLSA secure" ex "mx 0 tlsa rcode=NOERROR dnssec=secure why="
expect "mx2 TLSA (DANE-TA) secure" ex "mx 1 tlsa rcode=NOERROR dnssec=secure why="
expect "mx3 TLSA NXDOMAIN (secure denial)" ex "mx 2 tlsa rcode=NXDOMAIN dnssec=secure why="
expect "transcript MX line" ex "line MX example.test: 10 mx1.example.test, 20 mx2.example.test, 20 mx3.example.test [secure]"
expect "transcript A line" ex "line A mx1.example.test: 127.0.0.1 [secure]"
expect_re "transcript TLSA line" ex '^line TLSA _25\._tcp\.mx1\.example\.test: 3 1 1 [0-9A-F]{64} \[secure\]$'
n=$(grep -c '^line ' "$tmp/ex.out")
if [ "$n" = 10 ]; then ok "one transcript line per answer (1 MX + 3x A/AAAA/TLSA)"; else fail "one transcript line per answer" "got $n lines, want 10"; fi

# --- insecure.test: unsigned -------------------------------------------------
run in insecure.test
expect "insecure.test: MX insecure" in "mx_answer rcode=NOERROR dnssec=insecure why="
expect "insecure.test: MX host" in "mx 0 pref=10 host=mx1.insecure.test n_addr=1 n_tlsa=0"
expect "insecure.test: A insecure" in "mx 0 a rcode=NOERROR dnssec=insecure why="

# Served unsorted (20 zz, 10 mx1, 20 bb): the tie must stay zz before bb.
run ti ties.insecure.test
expect_re "ties: 10 mx1 first" ti '^mx 0 pref=10 host=mx1\.insecure\.test '
expect_re "ties: 20 zz second (DNS order, not alphabetical)" ti '^mx 1 pref=20 host=zz\.insecure\.test '
expect_re "ties: 20 bb third" ti '^mx 2 pref=20 host=bb\.insecure\.test '

# More MX than MXS_MAX_MX: the 16 best kept, in order.
run ma many.insecure.test
expect "many MX: bounded to 16" ma "n_mx=16"
expect_re "many MX: best first" ma '^mx 0 pref=21 host=m21\.insecure\.test '
expect_re "many MX: 16th is pref 36" ma '^mx 15 pref=36 host=m36\.insecure\.test '
expect_re "many MX: transcript says 4 dropped" ma '^line MX many\.insecure\.test: .*\(4 more beyond the first 16 not kept\)'

# A name with a dot, a backslash and a BEL inside a label stays one label,
# in presentation format (a\.b\\c\007), which dnsprobe's mxs_escape()
# then shows with every backslash doubled.  It is not a host name: skipped
# as Postfix skips it (no MX left, no address query), kept for the evidence.
run we weird.insecure.test
expect "hostile label: not kept as an MX" we "n_mx=0"
expect "hostile label: counted" we "mx_records=1 mx_not_kept=0 n_mx_invalid=1"
expect "hostile label escaped, judged" we 'invalid 0 record=1 pref=10 why=contains control bytes (0x07) host=a\\.b\\\\c\\007.insecure.test raw=a.b\\c\x07.insecure.test'
expect_no_re "hostile label: no address query" we '^line (A|AAAA|TLSA) '

# --- hostile answers from a real unbound (the scripted server of
# dns_hostile.sh plays TC, 500 MX, delays and long chains) -------------------
run cn cname.insecure.test
expect "MX at an alias: followed, its address" cn "mx 0 addr 0 4 127.0.0.1"
expect "MX at an alias: chain walked" cn "mx 0 cname hops=1 loop=0 too_long=0 canon=mx1.insecure.test chain=alias.insecure.test -> mx1.insecure.test"
expect "MX at an alias: transcript" cn "line CNAME alias.insecure.test: chain of 1: alias.insecure.test -> mx1.insecure.test"
run lo loop.insecure.test
expect "CNAME loop: no address" lo "mx 0 pref=10 host=la.insecure.test n_addr=0 n_tlsa=0"
expect_re "CNAME loop: named" lo '^mx 0 cname hops=2 loop=1 too_long=0 canon=la\.insecure\.test chain=la\.insecure\.test -> lb\.insecure\.test -> la\.insecure\.test$'
run nu numeric.insecure.test
expect "IP literal MX: used as the address" nu "mx 0 addr 0 4 127.0.0.1"
expect "IP literal MX: flagged" nu "mx 0 literal"
expect "IP literal MX: no A query (never asked)" nu "mx 0 a rcode=NOERROR dnssec=unknown why="
expect "IP literal MX: transcript" nu "line A 127.0.0.1: an IP address as MX target: used as the address, as Postfix does (no lookup)"
run ct ctl.insecure.test
expect "ESC target skipped, the good MX kept" ct "mx 0 pref=20 host=mx1.insecure.test n_addr=1 n_tlsa=0"
expect "ESC target: evidence" ct 'invalid 0 record=1 pref=10 why=contains control bytes (0x1B) host=bad\\027.insecure.test raw=bad\x1B.insecure.test'

# --- bogus.example.test: expired signatures under a valid DS -----------------
run bo bogus.example.test
expect_re "bogus: SERVFAIL + bogus + why" bo '^mx_answer rcode=SERVFAIL dnssec=bogus why=.'
expect_re "bogus: why_bogus names the failure" bo '^mx_answer rcode=SERVFAIL dnssec=bogus why=.*(expired|signature)'
expect "bogus: no MX hosts used" bo "n_mx=0"
expect_no_re "bogus: no address queries" bo '^line (A|AAAA|TLSA) '
run bh --host mx1.bogus.example.test
expect_re "bogus host: A SERVFAIL bogus" bh '^mx 0 a rcode=SERVFAIL dnssec=bogus why=.'

expect_re "bogus host: no address stored" bh '^mx 0 pref=0 host=mx1\.bogus\.example\.test n_addr=0 '

# --- NXDOMAIN, implicit MX, null MX ------------------------------------------
run nx nx.example.test
expect "nx.example.test: NXDOMAIN (secure denial)" nx "mx_answer rcode=NXDOMAIN dnssec=secure why="
expect "nx.example.test: no MX" nx "n_mx=0"
expect "nx.example.test: transcript" nx "line MX nx.example.test: NXDOMAIN [secure]"

run im implicit.example.test
expect "implicit: MX NODATA" im "mx_answer rcode=NODATA dnssec=secure why="
expect "implicit: implicit_mx=1" im "implicit_mx=1"
expect "implicit: the domain itself, preference 0" im "mx 0 pref=0 host=implicit.example.test n_addr=1 n_tlsa=0"
expect "implicit: its A record" im "mx 0 addr 0 4 127.0.0.1"

run nm nullmx.example.test
expect "null MX: null_mx=1" nm "null_mx=1"
expect "null MX: no MX hosts" nm "n_mx=0"
expect_no_re "null MX: no address queries" nm '^line (A|AAAA|TLSA) '

# --- family limits -----------------------------------------------------------
run f4 -4 example.test
expect_no_re "-4: no AAAA query" f4 '^line AAAA '
expect "-4: A kept" f4 "mx 0 addr 0 4 127.0.0.1"
expect "-4: AAAA marked not asked" f4 "mx 0 aaaa rcode=NOERROR dnssec=unknown why="
expect_no_re "-4: no IPv6 address" f4 '^mx [0-9]+ addr [0-9]+ 6 '
run f6 -6 example.test
expect_no_re "-6: no A query" f6 '^line A '
expect "-6: AAAA first" f6 "mx 0 addr 0 6 ::1"
expect_no_re "-6: no IPv4 address" f6 '^mx [0-9]+ addr [0-9]+ 4 '

# --- host target, other port -------------------------------------------------
run ho --host --port 25 mx1.example.test
expect "host target: one MX, preference 0" ho "mx 0 pref=0 host=mx1.example.test n_addr=2 n_tlsa=1"
expect "host target: no MX query" ho "mx_answer rcode=NOERROR dnssec=unknown why="
run p5 --port 587 -4 example.test
expect "port 587: TLSA at _587._tcp" p5 "line TLSA _587._tcp.mx1.example.test: NXDOMAIN [secure]"

# --- timeout: a resolver that never answers ----------------------------------
if [ -n "${MXS_DNS_DEAD_RESOLVER:-}" ]; then
    t0=$(date +%s)
    "$probe" --resolver "$MXS_DNS_DEAD_RESOLVER" --trust-anchor "$MXS_TRUST_ANCHOR" \
        --unbound-conf "$MXS_UNBOUND_CONF" --timeout 1000 example.test > "$tmp/to.out" 2>&1
    t1=$(date +%s)
    expect_re "dead resolver: deadline hit" to '^result timeout ms=1[0-9]{3}$'
    expect "dead resolver: MX TIMEOUT" to "mx_answer rcode=TIMEOUT dnssec=unknown why="
    expect_re "dead resolver: transcript says TIMEOUT, after how long" to '^line MX example\.test: TIMEOUT \(no answer before the deadline, 1\.[0-9] s\)$'
    if [ $((t1 - t0)) -le 4 ]; then ok "dead resolver: probe exits promptly after cancel"; else fail "dead resolver: exits promptly" "$((t1 - t0)) s"; fi
    "$probe" --resolver "$MXS_DNS_DEAD_RESOLVER" --unbound-conf "$MXS_UNBOUND_CONF" \
        --timeout 500 --host mx1.example.test > "$tmp/to2.out" 2>&1
    n=$(grep -c '^line .*TIMEOUT' "$tmp/to2.out")
    if [ "$n" = 3 ]; then ok "dead resolver: A, AAAA, TLSA all TIMEOUT"; else fail "dead resolver: host queries" "$n TIMEOUT lines"; fi
else
    fail "dead resolver" "MXS_DNS_DEAD_RESOLVER missing from $env_file"
fi

# --- exit status of every probe that should have worked -----------------------
bad=""
for f in "$tmp"/*.rc; do [ "$(cat "$f")" = 0 ] || bad="$bad ${f##*/}"; done
if [ -z "$bad" ]; then ok "dnsprobe exit status 0"; else fail "dnsprobe exit status" "$bad"; fi

finish
