#!/bin/sh
# tests/console/newcomer.sh - the console issue's "done means", as one
# journey: from what `make run` opens (mxscope --lab), a person who has never
# seen mxscope steps a handshake, finds the expired certificate in the chain
# pane, reads its SHA-1 thumbprint and expiry date, types a command with
# completion and history, saves the transcript, and another run loads it back.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tmux.inc"

t_start --lab
if t_wait "try: open lab:expired" 8; then ok "first screen says where a broken server is"
else fail "first screen says where a broken server is"; fi

# completion: "open lab:expire" + Tab -> "open lab:expired" ("exp" alone also
# matches expiring-soon: Tab stops at the common "expir")
t_keys ':'; sleep 0.1; t_type "open lab:expire"; t_keys Tab
if t_wait "open lab:expired" 3; then ok "Tab completes the lab scenario"; else fail "Tab completes the lab scenario"; fi
t_keys Enter
if t_wait "[lab:expired]" 8; then ok "open lab:expired switches the target"; else fail "open lab:expired switches the target"; fi

# step the handshake one key at a time
t_keys n n n n n n
if t_wait "HANDSHAKE" 8 && t_wait "TLSv1.3" 8; then ok "n steps through to the handshake"; else fail "n steps through to the handshake"; fi
t_keys r
if t_wait "| finished" 15; then ok "r runs the rest"; else fail "r runs the rest"; fi
if t_screen | grep -qE '│0 mx\.lab\.mxscope\.test +-[0-9]+d ✗'; then ok "the chain pane marks the expired leaf"
else fail "the chain pane marks the expired leaf"; t_screen | sed 's/^/# /'; fi
if t_screen | grep -qF "cert-expired"; then ok "the findings pane names cert-expired"; else fail "findings pane cert-expired"; fi

# the certificate: thumbprint and expiry
t_keys Tab Tab
t_wait "[Chain" 3 || true
t_keys Enter
if t_wait "Certificate depth 0" 5 && t_screen | grep -qE 'SHA-1: +[0-9A-F]{40} +\(Exchange thumbprint\)' &&
   t_screen | grep -qE 'Not after: +[0-9]{4}-[0-9]{2}-[0-9]{2}T.* \(-[0-9]+ days left\)' &&
   t_screen | grep -qF "expired:"; then
    ok "certificate detail: thumbprint, expiry date, the expired flag in words"
else fail "certificate detail"; t_screen | sed 's/^/# /'; fi
t_keys Escape
t_gone "Certificate depth 0" 3 || true

# save, with history: the save command comes back with Up
t_cmd "save $T_DIR/session.txt"
if t_wait "saved" 5 && [ -s "$T_DIR/session.txt" ]; then ok "save writes the transcript"; else fail "save writes the transcript"; fi
t_keys ':'; sleep 0.1; t_keys Up
if t_wait "mxscope> save $T_DIR/session.txt" 3; then ok "Up recalls the last command"; else fail "Up recalls the last command"; fi
t_keys C-u Escape
t_keys q
t_wait "MXS-EXIT=" 5 || { t_keys y; t_wait "MXS-EXIT=" 5; }

# another run loads the saved transcript back: same chain, same finding
t_start --load "$T_DIR/session.txt"
if t_wait "replaying a saved session" 8 || t_wait "lab:expired" 2; then ok "--load opens the saved transcript"
else fail "--load opens the saved transcript"; fi
if t_screen | grep -qE '│0 mx\.lab\.mxscope\.test +-[0-9]+d ✗' && t_screen | grep -qF "cert-expired"; then
    ok "the loaded session shows the expired leaf and the finding"
else fail "the loaded session"; t_screen | sed 's/^/# /'; fi
finish
