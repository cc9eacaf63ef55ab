#!/bin/sh
# --script: the same command table in batch (no curses) and in the console.
# Batch: each check reads the output of one command (the lines after its
# "> LINE" echo, up to the next), so a line printed by another command
# cannot pass it.  Console: the dump's Steps pane and status bar.
. tests/lib.sh
need jq
[ -x "$MXS_BIN" ] || { fail "mxscope binary" "$MXS_BIN missing"; exit 1; }
d=$(mktemp -d /tmp/mxscope-script.XXXXXX)
trap 'rm -rf "$d"' EXIT
cat > "$d/s.txt" <<'SCR'
# comments and blank lines are skipped

open lab:good
step
step
set ehlo "probe.example"
set ehlo
run
show cert 0
send DATA
nosuchcommand
save json out.json
SCR
(cd "$d" && timeout 60 "$MXS_BIN" --batch --script "$d/s.txt" > "$d/out" 2> "$d/err" < /dev/null)
rc=$?
TS='\+ +[0-9]+\.[0-9]{3}s'
# out N: what the Nth command printed (its "> " echo line first)
out() { awk -v n="$1" '/^> /{i++} i==n' "$d/out"; }
# is N PATTERN...: the Nth command's echo and output, line by line, whole.
is() {
    n=$1; shift
    out "$n" > "$d/sec"
    [ "$(wc -l < "$d/sec")" -eq $# ] || return 1
    i=0
    for p in "$@"; do i=$((i + 1)); sed -n "${i}p" "$d/sec" | grep -qxE -- "$p" || return 1; done
}
check_is() { name=$1; shift; if is "$@"; then ok "$name"; else fail "$name" "$(out "$1" | head -12 | tr '\n' '|')"; fi; }
[ "$(grep -c '^> ' "$d/out")" = 10 ] && ok "batch: every command echoed once, comments and blank lines skipped" ||
    fail "batch: every command echoed once, comments and blank lines skipped" "$(grep '^> ' "$d/out" | tr '\n' '|')"
check_is "batch: open lab:SCENARIO (RESOLVE runs at once)" 1 '> open lab:good' \
    "$TS RESOLVE   == RESOLVE started \(deadline 10\.0 s\)" "$TS RESOLVE   D: no DNS lookup: the address 127\.0\.0\.1 was given" \
    "$TS RESOLVE   == RESOLVE skipped: address given, no lookup" \
    "$TS POLICY    == POLICY skipped: a host was given, not a mail domain: no MTA-STS policy to read" \
    'opened lab scenario good: mx\.lab\.mxscope\.test port [0-9]+; RESOLVE skipped [0-9]+ ms'
check_is "batch: step prints the new transcript lines of one step" 3 '> step' \
    "$TS BANNER    == BANNER started \(deadline 60\.0 s\)" "$TS BANNER    S: 220 mx\.lab\.mxscope\.test ESMTP mxscope lab \(good\)" \
    "$TS BANNER    == BANNER ok [0-9]+ ms: greeting after [0-9.]+ s" 'BANNER ok [0-9]+ ms'
check_is "batch: set KEY VALUE" 4 '> set ehlo "probe\.example"' "$TS -         #  set ehlo probe\.example" 'ehlo = probe\.example'
check_is "batch: set KEY shows it" 5 '> set ehlo' 'ehlo = probe\.example'
if out 6 | grep -qxE "$TS EHLO      C: EHLO probe\.example" && out 6 | grep -qxE "$TS EHLO2     C: EHLO probe\.example" &&
   [ "$(out 6 | tail -1)" = "finished: every step passed" ]; then
    ok "batch: set KEY VALUE applies to the next step (EHLO and EHLO2)"
else fail "batch: set KEY VALUE applies to the next step (EHLO and EHLO2)"; fi
sha=$(out 7 | sed -n 's/^  SHA-1: *\([0-9A-F]\{40\}\)   (Exchange thumbprint)$/\1/p')
if [ -n "$sha" ] && [ "$(out 7 | sed -n 2p)" = "Certificate 0 (leaf)" ] && [ -s "$d/out.json" ] &&
   [ "$(jq -r '.chain[0].sha1' "$d/out.json")" = "$sha" ]; then
    ok "batch: show cert 0 shows the leaf's SHA-1 (the one in the JSON)"
else fail "batch: show cert 0 shows the leaf's SHA-1 (the one in the JSON)" "'$sha'"; fi
check_is "batch: send DATA refused without --yes" 8 '> send DATA' 'error: needs confirmation; in a script write: send --yes DATA'
check_is "batch: unknown command is an error" 9 '> nosuchcommand' "error: unknown command 'nosuchcommand' \(help lists them\)"
check_is "batch: save json" 10 '> save json out\.json' 'saved json to out\.json'
[ $rc = 1 ] && ok "batch: exit 1 when a command failed" || fail "batch: exit 1 when a command failed" "rc=$rc"
if LC_ALL=C grep -q "$(printf '\033')" "$d/out"; then fail "batch: no escape bytes on stdout"; else ok "batch: no escape bytes on stdout"; fi

# The same script in the console (tmux), ending with a dump.
. tests/console/tmux.inc
# a whole run, QUIT too (the console keeps the session open by default)
printf 'open lab:expired\nset keep-open off\nrun\ndump %s\n' "$T_DIR/console.txt" > "$T_DIR/c.txt"
t_start --script "$T_DIR/c.txt"
t_until 20 t_status_is " .* \| screen written to $T_DIR/console\.txt" >/dev/null
if [ -f "$T_DIR/console.txt" ] &&
   grep -qE '^ mx\.lab\.mxscope\.test:[0-9]+ \[lab:expired\] \| finished \| ' "$T_DIR/console.txt" &&
   perl "$T_PL" pane Steps < "$T_DIR/console.txt" | t_lines_are '- RESOLVE   skipped' '✓ CONNECT   [0-9]+ ms' \
       '✓ BANNER    [0-9]+ ms' '✓ EHLO      [0-9]+ ms' '✓ STARTTLS  [0-9]+ ms' '✓ HANDSHAKE [0-9]+ ms' '✗ CHAIN     [0-9]+ ms' \
       '✓ EHLO2     [0-9]+ ms' '✓ QUIT      [0-9]+ ms'; then
    ok "console --script runs the commands in order, waiting for each step"
else fail "console --script runs the commands in order, waiting for each step"; sed 's/^/# /' "$T_DIR/console.txt"; fi
if perl "$T_PL" pane Chain < "$T_DIR/console.txt" | t_lines_are '0 mx\.lab\.mxscope\.test +-[0-9]+d ✗' '  SHA-1 [0-9A-F]+…?' '1 mxscope lab intermedia +[0-9]+d ✓' '  SHA-1 [0-9A-F]+…?'; then
    ok "expired leaf: negative days and a failure glyph in the chain pane"
else fail "expired leaf: negative days and a failure glyph in the chain pane"; sed 's/^/# /' "$T_DIR/console.txt"; fi
finish
