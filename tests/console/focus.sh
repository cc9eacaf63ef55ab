#!/bin/sh
# focus.sh - Tab goes round the panes and back, Shift-Tab the other way,
# `:` opens the command line (issue 11: Tab used to enter the command line
# and stay there).  The focused pane is the one whose title is bracketed.
. tests/lib.sh
. tests/console/tmux.inc
focused() { for p in Steps Exchange Chain Findings; do t_title "$p" | grep -q '^\[' && echo "$p"; done; }
focus_is() { [ "$(focused)" = "$1" ]; }
t_start --lab
t_until 10 t_status_is ' .* \[lab:good\] \| RESOLVE pending \| .*' >/dev/null
t_assert "the console opens with the Steps pane focused" 3 focus_is Steps
t_keys Tab; t_assert "Tab: Exchange" 3 focus_is Exchange
t_keys Tab; t_assert "Tab: Chain" 3 focus_is Chain
t_keys Tab; t_assert "Tab: Findings" 3 focus_is Findings
t_keys Tab; t_assert "Tab from Findings comes back to Steps (not the command line)" 3 focus_is Steps
t_keys BTab; t_assert "Shift-Tab from Steps goes back to Findings" 3 focus_is Findings
t_keys ':'
t_assert "':' opens the command line" 3 t_prompt_is 'mxscope> ?'
t_keys Escape
t_assert "Esc leaves it, the pane focused before keeps the focus" 3 focus_is Findings
# g/G and Home/End in the Chain pane: the last certificate sent, the leaf.
t_cmd "set keep-open off"   # a whole run, QUIT too (the console keeps the session open)
t_keys r
t_until 15 t_step_is QUIT '[✓-] QUIT .*' >/dev/null
t_keys Tab Tab Tab          # Findings -> Steps -> Exchange -> Chain
t_until 3 focus_is Chain >/dev/null
t_keys G Enter
t_assert "G in the Chain selects the last certificate (its detail opens)" 3 t_title_is "Certificate depth 1" '.*Certificate depth 1.*'
t_keys q g Enter
t_assert "g in the Chain selects the leaf again" 3 t_title_is "Certificate depth 0" '.*Certificate depth 0.*'
t_keys q End Enter
t_assert "End does what G does" 3 t_title_is "Certificate depth 1" '.*Certificate depth 1.*'
t_keys q
t_keys q; t_until 5 t_exited 0 >/dev/null
finish
