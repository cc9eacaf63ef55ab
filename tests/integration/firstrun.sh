#!/bin/sh
# firstrun.sh - the README's first command works the first time.
#
# A fresh checkout (the files git has for this tree: no build/, no config.mk,
# no mbedTLS prefix) in a temp folder, then ONE plain `make` with nothing
# inherited from the make that runs the suite (MAKEFLAGS, MAKELEVEL: a
# sub-make hid the first-run failure before).  The mbedTLS packages already
# downloaded by this checkout are offered as a cache (MXS_DEPS_CACHE) so the
# test does not reach the network; unpacking them, deciding the flags and the
# whole build happen for real.  Then the binary answers --version, and
# `make run` without a terminal says so in one line.
. tests/lib.sh
top=$(pwd)
tmp=$(mktemp -d /tmp/mxscope-firstrun.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
src="$tmp/mxscope"
mkdir -p "$src"
# Our file names have no newlines; files deleted but not yet committed are
# left out, as a clone of the next commit would.
git ls-files --cached --others --exclude-standard |
    while IFS= read -r f; do [ -f "$f" ] && printf '%s\n' "$f"; done |
    tar -T - -cf - | tar -xf - -C "$src"
check "fresh checkout has no build outputs" test ! -e "$src/build"

cache=""
[ -d "$top/build/deps/dl" ] && cache="$top/build/deps/dl"
if env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS -u MAKEOVERRIDES -u CI MXS_DEPS_CACHE="$cache" \
       make -C "$src" > "$tmp/make.log" 2>&1; then
    ok "first make in a fresh checkout"
else
    fail "first make in a fresh checkout" "$(grep -m3 -E 'error|Error' "$tmp/make.log" | tr '\n' ' ')"
    tail -n 30 "$tmp/make.log"
fi
v=$("$src/build/mxscope" --version 2>&1 | head -n 1)
case "$v" in
    mxscope\ *) ok "built binary runs --version ($v)" ;;
    *) fail "built binary runs --version" "got: $v" ;;
esac
# The archive per module exists and the lab is not part of the client library.
check "one archive per core module" test -f "$src/build/lib/libmxprobe.a" -a -f "$src/build/lib/liblab.a"

out=$(env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -C "$src" run < /dev/null 2>&1 > "$tmp/run.out")
lines=$(printf '%s\n' "$out" | grep -vc '^make: \*\*\*')
case "$out" in
    *"needs a terminal"*) [ "$lines" = 1 ] && ok "make run without a terminal: one line" ||
                          fail "make run without a terminal: one line" "$out" ;;
    *) fail "make run without a terminal says so" "got: $out" ;;
esac
finish
