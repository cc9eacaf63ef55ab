#!/bin/sh
# A stalled step shows a live countdown to its deadline; Esc cancels it and
# the console stays usable.
. tests/lib.sh
. tests/console/tmux.inc

t_start
t_wait "Nothing is open yet" 10 && ok "mxscope alone opens empty with a hint" || fail "mxscope alone opens empty with a hint"
t_cmd "open lab:slow-banner"
t_wait "[lab:slow-banner]" 10 && ok "open lab:SCENARIO switches to the scenario" || fail "open lab:SCENARIO switches to the scenario"
t_keys Escape
t_wait "RESOLVE   " 5 >/dev/null
t_keys n
t_wait "CONNECT   " 5 >/dev/null
t_keys n
num() { t_screen | sed -n 's/.*BANNER *\([0-9][0-9]*\)s left.*/\1/p' | head -1; }
if t_wait "s left" 5; then
    a=$(num); sleep 2.2; b=$(num)
    if [ -n "$a" ] && [ -n "$b" ] && [ "$b" -lt "$a" ]; then
        ok "live countdown while the banner stalls ($a s, then $b s)"
    else fail "live countdown while the banner stalls" "got '$a' then '$b'"; fi
else fail "live countdown while the banner stalls" "no countdown"; fi
t_keys Escape
if t_wait "BANNER    cancelled" 3; then ok "Esc cancels the running step"; else fail "Esc cancels the running step"; fi
# Still usable: a command works and the next step runs.
t_cmd "set ehlo probe.example"
if t_wait "ehlo = probe.example" 3; then ok "commands work after a cancel"; else fail "commands work after a cancel"; fi
t_keys Escape
t_keys R
t_wait "restarted" 3 >/dev/null
t_keys r
if t_wait "| finished" 20 && t_screen | grep -qE "[✓!] BANNER +[0-9]"; then ok "restart and run after a cancel"; else fail "restart and run after a cancel"; t_screen | sed 's/^/# /'; fi
# Ctrl-C is a key too: it cancels, it does not kill the console.
t_keys R; t_keys n; t_wait "CONNECT" 3 >/dev/null; t_keys n; t_keys n
t_wait "s left" 5 >/dev/null
t_keys C-c
if t_wait "cancelled" 3 && ! t_screen | grep -q "MXS-EXIT"; then ok "Ctrl-C cancels and the console stays"; else fail "Ctrl-C cancels and the console stays"; fi
# SIGTERM restores the terminal.
shpid=$(tmux -L "$T_SOCK" list-panes -F '#{pane_pid}' | head -1)
pid=$(pgrep -P "$shpid" 2>/dev/null | head -1)
[ -n "$pid" ] && kill -TERM "$pid"
if t_wait "MXS-EXIT=" 5 && ! t_screen | grep -q "Steps"; then ok "SIGTERM leaves a clean terminal"; else fail "SIGTERM leaves a clean terminal"; fi
finish
