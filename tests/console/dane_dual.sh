#!/bin/sh
# DANE for a dual RSA + ECDSA server in the console: the test world's
# dualgood listener (good.pem RSA + ecgood.pem ECDSA) behind
# dane-dual-ec.example.test, whose only TLSA record is the ECDSA key's
# 3 1 1 (tests/world-dns.sh).  The Chain pane's title counts the records
# that authenticate each chain ("DANE 1/1 TLSA, 2nd 0/1"; the pane is too
# narrow for all of it next to name-mismatch, cut with "…"), the second
# certificate's row says "noT" (its glyph: its own verification), the leaf's detail
# (Enter) shows the second certificate and what each record matched in its
# chain, and the warning is in the Findings pane.
. tests/lib.sh
world_env
T_COLS=160 T_ROWS=44
. tests/console/tmux.inc

t_start --resolver "$MXS_DNS_RESOLVER" --trust-anchor "$MXS_TRUST_ANCHOR" \
    --unbound-conf "$MXS_UNBOUND_CONF" --cafile "$MXS_CA" --port "$MXS_PORT_DUALGOOD" \
    --tlsa-port 25 --timeout 10 -4 dane-dual-ec.example.test
t_until 10 t_status_is " dane-dual-ec\.example\.test:$MXS_PORT_DUALGOOD \| RESOLVE pending \| .*" >/dev/null
t_keys r
t_until 20 t_step_is EHLO2 "[-✓!✗] EHLO2 .+" >/dev/null
if t_until 5 t_title_is Chain 'Chain: name-mismatch, DANE 1/1 TLSA, (2nd 0/1|2?…)' &&
   t_pane_has Chain '0 mx1\.example\.test +T [0-9]+d ✗' && t_pane_has Chain '2nd RSA mx1\.example\.test +noT [0-9]+d ✗'; then
    ok "console: the Chain pane counts each chain's TLSA records and marks the second certificate noT"
else fail "console: the Chain pane and the second certificate"; t_screen | sed 's/^/# /'; fi
if t_screen | grep -q '\*\* warning dane-second-cert-unmatched: The RSA certificate that dx9'; then
    ok "console: dane-second-cert-unmatched shown"
else fail "console: dane-second-cert-unmatched shown"; t_screen | sed 's/^/# /'; fi
# the leaf's detail: Steps -> Exchange -> Chain, Enter on certificate 0
t_keys Tab Tab; sleep 0.3; t_keys Enter
sleep 1
if t_screen | grep -q '2nd certificate (RSA-only handshake, senders that offer only RSA):' &&
   t_screen | grep -q 'TLSA against its chain: no record authenticates it: DANE senders that get it defer' &&
   t_screen | grep -qE 'record 0: 3 1 1 [0-9A-F]{64} \(matches none of the certificates sent\)'; then
    ok "console: the leaf's detail shows the second certificate and its TLSA results"
else fail "console: the leaf's detail shows the second certificate"; t_screen | sed 's/^/# /'; fi
t_keys Escape; sleep 0.2
t_keys q; sleep 0.3; t_keys y
t_assert "console: quit" 5 t_exited 0
finish
