#!/bin/sh
# tests/world-postfix.sh up|down DIR - one real Postfix master for the test
# world, with one smtpd listener per TLS problem.
# Owner: test world (tests/world*.sh).  Started by tests/world.sh, which made
# DIR/certs with tests/world-certs.sh first.
#
# Our own instance, the system Postfix is never touched:
#   config_directory DIR/postfix (main.cf, master.cf, ports, start.log),
#   queue_directory DIR/postfix-queue and data_directory DIR/postfix-data
#   (outside the config directory: postfix-script's check walks the config
#   directory and warns about every queue file not owned by root), log
#   DIR/postfix.log through postlogd (maillog_file: there may be no syslog).
#   Started with `postfix -c DIR/postfix start`.  Verified on Debian 12,
#   Postfix 3.7.11, package configured "No configuration": as root this
#   works without listing DIR in the system main.cf's
#   alternate_config_directories, so neither /etc/postfix nor the system
#   instance is involved.  postfix-script's start runs `postfix check`
#   (creates the queue tree with the right owners, ~2 s) and then master -w,
#   which returns only once master has bound every listener, so a port taken
#   in the meantime makes `start` fail: we then retry on new ports (3 tries).
# The postfix user must reach the queue directory (every daemon chdirs there
# after dropping privileges), so the ancestors of DIR get o+x (search only,
# no listing) when they lack it: a mktemp -d directory is 0700.
#
# Mail is never delivered: mydestination, relay_domains, local_recipient_maps
# and alias_maps are empty, and smtpd_relay_restrictions and
# smtpd_recipient_restrictions are both `reject`, so every RCPT TO gets
# "554 5.7.1 <rcpt>: Recipient address rejected: Access denied" (checked).
# MAIL FROM is accepted (250 2.1.0).  No pickup/qmgr/delivery agent is even
# configured, and notify_classes is empty so no postmaster notice is queued.
#
# Writes DIR/postfix/ports: "NAME PORT" per listener (NAME as below; the IPv6
# one is "good6" on [::1], absent when the host has no ::1).
#
# Scenarios (all 127.0.0.1 unless said; TLS leaf from DIR/certs/NAME.pem).
# What a hand check showed on Debian 12 (Postfix 3.7.11, OpenSSL 3.0.19),
# with `openssl s_client -starttls smtp -CAfile ca.crt -verify_hostname
# mx1.example.test` unless said, swaks --quit-after EHLO -tls, and raw
# sessions (tests/world.sh chat):
#   good        good.pem.  "New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384",
#               "Verify return code: 0 (ok)".  EHLO advertises STARTTLS.
#   good6       the same on [::1] (only when the host has ::1).
#   tls12       good.pem, smtpd_tls_protocols = smtpd_tls_mandatory_protocols
#               = ">=TLSv1.2, <=TLSv1.2" (through $mxs_tls12 in main.cf).
#               s_client -tls1_3: "tlsv1 alert protocol version ... SSL alert
#               number 70", "New, (NONE)"; plain s_client: "New, TLSv1.2,
#               Cipher is ECDHE-RSA-AES256-GCM-SHA384", code 0.
#   expired     code 10 (certificate has expired)
#   notyet      code 9 (certificate is not yet valid)
#   expiring    code 0; notAfter 10 days ahead
#   wrongname   code 0 without -verify_hostname; with it 62 (hostname mismatch)
#   selfsigned  code 18 (self-signed certificate)
#   untrusted   leaf + its own root: code 19 (self-signed certificate in
#               certificate chain)
#   missing_int leaf only: "verify error:num=20:unable to get local issuer
#               certificate", final "Verify return code: 21 (unable to verify
#               the first certificate)"; code 0 once int.crt is in -CAfile.
#   weakkey     RSA 1024: smtpd loads and serves it with no special setting
#               (no SECLEVEL change was needed); the client side, at Debian's
#               default security level 2, says "Server public key is 1024
#               bit" and code 66 (EE certificate key too weak).
#   sha1sig     sha1WithRSAEncryption leaf: served as is; client at level 2:
#               code 68 (CA signature digest algorithm too weak).
#   clientauth  EKU clientAuth only: code 26 (unsuitable certificate purpose)
#   old         old.pem: code 0, but the SHA-1 is MXS_OLD_SHA1, not good's.
#   nostarttls  smtpd_tls_security_level = none: EHLO has no STARTTLS line,
#               the STARTTLS command gets "502 5.5.1 Error: command not
#               implemented"; swaks: "Host did not advertise STARTTLS".
#   refused454  mismatch.pem (old key + good leaf): smtpd logs "private key
#               mismatch ... disabling TLS support" but still advertises
#               STARTTLS and answers it "454 4.7.0 TLS not available due to
#               local problem" (the key is read as root before privileges
#               are dropped, so unreadable files would not do; a mismatch
#               does).
#   ccert       smtpd_tls_security_level=encrypt, ask_ccert=yes,
#               req_ccert=yes, CAfile ca.crt.  NOT a handshake failure:
#               without a client certificate the handshake completes (TLS
#               1.3 and 1.2 alike, "Acceptable client certificate CA names"
#               is sent), then the next command is answered "421 4.7.1
#               mx1.example.test Error: No client certificate presented" and
#               the connection closed.  With client.crt/client.key: EHLO 250,
#               QUIT 221.  Without TLS, MAIL FROM gets 530.
#   banner554   smtpd_delay_reject=no, smtpd_client_restrictions=reject:
#               greeting "554 5.7.1 <localhost[127.0.0.1]>: Client host
#               rejected: Access denied"; the session stays open (QUIT 221).
#   banner421   smtpd_delay_reject=no, check_client_access static:{421 4.7.0
#               ...}: greeting "421 4.7.0 <localhost[127.0.0.1]>: Client host
#               rejected: mx1.example.test test world says try again later",
#               then smtpd closes the connection.
#   slowbanner  smtpd_delay_reject=no, smtpd_client_restrictions = sleep 5,
#               permit: "220 ..." greeting after 5.1 s.
#   tls10       smtpd_tls_protocols = TLSv1 only, ciphers at OpenSSL security
#               level 0 (Debian's OpenSSL refuses TLS 1.0 at level 1 and up):
#               answers a TLS 1.2/1.3 ClientHello with a protocol_version
#               alert; `openssl s_client -tls1 -cipher DEFAULT@SECLEVEL=0`
#               gets "Protocol  : TLSv1".
#   tls11       the same with TLSv1.1 only.
#   dualcert    smtpd_tls_chain_files = good.pem (RSA, valid), ecexpired.pem
#               (ECDSA, expired 30 days ago): a client offering ECDSA
#               signatures gets the expired one, an RSA-only client the good.
#   dualgood    smtpd_tls_chain_files = good.pem (RSA), ecgood.pem (ECDSA),
#               both valid: DANE against each (tests/integration/dane_dual.sh).
#   preempt12   tls_preempt_cipherlist = yes, TLS 1.2 only, RSA key: the
#               server picks its own order, RSA-PSS for ServerKeyExchange.
#   chainorder  good key + leaf, then the root, then the intermediate
#               (Postfix sends smtpd_tls_chain_files in file order).
#   chaindup    good key + leaf, the intermediate twice.
#   chain30     30 certificates (leaf, 28 intermediates, root), ~11 KB.
#   ipsan5      a leaf whose SAN entry 1 is a 5-byte iPAddress.
#   bigcert     a leaf with 801 SANs: Certificate message ~25 KB.
#   hugecert    a leaf with 5001 SANs: Certificate message ~150 KB.
#   (no "masked" listener: Postfix cannot garble EHLO like a Cisco fixup.)
# tests/integration/world.sh re-asserts all of this on every run.
set -eu
cmd=${1:?usage: world-postfix.sh up|down DIR}
dir=${2:?usage: world-postfix.sh up|down DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
pf="$dir/postfix"
certs="$dir/certs"
pfq="$dir/postfix-queue"   # outside config_directory: postfix check walks that
pfd="$dir/postfix-data"

# name|listen-host|extra -o options (space separated, no spaces inside one)
scenarios() {
    cat <<EOF
good|127.0.0.1|
tls12|127.0.0.1|-o smtpd_tls_protocols=\$mxs_tls12 -o smtpd_tls_mandatory_protocols=\$mxs_tls12
expired|127.0.0.1|-o smtpd_tls_chain_files=$certs/expired.pem
notyet|127.0.0.1|-o smtpd_tls_chain_files=$certs/notyet.pem
expiring|127.0.0.1|-o smtpd_tls_chain_files=$certs/expiring.pem
wrongname|127.0.0.1|-o smtpd_tls_chain_files=$certs/wrongname.pem
selfsigned|127.0.0.1|-o smtpd_tls_chain_files=$certs/selfsigned.pem
untrusted|127.0.0.1|-o smtpd_tls_chain_files=$certs/untrusted.pem
missing_int|127.0.0.1|-o smtpd_tls_chain_files=$certs/missing_int.pem
weakkey|127.0.0.1|-o smtpd_tls_chain_files=$certs/weakkey.pem
sha1sig|127.0.0.1|-o smtpd_tls_chain_files=$certs/sha1sig.pem
clientauth|127.0.0.1|-o smtpd_tls_chain_files=$certs/clientauth.pem
old|127.0.0.1|-o smtpd_tls_chain_files=$certs/old.pem
nostarttls|127.0.0.1|-o smtpd_tls_security_level=none
refused454|127.0.0.1|-o smtpd_tls_chain_files=$certs/mismatch.pem
ccert|127.0.0.1|-o smtpd_tls_security_level=encrypt -o smtpd_tls_ask_ccert=yes -o smtpd_tls_req_ccert=yes -o smtpd_tls_CAfile=$certs/ca.crt
banner554|127.0.0.1|-o smtpd_delay_reject=no -o smtpd_client_restrictions=reject
banner421|127.0.0.1|-o smtpd_delay_reject=no -o smtpd_client_restrictions=\$mxs_r421
slowbanner|127.0.0.1|-o smtpd_delay_reject=no -o smtpd_client_restrictions=\$mxs_slow
tls10|127.0.0.1|-o smtpd_tls_protocols=\$mxs_tls10 -o smtpd_tls_mandatory_protocols=\$mxs_tls10 -o tls_medium_cipherlist=\$mxs_seclevel0 -o tls_high_cipherlist=\$mxs_seclevel0
tls11|127.0.0.1|-o smtpd_tls_protocols=\$mxs_tls11 -o smtpd_tls_mandatory_protocols=\$mxs_tls11 -o tls_medium_cipherlist=\$mxs_seclevel0 -o tls_high_cipherlist=\$mxs_seclevel0
dualcert|127.0.0.1|-o smtpd_tls_chain_files=\$mxs_dual
dualgood|127.0.0.1|-o smtpd_tls_chain_files=\$mxs_dualgood
preempt12|127.0.0.1|-o tls_preempt_cipherlist=yes -o smtpd_tls_protocols=\$mxs_tls12 -o smtpd_tls_mandatory_protocols=\$mxs_tls12
EOF
    # Issue 14's chains and certificates: only the chain file differs.
    for n in chainorder chaindup chain30 ipsan5 bigcert hugecert; do
        echo "$n|127.0.0.1|-o smtpd_tls_chain_files=$certs/$n.pem"
    done
    if have_ipv6; then echo "good6|[::1]|"; fi
}

have_ipv6() { [ -r /proc/net/if_inet6 ] && grep -q '^0\{31\}1 ' /proc/net/if_inet6; }

# Ports in use now, v4 and v6 (ss prints "addr:port" in column 4).
used_ports() { ss -Hltn 2>/dev/null | awk '{n=split($4,a,":"); print a[n]}' | sort -un; }

# First block of N consecutive free ports from BASE, inside 20000-40000.
pick_base() { # base n
    b=$1 n=$2 used=$(used_ports) tries=0
    while [ $tries -lt 200 ]; do
        [ $((b + n)) -ge 40000 ] && b=20000
        ok=1 p=$b
        while [ $p -lt $((b + n)) ]; do
            if echo "$used" | grep -qx "$p"; then ok=0; break; fi
            p=$((p + 1))
        done
        [ $ok = 1 ] && { echo $b; return 0; }
        b=$((p + 1)) tries=$((tries + 1))
    done
    echo "world-postfix: no block of $n free ports in 20000-40000" >&2
    return 1
}

write_config() { # base
    base=$1
    mkdir -p "$pf" "$pfq" "$pfd"
    chown postfix "$pfd"
    v6=ipv4
    have_ipv6 && v6=all
    cat > "$pf/main.cf" <<EOF
# Test world Postfix, made by tests/world-postfix.sh: never delivers mail.
compatibility_level = 3.6
queue_directory = $pfq
data_directory = $pfd
mail_owner = postfix
setgid_group = postdrop
maillog_file = $dir/postfix.log
maillog_file_prefixes = $dir
myhostname = mx1.example.test
mydomain = example.test
myorigin = \$myhostname
mydestination =
relay_domains =
relayhost =
local_recipient_maps =
alias_maps =
alias_database =
mynetworks = 127.0.0.0/8 [::1]/128
inet_interfaces = loopback-only
inet_protocols = $v6
biff = no
readme_directory = no
smtpd_banner = \$myhostname ESMTP mxscope test world
smtpd_relay_restrictions = reject
smtpd_recipient_restrictions = reject
smtpd_tls_security_level = may
smtpd_tls_chain_files = $certs/good.pem
smtpd_tls_loglevel = 1
smtpd_tls_session_cache_database =
# No postmaster notices (e.g. for the 454 listener's "software" error):
# they would be queued, and this instance has no qmgr to deliver them.
notify_classes =
# Used through -o in master.cf (values with spaces cannot go in -o).
mxs_tls12 = >=TLSv1.2, <=TLSv1.2
mxs_r421 = check_client_access static:{421 4.7.0 mx1.example.test test world says try again later}
mxs_slow = sleep 5, permit
mxs_tls10 = >=TLSv1, <=TLSv1
mxs_tls11 = >=TLSv1.1, <=TLSv1.1
mxs_seclevel0 = DEFAULT:@SECLEVEL=0
mxs_dual = $certs/good.pem, $certs/ecexpired.pem
mxs_dualgood = $certs/good.pem, $certs/ecgood.pem
EOF
    {
        cat <<'EOF'
# Test world master.cf, made by tests/world-postfix.sh.  chroot = n:
# nothing to copy into a jail, and the paths above stay valid.
postlog   unix-dgram n  -       n       -       1       postlogd
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
anvil     unix  -       -       n       -       1       anvil
cleanup   unix  n       -       n       -       0       cleanup
EOF
        i=0
        : > "$pf/ports"
        scenarios | while IFS='|' read -r name host opts; do
            port=$((base + i)); i=$((i + 1))
            echo "$name $port" >> "$pf/ports"
            echo "$host:$port inet n - n - - smtpd -o syslog_name=postfix/$name $opts"
            # Two nodes of one MX that disagree (a renewal rolled out to one
            # of them): on [::1], the "old" listener's port serves the
            # renewed certificate.  mxscope --all compares them.
            if [ "$name" = old ] && have_ipv6; then
                echo "[::1]:$port inet n - n - - smtpd -o syslog_name=postfix/old6renewed -o smtpd_tls_chain_files=$certs/good.pem"
            fi
        done
    } > "$pf/master.cf"
}

# Let the postfix user search down to the queue directory.
open_ancestors() {
    p=$dir
    while [ "$p" != / ] && [ -n "$p" ]; do
        if [ -d "$p" ] && ! runuser -u postfix -- test -x "$p" 2>/dev/null; then
            chmod o+x "$p"
        fi
        p=$(dirname "$p")
    done
}

pf_up() {
    [ -f "$certs/good.pem" ] || { echo "world-postfix: no $certs/good.pem (run world-certs.sh first)" >&2; exit 1; }
    pf_down    # an instance of an earlier `up` in DIR: stop it first
    open_ancestors
    n=$(scenarios | wc -l)
    base=$((20000 + ($$ * 7919) % 19000))
    attempt=1
    while :; do
        base=$(pick_base $base "$n")
        write_config "$base"
        if postfix -c "$pf" start > "$pf/start.log" 2>&1; then
            echo "world-postfix: up in $pf, ports $base..$((base + n - 1))"
            return 0
        fi
        postfix -c "$pf" stop >/dev/null 2>&1 || true
        if [ $attempt -ge 3 ]; then
            echo "world-postfix: postfix -c $pf start failed 3 times:" >&2
            cat "$pf/start.log" >&2
            tail -n 20 "$dir/postfix.log" >&2 2>/dev/null || true
            exit 1
        fi
        attempt=$((attempt + 1)) base=$((base + n + 97))
    done
}

pf_down() {
    [ -f "$pf/main.cf" ] || return 0
    postfix -c "$pf" stop >/dev/null 2>&1 || true
    # master removes its pid file on exit; a leftover live pid means stop
    # did not work (e.g. a broken config): end that master ourselves.
    pidf="$pfq/pid/master.pid"
    if [ -f "$pidf" ]; then
        pid=$(tr -dc 0-9 < "$pidf")
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            sleep 1
            kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
        fi
    fi
    return 0
}

case $cmd in
    up) pf_up ;;
    down) pf_down ;;
    *) echo "usage: world-postfix.sh up|down DIR" >&2; exit 2 ;;
esac
