#!/bin/sh
# tests/integration/world.sh - the test world itself is right, checked with
# openssl s_client and a raw SMTP session, never with mxscope: if a listener
# stops showing its problem, every mxscope test against it would be lying.
# Owner: test world (tests/world*.sh).
# Uses MXS_WORLD (started once by tests/run.sh); when it is empty, starts a
# world of its own in a temp dir and stops it at exit.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
. tests/lib.sh
need openssl
need perl

own=""
if [ -z "${MXS_WORLD:-}" ]; then
    own=$(mktemp -d /tmp/mxs-world-test.XXXXXX)
    trap 'sh "$top/tests/world.sh" down "$own/w" >/dev/null 2>&1; rm -rf "$own"' EXIT
    trap 'exit 1' INT TERM HUP
    if ! sh tests/world.sh up "$own/w" > "$own/up.log" 2>&1; then
        fail "world up" "$(tail -n 20 "$own/up.log" | tr '\n' ' ')"
        exit 1
    fi
    MXS_WORLD="$own/w"
fi
world_env
tmp=$(mktemp -d /tmp/mxs-world-t.XXXXXX)
trap 'rm -rf "$tmp"; [ -n "$own" ] && { sh "$top/tests/world.sh" down "$own/w" >/dev/null 2>&1; rm -rf "$own"; }' EXIT

chat() { sh tests/world.sh chat "$@"; }

# s_client through STARTTLS; stdin is what to send after the handshake.
# Output (stdout+stderr) in $tmp/NAME.out.  Bounded by timeout.
sc() { # name host port [s_client args...]
    n=$1 h=$2 p=$3; shift 3
    case $h in *:*) h="[$h]" ;; esac
    timeout 20 openssl s_client -starttls smtp -connect "$h:$p" "$@" > "$tmp/$n.out" 2>&1
}
has() { grep -q -- "$2" "$tmp/$1.out"; }
leaf() { f=$1; shift; openssl x509 -in "$tmp/$f.out" "$@" 2>/dev/null; } # first PEM in output
fpr() { # alg name -> uppercase hex of the served leaf
    leaf "$2" -noout -fingerprint "-$1" | sed 's/.*=//; s/://g'
}
ms() { date +%s%3N; }

# --- the env file itself ---
for v in MXS_CA MXS_CERTDIR MXS_POSTFIX_DIR MXS_GOOD_SHA1 MXS_GOOD_SHA256 MXS_OLD_SHA1; do
    eval "val=\${$v:-}"
    if [ -n "$val" ]; then ok "env has $v"; else fail "env has $v"; fi
done
[ "$(openssl x509 -in "$MXS_CERTDIR/good.crt" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g')" = "$MXS_GOOD_SHA256" ] &&
    ok "MXS_GOOD_SHA256 is good.crt's" || fail "MXS_GOOD_SHA256 is good.crt's"
[ "$MXS_OLD_SHA1" != "$MXS_GOOD_SHA1" ] && ok "old and good differ" || fail "old and good differ"

# --- greetings ---
for s in $MXS_SCENARIOS; do
    case $s in banner554|banner421|slowbanner) continue ;; esac
    eval "port=\$MXS_PORT_$(echo "$s" | tr 'a-z-' 'A-Z_')"
    host=$MXS_HOST
    [ "$s" = good6 ] && host=$MXS_HOST6
    if chat "$host" "$port" 10 > "$tmp/g.out" 2>&1 && grep -q '^220 mx1.example.test ESMTP' "$tmp/g.out"; then
        ok "$s greets 220"
    else
        fail "$s greets 220" "$(head -c 300 "$tmp/g.out")"
    fi
done
chat "$MXS_HOST" "$MXS_PORT_BANNER554" 10 'EHLO x' > "$tmp/g.out" 2>&1
if head -n 1 "$tmp/g.out" | grep -q '^554 5.7.1 .*Client host rejected'; then ok "banner554 greets 554"
else fail "banner554 greets 554" "$(head -c 300 "$tmp/g.out")"; fi
chat "$MXS_HOST" "$MXS_PORT_BANNER421" 10 'EHLO x' > "$tmp/g.out" 2>&1; rc=$?
if head -n 1 "$tmp/g.out" | grep -q '^421 4.7.0 '; then ok "banner421 greets 421"
else fail "banner421 greets 421" "$(head -c 300 "$tmp/g.out")"; fi
# 421 means the server closes: EHLO must find the connection gone
# (chat exits 4) or at worst get another 4xx, never a 250.
if [ $rc != 0 ] && ! grep -q '^250' "$tmp/g.out"; then ok "banner421 closes after the greeting"
else fail "banner421 closes after the greeting" "chat rc $rc: $(tr '\n' ' ' < "$tmp/g.out")"; fi
t0=$(ms)
chat "$MXS_HOST" "$MXS_PORT_SLOWBANNER" 20 > "$tmp/g.out" 2>&1
dt=$(($(ms) - t0))
if grep -q '^220 ' "$tmp/g.out" && [ $dt -ge 4500 ] && [ $dt -lt 15000 ]; then
    ok "slowbanner greets 220 after ${dt} ms"
else
    fail "slowbanner greets 220 after ~5 s" "after $dt ms: $(head -c 200 "$tmp/g.out")"
fi

# --- STARTTLS behaviour ---
chat "$MXS_HOST" "$MXS_PORT_GOOD" 10 'EHLO client.example.test' QUIT > "$tmp/g.out" 2>&1
grep -q '^250[ -]STARTTLS' "$tmp/g.out" && ok "good advertises STARTTLS" || fail "good advertises STARTTLS"
chat "$MXS_HOST" "$MXS_PORT_NOSTARTTLS" 10 'EHLO client.example.test' STARTTLS QUIT > "$tmp/g.out" 2>&1
if grep -q '^250 ' "$tmp/g.out" && ! grep -q '^250[ -]STARTTLS' "$tmp/g.out"; then ok "nostarttls: no STARTTLS in EHLO"
else fail "nostarttls: no STARTTLS in EHLO" "$(tr '\n' ' ' < "$tmp/g.out")"; fi
grep -q '^502 ' "$tmp/g.out" && ok "nostarttls: STARTTLS gets 502" || fail "nostarttls: STARTTLS gets 502"
chat "$MXS_HOST" "$MXS_PORT_REFUSED454" 10 'EHLO client.example.test' STARTTLS QUIT > "$tmp/g.out" 2>&1
if grep -q '^250[ -]STARTTLS' "$tmp/g.out" && grep -q '^454 4.7.0 TLS not available' "$tmp/g.out"; then
    ok "refused454: STARTTLS advertised, answered 454"
else fail "refused454: STARTTLS advertised, answered 454" "$(tr '\n' ' ' < "$tmp/g.out")"; fi

# --- certificates and handshakes ---
V="-CAfile $MXS_CA -verify_hostname mx1.example.test"
# shellcheck disable=SC2086
{
sc good "$MXS_HOST" "$MXS_PORT_GOOD" $V < /dev/null
has good 'Verify return code: 0 (ok)' && ok "good verifies (code 0)" || fail "good verifies (code 0)"
has good '^New, TLSv1.3' && ok "good negotiates TLS 1.3" || fail "good negotiates TLS 1.3"
[ "$(fpr sha256 good)" = "$MXS_GOOD_SHA256" ] && ok "good serves good.crt" || fail "good serves good.crt"
if [ -n "${MXS_PORT_GOOD6:-}" ]; then
    sc good6 "$MXS_HOST6" "$MXS_PORT_GOOD6" $V < /dev/null
    has good6 'Verify return code: 0 (ok)' && ok "good6 on [::1] verifies" || fail "good6 on [::1] verifies"
else
    fail "good6 on [::1]" "no IPv6 listener (host without ::1?)"
fi
sc expired "$MXS_HOST" "$MXS_PORT_EXPIRED" $V < /dev/null
has expired 'Verify return code: 10 (certificate has expired)' && ok "expired: X509 code 10" || fail "expired: X509 code 10"
sc notyet "$MXS_HOST" "$MXS_PORT_NOTYET" $V < /dev/null
has notyet 'Verify return code: 9 (certificate is not yet valid)' && ok "notyet: X509 code 9" || fail "notyet: X509 code 9"
sc expiring "$MXS_HOST" "$MXS_PORT_EXPIRING" $V < /dev/null
if has expiring 'Verify return code: 0 (ok)' && ! leaf expiring -noout -checkend $((11 * 86400)) >/dev/null &&
   leaf expiring -noout -checkend $((9 * 86400)) >/dev/null; then ok "expiring: valid, 9-11 days left"
else fail "expiring: valid, 9-11 days left"; fi
sc wrongname_chain "$MXS_HOST" "$MXS_PORT_WRONGNAME" -CAfile "$MXS_CA" < /dev/null
sc wrongname "$MXS_HOST" "$MXS_PORT_WRONGNAME" $V < /dev/null
if has wrongname_chain 'Verify return code: 0 (ok)' && has wrongname 'Verify return code: 62 (hostname mismatch)'; then
    ok "wrongname: chain ok, -verify_hostname mx1.example.test fails (62)"
else fail "wrongname: chain ok, -verify_hostname mx1.example.test fails (62)"; fi
sc selfsigned "$MXS_HOST" "$MXS_PORT_SELFSIGNED" $V < /dev/null
has selfsigned 'Verify return code: 18 (self-signed certificate)' && ok "selfsigned: code 18" || fail "selfsigned: code 18"
sc untrusted "$MXS_HOST" "$MXS_PORT_UNTRUSTED" $V < /dev/null
has untrusted 'Verify return code: 19 ' && ok "untrusted: code 19 (self-signed in chain)" || fail "untrusted: code 19 (self-signed in chain)"
sc missing_int "$MXS_HOST" "$MXS_PORT_MISSING_INT" $V < /dev/null
if has missing_int 'verify error:num=20:unable to get local issuer certificate' && ! has missing_int 'Verify return code: 0 '; then
    ok "missing_int: unable to get local issuer (20)"
else fail "missing_int: unable to get local issuer (20)"; fi
# The same chain completed by the client verifies: only the intermediate is
# missing.  (s_client 3.0 has no -untrusted: the intermediate goes in the
# CA file, where chain building finds it.)
cat "$MXS_CA" "$MXS_CERTDIR/int.crt" > "$tmp/ca+int.pem"
sc missing_int2 "$MXS_HOST" "$MXS_PORT_MISSING_INT" -CAfile "$tmp/ca+int.pem" -verify_hostname mx1.example.test < /dev/null
has missing_int2 'Verify return code: 0 (ok)' && ok "missing_int: verifies with int.crt added" || fail "missing_int: verifies with int.crt added"
sc weakkey "$MXS_HOST" "$MXS_PORT_WEAKKEY" $V < /dev/null
has weakkey 'Server public key is 1024 bit' && ok "weakkey: serves an RSA 1024 key" || fail "weakkey: serves an RSA 1024 key"
sc sha1sig "$MXS_HOST" "$MXS_PORT_SHA1SIG" $V < /dev/null
if leaf sha1sig -noout -text | grep -q 'Signature Algorithm: sha1WithRSAEncryption' && ! has sha1sig 'Verify return code: 0 '; then
    ok "sha1sig: serves a SHA-1 signed leaf, OpenSSL refuses it"
else fail "sha1sig: serves a SHA-1 signed leaf, OpenSSL refuses it"; fi
sc clientauth "$MXS_HOST" "$MXS_PORT_CLIENTAUTH" $V < /dev/null
has clientauth 'Verify return code: 26 ' && ok "clientauth: unsuitable purpose (26)" || fail "clientauth: unsuitable purpose (26)"
sc old "$MXS_HOST" "$MXS_PORT_OLD" $V < /dev/null
if has old 'Verify return code: 0 (ok)' && [ "$(fpr sha1 old)" = "$MXS_OLD_SHA1" ]; then ok "old: valid, serves old.crt"
else fail "old: valid, serves old.crt"; fi
sc tls12_13 "$MXS_HOST" "$MXS_PORT_TLS12" $V -tls1_3 < /dev/null
sc tls12 "$MXS_HOST" "$MXS_PORT_TLS12" $V < /dev/null
if ! has tls12_13 '^New, TLSv1.3' && has tls12_13 'alert protocol version'; then ok "tls12 refuses -tls1_3"
else fail "tls12 refuses -tls1_3"; fi
if has tls12 '^New, TLSv1.2' && has tls12 'Verify return code: 0 (ok)'; then ok "tls12 negotiates TLS 1.2"
else fail "tls12 negotiates TLS 1.2"; fi
# Postfix does not fail the handshake without a client certificate: it
# completes it, then answers the next command 421 and closes.
printf 'EHLO client.example.test\r\nQUIT\r\n' | sc ccert_none "$MXS_HOST" "$MXS_PORT_CCERT" $V -ign_eof
if has ccert_none '^421 4.7.1 .*No client certificate presented' && ! has ccert_none '^221 '; then
    ok "ccert: no client certificate -> 421 after the handshake"
else fail "ccert: no client certificate -> 421 after the handshake"; fi
printf 'EHLO client.example.test\r\nQUIT\r\n' | sc ccert_with "$MXS_HOST" "$MXS_PORT_CCERT" $V -ign_eof \
    -cert "$MXS_CERTDIR/client.crt" -key "$MXS_CERTDIR/client.key"
if has ccert_with '^250 ' && has ccert_with '^221 ' && ! has ccert_with '^421 '; then
    ok "ccert: with client.crt the session goes on"
else fail "ccert: with client.crt the session goes on"; fi
chat "$MXS_HOST" "$MXS_PORT_CCERT" 10 'EHLO client.example.test' 'MAIL FROM:<a@example.test>' QUIT > "$tmp/g.out" 2>&1
grep -q '^530 ' "$tmp/g.out" && ok "ccert: MAIL without TLS gets 530" || fail "ccert: MAIL without TLS gets 530" "$(tr '\n' ' ' < "$tmp/g.out")"
}

# --- nothing is ever accepted for delivery ---
chat "$MXS_HOST" "$MXS_PORT_GOOD" 10 'EHLO client.example.test' 'MAIL FROM:<a@example.test>' \
    'RCPT TO:<b@mx1.example.test>' QUIT > "$tmp/g.out" 2>&1
if grep -q '^250 2.1.0' "$tmp/g.out" && grep -q '^554 5.7.1' "$tmp/g.out"; then ok "RCPT is always rejected (554)"
else fail "RCPT is always rejected (554)" "$(tr '\n' ' ' < "$tmp/g.out")"; fi

finish
