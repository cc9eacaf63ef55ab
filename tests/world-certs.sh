#!/bin/sh
# tests/world-certs.sh DIR - make every certificate of the test world, fresh.
# Owner: test world (tests/world*.sh).
#
# Only the openssl CLI (OpenSSL 3.0, Debian 12).  Everything is made anew in
# DIR on each run: nothing here is ever committed.  Dates in the past or the
# future come from `openssl ca -startdate/-enddate` because `openssl x509
# -req` in 3.0 has no -not_before/-not_after (those arrived in 3.4) and we
# do not want faketime.
#
# What is made (all leaves are for mx1.example.test with SAN mx1, mx2, mx3
# .example.test and localhost, unless said otherwise):
#   ca.crt ca.key        root "mxscope Test Root" - the one the client trusts
#   int.crt int.key      intermediate under the root; signs the leaves
#   other-ca.crt/.key    a second root never given to the client
#   NAME.key NAME.crt    leaf key and certificate
#   NAME.pem             key, leaf, chain: the order smtpd_tls_chain_files
#                        wants (key first, then leaf, then its issuers)
#   NAME:  good        valid now, 90 days (1 day ago .. 89 days ahead)
#          expired     120 days ago .. 30 days ago
#          notyet      30 days ahead .. 120 days ahead
#          expiring    80 days ago .. 10 days ahead
#          wrongname   SAN other.example.net only (CN other.example.net)
#          selfsigned  self-signed leaf (its .pem has no chain)
#          untrusted   signed by other-ca; .pem = key, leaf, other-ca.crt, so
#                      a client sees "self-signed certificate in certificate
#                      chain" (X509 code 19), not the missing-issuer code 20
#          weakkey     RSA 1024 leaf
#          sha1sig     leaf signed with sha1WithRSAEncryption
#          clientauth  EKU clientAuth only (no serverAuth)
#          old         valid, different key and serial from good: what is
#                      still served after a "renewal" (60 days ago .. 30 ahead)
#          ecexpired   ECDSA P-256, expired (the dualcert listener's second)
#          ecgood      ECDSA P-256, valid as good (the dualgood listener's)
#   missing_int.pem      good key + good leaf, no intermediate
#   chainorder.pem       good key + leaf, root, intermediate (wrong order)
#   chaindup.pem         good key + leaf, intermediate twice
#   chain30.pem          EC leaf + 28 intermediates (ci28 .. ci1, no
#                        pathlen) + the root: 30 certificates
#   bigcert.pem, hugecert.pem  good key + a leaf with 800 / 5000 extra SANs
#                        (Certificate message ~25 KB / ~150 KB) + int
#   ipsan5.pem           good key + a leaf whose SAN entry 1 is an
#                        iPAddress of 5 bytes (OpenSSL verifies it, mbedTLS
#                        cannot parse it) + int
#   mismatch.pem         old's key + good's leaf: Postfix fails to load it
#                        (key values mismatch), used for the 454 listener
#   client.crt client.key  clientAuth certificate signed directly by the root
#   good.fullchain.pem   good leaf + intermediate (no key), for convenience
set -eu
dir=${1:?usage: world-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
# Only our own kinds of files: DIR may be anything the caller gave.
rm -rf ./*.crt ./*.key ./*.pem ./*.csr ./openssl.cnf ./st-*

# Dates for openssl ca: GNU date, UTC, YYYYMMDDHHMMSSZ.
d() { date -u -d "$1" +%Y%m%d%H%M%SZ; }

cat > openssl.cnf <<'EOF'
# Private config so the system openssl.cnf never changes what we make.
[ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
CN = placeholder
[ ca ]
default_ca = ca_default
[ ca_default ]
dir = .
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no
[ policy_any ]
commonName = supplied
organizationName = optional
[ v3_root ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_int ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:mx1.example.test, DNS:mx2.example.test, DNS:mx3.example.test, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_wrongname ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:other.example.net
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_clientonly ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectAltName = DNS:mx1.example.test, DNS:mx2.example.test, DNS:mx3.example.test, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_client ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_ipsan5 ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
# GeneralNames: dNSName mx1.example.test, then an iPAddress of 5 bytes
subjectAltName = DER:301982106d78312e6578616d706c652e746573748705c000020107
[ v3_self ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:mx1.example.test, DNS:mx2.example.test, DNS:mx3.example.test, DNS:localhost
subjectKeyIdentifier = hash
EOF
export OPENSSL_CONF="$PWD/openssl.cnf"

key() { # file [bits]
    openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${2:-2048}" -out "$1" 2>/dev/null
    chmod 600 "$1"
}

# A CA state directory per issuer: openssl ca keeps index and serial there.
castate() { # name
    mkdir -p "st-$1/newcerts"
    : > "st-$1/index.txt"
    echo "unique_subject = no" > "st-$1/index.txt.attr"
    # Random start serial so two runs never reuse serial numbers.
    openssl rand -hex 8 | sed 's/^./1/' > "st-$1/serial"
}

# sign ISSUER NAME CN EXT START END [MD] - CSR from NAME.key, cert to NAME.crt
sign() {
    iss=$1 name=$2 cn=$3 ext=$4 start=$5 end=$6 md=${7:-sha256}
    openssl req -new -key "$name.key" -subj "/CN=$cn" -out "$name.csr"
    (cd "st-$iss" && openssl ca -batch -notext -config "$OPENSSL_CONF" \
        -cert "../$iss.crt" -keyfile "../$iss.key" -md "$md" \
        -extfile "$OPENSSL_CONF" -extensions "$ext" \
        -startdate "$start" -enddate "$end" \
        -in "../$name.csr" -out "../$name.crt" 2>/dev/null) ||
        { echo "world-certs: signing $name failed" >&2; exit 1; }
    rm -f "$name.csr"
}

# --- keys ---
# Key generation is most of the time: all at once, the 2 cores share it.
leaves="good expired notyet expiring wrongname selfsigned untrusted sha1sig clientauth old client"
for n in ca other-ca int $leaves; do key "$n.key" & done
key weakkey.key 1024 &
# An ECDSA leaf for the dual-certificate listener (RSA + ECDSA at once,
# renewal forgot the ECDSA one: it expired).
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ecexpired.key 2>/dev/null &
# and a valid one for the dual listener whose two certificates both verify
# (DANE against each: tests/integration/dane_dual.sh)
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ecgood.key 2>/dev/null &
wait
chmod 600 ecexpired.key ecgood.key
for n in ca other-ca int $leaves weakkey ecexpired ecgood; do
    [ -s "$n.key" ] || { echo "world-certs: no key $n.key" >&2; exit 1; }
done

# --- roots and intermediate ---
openssl req -x509 -new -key ca.key -subj "/O=mxscope test/CN=mxscope Test Root" \
    -days 3650 -sha256 -extensions v3_root -out ca.crt
openssl req -x509 -new -key other-ca.key -subj "/O=elsewhere/CN=Untrusted Other Root" \
    -days 3650 -sha256 -extensions v3_root -out other-ca.crt
# Backdate the intermediate so it covers every leaf's window, the
# expired and not-yet-valid ones included: only the leaf is meant to be wrong.
castate ca; castate int; castate other-ca
sign ca int "mxscope Test Intermediate" v3_int "$(d '-400 days')" "$(d '+1000 days')"

# --- leaves ---
mx=mx1.example.test
sign int good      $mx v3_leaf "$(d '-1 day')"    "$(d '+89 days')"
sign int expired   $mx v3_leaf "$(d '-120 days')" "$(d '-30 days')"
sign int notyet    $mx v3_leaf "$(d '+30 days')"  "$(d '+120 days')"
sign int expiring  $mx v3_leaf "$(d '-80 days')"  "$(d '+10 days')"
sign int wrongname other.example.net v3_wrongname "$(d '-1 day')" "$(d '+89 days')"
sign int weakkey   $mx v3_leaf "$(d '-1 day')"    "$(d '+89 days')"
sign int sha1sig   $mx v3_leaf "$(d '-1 day')"    "$(d '+89 days')" sha1
sign int clientauth $mx v3_clientonly "$(d '-1 day')" "$(d '+89 days')"
sign int old       $mx v3_leaf "$(d '-60 days')"  "$(d '+30 days')"
sign int ecexpired $mx v3_leaf "$(d '-120 days')" "$(d '-30 days')"
sign int ecgood    $mx v3_leaf "$(d '-1 day')"    "$(d '+89 days')"
sign other-ca untrusted $mx v3_leaf "$(d '-1 day')" "$(d '+89 days')"
sign ca client client.example.test v3_client "$(d '-1 day')" "$(d '+89 days')"
openssl req -x509 -new -key selfsigned.key -subj "/CN=$mx" -days 90 -sha256 \
    -extensions v3_self -out selfsigned.crt

# --- chain files, key first (smtpd_tls_chain_files order) ---
for n in good expired notyet expiring wrongname weakkey sha1sig clientauth old ecexpired ecgood; do
    cat "$n.key" "$n.crt" int.crt > "$n.pem"
done
cat selfsigned.key selfsigned.crt > selfsigned.pem
cat untrusted.key untrusted.crt other-ca.crt > untrusted.pem
cat good.key good.crt > missing_int.pem
cat old.key good.crt int.crt > mismatch.pem
cat good.crt int.crt > good.fullchain.pem
cat good.key good.crt ca.crt int.crt > chainorder.pem
cat good.key good.crt int.crt int.crt > chaindup.pem

# --- issue 14: a 30-certificate chain and an odd iPAddress SAN ---
# chain30: leaf <- ci28 <- ... <- ci1 <- ca, sent with the root: 30
# certificates.  The intermediates use v3_root's extensions (CA, no
# pathlen: v3_int's pathlen:0 would forbid the chain).  EC keys: 29 RSA keys would be most of the world's start.
eckey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; chmod 600 "$1"; }
i=1; while [ $i -le 28 ]; do eckey "ci$i.key" & i=$((i + 1)); done
eckey chain30.key &
wait
iss=ca; i=1
while [ $i -le 28 ]; do
    castate "ci$i"
    sign "$iss" "ci$i" "mxscope Chain Intermediate $i" v3_root "$(d '-400 days')" "$(d '+1000 days')"
    iss="ci$i"; i=$((i + 1))
done
sign ci28 chain30 $mx v3_leaf "$(d '-1 day')" "$(d '+89 days')"
: > chain30.ints
i=28; while [ $i -ge 1 ]; do cat "ci$i.crt" >> chain30.ints; i=$((i - 1)); done
cat chain30.key chain30.crt chain30.ints ca.crt > chain30.pem
# ipsan5: good's key, a leaf whose 2nd SAN entry is a 5-byte iPAddress
cp good.key ipsan5.key
sign int ipsan5 $mx v3_ipsan5 "$(d '-1 day')" "$(d '+89 days')"
cat ipsan5.key ipsan5.crt int.crt > ipsan5.pem
# bigcert / hugecert: good's key, a leaf with 800 / 5000 extra dNSNames:
# a Certificate message of ~25 KB (over mbedTLS's 16 KiB, under OpenSSL's
# max_cert_list of 100 KiB) and ~150 KB (over both).
bigsans() { # section count
    printf '[ %s ]\nbasicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature, keyEncipherment\nsubjectAltName = @%s_dns\n[ %s_dns ]\nDNS.0 = %s\n' "$1" "$1" "$1" "$mx"
    awk -v n="$2" 'BEGIN { for (i = 1; i <= n; i++) printf "DNS.%d = san-%05d.example.test\n", i, i }'
}
{ bigsans v3_big 800; bigsans v3_huge 5000; } >> openssl.cnf
for n in bigcert hugecert; do cp good.key $n.key; done
sign int bigcert $mx v3_big "$(d '-1 day')" "$(d '+89 days')"
sign int hugecert $mx v3_huge "$(d '-1 day')" "$(d '+89 days')"
for n in bigcert hugecert; do cat $n.key $n.crt int.crt > $n.pem; done
chmod 600 ./*.pem
rm -rf st-ca st-int st-other-ca st-ci*

# Self-check: the chain we call good must verify, the others must not
# (a world whose certificates are wrong would make every test meaningless).
openssl verify -CAfile ca.crt -untrusted int.crt -purpose sslserver good.crt >/dev/null ||
    { echo "world-certs: good.crt does not verify" >&2; exit 1; }
if openssl verify -CAfile ca.crt -untrusted int.crt expired.crt >/dev/null 2>&1; then
    echo "world-certs: expired.crt verifies" >&2; exit 1
fi
# OpenSSL verifies both issue-14 chains (what a Postfix sender's library does):
# the 30-certificate path (depth 29; OpenSSL's default limit is 100) and the
# leaf with the odd iPAddress entry.
openssl verify -verify_depth 100 -CAfile ca.crt -untrusted chain30.ints chain30.crt >/dev/null ||
    { echo "world-certs: chain30.crt does not verify with OpenSSL" >&2; exit 1; }
openssl verify -CAfile ca.crt -untrusted int.crt -purpose sslserver ipsan5.crt >/dev/null ||
    { echo "world-certs: ipsan5.crt does not verify with OpenSSL" >&2; exit 1; }
echo "world-certs: made in $dir"
