#!/bin/sh
# Tab completion of SMTP verbs and their arguments after `send`, the
# history of send lines, `set keep-open`, and the words next to jargon
# values (sni mx).  Each check reads the command line or the status bar
# (tests/console/tmux.inc).
. tests/lib.sh
. tests/console/tmux.inc

T_COLS=160; export T_COLS   # room in the status bar for the whole list of verbs
T_ENV="NO_COLOR=1 TERM=vt100"   # plain terminals complete the same way
t_start --lab
t_until 10 t_status_is ' .* \[lab:good\] \| RESOLVE pending \| .*' >/dev/null
# type TEXT at a fresh prompt, then Tab
tab() { t_keys ':'; sleep 0.1; t_type "$1"; t_keys Tab; }
clear_line() { t_keys C-c Escape; sleep 0.1; }

tab "send MA"
t_assert "send MA<Tab> completes to MAIL FROM:< (no space after the <)" 3 t_prompt_is 'mxscope> send MAIL FROM:<'
clear_line
tab "send rc"
t_assert "verbs complete whatever the case: send rc<Tab> is RCPT TO:<" 3 t_prompt_is 'mxscope> send RCPT TO:<'
clear_line
tab "send MAIL "
t_keys Tab
if t_until 3 t_prompt_is 'mxscope> send MAIL FROM:<' && t_status_is ' .* \| FROM:<  FROM:<>'; then
    ok "send MAIL <Tab>: FROM:<> (the null sender) or FROM:<"
else fail "send MAIL <Tab>: FROM:<> (the null sender) or FROM:<"; fi
clear_line
tab "send EH"
t_assert "send EH<Tab> is EHLO with the EHLO name in force" 3 t_prompt_is 'mxscope> send EHLO [A-Za-z0-9.-]+ ?'
clear_line
tab "send "
t_keys Tab
t_assert "send <Tab><Tab> lists the verbs; STARTTLS is not one (it is a step)" 3 t_status_is \
    ' .* \| DATA  EHLO [^ ]+  EXPN  HELO [^ ]+  HELP  MAIL FROM:<  NOOP  QUIT  RCPT TO:<  RSET  VRFY'
clear_line
tab "send STA"
t_assert "send STA<Tab> completes nothing" 3 t_prompt_is 'mxscope> send STA'
clear_line
tab "set keep"
t_assert "set keep<Tab> is keep-open" 3 t_prompt_is 'mxscope> set keep-open ?'
t_keys C-u; t_type "set keep-open off"; t_keys Enter
t_assert "set keep-open off says what r will do" 3 t_status_is ' .* \| keep-open = off \(r runs QUIT too\)'

t_cmd "show settings"
t_until 3 t_pane_has "show settings" ' sni +mx \(SNI: the MX host name\)' >/dev/null && sni_ok=1 || sni_ok=0
t_keys G   # keep-open is the last row
if [ $sni_ok = 1 ] && t_until 3 t_pane_has "show settings" ' keep-open +off'; then
    ok "show settings: keep-open, and sni with its words"
else fail "show settings: keep-open, and sni with its words"; fi
t_keys q
t_cmd "set sni"
t_assert "set sni shows the value and what it means" 3 t_status_is ' .* \| sni = mx \(SNI: the MX host name\)'

# History: send lines come back with Up, the last first.
t_keys n n n n
t_until 10 t_step_is EHLO '✓ EHLO .+' >/dev/null
t_snap
t_cmd "send STARTTLS"
if t_until 3 t_status_is ' .* \| send: STARTTLS is a step, not a raw command: .*' && t_new_is Exchange; then
    ok "send STARTTLS is refused (it is a step): nothing sent"
else fail "send STARTTLS is refused (it is a step): nothing sent"; fi
t_cmd "send NOOP"
t_until 5 t_status_is ' .* \| sent: NOOP' >/dev/null
t_cmd "send RSET"
t_until 5 t_status_is ' .* \| sent: RSET' >/dev/null
t_keys ':'; sleep 0.1; t_keys Up
t_assert "Up recalls the last send line" 3 t_prompt_is 'mxscope> send RSET'
t_keys Up
t_assert "Up again: the one before" 3 t_prompt_is 'mxscope> send NOOP'
t_keys C-c Escape q y
t_until 5 t_exited '[0-9]+' >/dev/null
finish
