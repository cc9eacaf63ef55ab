#!/bin/sh
# The console on the built-in lab: panes, stepping, run, chain detail, help,
# resize, Tab completion, quit with an unsaved session, the exit dump.
# Each check reads the region the action changes (tests/console/tmux.inc):
# the Steps pane row by row, the Exchange rows new since the key, the status
# bar, the command line, the overlay by its title.
. tests/lib.sh
. tests/console/tmux.inc

T_DUMP="$T_DIR/exit-dump.txt"
TS='\+ +[0-9]+\.[0-9]{3}s'   # an Exchange row's time offset
t_start --lab
if t_until 10 t_status_is ' mx\.lab\.mxscope\.test:[0-9]+ \[lab:good\] \| RESOLVE pending \| n step  r run .*' &&
   t_pane_is Steps '· RESOLVE' '· CONNECT' '· BANNER' '· EHLO' '· STARTTLS' '· HANDSHAKE' '· CHAIN' '· EHLO2' '· QUIT' &&
   t_title_is Exchange 'Exchange' && t_pane_is Chain ' \(no certificates yet\)' &&
   t_pane_is Findings 'Verdict:  opportunistic: -  required: -  verified: -  dane: -  mta-sts: -' '\(no findings yet\)'; then
    ok "console opens on the lab with its panes, every step pending"
else fail "console opens on the lab with its panes, every step pending"; fi

t_snap; t_keys n
t_assert "n runs RESOLVE (skipped: the lab pins the address)" 5 t_pane_is Steps \
    '- RESOLVE   skipped' '· CONNECT' '· BANNER' '· EHLO' '· STARTTLS' '· HANDSHAKE' '· CHAIN' '· EHLO2' '· QUIT'
t_assert "the status bar moves on to CONNECT" 2 t_status_is ' .* \[lab:good\] \| CONNECT pending \| .*'
t_snap; t_keys n
t_assert "n runs CONNECT" 5 t_step_is CONNECT '✓ CONNECT   [0-9]+ ms'
t_assert "CONNECT's rows in the Exchange" 2 t_new_is Exchange \
    "$TS CONNECT   == CONNECT started \(deadline 10\.0 s\)" "$TS CONNECT   #  connecting to 127\.0\.0\.1 port .*" \
    "$TS CONNECT   == CONNECT ok [0-9]+ ms"
t_snap; t_keys n
t_assert "banner shown in the Exchange with S:" 5 t_new_is Exchange \
    "$TS BANNER    == BANNER started \(deadline 60\.0 s\)" "$TS BANNER    S: 220 mx\.lab\.mxscope\.test ESMTP mxscope lab" \
    "$TS BANNER    == BANNER ok [0-9]+ ms: greeting after [0-9.]+ s"
t_snap; t_keys n
t_assert "EHLO shown with C:, the reply with S:, each row with its time offset" 5 t_new_is Exchange \
    "$TS EHLO      == EHLO started \(deadline 30\.0 s\)" "$TS EHLO      C: EHLO .+" \
    "$TS EHLO      S: 250-mx\.lab\.mxscope\.test" "$TS EHLO      S: 250-PIPELINING" "$TS EHLO      S: 250-SIZE 10240000" \
    "$TS EHLO      S: 250-STARTTLS" "$TS EHLO      S: 250-ENHANCEDSTATUSCODES" "$TS EHLO      S: 250 8BITMIME" \
    "$TS EHLO      == EHLO ok [0-9]+ ms: 5 capabilities, STARTTLS( of?)?"
# (the row is cut at the pane's edge: where depends on the digits of the
# time, 15 ms under ASan cuts one character earlier than 0 ms)

t_cmd "set keep-open off"   # a whole run, QUIT too (the console keeps the session open)

t_keys r
t_assert "r runs to the end" 15 t_pane_is Steps '- RESOLVE   skipped' '✓ CONNECT   [0-9]+ ms' '✓ BANNER    [0-9]+ ms' \
    '✓ EHLO      [0-9]+ ms' '✓ STARTTLS  [0-9]+ ms' '✓ HANDSHAKE [0-9]+ ms' '✓ CHAIN     [0-9]+ ms' '✓ EHLO2     [0-9]+ ms' '✓ QUIT      [0-9]+ ms'
t_assert "the status bar says finished" 2 t_status_is ' .* \[lab:good\] \| finished \| .*'
if t_title_is Chain 'Chain: trusted' &&
   t_pane_is Chain '0 mx\.lab\.mxscope\.test +[0-9]+d ✓' '  SHA-1 [0-9A-F]+…?' '1 mxscope lab intermedia +[0-9]+d ✓' '  SHA-1 [0-9A-F]+…?'; then
    ok "chain pane: depth, CN, days left, one row per certificate"
else fail "chain pane: depth, CN, days left, one row per certificate"; t_screen | sed 's/^/# /'; fi
t_assert "findings pane: every policy encrypted, no findings" 2 t_pane_is Findings \
    'Verdict:  opportunistic: encrypted  required: encrypted  verified: encrypted  dane: -  mta-sts: -' \
    '\(no findings: nothing wrong was seen\)'

# Focus the chain (Steps -> Exchange -> Chain) and open the leaf.
t_keys Tab Tab
t_assert "Tab Tab focuses the chain" 3 t_title_is Chain '\[Chain: trusted\]'
t_snap; t_keys Enter
t_assert "Enter on the chain shows the certificate: SHA-1 thumbprint and expiry" 5 t_pane_is "Certificate depth 0" \
    ' Certificate 0 \(leaf\)' '   Subject:      CN=mx\.lab\.mxscope\.test, O=mxscope lab' \
    '   Issuer:       CN=mxscope lab intermediate CA, O=mxscope lab' '   SAN:          mx\.lab\.mxscope\.test' \
    '   Serial:       [0-9A-F]+' '   Not before:   [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z' \
    '   Not after:    [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z \([0-9]+ days left\)' '   Key:          EC 256 secp256r1' \
    '   Signature:    ECDSA with SHA-256' '   SHA-1:        [0-9A-F]{40}   \(Exchange thumbprint\)' \
    '   SHA-256:      [0-9A-F]{64}' '   EKU:          serverAuth' '   CA:           no' '   Verification: ok'
t_keys Escape
t_assert "Esc closes the certificate view: the screen is as before" 3 t_screen_is "$T_DIR/snap"

# Help screen lists keys and every command.
t_keys '?'
if t_until 3 t_pane_has Help ' Keys \(panes\)' && t_pane_has Help '   n, Space +run the next step \(while one runs: queued, up to 9; Esc clears\)' &&
   t_pane_has Help '   q +quit \(asks when the session is not saved\)'; then
    ok "? shows the help screen: the keys"
else fail "? shows the help screen: the keys"; fi
t_keys End
# the help's last four non-empty rows: the last two commands
help_ends() {
    [ "$(t_pane Help | grep -v '^$' | tail -4 | tr '\n' '|')" = \
      " help [CMD]   (alias: h)|     list the commands, or explain one| quit   (alias: q)|     leave mxscope|" ]
}
t_assert "End shows the end of the help: the last commands" 3 help_ends
t_keys q
t_assert "q closes the help" 3 t_pane_is Steps '- RESOLVE   skipped' '✓ CONNECT   [0-9]+ ms' '✓ BANNER    [0-9]+ ms' \
    '✓ EHLO      [0-9]+ ms' '✓ STARTTLS  [0-9]+ ms' '✓ HANDSHAKE [0-9]+ ms' '✓ CHAIN     [0-9]+ ms' '✓ EHLO2     [0-9]+ ms' '✓ QUIT      [0-9]+ ms'

# Resize to 80x24 and back.
t_screen > "$T_DIR/big"
tmux -L "$T_SOCK" resize-window -x 80 -y 24
sleep 0.5
s=$(t_screen)
if [ "$(echo "$s" | wc -l)" -eq 24 ] && [ "$(echo "$s" | wc -L)" -eq 80 ] &&
   t_pane_is Steps '- RESOLVE   skipped' '✓ CONNECT   [0-9]+ ms' '✓ BANNER    [0-9]+ ms' \
    '✓ EHLO      [0-9]+ ms' '✓ STARTTLS  [0-9]+ ms' '✓ HANDSHAKE [0-9]+ ms' '✓ CHAIN     [0-9]+ ms' '✓ EHLO2     [0-9]+ ms' '✓ QUIT      [0-9]+ ms' &&
   t_pane_has Exchange "$TS QUIT .*== QUIT ok .*" && t_pane_is Chain '0 mx\.lab\.mxscope\.te +[0-9]+d ✓' '  SHA-1 [0-9A-F]+…?' '1 mxscope lab int +[0-9]+d ✓' '  SHA-1 [0-9A-F]+…?' &&
   t_pane_has Findings 'Verdict:  opportunistic: encrypted .*' &&
   t_status_is ' .* \[lab:good\] \| finished \| .*' && t_prompt_is ': command .*'; then
    ok "80x24: every pane, the status bar and the command line fit"
else fail "80x24: every pane, the status bar and the command line fit"; echo "$s" | sed 's/^/# /'; fi
tmux -L "$T_SOCK" resize-window -x 100 -y 30
t_assert "back to 100x30: the same screen as before" 3 t_screen_is "$T_DIR/big"

# Tab completion of a command: "sho" + Tab -> "show ".
t_keys ':'
t_type "sho"
t_keys Tab
t_assert "Tab completes a command name" 3 t_prompt_is 'mxscope> show'
t_type "settings"
t_keys Enter
if t_until 3 t_pane_has "show settings" ' *ehlo +.*' && t_pane_has "show settings" ' *timeout-banner +.*'; then
    ok "show settings lists the settings"
else fail "show settings lists the settings"; fi
t_keys q
t_keys Escape

# q with an unsaved session asks first.
t_keys q
t_assert "q asks when the session is unsaved" 3 t_status_is '.*Quit anyway.*'
t_keys n
t_assert "answering no keeps the console" 3 t_status_is ' .* \[lab:good\] \| finished \| not quitting'
t_screen > "$T_DIR/last"
t_keys q
t_until 3 t_status_is '.*Quit anyway.*' >/dev/null
t_keys y
t_assert "y quits with status 0 and the terminal is restored" 5 t_exited 0
# The dump is the last screen: every row but the status bar (it held the
# quit question) as it was before q.
if [ -f "$T_DUMP" ] && [ "$(sed 29d "$T_DUMP")" = "$(sed 29d "$T_DIR/last")" ] &&
   grep -qE '^ mx\.lab\.mxscope\.test:[0-9]+ \[lab:good\] \| finished \| ' "$T_DUMP"; then
    ok "MXS_DUMP_ON_EXIT wrote the final screen"
else fail "MXS_DUMP_ON_EXIT wrote the final screen"; diff "$T_DIR/last" "$T_DUMP" | sed 's/^/# /'; fi
finish
