#!/bin/sh
# load-report FILE: a sender's TLS-RPT report (RFC 8460) in an overlay
# titled by the command, its policy and failure lines inside it (only that
# action draws them), the sender's control bytes escaped; a bad file is one
# escaped error on the status bar and opens nothing.
. tests/lib.sh
. tests/console/tmux.inc

printf '%s\n' '{"organization-name": "Sender\u001b[2J Inc", "report-id": "r-1",' \
  '"date-range": {"start-datetime": "2026-12-01T00:00:00Z", "end-datetime": "2026-12-01T23:59:59Z"},' \
  '"policies": [{"policy": {"policy-type": "sts", "policy-domain": "example.test"},' \
  '"summary": {"total-successful-session-count": 7, "total-failure-session-count": 3},' \
  '"failure-details": [{"result-type": "certificate-expired", "sending-mta-ip": "192.0.2.1",' \
  '"receiving-mx-hostname": "mx1.example.test", "failed-session-count": 3}]}]}' > "$T_DIR/r.json"
gzip -c "$T_DIR/r.json" > "$T_DIR/r.json.gz"
printf 'not a report' > "$T_DIR/bad.json"

t_start --lab
t_until 10 t_status_is ' .* \[lab:good\] \| RESOLVE pending \| .*' >/dev/null
t_cmd "load-report r.json.gz"   # the console runs in $T_DIR
if t_until 5 t_pane_has "load-report r.json.gz" ' TLS-RPT report r-1 from Sender\\x1B\[2J Inc \(contact: \(none\)\) *' &&
   t_pane_has "load-report r.json.gz" ' Policy 1: sts for example.test: 7 sessions succeeded, 3 failed *' &&
   t_pane_has "load-report r.json.gz" ' +3  certificate-expired  MX mx1.example.test, from sender 192.0.2.1 *'; then
    ok "load-report opens the report in an overlay: sender escaped, policy, failure"
else
    fail "load-report overlay" "$(t_screen | head -20)"
fi
t_keys q
t_cmd "load-report bad.json"
t_assert "a file that is not a report: one error on the status bar" 5 \
    t_status_is " .* \| load-report bad\.json: not valid JSON.*"
if t_pane_has Steps '· RESOLVE *'; then ok "the bad file opened no overlay (the Steps pane is in view)"
else fail "the bad file opened no overlay"; fi
t_keys q
t_until 5 t_exited 0 >/dev/null
finish
