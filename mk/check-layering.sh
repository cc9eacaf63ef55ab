#!/bin/sh
# mk/check-layering.sh LIB - the layering rules, checked mechanically.
#  1. core/ includes no curses or readline header.
#  2. libmxscope.a calls no stdio output and touches no stdout/stderr: core
#     emits events, front ends render them.
#  3. tui/ touches no sockets and no mbedTLS.
# The unit test binaries (build/tests/test_*) link core without ncurses or
# readline; the Makefile builds them before this runs.
set -u
lib=$1
fail=0
bad=$(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"](n?cursesw?\.h|ncursesw/|curses\.h|readline/|term\.h|panel\.h|menu\.h|form\.h)' core/*.c core/*.h)
if [ -n "$bad" ]; then echo "layering: core/ includes a console header:"; echo "$bad"; fail=1; fi

out=$(nm -u "$lib" 2>/dev/null | awk '{print $NF}' | grep -xE '(__)?(printf|vprintf|fprintf|vfprintf|puts|fputs|putchar|fputc|putc|fwrite|perror|printf_chk|fprintf_chk|vfprintf_chk|vprintf_chk|stdout|stderr|initscr|newwin|readline|rl_.*)(_chk)?' | sort -u)
if [ -n "$out" ]; then echo "layering: $lib references console output symbols:"; echo "$out"; fail=1; fi

bad=$(grep -nE '#[[:space:]]*include[[:space:]]*[<"](mbedtls/|psa/|sys/socket\.h|netinet/|arpa/inet\.h|netdb\.h|unbound\.h)' tui/*.c tui/*.h 2>/dev/null)
if [ -n "$bad" ]; then echo "layering: tui/ touches sockets, DNS or mbedTLS:"; echo "$bad"; fail=1; fi
bad=$(grep -nE '\b(socket|connect|mbedtls_[a-z_]+|ub_[a-z_]+)\s*\(' tui/*.c 2>/dev/null)
if [ -n "$bad" ]; then echo "layering: tui/ calls socket, DNS or mbedTLS functions:"; echo "$bad"; fail=1; fi

if [ $fail = 0 ]; then echo "layering: ok (core: no console headers, no stdio output; tui: no sockets/mbedTLS)"; fi
exit $fail
