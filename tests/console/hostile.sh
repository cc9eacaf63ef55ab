#!/bin/sh
# A banner and EHLO reply full of terminal escape sequences must show as
# visible text and leave the screen intact (tests/fixtures/scriptsrv).  Each
# check reads the region the action changes (tests/console/tmux.inc): the
# Exchange rows new since the key, the screen's frame, the window title.
. tests/lib.sh
. tests/console/tmux.inc

TS='\+ +[0-9]+\.[0-9]{3}s'   # an Exchange row's time offset
SRV=${MXS_SCRIPTSRV:-$MXS_BUILD/fixtures/scriptsrv}
[ -x "$SRV" ] || { fail "hostile banner" "needs $SRV (make tests-bin)"; exit 1; }
cat > "$T_DIR/evil.scn" <<'SCN'
send "220 EVIL\e[2J\e]0;pwned\a\e[31m red\e[0m \x9b2J banner\r\n"
expect "EHLO"
send "250-hello \e[5;1H\e[KOVERWRITE\r\n250-\e[?1049l\e[?25l\r\n250 STARTTLS\r\n"
readline
send "221 bye\r\n"
SCN
"$SRV" "$T_DIR/evil.scn" --port-file "$T_DIR/port" --lifetime 60 2>"$T_DIR/srv.err" &
srv=$!
n=50; while [ ! -s "$T_DIR/port" ] && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
[ -s "$T_DIR/port" ] || { fail "hostile banner" "scriptsrv did not start"; kill $srv 2>/dev/null; exit 1; }
port=$(cat "$T_DIR/port")
t_start --host mx.hostile.test --connect "127.0.0.1:$port"
t_until 10 t_status_is " mx\.hostile\.test:$port \| RESOLVE pending \| .*" >/dev/null
t_frame > "$T_DIR/frame"             # the layout before any hostile byte
title=$(tmux -L "$T_SOCK" display -p '#{pane_title}')
t_keys n
t_until 5 t_step_is RESOLVE '- RESOLVE   skipped' >/dev/null
t_keys n
t_until 5 t_step_is CONNECT '✓ CONNECT   [0-9]+ ms' >/dev/null
t_snap; t_keys n
t_assert "escape sequences in the banner are shown escaped" 10 t_new_is Exchange \
    "$TS BANNER    == BANNER started \(deadline 60\.0 s\)" \
    "$TS BANNER    S: 220 EVIL\\\\x1B\[2J\\\\x1B\]0;pwned\\\\x07\\\\x1B\[31m r" \
    "$TS BANNER    == BANNER ok [0-9]+ ms: greeting after [0-9.]+ s"
t_snap; t_keys n
t_assert "escape sequences in EHLO lines are shown escaped" 10 t_new_is Exchange \
    "$TS EHLO      == EHLO started \(deadline 30\.0 s\)" "$TS EHLO      C: EHLO .+" \
    "$TS EHLO      S: 250-hello \\\\x1B\[5;1H\\\\x1B\[KOVERWRITE" \
    "$TS EHLO      S: 250-\\\\x1B\[\?1049l\\\\x1B\[\?25l" \
    "$TS EHLO      S: 250 STARTTLS" "$TS EHLO      == EHLO ok [0-9]+ ms: 2 capabilities, STARTTLS( of?)?"
if [ "$(t_frame)" = "$(cat "$T_DIR/frame")" ] && [ "$(t_screen | wc -L)" -le 100 ] && [ "$(t_screen | wc -l)" = 30 ] &&
   t_status_is " mx\.hostile\.test:$port \| STARTTLS pending \| .*" &&
   [ "$(tmux -L "$T_SOCK" display -p '#{pane_title}')" = "$title" ]; then
    ok "the screen layout is intact: the same frame, status bar, window title"
else fail "the screen layout is intact: the same frame, status bar, window title"; t_screen | sed 's/^/# /'; fi
t_keys Escape
t_cmd "dump $T_DIR/d.txt"
if t_until 5 t_status_is " .* \| STARTTLS pending \| screen written to $T_DIR/d\.txt" &&
   grep -qF 'S: 220 EVIL\x1B[2J\x1B]0;pwned\x07' "$T_DIR/d.txt" && ! grep -q "$(printf '\033')" "$T_DIR/d.txt"; then
    ok "dump FILE writes the screen without control bytes"
else fail "dump FILE writes the screen without control bytes"; fi
kill $srv 2>/dev/null

# A line longer than the Exchange pane: Enter on the Exchange shows it whole.
cat > "$T_DIR/long.scn" <<'SCN'
send "220 mx.hostile.test ESMTP a greeting much longer than the exchange pane is wide, with the part that matters at its very end: END-OF-LONG-LINE\r\n"
sleep 20000
SCN
rm -f "$T_DIR/port2"
"$SRV" "$T_DIR/long.scn" --port-file "$T_DIR/port2" --lifetime 60 2>>"$T_DIR/srv.err" &
srv=$!
n=50; while [ ! -s "$T_DIR/port2" ] && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
t_start --host mx.hostile.test --connect "127.0.0.1:$(cat "$T_DIR/port2")"
t_until 10 t_status_is " mx\.hostile\.test:[0-9]+ \| RESOLVE pending \| .*" >/dev/null
t_keys n n n
t_until 10 t_step_is BANNER '✓ BANNER    [0-9]+ ms' >/dev/null
if t_pane_has Exchange "$TS BANNER    S: 220 mx\.hostile\.test ESMTP a greeting much"; then
    ok "a long line is cut at the Exchange pane's edge"
else fail "a long line is cut at the Exchange pane's edge" "the pane is wide enough to show it: test is void"; fi
t_keys Tab; sleep 0.3; t_keys Enter
W="Transcript (whole lines)"
# the greeting, wrapped: its rows joined (each continuation row indented)
whole() { t_pane "$W" | sed -n '/S: 220 mx\.hostile\.test/,/END-OF-LONG-LINE/p' | sed 's/^ *//' | tr '\n' ' ' | sed 's/ *$//'; }
if t_until 5 t_pane_has "$W" '.*END-OF-LONG-LINE' &&
   whole | grep -qE "S: 220 mx\.hostile\.test ESMTP a greeting much longer than the exchange pane is wide, with the part that matters at its very end: END-OF-LONG-LINE$"; then
    ok "Enter on the Exchange shows the whole line, wrapped"
else fail "Enter on the Exchange shows the whole line, wrapped" "$(whole)"; fi
t_keys Escape
kill $srv 2>/dev/null
finish
