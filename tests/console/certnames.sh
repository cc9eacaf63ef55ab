#!/bin/sh
# Certificate names in the Chain pane (tests/fixtures/scriptsrv, issue 14):
# a CN full of ESC, C1, bidi, UTF-8 and NUL shows escaped once; a 5,120-byte
# CN shows its first characters and "…(5120 bytes)" in the row, never an
# empty name; the certificate detail (Enter) says the whole length.
. tests/lib.sh
. tests/console/tmux.inc

SRV=${MXS_SCRIPTSRV:-$MXS_BUILD/fixtures/scriptsrv}
[ -x "$SRV" ] || { fail "certificate names" "needs $SRV (make tests-bin)"; exit 1; }

# serve SCENARIO N: scriptsrv playing that hostile scenario (its leaf has the
# names; port file port.N, its CA ca.N.pem), and the console on it running
# every step
serve() {
    "$SRV" "tests/hostile/scenarios/$1.scn" --port-file "$T_DIR/port.$2" --ca-file "$T_DIR/ca.$2.pem" \
        --lifetime 60 2>>"$T_DIR/srv.err" &
    srv=$!
    n=50; while [ ! -s "$T_DIR/port.$2" ] && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
    [ -s "$T_DIR/port.$2" ] || { fail "certificate names" "scriptsrv did not start"; exit 1; }
    t_start --host mx.hostile.test --connect "127.0.0.1:$(cat "$T_DIR/port.$2")" \
        --cafile "$T_DIR/ca.$2.pem" --dual-cert off
    t_until 10 t_status_is " mx\.hostile\.test:[0-9]+ \| RESOLVE pending \| .*" >/dev/null
    t_cmd "set keep-open off"   # a whole run, QUIT too (the console keeps the session open)
    t_keys r
}

# open_leaf: focus the Chain (Steps -> Exchange -> Chain), open certificate 0
open_leaf() { t_keys Tab Tab; sleep 0.3; t_keys Enter; }

serve cert-names-escaped 1
t_assert "a CN with ESC, C1, bidi, UTF-8 and NUL is escaped once in the Chain pane" 10 \
    t_pane_has Chain '0 esc\\x1B\[31m c1<U\+0085> +[0-9]+d ✗'
open_leaf
t_assert "the detail shows the subject escaped once" 5 \
    t_pane_has "Certificate depth 0" ' *Subject: +O=München \\\\ GmbH, CN=esc\\x1B\[31m c1<U\+0085> bidi<U\+202E> ü nul\\x00end'
# The SAN line is wider than the overlay: its rows joined again (the
# overlay wraps at spaces, continuation rows indented under the value).
joined() { t_pane "Certificate depth 0" | sed 's/^ *//; s/ *$//' | tr '\n' ' '; }
if joined | grep -qE 'SAN: +esc\\x1B\[2J\.example, mx\.hostile\.test\\x00\.evil\.example, +xn--mnchen-3ya\.example ?\(münchen\.example\)'; then
    ok "the detail shows the SANs escaped once, the IDN with its U-label"
else fail "the detail shows the SANs escaped once, the IDN with its U-label" "$(joined | head -c 800)"; fi
t_keys Escape
kill $srv 2>/dev/null

serve cert-name-5k-cn 2
t_assert "a 5,120-byte CN keeps its start and its length in the Chain pane" 10 \
    t_pane_has Chain '0 a+…\(5120 bytes\) +[0-9]+d ✓'
open_leaf
subject_cut() { joined | grep -qE 'Subject: +O=x, +CN=a+'; }
t_assert "the detail shows the cut subject with its whole length" 5 subject_cut
# The marker may wrap at the overlay's edge: its first part is enough.
if t_pane "Certificate depth 0" | grep -qE 'a… \(5128 bytes'; then ok "the detail says the subject's whole length"
else fail "the detail says the subject's whole length" "$(t_screen | tr '\n' '|' | head -c 600)"; fi
t_keys Escape
kill $srv 2>/dev/null
finish
