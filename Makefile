# sluice — the two commands of the README, and the rest.
#   make          release build of libsluice and the sluice CLI (build/release)
#   make test     the whole suite, then the same suite under ASan+UBSan
#   make demo     installs what is missing, builds, runs the main job
#   make bench    builds and runs the benchmarks (bench/)
#   make fuzz     builds the libFuzzer targets and runs each for FUZZ_SECONDS
#   make valgrind the end-to-end run under valgrind, long form (make test has the short one)
#   make install PREFIX=/usr/local
SHELL := /bin/bash
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
PREFIX ?= /usr/local
FUZZ_SECONDS ?= 60
CMAKE ?= cmake
CTEST ?= ctest
SHARED ?= $(abspath ../shared)

.PHONY: all deps release asan test test-release test-asan demo bench fuzz valgrind install clean

all: release

deps:
	@bash scripts/deps.sh

release: deps
	@$(CMAKE) -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DSLUICE_SHARED_DIR=$(SHARED) >/dev/null
	@$(CMAKE) --build build/release -j $(JOBS)

asan: deps
	@$(CMAKE) -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=ON -DSLUICE_SHARED_DIR=$(SHARED) >/dev/null
	@$(CMAKE) --build build/asan -j $(JOBS)

test-release: release
	@cd build/release && $(CTEST) --output-on-failure -j $(JOBS)

# LeakSanitizer also watches libduckdb, which keeps process-lifetime caches.
test-asan: asan
	@cd build/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  $(CTEST) --output-on-failure -j $(JOBS)

test: test-release test-asan

demo: release
	@bash scripts/demo.sh

bench: deps
	@bash scripts/deps.sh --bench
	@$(CMAKE) -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DSLUICE_BENCH=ON -DSLUICE_SHARED_DIR=$(SHARED) >/dev/null
	@$(CMAKE) --build build/bench -j $(JOBS)
	@bash bench/run.sh build/bench

fuzz: deps
	@CC=clang $(CMAKE) -S . -B build/fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_FUZZ=ON -DSLUICE_SANITIZE=ON -DSLUICE_SHARED_DIR=$(SHARED) >/dev/null
	@$(CMAKE) --build build/fuzz -j $(JOBS)
	@bash tests/fuzz/run.sh build/fuzz $(FUZZ_SECONDS)

valgrind: release
	@VG_LONG=1 SLUICE=$(CURDIR)/build/release/sluice SL_SOURCE_DIR=$(CURDIR) bash tests/scenarios/valgrind.sh

install: release
	@$(CMAKE) --install build/release --prefix $(PREFIX)

clean:
	rm -rf build
