#!/bin/sh
# layout.sh - panes sized by their content (issue 11): the Chain has the
# rows its certificates take (a name row and a SHA-1 row each), the
# Findings the rows their verdict and advice take, up to all that is left;
# the verdict is never cut, and what does not fit says so in the title;
# the Exchange takes the rows neither needs.
# (Before: at 120x40 the Findings had 7 rows and cut the advice while the
# Chain had 15 empty ones.)  Whole regions: the Findings and Chain panes
# row by row, at 80x24 (NO_COLOR, TERM=vt100), 120x40 and 200x60.
. tests/lib.sh
. tests/console/tmux.inc

run_lab() { t_run_lab "$1"; sleep 0.5; }
rows() { t_pane "$1" | wc -l; }
blank_rows() { t_pane "$1" | grep -c '^$'; }
# The chain of lab:expired, whole: two certificates, a thumbprint row each
# (the rows below it, when the Findings need none of them, are empty).
chain_content() {
    t_pane Chain | head -n 4 | t_lines_are \
        '0 mx\.lab\.mxscope\.te.* +-[0-9]+d ✗' '  SHA-1 [0-9A-F]+…?' \
        '1 mxscope lab .* +[0-9]+d ✓' '  SHA-1 [0-9A-F]+…?'
}
# ... and not one row more: when the Findings need the rows.
chain_whole() { [ "$(rows Chain)" = 4 ] && chain_content; }
# Every row of the Findings in view, its last the advice's end: nothing cut,
# no empty row, no range in the title.
findings_whole() {
    [ "$(blank_rows Findings)" = 0 ] && t_title_is Findings 'Findings & verdict' &&
        t_pane Findings | head -n 1 | grep -qxE "$1" &&
        t_pane Findings | tail -n 1 | grep -qxE '.*domain security\)\. *'
}

T_COLS=120 T_ROWS=40 T_ENV=""
run_lab expired
t_assert "120x40: the Findings show every row of the advice" 5 findings_whole \
    'Verdict:  opportunistic: encrypted  required: encrypted  verified: not delivered \(CHAIN\)  dane: -  mta-sts: - *'
t_assert "120x40: the Chain shows its certificates with their thumbprints" 3 chain_content
t_keys q y; t_until 5 t_exited 0 >/dev/null

T_COLS=200 T_ROWS=60
run_lab expired
t_assert "200x60: the Findings show every row of the advice, and no empty row" 5 findings_whole \
    'Verdict:  opportunistic: encrypted  required: encrypted  verified: not delivered \(CHAIN\)  dane: -  mta-sts: - *'
# The Exchange takes what neither needs: it reaches down to the Findings.
ex_to_findings() {
    [ "$(rows Exchange)" -eq $((60 - 2 - $(rows Findings) - 2 - 2)) ]
}
t_assert "200x60: the Exchange takes the rows the Findings do not need" 3 ex_to_findings
t_keys q y; t_until 5 t_exited 0 >/dev/null

T_COLS=80 T_ROWS=24 T_ENV="NO_COLOR=1 TERM=vt100"
run_lab expired
# Too small for all: the verdict whole, then as much as fits, and the title
# says which rows are in view; the Chain keeps only its content.
verdict_first() {
    t_pane Findings | head -n 2 | t_lines_are \
        'Verdict:  opportunistic: encrypted  required: encrypted *' \
        '          verified: not delivered \(CHAIN\)  dane: -  mta-sts: - *' &&
        t_title_is Findings 'Findings & verdict 1-[0-9]+/[0-9]+'
}
t_assert "80x24 vt100: the verdict whole, the title says what is in view" 5 verdict_first
t_assert "80x24 vt100: the Chain has its rows and no empty one" 3 chain_whole
t_keys Tab Tab Tab G
t_assert "80x24 vt100: the end of the Findings is reachable (G)" 3 sh -c \
    "tmux -L '$T_SOCK' capture-pane -p | LC_ALL=C.UTF-8 perl '$T_PL' pane Findings | tail -n 1 | grep -qxE '.*domain security\)\. *'"
t_keys q y; t_until 5 t_exited 0 >/dev/null
finish
