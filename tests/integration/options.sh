#!/bin/sh
# options.sh - the command line, --help and the man page agree.
#
# --help is generated from the setting table and tui/options.c's front-end
# table, so it lists every option there is.  This test holds docs/mxscope.1
# to it both ways: every option --help shows is documented in the man
# page's OPTIONS section, and the man page names no option --help does not
# show.  Then every option --help shows is one getopt accepts, and a few
# behaviours of the parser itself (errors name the option, --help wins,
# --tls-on-connect moves only a default port).  No test world needed.
. tests/lib.sh
tmp=$(mktemp -d /tmp/mxscope-options.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
man=docs/mxscope.1

# Options named in text: --long-name (a trailing '-' is not part of it,
# "--timeout-STAGE" is one name) and -C short options.
opts() {
    grep -oE '(^|[^A-Za-z0-9-])--?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?' |
        sed -E 's/^[^-]*//' | grep -vE '^-[0-9]{2,}' | sort -u
}
# The man page as words: font escapes dropped, "\-" as "-", and the
# alternating-font macros (.BI .BR ...) joined the way troff joins them.
man_text() {
    sed -n "$1" "$man" | sed -E 's/\\f[BIRP]//g; s/\\-/-/g' | awk '
        /^\.(BI|BR|IB|IR|RB|RI) / {
            line = substr($0, 5); out = ""
            while (length(line)) {
                sub(/^ +/, "", line)
                if (substr(line, 1, 1) == "\"") { i = index(substr(line, 2), "\""); w = substr(line, 2, i - 1); line = substr(line, i + 2) }
                else { i = index(line, " "); if (!i) i = length(line) + 1; w = substr(line, 1, i - 1); line = substr(line, i) }
                out = out w
            }
            print out; next
        }
        { sub(/^\.[A-Z]+ /, ""); print }'
}

"$MXS_BIN" --help > "$tmp/help" 2> "$tmp/help.err"
check "--help exits 0 and writes nothing on stderr" test ! -s "$tmp/help.err"
opts < "$tmp/help" > "$tmp/help.opts"
man_text '/^\.SH OPTIONS/,/^\.SH /p' | opts > "$tmp/man.opts"
man_text '1,$p' | opts > "$tmp/man.all"
n=$(wc -l < "$tmp/help.opts")
if [ "$n" -ge 40 ]; then ok "--help lists $n options"; else fail "--help lists the options" "only $n: $(tr '\n' ' ' < "$tmp/help.opts")"; fi

missing=$(comm -23 "$tmp/help.opts" "$tmp/man.opts" | tr '\n' ' ')
if [ -z "$missing" ]; then ok "the man page's OPTIONS documents every option of --help"
else fail "the man page's OPTIONS documents every option of --help" "missing: $missing"; fi
extra=$(comm -13 "$tmp/help.opts" "$tmp/man.all" | tr '\n' ' ')
if [ -z "$extra" ]; then ok "the man page names no option that does not exist"
else fail "the man page names no option that does not exist" "unknown: $extra"; fi

# Every option --help shows is one getopt knows (a value "x" follows; the
# trailing --help ends the run when the option itself did not).
# --timeout-STAGE stands for one option per stage, named in its help line.
stages=$(grep -- '--timeout-STAGE' "$tmp/help" | sed 's/.*one stage: //')
bad=""
for o in $(cat "$tmp/help.opts"); do
    case "$o" in
    *STAGE) names=$(for s in $stages; do echo "--timeout-$s"; done) ;;
    *[A-Z]*) continue ;;
    *) names=$o ;;
    esac
    for n in $names; do
        "$MXS_BIN" "$n" x --help > /dev/null 2> "$tmp/one.err"
        if grep -qE 'unrecognized|invalid option|ambiguous' "$tmp/one.err"; then bad="$bad $n"; fi
    done
done
[ -n "$stages" ] || bad="$bad (no stages in the --timeout-STAGE line)"
if [ -z "$bad" ]; then ok "getopt accepts every option --help shows"; else fail "getopt accepts every option --help shows" "refused:$bad"; fi

# A refused value: exit 1, the option and the reason on stderr.
"$MXS_BIN" --batch --tls-min 1.1 example.test > /dev/null 2> "$tmp/err"; rc=$?
if [ $rc = 1 ] && grep -q -- '--tls-min: .*1.2, 1.3 or any' "$tmp/err"; then ok "a refused value names the option"
else fail "a refused value names the option" "exit $rc: $(cat "$tmp/err")"; fi
"$MXS_BIN" --help --port x > /dev/null 2>&1; rc=$?
check "--help before a bad value still shows the help" test $rc = 0
"$MXS_BIN" --batch > /dev/null 2>&1; rc=$?
check "--batch without a target is a usage error" test $rc = 1
"$MXS_BIN" --nonsense > /dev/null 2> "$tmp/err"; rc=$?
if [ $rc = 1 ] && grep -q '^usage: mxscope' "$tmp/err"; then ok "an unknown option: usage on stderr, exit 1"
else fail "an unknown option: usage on stderr, exit 1" "exit $rc"; fi

# --tls-on-connect: 465 unless a port was given (--port, HOST:PORT, ADDR:PORT).
# --connect pins the address and --stop-after RESOLVE runs nothing: no network.
port() {
    "$MXS_BIN" --batch --json --connect 127.0.0.1 --stop-after RESOLVE "$@" | jq -r .target.port
}
need jq
p1=$(port --host mx.example.test --tls-on-connect)
p2=$(port --host mx.example.test:25 --tls-on-connect)
p3=$(port --tls-on-connect --port 25 --host mx.example.test)
p4=$(port --host mx.example.test)
p5=$(port --host mx.example.test -6 --no-sni --tls-on)
if [ "$p1 $p2 $p3 $p4 $p5" = "465 25 25 25 465" ]; then ok "--tls-on-connect moves only a default port"
else fail "--tls-on-connect moves only a default port" "got $p1 $p2 $p3 $p4 $p5, want 465 25 25 25 465"; fi
sni=$("$MXS_BIN" --batch --json --connect 127.0.0.1 --stop-after RESOLVE --host mx.example.test --no-sni | jq -r .target.sni)
check "--no-sni sends no SNI" test "$sni" = null
finish
