#!/bin/sh
# The Domains view (issue 13) against the test world: `mxscope --domains
# LIST` without --batch opens the console with the list running; the rows
# come in urgency order (FAIL, then WARN, then ok; rejected lines last) with
# the first failing step, the worst finding and the days left that only the
# run produces; Enter on the expired one opens it as the session (its line's
# --port applied: the status bar names it) and r runs it to the expired
# chain; D returns to the list, which kept its results.  `domains FILE`
# from inside opens another list; Esc cancels it while a domain stalls on
# the slow-banner listener (what finished stays).  --parallel tunes the
# console's list as a batch run's (one domain at a time with --parallel 1).
. tests/lib.sh
world_env
. tests/console/tmux.inc

esc=$(printf '\033')
# line 1 good, 2 expired (its own port), 3 NXDOMAIN, 4 a control byte (rejected),
# 5 an IDN name (NXDOMAIN too: shown as its A-label with the Unicode form beside it)
printf 'example.test -4 --port %s\nexample.test -4 --port %s\nnothere.insecure.test\nbad%sname.test\nbücher.insecure.test\n' \
    "$MXS_PORT_GOOD" "$MXS_PORT_EXPIRED" "$esc" > "$T_DIR/list"
# line 1 answers at once; line 2's MX greets only after a long wait
printf 'example.test -4 --port %s\ninsecure.test --port %s\n' "$MXS_PORT_GOOD" "$MXS_PORT_SLOWBANNER" > "$T_DIR/slow"

T_COLS=140 T_ROWS=30
t_start --resolver "$MXS_DNS_RESOLVER" --trust-anchor "$MXS_TRUST_ANCHOR" --unbound-conf "$MXS_UNBOUND_CONF" \
    --cafile "$MXS_CA" --timeout 10 --domains list
t_assert "--domains without --batch: the list runs to its end in the Domains view" 20 t_pane_has Domains \
    ' 5/5 done, 3 failing, 0 warning, 0 running, 1 rejected - finished *'
if t_pane_is Domains ' 5/5 done, 3 failing, 0 warning, 0 running, 1 rejected - finished *' \
       '   class +line +domain +failed at +worst finding +days *' \
       ">✗ FAIL +3 +nothere\.insecure\.test +RESOLVE +dns-nxdomain +- *" \
       " ✗ FAIL +5 +xn--bcher-kva\.insecure\.test \(bücher\.insecure\.test\) +RESOLVE +dns-nxdomain +- *" \
       " ✗ FAIL +2 +example\.test \[-4 --port $MXS_PORT_EXPIRED\] +CHAIN +cert-expired +-[0-9]+ *" \
       " ✓ ok +1 +example\.test \[-4 --port $MXS_PORT_GOOD\] +- +- +[0-9]+ *" \
       ' - REJECTED +4 +bad\\x1Bname\.test +- +the name has a control byte.*'; then
    ok "rows by urgency: NXDOMAIN (the IDN with its Unicode form), expired (step, finding, negative days), good, the rejected line escaped"
else
    fail "rows by urgency" "$(t_screen | head -12)"
fi
t_keys j j Enter
t_assert "Enter opens the selected domain: the status bar names it with its line's port" 10 \
    t_status_is " example\.test \| POLICY pending \| opened example\.test \[-4 --port $MXS_PORT_EXPIRED\] \(line 2 of the list\).*"
t_assert "the session is resolved and waits for the operator" 5 t_step_is CONNECT '· CONNECT'
t_keys r
t_assert "r runs it: CHAIN fails on the expired leaf" 20 t_step_is CHAIN '✗ CHAIN .*'
t_assert "its finding" 5 t_pane_has Findings 'E cert-expired: .*'
t_keys D
t_assert "D returns to the list, results kept, the opened one selected" 5 t_pane_has Domains \
    ">✗ FAIL +2 +example\.test \[-4 --port $MXS_PORT_EXPIRED\] +CHAIN +cert-expired +-[0-9]+ *"
t_keys /; t_type nxdomain; t_keys Enter
t_assert "/ searches the rows: round the end to the first NXDOMAIN" 5 t_pane_has Domains \
    ">✗ FAIL +3 +nothere\.insecure\.test +RESOLVE +dns-nxdomain +- *"
t_assert "the status bar says it went round" 2 t_status_is ' .* \| search hit BOTTOM, continuing at TOP: line 1 of 5.*'
t_keys n
t_assert "n: the next match (the IDN one)" 5 t_pane_has Domains \
    ">✗ FAIL +5 +xn--bcher-kva\.insecure\.test \(bücher\.insecure\.test\) +RESOLVE +dns-nxdomain +- *"
t_keys q
t_until 5 t_step_is CHAIN '✗ CHAIN .*' >/dev/null

# ---- `domains FILE` from inside; Esc cancels while a domain stalls --------------
t_cmd "domains slow"
t_assert "domains FILE: a new list; the stalled domain keeps it running" 15 t_pane_has Domains \
    ' 1/2 done, 0 failing, 0 warning, 1 running, 0 rejected - running *'
t_assert "the fast domain is already a row" 3 t_pane_has Domains \
    ">✓ ok +1 +example\.test \[-4 --port $MXS_PORT_GOOD\] +- +- +[0-9]+ *"
t_keys Escape
t_assert "Esc cancels the list: the stalled domain is dropped" 5 t_status_is ' .* \| list cancelled: 1 finished, 1 running dropped'
t_assert "what finished stays, the view says cancelled" 3 t_pane_has Domains \
    ' 1/2 done, 0 failing, 0 warning, 0 running, 0 rejected - CANCELLED \(what finished is kept\) *'
t_keys Escape
t_assert "Esc again (nothing running) closes the view" 3 t_step_is CHAIN '✗ CHAIN .*'
t_keys '?'
t_assert "the help lists the Domains view's keys (from the key table)" 5 t_pane_has Help \
    '   D +back to the Domains view.*'
t_keys q
t_cmd "help domains"
t_assert "the command is in the command table" 5 t_pane_has Help ' domains \[FILE\] *'
t_keys q
t_cmd "quit"
t_until 5 t_status_is '.*Quit anyway.*' >/dev/null && t_keys y
t_until 5 t_exited 0 >/dev/null || fail "quit" "$(t_screen | tail -3)"

# --parallel in the console: the list runs with the batch run's tuning.  Two
# domains on the slow-banner listener (5 s before its greeting): with
# --parallel 1 one waits while the other runs; the runner's default runs both.
printf 'insecure.test --port %s\ninsecure.test -4 --port %s\n' "$MXS_PORT_SLOWBANNER" "$MXS_PORT_SLOWBANNER" > "$T_DIR/slow2"
t_start --resolver "$MXS_DNS_RESOLVER" --trust-anchor "$MXS_TRUST_ANCHOR" --unbound-conf "$MXS_UNBOUND_CONF" \
    --cafile "$MXS_CA" --timeout 10 --domains slow2 --parallel 1
t_assert "--domains --parallel 1 in the console: one domain at a time" 4 t_pane_has Domains \
    ' 0/2 done, 0 failing, 0 warning, 1 running, 0 rejected - running *'
t_keys Escape
t_assert "Esc cancels it" 5 t_status_is ' .* \| list cancelled: 0 finished, 1 running dropped'
t_start --resolver "$MXS_DNS_RESOLVER" --trust-anchor "$MXS_TRUST_ANCHOR" --unbound-conf "$MXS_UNBOUND_CONF" \
    --cafile "$MXS_CA" --timeout 10 --domains slow2
t_assert "without --parallel both run at once" 4 t_pane_has Domains \
    ' 0/2 done, 0 failing, 0 warning, 2 running, 0 rejected - running *'
t_keys Escape
tmux -L "$T_SOCK" kill-server >/dev/null 2>&1

# an output of the batch run in the console: a usage error, not a silent ignore
if "$MXS_BIN" --domains "$T_DIR/list" --save-dir "$T_DIR" > /dev/null 2> "$T_DIR/err"; then
    fail "the console's --domains refuses --save-dir"
else
    check "the console's --domains refuses --save-dir (a --batch output)" grep -q 'go with --batch' "$T_DIR/err"
fi
if "$MXS_BIN" --domains "$T_DIR/list" --parallel 0 > /dev/null 2> "$T_DIR/err"; then
    fail "the console's --domains --parallel 0 is refused"
else
    check "the console's --domains --parallel 0: not a number from 1 to 512" grep -q "'0' is not a number from 1 to 512" "$T_DIR/err"
fi
finish
