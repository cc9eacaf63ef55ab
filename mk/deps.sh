#!/bin/sh
# mk/deps.sh - make sure everything mxscope builds and tests with is here.
#
#   mk/deps.sh build  BUILD_DIR   libraries and tools to build mxscope
#   mk/deps.sh test   BUILD_DIR   plus the real peers the tests start
#
# Then it writes BUILD_DIR/config.mk: every compiler and linker flag that
# depends on what is installed (mbedTLS from the system or the private
# prefix, pkg-config answers).  The Makefile includes that file and has a
# rule that makes it by running this script, so make decides the flags only
# once the dependencies are in place: the first `make` on a fresh machine
# works, not only the second.
#
# MXS_DEPS_CACHE=DIR: a folder holding the mbedTLS .deb files already
# downloaded (BUILD_DIR/deps/dl of another checkout).  Used by the fresh-clone
# test so that it exercises the whole install path but the download.
# Debian packages are installed with apt-get when we are root.  mbedTLS must
# be 3.6 LTS >= 3.6.6: the system's when pkg-config finds it, otherwise the
# packages of Debian 13 ("trixie") fetched through a private apt
# configuration under BUILD_DIR/deps (the system's apt sources are not
# touched) and unpacked into BUILD_DIR/deps/prefix, linked statically.
# Not root and something missing: one message naming exactly what to install.
set -eu
what=${1:-build}
build=${2:-build}
deps="$build/deps"
MBEDTLS_MIN=3.6.6

pkgs_build="gcc make pkg-config libncurses-dev libreadline-dev libunbound-dev
 libjansson-dev libcurl4-openssl-dev zlib1g-dev libidn2-dev dns-root-data ca-certificates"
pkgs_test="libcmocka-dev postfix unbound ldnsutils tmux openssl libssl-dev clang
 libclang-rt-14-dev swaks libnet-ssleay-perl valgrind procps iproute2 jq time nginx-light"

# dpkg-query: is a package installed?
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }

# python3: tests/fixtures/dnssrv.py, the hostile DNS server of dns_hostile.sh
pkgs_test="$pkgs_test python3"
# prometheus: its promtool checks the --format prometheus exposition (monitor.sh)
pkgs_test="$pkgs_test prometheus"
want=$pkgs_build
[ "$what" = test ] && want="$want $pkgs_test"
missing=""
for p in $want; do have_pkg "$p" || missing="$missing $p"; done

apt_updated=0
apt_update() {
    [ $apt_updated = 1 ] && return 0
    apt-get update -qq >/dev/null
    apt_updated=1
}

if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "mxscope: missing Debian packages:$missing" >&2
        echo "mxscope: install them with: sudo apt-get install$missing" >&2
        exit 1
    fi
    echo "deps: installing$missing"
    # postfix asks how to configure the system MTA: we only run our own
    # instances, so the system one stays unconfigured.
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt_update
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# --- mbedTLS 3.6 ---------------------------------------------------------
mkdir -p "$build"
prefix="$deps/prefix"
mode=""
if pkg-config --atleast-version=$MBEDTLS_MIN mbedtls 2>/dev/null &&
   pkg-config --max-version=3.6.999 mbedtls 2>/dev/null; then
    mode=system
elif [ -f "$prefix/usr/include/mbedtls/build_info.h" ] &&
     [ -f "$prefix/usr/lib/x86_64-linux-gnu/libmbedtls.a" ]; then
    mode=local
fi

mbed_pkgs="libmbedtls-dev libmbedtls21 libmbedx509-7 libmbedcrypto16"
if [ -z "$mode" ]; then
    mkdir -p "$deps/dl"
    abs=$(cd "$deps" && pwd)
    cache=${MXS_DEPS_CACHE:-}
    if [ -n "$cache" ] && [ "$(ls "$cache"/libmbed*.deb 2>/dev/null | wc -l)" -ge 4 ]; then
        echo "deps: mbedTLS 3.6 packages from the cache $cache"
        cp "$cache"/libmbed*.deb "$abs/dl/"
    else
        if [ "$(id -u)" != 0 ] && ! command -v apt-get >/dev/null; then
            echo "mxscope: mbedTLS >= $MBEDTLS_MIN not found; install Debian 13's: $mbed_pkgs" >&2
            exit 1
        fi
        echo "deps: fetching mbedTLS 3.6 ($mbed_pkgs) from Debian 13 into $prefix"
        mkdir -p "$deps/apt/lists/partial" "$deps/apt/cache/archives/partial"
        key=/usr/share/keyrings/debian-archive-keyring.gpg
        cat > "$deps/apt/sources.list" <<SRC
deb [signed-by=$key] http://deb.debian.org/debian trixie main
deb [signed-by=$key] http://deb.debian.org/debian-security trixie-security main
SRC
        # A private apt: its own sources, lists, cache and an empty dpkg
        # status, so nothing of the system's configuration is read or changed.
        : > "$abs/apt/status"
        set -- -o Dir::Etc::SourceList="$abs/apt/sources.list" \
               -o Dir::Etc::SourceParts=/dev/null \
               -o Dir::State::Lists="$abs/apt/lists" \
               -o Dir::Cache="$abs/apt/cache" \
               -o Dir::State::status="$abs/apt/status" \
               -o Debug::NoLocking=1 -o APT::Sandbox::User=root -qq
        apt-get "$@" update >/dev/null
        (cd "$abs/dl" && apt-get "$@" download $mbed_pkgs >/dev/null)
    fi
    rm -rf "$prefix.tmp"; mkdir -p "$prefix.tmp"
    for f in "$abs"/dl/*.deb; do dpkg-deb -x "$f" "$prefix.tmp"; done
    ver=$(sed -n 's/^#define MBEDTLS_VERSION_STRING *"\(.*\)"/\1/p' "$prefix.tmp/usr/include/mbedtls/build_info.h")
    case "$ver" in
        3.6.*) n=${ver#3.6.}; if [ "$n" -lt 6 ]; then echo "deps: got mbedTLS $ver, need >= $MBEDTLS_MIN" >&2; exit 1; fi ;;
        *) echo "deps: got mbedTLS '$ver', need 3.6 >= $MBEDTLS_MIN" >&2; exit 1 ;;
    esac
    rm -rf "$prefix"; mv "$prefix.tmp" "$prefix"
    echo "deps: mbedTLS $ver in $prefix"
    mode=local
fi

# --- config.mk: the flags, now that everything is installed ---------------
pc() { pkg-config "$@" 2>/dev/null || true; }
if [ "$mode" = local ]; then
    p=$(cd "$prefix/usr" && pwd)
    mbed_cflags="-isystem $p/include"
    l="$p/lib/x86_64-linux-gnu"
    mbed_libs="$l/libmbedtls.a $l/libmbedx509.a $l/libmbedcrypto.a -lpthread"
else
    mbed_cflags=$(pc --cflags mbedtls mbedx509 mbedcrypto)
    mbed_libs="$(pc --libs mbedtls mbedx509 mbedcrypto) -lpthread"
fi
{
    echo "# Written by mk/deps.sh: the flags of what is installed.  Remade when"
    echo "# mk/deps.sh changes; delete it to decide again."
    echo "MBED_MODE := $mode"
    echo "MBED_CFLAGS := $mbed_cflags"
    echo "MBED_LIBS := $mbed_libs"
    echo "UNBOUND_LIBS := -lunbound"
    echo "JANSSON_CFLAGS := $(pc --cflags jansson)"
    echo "JANSSON_LIBS := $(pc --libs jansson)"
    echo "CURL_CFLAGS := $(pc --cflags libcurl)"
    echo "CURL_LIBS := $(pc --libs libcurl)"
    echo "ZLIB_LIBS := $(pc --libs zlib)"
    echo "IDN2_CFLAGS := $(pc --cflags libidn2)"
    echo "IDN2_LIBS := $(pc --libs libidn2)"
    echo "TUI_CFLAGS := $(pc --cflags ncursesw readline)"
    echo "TUI_LIBS := $(pc --libs ncursesw readline)"
} > "$build/config.mk.tmp"
mv "$build/config.mk.tmp" "$build/config.mk"
echo "$mode" > "$build/mbedtls.mode"
