#!/bin/sh
# search.sh - search the way less and vi do (issue 11), at 80x24 (NO_COLOR,
# TERM=vt100), 120x40 and 200x60:
#   - in the Exchange, while a search is active n/N mean next/previous match
#     and the status bar says so (and that Space still steps); going round
#     the end says "search hit BOTTOM, continuing at TOP"; Esc clears the
#     search and n steps again; `open` starts without the old search;
#   - in every overlay (here the help and a report) / n N search, with the
#     same words;
#   - overlays wrap at spaces: a 64-digit SHA-256 is never split.
# Every check reads what only that action draws: the status bar's message
# or hints, the Exchange title, an overlay's rows.
. tests/lib.sh
. tests/console/tmux.inc

one_size() { # cols rows env
    T_COLS=$1 T_ROWS=$2 T_ENV=$3
    tag="${1}x$2${3:+ $3}"
    t_start --lab
    t_until 10 t_status_is ' .* \[lab:good\] \| RESOLVE pending \| .*' >/dev/null
    t_cmd "set keep-open off"   # a whole run, QUIT too (the console keeps the session open)
    t_keys r
    t_until 15 t_step_is QUIT '[✓-] QUIT .*' >/dev/null
    t_keys Tab     # Steps -> Exchange
    t_keys /
    t_type "connection closed"
    t_keys Enter
    t_assert "$tag: / finds QUIT's line" 5 t_status_is ' .* \| match at line [0-9]+ of [0-9]+'
    t_keys j       # any key clears the message: the hints in force show
    t_assert "$tag: during a search the status bar gives n/N/Esc their meaning" 5 \
        t_status_is ' .* \| n next match  N previous.*'
    t_assert "$tag: the Exchange title shows the search" 3 t_title_is Exchange '.*Exchange.* /connection closed.*'
    t_keys n       # the only match: round the end
    t_assert "$tag: n past the last match says it continues at the top" 5 \
        t_status_is ' .*\| search hit BOTTOM, continuin.*'
    t_keys Escape
    t_assert "$tag: Esc clears the search" 5 t_status_is ' .*\| search cleared: n steps again'
    t_keys j
    t_assert "$tag: after Esc, n steps again (the hints say so)" 5 t_status_is ' .* \| n step  r run .*'
    t_keys /
    t_type "EHLO"
    t_keys Enter
    t_until 5 t_status_is ' .* \| match at .*' >/dev/null
    t_cmd "open lab:expired"
    t_until 10 t_status_is ' .* \[lab:expired\] \| .*' >/dev/null
    if t_title_is Exchange '[^/]*'; then ok "$tag: open starts without the old search"
    else fail "$tag: open starts without the old search" "$(t_title Exchange)"; fi

    # The help: / n N as in the Exchange.
    t_keys '?'
    t_until 5 t_pane_has Help ' Keys \(panes\)' >/dev/null
    t_keys /
    t_type "leave"
    t_keys Enter
    t_assert "$tag: / in the help finds 'leave' (quit's line)" 5 t_status_is ' .* \| match at line [0-9]+ of [0-9]+'
    t_keys n
    t_assert "$tag: n in the help goes round the end and says so" 5 \
        t_status_is ' .*\| search hit BOTTOM, continuin.*'
    t_keys N
    t_assert "$tag: N in the help goes round the top and says so" 5 \
        t_status_is ' .*\| search hit TOP, continuin.*'
    t_keys q
    # A report overlay: a SHA-256 whole on one row, whatever the width.
    t_cmd "set keep-open off"   # a whole run, QUIT too (the console keeps the session open)
    t_keys r
    t_until 15 t_step_is QUIT '[✓-] QUIT .*' >/dev/null
    t_cmd "show cert 0"
    if t_until 5 t_pane_has "Certificate depth 0" '.*[0-9A-F]{64}.*'; then
        ok "$tag: the certificate's SHA-256 stays whole on one row (word wrap)"
    else fail "$tag: SHA-256 whole" "$(t_screen | head -20)"; fi
    t_keys q
    t_keys q
    t_until 5 t_exited 0 >/dev/null
}
one_size 80 24 "NO_COLOR=1 TERM=vt100"
one_size 120 40 ""
one_size 200 60 ""
finish
