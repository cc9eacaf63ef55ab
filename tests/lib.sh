# tests/lib.sh - sourced by shell tests.  TAP-like lines the runner counts.
#   ok NAME / fail NAME WHY / check NAME CMD... / skip_all WHY (a failure!)
# Environment from tests/run.sh: MXS_BIN (the binary under test), MXS_BUILD,
# MXS_WORLD (the running test world, see tests/world.sh), MXS_TAG.
: "${MXS_BIN:=$(pwd)/build/mxscope}"
: "${MXS_BUILD:=$(pwd)/build}"
T_FAILED=0
ok()   { echo "ok - $1"; }
fail() { echo "not ok - $1${2:+: $2}"; T_FAILED=1; }
check() { n=$1; shift; if "$@"; then ok "$n"; else fail "$n" "command failed: $*"; fi; }
# A test that cannot run is a failure, never a silent pass.
need() { command -v "$1" >/dev/null 2>&1 || { fail "needs $1" "not installed"; exit 1; }; }
world_env() { # load the world's ports and paths
    [ -n "${MXS_WORLD:-}" ] && [ -f "$MXS_WORLD/env" ] || { fail "test world" "MXS_WORLD not running"; exit 1; }
    . "$MXS_WORLD/env"
}
finish() { exit $T_FAILED; }
