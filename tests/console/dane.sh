#!/bin/sh
# DANE in the console (issue 12): against the test world's signed zone and
# real Postfix, the Chain pane's title counts the TLSA records that
# authenticate the chain, the certificate a record matched carries a "T",
# and its detail (Enter) lists the record.  dane-ta.example.test: a 2 0 1
# of a CA that issued nothing served beside good's 3 1 1 (tests/world-dns.sh).
. tests/lib.sh
world_env
T_COLS=150 T_ROWS=40
. tests/console/tmux.inc

t_start --resolver "$MXS_DNS_RESOLVER" --trust-anchor "$MXS_TRUST_ANCHOR" \
    --unbound-conf "$MXS_UNBOUND_CONF" --cafile "$MXS_CA" --port "$MXS_PORT_GOOD" \
    --tlsa-port 25 --timeout 10 -4 dane-ta.example.test
t_until 10 t_status_is " dane-ta\.example\.test:$MXS_PORT_GOOD \| RESOLVE pending \| .*" >/dev/null
t_keys r
t_until 20 t_step_is EHLO2 "[-✓!✗] EHLO2 .+" >/dev/null
if t_until 5 t_title_is Chain 'Chain: name-mismatch, DANE 1/2 TLSA' &&
   t_pane_has Chain '0 mx1\.example\.test +T [0-9]+d ✗' && t_pane_has Chain '1 mxscope Test Intermedia[a-z]* +[0-9]+d ✓'; then
    ok "console: the Chain pane counts the TLSA records and marks the certificate one matched"
else fail "console: the Chain pane counts the TLSA records"; t_screen | sed 's/^/# /'; fi
if t_screen | grep -q '\*\* warning dane-ta-not-issuer: TLSA record 2 0 1'; then
    ok "console: dane-ta-not-issuer shown"
else fail "console: dane-ta-not-issuer shown"; t_screen | sed 's/^/# /'; fi
# the leaf's detail: Steps -> Exchange -> Chain, Enter on certificate 0
t_keys Tab Tab; sleep 0.3; t_keys Enter
sleep 1
if t_screen | grep -qE 'record 1: 3 1 1 [0-9A-F]{64} \(authenticates the chain\)'; then
    ok "console: the leaf's detail lists the TLSA record that matched it"
else fail "console: the leaf's detail lists the TLSA record"; t_screen | sed 's/^/# /'; fi
t_keys Escape; sleep 0.2
t_keys q; sleep 0.3; t_keys y
t_assert "console: quit" 5 t_exited 0
finish
