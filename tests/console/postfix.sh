#!/bin/sh
# The console against the test world's real Postfix: step to EHLO2 with n,
# the chain is trusted, `send NOOP` is answered 250 over TLS.  Each check
# reads the region the action changes (tests/console/tmux.inc).
. tests/lib.sh
world_env
. tests/console/tmux.inc

TS='\+ +[0-9]+\.[0-9]{3}s'   # an Exchange row's time offset
t_start --host mx1.example.test --connect "127.0.0.1:$MXS_PORT_GOOD" --cafile "$MXS_CA" --timeout 10
t_until 10 t_status_is " mx1\.example\.test:$MXS_PORT_GOOD \| RESOLVE pending \| .*" >/dev/null
# One n per step; wait for that step's row to leave "pending" before the next.
for s in RESOLVE CONNECT BANNER EHLO STARTTLS HANDSHAKE CHAIN EHLO2; do
    t_keys n
    t_until 15 t_step_is $s "[-✓!✗] $s .+" >/dev/null
done
t_assert "Postfix: stepped to EHLO2 over TLS" 5 t_pane_is Steps '- RESOLVE   skipped' '✓ CONNECT   [0-9]+ ms' \
    '✓ BANNER    [0-9]+ ms' '✓ EHLO      [0-9]+ ms' '✓ STARTTLS  [0-9]+ ms' '✓ HANDSHAKE [0-9]+ ms' '✓ CHAIN     [0-9]+ ms' \
    '✓ EHLO2     [0-9]+ ms' '· QUIT'
if t_title_is Chain 'Chain: trusted' && t_pane_is Chain '0 mx1\.example\.test +[0-9]+d ✓' '  SHA-1 [0-9A-F]+…?' '1 mxscope Test Intermedia +[0-9]+d ✓' '  SHA-1 [0-9A-F]+…?'; then
    ok "Postfix: chain trusted with the world CA"
else fail "Postfix: chain trusted with the world CA"; t_screen | sed 's/^/# /'; fi
t_assert "Postfix: every sender policy delivers encrypted" 2 t_pane_has Findings \
    'Verdict:  opportunistic: encrypted  required: encrypted  verified: encrypted  dane: -  mta-sts: -'
t_snap
t_cmd "send NOOP"
if t_until 10 t_new_is Exchange "$TS -         C: NOOP" "$TS -         T> TLS application_data\(23\) TLSv1\.2, [0-9]+ byte.*" \
       "$TS -         T< TLS application_data\(23\) TLSv1\.2, [0-9]+ byte.*" "$TS -         S: 250 2\.0\.0 Ok" &&
   t_status_is " .* \| QUIT pending \| sent: NOOP"; then
    ok "Postfix: send NOOP answered 250 over TLS"
else fail "Postfix: send NOOP answered 250 over TLS"; t_new Exchange | sed 's/^/# /'; fi
t_cmd "save $T_DIR/t.txt"
t_until 5 t_status_is " .* \| saved text to $T_DIR/t\.txt" >/dev/null
if [ "$(sed -n 's/^# SHA-1 //p' "$T_DIR/t.txt" | head -1)" = "$MXS_GOOD_SHA1" ]; then
    ok "Postfix: the session saved from the console has the served leaf's thumbprint"
else fail "Postfix: the session saved from the console has the served leaf's thumbprint"; fi
t_keys q
t_assert "Postfix: quit" 5 t_exited 0
finish
