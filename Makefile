# mxscope - hand-written Makefile.  `make help` lists the targets.
#
# Layout of the build tree (BUILD, default build/):
#   lib/libmx<module>.a   one archive per core/ module (base diag probe session
#                         cmd), linked in layer order; together they are the
#                         client library, no curses/readline/stdio
#   lib/liblab.a          core/lab: the built-in lab's servers (not part of the
#                         client library; the console and tests link it)
#   mxscope               tui/*.c + the archives
#   tests/test_*          tests/unit/test_*.c (cmocka), linked without ncurses
#   fixtures/*            tests/fixtures/*.c (scripted servers, helpers)
#   fuzz/replay_*         tests/fuzz/fuzz_*.c with a replay main (make test)
#   fuzz/fuzz_*           the same with libFuzzer (make fuzz, clang)
# `make asan` builds everything again in build/asan with ASan+UBSan.

BUILD    ?= build
PREFIX   ?= /usr/local
DESTDIR  ?=
CC       ?= cc
SAN      ?=
FUZZ_SECONDS ?= 60

# Everything that is not a build output may be missing on a fresh machine:
# mk/deps.sh installs it (root) or says exactly what to install.
DEPS_DIR   ?= build
DEPS_STAMP := $(DEPS_DIR)/.deps-build
TEST_STAMP := $(DEPS_DIR)/.deps-test
CONFIG_MK  := $(DEPS_DIR)/config.mk

# The flags that depend on what is installed are decided by mk/deps.sh after
# it has installed it, and written to config.mk.  make remakes an included
# makefile that is missing or out of date, then starts again reading the new
# one: so the first `make` on a fresh machine compiles with the right flags.
# Goals that need no flags (clean, help) do not install anything.
NO_CONFIG_GOALS := clean distclean help
ifneq ($(filter-out $(NO_CONFIG_GOALS),$(or $(MAKECMDGOALS),all)),)
include $(CONFIG_MK)
endif
$(CONFIG_MK): mk/deps.sh
	@mkdir -p $(DEPS_DIR)
	sh mk/deps.sh build $(DEPS_DIR)
	@touch $(DEPS_STAMP)

WARN := -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes \
        -Wmissing-prototypes -Wvla -Wpointer-arith -Wwrite-strings \
        -Wno-missing-field-initializers
ifeq ($(CI),true)
WARN += -Werror
endif

# Sub-makes (make test) build in parallel.
MAKEFLAGS += --jobs=$(shell nproc 2>/dev/null || echo 2)

OPT      ?= -O2 -g
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -fstack-protector-strong \
               -D_FORTIFY_SOURCE=2 -MMD -MP
ifneq ($(SAN),)
OPT      := -O1 -g
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -MMD -MP \
               -fsanitize=address,undefined -fno-sanitize-recover=all \
               -fno-omit-frame-pointer
LDFLAGS_SAN := -fsanitize=address,undefined
endif

CORE_LIBS  = $(MBED_LIBS) $(UNBOUND_LIBS) $(JANSSON_LIBS) $(CURL_LIBS) $(ZLIB_LIBS) $(IDN2_LIBS)
# Evaluated when a test recipe runs, after `mk/deps.sh test` installed cmocka.
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)

CFLAGS_CORE = $(CFLAGS_BASE) -Icore $(MBED_CFLAGS) $(JANSSON_CFLAGS) $(CURL_CFLAGS) $(IDN2_CFLAGS) $(CFLAGS)
CFLAGS_TUI  = $(CFLAGS_BASE) -Icore $(TUI_CFLAGS) $(CFLAGS)
CFLAGS_TEST = $(CFLAGS_BASE) -Icore -Icore/lab -Itests/unit $(MBED_CFLAGS) $(JANSSON_CFLAGS) $(CFLAGS)

# core/ modules, lowest layer first.  MODDEPS_x: the modules x may call;
# `make check-layering` fails when an archive calls outside that list.
CORE_MODULES := base policy diag probe session cmd
MODDEPS_base    :=
MODDEPS_policy  := base
MODDEPS_diag    := policy base
MODDEPS_probe   := diag policy base
MODDEPS_session := probe diag policy base
MODDEPS_cmd     := session probe diag policy base
MODDEPS_lab     := base

CORE_SRC := $(sort $(foreach m,$(CORE_MODULES) lab,$(wildcard core/$(m)/*.c)))
TUI_SRC  := $(sort $(wildcard tui/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
# scriptsrv_tls.c is the second file of scriptsrv (its own rule below).
FIX_SRC  := $(sort $(filter-out tests/fixtures/scriptsrv_tls.c,$(wildcard tests/fixtures/*.c)))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))

CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
TUI_OBJ  := $(TUI_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FIX_BIN  := $(FIX_SRC:tests/fixtures/%.c=$(BUILD)/fixtures/%)
REPLAY_BIN := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=$(BUILD)/fuzz/replay_%)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=$(BUILD)/fuzz/fuzz_%)

reverse = $(if $(1),$(call reverse,$(wordlist 2,$(words $(1)),$(1))) $(firstword $(1)))
# Archives in link order (highest layer first), the lab last: it is linked
# into the console and the tests, never needed by the client library.
CLIENT_ARCHIVES := $(foreach m,$(call reverse,$(CORE_MODULES)),$(BUILD)/lib/libmx$(m).a)
ARCHIVES := $(CLIENT_ARCHIVES) $(BUILD)/lib/liblab.a
LIB := $(ARCHIVES)
BIN := $(BUILD)/mxscope

.PHONY: all run test test-suite unit check-layering asan fuzz bench install \
        clean distclean help deps deps-test tests-bin
.DEFAULT_GOAL := all

all: $(BIN)

help:
	@echo "make            build $(BIN)"
	@echo "make run        install what is missing, build, open the console on the lab"
	@echo "make test       every test, then again under ASan+UBSan"
	@echo "make check-layering  core/ has no curses/readline/stdio"
	@echo "make asan       build with ASan+UBSan in build/asan"
	@echo "make fuzz       run each libFuzzer target FUZZ_SECONDS (60) s"
	@echo "make bench      mxscope beside openssl s_client and posttls-finger"
	@echo "make install PREFIX=/usr/local DESTDIR="
	@echo "make clean      remove build outputs (keeps build/deps)"

$(DEPS_STAMP): | $(CONFIG_MK)
	@touch $@

$(TEST_STAMP):
	@mkdir -p $(DEPS_DIR)
	sh mk/deps.sh test $(DEPS_DIR)
	@touch $@ $(DEPS_STAMP)

deps: $(DEPS_STAMP)
deps-test: $(TEST_STAMP)

# Objects.  Order-only dependency on the stamp: installing packages does not
# rebuild everything, but nothing compiles before they are there.
$(BUILD)/obj/core/%.o: core/%.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_CORE) -c $< -o $@

$(BUILD)/obj/tui/%.o: tui/%.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_TUI) -c $< -o $@

# One archive per module: archive_rule ARCHIVE-NAME FOLDER
define archive_rule
$(BUILD)/lib/$(1).a: $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard core/$(2)/*.c))
	@mkdir -p $$(dir $$@)
	@rm -f $$@
	ar rcs $$@ $$^
endef
$(foreach m,$(CORE_MODULES),$(eval $(call archive_rule,libmx$(m),$(m))))
$(eval $(call archive_rule,liblab,lab))

$(BIN): $(TUI_OBJ) $(LIB)
	$(CC) $(LDFLAGS_SAN) $(LDFLAGS) -o $@ $(TUI_OBJ) $(LIB) $(TUI_LIBS) $(CORE_LIBS)

# Unit tests link core without ncurses or readline: that is the layering
# check's "test binary from core alone".
$(BUILD)/tests/%: tests/unit/%.c $(LIB) | $(TEST_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_TEST) $(LDFLAGS_SAN) -o $@ $< $(LIB) $(CORE_LIBS) $(CMOCKA_LIBS)

# test_nolab links the client archives only, every object of them
# (--whole-archive), never liblab.a: it fails to link if the client library
# still calls the lab.
$(BUILD)/tests/test_nolab: tests/unit/test_nolab.c $(CLIENT_ARCHIVES) | $(TEST_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_TEST) $(LDFLAGS_SAN) -o $@ $< -Wl,--whole-archive $(CLIENT_ARCHIVES) \
	    -Wl,--no-whole-archive $(CORE_LIBS) $(CMOCKA_LIBS)

# osslsrv plays a server on OpenSSL's libssl (what mbedTLS cannot send: a
# TLS 1.3 KeyUpdate); it links libssl only, nothing of ours or of mbedTLS.
$(BUILD)/fixtures/osslsrv: tests/fixtures/osslsrv.c | $(TEST_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_TEST) $(LDFLAGS_SAN) -o $@ $< -lssl -lcrypto

# scriptsrv is two files: the script interpreter and its TLS side
# (certificates, raw records, the real handshake), sharing scriptsrv.h.
SCRIPTSRV_SRC := tests/fixtures/scriptsrv.c tests/fixtures/scriptsrv_tls.c
$(BUILD)/fixtures/scriptsrv: $(SCRIPTSRV_SRC) tests/fixtures/scriptsrv.h $(LIB) | $(TEST_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_TEST) $(LDFLAGS_SAN) -o $@ $(SCRIPTSRV_SRC) $(LIB) $(CORE_LIBS)

$(BUILD)/fixtures/%: tests/fixtures/%.c $(LIB) | $(TEST_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_TEST) $(LDFLAGS_SAN) -o $@ $< $(LIB) $(CORE_LIBS)

$(BUILD)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay_main.c $(LIB) | $(TEST_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_TEST) $(LDFLAGS_SAN) -o $@ $< tests/fuzz/replay_main.c $(LIB) $(CORE_LIBS)

# libFuzzer builds need clang for core too: a separate tree.
FUZZ_CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/fuzzobj/%.o)
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
              -fno-sanitize-recover=all $(MBED_CFLAGS) $(JANSSON_CFLAGS) $(IDN2_CFLAGS) -Icore -Icore/lab -Itests/unit
$(BUILD)/fuzzobj/core/%.o: core/%.c | $(TEST_STAMP)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -c $< -o $@
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_CORE_OBJ) | $(TEST_STAMP)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_CORE_OBJ) $(CORE_LIBS)

tests-bin: $(BIN) $(UNIT_BIN) $(FIX_BIN) $(REPLAY_BIN)

# ---- the layering rule, mechanically --------------------------------------
check-layering: $(LIB) $(UNIT_BIN)
	@sh mk/check-layering.sh $(BUILD)/lib $(foreach m,$(CORE_MODULES) lab,$(m):$(subst $(space),$(comma),$(strip $(MODDEPS_$(m)))))

# ---- running ---------------------------------------------------------------
# The console needs a terminal: without one, say so in one line.
run: $(BIN)
	@if [ -t 0 ] && [ -t 1 ]; then exec $(BIN) --lab; \
	 else echo "make run: the console needs a terminal (for a probe without one: $(BIN) --batch --lab good)" >&2; exit 1; fi

# The whole suite, then the whole suite again under ASan+UBSan.
test: $(TEST_STAMP)
	@$(MAKE) --no-print-directory tests-bin check-layering
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 tests-bin
	@sh tests/run.sh $(BUILD) build/asan

test-suite: tests-bin
	@sh tests/run.sh $(BUILD)

unit: $(UNIT_BIN)
	@for t in $(UNIT_BIN); do $$t || exit 1; done

asan:
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 tests-bin

fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$${f##*/fuzz_}; mkdir -p $(BUILD)/fuzz/corpus-$$n; \
	  echo "fuzz: $$n for $(FUZZ_SECONDS) s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 $(BUILD)/fuzz/corpus-$$n tests/fuzz/corpus/$$n || exit 1; done

bench: $(BIN) $(TEST_STAMP)
	@sh tests/bench/bench.sh $(BUILD)
	@echo
	@sh tests/bench/domains.sh $(BUILD)

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/mxscope
	install -m 0644 docs/mxscope.1 $(DESTDIR)$(PREFIX)/share/man/man1/mxscope.1

clean:
	rm -rf $(BUILD)/obj $(BUILD)/fuzzobj $(BUILD)/tests $(BUILD)/fixtures \
	       $(BUILD)/fuzz $(BUILD)/asan $(BUILD)/lib $(BIN) $(BUILD)/.deps-* $(BUILD)/config.mk

distclean:
	rm -rf $(BUILD)

comma := ,
empty :=
space := $(empty) $(empty)
-include $(shell find $(BUILD)/obj $(BUILD)/tests -name '*.d' 2>/dev/null)
