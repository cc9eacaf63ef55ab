#!/bin/sh
# tests/integration/loadtext.sh - a text transcript saved by one run of
# mxscope loads back in another (--load FILE.txt), through the real binary.
#
#  1. For lab scenarios with different outcomes: `--batch --lab S --save F`,
#     then `--batch --load F`: same exit code, the report names the same
#     result, step lines, findings and verdicts, and saving the loaded
#     session again gives the same text, byte for byte (raw TLS records
#     come back as their descriptions, with their direction marks T< / T>).
#  2. --save-json of the loaded text session works and names the same
#     certificate thumbprints.
#  3. Damaged files: cut, garbage, a 1 MB line, an empty file - a clear
#     error naming the file (and the line), exit code 2 family, no crash.
# Owner: the text loader (core/loadtext.c).  Uses only the built-in lab
# (127.0.0.1).
set -u
. "$(dirname "$0")/../lib.sh"
need cmp
need sed

tmp=$(mktemp -d /tmp/mxs-loadtext.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

# The report without the lines that may differ by the second the start time
# is cut to ("checked at ...") and the DANE verdict words (DNS facts are not
# in the text).
norm() { sed -e 's/; checked at .*//' -e '/^  dane /,+1d' "$1"; }

for s in expired good wrong-name no-starttls banner-rejected starttls-refused; do
    "$MXS_BIN" --batch --lab "$s" --timeout 15 --save "$tmp/$s.txt" > "$tmp/$s.live" 2> "$tmp/$s.live.err"
    live=$?
    "$MXS_BIN" --batch --load "$tmp/$s.txt" > "$tmp/$s.load" 2> "$tmp/$s.load.err"
    loaded=$?
    if [ "$live" = "$loaded" ]; then ok "$s: loaded text exits $loaded like the live run"
    else fail "$s: exit code" "live $live, loaded $loaded: $(head -c 300 "$tmp/$s.load.err")"; fi
    norm "$tmp/$s.live" | sed 1d > "$tmp/$s.live.n"   # line 1: the start time's seconds
    norm "$tmp/$s.load" | sed 1d > "$tmp/$s.load.n"
    if cmp -s "$tmp/$s.live.n" "$tmp/$s.load.n"; then ok "$s: the report of the loaded session is the live one"
    else fail "$s: report differs" "$(diff "$tmp/$s.live.n" "$tmp/$s.load.n" | head -20)"; fi
    # save again from the replay (console-free: --load + --save)
    "$MXS_BIN" --batch --load "$tmp/$s.txt" --save "$tmp/$s.again.txt" > /dev/null 2>&1
    cp "$tmp/$s.txt" "$tmp/$s.want.txt"
    if [ -f "$tmp/$s.again.txt" ] && cmp -s "$tmp/$s.want.txt" "$tmp/$s.again.txt"; then
        ok "$s: saving the loaded session gives the same text"
    else
        fail "$s: saved again" "$( [ -f "$tmp/$s.again.txt" ] && diff "$tmp/$s.want.txt" "$tmp/$s.again.txt" | head -10 || echo 'no file written')"
    fi
done

# The expired leaf's thumbprint survives into JSON of the loaded text.
sha=$(sed -n 's/^# SHA-1 //p' "$tmp/expired.txt" | head -1)
"$MXS_BIN" --batch --load "$tmp/expired.txt" --save-json "$tmp/expired.json" > /dev/null 2>&1
if [ -n "$sha" ] && grep -q "$sha" "$tmp/expired.json" 2>/dev/null && grep -q '"cert-expired"' "$tmp/expired.json"; then
    ok "expired: JSON of the loaded text has the leaf SHA-1 and the finding"
else
    fail "expired: JSON of the loaded text" "leaf $sha not found"
fi
if grep -q "Result: CHAIN (exit 16)" "$tmp/expired.load"; then ok "expired: loaded report says CHAIN, exit 16"
else fail "expired: loaded report" "$(tail -3 "$tmp/expired.load")"; fi

# ---- damaged files ------------------------------------------------------------
refuses() { # NAME FILE WANT: exits non-zero, no crash (< 128), error contains WANT
    "$MXS_BIN" --batch --load "$2" > "$tmp/r.out" 2> "$tmp/r.err"
    rc=$?
    if [ $rc -ne 0 ] && [ $rc -lt 128 ] && grep -q -- "$3" "$tmp/r.err"; then ok "$1: refused ($(head -c 120 "$tmp/r.err"))"
    else fail "$1" "exit $rc, stderr: $(head -c 300 "$tmp/r.err")"; fi
}
head -c 40 "$tmp/expired.txt" > "$tmp/cut-header.txt"
refuses "cut in the header" "$tmp/cut-header.txt" "line 1"
n=$(grep -n -- '-----BEGIN CERTIFICATE-----' "$tmp/expired.txt" | head -1 | cut -d: -f1)
head -n $((n + 3)) "$tmp/expired.txt" > "$tmp/cut-pem.txt"
refuses "cut inside the PEM" "$tmp/cut-pem.txt" "no END line"
{ head -n 5 "$tmp/expired.txt"; echo "this is not a record"; } > "$tmp/garbage.txt"
refuses "garbage line" "$tmp/garbage.txt" "line 6: not a transcript record"
{ head -n 4 "$tmp/expired.txt"; printf '+  0.001s BANNER    S: '; head -c 1048576 /dev/zero | tr '\0' 'A'; echo; } > "$tmp/long.txt"
refuses "1 MB line" "$tmp/long.txt" "line 5: line longer than"
head -n 3 "$tmp/expired.txt" > "$tmp/norec.txt"
refuses "no record lines" "$tmp/norec.txt" "not a mxscope transcript"
: > "$tmp/empty.txt"
refuses "empty file" "$tmp/empty.txt" "empty.txt"

# 4. A mail domain of the test world with MTA-STS and DANE (RESOLVE's,
#    POLICY's and the per-TLSA-record facts ride in "# fact *.json" lines):
#    the report of the loaded text is the live report, byte for byte.
world_env
"$MXS_BIN" --batch --resolver "$MXS_DNS_RESOLVER" --trust-anchor "$MXS_TRUST_ANCHOR" \
    --unbound-conf "$MXS_UNBOUND_CONF" --cafile "$MXS_CA" --port "$MXS_PORT_GOOD" --tlsa-port 25 -4 \
    --save "$tmp/dane.txt" enforce.sts.example.test > "$tmp/dane.live" 2>&1
"$MXS_BIN" --batch --load "$tmp/dane.txt" > "$tmp/dane.load" 2>&1
if grep -q '^         DANE, TLSA at _25._tcp.mx1.example.test (secure):' "$tmp/dane.live" &&
   grep -q 'DANE takes precedence over MTA-STS' "$tmp/dane.live" && cmp -s "$tmp/dane.live" "$tmp/dane.load"; then
    ok "DANE + MTA-STS domain: the loaded text transcript reports as the live run"
else fail "DANE + MTA-STS domain: loaded text vs live" "$(diff "$tmp/dane.live" "$tmp/dane.load" | head -12)"; fi

finish
