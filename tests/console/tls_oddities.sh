#!/bin/sh
# Issue 14 in the console: the TLS and certificate oddities the batch tests
# (chains.sh, sideprobe.sh, the hostile suite) judge, as a person sees them.
# Real Postfix listeners of the test world: 30 certificates (the Chain pane
# says how many were sent), a chain in the wrong order (chain-order, never
# chain-incomplete, delivered), RSA-PSS under server preference (the retry
# named as our library's defect, delivered, never "in clear"), an odd
# iPAddress SAN and a 122 KB Certificate message (named, sized); scriptsrv:
# plaintext inside the TLS session (its bytes, no errno, no reset); the
# OpenSSL fixture: a TLS 1.3 KeyUpdate (our limit, verdicts not evaluated).
. tests/lib.sh
world_env
T_COLS=160 T_ROWS=60
. tests/console/tmux.inc

SRV=${MXS_SCRIPTSRV:-$MXS_BUILD/fixtures/scriptsrv}
OSRV=${MXS_OSSLSRV:-$MXS_BUILD/fixtures/osslsrv}

# run HOST PORT ARGS...: the console on that server, one whole run (r),
# waited for until QUIT is done or skipped
run() {
    _h=$1 _p=$2; shift 2
    t_start --host "$_h" --connect "127.0.0.1:$_p" --timeout 10 --dual-cert off "$@"
    t_until 10 t_status_is " $_h:$_p \| RESOLVE pending \| .*" >/dev/null
    t_cmd "set keep-open off"
    t_keys r
    t_until 20 t_step_is QUIT '[✓-] QUIT .*' >/dev/null
}
# script SCENARIO N [fixture]: a hostile scenario's server; sets $sport
script() {
    "${3:-$SRV}" "tests/hostile/scenarios/$1.scn" --port-file "$T_DIR/port.$2" --ca-file "$T_DIR/ca.$2.pem" \
        --lifetime 60 2>>"$T_DIR/srv.err" &
    spid=$!
    n=50; while [ ! -s "$T_DIR/port.$2" ] && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
    [ -s "$T_DIR/port.$2" ] || { fail "$1: fixture" "did not start: $(tail -3 "$T_DIR/srv.err")"; return 1; }
    sport=$(cat "$T_DIR/port.$2")
}
delivered='Verdict:  opportunistic: encrypted  required: encrypted  verified: encrypted  dane: -  mta-sts: -'
not_evaluated='Verdict:  opportunistic: -  required: -  verified: -  dane: -  mta-sts: -'
# never NAME WORDS: nothing on the whole screen matches WORDS (case-insensitive)
never() {
    if ! t_screen | grep -qiE -- "$2"; then ok "$1"
    else fail "$1" "$(t_screen | grep -iE -- "$2" | head -3 | tr '\n' '|')"; fi
}
# findings_are FINDING-ROW VERDICT-ROW: both rows in the Findings pane
findings_are() { t_pane_has Findings "$1" && t_pane_has Findings "$2"; }

run mx1.example.test "$MXS_PORT_CHAIN30" --cafile "$MXS_CA"
t_assert "chain30: the Chain pane says 30 certificates were sent, 16 shown" 5 \
    t_title_is Chain 'Chain: trusted \(30 sent, 16 shown\)'
t_assert "chain30: chain-too-long names the count, every sender policy delivers" 5 findings_are \
    "W chain-too-long: The certification path is 30 certificates long .*" "$delivered"

run mx1.example.test "$MXS_PORT_CHAINORDER" --cafile "$MXS_CA"
t_assert "chainorder: chain-order (a warning), delivered" 5 findings_are \
    "W chain-order: The chain is sent out of order or with repeats: certificate 2 .*" "$delivered"
never "chainorder: never chain-incomplete" 'chain-incomplete|does not send'

run mx1.example.test "$MXS_PORT_PREEMPT12" --cafile "$MXS_CA"
t_assert "preempt12: the retry without RSA-PSS is named as our library's defect (Exchange)" 5 \
    t_pane_has Exchange ".* HANDSHAKE T: the first handshake failed on mbedTLS 3\.6\.6.s RSA-PSS defect .*"
t_assert "preempt12: every sender policy delivers" 5 t_pane_has Findings "$delivered"
never "preempt12: never 'in clear'" 'in clear'

run mx1.example.test "$MXS_PORT_IPSAN5" --cafile "$MXS_CA"
t_assert "ipsan5: cert-san-ip-length names the certificate, the entry and its bytes; verdicts not evaluated" 5 \
    findings_are "E cert-san-ip-length: Certificate 0 has a subjectAltName entry 1 that is an iPAddress of 5 bytes .*" \
    "$not_evaluated"

run mx1.example.test "$MXS_PORT_HUGECERT" --cafile "$MXS_CA"
t_assert "hugecert: the Certificate message's size, over what OpenSSL senders accept" 5 \
    t_pane_has Findings "E tls-cert-message-too-big: The server.s Certificate message is 1[0-9]{5} bytes: more than OpenSSL senders accept .*"

# the Exchange rows of plaintext inside the session
plain_rows() {
    t_step_is EHLO2 "✗ EHLO2 .*" && t_pane_has Exchange ".* EHLO2 +S: 250 OK" &&
    t_pane_has Exchange ".* EHLO2 +#  the 8 bytes above came in the clear inside the TLS session: not a TLS record" &&
    t_pane_has Exchange ".* EHLO2 +!! EHLO2 failed: EHLO after TLS: not a TLS record: the server sent .250 OK. in the clear.*"
}
if script session-plaintext 1; then
    run mx.hostile.test "$sport" --cafile "$T_DIR/ca.1.pem"
    t_assert "plaintext in the session: EHLO2 fails naming the bytes, not a TLS record" 5 plain_rows
    never "plaintext in the session: no errno, no reset on screen" 'errno|reset by|connection reset'
    kill $spid 2>/dev/null
fi

if [ -x "$OSRV" ] && script session-keyupdate 2 "$OSRV"; then
    run mx.hostile.test "$sport" --cafile "$T_DIR/ca.2.pem"
    t_assert "KeyUpdate: named as our library's limit, verdicts not evaluated" 5 findings_are \
        "E tls-key-update-unsupported: After the handshake the server sent a TLS 1\.3 KeyUpdate\..*" "$not_evaluated"
    never "KeyUpdate: no errno, no reset on screen" 'errno|reset by|connection reset'
    kill $spid 2>/dev/null
else fail "KeyUpdate: the OpenSSL fixture" "$OSRV missing or did not start (make tests-bin)"; fi
finish
