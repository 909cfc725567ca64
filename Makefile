# arpha: the two commands of the README are `make demo` and `make check`.
# Both install what is missing (Debian packages, as root), build, and run.

BUILD     ?= build
ASAN      ?= build-asan
FUZZ      ?= build-fuzz
FUZZ_SECS ?= 15

.PHONY: all deps build asan fuzz check unit netns fuzz-run demo bench deb format clean

all: build

deps:
	@tools/deps.sh

$(BUILD)/build.ninja: | deps
	meson setup $(BUILD) --buildtype=debugoptimized

$(ASAN)/build.ninja: | deps
	meson setup $(ASAN) --buildtype=debug -Db_sanitize=address,undefined \
		-Db_lundef=false -Dc_args=-fno-sanitize-recover=all

$(FUZZ)/build.ninja: | deps
	CC=clang meson setup $(FUZZ) --buildtype=debugoptimized -Dfuzz=true -Dtests=disabled

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

asan: deps $(ASAN)/build.ninja
	ninja -C $(ASAN)

fuzz: deps $(FUZZ)/build.ninja
	ninja -C $(FUZZ)

# Every test: unit tests (plain and ASan+UBSan), short fuzz runs, and the
# end-to-end tests in network namespaces against the ASan+UBSan daemon.
check: build asan fuzz
	@tests/run-all.sh $(BUILD) $(ASAN) $(FUZZ) $(FUZZ_SECS)

unit: build
	meson test -C $(BUILD) --suite unit --print-errorlogs

netns: asan
	tests/netns/run.sh $(ASAN)

demo: build
	@demo/demo.sh $(BUILD)

bench:
	@tools/deps.sh bench
	@[ -f build-bench/build.ninja ] || meson setup build-bench --buildtype=release -Dtests=disabled
	ninja -C build-bench
	@bench/run.sh build-bench

# The Debian packages arpha and arpha-flushd (debian/), built in a copy of
# the tree: the .deb files end in build-deb/, nothing lands in the tree.
deb:
	@tools/deps.sh deb
	@tools/mkdeb.sh build-deb
	lintian --fail-on error build-deb/arpha_*.deb build-deb/arpha-flushd_*.deb

format:
	clang-format -i src/*.c src/core/*.[ch] src/os/*.[ch] src/daemon/*.[ch] tests/unit/*.c tests/fuzz/*.c tests/svc/*.[ch] bench/*.c

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZ) build-bench build-deb
