# SPDX-License-Identifier: Apache-2.0
# mod_gwe_lb - sticky-session routing for mod_proxy_balancer.
#
#   make test    install what is missing (as root), build, run every test
#   make run     a real Apache on 127.0.0.1 with the sample configuration
#   make bench   microbenchmark of sticky/, instructions per request (callgrind)
#                and end-to-end against stock Apache (bench-instr, bench-svg,
#                bench-status, bench-fallback, bench-signed, bench-e2e)
#   make fuzz    the libFuzzer targets, for longer than make test does
#   make soak    long fault and hostile-input runs
#   make install install the module into this machine's Apache (apxs)
#   make deps    install missing packages, upgrade Apache's stale libraries
#   make alloc-guard  check that sticky/ links no allocator (a make test stage)
#   make deb     the Debian package libapache2-mod-gwe-lb in build/deb/, and
#                lintian on it (must report no error)
#   make deb-test  installs that package into a fresh Debian 12 (debootstrap,
#                chroot) and checks that Apache loads the module; minutes

APXS    ?= apxs
CC      ?= gcc
CLANG   ?= clang
BUILD   := build
MODULE  := $(BUILD)/mod_gwe_lb.so

WARN    := -Wall -Wextra -Werror
CFLAGS_STICKY := -std=c99 -O2 -g $(WARN) -Isticky
SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all \
           -fno-omit-frame-pointer

STICKY_SRC := $(sort $(wildcard sticky/*.c))
STICKY_HDR := $(sort $(wildcard sticky/*.h))
UNIT_SRC   := $(sort $(wildcard tests/unit/*.c))
UNIT_HDR   := $(sort $(wildcard tests/unit/*.h))
FUZZ_HDR   := $(sort $(wildcard tests/fuzz/*.h))
FUZZ_SRC   := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRC))
CHECK_LIBS  = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)
# The unit tests check the signed cookie with a real HMAC-SHA256 when
# libcrypto 3 is installed (libssl-dev); sticky/ itself never links it.
CRYPTO_LIBS = $(shell pkg-config --atleast-version=3.0 libcrypto 2>/dev/null \
                && pkg-config --libs libcrypto)
UNIT_CRYPTO = $(if $(CRYPTO_LIBS),-DGWE_TEST_LIBCRYPTO)

# How long `make test` fuzzes each target; `make fuzz` overrides it.
FUZZ_SECONDS ?= 5

.PHONY: all deps test unit unit-san fuzz-smoke fuzz fuzz-replay integration \
        browser browser-full alloc-guard bench bench-micro bench-e2e bench-instr bench-svg bench-status bench-fallback bench-signed run soak install \
        deb deb-test clean

all: $(MODULE)

deps:
	@scripts/deps.sh

# ---- the module ----------------------------------------------------------

# the glue, split by concern: mod_gwe_lb.c (hooks, lbmethod wrappers),
# _config (directives), _check (start-up checks), _request, _cookie
# One optimised unit at link time: the request path crosses the glue's
# files and sticky/ a dozen times per request, and only gwe_lb_module is
# exported, so those calls are direct and inlined (bench/README.md).
MODULE_LTO = -Wc,-fvisibility=hidden -Wc,-flto -Wl,-flto -Wl,-O2
GLUE_SRC = mod_gwe_lb.c $(filter-out mod_gwe_lb.c,$(sort $(wildcard mod_gwe_lb_*.c)))

$(MODULE): $(GLUE_SRC) mod_gwe_lb.h $(STICKY_SRC) $(STICKY_HDR)
	@mkdir -p $(BUILD)
	$(APXS) -c -o mod_gwe_lb.so -Wc,-std=gnu99 -Wc,-Wall -Wc,-Wextra \
	    -Wc,-Werror -Wc,-Wno-unused-parameter -I sticky $(MODULE_LTO) \
	    $(GLUE_SRC) $(STICKY_SRC) -lcrypto >$(BUILD)/apxs.log 2>&1 \
	    || { cat $(BUILD)/apxs.log; exit 1; }
	# install replaces the file (new inode): a running Apache keeps its copy
	install -m 755 .libs/mod_gwe_lb.so $@

install: $(MODULE)
	$(APXS) -i -n gwe_lb $(MODULE)
	install -m 644 conf-samples/proxy_gwe_lb.load \
	    $$($(APXS) -q SYSCONFDIR)/mods-available/proxy_gwe_lb.load 2>/dev/null \
	    || true

# ---- the Debian package ----------------------------------------------------

# dpkg-buildpackage writes into the parent directory and debian/: build a
# copy of the tree in build/deb/src so the .deb lands in build/deb/ and the
# work tree stays clean.
DEB_DIR := $(BUILD)/deb

deb:
	@scripts/deb-deps.sh
	rm -rf $(DEB_DIR)
	@mkdir -p $(DEB_DIR)/src
	tar --exclude=./$(BUILD) --exclude=./.git -cf - . | tar -C $(DEB_DIR)/src -xf -
	cd $(DEB_DIR)/src && $(MAKE) -s clean \
	    && dpkg-buildpackage -us -uc -b >../dpkg-buildpackage.log 2>&1 \
	    || { tail -40 $(CURDIR)/$(DEB_DIR)/dpkg-buildpackage.log; exit 1; }
	rm -rf $(DEB_DIR)/src
	@ls $(DEB_DIR)/*.deb
	@echo "lintian:"
	@rc=0; lintian --fail-on error -I --pedantic $(DEB_DIR)/*.changes \
	    >$(DEB_DIR)/lintian.log 2>&1 || rc=$$?; \
	grep -v 'running with root privileges' $(DEB_DIR)/lintian.log \
	    | sed 's/^/  /'; \
	if [ $$rc = 0 ]; then echo "lintian: no error"; \
	else echo "lintian: errors (exit $$rc)"; exit 1; fi

# Not part of make test: it takes minutes and needs the Debian mirror.
# run.sh runs make deb itself.
deb-test:
	tests/package/run.sh

# ---- unit tests (Check), plain and with sanitizers -------------------------

$(BUILD)/unit_tests: $(UNIT_SRC) $(UNIT_HDR) $(STICKY_SRC) $(STICKY_HDR)
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_STICKY) $(UNIT_CRYPTO) -Itests/unit -o $@ $(UNIT_SRC) \
	    $(STICKY_SRC) $(CHECK_LIBS) $(CRYPTO_LIBS)

# The sanitizer build also takes sticky/'s portable (non-SSE2) scanning
# path, so every `make test` covers both.
$(BUILD)/unit_tests_san: $(UNIT_SRC) $(UNIT_HDR) $(STICKY_SRC) $(STICKY_HDR)
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_STICKY) -O1 $(SAN) -DGWE_NO_SIMD $(UNIT_CRYPTO) \
	    -Itests/unit -o $@ $(UNIT_SRC) $(STICKY_SRC) $(CHECK_LIBS) \
	    $(CRYPTO_LIBS)

# bench_sticky is only built here, not run: make bench must never be the
# first to find that it no longer compiles.
unit: $(BUILD)/unit_tests $(BUILD)/bench_sticky
	@tests/unit/check_registered.sh
	@python3 tests/unit/rendezvous_reference.py
	CK_FORK=yes $(BUILD)/unit_tests
	@echo "again with every input right after an unreadable page:"
	CK_FORK=yes GWE_GUARD_FRONT=1 $(BUILD)/unit_tests

unit-san: $(BUILD)/unit_tests_san
	CK_FORK=no ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    $(BUILD)/unit_tests_san

# ---- fuzzing: libFuzzer (clang) and a gcc replay of the saved corpus -----

$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_HDR) $(STICKY_SRC) $(STICKY_HDR)
	@mkdir -p $(BUILD)
	$(CLANG) -std=c99 -g -O1 -Isticky -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=all -o $@ $< $(STICKY_SRC)

$(BUILD)/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(FUZZ_HDR) \
                   $(STICKY_SRC) $(STICKY_HDR)
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_STICKY) $(SAN) -o $@ $< tests/fuzz/replay.c $(STICKY_SRC)

fuzz-replay: $(addprefix $(BUILD)/replay_,$(FUZZ_NAMES))
	@for t in $(FUZZ_NAMES); do \
	    $(BUILD)/replay_$$t tests/fuzz/corpus/$$t || exit 1; done

fuzz-smoke: $(addprefix $(BUILD)/fuzz_,$(FUZZ_NAMES))
	@for t in $(FUZZ_NAMES); do \
	    mkdir -p $(BUILD)/corpus/$$t; \
	    $(BUILD)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        -artifact_prefix=$(BUILD)/fuzz_$$t- \
	        $(BUILD)/corpus/$$t tests/fuzz/corpus/$$t \
	        >$(BUILD)/fuzz_$$t.log 2>&1 \
	        || { tail -40 $(BUILD)/fuzz_$$t.log; exit 1; }; \
	    echo "fuzz $$t: $$(grep -o 'stat::number_of_executed_units: *[0-9]*' \
	        $(BUILD)/fuzz_$$t.log | grep -o '[0-9]*$$') executions, no crash"; \
	done

fuzz:
	$(MAKE) fuzz-smoke FUZZ_SECONDS=$${FUZZ_SECONDS:-120}

# ---- integration and browser tests (real Apache, real members) -----------

integration: $(MODULE)
	tests/integration/run.sh

browser: $(MODULE)
	tests/browser/run.sh

# Every cell of every engine (make test runs the smoke cells, README 8).
browser-full: $(MODULE)
	GWE_BROWSER_FULL=1 tests/browser/run.sh

# ---- everything ------------------------------------------------------------

test: deps
	@tests/run-all.sh

# ---- sticky/ allocates nothing ---------------------------------------------

# What each of sticky/'s objects links against, by nm: no allocator may be
# among them (one check per object).  tests/run-all.sh runs it as stage
# alloc-guard of `make test` ("PASSED FAILED" in $(BUILD)/results/
# alloc-guard); bench-micro runs the same target.
STICKY_OBJ := $(patsubst sticky/%.c,$(BUILD)/sticky_obj/%.o,$(STICKY_SRC))
ALLOCATORS := malloc|calloc|realloc|reallocarray|free|strdup|strndup|memalign
ALLOCATORS := $(ALLOCATORS)|posix_memalign|aligned_alloc|valloc|pvalloc

$(BUILD)/sticky_obj/%.o: sticky/%.c $(STICKY_HDR)
	@mkdir -p $(BUILD)/sticky_obj
	$(CC) $(CFLAGS_STICKY) -c $< -o $@

alloc-guard: $(STICKY_OBJ)
	@mkdir -p $(BUILD)/results
	@p=0; f=0; for o in $(STICKY_OBJ); do \
	    a=$$(nm -u $$o | awk 'NF==2 {sub(/@.*/, "", $$2); print $$2}' \
	        | grep -Ex '$(ALLOCATORS)' | tr '\n' ' '); \
	    if [ -z "$$a" ]; then p=$$((p + 1)); \
	    else f=$$((f + 1)); echo "  FAIL: $$o references $$a"; fi; \
	done; \
	echo "  outside symbols sticky/ uses: $$(nm -u $(STICKY_OBJ) \
	    | awk 'NF==2 {print $$2}' | grep -v '^gwe_' | sort -u | tr '\n' ' ')"; \
	echo "$$p $$f" >$(BUILD)/results/alloc-guard; \
	echo "alloc-guard: $$p passed, $$f failed (objects of sticky/ free of" \
	    "any allocator)"; \
	[ $$f = 0 ]

# ---- benchmarks, demo, soak ------------------------------------------------

# --wrap counts every malloc/calloc/realloc made while measuring.
$(BUILD)/bench_sticky: tests/bench/bench_sticky.c $(STICKY_SRC) $(STICKY_HDR)
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_STICKY) -O2 -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc \
	    -o $@ tests/bench/bench_sticky.c $(STICKY_SRC)

bench-micro: $(BUILD)/bench_sticky
	@$(BUILD)/bench_sticky
	@$(MAKE) -s alloc-guard

bench-e2e: $(MODULE)
	bench/run.sh

# Instructions per request above the floor, per request shape (callgrind):
# bench-instr the table, bench-svg bench/results/cost.svg, bench both.
bench-instr: $(MODULE)
	bench/instr.sh table

bench-svg: $(MODULE)
	bench/instr.sh svg

# What the server-status counters cost per request (issue 15: <= 100).
bench-status: $(MODULE)
	bench/status-cost.sh

# GWELBFallback client-ip's cost above the lbmethod's pick (issue 14)
bench-fallback: $(MODULE)
	bench/instr.sh fallback

# GWELBCookieKey's cost above the unsigned cookie (issue 13)
bench-signed: $(MODULE)
	bench/instr.sh signed

bench: deps bench-micro $(MODULE)
	bench/instr.sh all
	bench/status-cost.sh
	bench/run.sh

run: deps $(MODULE)
	scripts/run-demo.sh

soak: deps $(MODULE)
	tests/soak/run.sh
	GWE_BROWSER_FULL=1 tests/browser/run.sh

clean:
	rm -rf $(BUILD) .libs *.lo *.la *.slo *.o sticky/*.lo sticky/*.slo \
	    sticky/*.o sticky/.libs mod_gwe_lb.so
