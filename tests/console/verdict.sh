#!/bin/sh
# verdict.sh - the verdict line is never cut (issue 11): at 80x24 (NO_COLOR,
# TERM=vt100) the policy that does not fit goes whole to the next row
# ("verified: not delivered (CHAIN)", never "NOT DELIVER"); at 120x40 the
# four fit on one row; the words are the operator's ("in clear", "not
# delivered").  Read from the Findings pane's own rows after the run.
. tests/lib.sh
. tests/console/tmux.inc

run_lab() { t_run_lab "$1"; }
T_COLS=80 T_ROWS=24 T_ENV="NO_COLOR=1 TERM=vt100"
run_lab expired
both_rows() {
    t_pane Findings | head -n 2 | t_lines_are 'Verdict:  opportunistic: encrypted  required: encrypted *' \
        '          verified: not delivered \(CHAIN\)  dane: - *'
}
t_assert "80x24: the verdict wraps between policies, nothing cut" 5 both_rows
t_keys q; t_until 5 t_exited 0 >/dev/null
run_lab no-starttls
t_assert "80x24: a clear-text delivery says 'in clear'" 5 \
    t_pane_has Findings 'Verdict:  opportunistic: in clear  required: not delivered \(STARTTLS\) *'
t_keys q; t_until 5 t_exited 0 >/dev/null
T_COLS=120 T_ROWS=40 T_ENV=""
run_lab expired
t_assert "120x40: the four policies on one row" 5 \
    t_pane_has Findings 'Verdict:  opportunistic: encrypted  required: encrypted  verified: not delivered \(CHAIN\)  dane: - *'
t_keys q; t_until 5 t_exited 0 >/dev/null
finish
