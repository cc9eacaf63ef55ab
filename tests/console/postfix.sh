#!/bin/sh
# The console against the test world's real Postfix: step to EHLO2 with n,
# the chain is trusted, `send NOOP` is answered 250 over TLS.
. tests/lib.sh
world_env
. tests/console/tmux.inc

t_start --host mx1.example.test --connect "127.0.0.1:$MXS_PORT_GOOD" --cafile "$MXS_CA" --timeout 10
t_wait "mx1.example.test" 10 >/dev/null
for s in RESOLVE CONNECT BANNER EHLO STARTTLS HANDSHAKE CHAIN EHLO2; do
    t_keys n
    sleep 0.3
    # wait until this step is no longer running
    n=50; while t_screen | grep -q "▶" && [ $n -gt 0 ]; do sleep 0.2; n=$((n - 1)); done
done
if t_wait "EHLO2 ok" 15 && t_screen | grep -qE '✓ HANDSHAKE'; then ok "Postfix: stepped to EHLO2 over TLS"; else fail "Postfix: stepped to EHLO2 over TLS"; fi
if t_screen | grep -q "Chain: trusted"; then ok "Postfix: chain trusted with the world CA"; else fail "Postfix: chain trusted with the world CA"; t_screen | sed 's/^/# /'; fi
t_cmd "send NOOP"
if t_wait "C: NOOP" 5 && t_wait "S: 250" 10 && t_screen | grep -A3 "C: NOOP" | grep -q "S: 250"; then
    ok "Postfix: send NOOP answered 250 over TLS"
else fail "Postfix: send NOOP answered 250 over TLS"; fi
t_cmd "save $T_DIR/t.txt"
t_wait "saved text" 5 >/dev/null
t_keys q
if t_wait "MXS-EXIT=0" 5; then ok "Postfix: quit"; else fail "Postfix: quit"; fi
finish
