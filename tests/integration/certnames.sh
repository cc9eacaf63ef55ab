#!/bin/sh
# certnames.sh - certificate names survive a save and a load (issue 14).
# Against tests/fixtures/scriptsrv leaves with hostile names (cert=names: ESC,
# C1, bidi, UTF-8, NUL, an IDN SAN; cert=bigcn: a 5,120-byte CN):
#   - the session saved as JSON and as text loads back to the same report and
#     the same JSON (byte for byte), the names' lengths included;
#   - a second certificate's leaf, which the JSON carries as fields only (no
#     DER), loads back with its cut and NUL names and their lengths.
# Needs no world (scriptsrv only).
. "$(dirname "$0")/../lib.sh"
need jq
SRV=${MXS_SCRIPTSRV:-$MXS_BUILD/fixtures/scriptsrv}
[ -x "$SRV" ] || { fail "certnames: fixture" "$SRV not built"; exit 1; }
tmp=$(mktemp -d /tmp/mxscope-certnames.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

top=$(cd "$(dirname "$0")/../.." && pwd)
# The hostile suite's scenarios: names-escaped (cert=names), name-5k-cn (cert=bigcn).
for kind in names-escaped name-5k-cn; do
    "$SRV" "$top/tests/hostile/scenarios/cert-$kind.scn" --port-file "$tmp/$kind.port" --ca-file "$tmp/$kind.ca" \
        --lifetime 30 2>"$tmp/$kind.srv" &
    n=50; while [ ! -s "$tmp/$kind.port" ] && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
    "$MXS_BIN" --batch --dual-cert off --host mx.hostile.test --connect "127.0.0.1:$(cat "$tmp/$kind.port")" \
        --cafile "$tmp/$kind.ca" --timeout 5 --save-json "$tmp/$kind.json" --save "$tmp/$kind.txt" \
        > "$tmp/$kind.live" 2>&1
    wait
    J() { "$MXS_BIN" --batch --json --load "$1" 2>/dev/null; }
    R() { "$MXS_BIN" --batch --load "$1" 2>/dev/null; }
    len=$(jq '.chain[0].cn_len' "$tmp/$kind.json")
    case $kind in names-escaped) want=32;; *) want=5120;; esac
    if [ "$len" = "$want" ]; then ok "$kind: live cn_len $len"; else fail "$kind: live cn_len" "$len, want $want"; fi
    R "$tmp/$kind.json" > "$tmp/$kind.rj"; R "$tmp/$kind.txt" > "$tmp/$kind.rt"
    J "$tmp/$kind.json" > "$tmp/$kind.jj"; J "$tmp/$kind.txt" > "$tmp/$kind.jt"
    if cmp -s "$tmp/$kind.rj" "$tmp/$kind.rt" && grep -q "CN=" "$tmp/$kind.rj"; then
        ok "$kind: the JSON and the text transcript load to the same report"
    else fail "$kind: the JSON and the text transcript load to the same report" "$(diff "$tmp/$kind.rj" "$tmp/$kind.rt" | head -5)"; fi
    if [ "$(jq -cS .chain "$tmp/$kind.json")" = "$(jq -cS .chain "$tmp/$kind.jj")" ] &&
       [ "$(jq -cS .chain "$tmp/$kind.jj")" = "$(jq -cS .chain "$tmp/$kind.jt")" ]; then
        ok "$kind: the loaded chain is the saved one (names and lengths)"
    else fail "$kind: the loaded chain is the saved one (names and lengths)"; fi
    # The second certificate's leaf: fields only.  Its own leaf stands in.
    jq '.second_certificate = {completed: true, error: null, leaf: .chain[0], name_matches_mx: false}' \
        "$tmp/$kind.json" > "$tmp/$kind.alt.json"
    J "$tmp/$kind.alt.json" > "$tmp/$kind.alt2.json"
    a=$(jq -cS '.second_certificate.leaf | del(.verify_flags)' "$tmp/$kind.alt.json")
    b=$(jq -cS '.second_certificate.leaf | del(.verify_flags)' "$tmp/$kind.alt2.json")
    if [ -n "$a" ] && [ "$a" = "$b" ]; then ok "$kind: the second certificate's leaf loads back with its names"
    else fail "$kind: the second certificate's leaf loads back with its names" "$(echo "$b" | head -c 300)"; fi
    J "$tmp/$kind.alt2.json" > "$tmp/$kind.alt3.json"
    if cmp -s "$tmp/$kind.alt2.json" "$tmp/$kind.alt3.json"; then ok "$kind: loading it again changes nothing"
    else fail "$kind: loading it again changes nothing" "$(diff "$tmp/$kind.alt2.json" "$tmp/$kind.alt3.json" | head -4)"; fi
done
finish
