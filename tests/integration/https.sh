#!/bin/sh
# https.sh - the MTA-STS policy fetch (core/probe/https.c) against the
# world's real nginx (tests/world-https.sh): fetched as a sender does it
# (PKIX for mta-sts.DOMAIN with SNI, TLS 1.2+, no redirect followed, 200
# only, a 64 KiB cap, one deadline), and the evidence of each failure.
# Driven through tests/fixtures/httpsget, which runs the fetch from a poll()
# loop exactly as the engine's loop will.
. "$(dirname "$0")/../lib.sh"
world_env
G="$MXS_BUILD/fixtures/httpsget"
[ -x "$G" ] || { fail "https: fixture" "$G not built"; exit 1; }
[ -n "${MXS_HTTPS_ADDR:-}" ] || { fail "https: world" "no MXS_HTTPS_ADDR: tests/world-https.sh did not run"; exit 1; }
tmp=$(mktemp -d /tmp/mxscope-https.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

fetch() { # case [deadline-ms] -> $tmp/CASE.out
    "$G" "https://mta-sts.$1.sts.example.test/.well-known/mta-sts.txt" --pin "$MXS_HTTPS_ADDR" \
        --cafile "$MXS_CA" --deadline "${2:-5000}" > "$tmp/$1.out" 2> "$tmp/$1.err"
}
val() { sed -n "s/^$2=//p" "$tmp/$1.out" | head -n 1; }
check() { # case what expected-key=value...
    k=$1; what=$2; shift 2
    why=""
    for kv in "$@"; do
        key=${kv%%=*} want=${kv#*=}
        got=$(val "$k" "$key")
        case $got in $want) ;; *) why="$why; $key is '$got', want '$want'" ;; esac
    done
    if [ -z "$why" ]; then ok "https/$k: $what"; else fail "https/$k: $what" "${why#; } ($(head -c 300 "$tmp/$k.err"))"; fi
}

fetch enforce
check enforce "200 text/plain, the policy whole, the chain seen, Host = the policy host" \
    outcome=ok status=200 content_type=text/plain "body_head=version: STSv1\\\\x0Amode: enforce*" \
    n_certs=2 "cert0_subject=*CN = mta-sts.enforce.sts.example.test*" \
    "request_head=GET /.well-known/mta-sts.txt HTTP/1.1\\\\x0D\\\\x0AHost: mta-sts.enforce.sts.example.test*" \
    "primary_ip=$MXS_HTTPS_ADDR"
fetch crlf
check crlf "CRLF body kept byte for byte" outcome=ok "body_head=version: STSv1\\\\x0D\\\\x0Amode*"
fetch notfound
check notfound "404 is a failure with its status line" outcome=http status=404 "status_line=HTTP/1.1 404 Not Found"
fetch redirect
check redirect "a 301 is never followed; its Location is the evidence" outcome=http status=301 \
    "location=https://mta-sts.enforce.sts.example.test/.well-known/mta-sts.txt"
fetch html
check html "text/html is fetched (the caller judges the media type)" outcome=ok content_type=text/html
fetch big
check big "over 64 KiB: refused, with the announced size" outcome=too-big \
    "error=the server announced a body of 71*bytes (Content-Length), over the 65536 bytes allowed"
t0=$(date +%s%N)
fetch slow 1500
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
check slow "a body slower than the deadline: timeout, with how much came" outcome=timeout \
    "error=*timed out after 15?? milliseconds with * out of 4* bytes received"
if [ "$ms" -lt 4000 ]; then ok "https/slow: the deadline bounds the whole fetch (${ms} ms for 1500)"; else fail "https/slow: deadline" "${ms} ms"; fi
fetch expired
check expired "expired policy-host certificate: PKIX failure named" outcome=certificate verify_result=10 \
    "error=*certificate has expired*"
fetch wrongname
check wrongname "certificate for another name: refused (SNI sent: nginx chose this host's certificate)" \
    outcome=certificate "error=*mta-sts.wrongname.sts.example.test*" "cert0_subject=*other.example.net*"
fetch untrusted
check untrusted "self-signed: refused" outcome=certificate verify_result=18 "error=*self-signed*"

# The roots are the ones given: without --cafile the world's CA is unknown.
"$G" "https://mta-sts.enforce.sts.example.test/.well-known/mta-sts.txt" --pin "$MXS_HTTPS_ADDR" \
    --deadline 5000 > "$tmp/sysroots.out" 2>&1
check sysroots "the system store does not know the test root" outcome=certificate

# TLS 1.2 at least: a server offering only TLS 1.1 or less is refused (no
# nginx listener does; curl's option is checked by asking for it).
# Nothing else listens on port 443 of the address: connect refused, named.
"$G" "https://mta-sts.enforce.sts.example.test/.well-known/mta-sts.txt" --pin 127.0.3.44 \
    --cafile "$MXS_CA" --deadline 3000 > "$tmp/refused.out" 2>&1
check refused "nothing listening: a connect failure" outcome=connect
finish
