#!/bin/sh
# tests/console/newcomer.sh - the console issue's "done means", as one
# journey: from what `make run` opens (mxscope --lab), a person who has never
# seen mxscope steps a handshake, finds the expired certificate in the chain
# pane, reads its SHA-1 thumbprint and expiry date, types a command with
# completion and history, saves the transcript, and another run loads it back.
# Each check reads the region the action changes (tests/console/tmux.inc).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tmux.inc"

t_start --lab
t_assert "first screen says where a broken server is (the command line's hint)" 8 \
    t_prompt_is ': command   \(try: open lab:expired - Tab completes, \? help\)'

# completion: "open lab:expire" + Tab -> "open lab:expired" ("exp" alone also
# matches expiring-soon: Tab stops at the common "expir")
t_keys ':'; sleep 0.1; t_type "open lab:expire"
t_until 3 t_prompt_is 'mxscope> open lab:expire' >/dev/null
t_keys Tab
t_assert "Tab completes the lab scenario" 3 t_prompt_is 'mxscope> open lab:expired'
t_keys Enter
t_assert "open lab:expired switches the target" 8 t_status_is \
    ' mx\.lab\.mxscope\.test:[0-9]+ \[lab:expired\] \| CONNECT pending \| opened lab scenario expired: .*'

# step the handshake one key at a time
t_keys n n n n n n
t_assert "n steps through to the handshake, CHAIN fails" 8 t_pane_is Steps '- RESOLVE   skipped' '✓ CONNECT   [0-9]+ ms' \
    '✓ BANNER    [0-9]+ ms' '✓ EHLO      [0-9]+ ms' '✓ STARTTLS  [0-9]+ ms' '✓ HANDSHAKE [0-9]+ ms' '✗ CHAIN     [0-9]+ ms' \
    '· EHLO2' '· QUIT'
t_cmd "set keep-open off"   # a whole run, QUIT too (the console keeps the session open)
t_keys r
t_assert "r runs the rest" 15 t_status_is ' .* \[lab:expired\] \| finished \| .*'
if t_title_is Chain 'Chain: expired' && t_pane_is Chain '0 mx\.lab\.mxscope\.test +-[0-9]+d ✗' '  SHA-1 [0-9A-F]+…?' '1 mxscope lab intermedia +[0-9]+d ✓' '  SHA-1 [0-9A-F]+…?'; then
    ok "the chain pane marks the expired leaf"
else fail "the chain pane marks the expired leaf"; t_screen | sed 's/^/# /'; fi
if t_pane_has Findings 'Verdict:  opportunistic: encrypted  required: encrypted  verified: not delivered \(CHAIN\)  dane: -' &&
   t_pane_has Findings 'E cert-expired: The leaf certificate expired on [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z \(-[0-9]+ days? left\)\.'; then
    ok "the findings pane names cert-expired and the verified sender's verdict"
else fail "the findings pane names cert-expired and the verified sender's verdict"; fi

# the certificate: thumbprint and expiry
t_keys Tab Tab
t_until 3 t_title_is Chain '\[Chain: expired\]' >/dev/null
t_keys Enter
C="Certificate depth 0"
if t_until 5 t_pane_has "$C" '   SHA-1:        [0-9A-F]{40}   \(Exchange thumbprint\)' &&
   t_pane_has "$C" '   Not after:    [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z \(-[0-9]+ days? left\)' &&
   t_pane_has "$C" '   Subject:      CN=mx\.lab\.mxscope\.test, O=mxscope lab \(expired\)' &&
   t_pane_has "$C" '     - expired: the certificate has expired'; then
    ok "certificate detail: thumbprint, expiry date, the expired flag in words"
else fail "certificate detail: thumbprint, expiry date, the expired flag in words"; t_screen | sed 's/^/# /'; fi
shown=$(t_pane "$C" | sed -n 's/^   SHA-1: *\([0-9A-F]*\) .*/\1/p')
t_keys Escape
t_until 3 t_title_is Chain '\[Chain: expired\]' >/dev/null

# save, with history: the save command comes back with Up
t_cmd "save $T_DIR/session.txt"
if t_until 5 t_status_is " .* \[lab:expired\] \| finished \| saved text to $T_DIR/se.*" && [ -s "$T_DIR/session.txt" ]; then
    ok "save writes the transcript"; else fail "save writes the transcript"; fi
if [ -n "$shown" ] && [ "$(sed -n 's/^# SHA-1 //p' "$T_DIR/session.txt" | head -1)" = "$shown" ]; then
    ok "the thumbprint shown is the served leaf's (the saved transcript's first SHA-1)"
else fail "the thumbprint shown is the served leaf's" "shown '$shown'"; fi
t_keys ':'; sleep 0.1; t_keys Up
t_assert "Up recalls the last command" 3 t_prompt_is "mxscope> save $T_DIR/session.txt"
t_keys C-u Escape
t_screen > "$T_DIR/live"
t_keys q
t_assert "q quits at once once saved" 5 t_exited 0

# another run loads the saved transcript back: same steps, chain, findings
t_start --load "$T_DIR/session.txt"
t_assert "--load opens the saved transcript" 8 t_status_is \
    ' mx\.lab\.mxscope\.test:[0-9]+ \| replay \| replaying a saved session \(read-only\)'
for p in Steps Chain Findings; do
    perl "$T_PL" pane $p < "$T_DIR/live" > "$T_DIR/live-$p"
    if [ "$(t_pane $p)" = "$(cat "$T_DIR/live-$p")" ]; then ok "the loaded session's $p pane is the live one"
    else fail "the loaded session's $p pane is the live one"; t_pane $p | diff "$T_DIR/live-$p" - | sed 's/^/# /'; fi
done
finish
