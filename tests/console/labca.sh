#!/bin/sh
# labca.sh - a --cafile the lab replaces with its own CA says so (issue 11):
# on the console's status bar at start, and in one stderr line in batch;
# without --cafile nothing is said.
. tests/lib.sh
. tests/console/tmux.inc
ca=/etc/ssl/certs/ca-certificates.crt
t_start --lab --cafile "$ca"
t_assert "the console says the lab's CA replaces --cafile" 10 \
    t_status_is " .* \| --cafile not used: the lab's own CA is"
t_keys q; t_until 5 t_exited 0 >/dev/null
"$MXS_BIN" --batch --lab good --cafile "$ca" > "$T_DIR/out" 2> "$T_DIR/err"
if [ "$(cat "$T_DIR/err")" = "mxscope: note: --cafile $ca is not used: the lab trusts its own CA (its certificates come from it)" ] &&
   grep -q "^Result: every step passed" "$T_DIR/out"; then ok "batch: one note on stderr, the probe runs"
else fail "batch: the note" "$(cat "$T_DIR/err")"; fi
"$MXS_BIN" --batch --lab good > /dev/null 2> "$T_DIR/err2"
if [ ! -s "$T_DIR/err2" ]; then ok "batch without --cafile: no note"; else fail "batch without --cafile" "$(cat "$T_DIR/err2")"; fi
finish
