#!/bin/sh
# timeline.sh - the timeline (issue 11): `t` shows every step with its start
# offset, its duration and a bar on one scale; the running step shows its
# elapsed time as well as the time left, live.  On the lab's slow banner
# (5 s) the BANNER bar is longer than the quick steps'.  Read from the overlay's own rows.
. tests/lib.sh
. tests/console/tmux.inc

bar='\|[ █]*█[ █]*\|'
# cells of STEP's bar
cells() { t_pane Timeline | grep -E "^ . $1 " | sed 's/[^█]//g' | tr -d '\n' | wc -m; }
elapsed() { t_pane Timeline | sed -n 's/^ ▶ BANNER .* \([0-9]*\.[0-9]\)s in, [0-9]*s left .*/\1/p'; }
# The overlay's rows: its header, the axis, one row per step (in order).
steps_are() { t_pane Timeline | grep -E '^ [^ ] [A-Z0-9]+ ' | t_lines_are "$@"; }
head_is() {
    t_pane Timeline | head -n 4 | t_lines_are \
        " Each step's start \(from the first step's\), how long it took, and a bar( on)?" \
        " (on )?one scale for the whole run: the gaps are the time between steps\." \
        '   step       start      took +0 s +[0-9]+\.[0-9]{3} s'
}

for variant in "100 30" "80 24 NO_COLOR=1 TERM=vt100"; do
    set -- $variant
    T_COLS=$1 T_ROWS=$2; shift 2; T_ENV="$*"
    tag="${T_COLS}x$T_ROWS${T_ENV:+ $T_ENV}"
    t_start --lab slow-banner
    t_until 10 t_status_is ' .* \[lab:slow-banner\] \| .*' >/dev/null
    t_keys n; t_until 5 t_step_is RESOLVE '- RESOLVE .*' >/dev/null
    t_keys n; t_until 5 t_step_is CONNECT '✓ CONNECT .*' >/dev/null
    t_keys n; t_until 5 t_step_is BANNER '▶ BANNER .*' >/dev/null
    t_keys t
    t_assert "$tag: t opens the timeline: its header and the scale" 5 head_is
    t_assert "$tag: each step; the running one with elapsed time and time left" 5 steps_are \
        ' - RESOLVE +- +skipped' \
        " ✓ CONNECT +\+0\.000s +[0-9]+ ms +$bar" \
        " ▶ BANNER +\+[0-9]+\.[0-9]{3}s +[0-9]+\.[0-9]s in, [0-9]+s left +$bar" \
        ' · EHLO +- +pending' ' · STARTTLS +- +pending' ' · HANDSHAKE +- +pending' ' · CHAIN +- +pending' \
        ' · EHLO2 +- +pending' ' · QUIT +- +pending'
    a=$(elapsed); sleep 1.5; b=$(elapsed)
    if [ -n "$a" ] && [ -n "$b" ] && [ "$(echo "$b > $a" | bc)" = 1 ]; then
        ok "$tag: the timeline is live (BANNER ${a}s, then ${b}s)"
    else fail "$tag: the timeline is live" "got '$a' then '$b'"; fi
    t_keys q r
    t_until 20 t_step_is QUIT '[✓-] QUIT .*' >/dev/null
    t_keys t
    t_assert "$tag: after the run every step that ran has its start, duration and bar" 5 steps_are \
        ' - RESOLVE +- +skipped' \
        " ✓ CONNECT +\+0\.000s +[0-9]+ ms +$bar" " ! BANNER +\+[0-9.]+s +[0-9]+ ms +$bar" \
        " ✓ EHLO +\+[0-9.]+s +[0-9]+ ms +$bar" " ✓ STARTTLS +\+[0-9.]+s +[0-9]+ ms +$bar" \
        " ✓ HANDSHAKE +\+[0-9.]+s +[0-9]+ ms +$bar" " ✓ CHAIN +\+[0-9.]+s +[0-9]+ ms +$bar" \
        " ✓ EHLO2 +\+[0-9.]+s +[0-9]+ ms +$bar" " ✓ QUIT +\+[0-9.]+s +[0-9]+ ms +$bar"
    bn=$(cells BANNER); longest=1
    # (the lab's side handshake without ECDSA waits for the slow banner too)
    for s in CONNECT EHLO STARTTLS CHAIN EHLO2 QUIT; do
        [ "$(cells $s)" -lt "$bn" ] || longest=0
    done
    [ "$longest" = 1 ] && ok "$tag: the bars are scaled: the 5 s banner's is longer than the quick steps' ($bn cells)" ||
        fail "$tag: the bars are scaled: the 5 s banner's is longer than the quick steps'" "$(t_pane Timeline)"
    t_keys q q y; t_until 5 t_exited 0 >/dev/null
done
finish
