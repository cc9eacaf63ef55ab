#!/bin/sh
# localfiles.sh - our own mistakes are ours: a missing or unreadable
# --cafile, --cert or --key, or a key that does not match the certificate,
# is exit 2 with one line naming the option, the file and the reason, before
# any probe (no connection is made: the target is a port where nothing
# listens, so a probe would say connect-refused instead).
. "$(dirname "$0")/../lib.sh"
world_env
tmp=$(mktemp -d /tmp/mxscope-local.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
certs=$(dirname "$MXS_CA")
printf 'not a certificate\n' > "$tmp/garbage.pem"

local_err() { # name expected-text args...
    n=$1; want=$2; shift 2
    "$MXS_BIN" --batch --host mx1.example.test --connect 127.0.0.1:9 --timeout 5 "$@" \
        > "$tmp/$n.out" 2> "$tmp/$n.err"
    rc=$?
    lines=$(wc -l < "$tmp/$n.err")
    if [ $rc = 2 ] && [ "$lines" = 1 ] && grep -qF -- "$want" "$tmp/$n.err" && [ ! -s "$tmp/$n.out" ]; then
        ok "$n: exit 2, one line: $(cat "$tmp/$n.err")"
    else
        fail "$n" "rc $rc, stderr: $(head -c 300 "$tmp/$n.err"), stdout: $(head -c 200 "$tmp/$n.out")"
    fi
}
local_err cert-missing "--cert /nonexistent.pem: No such file or directory" --cert /nonexistent.pem
local_err cert-garbage "--cert $tmp/garbage.pem: not a certificate" --cert "$tmp/garbage.pem"
local_err key-garbage "--key $tmp/garbage.pem: no private key" --cert "$certs/client.crt" --key "$tmp/garbage.pem"
local_err key-mismatch "the key does not match the certificate in $certs/client.crt" \
    --cert "$certs/client.crt" --key "$certs/good.key"
local_err key-alone "given without --cert" --key "$certs/client.key"
local_err cafile-missing "--cafile /nonexistent/ca.pem: No such file or directory" --cafile /nonexistent/ca.pem
local_err cafile-garbage "--cafile $tmp/garbage.pem: no certificate could be read" --cafile "$tmp/garbage.pem"
local_err cafile-dir "--cafile $tmp: is a folder" --cafile "$tmp"

# The right pair is accepted: the probe runs (and is refused at CONNECT).
"$MXS_BIN" --batch --json --host mx1.example.test --connect 127.0.0.1:9 --timeout 5 \
    --cert "$certs/client.crt" --key "$certs/client.key" > "$tmp/good.json" 2>&1
rc=$?
if [ $rc = 11 ]; then ok "a matching pair: the probe runs (exit 11 at CONNECT)"; else fail "a matching pair runs" "exit $rc"; fi
# The console (here its script mode): a `set cert` made after the start is
# checked when the handshake starts: nothing is sent, the finding is ours
# (tls-local-files) and no verdict blames the partner.
printf 'set cert /nonexistent.pem\nrun\nshow findings\n' > "$tmp/script"
"$MXS_BIN" --batch --lab good --script "$tmp/script" > "$tmp/script.out" 2>&1
if grep -qE '^  error   tls-local-files +\[HANDSHAKE\] Our own TLS files cannot be used: --cert /nonexistent.pem: No such file or directory' "$tmp/script.out" &&
   [ "$(grep -cE '^  (opportunistic|required|verified|dane) +not-evaluated +at HANDSHAKE \(tls-local-files\)' "$tmp/script.out")" = 4 ] &&
   ! grep -q 'tls-handshake-failed' "$tmp/script.out"; then
    ok "console: set cert to a missing file is ours (tls-local-files), every verdict not evaluated"
else
    fail "console: set cert to a missing file is ours" "$(grep -E 'tls-|not-evaluated|delivered' "$tmp/script.out" | head -8 | tr '\n' '|')"
fi
finish
