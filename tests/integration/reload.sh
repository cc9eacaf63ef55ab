#!/bin/sh
# reload.sh - a saved JSON session, loaded back, renders byte-identical to
# the live run: the JSON document and the batch report, for every lab
# scenario (issue: "reloaded sessions lose data": S: lines, SNI, the DNS,
# connection, TLS and verification facts), and the same for text
# transcripts.  Saving a loaded text again: tests/integration/loadtext.sh.
. "$(dirname "$0")/../lib.sh"
need jq
tmp=$(mktemp -d /tmp/mxscope-reload.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
n=0
for s in $("$MXS_BIN" --lab --list | awk '{print $1}'); do
    n=$((n + 1))
    "$MXS_BIN" --batch --lab "$s" --timeout 15 --json --save-json "$tmp/$s.json" \
        > "$tmp/$s.live.json" 2>/dev/null
    "$MXS_BIN" --batch --lab "$s" --timeout 15 --save-json "$tmp/$s.2.json" \
        > "$tmp/$s.live.txt" 2>/dev/null
    "$MXS_BIN" --batch --load "$tmp/$s.json" --json > "$tmp/$s.load.json" 2>"$tmp/$s.err"
    "$MXS_BIN" --batch --load "$tmp/$s.2.json" > "$tmp/$s.load.txt" 2>>"$tmp/$s.err"
    if cmp -s "$tmp/$s.live.json" "$tmp/$s.load.json"; then ok "$s: JSON loaded back is the live JSON, byte for byte"
    else fail "$s: JSON loaded back is the live JSON" "$(diff "$tmp/$s.live.json" "$tmp/$s.load.json" | head -6 | tr '\n' '|')"; fi
    if cmp -s "$tmp/$s.live.txt" "$tmp/$s.load.txt"; then ok "$s: the report of the loaded JSON is the live report"
    else fail "$s: the report of the loaded JSON is the live report" "$(diff "$tmp/$s.live.txt" "$tmp/$s.load.txt" | head -6 | tr '\n' '|')"; fi
done
# Text transcripts (--save): the batch report of the loaded text is the
# live report, for every lab scenario (the appendix carries the settings
# and the facts the dialog lines do not: docs/transcript.md).
for s in $("$MXS_BIN" --lab --list | awk '{print $1}'); do
    "$MXS_BIN" --batch --lab "$s" --timeout 15 --save "$tmp/$s.txt" > "$tmp/$s.tlive" 2>/dev/null
    "$MXS_BIN" --batch --load "$tmp/$s.txt" > "$tmp/$s.tload" 2>>"$tmp/$s.err"
    if cmp -s "$tmp/$s.tlive" "$tmp/$s.tload"; then ok "$s: the report of the loaded text transcript is the live report"
    else fail "$s: the report of the loaded text transcript is the live report" "$(diff "$tmp/$s.tlive" "$tmp/$s.tload" | head -6 | tr '\n' '|')"; fi
done
# The facts the issue named are really there (not two empty documents).
jq -e '.smtp.banner.code == 220 and .tls.sni == "mx.lab.mxscope.test" and .connect.address == "127.0.0.1"
       and (.smtp.capabilities | length) > 0 and .verification.trusted == true' "$tmp/good.load.json" > /dev/null &&
    ok "good: loaded SMTP replies, SNI, connection and verification facts" ||
    fail "good: loaded facts" "$(jq -c '{b: .smtp.banner.code, sni: .tls.sni, a: .connect.address}' "$tmp/good.load.json")"
[ "$n" -ge 20 ] && ok "$n lab scenarios compared" || fail "lab scenarios compared" "only $n"
finish
