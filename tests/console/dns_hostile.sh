#!/bin/sh
# Hostile DNS in the console: an MX target with an ESC inside a label
# (tests/fixtures/dnssrv.py, ctl.hostile.test) is skipped as senders skip it;
# the Findings pane names it, the Exchange pane's DNS line shows it escaped
# (its whole line with Enter), and no raw control byte reaches the screen.
# Owner: DNS module.
. tests/lib.sh
need python3
need ss
. tests/console/tmux.inc

TS='\+ +[0-9]+\.[0-9]{3}s'   # an Exchange row's time offset
echo "example.test. 3600 IN DS 12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF" > "$T_DIR/ta.key"
srv=""
for try in 1 2 3 4 5; do
    port=$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 12000 + 20000 ))   # below the ephemeral range (32768-)
    ss -Hlnu "sport = :$port" | grep -q . && continue
    python3 tests/fixtures/dnssrv.py --port "$port" --log "$T_DIR/dns.log" 2> "$T_DIR/dns.err" &
    srv=$!
    n=50; while [ $n -gt 0 ] && kill -0 $srv 2>/dev/null && ! ss -Hlnt "sport = :$port" | grep -q .; do sleep 0.1; n=$((n - 1)); done
    kill -0 $srv 2>/dev/null && [ $n -gt 0 ] && break
    kill $srv 2>/dev/null; srv=""
done
[ -n "$srv" ] || { fail "dnssrv up" "$(cat "$T_DIR/dns.err")"; exit 1; }

t_start --resolver "127.0.0.1@$port" --trust-anchor "$T_DIR/ta.key" --port 1 ctl.hostile.test
t_assert "RESOLVE fails: no MX target is a host name" 10 t_step_is RESOLVE '✗ RESOLVE   [0-9]+ ms'
t_assert "the Findings pane names the skipped target" 5 t_pane_has "Findings & verdict" \
    'E mx-target-invalid: MX target 1 of ctl\.hostile\.test \(preference 10\) is not a host name: it *'
if t_pane_has Exchange "$TS RESOLVE   D: MX ctl\.hostile\.test: no usable MX record"; then
    ok "the Exchange pane has the MX answer"
else fail "the Exchange pane has the MX answer"; t_pane Exchange | sed 's/^/# /'; fi
# Enter on the Exchange: the overlay of whole lines, the MX line's rows
# joined (continuation rows are indented).
t_keys Tab; sleep 0.3; t_keys Enter
t_until 5 t_pane_has "Transcript (whole lines)" '.*\[insecure\]' > /dev/null
t_pane "Transcript (whole lines)" | sed -n '/D: MX ctl/,/insecure]/p' | sed 's/^ *//' | tr '\n' ' ' > "$T_DIR/mxline"
want='D: MX ctl.hostile.test: no usable MX record (1 target not a host name, skipped as senders do: 10 \x1B[31mevil.hostile.test) [insecure]'
case "$(cat "$T_DIR/mxline")" in
*"$want"*) ok "Enter on the Exchange shows the MX line whole, the ESC escaped" ;;
*) fail "Enter on the Exchange shows the MX line whole, the ESC escaped" "$(cat "$T_DIR/mxline")" ;;
esac
t_keys Escape
t_cmd "dump $T_DIR/d.txt"
if t_until 5 t_status_is " .* \| screen written to $T_DIR/d\.txt" &&
   ! LC_ALL=C grep -qP '[\x00-\x08\x0B-\x1F\x7F]' "$T_DIR/d.txt"; then
    ok "no raw control byte on the screen"
else fail "no raw control byte on the screen"; fi
if grep -q 'x1b' "$T_DIR/dns.log"; then fail "no query for the ESC name" "$(grep x1b "$T_DIR/dns.log" | head -2)"
else ok "no query for the ESC name"; fi
kill $srv 2>/dev/null
finish
