#!/bin/sh
# diff.sh - `mxscope --diff A B` (issue 11): two saved sessions side by
# side, the before/after of a renewal.  Against the world's real Postfix:
# the "old" listener still serves the certificate a renewal replaced, the
# "good" one the renewed certificate from the same intermediate.  The diff
# names the replaced leaf with both thumbprints and the expiry moved, keeps
# the intermediate "same", and says the verdicts that changed; a session
# against itself has no difference; text transcripts load too.
. "$(dirname "$0")/../lib.sh"
world_env
tmp=$(mktemp -d /tmp/mxscope-diff.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
probe() { # name port extra...
    n=$1 p=$2; shift 2
    "$MXS_BIN" --batch --host mx1.example.test --connect 127.0.0.1:"$p" --cafile "$MXS_CA" --timeout 10 \
        --save-json "$tmp/$n.json" --save "$tmp/$n.txt" "$@" > /dev/null 2>&1
}
probe old "$MXS_PORT_OLD"
probe good "$MXS_PORT_GOOD"
probe expired "$MXS_PORT_EXPIRED"

"$MXS_BIN" --diff "$tmp/old.json" "$tmp/good.json" > "$tmp/d.txt" 2> "$tmp/d.err"; rc=$?
if [ $rc = 0 ] && grep -q "^  depth 0  replaced$" "$tmp/d.txt" &&
   grep -q "^      SHA-1 $MXS_OLD_SHA1  not after " "$tmp/d.txt" &&
   grep -q "^      SHA-1 $MXS_GOOD_SHA1  not after " "$tmp/d.txt" &&
   grep -q "^      expiry moved +59 days$" "$tmp/d.txt" &&
   grep -q "^  depth 1  same certificate (SHA-1 " "$tmp/d.txt"; then
    ok "--diff: the replaced leaf with both thumbprints and the expiry moved; the intermediate same"
else
    fail "--diff old/good" "rc $rc: $(cat "$tmp/d.txt" "$tmp/d.err" | head -30)"
fi
"$MXS_BIN" --diff "$tmp/expired.json" "$tmp/good.json" > "$tmp/e.txt" 2>&1
if grep -q "^  CHAIN      fail -> ok$" "$tmp/e.txt" &&
   grep -q "^  gone: error   cert-expired \[CHAIN\] (TLS-RPT certificate-expired)$" "$tmp/e.txt" &&
   grep -q "^  verified       not-delivered at CHAIN -> delivered-encrypted$" "$tmp/e.txt" &&
   grep -q "^TLS$" "$tmp/e.txt"; then
    ok "--diff: the step, the finding gone and the verdict that changed after the fix"
else
    fail "--diff expired/good" "$(cat "$tmp/e.txt" | head -40)"
fi
"$MXS_BIN" --diff "$tmp/good.json" "$tmp/good.txt" > "$tmp/s.txt" 2>&1; rc=$?
if [ $rc = 0 ] && tail -n 1 "$tmp/s.txt" | grep -qx "No difference." && [ "$(grep -c '^  same' "$tmp/s.txt")" -ge 4 ]; then
    ok "--diff: a session against its own text transcript: no difference"
else
    fail "--diff self" "rc $rc: $(cat "$tmp/s.txt")"
fi
"$MXS_BIN" --diff "$tmp/good.json" > /dev/null 2> "$tmp/u.err"; rc=$?
[ $rc = 1 ] && grep -q "usage: mxscope --diff A B" "$tmp/u.err" && ok "--diff with one file: usage error" ||
    fail "--diff one file" "rc $rc $(cat "$tmp/u.err")"
printf '{"not": "a session"}' > "$tmp/bad.json"
"$MXS_BIN" --diff "$tmp/bad.json" "$tmp/good.json" > "$tmp/b.out" 2> "$tmp/b.err"; rc=$?
[ $rc = 2 ] && [ ! -s "$tmp/b.out" ] && [ "$(wc -l < "$tmp/b.err")" = 1 ] && ok "--diff with a damaged file: exit 2, one line" ||
    fail "--diff damaged" "rc $rc $(cat "$tmp/b.err")"
finish
