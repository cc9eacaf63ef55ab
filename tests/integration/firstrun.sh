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
# ...and with a terminal, `make run` opens the console on the lab (tmux).
if command -v tmux >/dev/null 2>&1; then
    sock="mxs-firstrun-$$"
    mkdir -p "$tmp/home"
    tmux -L "$sock" -f /dev/null -u new-session -d -x 100 -y 30 \
        "cd '$src' && env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS HOME='$tmp/home' LANG=C.UTF-8 LC_ALL=C.UTF-8 make -s run; echo MAKE-EXIT=\$?; sleep 60"
    i=0; seen=0
    while [ $i -lt 100 ]; do
        scr=$(tmux -L "$sock" capture-pane -p 2>/dev/null)
        if printf '%s\n' "$scr" | grep -qE '─\[?Steps\]?' && printf '%s\n' "$scr" | grep -q '\[lab:good\]'; then seen=1; break; fi
        sleep 0.2; i=$((i + 1))
    done
    if [ $seen = 1 ]; then ok "make run opens the console on the lab (Steps pane, status bar [lab:good])"
    else fail "make run opens the console on the lab" "$(printf '%s' "$scr" | head -5 | tr '\n' '|')"; fi
    tmux -L "$sock" send-keys q; sleep 0.3; tmux -L "$sock" send-keys y
    i=0
    while [ $i -lt 50 ] && ! tmux -L "$sock" capture-pane -p | grep -q 'MAKE-EXIT='; do sleep 0.2; i=$((i + 1)); done
    if tmux -L "$sock" capture-pane -p | grep -q 'MAKE-EXIT=0'; then ok "q leaves the console; make run exits 0"
    else fail "q leaves the console; make run exits 0" "$(tmux -L "$sock" capture-pane -p | grep -v '^$' | tail -3 | tr '\n' '|')"; fi
    tmux -L "$sock" kill-server >/dev/null 2>&1
else
    fail "make run in a terminal" "tmux not installed"
fi
finish
