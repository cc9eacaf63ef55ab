#!/bin/sh
# tests/integration/chains.sh - certificate chains as real Postfix sends them
# (issue 14): smtpd_tls_chain_files is sent in file order, so a chain file in
# the wrong order or with a repeated intermediate reaches the client as is.
# OpenSSL (and so a Postfix sender) builds the path from any position and
# skips repeats: mxscope must verify these chains too (trusted, verified
# verdict delivered), name the order problem as the warning chain-order with
# positions, and never call it chain-incomplete.  Text and JSON.
# Owner: TLS client (chains).  Needs the test world (tests/world.sh).
. "$(dirname "$0")/../lib.sh"
need jq
world_env
tmp=$(mktemp -d /tmp/mxscope-chains.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

probe() { # name PORTVAR [options] -> $tmp/name.json, .txt, .rc
    n=$1; eval port=\${MXS_PORT_$2:-}; shift 2
    if [ -z "$port" ]; then fail "$n: listener" "no such listener in this world"; return; fi
    "$MXS_BIN" --batch --json --warn-ok --host mx1.example.test --connect "127.0.0.1:$port" \
        --cafile "$MXS_CA" --timeout 10 "$@" > "$tmp/$n.json" 2> "$tmp/$n.err"
    echo $? > "$tmp/$n.rc"
    "$MXS_BIN" --batch --warn-ok --host mx1.example.test --connect "127.0.0.1:$port" \
        --cafile "$MXS_CA" --timeout 10 "$@" > "$tmp/$n.txt" 2>&1
}
expect() {
    if jq -e "$2" "$tmp/$1.json" > /dev/null 2>&1; then ok "$1: $2"
    else fail "$1: $2" "got $(jq -c "$2" "$tmp/$1.json" 2>&1 | head -c 300)"; fi
}
probe_v() { # name PORTVAR 13|12: the listener with TLS 1.3, or at most TLS 1.2
    if [ "$3" = 12 ]; then probe "$1" "$2" --tls-max 1.2; else probe "$1" "$2"; fi
}
text_has() {
    if grep -qF -- "$2" "$tmp/$1.txt"; then ok "$1: text has '$2'"
    else fail "$1: text has '$2'" "$(head -c 600 "$tmp/$1.txt")"; fi
}

probe chainorder CHAINORDER
expect chainorder '.result.exit_code == 0 and .result.failed_step == null'
expect chainorder '(.chain | length) == 3 and .verification.certificates_sent == 3'
expect chainorder '.chain[1].subject == .chain[2].issuer and .chain[2].subject == .chain[0].issuer'
expect chainorder '.verification.trusted == true and .verification.path_length == 3'
expect chainorder '[.findings[] | select(.id == "chain-incomplete")] | length == 0'
expect chainorder '[.findings[] | select(.id == "chain-order" and .severity == "warning")] | length == 1'
expect chainorder '[.findings[] | select(.id == "chain-order") | .message | test("certificate 2 .* is the issuer of certificate 0 but is sent at position 2, not 1")] | any'
expect chainorder '[.verdict[] | select(.policy == "verified") | .outcome] == ["delivered-encrypted"]'
text_has chainorder "warning chain-order"
text_has chainorder "path built (positions as sent, leaf first): 0, 2, 1"

probe chaindup CHAINDUP
expect chaindup '.result.exit_code == 0 and .result.failed_step == null'
expect chaindup '(.chain | length) == 3 and .chain[1].sha256 == .chain[2].sha256'
expect chaindup '.verification.trusted == true and .verification.path_length == 3'
expect chaindup '[.findings[] | select(.id == "chain-order") | .message | test("certificate 2 repeats certificate 1")] | any'
expect chaindup '[.findings[] | select(.id == "chain-incomplete")] | length == 0'
text_has chaindup "certificate 2 repeats certificate 1"

# Per TLS version (1.3, then at most 1.2):
# - chain30, 30 certificates (~11 KB; OpenSSL verifies them: world-certs.sh):
#   the handshake completes, every certificate is counted, the path of 30
#   verifies, and the depth is judged against Postfix's 9;
# - ipsan5, a leaf whose SAN entry 1 is a 5-byte iPAddress: OpenSSL verifies
#   it, mbedTLS refuses to parse it.  Named (certificate, entry, length), our
#   limitation: LOCAL, every verdict "not evaluated", never the server's fault.
for v in 13 12; do
    n=chain30-$v; probe_v $n CHAIN30 $v
    expect $n ".result.failed_step == null and .tls.ok == true and .tls.version == \"TLSv1.${v#1}\""
    expect $n '.verification.certificates_sent == 30 and (.chain | length) == 16 and .verification.trusted == true and .verification.path_length == 30'
    expect $n '[.findings[] | select(.id == "chain-too-long" and .severity == "warning") | .message | test("30 certificates long")] | any'
    text_has $n "... and 14 more: 30 certificates sent in all (the path was built from all of them; the first 16 are shown)"
    expect $n '([.findings[] | select(.severity == "error")] | length == 0) and ([.verdict[] | select(.policy == "verified") | .outcome] == ["delivered-encrypted"])'
    text_has $n "warning chain-too-long"
    text_has $n "smtp_tls_scert_verifydepth"
    n=ipsan5-$v; probe_v $n IPSAN5 $v
    expect $n '.result.failed_step == "HANDSHAKE" and .tls.refused_certificate == 0 and .tls.refused_san_entry == 1 and .tls.refused_san_length == 5'
    expect $n '[.findings[] | .id] | index("cert-san-ip-length") != null and index("tls-handshake-failed") == null'
    expect $n '[.verdict[] | .outcome] | unique == ["not-evaluated"]'
    text_has $n "subjectAltName entry 1 is an iPAddress of 5 bytes"
    text_has $n "OpenSSL senders (Postfix) accept it"
done

# Certificate messages over our library's 16 KiB: ~21 KB (OpenSSL senders
# take it: LOCAL, not evaluated) and ~122 KB (over OpenSSL's max_cert_list
# too: the server's fault).  The size from the TLS 1.2 header, or in TLS 1.3
# from mbedTLS's decrypted input.
for v in 13 12; do
    n=bigcert-$v; probe_v $n BIGCERT $v
    expect $n '.result.failed_step == "HANDSHAKE" and .tls.certificate_message_bytes > 16380 and .tls.certificate_message_bytes < 102400'
    expect $n '([.findings[] | .id] | index("tls-cert-message-local") != null) and ([.verdict[] | .outcome] | unique == ["not-evaluated"])'
    text_has $n "within what OpenSSL senders accept"
    n=hugecert-$v; probe_v $n HUGECERT $v
    expect $n '.result.failed_step == "HANDSHAKE" and .tls.certificate_message_bytes > 102400'
    expect $n '([.findings[] | .id] | index("tls-cert-message-too-big") != null) and ([.verdict[] | select(.policy == "opportunistic") | .outcome] == ["delivered-clear"])'
done

# What a Postfix sender says about the same listeners (posttls-finger, the
# world's main.cf, security level secure): the claims of the findings.
pf=$(command -v posttls-finger || echo /usr/sbin/posttls-finger)
sender() { # name PORTVAR expected-text
    eval port=\${MXS_PORT_$2:-}
    MAIL_CONFIG="$MXS_WORLD/postfix" timeout 30 "$pf" -c -l secure -F "$MXS_CA" \
        "[127.0.0.1]:$port" mx1.example.test > "$tmp/pf-$1.txt" 2>&1
    if grep -qF -- "$3" "$tmp/pf-$1.txt"; then ok "posttls-finger $1: '$3'"
    else fail "posttls-finger $1: '$3'" "$(tail -c 400 "$tmp/pf-$1.txt")"; fi
}
if [ -x "$pf" ]; then
    sender chain30 CHAIN30 "certificate chain longer than limit(10)"
    for l in chainorder:CHAINORDER chaindup:CHAINDUP ipsan5:IPSAN5 bigcert:BIGCERT; do
        sender "${l%%:*}" "${l#*:}" "Verified TLS connection established"
    done
    sender hugecert HUGECERT "excessive message size"
else
    ok "posttls-finger not installed: the sender's view is not checked # SKIP"
fi

# The good chain: in order, no warning about it, path leaf + int + stored root.
probe good GOOD
expect good '.verification.path_length == 3 and .verification.trusted == true'
expect good '[.findings[] | select(.id == "chain-order" or .id == "chain-too-long")] | length == 0'
finish
