#!/bin/sh
# A stalled step shows a live countdown to its deadline; Esc cancels it and
# the console stays usable.  Each check reads the region the action changes
# (tests/console/tmux.inc): the Steps pane's rows, the status bar.
. tests/lib.sh
. tests/console/tmux.inc

t_start
if t_until 10 t_pane_has Exchange ' Nothing is open yet\.' && t_pane_is Steps &&
   t_status_is ' mxscope \| nothing open \| .*'; then
    ok "mxscope alone opens empty with a hint"
else fail "mxscope alone opens empty with a hint"; fi
t_cmd "open lab:slow-banner"
# RESOLVE runs at once on open (the lab pins the address: skipped)
t_assert "open lab:SCENARIO switches to the scenario and runs RESOLVE" 10 t_status_is \
    ' mx\.lab\.mxscope\.test:[0-9]+ \[lab:slow-banner\] \| CONNECT pending \| opened lab scenario slow-banner: .*'
t_keys Escape
t_until 5 t_step_is RESOLVE '- RESOLVE   skipped' >/dev/null
t_keys n
t_until 5 t_step_is CONNECT '✓ CONNECT   [0-9]+ ms' >/dev/null
t_keys n
num() { t_pane Steps | sed -n 's/^▶ BANNER    [0-9][0-9]*s in, \([0-9][0-9]*\)s left$/\1/p'; }
numin() { t_pane Steps | sed -n 's/^▶ BANNER    \([0-9][0-9]*\)s in, [0-9][0-9]*s left$/\1/p'; }
if t_until 5 t_step_is BANNER '▶ BANNER    [0-9]+s in, [0-9]+s left'; then
    a=$(num); ia=$(numin); sleep 2.2; b=$(num); ib=$(numin)
    if [ -n "$a" ] && [ -n "$b" ] && [ "$b" -lt "$a" ] && [ "$ib" -gt "$ia" ]; then
        ok "live countdown and time in while the banner stalls ($ia s in, $a s left, then $ib s in, $b s left)"
    else fail "live countdown while the banner stalls" "got '$ia/$a' then '$ib/$b'"; fi
else fail "live countdown while the banner stalls" "no countdown"; t_pane Steps | sed 's/^/# /'; fi
t_keys Escape
if t_until 3 t_pane_is Steps '- RESOLVE   skipped' '✓ CONNECT   [0-9]+ ms' '~ BANNER    cancelled' \
       '· EHLO' '· STARTTLS' '· HANDSHAKE' '· CHAIN' '· EHLO2' '· QUIT' &&
   t_status_is ' .* \[lab:slow-banner\] \| EHLO pending \| BANNER cancelled'; then
    ok "Esc cancels the running step"
else fail "Esc cancels the running step"; fi
# Still usable: a command works and the next step runs.
t_cmd "set ehlo probe.example"
t_assert "commands work after a cancel" 3 t_status_is ' .* \[lab:slow-banner\] \| EHLO pending \| ehlo = probe\.example'
t_keys Escape
t_keys R
t_assert "R restarts: every step pending again" 3 t_pane_is Steps \
    '· RESOLVE' '· CONNECT' '· BANNER' '· EHLO' '· STARTTLS' '· HANDSHAKE' '· CHAIN' '· EHLO2' '· QUIT'
t_assert "R says so on the status bar" 2 t_status_is ' .* \| RESOLVE pending \| restarted: next step RESOLVE'
t_cmd "set keep-open off"   # a whole run, QUIT too (the console keeps the session open)
t_keys r
if t_until 20 t_status_is ' .* \[lab:slow-banner\] \| finished \| .*' &&
   t_pane_is Steps '- RESOLVE   skipped' '✓ CONNECT   [0-9]+ ms' '! BANNER    [0-9]+ ms' \
       '✓ EHLO      [0-9]+ ms' '✓ STARTTLS  [0-9]+ ms' '✓ HANDSHAKE [0-9]+ ms' '✓ CHAIN     [0-9]+ ms' '✓ EHLO2     [0-9]+ ms' '✓ QUIT      [0-9]+ ms'; then
    ok "restart and run after a cancel (the slow banner a warning)"
else fail "restart and run after a cancel (the slow banner a warning)"; t_screen | sed 's/^/# /'; fi
# Ctrl-C is a key too: it cancels, it does not kill the console.  (The
# Exchange still holds the first cancel: read the Steps pane.)
t_keys R; t_keys n
t_until 3 t_step_is RESOLVE '- RESOLVE   skipped' >/dev/null
t_keys n
t_until 3 t_step_is CONNECT '✓ CONNECT   [0-9]+ ms' >/dev/null
t_keys n
t_until 5 t_step_is BANNER '▶ BANNER    [0-9]+s in, [0-9]+s left' >/dev/null
t_keys C-c
if t_until 3 t_step_is BANNER '~ BANNER    cancelled' && t_status_is ' .* \| EHLO pending \| BANNER cancelled'; then
    ok "Ctrl-C cancels and the console stays"
else fail "Ctrl-C cancels and the console stays"; fi
# SIGTERM restores the terminal.
shpid=$(tmux -L "$T_SOCK" list-panes -F '#{pane_pid}' | head -1)
pid=$(pgrep -P "$shpid" 2>/dev/null | head -1)
[ -n "$pid" ] && kill -TERM "$pid"
t_assert "SIGTERM leaves a clean terminal" 5 t_exited '[0-9]+'
finish
