#!/bin/sh
# tests/world-https.sh - the test world's HTTPS side: a real nginx (Debian
# nginx-light) serving MTA-STS policies (RFC 8461) the way a domain does,
# one virtual host per case, each with a certificate made here, now.
# Owner: test world (tests/world*.sh).
#
#   sh tests/world-https.sh up DIR     needs DIR/certs from world-certs.sh;
#                                      writes DIR/https/ (config, certs,
#                                      bodies, logs) and DIR/https/https.env
#   sh tests/world-https.sh down DIR   stops nginx; idempotent
#
# nginx listens on MXS_HTTPS_ADDR (127.0.3.43) port 443, the port senders
# use, so a client needs no port override: the DNS world (or a pinned
# address) sends mta-sts.CASE.sts.example.test there.  Hosts (server_name
# mta-sts.CASE.sts.example.test, SNI picks the certificate):
#   enforce    200 text/plain  enforce, mx: mx1.example.test, *.mx.example.test
#   testing    200             mode testing
#   none       200             mode none
#   notcovered 200             enforce, mx: other.example.net only
#   malformed  200             bad lines (3, 5) and a max_age over one year
#   crlf       200             the enforce policy with CRLF line ends
#   notfound   404
#   redirect   301 to https://mta-sts.enforce.sts.example.test/...
#   html       200 text/html
#   big        200 text/plain, 70 KiB (over the 64 KiB senders take)
#   slow       200 text/plain, 4 KiB at 512 bytes/s (8 s: past any deadline)
#   expired    the enforce policy behind an expired certificate
#   wrongname  ... behind a certificate for other.example.net
#   wild       200             enforce, mx: *.mx.example.test only (the wildcard edges)
#   untrusted  ... behind a self-signed certificate
# Certificates: leaves signed by the world's intermediate (DIR/certs/int.*),
# so DIR/certs/ca.crt is the only root a client needs; the untrusted one is
# self-signed.  Needs: nginx (nginx-light), openssl.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:?usage: world-https.sh up|down DIR}
dir=${2:?usage: world-https.sh up|down DIR}
addr=${MXS_HTTPS_ADDR:-127.0.3.43}
h="$dir/https"
cases="enforce testing none notcovered malformed crlf notfound redirect html big slow expired wrongname untrusted wild"

https_down() {
    if [ -f "$h/nginx.pid" ]; then
        pid=$(cat "$h/nginx.pid" 2>/dev/null || true)
        [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
        i=0
        while [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        rm -f "$h/nginx.pid"
    fi
}

if [ "$cmd" = down ]; then
    https_down
    exit 0
fi
[ "$cmd" = up ] || { echo "usage: world-https.sh up|down DIR" >&2; exit 2; }
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { echo "world-https: nginx missing (Debian nginx-light)" >&2; exit 1; }
nginx=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)
c=$(cd "$dir/certs" && pwd)
https_down
rm -rf "$h"
mkdir -p "$h/www" "$h/st/newcerts" "$h/tmp"
dir=$(cd "$dir" && pwd)
h="$dir/https"
d() { date -u -d "$1" +%Y%m%d%H%M%SZ; }

# --- certificates ---
sans=""
for k in $cases; do sans="${sans:+$sans, }DNS:mta-sts.$k.sts.example.test"; done
cat > "$h/openssl.cnf" <<EOF
[ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
CN = placeholder
[ ca ]
default_ca = ca_default
[ ca_default ]
dir = $h/st
database = $h/st/index.txt
new_certs_dir = $h/st/newcerts
serial = $h/st/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
[ policy_any ]
commonName = supplied
[ v3_sts ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = $sans
[ v3_other ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:other.example.net
EOF
export OPENSSL_CONF="$h/openssl.cnf"
: > "$h/st/index.txt"
openssl rand -hex 8 | sed 's/^./1/' > "$h/st/serial"
for n in good expired wrongname untrusted; do
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$h/$n.key" 2>/dev/null
done
sts_sign() { # name cn ext start end
    openssl req -new -key "$h/$1.key" -subj "/CN=$2" -out "$h/$1.csr"
    openssl ca -batch -notext -config "$OPENSSL_CONF" -cert "$c/int.crt" -keyfile "$c/int.key" \
        -extfile "$OPENSSL_CONF" -extensions "$3" -startdate "$4" -enddate "$5" \
        -in "$h/$1.csr" -out "$h/$1.crt" 2>/dev/null ||
        { echo "world-https: signing $1 failed" >&2; exit 1; }
    cat "$h/$1.crt" "$c/int.crt" > "$h/$1.chain"
}
sts_sign good mta-sts.enforce.sts.example.test v3_sts "$(d '-1 day')" "$(d '+89 days')"
sts_sign expired mta-sts.expired.sts.example.test v3_sts "$(d '-120 days')" "$(d '-30 days')"
sts_sign wrongname other.example.net v3_other "$(d '-1 day')" "$(d '+89 days')"
openssl req -x509 -new -key "$h/untrusted.key" -subj "/CN=mta-sts.untrusted.sts.example.test" \
    -days 90 -extensions v3_sts -out "$h/untrusted.chain"

# --- bodies ---
p="$h/www"
printf 'version: STSv1\nmode: enforce\nmx: mx1.example.test\nmx: *.mx.example.test\nmax_age: 86400\n' > "$p/enforce.txt"
printf 'version: STSv1\nmode: testing\nmx: mx1.example.test\nmax_age: 86400\n' > "$p/testing.txt"
printf 'version: STSv1\nmode: none\nmax_age: 86400\n' > "$p/none.txt"
# wild: the RFC 8461 4.1 wildcard alone: covers a.mx.example.test, not
# b.a.mx.example.test (two labels) nor mx.example.test (no label).
printf 'version: STSv1\nmode: enforce\nmx: *.mx.example.test\nmax_age: 86400\n' > "$p/wild.txt"
printf 'version: STSv1\nmode: enforce\nmx: other.example.net\nmax_age: 86400\n' > "$p/notcovered.txt"
printf 'version: STSv1\nmode: enforce\nthis is not a field\nmx: mx1.example.test\nmx : mx2.example.test\nmax_age: 99999999\n' > "$p/malformed.txt"
printf 'version: STSv1\r\nmode: enforce\r\nmx: mx1.example.test\r\nmax_age: 86400\r\n' > "$p/crlf.txt"
printf '<html><body>mta-sts</body></html>\n' > "$p/html.txt"
{ cat "$p/enforce.txt"; head -c 71680 /dev/zero | tr '\0' '#'; echo; } > "$p/big.txt"
{ cat "$p/enforce.txt"; head -c 4096 /dev/zero | tr '\0' '#'; echo; } > "$p/slow.txt"

# --- nginx ---
{
    echo "pid $h/nginx.pid;"
    echo "error_log $h/error.log warn;"
    echo "worker_processes 1;"
    echo "daemon on;"
    echo "events { worker_connections 64; }"
    echo "http {"
    echo "  access_log $h/access.log;"
    echo "  client_body_temp_path $h/tmp; proxy_temp_path $h/tmp; fastcgi_temp_path $h/tmp;"
    echo "  uwsgi_temp_path $h/tmp; scgi_temp_path $h/tmp;"
    echo "  ssl_protocols TLSv1.2 TLSv1.3;"
    echo "  server_tokens off;"
    for k in $cases; do
        cert=good
        case $k in expired|wrongname|untrusted) cert=$k;; esac
        body=$k
        case $k in expired|wrongname|untrusted|notfound|redirect) body=enforce;; esac
        echo "  server {"
        echo "    listen $addr:443 ssl;"
        echo "    server_name mta-sts.$k.sts.example.test;"
        echo "    ssl_certificate $h/$cert.chain; ssl_certificate_key $h/$cert.key;"
        echo "    default_type text/plain;"
        case $k in
        notfound) echo "    location / { return 404; }" ;;
        redirect) echo "    location / { return 301 https://mta-sts.enforce.sts.example.test/.well-known/mta-sts.txt; }" ;;
        html) echo "    location = /.well-known/mta-sts.txt { default_type text/html; alias $p/html.txt; }" ;;
        slow) echo "    location = /.well-known/mta-sts.txt { limit_rate 512; alias $p/slow.txt; }" ;;
        *) echo "    location = /.well-known/mta-sts.txt { alias $p/$body.txt; }" ;;
        esac
        echo "  }"
    done
    echo "}"
} > "$h/nginx.conf"
"$nginx" -t -q -c "$h/nginx.conf" -p "$h" 2>"$h/nginx-t.log" ||
    { cat "$h/nginx-t.log" >&2; echo "world-https: nginx config refused" >&2; exit 1; }
"$nginx" -c "$h/nginx.conf" -p "$h" 2>"$h/start.log" ||
    { cat "$h/start.log" "$h/error.log" >&2 2>/dev/null; echo "world-https: nginx did not start on $addr:443" >&2; exit 1; }
i=0
until [ -s "$h/nginx.pid" ] && ss -ltn 2>/dev/null | grep -q "$addr:443"; do
    i=$((i + 1))
    [ $i -gt 100 ] && { echo "world-https: nginx not listening on $addr:443 after 10 s" >&2; exit 1; }
    sleep 0.1
done
{
    echo "MXS_HTTPS_ADDR=$addr"
    echo "MXS_HTTPS_DIR=$h"
    echo "MXS_HTTPS_CASES='$cases'"
} > "$h/https.env"
echo "world-https: nginx on $addr:443, $(echo $cases | wc -w) policy hosts"
