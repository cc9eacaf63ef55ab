#!/bin/sh
# Talking to the server after a run: `r` keeps the session open before QUIT,
# `send` works at once; a whole message in DATA mode (body lines are not
# answered, a leading "." is doubled and the pane says so, "." waits for the
# final reply); the operator's QUIT closes the session and the QUIT step
# says so.  Against the world's real Postfix (it rejects every RCPT TO, so
# DATA gets 554 there), the lab (it takes a message and discards it) and a
# scripted server that answers "." only after a pause (tests/fixtures/
# scriptsrv).  Each check reads the region the action changes: the Steps
# pane, the Exchange rows new since the command, the status bar.
. tests/lib.sh
world_env
. tests/console/tmux.inc

TS='\+ +[0-9]+\.[0-9]{3}s'   # an Exchange row's time offset
NO='[0-9]+ ms'
TLS_OUT="$TS -         T> TLS application_data\(23\) TLSv1\.2, [0-9]+ byte.*"
TLS_IN="$TS -         T< TLS application_data\(23\) TLSv1\.2, [0-9]+ byte.*"
send_cmd() { t_cmd "send $1"; }
# answers NAME LINE PATTERN...: `send LINE`; the Exchange rows new since
# then are PATTERN... (shown when not)
answers() {
    _an=$1; _al=$2; shift 2
    t_snap; send_cmd "$_al"
    if t_until 10 t_new_is Exchange "$@"; then ok "$_an"; else fail "$_an"; t_new Exchange | sed 's/^/# /'; fi
}
# envelope RCPT: MAIL FROM:<> then RCPT TO:<RCPT>, each awaited (250)
envelope() {
    send_cmd "MAIL FROM:<>"
    t_until 5 t_pane_has Exchange "$TS -         S: 250 2\.1\.0 Ok" >/dev/null
    send_cmd "RCPT TO:<$1>"
    t_until 5 t_pane_has Exchange "$TS -         S: 250 2\.1\.5 Ok" >/dev/null
}

# ---- the world's Postfix: r, then send at once -----------------------------
T_COLS=120 T_ROWS=40 T_ENV="NO_COLOR=1 TERM=vt100"   # a plain terminal, another size
t_start --host mx1.example.test --connect "127.0.0.1:$MXS_PORT_GOOD" --cafile "$MXS_CA" --timeout 10
t_until 10 t_status_is " mx1\.example\.test:$MXS_PORT_GOOD \| RESOLVE pending \| .*" >/dev/null
t_keys r
t_until 20 t_step_is EHLO2 "✓ EHLO2 .+" >/dev/null
if t_until 5 t_pane_is Steps '- RESOLVE   skipped' "✓ CONNECT   $NO" "✓ BANNER    $NO" "✓ EHLO      $NO" \
       "✓ STARTTLS  $NO" "✓ HANDSHAKE $NO" "✓ CHAIN     $NO" "✓ EHLO2     $NO" '· QUIT' &&
   t_status_is " mx1\.example\.test:$MXS_PORT_GOOD \| QUIT pending \| .*" &&
   t_pane Exchange | tail -1 | grep -qxE "$TS -         #  session kept open for the operator: QUIT.*" &&
   t_pane_is Findings 'Verdict:  opportunistic: encrypted  required: encrypted  verified: encrypted  dane: -  mta-sts: -' \
       '\(no findings: nothing wrong was seen\)'; then
    ok "r stops before QUIT with the session kept open, the Exchange says so, the findings are final"
else fail "r stops before QUIT with the session kept open, the Exchange says so, the findings are final"; t_screen | sed 's/^/# /'; fi
t_snap
send_cmd "NOOP"
if t_until 10 t_new_is Exchange "$TS -         C: NOOP" "$TLS_OUT" "$TLS_IN" "$TS -         S: 250 2\.0\.0 Ok" &&
   t_status_is " .* \| QUIT pending \| sent: NOOP"; then
    ok "send NOOP right after r: 250 from Postfix over TLS"
else fail "send NOOP right after r: 250 from Postfix over TLS"; t_new Exchange | sed 's/^/# /'; fi
answers "send MAIL FROM:<> is answered 250 2.1.0" "MAIL FROM:<>" "$TS -         C: MAIL FROM:<>" "$TLS_OUT" "$TLS_IN" \
    "$TS -         S: 250 2\.1\.0 Ok"
answers "send RCPT TO: Postfix refuses it (its relay rules: 554 5.7.1)" "RCPT TO:<postmaster@example.test>" \
    "$TS -         C: RCPT TO:<postmaster@example\.test>" "$TLS_OUT" "$TLS_IN" "$TS -         S: 554 5\.7\.1 <postmaster@exa.*"
t_snap
send_cmd "DATA"
t_until 3 t_status_is ' .* \| Send DATA \(starts a real message\)\? \(y/N\)' >/dev/null
t_keys y
t_assert "DATA without a recipient: 554, no DATA mode" 10 t_new_is Exchange "$TS -         C: DATA" "$TLS_OUT" "$TLS_IN" \
    "$TS -         S: 554 5\.5\.1 Error: no valid recipients"
t_snap
send_cmd "QUIT"
if t_until 10 t_new_is Exchange "$TS -         C: QUIT" "$TLS_OUT" "$TLS_IN" "$TS -         S: 221 2\.0\.0 Bye" \
       "$TS -         T> TLS .*" "$TS -         #  session closed by the operator's QUIT.*" \
       "$TS QUIT      == QUIT skipped: closed by the operator's Q.*" &&
   t_step_is QUIT '- QUIT      skipped' && t_status_is " .* \| finished \| sent: QUIT"; then
    ok "send QUIT: 221 closes the session; the QUIT step says it was the operator's"
else fail "send QUIT: 221 closes the session; the QUIT step says it was the operator's"; t_new Exchange | sed 's/^/# /'; fi
t_snap
send_cmd "NOOP"
if t_until 5 t_status_is " .* \| finished \| send: the session was closed by the operator's QUIT .*" && t_new_is Exchange; then
    ok "after the operator's QUIT nothing more is sent"
else fail "after the operator's QUIT nothing more is sent"; fi
t_keys q y
t_until 5 t_exited 0 >/dev/null

# ---- the lab: a whole message in DATA mode -----------------------------------
T_COLS=100 T_ROWS=30 T_ENV=
t_start --lab
t_until 10 t_status_is ' .* \[lab:good\] \| RESOLVE pending \| .*' >/dev/null
t_keys r
t_until 20 t_step_is EHLO2 "✓ EHLO2 .+" >/dev/null
envelope postmaster@mx.lab.mxscope.test
t_snap
send_cmd "DATA"
t_until 3 t_status_is ' .* \| Send DATA \(starts a real message\)\? \(y/N\)' >/dev/null
t_keys y
t_assert "354: the Exchange says DATA mode and how it ends" 10 t_new_is Exchange "$TS -         C: DATA" "$TLS_OUT" "$TLS_IN" \
    "$TS -         S: 354 End data with <CR><LF>\.<CR><LF>" "$TS -         #  DATA mode: body lines go out as typed.*"
t_snap
t_keys n
if t_until 3 t_status_is ' .* \| QUIT pending \| in DATA: `send \.` ends the message first' &&
   t_new_is Exchange; then
    ok "n in DATA mode is refused: QUIT would be a line of the message"
else fail "n in DATA mode is refused: QUIT would be a line of the message"; fi
send_cmd "Subject: mxscope"
if t_until 5 t_status_is ' .* \| QUIT pending \| body line sent; `send \.` ends the message' &&
   t_new_is Exchange "$TS -         C: Subject: mxscope" "$TLS_OUT"; then
    ok "a body line goes out without waiting for a reply"
else fail "a body line goes out without waiting for a reply"; t_new Exchange | sed 's/^/# /'; fi
t_snap
send_cmd ".hidden"
if t_until 5 t_status_is ' .* \| body line sent dot-stuffed \(RFC 5321 4\.5\.2\)' &&
   t_new_is Exchange "$TS -         C: \.\.hidden" "$TS -         #  dot-stuffed \(RFC 5321 4\.5\.2\): the line .*" "$TLS_OUT"; then
    ok "a body line starting with . is dot-stuffed, and the pane says so"
else fail "a body line starting with . is dot-stuffed, and the pane says so"; t_new Exchange | sed 's/^/# /'; fi
answers ". ends the message: the lab's final 250" "." "$TS -         C: \." "$TLS_OUT" "$TLS_IN" \
    "$TS -         S: 250 2\.0\.0 Ok: queued nowhere \(the lab dis.*"
answers "after . the session takes commands again" "NOOP" "$TS -         C: NOOP" "$TLS_OUT" "$TLS_IN" "$TS -         S: 250 2\.0\.0 Ok"
t_keys n
if t_until 10 t_step_is QUIT "✓ QUIT      $NO" && t_status_is ' .* \[lab:good\] \| finished \| .*'; then
    ok "n then runs QUIT, the step's own result"
else fail "n then runs QUIT, the step's own result"; fi
t_keys q y
t_until 5 t_exited 0 >/dev/null

# ---- a server that answers only after the message ends, slowly -----------------
SRV=${MXS_SCRIPTSRV:-$MXS_BUILD/fixtures/scriptsrv}
[ -x "$SRV" ] || { fail "data: scriptsrv" "needs $SRV (make tests-bin)"; finish; exit 1; }
cat > "$T_DIR/slow.scn" <<'SCN'
send "220 mx.hostile.test ESMTP\r\n"
expect "EHLO"
send "250-mx.hostile.test\r\n250 PIPELINING\r\n"
expect "STARTTLS"
send "502 5.5.1 no TLS here\r\n"
expect "MAIL"
send "250 2.1.0 Ok\r\n"
expect "RCPT"
send "250 2.1.5 Ok\r\n"
expect "DATA"
send "354 go ahead\r\n"
readline
readline
readline
expect "."
sleep 1500
send "250 2.0.0 Ok: queued as SLOW\r\n"
expect "QUIT"
send "221 2.0.0 Bye\r\n"
SCN
"$SRV" "$T_DIR/slow.scn" --port-file "$T_DIR/port" --lifetime 60 2>"$T_DIR/srv.err" &
srv=$!
n=50; while [ ! -s "$T_DIR/port" ] && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
port=$(cat "$T_DIR/port" 2>/dev/null)
# A reply awaited per body line would wait out these 3 s three times.
t_start --host mx.hostile.test --connect "127.0.0.1:$port" --timeout-ehlo 3
t_until 10 t_status_is " mx\.hostile\.test:$port \| RESOLVE pending \| .*" >/dev/null
t_keys r
t_until 10 t_step_is QUIT '· QUIT' >/dev/null
t_until 10 t_pane_has Exchange "$TS -         #  session kept open for the operator: QUIT.*" >/dev/null
t_cmd "save $T_DIR/held.txt"
t_until 5 t_status_is " .* \| saved text to $T_DIR/held\.txt" >/dev/null
if grep -qE '^\+ +[0-9.]+s STARTTLS  \*\* error ' "$T_DIR/held.txt" &&
   [ "$("$MXS_BIN" --batch --load "$T_DIR/held.txt" --json | jq '.findings | length')" -gt 0 ]; then
    ok "a transcript saved while the session is kept open has the findings (and loads with them)"
else fail "a transcript saved while the session is kept open has the findings (and loads with them)"; grep -F '**' "$T_DIR/held.txt" | sed 's/^/# /'; fi
envelope a@hostile.test
send_cmd "--yes DATA"
t_until 5 t_pane_has Exchange "$TS -         S: 354 go ahead" >/dev/null
t_snap
start=$(date +%s%N)
send_cmd "line one"; send_cmd "line two"; send_cmd "line three"
if t_until 2 t_new_is Exchange "$TS -         C: line one" "$TS -         C: line two" "$TS -         C: line three" &&
   [ $(( ($(date +%s%N) - start) / 1000000 )) -lt 2500 ]; then
    ok "three body lines go out at once while the server is silent (no reply awaited, no 3 s wait each)"
else fail "three body lines go out at once while the server is silent (no reply awaited, no 3 s wait each)"; t_new Exchange | sed 's/^/# /'; fi
answers ". waits for the slow final reply (1.5 s) and shows it" "." "$TS -         C: \." "$TS -         S: 250 2\.0\.0 Ok: queued as SLOW"
t_keys r
if t_until 5 t_step_is QUIT "✓ QUIT      $NO" && t_status_is " mx\.hostile\.test:$port \| finished \| .*"; then
    ok "r again runs QUIT on the session kept open"
else fail "r again runs QUIT on the session kept open"; fi
if grep -q 'mismatch' "$T_DIR/srv.err"; then
    fail "the server got the lines it expected, in order" "$(cat "$T_DIR/srv.err")"
else ok "the server got the lines it expected, in order"; fi
t_keys q y
t_until 5 t_exited 0 >/dev/null
kill $srv 2>/dev/null
finish
