#!/bin/sh
# --script: the same command table in batch (no curses) and in the console.
. tests/lib.sh
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
grep -q '^> open lab:good' "$d/out" && grep -q 'opened lab scenario good' "$d/out" &&
    ok "batch: open lab:SCENARIO" || fail "batch: open lab:SCENARIO" "$(head -5 "$d/out")"
grep -q 'S: 220' "$d/out" && ok "batch: step prints the new transcript lines" || fail "batch: step prints the new transcript lines"
grep -q '^ehlo = probe.example' "$d/out" && grep -q 'C: EHLO probe.example' "$d/out" &&
    ok "batch: set KEY VALUE applies to the next step" || fail "batch: set KEY VALUE applies to the next step"
grep -qE 'SHA-1: +[0-9A-F]{40}' "$d/out" && ok "batch: show cert 0" || fail "batch: show cert 0"
grep -q 'error: needs confirmation; in a script write: send --yes DATA' "$d/out" && ! grep -q 'C: DATA' "$d/out" &&
    ok "batch: send DATA refused without --yes" || fail "batch: send DATA refused without --yes"
grep -q "error: unknown command 'nosuchcommand'" "$d/out" && ok "batch: unknown command is an error" || fail "batch: unknown command is an error"
[ -s "$d/out.json" ] && grep -q '^saved json to out.json' "$d/out" && ok "batch: save json" || fail "batch: save json"
[ $rc = 1 ] && ok "batch: exit 1 when a command failed" || fail "batch: exit 1 when a command failed" "rc=$rc"
if LC_ALL=C grep -q "$(printf '\033')" "$d/out"; then fail "batch: no escape bytes on stdout"; else ok "batch: no escape bytes on stdout"; fi

# The same script in the console (tmux), ending with a dump.
. tests/console/tmux.inc
printf 'open lab:expired\nrun\ndump %s\n' "$T_DIR/console.txt" > "$T_DIR/c.txt"
t_start --script "$T_DIR/c.txt"
if t_wait "screen written" 20 && grep -q "lab:expired" "$T_DIR/console.txt" && grep -q "| finished" "$T_DIR/console.txt"; then
    ok "console --script runs the commands in order, waiting for each step"
else fail "console --script runs the commands in order, waiting for each step"; fi
if grep -qE '^│0 mx\.lab\.mxscope\.test +-[0-9]+d ✗' "$T_DIR/console.txt"; then
    ok "expired leaf: negative days and a failure glyph in the chain pane"
else fail "expired leaf: negative days and a failure glyph in the chain pane"; sed 's/^/# /' "$T_DIR/console.txt"; fi
finish
