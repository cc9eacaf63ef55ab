#!/bin/sh
# The POLICY step in the console (issue 12) against the test world: a mail
# domain opens stopped after RESOLVE with POLICY next (second row of the
# Steps pane); n runs POLICY alone (the TXT answers and the HTTP request and
# response head in the Exchange pane); r runs the rest and the verdict line
# has the MTA-STS policy; at 80x24 every step row fits and the Chain pane
# still shows both certificates (one row each).
. tests/lib.sh
world_env
. tests/console/tmux.inc

TS='\+ +[0-9]+\.[0-9]{3}s'   # an Exchange row's time offset
T_COLS=120 T_ROWS=40
t_start --resolver "$MXS_DNS_RESOLVER" --trust-anchor "$MXS_TRUST_ANCHOR" --unbound-conf "$MXS_UNBOUND_CONF" \
    --cafile "$MXS_CA" --port "$MXS_PORT_GOOD" -4 --timeout 10 notcovered.sts.example.test
t_assert "a domain opens after RESOLVE with POLICY next" 10 t_pane_is Steps '✓ RESOLVE   [0-9]+ ms' '· POLICY' \
    '· CONNECT' '· BANNER' '· EHLO' '· STARTTLS' '· HANDSHAKE' '· CHAIN' '· EHLO2' '· QUIT'
t_assert "the status bar names POLICY as the next step" 3 t_status_is ' .* \| POLICY pending \| .*'
t_snap; t_keys n
t_assert "n runs POLICY alone: the MX is not in the policy (warn)" 10 t_step_is POLICY '! POLICY    [0-9]+ ms'
t_assert "CONNECT has not run" 2 t_step_is CONNECT '· CONNECT'
t_assert "the exchange: TXT answers, the request and the response head" 3 t_pane_has Exchange \
    "$TS POLICY    H> GET /\.well-known/mta-sts\.txt HTTP/1\.1 *"
t_assert "the response status line" 2 t_pane_has Exchange "$TS POLICY    H< HTTP/1\.1 200 OK *"
t_assert "the TXT record" 2 t_pane_has Exchange "$TS POLICY    D: TXT _mta-sts\.notcovered\.sts\.example\.test: 1 record.*"
t_assert "the finding shows at once" 3 t_pane_has Findings 'E sts-mx-not-covered: The MX mx1\.example\.test matches no mx pattern.*'
t_cmd "set keep-open off"   # a whole run, QUIT too (the console keeps the session open)
t_keys r
t_assert "r runs the rest" 15 t_step_is QUIT '✓ QUIT      [0-9]+ ms'
t_assert "the verdict line has the MTA-STS sender, refused at POLICY" 3 t_pane_has Findings \
    'Verdict:  opportunistic: encrypted  required: encrypted  verified: encrypted  dane: -  mta-sts: not delivered \(POLICY\) *'
tmux -L "$T_SOCK" resize-window -x 80 -y 24
sleep 0.5
if t_pane_is Steps '✓ RESOLVE   [0-9]+ ms' '! POLICY    [0-9]+ ms' '✓ CONNECT   [0-9]+ ms' '✓ BANNER    [0-9]+ ms' \
       '✓ EHLO      [0-9]+ ms' '✓ STARTTLS  [0-9]+ ms' '✓ HANDSHAKE [0-9]+ ms' '✓ CHAIN     [0-9]+ ms' \
       '✓ EHLO2     [0-9]+ ms' '✓ QUIT      [0-9]+ ms' &&
   t_pane_is Chain '0 mx1\.example\.test +[0-9]+d ✓' '1 mxscope Test Int +[0-9]+d ✓' &&
   [ "$(t_screen | wc -L)" -le 80 ]; then
    ok "80x24: all ten steps fit, the chain pane still shows both certificates"
else fail "80x24: all ten steps fit"; t_screen | sed 's/^/# /'; fi
t_keys q; t_until 5 t_exited 0 >/dev/null
finish
