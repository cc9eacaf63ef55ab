#!/bin/sh
# mouse.sh - the mouse (issue 11): a click focuses the pane under the
# pointer and selects a row (a certificate in the Chain, a finding in the
# Findings, a step in the Steps pane, which shows its lines in the
# Exchange); a double-click opens what is under it; the wheel scrolls the
# pane under the pointer, or the overlay; --no-mouse turns it all off.
#
# tmux forwards no mouse of its own here (send-keys -M needs a real one), so
# the test types what a terminal sends once the program has switched mouse
# reporting on: the X10 sequences ESC [ M b x y of TERM=screen's kmous
# (b 32 press, 35 release, 96 wheel up, 97 wheel down; x, y from 33;
# t_mouse takes b - 32).  Each
# check reads what only the mouse can change: the focus moves from Steps,
# a certificate other than the leaf is selected, the Exchange's line range.
. tests/lib.sh
. tests/console/tmux.inc

# t_mouse B X Y: one mouse report, X and Y 0-based screen cells.
t_mouse() {
    t_type "$(printf '\033[M%b%b%b' "\\$(printf %03o $(($1 + 32)))" \
        "\\$(printf %03o $(($2 + 33)))" "\\$(printf %03o $(($3 + 33)))")"
}
t_click() { t_mouse 0 "$1" "$2"; t_mouse 3 "$1" "$2"; }
# row_of TITLE PATTERN: the screen row (0-based) of the first row of box
# TITLE matching PATTERN (a regexp on the row's inside).
row_of() {
    _top=$(t_screen | grep -n -- "$1" | head -1 | cut -d: -f1)
    _in=$(t_pane "$1" | grep -n -E -- "$2" | head -1 | cut -d: -f1)
    [ -n "$_top" ] && [ -n "$_in" ] && echo $((_top - 1 + _in))
}
focused() { for p in Steps Exchange Chain Findings; do t_title "$p" | grep -q '^\[' && echo "$p"; done; }
focus_is() { [ "$(focused)" = "$1" ]; }
range() { t_title Exchange | sed -n 's/.*Exchange \([0-9]*\)-\([0-9]*\)\/\([0-9]*\).*/\1 \2 \3/p'; }

T_COLS=100 T_ROWS=30
t_start --lab expired
t_until 10 t_status_is ' .* \[lab:expired\] \| .*' >/dev/null
t_keys r
t_until 15 t_step_is QUIT '[✓-] QUIT .*' >/dev/null
t_until 3 focus_is Steps >/dev/null

# A click on the intermediate's row: the Chain has the focus and depth 1
# is selected (Enter opens it; with the keyboard alone depth 0 would).
y=$(row_of Chain '^1 mxscope lab ')
t_click 6 "$y"
t_assert "a click on a Chain row focuses the Chain" 3 focus_is Chain
t_keys Enter
t_assert "... and selects that certificate (Enter opens depth 1, not the leaf)" 3 \
    t_title_is "Certificate depth 1" '\[Certificate depth 1 .*'
t_keys q
# The wheel over an overlay scrolls it (the help: its position shows from
# line 4).
t_keys '?'
t_until 3 t_title_is Help '\[Help .*' >/dev/null
t_mouse 65 40 10
t_assert "the wheel scrolls an overlay (3 lines a notch)" 3 \
    sh -c "tmux -L '$T_SOCK' capture-pane -p | grep -qE '└─+ 4/[0-9]+ ─+┘'"
t_keys q

# The wheel scrolls the pane under the pointer, not the focused one.
set -- $(range)
t_mouse 64 60 8
want="$(($1 - 3)) $(($2 - 3)) $3"
t_assert "the wheel over the Exchange scrolls it up 3 lines (the Chain keeps the focus)" 3 \
    sh -c "[ \"\$(tmux -L '$T_SOCK' capture-pane -p | LC_ALL=C.UTF-8 perl '$T_PL' title Exchange | sed -n 's/.*Exchange \([0-9]*\)-\([0-9]*\)\/\([0-9]*\).*/\1 \2 \3/p')\" = '$want' ]"
focus_is Chain && ok "the wheel does not move the focus" || fail "the wheel does not move the focus"

# A click on a step's row: the Exchange from where that step started.
y=$(row_of Steps '^. EHLO ')
t_click 4 "$y"
t_assert "a click on a step focuses the Steps pane" 3 focus_is Steps
t_assert "... and the Exchange shows that step from its start" 3 sh -c \
    "tmux -L '$T_SOCK' capture-pane -p | LC_ALL=C.UTF-8 perl '$T_PL' pane Exchange | head -1 | grep -qxE '\+ +[0-9.]+s EHLO +== EHLO started .*'"
t_assert "... and says so" 3 t_status_is ' .* \| Exchange at EHLO: line [0-9]+ of [0-9]+'

# A click in the Exchange focuses it.
t_click 60 5
t_assert "a click in the Exchange focuses it" 3 focus_is Exchange

# A click on a finding selects it; Enter opens the report at it.
y=$(row_of Findings '^E cert-expired: ')
t_click 10 "$y"
t_assert "a click on a finding focuses the Findings" 3 focus_is Findings
t_keys Enter
t_assert "... Enter opens the report at that finding" 3 \
    t_status_is ' .* \| match at line [0-9]+ of [0-9]+'
t_assert "... its line is in view, highlighted" 3 t_pane_has "Step-by-step report" \
    ' *error +cert-expired +\[CHAIN\] The leaf certificate expired on( .*)?'
t_keys q

# A double-click opens what is under the pointer.
y=$(row_of Chain '^1 mxscope lab ')
t_click 6 "$y"; t_click 6 "$y"
t_assert "a double-click on a certificate opens its detail" 3 \
    t_title_is "Certificate depth 1" '\[Certificate depth 1 .*'
t_keys q
t_keys q; t_until 5 t_exited 0 >/dev/null

# --no-mouse (or MXS_NO_MOUSE=1): no mouse reporting, and the same click
# changes nothing.
for how in --no-mouse MXS_NO_MOUSE=1; do
    case $how in --*) T_ENV=""; set -- "$how" ;; *) T_ENV="$how"; set -- ;; esac
    t_start --lab expired "$@"
    t_until 10 t_status_is ' .* \[lab:expired\] \| .*' >/dev/null
    t_keys r
    t_assert "$how: the console runs as before" 15 t_step_is QUIT '[✓-] QUIT .*'
    y=$(row_of Chain '^1 mxscope lab ')
    t_click 6 "$y"
    sleep 1
    focus_is Chain && fail "$how: a click does not focus" "the Chain took the focus" ||
        ok "$how: a click does not focus"
done
finish
