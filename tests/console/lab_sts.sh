#!/bin/sh
# The lab's MTA-STS scenarios in the console (issue 12), without a network or
# the test world: --lab sts-* opens the mail domain lab.mxscope.test; after r
# the Steps pane has the POLICY row in its state, the Exchange pane the
# policy fetch (to the lab's own policy host) and the verdict line the
# MTA-STS sender.
. tests/lib.sh
. tests/console/tmux.inc

TS='\+ +[0-9]+\.[0-9]{3}s'   # an Exchange row's time offset
T_COLS=120 T_ROWS=40
t_run_lab sts-enforce
t_assert "sts-enforce: POLICY ok, second row" 3 t_pane_is Steps '✓ RESOLVE   [0-9]+ ms' '✓ POLICY    [0-9]+ ms' \
    '✓ CONNECT   [0-9]+ ms' '✓ BANNER    [0-9]+ ms' '✓ EHLO      [0-9]+ ms' '✓ STARTTLS  [0-9]+ ms' \
    '✓ HANDSHAKE [0-9]+ ms' '✓ CHAIN     [0-9]+ ms' '✓ EHLO2     [0-9]+ ms' '✓ QUIT      [0-9]+ ms'
t_assert "sts-enforce: the verdict line has the MTA-STS sender, delivered" 3 t_pane_has Findings \
    'Verdict:  opportunistic: encrypted  required: encrypted  verified: encrypted  dane: -  mta-sts: encrypted *'
t_keys q; t_until 5 t_exited 0 >/dev/null

# Step by step: n runs RESOLVE, n runs POLICY alone; the Exchange pane shows
# what it asked and fetched before anything else fills it.
t_start --lab sts-mx-not-covered
t_until 10 t_status_is " .* \[lab:sts-mx-not-covered\] \| .*" >/dev/null
t_cmd "set keep-open off"
t_keys n
t_assert "n runs RESOLVE in the lab's DNS data" 10 t_step_is RESOLVE '✓ RESOLVE   [0-9]+ ms'
t_keys n
t_assert "n runs POLICY alone: the MX is not in the policy (warn)" 10 t_step_is POLICY '! POLICY    [0-9]+ ms'
t_assert "CONNECT has not run" 2 t_step_is CONNECT '· CONNECT'
t_assert "the TXT answer from the lab's DNS data" 2 t_pane_has Exchange \
    "$TS POLICY    D: TXT _mta-sts\.lab\.mxscope\.test: 1 record.*"
t_assert "the request went to the lab's policy host" 2 t_pane_has Exchange \
    "$TS POLICY    H> Host: mta-sts\.lab\.mxscope\.test *"
t_assert "the response status line" 2 t_pane_has Exchange "$TS POLICY    H< HTTP/1\.1 200 OK *"
t_keys r
t_assert "r runs the rest" 15 t_step_is QUIT '✓ QUIT      [0-9]+ ms'
t_assert "the finding" 2 t_pane_has Findings 'E sts-mx-not-covered: The MX mx\.lab\.mxscope\.test matches no mx pattern.*'
t_assert "the verdict line: the MTA-STS sender refuses at POLICY" 2 t_pane_has Findings \
    'Verdict:  opportunistic: encrypted  required: encrypted  verified: encrypted  dane: -  mta-sts: not delivered \(POLICY\) *'
t_keys q; t_until 5 t_exited '[0-9]+' >/dev/null
finish
