#!/bin/sh
# tests/world.sh - the test world: real peers on loopback for the
# integration, console, benchmark and diagnosis tests.
# Owner: test world (tests/world*.sh).
#
#   sh tests/world.sh up DIR      certificates, DNS (if tests/world-dns.sh is
#                                 there), one Postfix master with a listener
#                                 per TLS problem; waits for every greeting;
#                                 writes DIR/env
#   sh tests/world.sh down DIR    stops Postfix and DNS; idempotent
#   sh tests/world.sh banner HOST PORT SECS
#                                 print the first reply (the greeting) of an
#                                 SMTP server; exit 0 if one came in time
#   sh tests/world.sh chat HOST PORT SECS [LINE...]
#                                 greeting, then send each LINE (CRLF added)
#                                 and print each whole reply; client lines are
#                                 printed as "C: LINE".  Exit 0 when every
#                                 reply came, 3 on timeout, 4 when the server
#                                 closed, 2 when the connect failed.  SECS
#                                 bounds the whole conversation.
# Needs: openssl, postfix, perl (perl-base: IO::Socket::IP), iproute2 (ss),
# util-linux (runuser); unbound etc. for world-dns.sh.  Run as root (Postfix
# master must start as root; the system Postfix is never touched).
#
# DIR/env - sourceable sh, one KEY=VALUE per line, no quoting needed (values
# are paths, ports and hex; a value with other characters is single-quoted):
#   MXS_WORLD_DIR     DIR (absolute)
#   MXS_CA            DIR/certs/ca.crt: the only root a client should trust
#   MXS_CERTDIR       DIR/certs (see tests/world-certs.sh for every file)
#   MXS_CLIENT_CERT / MXS_CLIENT_KEY   for the ccert listener
#   MXS_POSTFIX_DIR   DIR/postfix: config_directory (postfix -c it)
#   MXS_POSTFIX_LOG   DIR/postfix.log: every smtpd's log
#   MXS_HOST=127.0.0.1, MXS_HOST6=::1 (MXS_HOST6 empty when no IPv6)
#   MXS_PORT_<NAME>   one per listener, NAME uppercased ('-' -> '_'):
#                     GOOD TLS12 EXPIRED NOTYET EXPIRING WRONGNAME SELFSIGNED
#                     UNTRUSTED MISSING_INT WEAKKEY SHA1SIG CLIENTAUTH OLD
#                     NOSTARTTLS REFUSED454 CCERT BANNER554 BANNER421
#                     SLOWBANNER, and GOOD6 (on [::1]; only with IPv6)
#   MXS_SCENARIOS     the listener names, space separated, lowercase
#   MXS_SLOWBANNER_SECS=5   the slow listener's greeting delay
#   MXS_GOOD_SHA1 / MXS_GOOD_SHA256 / MXS_OLD_SHA1 / MXS_OLD_SHA256
#                     certificate (DER) fingerprints, uppercase hex, no colons
#   MXS_GOOD_SPKI_SHA256  SHA-256 of good.crt's SubjectPublicKeyInfo (TLSA 3 1 1)
#   then DIR/https/https.env (MXS_HTTPS_*: the MTA-STS policy hosts of
#   tests/world-https.sh, nginx on 127.0.3.43:443) and
#   DIR/dns/dns.env appended when the DNS world ran (MXS_DNS_*, see
#   tests/world-dns.sh).
# What every listener does and how that was checked: tests/world-postfix.sh
# (comments) and tests/integration/world.sh (asserted on every run).
set -eu
here=$(cd "$(dirname "$0")" && pwd)

# SMTP client for probes: bounded in time and size, no TLS.  perl is
# always on Debian (perl-base) while nc/socat are not.
smtp_chat() { # host port secs lines...
    perl -e '
        use strict; use warnings; use IO::Socket::IP; use IO::Select;
        $| = 1;
        my ($host, $port, $secs, @lines) = @ARGV;
        my $end = time + $secs;
        my $s = IO::Socket::IP->new(PeerHost => $host, PeerPort => $port,
                                    Timeout => $secs)
            or do { print STDERR "connect $host:$port: $@\n"; exit 2 };
        my $buf = "";
        sub reply {
            for (;;) {
                while ($buf =~ s/^([^\n]*)\n//) {
                    my $l = $1; $l =~ s/\r$//;
                    print "$l\n";
                    return if $l =~ /^\d{3}(?: |$)/;
                }
                my $left = $end - time;
                if ($left <= 0 || !IO::Select->new($s)->can_read($left)) {
                    print STDERR "timeout after ${secs}s\n"; exit 3;
                }
                my $n = sysread($s, my $chunk, 4096);
                if (!$n) { print "$buf\n" if length $buf;
                           print STDERR "connection closed\n"; exit 4; }
                $buf .= $chunk;
                if (length $buf > 65536) { print STDERR "reply too long\n"; exit 5; }
            }
        }
        reply();
        for my $l (@lines) {
            print "C: $l\n";
            print $s "$l\r\n";
            reply();
        }
        exit 0;
    ' "$@"
}

fp() { # alg file -> uppercase hex, no colons
    openssl x509 -in "$2" -noout -fingerprint "-$1" | sed 's/.*=//; s/://g'
}

envline() { # key value
    case $2 in
        *[!A-Za-z0-9_./:@+,=-]*) printf "%s='%s'\n" "$1" "$(printf %s "$2" | sed "s/'/'\\\\''/g")" ;;
        *) printf '%s=%s\n' "$1" "$2" ;;
    esac
}

world_up() {
    dir=$1
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    rm -f "$dir/env"
    # A world left running in DIR (a second `up`) is stopped first, so its
    # master never keeps serving stale certificates on ports we forget.
    world_down "$dir"
    t0=$(date +%s)
    sh "$here/world-certs.sh" "$dir/certs"
    t1=$(date +%s)
    # DNS and Postfix start side by side: both only need the certificates.
    dnspid=""
    if [ -f "$here/world-dns.sh" ]; then
        CERTDIR="$dir/certs" sh "$here/world-dns.sh" up "$dir/dns" > "$dir/dns-up.log" 2>&1 &
        dnspid=$!
    fi
    httpspid=""
    if [ -f "$here/world-https.sh" ]; then
        sh "$here/world-https.sh" up "$dir" > "$dir/https-up.log" 2>&1 &
        httpspid=$!
    fi
    pfrc=0
    sh "$here/world-postfix.sh" up "$dir" || pfrc=$?
    if [ -n "$httpspid" ] && ! wait "$httpspid"; then
        cat "$dir/https-up.log" >&2
        echo "world: tests/world-https.sh up $dir failed (log above)" >&2
        return 1
    fi
    if [ -n "$dnspid" ] && ! wait "$dnspid"; then
        cat "$dir/dns-up.log" >&2
        echo "world: tests/world-dns.sh up $dir/dns failed (log above)" >&2
        return 1
    fi
    [ -n "$dnspid" ] && cat "$dir/dns-up.log"
    [ $pfrc = 0 ] || { echo "world: tests/world-postfix.sh up $dir failed" >&2; return 1; }
    ports="$dir/postfix/ports"
    t2=$(date +%s)

    # Every listener must greet.  All probes run at once, so the wait is the
    # slowest one (the 5 s slow banner), each bounded by 30 s: on a loaded
    # 2-core machine the first smtpd of each listener took up to 14 s.
    : > "$dir/probe.failed"
    while read -r name port; do
        host=127.0.0.1
        [ "$name" = good6 ] && host=::1
        (
            out=$(smtp_chat "$host" "$port" 30 2>&1) || true
            if ! printf '%s\n' "$out" | grep -q '^[0-9][0-9][0-9]'; then
                echo "listener $name ($host port $port) gave no SMTP greeting within 30 s: $out" >> "$dir/probe.failed"
            fi
        ) &
    done < "$ports"
    wait
    if [ -s "$dir/probe.failed" ]; then
        cat "$dir/probe.failed" >&2
        echo "world: last Postfix log lines:" >&2
        tail -n 30 "$dir/postfix.log" >&2 2>/dev/null || true
        return 1
    fi

    c="$dir/certs"
    v6=""
    grep -q '^good6 ' "$ports" && v6=::1
    {
        echo "# mxscope test world, tests/world.sh up, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        envline MXS_WORLD_DIR "$dir"
        envline MXS_CA "$c/ca.crt"
        envline MXS_CERTDIR "$c"
        envline MXS_CLIENT_CERT "$c/client.crt"
        envline MXS_CLIENT_KEY "$c/client.key"
        envline MXS_POSTFIX_DIR "$dir/postfix"
        envline MXS_POSTFIX_LOG "$dir/postfix.log"
        envline MXS_HOST 127.0.0.1
        envline MXS_HOST6 "$v6"
        while read -r name port; do
            envline "MXS_PORT_$(echo "$name" | tr 'a-z-' 'A-Z_')" "$port"
        done < "$ports"
        envline MXS_SCENARIOS "$(awk '{print $1}' "$ports" | tr '\n' ' ' | sed 's/ $//')"
        envline MXS_SLOWBANNER_SECS 5
        envline MXS_GOOD_SHA1 "$(fp sha1 "$c/good.crt")"
        envline MXS_GOOD_SHA256 "$(fp sha256 "$c/good.crt")"
        envline MXS_OLD_SHA1 "$(fp sha1 "$c/old.crt")"
        envline MXS_OLD_SHA256 "$(fp sha256 "$c/old.crt")"
        envline MXS_GOOD_SPKI_SHA256 "$(openssl x509 -in "$c/good.crt" -noout -pubkey |
            openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1 |
            tr a-f A-F)"
        if [ -f "$dir/https/https.env" ]; then
            echo "# from $dir/https/https.env"
            awk 1 "$dir/https/https.env"
        fi
        if [ -f "$dir/dns/dns.env" ]; then
            echo "# from $dir/dns/dns.env"
            awk 1 "$dir/dns/dns.env"   # awk 1: adds a missing last newline
        fi
    } > "$dir/env.tmp"
    mv "$dir/env.tmp" "$dir/env"
    t3=$(date +%s)
    echo "world: up in $dir in $((t3 - t0)) s (certs $((t1 - t0)) s, servers $((t2 - t1)) s, greetings $((t3 - t2)) s), env in $dir/env"
}

world_down() {
    dir=$1
    [ -d "$dir" ] || return 0
    dir=$(cd "$dir" && pwd)
    sh "$here/world-postfix.sh" down "$dir" || true
    if [ -f "$here/world-https.sh" ] && [ -d "$dir/https" ]; then
        sh "$here/world-https.sh" down "$dir" || true
    fi
    if [ -f "$here/world-dns.sh" ] && [ -d "$dir/dns" ]; then
        sh "$here/world-dns.sh" down "$dir/dns" || true
    fi
    return 0
}

case ${1:-} in
    up)
        [ $# = 2 ] || { echo "usage: world.sh up DIR" >&2; exit 2; }
        if ! world_up "$2"; then
            echo "world: start failed, stopping what was started" >&2
            world_down "$2"
            exit 1
        fi ;;
    down)
        [ $# = 2 ] || { echo "usage: world.sh down DIR" >&2; exit 2; }
        world_down "$2" ;;
    banner)
        [ $# = 4 ] || { echo "usage: world.sh banner HOST PORT SECS" >&2; exit 2; }
        smtp_chat "$2" "$3" "$4" ;;
    chat)
        [ $# -ge 4 ] || { echo "usage: world.sh chat HOST PORT SECS [LINE...]" >&2; exit 2; }
        shift; smtp_chat "$@" ;;
    *)
        echo "usage: world.sh up|down DIR | banner HOST PORT SECS | chat HOST PORT SECS [LINE...]" >&2
        exit 2 ;;
esac
