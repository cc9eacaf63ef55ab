#!/bin/sh
# tests/integration/json_schema.sh - the JSON output's schema is pinned.
#
# For several real documents (lab scenarios with different outcomes, a
# saved JSON session and a saved text transcript loaded back, a DNS probe
# with DANE and a --all survey against the test world) derive every key path
# with its JSON type (jq paths / getpath | type; array indexes collapsed to
# []) and compare the table with the committed pin,
# tests/fixtures/json-schema.txt.  A renamed, removed, added or retyped field
# fails here until the pin and docs/json.md are updated together:
#
#     MXS_SCHEMA_UPDATE=1 sh tests/integration/json_schema.sh   # rewrites the pin
#
# Then every top-level and second-level key of the pin must be named in
# docs/json.md, in the section of its parent (the survey's in the survey
# block; its .dns and .probes[] are whole documents, covered by the first).
. "$(dirname "$0")/../lib.sh"
need jq
world_env
top=$(cd "$(dirname "$0")/../.." && pwd)
pin="$top/tests/fixtures/json-schema.txt"
doc="$top/docs/json.md"
tmp=$(mktemp -d /tmp/mxscope-schema.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# ---- the documents ------------------------------------------------------------
# Columns of the table, in order: NAME and how its document is made.
cols="good expired nostarttls banner554 ccert renewal loadjson loadtext dane survey svdns svprobe"
lab() { # NAME SCENARIO [args]
    n=$1; s=$2; shift 2
    "$MXS_BIN" --batch --json --lab "$s" --timeout 15 "$@" > "$tmp/$n.json" 2> "$tmp/$n.err"
}
lab good good --save-json "$tmp/saved.json"
lab expired expired --save "$tmp/saved.txt"
lab nostarttls no-starttls
lab banner554 banner-rejected
lab ccert client-cert-required
lab renewal fingerprint-after-renewal
"$MXS_BIN" --batch --json --load "$tmp/saved.json" > "$tmp/loadjson.json" 2> "$tmp/loadjson.err"
"$MXS_BIN" --batch --json --load "$tmp/saved.txt" > "$tmp/loadtext.json" 2> "$tmp/loadtext.err"
dns="--resolver $MXS_DNS_RESOLVER --trust-anchor $MXS_TRUST_ANCHOR --unbound-conf $MXS_UNBOUND_CONF --cafile $MXS_CA --timeout 10"
# shellcheck disable=SC2086
"$MXS_BIN" --batch --json $dns --port "$MXS_PORT_GOOD" -4 --mx 0 --tlsa-port 25 example.test > "$tmp/dane.json" 2> "$tmp/dane.err"
# shellcheck disable=SC2086
"$MXS_BIN" --batch --all --json $dns --port "$MXS_PORT_GOOD" -4 example.test > "$tmp/all.json" 2> "$tmp/all.err"
# the survey itself (its .dns and .probes[] reduced to their own type), the
# RESOLVE-only session in .dns, the probe documents in .probes[] (merged)
jq '.dns = {} | .probes = [{}]' "$tmp/all.json" > "$tmp/survey.json"
jq '.dns' "$tmp/all.json" > "$tmp/svdns.json"
jq '.probes' "$tmp/all.json" > "$tmp/svprobe.json"

all_there=1
for c in $cols; do
    if jq -e 'type == "object" or type == "array"' "$tmp/$c.json" > /dev/null 2>&1; then :
    else all_there=0; fail "$c: a JSON document" "$(head -c 300 "$tmp/$c.json" "$tmp/$c.err" 2>/dev/null)"; fi
done
[ $all_there = 1 ] && ok "every document of the table is JSON"

# ---- the table -----------------------------------------------------------------------
# schema: "PATH CODE" per key path; CODE the types seen there, one letter
# each: o object, a array, s string, n number, b boolean, 0 null.  For svprobe
# (an array of documents) the paths are those of its elements.
schema() {
    jq -r '(if ($svprobe == "1") then .[] else . end) |
        paths as $p | [($p | map(if type == "number" then "[]" else "." + . end) | join("")),
                       (getpath($p) | type)] | @tsv' --arg svprobe "$2" "$1" |
    awk -F '\t' '{ c = substr($2, 1, 1); if ($2 == "null") c = "0"; seen[$1, c] = 1; p[$1] = 1 }
                 END { for (k in p) { t = ""
                           for (i = 1; i <= 6; i++) if (seen[k, substr("oasnb0", i, 1)]) t = t substr("oasnb0", i, 1)
                           print k, t } }' | sort
}
for c in $cols; do
    s=0; [ "$c" = svprobe ] && s=1
    schema "$tmp/$c.json" $s > "$tmp/$c.schema"
done
{
    echo "# tests/fixtures/json-schema.txt - the JSON output's schema, pinned by"
    echo "# tests/integration/json_schema.sh (read its header).  One row per key"
    echo "# path; per document the types seen there: o object, a array, s string,"
    echo "# n number, b boolean, 0 null; - absent."
    printf '%-44s' "# path"; for c in $cols; do printf ' %-10s' "$c"; done; echo
    for c in $cols; do printf '%s\n' "$tmp/$c.schema"; done | xargs awk '
        FNR == 1 { f++ } { t[$1, f] = $2; p[$1] = 1 }
        END { for (k in p) { line = sprintf("%-44s", k)
                  for (i = 1; i <= f; i++) line = line sprintf(" %-10s", ((k, i) in t) ? t[k, i] : "-")
                  print line } }' | sort
} | sed 's/ *$//' > "$tmp/table.txt"

if [ "${MXS_SCHEMA_UPDATE:-}" = 1 ]; then
    cp "$tmp/table.txt" "$pin"
    echo "# wrote $pin: now describe every change in docs/json.md"
fi
if [ -f "$pin" ] && cmp -s "$pin" "$tmp/table.txt"; then
    ok "the JSON schema of $(echo $cols | wc -w) documents is the pinned one"
else
    fail "the JSON schema of $(echo $cols | wc -w) documents is the pinned one" \
        "a field was renamed, removed, added or retyped: update $pin (MXS_SCHEMA_UPDATE=1) and docs/json.md"
    diff "$pin" "$tmp/table.txt" 2>&1 | head -40 | sed 's/^/# /'
fi

# ---- docs/json.md names every top-level and second-level key --------------------------
# sections BLOCK: "TOP<TAB>text" per line of the BLOCK-th ```jsonc block, TOP
# the top-level key whose section the line is in.
sections() {
    awk -v want="$1" '/^```jsonc/ { b++; inb = (b == want); top = ""; next }
                      /^```/ { inb = 0; next }
                      inb && /^  "[a-z_0-9]+":/ { top = $0; sub(/^  "/, "", top); sub(/".*/, "", top) }
                      inb { print top "\t" $0 }' "$doc"
}
sections 1 > "$tmp/doc-main"
sections 2 > "$tmp/doc-survey"
# the pin's keys: "DOCUMENT TOP [SECOND]" (array levels skipped)
grep -v '^#' "$pin" | while read -r p rest; do
    set -- $rest
    i=0; main=0; survey=0
    for c in $cols; do
        i=$((i + 1)); eval "t=\${$i}"
        [ "$t" = - ] && continue
        case $c in survey) survey=1 ;; *) main=1 ;; esac
    done
    keys=$(echo "$p" | sed 's/\[\]//g; s/^\.//' | tr '.' ' ')
    set -- $keys
    [ $# -le 2 ] || continue
    [ $main = 1 ] && echo "main $keys"
    if [ $survey = 1 ]; then
        case $1 in dns|probes) [ $# = 1 ] && echo "survey $1" ;; *) echo "survey $keys" ;; esac
    fi
done | sort -u > "$tmp/keys"
missing=""
while read -r d k1 k2; do
    if [ -z "$k2" ]; then
        grep -q "^$k1	" "$tmp/doc-$d" || missing="$missing $d:.$k1"
    else
        grep "^$k1	" "$tmp/doc-$d" | grep -qF "\"$k2\":" || missing="$missing $d:.$k1.$k2"
    fi
done < "$tmp/keys"
if [ -z "$missing" ]; then ok "docs/json.md names every top-level and second-level key ($(wc -l < "$tmp/keys") keys)"
else fail "docs/json.md names every top-level and second-level key" "not in its section:$missing"; fi
finish
