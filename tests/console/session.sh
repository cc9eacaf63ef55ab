#!/bin/sh
# save / --load replay, `send NOOP` over TLS, history across two runs.
. tests/lib.sh
. tests/console/tmux.inc

t_start --lab
t_wait "[lab:good]" 10 >/dev/null
# Stop before QUIT so the TLS session stays open for raw commands.
for s in RESOLVE CONNECT BANNER EHLO STARTTLS HANDSHAKE CHAIN EHLO2; do
    t_keys n
    t_wait "$s" 5 >/dev/null
    sleep 0.3
done
if t_wait "EHLO2 ok" 10; then ok "stepped to EHLO2 with n"; else fail "stepped to EHLO2 with n"; fi
t_cmd "send NOOP"
if t_wait "C: NOOP" 5 && t_wait "S: 250" 5 && t_screen | grep -A3 "C: NOOP" | grep -q "S: 250"; then
    ok "send NOOP is answered 250 over TLS"
else fail "send NOOP is answered 250 over TLS"; fi
t_cmd "send DATA"
if t_wait "Send DATA (starts a real message)? (y/N)" 3; then ok "send DATA asks for confirmation"; else fail "send DATA asks for confirmation"; fi
t_keys n
if t_wait "not sent" 3 && ! t_screen | grep -q "C: DATA"; then ok "answering no does not send DATA"; else fail "answering no does not send DATA"; fi
t_cmd "save json $T_DIR/s.json"
if t_wait "saved json" 5 && [ -s "$T_DIR/s.json" ]; then ok "save json FILE"; else fail "save json FILE"; fi
t_cmd "save"
if t_wait "saved text to mxscope-mx.lab.mxscope.test-" 5 && ls "$T_DIR"/mxscope-mx.lab.mxscope.test-*Z.txt >/dev/null 2>&1; then
    ok "save with no name writes mxscope-<target>-<UTC>.txt"
else fail "save with no name writes mxscope-<target>-<UTC>.txt"; fi
first=$(t_screen | grep -o 'C: NOOP' | head -1)
t_keys q
if t_wait "MXS-EXIT=0" 5; then ok "q quits at once when saved"; else fail "q quits at once when saved"; fi

# Replay: the same exchange.
t_start --load "$T_DIR/s.json"
if t_wait "replay" 10 && t_wait "C: NOOP" 5 && t_screen | grep -q "S: 250" && [ -n "$first" ]; then
    ok "--load shows the same exchange"
else fail "--load shows the same exchange"; fi
t_keys n
if t_wait "read-only" 3; then ok "a replay cannot be stepped"; else fail "a replay cannot be stepped"; fi

# History: the second run recalls the first run's commands with Up.
t_keys ':'; t_type "help send"; t_keys Enter
t_wait "raw command" 3 >/dev/null; t_keys q
t_keys ':'; t_type "set nope 1"; t_keys Enter
t_keys q
t_wait "MXS-EXIT=" 5 >/dev/null
hist="$T_DIR/home/.local/state/mxscope/history"
if [ -f "$hist" ] && [ "$(stat -c %a "$hist")" = 600 ] && grep -q "set nope 1" "$hist"; then
    ok "history saved 0600 in ~/.local/state/mxscope/history"
else fail "history saved 0600 in ~/.local/state/mxscope/history"; fi
t_start
t_wait "Nothing is open" 10 >/dev/null
t_keys ':'
t_keys Up
if t_wait "mxscope> set nope 1" 3; then ok "Up recalls the last command of the previous run"; else fail "Up recalls the last command of the previous run"; fi
t_keys Up
if t_wait "mxscope> help send" 3; then ok "Up again goes further back"; else fail "Up again goes further back"; fi
t_keys C-c Escape q
t_wait "MXS-EXIT=" 5 >/dev/null
finish
