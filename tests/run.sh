#!/bin/sh
# tests/run.sh BUILD [ASAN_BUILD] - run every test; print "N passed, N failed".
#
# Test kinds, all discovered, none listed by hand:
#   BUILD/tests/test_*        cmocka unit tests (one count per binary)
#   BUILD/fuzz/replay_*       fuzz targets replaying tests/fuzz/corpus/NAME/*
#   tests/integration/*.sh    against the real servers of the test world
#   tests/console/*.sh        the console under tmux
#   tests/hostile/run.sh      the hostile-server suite
# Shell tests print "ok - NAME" / "not ok - NAME" lines (tests/lib.sh) and
# exit non-zero on failure.  With ASAN_BUILD the same suite runs again with
# the sanitizer binaries.  The test world (Postfix, unbound, certificates) is
# started once by tests/world.sh and stopped at the end.
set -u
build=$1
asan=${2:-}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
passed=0; failed=0; failures=""
log=$(mktemp -d /tmp/mxscope-test.XXXXXX)

count_tap() { # file -> adds to counters
    p=$(grep -c '^ok ' "$1" 2>/dev/null); f=$(grep -c '^not ok ' "$1" 2>/dev/null)
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
    if [ "${f:-0}" -gt 0 ]; then failures="$failures $(grep '^not ok ' "$1" | sed 's/^not ok - //' | tr '\n' ' ')"; fi
}

run_one() { # label command... ; a binary counts once, TAP output counts each line
    label=$1; shift
    out="$log/$(echo "$label" | tr '/ ' '__').log"
    if "$@" > "$out" 2>&1; then rc=0; else rc=$?; fi
    if grep -q '^\(not \)\?ok ' "$out"; then
        count_tap "$out"
        if [ $rc != 0 ] && ! grep -q '^not ok ' "$out"; then
            failed=$((failed + 1)); failures="$failures $label(exit $rc)"
        fi
    elif [ $rc = 0 ]; then passed=$((passed + 1)); echo "ok - $label"
    else failed=$((failed + 1)); failures="$failures $label"; echo "not ok - $label"; fi
    if [ $rc != 0 ] || grep -q '^not ok ' "$out"; then
        echo "---- $label (exit $rc), last lines:"; tail -n 40 "$out"; echo "----"
    else
        grep -E '^(ok|not ok|# )' "$out" || true
    fi
}

# The world: real Postfix and unbound on loopback, certificates made now.
world=""
if [ -x tests/world.sh ]; then
    world="$log/world"
    if ! sh tests/world.sh up "$world" > "$log/world-up.log" 2>&1; then
        echo "not ok - test world failed to start"; tail -n 60 "$log/world-up.log"
        sh tests/world.sh down "$world" >/dev/null 2>&1
        echo "0 passed, 1 failed"; exit 1
    fi
fi
export MXS_WORLD="$world"

suite() { # build-dir tag
    b=$1; tag=$2
    export MXS_BUILD="$top/$b" MXS_BIN="$top/$b/mxscope" MXS_TAG="$tag"
    echo "# ---- suite: $tag ($b)"
    for t in "$b"/tests/test_*; do [ -x "$t" ] && run_one "$tag/unit/${t##*/}" "$t"; done
    for r in "$b"/fuzz/replay_*; do
        [ -x "$r" ] || continue
        n=${r##*/replay_}
        run_one "$tag/fuzz-replay/$n" "$r" tests/fuzz/corpus/"$n"
    done
    for s in tests/integration/*.sh tests/console/*.sh; do
        [ -f "$s" ] || continue
        case "$tag:$s" in
        asan:*valgrind*) echo "# $tag: ${s#tests/} not run: valgrind cannot run sanitizer binaries (ASan covers them)"; continue ;;
        asan:*firstrun*) echo "# $tag: ${s#tests/} not run: it builds a fresh checkout, not the binary under test (the plain suite ran it)"; continue ;;
        esac
        run_one "$tag/${s#tests/}" sh "$s"
    done
    [ -f tests/hostile/run.sh ] && run_one "$tag/hostile" sh tests/hostile/run.sh
}

suite "$build" plain
if [ -n "$asan" ]; then
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        suite "$asan" asan
fi

[ -n "$world" ] && sh tests/world.sh down "$world" >/dev/null 2>&1
echo
[ -n "$failures" ] && echo "failed:$failures"
echo "logs: $log"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
