#!/bin/sh
# tests/hostile/run.sh [NAME...] - the hostile-server suite.
#
# Owner: the hostile-server suite.  For every tests/hostile/scenarios/*.scn
# (or only the NAMEs given) start tests/fixtures/scriptsrv on the scenario,
# run the batch client against it under a hard outer timeout and check:
#   - exit code: 10 + index of the expected failing step, 0 for "none";
#   - the JSON parses and result.failed_step / steps[].status name that step;
#   - no crash: exit >= 128 or a sanitizer report on stderr fails;
#   - wall time <= the scenario deadline + 1 s (measured, not assumed);
#   - peak RSS (GNU time, %M) <= MXS_HOSTILE_MAX_KIB;
#   - the last server bytes sent before the client ended are in the
#     transcript (escaped text, or the hex of a raw TLS record);
#   - no raw control byte (0x00-0x08, 0x0b-0x1f, 0x7f), no raw C1 / bidi /
#     zero-width character, no invalid UTF-8 in stdout or stderr;
#   - "# expect-finding:" ids are among findings[].id, "# assert:" jq
#     expressions are true.
# One "ok - hostile/NAME" / "not ok - hostile/NAME: why" line per scenario,
# then "# hostile: P/T scenarios passed, worst time over deadline: X ms, peak
# memory: Y KiB"; exit 1 if any failed.  Scenario headers: docs/hostile.md.
#
# Environment: MXS_BIN (client), MXS_BUILD (for fixtures/scriptsrv), MXS_TAG
# (asan: memory bound x4), MXS_SCRIPTSRV (override the fixture path),
# MXS_HOSTILE_MAX_KIB (memory bound), MXS_HOSTILE_KEEP=1 (keep the work dir),
# MXS_HOSTILE_VERBOSE=1 (print the JSON of failures), MXS_HOSTILE_DIR (another
# scenario folder: the suite's own negative tests use it).
# Needs: jq, GNU time (/usr/bin/time, Debian "time"), coreutils timeout.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
. tests/lib.sh

need jq
need timeout
need iconv
[ -x /usr/bin/time ] || { fail "hostile: needs GNU time" "/usr/bin/time missing (Debian package time)"; exit 1; }
SRV=${MXS_SCRIPTSRV:-$MXS_BUILD/fixtures/scriptsrv}
[ -x "$SRV" ] || { fail "hostile: fixture" "$SRV not built (make BUILD=... tests-bin)"; exit 1; }
[ -x "$MXS_BIN" ] || { fail "hostile: client" "$MXS_BIN not built"; exit 1; }

# Memory bound.  The plain client keeps a bounded transcript; ASan adds
# shadow memory and quarantine, hence the factor.
max_kib=${MXS_HOSTILE_MAX_KIB:-16384}
[ "${MXS_TAG:-plain}" = asan ] && [ -z "${MXS_HOSTILE_MAX_KIB:-}" ] && max_kib=$((max_kib * 4))

work=$(mktemp -d /tmp/mxscope-hostile.XXXXXX)
[ "${MXS_HOSTILE_KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT

stage_index() { # NAME -> index in the step table, or -1
    case $1 in
    RESOLVE) echo 0;; CONNECT) echo 1;; BANNER) echo 2;; EHLO) echo 3;;
    STARTTLS) echo 4;; HANDSHAKE) echo 5;; CHAIN) echo 6;; EHLO2) echo 7;;
    QUIT) echo 8;; *) echo -1;;
    esac
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# Forbidden bytes: C0 controls except TAB/LF, DEL; raw C1 (as UTF-8), bidi
# controls, zero-width characters, LS/PS, BOM; invalid UTF-8.  One grep and
# one iconv for both files: process start-up is what makes a suite slow.
BAD_RE='[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\x8b-\x8f\xa8-\xae]|\xe2\x81[\xa0-\xa4\xa6-\xa9]|\xef\xbb\xbf|\xd8\x9c'
bad_bytes() { # out err -> appends to $why
    for l in $(LC_ALL=C grep -caP "$BAD_RE" "$1" "$2"); do
        case $l in *:0) ;; *) why="$why; ${l##*/}: $(echo "$l" | sed 's/.*://') line(s) with raw control/C1/bidi bytes";; esac
    done
    iconv -f UTF-8 -t UTF-8 "$1" "$2" > /dev/null 2>&1 || why="$why; stdout/stderr: invalid UTF-8"
}

passed=0; total=0; worst_over=-999999; worst_name=""; peak_kib=0; peak_name=""

run_scenario() { # file
    f=$1
    name=$(basename "$f" .scn)
    total=$((total + 1))
    d="$work/$name"; mkdir -p "$d"
    # All headers in one awk run; the deadline defaults to the expected
    # stage's own --timeout-STAGE, else --timeout, else 10 s.
    stage=""; args=""; deadline=""; host=mx.hostile.test; tmode=auto; tprefix=64; finds="[]"; server=""
    eval "$(awk -v q="'" '
        function sq(v) { gsub(q, q "\\" q q, v); return q v q }
        /^# expect-stage: / && !st { st = 1; print "stage=" sq(substr($0, 17)) ; stg = tolower(substr($0, 17)) }
        /^# args: / && !ar { ar = 1; a = substr($0, 9); print "args=" sq(a) }
        /^# deadline: / && !dl { dl = 1; print "deadline=" sq(substr($0, 13)) }
        /^# host: / { print "host=" sq(substr($0, 9)) }
        /^# server: / { print "server=" sq(substr($0, 11)) }
        /^# transcript: / { print "tmode=" sq(substr($0, 15)) }
        /^# transcript-prefix: / { print "tprefix=" sq(substr($0, 22) + 0) }
        /^# expect-finding: / { fl = fl (fl ? "," : "") "\"" substr($0, 19) "\"" }
        /^# assert: / { print substr($0, 11) > asf }
        END {
            print "finds=" sq("[" fl "]")
            if (!dl) {
                n = split(a, w, " "); d = ""; g = ""
                for (i = 1; i < n; i++) {
                    if (w[i] == "--timeout-" stg) d = w[i + 1]
                    if (w[i] == "--timeout") g = w[i + 1]
                }
                print "deadline=" sq(d != "" ? d : g != "" ? g : 10)
            }
        }' asf="$d/asserts" "$f")"
    [ -f "$d/asserts" ] || : > "$d/asserts"
    why=""
    if [ -z "$stage" ]; then fail "hostile/$name" "no '# expect-stage:' header"; return; fi
    if [ "$stage" = none ]; then want_rc=0
    else
        idx=$(stage_index "$stage")
        if [ "$idx" -lt 0 ]; then fail "hostile/$name" "unknown stage $stage"; return; fi
        want_rc=$((10 + idx))
    fi
    deadline_ms=$(awk -v s="$deadline" 'BEGIN { printf "%d", s * 1000 }')
    hard=$(( (deadline_ms + 999) / 1000 + 6 ))
    args=$(echo "$args" | sed "s|@CAFILE@|$d/ca.pem|g")

    # The fixture: ready when its port file appears.
    # "# server: osslsrv": the OpenSSL fixture (same command line), for what
    # an mbedTLS server cannot send (a TLS 1.3 KeyUpdate).
    srvbin=$SRV
    if [ "$server" = osslsrv ]; then
        srvbin=${MXS_OSSLSRV:-$MXS_BUILD/fixtures/osslsrv}
        [ -x "$srvbin" ] || { fail "hostile/$name" "$srvbin not built"; return; }
    fi
    "$srvbin" "$f" --port-file "$d/port" --ca-file "$d/ca.pem" --log "$d/sent.log" \
        --lifetime $((hard + 10)) > "$d/srv.out" 2> "$d/srv.err" &
    srv=$!
    i=0
    while [ ! -s "$d/port" ] && [ $i -lt 200 ] && kill -0 $srv 2>/dev/null; do
        sleep 0.05; i=$((i + 1))
    done
    if [ ! -s "$d/port" ]; then
        kill $srv 2>/dev/null; wait $srv 2>/dev/null
        fail "hostile/$name" "scriptsrv did not start: $(head -c 300 "$d/srv.err" | tr '\n' ' ')"
        return
    fi
    port=$(cat "$d/port")

    # shellcheck disable=SC2086  # args are words by design
    # --dual-cert off: scriptsrv plays one connection at a time, so the
    # RSA-only side handshake would sit in its listen queue until its grace
    # ends (a second of nothing per TLS scenario).  Side handshakes against
    # real servers: tests/integration/sideprobe.sh and findings.sh.
    # --warn-ok: the subject here is the stage that fails (its exit code);
    # warnings' own exit code 4 is tested in findings.sh and probe.sh.
    t0=$(now_ms)
    timeout -k 2 "$hard" /usr/bin/time -f %M -o "$d/mem" \
        "$MXS_BIN" --batch --json --dual-cert off --warn-ok --host "$host" --connect "127.0.0.1:$port" $args \
        > "$d/out" 2> "$d/err" < /dev/null
    rc=$?
    t1=$(now_ms)
    wall=$((t1 - t0))

    # Give the fixture a moment to finish its script, then end it.
    i=0
    while kill -0 $srv 2>/dev/null && [ $i -lt 6 ]; do sleep 0.05; i=$((i + 1)); done
    kill $srv 2>/dev/null; wait $srv 2>/dev/null

    # --- checks ---
    if [ $rc = 124 ] || [ $rc = 137 ]; then
        why="$why; HUNG: killed by the outer timeout after ${hard}s"
    elif [ $rc -ge 128 ]; then
        why="$why; CRASH: killed by signal $((rc - 128))"
    fi
    if grep -qE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' "$d/err"; then
        why="$why; sanitizer report on stderr"
    fi
    [ $rc = "$want_rc" ] || why="$why; exit $rc, expected $want_rc"

    # One jq run does every JSON check (jq 1.6 takes ~150 ms to start):
    # "R why" lines are failures, "T"/"H" lines the transcript's text/hex.
    prog_asserts=""; n=0
    while IFS= read -r a; do
        [ -n "$a" ] || continue
        n=$((n + 1))
        prog_asserts="$prog_asserts (if ((try ($a) catch false) == true) then empty else \"R assert $n failed\" end),"
    done < "$d/asserts"
    jq -rn --arg stage "$stage" --argjson finds "$finds" '
      def r(m): "R " + m;
      [inputs] as $docs
      | if ($docs | length) != 1 then r("stdout holds \($docs | length) JSON documents, not one")
        else $docs[0] | (
          (if $stage == "none" then
             (if .result.failed_step != null then r("failed_step=\(.result.failed_step | tojson), expected null") else empty end),
             ([.steps[] | select(.status == "fail") | .step] | if length > 0 then r("steps with status fail: \(tojson)") else empty end)
           else
             (if .result.failed_step != $stage then r("failed_step=\(.result.failed_step | tojson), expected \($stage)") else empty end),
             ([.steps[] | select(.step == $stage)][0].status as $s
              | if $s != "fail" then r("steps[\($stage)].status=\($s | tojson)") else empty end)
           end),
          ($finds[] as $id | if ([.findings[]?.id] | index($id)) == null
             then r("finding \($id) missing (have \([.findings[]?.id] | tojson))") else empty end),
          '"$prog_asserts"'
          (.transcript[]? | if .text then "T " + .text elif .hex then "H " + (.hex | ascii_downcase) else empty end))
        end' < "$d/out" > "$d/checks" 2> "$d/jq.err"
    jrc=$?
    if [ $jrc != 0 ]; then
        if jq -e . "$d/out" > /dev/null 2>&1; then why="$why; jq program error: $(head -c 200 "$d/jq.err")"
        else why="$why; stdout is not JSON"; fi
    else
        while IFS= read -r l; do
            case $l in
            "R assert "*) k=${l#R assert }; k=${k%% *}
                          why="$why; assert failed: $(sed -n "${k}p" "$d/asserts")";;
            R\ *) why="$why; ${l#R }";;
            esac
        done < "$d/checks"
        sed -n 's/^T //p' "$d/checks" > "$d/tr.text"
        sed -n 's/^H //p' "$d/checks" > "$d/tr.hex"
        # Transcript: the last thing the server sent before the client ended.
        # Replies to QUIT are exempt: a client may close once QUIT is sent.
        case $tmode in
        off) ;;
        auto)
            last=$(awk -F '\t' -v t="$t1" '$1 <= t && $3 !~ /^323231/' "$d/sent.log" 2>/dev/null | tail -n 1)
            if [ -n "$last" ]; then
                kind=$(printf '%s' "$last" | cut -f 2)
                hex=$(printf '%s' "$last" | cut -f 3 | cut -c "1-$((tprefix * 2))")
                txt=$(printf '%s' "$last" | cut -f 4- | LC_ALL=C cut -c "1-$tprefix")
                found=0
                if [ "$kind" != tls ] && [ -n "$txt" ] && LC_ALL=C grep -qF -- "$txt" "$d/tr.text"; then found=1; fi
                if [ -n "$hex" ] && grep -qF -- "$hex" "$d/tr.hex"; then found=1; fi
                [ -z "$hex" ] && found=1
                [ $found = 1 ] || why="$why; transcript lacks the last $kind sent: '$txt' (hex $hex)"
            fi
            ;;
        *)
            LC_ALL=C grep -qF -- "$tmode" "$d/tr.text" || why="$why; transcript lacks '$tmode'"
            ;;
        esac
    fi
    bad_bytes "$d/out" "$d/err"
    over=$((wall - deadline_ms))
    [ $over -le 1000 ] || why="$why; took $wall ms, deadline ${deadline_ms} ms + 1000"
    if [ $over -gt $worst_over ]; then worst_over=$over; worst_name=$name; fi
    kib=$(tail -n 1 "$d/mem" 2>/dev/null)
    case $kib in ''|*[!0-9]*) kib=0; why="$why; no memory figure";; esac
    [ "$kib" -le "$max_kib" ] || why="$why; peak RSS $kib KiB > $max_kib KiB"
    if [ "$kib" -gt $peak_kib ]; then peak_kib=$kib; peak_name=$name; fi

    if [ -z "$why" ]; then
        passed=$((passed + 1))
        ok "hostile/$name ($stage, exit $rc, $wall ms, $kib KiB)"
    else
        fail "hostile/$name" "${why#; } [$wall ms, $kib KiB]"
        if [ "${MXS_HOSTILE_VERBOSE:-0}" = 1 ]; then
            echo "#   stderr: $(head -c 400 "$d/err" | tr '\n' ' ')"
            jq -c '{result, steps: [.steps[] | "\(.step):\(.status):\(.elapsed_ms)"], findings: [.findings[]?.id]}' "$d/out" 2>/dev/null | sed 's/^/#   /'
            jq -c '.transcript[]? | [.step, .kind, (.text // .hex)[0:160]]' "$d/out" 2>/dev/null | tail -n 12 | sed 's/^/#   /'
            echo "#   fixture: $(tail -n 3 "$d/srv.err" | tr '\n' ' ')"
        fi
    fi
}

sdir=${MXS_HOSTILE_DIR:-tests/hostile/scenarios}
if [ $# -gt 0 ]; then
    for n in "$@"; do run_scenario "$sdir/${n%.scn}.scn"; done
else
    for f in "$sdir"/*.scn; do run_scenario "$f"; done
fi

[ $worst_over -lt 0 ] && worst_over=0
echo "# hostile: $passed/$total scenarios passed, worst time over deadline: $worst_over ms, peak memory: $peak_kib KiB"
echo "# hostile: slowest against its deadline: $worst_name; largest: $peak_name; memory bound $max_kib KiB (${MXS_TAG:-plain})"
[ "$passed" = "$total" ] && [ "$T_FAILED" = 0 ]
