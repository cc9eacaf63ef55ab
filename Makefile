# mxscope - hand-written Makefile.  `make help` lists the targets.
#
# Layout of the build tree (BUILD, default build/):
#   libmxscope.a          core/*.c: the engine, no curses/readline/stdio
#   mxscope               tui/*.c + libmxscope.a
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

# mbedTLS: the system's when >= 3.6.6, else Debian 13's in build/deps (static).
MBED_MODE = $(shell cat $(DEPS_DIR)/mbedtls.mode 2>/dev/null)
MBED_PREFIX := $(abspath $(DEPS_DIR))/deps/prefix/usr
ifeq ($(MBED_MODE),local)
MBED_CFLAGS = -isystem $(MBED_PREFIX)/include
MBED_LIBS   = $(MBED_PREFIX)/lib/x86_64-linux-gnu/libmbedtls.a \
              $(MBED_PREFIX)/lib/x86_64-linux-gnu/libmbedx509.a \
              $(MBED_PREFIX)/lib/x86_64-linux-gnu/libmbedcrypto.a -lpthread
else
MBED_CFLAGS = $(shell pkg-config --cflags mbedtls mbedx509 mbedcrypto 2>/dev/null)
MBED_LIBS   = $(shell pkg-config --libs mbedtls mbedx509 mbedcrypto 2>/dev/null) -lpthread
endif

CORE_LIBS  = $(MBED_LIBS) -lunbound $(shell pkg-config --libs jansson 2>/dev/null)
TUI_CFLAGS = $(shell pkg-config --cflags ncursesw readline 2>/dev/null)
TUI_LIBS   = $(shell pkg-config --libs ncursesw readline 2>/dev/null)
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)

CFLAGS_CORE = $(CFLAGS_BASE) $(MBED_CFLAGS) $(CFLAGS)
CFLAGS_TUI  = $(CFLAGS_BASE) -Icore $(TUI_CFLAGS) $(CFLAGS)
CFLAGS_TEST = $(CFLAGS_BASE) -Icore $(MBED_CFLAGS) $(CFLAGS)

CORE_SRC := $(sort $(wildcard core/*.c))
TUI_SRC  := $(sort $(wildcard tui/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
FIX_SRC  := $(sort $(wildcard tests/fixtures/*.c))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))

CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
TUI_OBJ  := $(TUI_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FIX_BIN  := $(FIX_SRC:tests/fixtures/%.c=$(BUILD)/fixtures/%)
REPLAY_BIN := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=$(BUILD)/fuzz/replay_%)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=$(BUILD)/fuzz/fuzz_%)

LIB := $(BUILD)/libmxscope.a
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

$(DEPS_STAMP):
	@mkdir -p $(BUILD)
	sh mk/deps.sh build $(DEPS_DIR)
	@touch $@

$(TEST_STAMP):
	@mkdir -p $(BUILD)
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

$(LIB): $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(TUI_OBJ) $(LIB)
	$(CC) $(LDFLAGS_SAN) $(LDFLAGS) -o $@ $(TUI_OBJ) $(LIB) $(TUI_LIBS) $(CORE_LIBS)

# Unit tests link core without ncurses or readline: that is the layering
# check's "test binary from core alone".
$(BUILD)/tests/%: tests/unit/%.c $(LIB) | $(TEST_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_TEST) $(LDFLAGS_SAN) -o $@ $< $(LIB) $(CORE_LIBS) $(CMOCKA_LIBS)

$(BUILD)/fixtures/%: tests/fixtures/%.c $(LIB) | $(TEST_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_TEST) $(LDFLAGS_SAN) -o $@ $< $(LIB) $(CORE_LIBS)

$(BUILD)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay_main.c $(LIB) | $(TEST_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_TEST) $(LDFLAGS_SAN) -o $@ $< tests/fuzz/replay_main.c $(LIB) $(CORE_LIBS)

# libFuzzer builds need clang for core too: a separate tree.
FUZZ_CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/fuzzobj/%.o)
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
              -fno-sanitize-recover=all $(MBED_CFLAGS) -Icore
$(BUILD)/fuzzobj/core/%.o: core/%.c | $(TEST_STAMP)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -c $< -o $@
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_CORE_OBJ) | $(TEST_STAMP)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_CORE_OBJ) $(CORE_LIBS)

tests-bin: $(BIN) $(UNIT_BIN) $(FIX_BIN) $(REPLAY_BIN)

# ---- the layering rule, mechanically --------------------------------------
check-layering: $(LIB) $(UNIT_BIN)
	@sh mk/check-layering.sh $(LIB)

# ---- running ---------------------------------------------------------------
run: $(BIN)
	$(BIN) --lab

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

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/mxscope
	install -m 0644 docs/mxscope.1 $(DESTDIR)$(PREFIX)/share/man/man1/mxscope.1

clean:
	rm -rf $(BUILD)/obj $(BUILD)/fuzzobj $(BUILD)/tests $(BUILD)/fixtures \
	       $(BUILD)/fuzz $(BUILD)/asan $(LIB) $(BIN) $(BUILD)/.deps-*

distclean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
