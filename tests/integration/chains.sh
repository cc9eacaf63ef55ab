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

probe() { # name PORTVAR -> $tmp/name.json, .txt, .rc
    n=$1; eval port=\$MXS_PORT_$2
    if [ -z "$port" ]; then fail "$n: listener" "MXS_PORT_$2 not set (world without it?)"; return; fi
    "$MXS_BIN" --batch --json --warn-ok --host mx1.example.test --connect "127.0.0.1:$port" \
        --cafile "$MXS_CA" --timeout 10 > "$tmp/$n.json" 2> "$tmp/$n.err"
    echo $? > "$tmp/$n.rc"
    "$MXS_BIN" --batch --warn-ok --host mx1.example.test --connect "127.0.0.1:$port" \
        --cafile "$MXS_CA" --timeout 10 > "$tmp/$n.txt" 2>&1
}
expect() {
    if jq -e "$2" "$tmp/$1.json" > /dev/null 2>&1; then ok "$1: $2"
    else fail "$1: $2" "got $(jq -c "$2" "$tmp/$1.json" 2>&1 | head -c 300)"; fi
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

# The good chain: in order, no warning about it, path leaf + int + stored root.
probe good GOOD
expect good '.verification.path_length == 3 and .verification.trusted == true'
expect good '[.findings[] | select(.id == "chain-order" or .id == "chain-too-long")] | length == 0'
finish
