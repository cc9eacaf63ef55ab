#!/bin/sh
# tests/world-dns.sh - the DNS part of the test world: a real unbound serving
# DNSSEC-signed and unsigned zones on loopback.  Owner: DNS module engineer.
#
#   sh tests/world-dns.sh up DIR     generate keys + zones now, start unbound,
#                                    wait until it answers, write DIR/dns.env
#   sh tests/world-dns.sh down DIR   stop it (pid file), keep DIR's contents
#
# Nothing but this script is committed: keys, signed zones and configs are
# made at run time in DIR.  Zones served (all from one unbound process, as
# auth-zones with for-downstream: yes, so no recursion is involved):
#   example.test        signed (ECDSA P-256, one CSK); its DS is DIR/ta.key
#   bogus.example.test  signed child, delegated with a DS in example.test, but
#                       its signatures expired in 2020: validation -> bogus
#   insecure.test       unsigned, outside any trust anchor -> insecure;
#                       ties.insecure.test: MX 20 zz, 10 mx1, 20 bb (in that
#                       order, served as is with rrset-roundrobin: no);
#                       weird.insecure.test: MX to a label with . \ and 0x07;
#                       many.insecure.test: 20 MX (40 down to 21);
#                       cname/loop/numeric/ctl.insecure.test: an MX at an
#                       alias, a CNAME loop, an IP address as MX target, an
#                       ESC in a target beside a good MX
#   CASE.sts.example.test  MTA-STS / TLS-RPT cases inside example.test: see
#                       sts_zone below
# Everything else gets SERVFAIL quickly: the root hints point at loopback and
# the server may not query loopback, so it never goes to the internet.
#
# The "dead" resolver (MXS_DNS_DEAD_RESOLVER) is a second, tiny unbound
# (DIR/dead.conf, pid in DIR/dead.pid) whose access-control denies everyone:
# "deny" drops queries without any reply, so a client times out (127/8 is
# denied explicitly: the built-in "127.0.0.0/8 allow" is more specific than /0).  An unused
# port would not do: the kernel answers ICMP port-unreachable and libunbound
# fails fast instead of timing out.  (interface-action on a second port of
# the main server was tried first: unbound 1.17 did not apply it per port.)
#
# The "stripping" resolver (MXS_DNS_STRIP_RESOLVER) stands in for a local
# resolver that does not pass DNSSEC: a third unbound serving the same zones
# *unsigned* (the zone files before signing), so answers come without RRSIGs
# and without DNSKEYs.  A validating client with example.test's DS then finds
# every example.test answer bogus, and so is the DNSKEY of example.test: the
# case where blaming the partner's zone would be wrong.  (An iterator-only
# unbound forwarding to the main server was tried first: it passes the RRSIGs
# on when the client sets DO, so it strips nothing.)
#
# dns.env (sourceable sh):
#   MXS_DNS_PORT=PORT  MXS_DNS_RESOLVER=127.0.0.1@PORT
#   MXS_DNS_DEAD_PORT=PORT2  MXS_DNS_DEAD_RESOLVER=127.0.0.1@PORT2
#   MXS_DNS_STRIP_RESOLVER=127.0.0.1@PORT3
#   MXS_TRUST_ANCHOR=DIR/ta.key       DS of example.test
#   MXS_UNBOUND_CONF=DIR/client.conf  libunbound client config (see below)
#   MXS_DNS_TLSA_HASH=HEX             SHA-256 of the SPKI in the mx1 TLSA
#   MXS_DNS_TLSA_FROM=cert|fixed      whether HEX came from good.crt
#
# The TLSA 3 1 1 of _25._tcp.mx1.example.test is the SHA-256 of the SPKI of
# good.crt from the certificate world: $CERTDIR/good.crt when CERTDIR is set,
# else DIR/../certs/good.crt, else DIR/certs/good.crt; without any, a fixed
# 32-byte value.
set -eu

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 up|down DIR" >&2; exit 2; }

log() { echo "world-dns: $*" >&2; }

port_busy() { # port -> 0 when something listens on it (udp or tcp)
    ss -Hlnu "sport = :$1" 2>/dev/null | grep -q . && return 0
    ss -Hlnt "sport = :$1" 2>/dev/null | grep -q . && return 0
    return 1
}

pick_port() { # a free port in 20000-59999 that is not $1
    n=0
    while [ $n -lt 200 ]; do
        p=$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 + 20000 ))
        if [ "$p" != "${1:-}" ] && ! port_busy "$p"; then echo "$p"; return 0; fi
        n=$((n + 1))
    done
    return 1
}

stop_pidfile() { # file: stop the process we started, by its pid only
    [ -f "$1" ] || return 0
    pid=$(cat "$1")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$1"
}

down() {
    stop_pidfile "$dir/unbound.pid"
    stop_pidfile "$dir/dead.pid"
    stop_pidfile "$dir/strip.pid"
}

keygen() { # zone -> prints the key base name (in $dir/keys)
    (cd "$dir/keys" && ldns-keygen -a ECDSAP256SHA256 -k -r /dev/urandom "$1")
}

tlsa_hash() {
    for c in ${CERTDIR:+"$CERTDIR/good.crt"} "$dir/../certs/good.crt" "$dir/certs/good.crt"; do
        if [ -f "$c" ]; then
            h=$(openssl x509 -in "$c" -noout -pubkey | openssl pkey -pubin -outform DER |
                openssl dgst -sha256 -r | cut -d' ' -f1 | tr a-f A-F)
            if [ ${#h} = 64 ]; then echo "cert $h"; return 0; fi
        fi
    done
    # Fixed: recognisable in a transcript, not the hash of anything.
    echo "fixed 0123456789ABCDEF0123456789ABCDEFFEDCBA9876543210FEDCBA9876543210"
}

# DANE over time (issue 12): SHA-256 of a world certificate (cert) or of
# its key (spki), uppercase hex; a fixed value without the certificate world.
dane_hash() { # NAME cert|spki
    for c in ${CERTDIR:+"$CERTDIR/$1.crt"} "$dir/../certs/$1.crt" "$dir/certs/$1.crt"; do
        [ -f "$c" ] || continue
        if [ "$2" = spki ]; then
            openssl x509 -in "$c" -noout -pubkey | openssl pkey -pubin -outform DER
        else
            openssl x509 -in "$c" -outform DER
        fi | openssl dgst -sha256 -r | cut -c1-64 | tr a-f A-F
        return 0
    done
    echo FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210
}

# MTA-STS / TLS-RPT (issue 12, tests/integration/sts.sh): CASE.sts.example.test
# inside the signed example.test, one per policy host of tests/world-https.sh
# (nginx on $MXS_HTTPS_ADDR, 127.0.3.43 by default): MX 10 mx1.example.test
# (the Postfix listeners' certificate names it; the probe's --port picks the
# listener, so the TLSA of _25._tcp.mx1 applies only with --tlsa-port 25: the
# DANE+MTA-STS case), _mta-sts TXT v=STSv1, mta-sts.CASE A -> nginx, and
# _smtp._tls TXT: both URI kinds (enforce), mailto (testing), https (the
# rest), none (crlf: tlsrpt-missing).  DNS-only cases: nosts (no record),
# twotxt (two v=STSv1 records), badtxt (an invalid id beside an unrelated
# TXT), nohost (a valid record, no mta-sts host: the fetch fails at DNS),
# badrpt (no MTA-STS, a TLS-RPT record with an ftp: URI).
sts_zone() {
    a=${MXS_HTTPS_ADDR:-127.0.3.43}
    for k in enforce testing none notcovered malformed crlf notfound redirect html big slow \
             expired wrongname untrusted wild; do
        case $k in
        wild)   # the wildcard's edge cases, one MX each (sts.sh, --all)
            echo "$k.sts IN MX 10 a.mx.example.test."
            echo "$k.sts IN MX 20 b.a.mx.example.test."
            echo "$k.sts IN MX 30 mx.example.test."
            echo "a.mx IN A 127.0.0.1"; echo "b.a.mx IN A 127.0.0.1"; echo "mx IN A 127.0.0.1" ;;
        *) echo "$k.sts IN MX 10 mx1.example.test." ;;
        esac
        echo "_mta-sts.$k.sts IN TXT \"v=STSv1; id=20261203T1\""
        echo "mta-sts.$k.sts IN A $a"
        case $k in
        enforce) echo "_smtp._tls.$k.sts IN TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@example.test,https://tlsrpt.example.test/v1\"" ;;
        testing) echo "_smtp._tls.$k.sts IN TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@example.test\"" ;;
        crlf) ;;
        *) echo "_smtp._tls.$k.sts IN TXT \"v=TLSRPTv1; rua=https://tlsrpt.example.test/v1\"" ;;
        esac
    done
    for k in nosts twotxt badtxt nohost badrpt; do echo "$k.sts IN MX 10 mx1.example.test."; done
    echo "_mta-sts.twotxt.sts IN TXT \"v=STSv1; id=first1\""
    echo "_mta-sts.twotxt.sts IN TXT \"v=STSv1; id=second2\""
    echo "_mta-sts.badtxt.sts IN TXT \"v=STSv1; id=not-valid!\""
    echo "_mta-sts.badtxt.sts IN TXT \"google-site-verification=abc\""
    echo "_mta-sts.nohost.sts IN TXT \"v=STSv1; id=20261203T1\""
    echo "_smtp._tls.nohost.sts IN TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@example.test\""
    echo "_smtp._tls.badrpt.sts IN TXT \"v=TLSRPTv1; rua=ftp://tlsrpt.example.test/\""
}

up() {
    for t in unbound ldns-keygen ldns-signzone openssl ss drill; do
        command -v "$t" >/dev/null 2>&1 || { log "needs $t (apt-get install unbound ldnsutils openssl iproute2)"; exit 1; }
    done
    mkdir -p "$dir/keys"
    dir=$(cd "$dir" && pwd)
    down

    set -- $(tlsa_hash)
    tlsa_from=$1; tlsa=$2
    # mx2 gets a DANE-TA(2) record: the SHA-256 of the intermediate CA's
    # certificate, so a chain through it matches (fixed without certs).
    ta=0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
    for c in ${CERTDIR:+"$CERTDIR/int.crt"} "$dir/../certs/int.crt" "$dir/certs/int.crt"; do
        if [ -f "$c" ]; then
            ta=$(openssl x509 -in "$c" -outform DER | openssl dgst -sha256 -r | cut -c1-64 | tr a-f A-F)
            break
        fi
    done

    # --- bogus.example.test: signed, but every signature expired in 2020.
    kb=$(keygen bogus.example.test)
    cat > "$dir/bogus.example.test.zone" <<EOF
\$ORIGIN bogus.example.test.
\$TTL 300
@    IN SOA ns1.example.test. hostmaster.example.test. 1 3600 600 86400 300
@    IN NS  ns1.example.test.
@    IN MX  10 mx1.bogus.example.test.
mx1  IN A   127.0.0.1
EOF
    ldns-signzone -i 20200101000000 -e 20200201000000 -o bogus.example.test. \
        -f "$dir/bogus.example.test.signed" "$dir/bogus.example.test.zone" "$dir/keys/$kb"

    # --- example.test: signed and valid for 30 days; DS of the child inside.
    ke=$(keygen example.test)
    {
        cat <<EOF
\$ORIGIN example.test.
\$TTL 300
@        IN SOA ns1.example.test. hostmaster.example.test. 1 3600 600 86400 300
@        IN NS  ns1.example.test.
ns1      IN A   127.0.0.1
@        IN MX  10 mx1.example.test.
@        IN MX  20 mx2.example.test.
@        IN MX  20 mx3.example.test.
mx1      IN A   127.0.0.1
mx1      IN AAAA ::1
mx2      IN A   127.0.0.1
mx2      IN AAAA ::1
mx3      IN A   127.0.0.1
_25._tcp.mx1 IN TLSA 3 1 1 $tlsa
_25._tcp.mx2 IN TLSA 2 0 1 $ta
; DANE over time (issue 12, tests/integration/dane_time.sh): one MX each.
; dane-exp: only a 3 1 1, of expiring.crt's key (10 days left); dane-exp2:
; the same and the next key's 3 1 1 published beside it (good's); dane-full: a
; 3 0 1 of good.crt beside its 3 1 1; dane-ta: a 2 0 1 of other-ca.crt (it
; issued nothing served) beside good's 3 1 1; dane-cname: the MX an alias of
; mx1, a wrong 3 1 1 at the alias (mx1's own, at the expanded name, applies);
; dane-cname2: an alias of mx3 (no TLSA), good's 3 1 1 at the alias applies;
; dane-cname3: an alias of mx2 (its 2 0 1): the leaf names mx2, not dx7;
; under: an MX target with an underscore.
; Dual RSA + ECDSA (tests/integration/dane_dual.sh, the dualgood listener):
; dane-dual: 3 1 1 of both keys; dane-dual-ec: of the ECDSA key only;
; dane-dual-rsa: of the RSA key (good's) only.
dane-dual IN MX 10 dx8.example.test.
dx8      IN A   127.0.0.1
_25._tcp.dx8 IN TLSA 3 1 1 $(dane_hash ecgood spki)
_25._tcp.dx8 IN TLSA 3 1 1 $tlsa
dane-dual-ec IN MX 10 dx9.example.test.
dx9      IN A   127.0.0.1
_25._tcp.dx9 IN TLSA 3 1 1 $(dane_hash ecgood spki)
dane-dual-rsa IN MX 10 dx10.example.test.
dx10     IN A   127.0.0.1
_25._tcp.dx10 IN TLSA 3 1 1 $tlsa
dane-exp IN MX  10 dx1.example.test.
dx1      IN A   127.0.0.1
_25._tcp.dx1 IN TLSA 3 1 1 $(dane_hash expiring spki)
dane-exp2 IN MX 10 dx6.example.test.
dx6      IN A   127.0.0.1
_25._tcp.dx6 IN TLSA 3 1 1 $(dane_hash expiring spki)
_25._tcp.dx6 IN TLSA 3 1 1 $tlsa
dane-full IN MX 10 dx2.example.test.
dx2      IN A   127.0.0.1
_25._tcp.dx2 IN TLSA 3 0 1 $(dane_hash good cert)
_25._tcp.dx2 IN TLSA 3 1 1 $tlsa
dane-ta  IN MX  10 dx3.example.test.
dx3      IN A   127.0.0.1
_25._tcp.dx3 IN TLSA 2 0 1 $(dane_hash other-ca cert)
_25._tcp.dx3 IN TLSA 3 1 1 $tlsa
dane-cname IN MX 10 dx4.example.test.
dx4      IN CNAME mx1.example.test.
_25._tcp.dx4 IN TLSA 3 1 1 0000000000000000000000000000000000000000000000000000000000000000
dane-cname2 IN MX 10 dx5.example.test.
dx5      IN CNAME mx3.example.test.
_25._tcp.dx5 IN TLSA 3 1 1 $tlsa
dane-cname3 IN MX 10 dx7.example.test.
dx7      IN CNAME mx2.example.test.
under    IN MX  10 mx_u.example.test.
mx_u     IN A   127.0.0.1
implicit IN A   127.0.0.1
nullmx   IN MX  0 .
mx-wrong IN A   127.0.0.1
bogus    IN NS  ns1.example.test.
EOF
        sts_zone
        cat "$dir/keys/$kb.ds"
    } > "$dir/example.test.zone"
    ldns-signzone -i "$(date -u -d '-1 day' +%Y%m%d%H%M%S)" -e "$(date -u -d '+30 days' +%Y%m%d%H%M%S)" \
        -o example.test. -f "$dir/example.test.signed" "$dir/example.test.zone" "$dir/keys/$ke"
    cp "$dir/keys/$ke.ds" "$dir/ta.key"

    # --- insecure.test: no signatures, no anchor.
    cat > "$dir/insecure.test.zone" <<EOF
\$ORIGIN insecure.test.
\$TTL 300
@    IN SOA ns1.insecure.test. hostmaster.insecure.test. 1 3600 600 86400 300
@    IN NS  ns1.insecure.test.
ns1  IN A   127.0.0.1
@    IN MX  10 mx1.insecure.test.
mx1  IN A   127.0.0.1
; Unsigned, so not put in canonical order by a signer: a tie whose DNS order
; is not alphabetical, to prove the MX sort keeps ties in DNS order.
ties IN MX  20 zz.insecure.test.
ties IN MX  10 mx1.insecure.test.
ties IN MX  20 bb.insecure.test.
; A label with a dot, a backslash and a control byte inside: hostile names
; (backslashes doubled for this unquoted here-document).
weird IN MX 10 a\.b\\\\c\007.insecure.test.
; Hostile DNS (issue 14, tests/integration/dns.sh; the scripted server of
; dns_hostile.sh plays the rest): the MX at an alias, a CNAME loop, an IP
; address as MX target, a control byte beside a good MX.
cname IN MX 10 alias.insecure.test.
alias IN CNAME mx1.insecure.test.
loop  IN MX 10 la.insecure.test.
la    IN CNAME lb.insecure.test.
lb    IN CNAME la.insecure.test.
numeric IN MX 10 127.0.0.1.
ctl   IN MX 10 bad\027.insecure.test.
ctl   IN MX 20 mx1.insecure.test.
EOF
    # More MX records than MXS_MAX_MX (16): 20, preference 40 down to 21.
    i=40
    while [ $i -gt 20 ]; do
        echo "many IN MX $i m$i.insecure.test." >> "$dir/insecure.test.zone"
        i=$((i - 1))
    done

    # Root hints on loopback + do-not-query-localhost: anything outside our
    # zones fails at once instead of leaving the machine.
    cat > "$dir/root.hints" <<EOF
.                 3600000 IN NS a.root.invalid.
a.root.invalid.   3600000 IN A  127.0.0.1
EOF

    # The libunbound client config the tests hand to ub_ctx_config().
    #   local-zone "test." nodefault: else libunbound answers NXDOMAIN for the
    #     special-use test. names itself (RFC 6761 default zones).
    #   do-not-query-localhost: no: our server is on 127.0.0.1.
    #   rrset-roundrobin: no: keep the DNS order of MX ties as served.
    # insecure.test needs nothing: no anchor covers it, so it is insecure.
    cat > "$dir/client.conf" <<EOF
server:
    local-zone: "test." nodefault
    do-not-query-localhost: no
    rrset-roundrobin: no
    val-log-level: 2
EOF

    tries=0
    while :; do
        tries=$((tries + 1))
        port=$(pick_port) || { log "no free port"; exit 1; }
        dead=$(pick_port "$port") || { log "no free port"; exit 1; }
        strip=$(pick_port "$dead") || { log "no free port"; exit 1; }
        [ "$strip" != "$port" ] || strip=$(pick_port "$dead") || exit 1
        cat > "$dir/unbound.conf" <<EOF
server:
    username: ""
    chroot: ""
    directory: "$dir"
    pidfile: "$dir/unbound.pid"
    use-syslog: no
    logfile: "$dir/unbound.log"
    verbosity: 1
    num-threads: 1
    so-reuseport: no
    do-ip6: no
    interface: 127.0.0.1@$port
    access-control: 127.0.0.0/8 allow
    local-zone: "test." nodefault
    module-config: "iterator"
    root-hints: "$dir/root.hints"
    do-not-query-localhost: yes
    rrset-roundrobin: no
    minimal-responses: no
    trust-anchor-file: ""
remote-control:
    control-enable: no
auth-zone:
    name: "example.test."
    zonefile: "$dir/example.test.signed"
    for-downstream: yes
    for-upstream: no
    fallback-enabled: no
auth-zone:
    name: "bogus.example.test."
    zonefile: "$dir/bogus.example.test.signed"
    for-downstream: yes
    for-upstream: no
    fallback-enabled: no
auth-zone:
    name: "insecure.test."
    zonefile: "$dir/insecure.test.zone"
    for-downstream: yes
    for-upstream: no
    fallback-enabled: no
EOF
        cat > "$dir/dead.conf" <<EOF
server:
    username: ""
    chroot: ""
    directory: "$dir"
    pidfile: "$dir/dead.pid.unbound"
    use-syslog: no
    logfile: "$dir/dead.log"
    num-threads: 1
    so-reuseport: no
    do-ip6: no
    do-tcp: no
    interface: 127.0.0.1@$dead
    access-control: 0.0.0.0/0 deny
    access-control: 127.0.0.0/8 deny
    module-config: "iterator"
remote-control:
    control-enable: no
EOF
        cat > "$dir/strip.conf" <<EOF
server:
    username: ""
    chroot: ""
    directory: "$dir"
    pidfile: "$dir/strip.pid.unbound"
    use-syslog: no
    logfile: "$dir/strip.log"
    num-threads: 1
    so-reuseport: no
    do-ip6: no
    interface: 127.0.0.1@$strip
    access-control: 127.0.0.0/8 allow
    local-zone: "test." nodefault
    module-config: "iterator"
    root-hints: "$dir/root.hints"
    do-not-query-localhost: yes
    trust-anchor-file: ""
remote-control:
    control-enable: no
auth-zone:
    name: "example.test."
    zonefile: "$dir/example.test.zone"
    for-downstream: yes
    for-upstream: no
    fallback-enabled: no
auth-zone:
    name: "bogus.example.test."
    zonefile: "$dir/bogus.example.test.zone"
    for-downstream: yes
    for-upstream: no
    fallback-enabled: no
EOF
        : > "$dir/unbound.log"
        unbound-checkconf "$dir/unbound.conf" >/dev/null
        unbound-checkconf "$dir/dead.conf" >/dev/null
        unbound-checkconf "$dir/strip.conf" >/dev/null
        unbound -d -c "$dir/strip.conf" > "$dir/strip.stderr" 2>&1 &
        echo $! > "$dir/strip.pid"
        unbound -d -c "$dir/dead.conf" > "$dir/dead.stderr" 2>&1 &
        echo $! > "$dir/dead.pid"
        # -d: stay in the foreground (we background it ourselves, so the pid
        # is ours and the server cannot outlive a lost pid file silently).
        unbound -d -c "$dir/unbound.conf" > "$dir/unbound.stderr" 2>&1 &
        echo $! > "$dir/unbound.pid"
        # Bounded wait: up to 10 s for an authoritative answer.
        i=0; okay=0
        while [ $i -lt 100 ]; do
            if ! kill -0 "$(cat "$dir/unbound.pid")" 2>/dev/null; then break; fi
            if drill -p "$port" -t SOA example.test @127.0.0.1 2>/dev/null | grep -q 'rcode: NOERROR'; then
                okay=1; break
            fi
            sleep 0.1; i=$((i + 1))
        done
        # The dead one must be listening (and silent) too.
        if [ $okay = 1 ]; then
            j=0
            while [ $j -lt 50 ] && ! ss -Hlnu "sport = :$dead" | grep -q .; do sleep 0.1; j=$((j + 1)); done
            ss -Hlnu "sport = :$dead" | grep -q . || okay=0
            j=0
            while [ $j -lt 50 ] && ! drill -p "$strip" -t SOA example.test @127.0.0.1 2>/dev/null | grep -q 'rcode: NOERROR'; do
                sleep 0.1; j=$((j + 1))
            done
            [ $j -lt 50 ] || okay=0
        fi
        [ $okay = 1 ] && break
        log "unbound did not come up on $port (try $tries):"
        tail -n 5 "$dir/unbound.log" "$dir/unbound.stderr" >&2 || true
        down
        [ $tries -lt 3 ] || exit 1
    done

    cat > "$dir/dns.env" <<EOF
MXS_DNS_PORT=$port
MXS_DNS_RESOLVER=127.0.0.1@$port
MXS_DNS_DEAD_PORT=$dead
MXS_DNS_DEAD_RESOLVER=127.0.0.1@$dead
MXS_DNS_STRIP_RESOLVER=127.0.0.1@$strip
MXS_TRUST_ANCHOR=$dir/ta.key
MXS_UNBOUND_CONF=$dir/client.conf
MXS_DNS_TLSA_HASH=$tlsa
MXS_DNS_TLSA_FROM=$tlsa_from
EOF
    log "unbound on 127.0.0.1@$port (dead: $dead, stripping: $strip), env in $dir/dns.env"
}

case $cmd in
    up) up ;;
    down) [ -d "$dir" ] && { dir=$(cd "$dir" && pwd); down; }; exit 0 ;;
    *) echo "usage: $0 up|down DIR" >&2; exit 2 ;;
esac
