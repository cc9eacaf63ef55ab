#!/bin/sh
# The console on the built-in lab: panes, stepping, run, chain detail, help,
# resize, Tab completion, quit with an unsaved session, the exit dump.
. tests/lib.sh
. tests/console/tmux.inc

T_DUMP="$T_DIR/exit-dump.txt"
t_start --lab
if t_wait "Steps" 10 && t_wait "Exchange" 2 && t_wait "Findings" 2 && t_wait "[lab:good]" 2; then
    ok "console opens on the lab with its panes"
else fail "console opens on the lab with its panes"; fi

t_keys n
if t_wait "RESOLVE   skipped" 5 || t_wait "RESOLVE   " 1; then ok "n runs RESOLVE"; else fail "n runs RESOLVE"; fi
t_keys n
if t_wait "CONNECT   " 5 && t_screen | grep -q "CONNECT   [0-9]"; then ok "n runs CONNECT"; else fail "n runs CONNECT"; fi
t_keys n
if t_wait "S: 220" 5; then ok "banner shown in the Exchange with S:"; else fail "banner shown in the Exchange with S:"; fi
t_keys n
if t_wait "C: EHLO" 5; then ok "EHLO shown with C:"; else fail "EHLO shown with C:"; fi
if t_screen | grep -qE '^\S.*\+ *[0-9]+\.[0-9]+s'; then ok "Exchange lines carry time offsets"; else fail "Exchange lines carry time offsets"; fi

t_keys r
if t_wait "| finished" 15; then ok "r runs to the end"; else fail "r runs to the end"; fi
if t_wait "Chain: trusted" 2 && t_screen | grep -qE '│0 mx\.lab\.mxscope\.test +[0-9]+d'; then
    ok "chain pane: depth, CN, days left"
else fail "chain pane: depth, CN, days left"; t_screen | sed 's/^/# /'; fi

# Focus the chain (Steps -> Exchange -> Chain) and open the leaf.
t_keys Tab Tab
t_wait "[Chain" 3 || true
t_keys Enter
if t_wait "Certificate depth 0" 5 && t_wait "SHA-1:" 2 && t_screen | grep -qE 'SHA-1: +[0-9A-F]{40}' &&
   t_screen | grep -qE 'Not after: +[0-9]{4}-[0-9]{2}-[0-9]{2}'; then
    ok "Enter on the chain shows the certificate: SHA-1 thumbprint and expiry"
else fail "Enter on the chain shows the certificate: SHA-1 thumbprint and expiry"; fi
t_keys Escape
if t_gone "Certificate depth 0" 3; then ok "Esc closes the certificate view"; else fail "Esc closes the certificate view"; fi

# Help screen lists keys and every command.
t_keys '?'
if t_wait "Keys (panes)" 3 && t_screen | grep -q "run the next step"; then ok "? shows the help screen"; else fail "? shows the help screen"; fi
t_keys End
if t_wait "quit" 3 && t_screen | grep -q "^.*send "; then ok "help lists the commands"; else fail "help lists the commands"; fi
t_keys q
t_gone "Keys (panes)" 3 || true

# Resize to 80x24 and back.
tmux -L "$T_SOCK" resize-window -x 80 -y 24
sleep 0.5
s=$(t_screen)
if [ "$(echo "$s" | wc -l)" -le 24 ] && echo "$s" | grep -q "Steps" && echo "$s" | grep -q "Exchange" &&
   echo "$s" | grep -q "Findings" && echo "$s" | grep -q "| finished" &&
   [ "$(echo "$s" | LC_ALL=C.UTF-8 wc -L)" -le 80 ] && [ "$(echo "$s" | LC_ALL=C.UTF-8 wc -L)" -ge 79 ]; then
    ok "80x24: every pane and the status bar fit"
else fail "80x24: every pane and the status bar fit"; echo "$s" | sed 's/^/# /'; fi
tmux -L "$T_SOCK" resize-window -x 100 -y 30
sleep 0.5
if t_wait "Findings" 3 && [ "$(t_screen | head -1 | LC_ALL=C.UTF-8 wc -L)" -ge 99 ]; then
    ok "back to 100x30"
else fail "back to 100x30"; fi

# Tab completion of a command: "sho" + Tab -> "show ".
t_keys ':'
t_type "sho"
t_keys Tab
if t_wait "mxscope> show" 3; then ok "Tab completes a command name"; else fail "Tab completes a command name"; fi
t_type "settings"
t_keys Enter
if t_wait "ehlo" 3 && t_screen | grep -q "timeout-banner"; then ok "show settings lists the settings"; else fail "show settings lists the settings"; fi
t_keys q
t_keys Escape

# q with an unsaved session asks first.
t_keys q
if t_wait "Quit anyway" 3; then ok "q asks when the session is unsaved"; else fail "q asks when the session is unsaved"; fi
t_keys n
if t_wait "not quitting" 3; then ok "answering no keeps the console"; else fail "answering no keeps the console"; fi
t_keys q
t_wait "Quit anyway" 3 >/dev/null || true
t_keys y
if t_wait "MXS-EXIT=0" 5; then ok "y quits with status 0"; else fail "y quits with status 0"; fi
if [ -f "$T_DUMP" ] && grep -q "Exchange" "$T_DUMP" && grep -q "lab:good" "$T_DUMP"; then
    ok "MXS_DUMP_ON_EXIT wrote the screen"
else fail "MXS_DUMP_ON_EXIT wrote the screen"; fi
# The terminal is back: the shell's output is on a normal screen.
if ! t_screen | grep -q "Steps"; then ok "terminal restored after quit"; else fail "terminal restored after quit"; fi
finish
