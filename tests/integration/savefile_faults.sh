#!/bin/sh
# tests/integration/savefile_faults.sh - savefile_write under real faults.
#
#  1. A full disk: a 64 KiB tmpfs, a save bigger than that must fail with
#     "No space left on device", keep the old file byte for byte and leave no
#     temp file.  (Needs root for mount: not being able to mount is a
#     failure, not a skip.)
#  2. Crashes: savetool is SIGKILLed at random moments while it saves a large
#     file; after every kill the target must be the complete old or the
#     complete new content (compared byte for byte with reference files of
#     different sizes and patterns), never a mix or a truncation.
# Owner: savefile module.  Uses MXS_BUILD/fixtures/savetool.
set -u
. "$(dirname "$0")/../lib.sh"
need mount
need cmp
need od

tool="$MXS_BUILD/fixtures/savetool"
[ -x "$tool" ] || { fail "savetool fixture" "$tool not built"; exit 1; }

work=$(mktemp -d /tmp/mxs-savefaults.XXXXXX)
mnt="$work/mnt"
mounted=0
cleanup() {
    [ "$mounted" = 1 ] && umount "$mnt" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
mkdir -p "$mnt" "$work/disk"

# ---- 1. full tmpfs -------------------------------------------------------
if mount -t tmpfs -o size=64k,mode=0700 tmpfs "$mnt" 2>"$work/mount.err"; then
    mounted=1
    ok "mount a 64k tmpfs"
else
    fail "mount a 64k tmpfs" "$(cat "$work/mount.err")"
fi

if [ "$mounted" = 1 ]; then
    "$tool" "$work/ref-old" 10000 "old-content;" >/dev/null
    if "$tool" "$mnt/target" 10000 "old-content;" >/dev/null && cmp -s "$mnt/target" "$work/ref-old"; then
        ok "tmpfs: first save"
    else
        fail "tmpfs: first save"
    fi
    if "$tool" "$mnt/target" 300000 "NEW" >"$work/full.out" 2>"$work/full.err"; then
        fail "tmpfs: oversized save fails" "savetool succeeded on a 64k tmpfs"
    else
        ok "tmpfs: oversized save fails"
    fi
    if grep -q "No space left on device" "$work/full.err"; then
        ok "tmpfs: error says No space left on device ($(cat "$work/full.err"))"
    else
        fail "tmpfs: error says No space left on device" "got: $(cat "$work/full.err")"
    fi
    check "tmpfs: old file intact" cmp -s "$mnt/target" "$work/ref-old"
    n=$(ls -A "$mnt" | wc -l)
    if [ "$n" = 1 ]; then ok "tmpfs: no temp file left"; else fail "tmpfs: no temp file left" "$(ls -A "$mnt" | tr '\n' ' ')"; fi
    # After the failure the space is free again: a fitting save works.
    "$tool" "$work/ref-small" 20000 "second;" >/dev/null
    if "$tool" "$mnt/target" 20000 "second;" >/dev/null && cmp -s "$mnt/target" "$work/ref-small"; then
        ok "tmpfs: space released, next save succeeds"
    else
        fail "tmpfs: space released, next save succeeds"
    fi
    mode=$(stat -c %a "$mnt/target")
    if [ "$mode" = 600 ]; then ok "tmpfs: mode 0600"; else fail "tmpfs: mode 0600" "mode $mode"; fi
    umount "$mnt" && mounted=0
    if [ "$mounted" = 0 ]; then ok "tmpfs unmounted"; else fail "tmpfs unmounted"; fi
fi

# ---- 2. kill -9 at random moments ------------------------------------------
# Two references with different sizes and patterns: a prefix of one can
# never equal the other, and a mix cannot equal either.
sizeA=25165824      # 24 MiB of "AAAA-0123456789\n"
sizeB=20971529      # 20 MiB + 9 of "b.b.b.b.\n"
patA='AAAA-0123456789
'
patB='b.b.b.b.
'
d="$work/disk"
"$tool" "$work/refA" $sizeA "$patA" >/dev/null || fail "make reference A"
t0=$(date +%s%N)
"$tool" "$work/refB" $sizeB "$patB" >/dev/null || fail "make reference B"
t1=$(date +%s%N)
# Kill window: 1.5 times one whole save as measured here (the sanitizer
# build is several times slower), so kills land before, during and after.
window=$(( (t1 - t0) / 1000000 * 3 / 2 ))
[ $window -lt 50 ] && window=50
[ $window -gt 3000 ] && window=3000
cp "$work/refA" "$d/target"

kills=${SAVEFILE_KILLS:-50}
old=0; new=0; bad=0; i=0
cur=A
while [ $i -lt $kills ]; do
    i=$((i + 1))
    if [ $cur = A ]; then nxt=B; size=$sizeB; pat=$patB; else nxt=A; size=$sizeA; pat=$patA; fi
    "$tool" "$d/target" $size "$pat" >/dev/null 2>&1 &
    pid=$!
    r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
    ms=$((r % window))
    sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    if cmp -s "$d/target" "$work/ref$cur"; then
        old=$((old + 1))
    elif cmp -s "$d/target" "$work/ref$nxt"; then
        new=$((new + 1)); cur=$nxt
    else
        bad=$((bad + 1))
        echo "# kill $i: target is neither complete old nor complete new ($(stat -c %s "$d/target") bytes)"
        cp "$work/ref$cur" "$d/target"
    fi
    # A killed save leaves its temp file (nothing can remove it); only ours.
    for f in "$d"/.* "$d"/*; do
        case ${f##*/} in
            .|..|target|'*'|'.*') ;;
            .target.??????) rm -f "$f" ;;
            *) bad=$((bad + 1)); echo "# unexpected file ${f##*/}"; rm -f "$f" ;;
        esac
    done
done
echo "# $kills kills within 0..$window ms: $old left the old content, $new the new, $bad anything else"
if [ $bad = 0 ]; then ok "kill -9 x$kills: target always complete old or complete new"
else fail "kill -9 x$kills: target always complete old or complete new" "$bad bad outcomes"; fi
# Without at least one interrupted save the test would prove nothing.
if [ $old -ge 1 ]; then ok "kill -9: some saves were interrupted ($old)"
else fail "kill -9: some saves were interrupted" "all $kills saves completed before the kill"; fi

finish
