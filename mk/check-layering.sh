#!/bin/sh
# mk/check-layering.sh LIBDIR MODULE:DEP,DEP ... - the layering rules, checked
# mechanically.
#  1. core/ includes no curses or readline header.
#  2. No core archive calls stdio output or touches stdout/stderr: core emits
#     events, front ends render them.
#  3. tui/ touches no sockets and no mbedTLS.
#  4. Each core module calls only the modules below it (the MODDEPS_ lists of
#     the Makefile): every symbol an archive needs from another of our
#     archives must come from one it may call.
#  5. core/ writes to no terminal by other roads either: no write() to fd 1
#     or 2 (or STDOUT_FILENO/STDERR_FILENO at all), no dprintf, no syslog,
#     no err()/warn()/error()/psignal() (source and archive symbols).
#  6. tui/ sees core only through core.h: including any other header of
#     core/ (base/buf.h, session/render.h, lab/lab.h ...) fails.
#  7. Only the engine writes step state (one setter, engine_step_set): the
#     engine's insides (probe/engine_int.h, struct engine) are included by
#     core/probe/engine*.c and the survey (which reads its engines' facts)
#     only; the session module fills engines through probe/engine_replay.h.
# The unit test binaries (build/tests/test_*) link core without ncurses or
# readline; the Makefile builds them before this runs.
set -u
libdir=$1; shift
fail=0
bad=$(grep -rlE '#[[:space:]]*include[[:space:]]*"probe/engine_int\.h"' core | grep -vE '^core/probe/engine[a-z_]*\.(c|h)$|^core/cmd/survey\.c$')
if [ -n "$bad" ]; then echo "layering: only the engine writes step state; these include probe/engine_int.h:"; echo "$bad"; fail=1; fi
bad=$(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"](n?cursesw?\.h|ncursesw/|curses\.h|readline/|term\.h|panel\.h|menu\.h|form\.h)' core)
if [ -n "$bad" ]; then echo "layering: core/ includes a console header:"; echo "$bad"; fail=1; fi

archive() { case $1 in lab) echo "$libdir/liblab.a" ;; *) echo "$libdir/libmx$1.a" ;; esac; }

for spec in "$@"; do
    m=${spec%%:*}
    a=$(archive "$m")
    out=$(nm -u "$a" 2>/dev/null | awk '{print $NF}' | grep -xE '(__)?(printf|vprintf|fprintf|vfprintf|puts|fputs|putchar|fputc|putc|fwrite|perror|printf_chk|fprintf_chk|vfprintf_chk|vprintf_chk|stdout|stderr|dprintf|vdprintf|syslog|vsyslog|openlog|err|errx|verr|verrx|warn|warnx|vwarn|vwarnx|error|error_at_line|psignal|psiginfo|herror|initscr|newwin|readline|rl_.*)(_chk)?' | sort -u)
    if [ -n "$out" ]; then echo "layering: $a references console output symbols:"; echo "$out"; fail=1; fi
done

# Module dependencies: symbols defined by each of our archives.
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for spec in "$@"; do
    m=${spec%%:*}
    nm --defined-only "$(archive "$m")" 2>/dev/null | awk 'NF==3 && $2 ~ /[TDRBC]/ {print $3}' | sort -u > "$tmp/def.$m"
done
for spec in "$@"; do
    m=${spec%%:*}; allowed=" $m $(echo "${spec#*:}" | tr ',' ' ') "
    nm -u "$(archive "$m")" 2>/dev/null | awk '{print $NF}' | sort -u > "$tmp/undef"
    for spec2 in "$@"; do
        o=${spec2%%:*}
        case "$allowed" in *" $o "*) continue ;; esac
        hit=$(comm -12 "$tmp/undef" "$tmp/def.$o" | tr '\n' ' ')
        if [ -n "$hit" ]; then
            echo "layering: core/$m calls core/$o, which it may not (allowed: $allowed): $hit"
            fail=1
        fi
    done
done

bad=$(grep -nE '#[[:space:]]*include[[:space:]]*[<"](mbedtls/|psa/|sys/socket\.h|netinet/|arpa/inet\.h|netdb\.h|unbound\.h)' tui/*.c tui/*.h 2>/dev/null)
if [ -n "$bad" ]; then echo "layering: tui/ touches sockets, DNS or mbedTLS:"; echo "$bad"; fail=1; fi
bad=$(grep -nE '\b(socket|connect|mbedtls_[a-z_]+|ub_[a-z_]+)\s*\(' tui/*.c 2>/dev/null)
if [ -n "$bad" ]; then echo "layering: tui/ calls socket, DNS or mbedTLS functions:"; echo "$bad"; fail=1; fi

# 5. Output that bypasses stdio: nm cannot tell write(2, ...) from a socket
#    write, so the source is read.  Any mention of STDOUT_FILENO or
#    STDERR_FILENO counts (fd = STDERR_FILENO; write(fd, ...) is the same).
bad=$(grep -rnE '\bwrite[[:space:]]*\([[:space:]]*(1|2)[[:space:]]*,|\bSTD(OUT|ERR)_FILENO\b|\b(v?dprintf|v?syslog|openlog)[[:space:]]*\(' core --include='*.c' --include='*.h')
if [ -n "$bad" ]; then echo "layering: core/ writes to stdout/stderr or syslog:"; echo "$bad"; fail=1; fi

# 6. The public surface: tui/ includes core.h and no other core header.
bad=$(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"][^">]+[">]' tui/*.c tui/*.h 2>/dev/null |
    while IFS= read -r line; do
        h=$(printf '%s\n' "$line" | sed -E 's/^[^#]*#[[:space:]]*include[[:space:]]*[<"]([^">]+)[">].*/\1/')
        [ "$h" = core.h ] && continue
        case $h in *core/*) printf '%s\n' "$line"; continue ;; esac
        if [ -f "core/$h" ]; then printf '%s\n' "$line"; fi
    done)
if [ -n "$bad" ]; then echo "layering: tui/ includes a core header other than core.h:"; echo "$bad"; fail=1; fi

if [ $fail = 0 ]; then echo "layering: ok (core: no console headers, no stdio/fd 1-2/syslog output, modules call only those below; tui: core.h only, no sockets/mbedTLS)"; fi
exit $fail
