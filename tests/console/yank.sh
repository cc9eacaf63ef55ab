#!/bin/sh
# yank.sh - copy the selected certificate's thumbprint or PEM (issue 11):
# `yank sha1|sha256|pem FILE` writes the certificate selected in the Chain
# pane to FILE (mode 0600), whole; with --osc52 it also goes to the
# terminal's clipboard as OSC 52, which tmux (set-clipboard on) turns into a
# paste buffer; without --osc52 nothing reaches the clipboard.  The values
# are checked against the same session's JSON (the lab makes new
# certificates at every start) and, for the PEM, against openssl.
. tests/lib.sh
. tests/console/tmux.inc
need jq
need openssl

json_cert() { jq -r ".chain[$1].$2" "$T_DIR/s.json"; }
buffer() { tmux -L "$T_SOCK" show-buffer 2>/dev/null; }
# The lab's good server run to the end (tmux passing OSC 52 on), and the
# session saved as JSON: the values to compare with.
run_saved() {
    t_run_lab good "$@"
    tmux -L "$T_SOCK" set-option -g set-clipboard on
    t_cmd "save json $T_DIR/s.json"
    t_until 5 t_status_is ' .* \| saved json to .*' >/dev/null
}

# 200 columns: the status bar has room for a SHA-256 and the path.
T_COLS=200 T_ROWS=50
run_saved
[ -s "$T_DIR/s.json" ] || fail "the session's JSON" "not saved"

# The intermediate selected in the Chain pane (Tab Tab: Steps, Exchange,
# Chain; j: depth 1).
t_keys Tab Tab j
t_cmd "yank sha256 $T_DIR/y256"
want=$(json_cert 1 sha256)
t_assert "yank sha256 FILE says what it wrote" 5 t_status_is \
    " .* \| SHA-256 of certificate 1, written to .*/y256: $want"
[ "$(cat "$T_DIR/y256" 2>/dev/null)" = "$want" ] && ok "the file holds the selected certificate's SHA-256 (depth 1)" ||
    fail "the file holds the selected certificate's SHA-256 (depth 1)" "got '$(cat "$T_DIR/y256" 2>/dev/null)', want '$want'"
[ "$(stat -c %a "$T_DIR/y256" 2>/dev/null)" = 600 ] && ok "the file has mode 0600" ||
    fail "the file has mode 0600" "$(stat -c %a "$T_DIR/y256" 2>/dev/null)"
t_cmd "yank pem $T_DIR/y.pem"
t_until 5 t_status_is ' .* \| PEM of certificate 1, written to .*/y\.pem \([0-9]+ bytes\)' >/dev/null
got=$(openssl x509 -in "$T_DIR/y.pem" -noout -fingerprint -sha1 2>/dev/null | sed 's/.*=//; s/://g')
[ "$got" = "$(json_cert 1 sha1)" ] && ok "yank pem FILE: the certificate itself (openssl's SHA-1 matches)" ||
    fail "yank pem FILE: the certificate itself (openssl's SHA-1 matches)" "got '$got'"
t_cmd "yank sha1"
t_assert "yank without FILE or --osc52 says how to copy" 5 t_status_is \
    " .* \| not copied \(start with --osc52\): SHA-1 of certificate 1: $(json_cert 1 sha1)"
if buffer >/dev/null; then fail "without --osc52 nothing reaches the clipboard" "a tmux buffer: $(buffer)"
else ok "without --osc52 nothing reaches the clipboard"; fi
t_cmd "yank md5"
t_assert "yank with an unknown kind says which there are" 5 t_status_is \
    " .* \| yank: sha1, sha256 or pem, not 'md5'"
# The help lists it: its commands come from the command table.
t_keys '?'
t_until 3 t_title_is Help '\[Help .*' >/dev/null
t_keys /; t_type 'yank sha1'; t_keys Enter
t_assert "? lists yank (from the command table)" 3 t_pane_has Help ' yank sha1\|sha256\|pem \[FILE\]'
t_keys q
t_keys q y; t_until 5 t_exited 0 >/dev/null

# --osc52: the leaf's SHA-1 (nothing selected) in tmux's paste buffer.
run_saved --osc52
t_cmd "yank sha1"
want=$(json_cert 0 sha1)
t_assert "--osc52: the status bar says it was copied" 5 t_status_is \
    " .* \| copied \(OSC 52\): SHA-1 of certificate 0: $want"
t_assert "--osc52: the leaf's SHA-1 is in the terminal's clipboard (tmux buffer)" 5 \
    sh -c "[ \"\$(tmux -L '$T_SOCK' show-buffer 2>/dev/null)\" = '$want' ]"
t_keys q y; t_until 5 t_exited 0 >/dev/null
finish
