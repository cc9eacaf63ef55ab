#!/bin/sh
# diff A [B] in the console (issue 11): the session in view against a saved
# one, in an overlay titled by the command: the step that changed, the new
# finding with its TLS-RPT type, the verdict that changed.  A file that does
# not load is one error on the status bar.
. tests/lib.sh
. tests/console/tmux.inc

t_start --lab
t_until 10 t_status_is ' .* \[lab:good\] \| RESOLVE pending \| .*' >/dev/null
t_cmd "set keep-open off"   # a whole run, QUIT too (the console keeps the session open)
t_keys r
t_until 15 t_step_is QUIT '[✓-] QUIT .*' >/dev/null
t_cmd "save json good.json"
t_until 5 t_status_is ' .* \| saved json to good\.json' >/dev/null
t_cmd "open lab:expired"
t_until 10 t_status_is ' .* \[lab:expired\] \| .*' >/dev/null
t_cmd "set keep-open off"   # a whole run, QUIT too (the console keeps the session open)
t_keys r
t_until 15 t_step_is QUIT '[✓-] QUIT .*' >/dev/null
t_cmd "diff good.json"
if t_until 5 t_pane_has "diff good.json" '   CHAIN      ok -> fail *' && t_keys NPage &&
   t_until 5 t_pane_has "diff good.json" '   new:  error   cert-expired \[CHAIN\] \(TLS-RPT certificate-expired\) *' &&
   t_pane_has "diff good.json" '   verified       delivered-encrypted -> not-delivered at CHAIN \(cert-expired\) *'; then
    ok "diff FILE: the saved good session against the expired one in view"
else
    fail "diff FILE overlay" "$(t_screen | head -30)"
fi
t_keys q
t_cmd "diff nothere.json"
t_assert "diff with a missing file: one error on the status bar" 5 \
    t_status_is ' .* \| diff: nothere\.json: open: No such.*'
t_keys q
t_until 5 t_exited 0 >/dev/null
finish
