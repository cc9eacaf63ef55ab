#!/bin/sh
# tests/console/keys.sh - the help screen's key list is the keymap: every
# entry of tui/keymap.c's table (its help text) and every context's heading
# and fallback text is on the `?` screen as captured under tmux, and no
# entry is without help text.  Together with tests/unit/test_keymap.c (key
# names, one line per entry, nothing else in the list) this fails when a key
# is added to the table without help or the help stops coming from it.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/tmux.inc"
top=$(cd "$(dirname "$0")/../.." && pwd)
km="$top/tui/keymap.c"
[ -f "$km" ] || { fail "keymap source" "$km missing"; exit 1; }

# The table's lines (an entry, or a macro such as ENTER(...) making
# several), every help string in them, and the contexts' strings.
table="$T_DIR/table"
sed -n '/^const struct km_binding km_bindings\[\] = {/,/^};/p' "$km" | grep -E 'KM_[A-Z]+' > "$table"
entries="$T_DIR/entries"
grep -oE '"[^"]*"' "$table" | sed 's/^"//; s/"$//' > "$entries"
contexts="$T_DIR/contexts"
sed -n '/^const struct km_context km_contexts\[KM_CTX_COUNT\] = {/,/^};/p' "$km" |
    grep -oE '"[^"]*"' | sed 's/^"//; s/"$//' > "$contexts"
n=$(wc -l < "$table")
if [ "$n" -ge 20 ] && [ "$(wc -l < "$contexts")" -ge 8 ]; then ok "keymap table read ($n lines)"
else fail "keymap table read" "$n lines, $(wc -l < "$contexts") context strings"; exit 1; fi

# Each line names its help text; none is empty.
bad=$(grep -vE '"[^"]+"' "$table"; grep -F '""' "$table")
if [ -z "$bad" ]; then ok "every keymap entry has help text"
else fail "every keymap entry has help text" "$(echo "$bad" | head -3)"; fi

# A window tall enough for the whole key list.
t_start --lab
t_until 10 t_step_is RESOLVE '. RESOLVE.*' >/dev/null
tmux -L "$T_SOCK" resize-window -x 130 -y 160
sleep 0.5
t_keys '?'
if t_until 5 t_pane_has Help ' Keys \(panes\)' && t_pane_has Help ' Commands'; then ok "? opens the help"; else fail "? opens the help"; fi
screen="$T_DIR/screen"
t_screen > "$screen"
# The key list: the overlay's inside (at 130 columns its box starts at
# column 3 and holds 120 columns of text), from the first heading to
# "Commands".
LC_ALL=C.UTF-8 sed -E 's/^.{5}(.{0,120}).*/\1/; s/ +$//' "$screen" |
    sed -n '/^Keys (panes)$/,/^Commands$/p' > "$T_DIR/keys"

missing=""
while IFS= read -r help; do
    grep -qF -- " $help" "$T_DIR/keys" || missing="$missing
  $help"
done < "$entries"
while IFS= read -r s; do
    grep -qF -- "$s" "$T_DIR/keys" || missing="$missing
  $s"
done < "$contexts"
if [ -z "$missing" ]; then ok "every keymap entry and context is in the ? key list"
else fail "every keymap entry and context is in the ? key list" "missing:$missing"; sed 's/^/# /' "$T_DIR/keys"; fi

# ...and the list has nothing else: every line under a heading ends with
# some entry's help text or a context string.
extra=""
grep -vE '^(Keys \(|Commands$|$)' "$T_DIR/keys" > "$T_DIR/lines"
helps="$T_DIR/helps"
cat "$entries" "$contexts" | sort -u > "$helps"
while IFS= read -r l; do
    found=0
    while IFS= read -r h; do
        case "$l" in *"$h") found=1; break ;; esac
    done < "$helps"
    [ $found = 1 ] || extra="$extra
  $l"
done < "$T_DIR/lines"
if [ -z "$extra" ] && [ "$(wc -l < "$T_DIR/lines")" -ge 20 ]; then ok "the ? key list holds nothing but the keymap"
else fail "the ? key list holds nothing but the keymap" "not in the table:$extra"; fi

t_keys q
sleep 0.3
t_keys q
t_until 3 t_exited 0 >/dev/null || { t_keys y; t_until 5 t_exited 0 >/dev/null || true; }
finish
