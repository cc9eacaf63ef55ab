#!/bin/sh
# save / --load replay, `send NOOP` over TLS, history across two runs.
# Each check reads the region the action changes (tests/console/tmux.inc):
# the Steps pane's rows, the Exchange rows new since the command, the status
# bar, the command line.
. tests/lib.sh
. tests/console/tmux.inc

TS='\+ +[0-9]+\.[0-9]{3}s'   # an Exchange row's time offset
t_start --lab
t_until 10 t_status_is ' .* \[lab:good\] \| RESOLVE pending \| .*' >/dev/null
# Stop before QUIT so the TLS session stays open for raw commands.  Wait for
# each step's own row to leave "pending" (the name is there all the time).
for s in RESOLVE CONNECT BANNER EHLO STARTTLS HANDSHAKE CHAIN EHLO2; do
    t_keys n
    t_until 5 t_step_is $s "[-✓] $s .+" >/dev/null
done
t_assert "stepped to EHLO2 with n, QUIT still pending" 5 t_pane_is Steps '- RESOLVE   skipped' '✓ CONNECT   [0-9]+ ms' \
    '✓ BANNER    [0-9]+ ms' '✓ EHLO      [0-9]+ ms' '✓ STARTTLS  [0-9]+ ms' '✓ HANDSHAKE [0-9]+ ms' '✓ CHAIN     [0-9]+ ms' \
    '✓ EHLO2     [0-9]+ ms' '· QUIT'
t_snap
t_cmd "send NOOP"
if t_until 5 t_new_is Exchange "$TS -         C: NOOP" "$TS -         T> TLS application_data\(23\) TLSv1\.2, [0-9]+ byte.*" \
       "$TS -         T< TLS application_data\(23\) TLSv1\.2, [0-9]+ byte.*" "$TS -         S: 250 2\.0\.0 Ok" &&
   t_status_is ' .* \| QUIT pending \| sent: NOOP'; then
    ok "send NOOP is answered 250 over TLS"
else fail "send NOOP is answered 250 over TLS"; fi
t_snap
t_cmd "send DATA"
t_assert "send DATA asks for confirmation" 3 t_status_is ' .* \| QUIT pending \| Send DATA \(starts a real message\)\? \(y/N\)'
t_keys n
if t_until 3 t_status_is ' .* \| QUIT pending \| not sent' && t_new_is Exchange; then
    ok "answering no does not send DATA (no new Exchange rows)"
else fail "answering no does not send DATA (no new Exchange rows)"; t_new Exchange | sed 's/^/# /'; fi
t_cmd "save json $T_DIR/s.json"
if t_until 5 t_status_is " .* \| QUIT pending \| saved json to $T_DIR/s.*" && [ -s "$T_DIR/s.json" ]; then
    ok "save json FILE"; else fail "save json FILE"; fi
t_cmd "save"
if t_until 5 t_status_is ' .* \| QUIT pending \| saved text to mxscope-mx\.lab\.mxscope\.test-.*' &&
   ls "$T_DIR"/mxscope-mx.lab.mxscope.test-*Z.txt >/dev/null 2>&1; then
    ok "save with no name writes mxscope-<target>-<UTC>.txt"
else fail "save with no name writes mxscope-<target>-<UTC>.txt"; fi
t_pane Exchange > "$T_DIR/live-exchange"
t_pane Steps > "$T_DIR/live-steps"
t_keys q
t_assert "q quits at once when saved" 5 t_exited 0

# Replay: the same exchange, row for row, and the same steps.
t_start --load "$T_DIR/s.json"
if t_until 10 t_status_is ' mx\.lab\.mxscope\.test:[0-9]+ \| replay \| replaying a saved session \(read-only\)' &&
   [ "$(t_pane Exchange)" = "$(cat "$T_DIR/live-exchange")" ] && [ "$(t_pane Steps)" = "$(cat "$T_DIR/live-steps")" ]; then
    ok "--load shows the same exchange and steps"
else fail "--load shows the same exchange and steps"; t_pane Exchange | diff "$T_DIR/live-exchange" - | sed 's/^/# /'; fi
t_snap
t_keys n
if t_until 3 t_status_is ' .* \| replay \| this is a loaded session \(read-only\): `open` a target to .*' &&
   t_new_is Exchange && [ "$(t_pane Steps)" = "$(cat "$T_DIR/live-steps")" ]; then
    ok "a replay cannot be stepped"
else fail "a replay cannot be stepped"; fi

# History: the second run recalls the first run's commands with Up.
t_keys ':'; t_type "help send"; t_keys Enter
t_until 3 t_pane_has Help ' send \[--yes\] SMTP-COMMAND \| BODY-LINE' >/dev/null; t_keys q
t_keys ':'; t_type "set nope 1"; t_keys Enter
t_keys q
t_until 5 t_exited '[0-9]+' >/dev/null
hist="$T_DIR/home/.local/state/mxscope/history"
if [ -f "$hist" ] && [ "$(stat -c %a "$hist")" = 600 ] && [ "$(tail -2 "$hist")" = "$(printf 'help send\nset nope 1')" ]; then
    ok "history saved 0600 in ~/.local/state/mxscope/history"
else fail "history saved 0600 in ~/.local/state/mxscope/history"; fi
t_start
t_until 10 t_status_is ' mxscope \| nothing open \| .*' >/dev/null
t_keys ':'
t_keys Up
t_assert "Up recalls the last command of the previous run" 3 t_prompt_is 'mxscope> set nope 1'
t_keys Up
t_assert "Up again goes further back" 3 t_prompt_is 'mxscope> help send'
t_keys C-c Escape q
t_until 5 t_exited '[0-9]+' >/dev/null
finish
