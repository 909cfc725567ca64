#!/bin/sh
# Run every test suite and print one closing line "N passed, N failed".
# Usage: tests/run-all.sh BUILD ASAN FUZZ FUZZ_SECS
set -u
BUILD=$1 ASAN=$2 FUZZ=$3 FUZZ_SECS=${4:-15}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
pass=0 fail=0 failed=""

record() { # name rc
	if [ "$2" -eq 0 ]; then
		pass=$((pass + 1)); echo "PASS $1"
	else
		fail=$((fail + 1)); failed="$failed $1"; echo "FAIL $1"
	fi
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

for b in "$BUILD" "$ASAN"; do
	echo "== unit tests ($b)"
	for t in "$b"/test_*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		name="unit/$(basename "$t")@$b"
		"$t" >"$t.log" 2>&1
		rc=$?
		[ $rc -ne 0 ] && cat "$t.log"
		record "$name" $rc
	done
	# meson tests that are not test_* executables: the cores' purity and the layers (nm)
	log="$b/meson-logs/purity.log"
	meson test -C "$b" --suite purity --print-errorlogs >"$log" 2>&1
	rc=$?
	[ $rc -ne 0 ] && cat "$log"
	record "purity/house@$b" $rc
done

echo "== fuzz targets ($FUZZ, ${FUZZ_SECS}s each)"
for f in "$FUZZ"/fuzz_*; do
	[ -f "$f" ] && [ -x "$f" ] || continue
	n=$(basename "$f" | sed 's/^fuzz_//')
	seeds="tests/fuzz/corpus/$n"
	work="tests/fuzz/corpus-run/$n"
	mkdir -p "$work"
	"$f" -max_total_time="$FUZZ_SECS" -print_final_stats=0 "$work" "$seeds" >"$f.log" 2>&1
	rc=$?
	[ $rc -ne 0 ] && tail -n 40 "$f.log"
	record "fuzz/$n" $rc
done

echo "== end-to-end tests in network namespaces ($ASAN)"
out=$(mktemp)
tests/netns/run.sh "$ASAN" | tee "$out"
p=$(grep -c '^PASS ' "$out") f=$(grep -c '^FAIL ' "$out")
grep -q '^netns-run-complete' "$out" || { f=$((f + 1)); failed="$failed netns-runner"; }
rm -f "$out"
pass=$((pass + p)) fail=$((fail + f))

# The active-active test at its full size (3000 TCP + 300 UDP flows) and
# with its timing limits needs the plain build: under ASan the nodes leave
# this machine no room for that load (the suite above ran it smaller).
echo "== active-active at full size ($BUILD)"
out=$(mktemp)
case $BUILD in /*) plain=$BUILD ;; *) plain=$top/$BUILD ;; esac
ARPHA_BUILD="$plain" timeout 300 /usr/bin/python3 tests/netns/test_aa.py 2>&1 | tee "$out" |
	grep -E '^(PASS|FAIL) ' | sed 's#^\(PASS\|FAIL\) netns/aa#\1 netns/aa-full#'
grep -vE '^(PASS|FAIL) ' "$out" | sed 's/^/  | /'
p=$(grep -c '^PASS ' "$out") f=$(grep -c '^FAIL ' "$out")
[ "$p" -gt 0 ] || { f=$((f + 1)); failed="$failed netns/aa-full"; }
[ "$f" -gt 0 ] && failed="$failed netns/aa-full"
rm -f "$out"
pass=$((pass + p)) fail=$((fail + f))

echo
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
