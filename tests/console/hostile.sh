#!/bin/sh
# A banner and EHLO reply full of terminal escape sequences must show as
# visible text and leave the screen intact (tests/fixtures/scriptsrv).
. tests/lib.sh
. tests/console/tmux.inc

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
t_wait "Steps" 10 >/dev/null
t_keys n; sleep 0.3; t_keys n; sleep 0.3; t_keys n
if t_wait 'S: 220 EVIL\x1B[2J\x1B]0;pwned\x07' 10; then
    ok "escape sequences in the banner are shown escaped"
else fail "escape sequences in the banner are shown escaped"; fi
t_keys n
if t_wait 'OVERWRITE' 10 && t_screen | grep -qF 'S: 250-hello \x1B[5;1H\x1B[KOVERWRITE'; then
    ok "escape sequences in EHLO lines are shown escaped"
else fail "escape sequences in EHLO lines are shown escaped"; fi
s=$(t_screen)
if echo "$s" | head -1 | grep -q "Steps" && echo "$s" | grep -q "Findings" &&
   [ "$(echo "$s" | LC_ALL=C.UTF-8 wc -L)" -le 100 ] && ! echo "$s" | sed -n 6p | grep -q '^OVERWRITE'; then
    ok "the screen layout is intact"
else fail "the screen layout is intact"; echo "$s" | sed 's/^/# /'; fi
t_keys Escape
t_cmd "dump $T_DIR/d.txt"
if t_wait "screen written" 5 && grep -qF 'EVIL' "$T_DIR/d.txt" && ! grep -q "$(printf '\033')" "$T_DIR/d.txt"; then
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
t_wait "Steps" 10 >/dev/null
t_keys n n n
t_wait "S: 220 mx.hostile.test" 10 >/dev/null
if t_screen | grep -qF "END-OF-LONG-LINE"; then fail "long line test" "the pane is wide enough to show it: test is void"
else ok "a long line is cut at the Exchange pane's edge"; fi
t_keys Tab; sleep 0.3; t_keys Enter
if t_wait "Transcript (whole lines)" 5 && t_wait "END-OF-LONG-LINE" 3; then
    ok "Enter on the Exchange shows the whole line, wrapped"
else fail "Enter on the Exchange shows the whole line, wrapped"; fi
t_keys Escape
kill $srv 2>/dev/null
finish
