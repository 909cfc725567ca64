#!/bin/sh
# Run every end-to-end test in network namespaces against one build.
# Usage: tests/netns/run.sh [BUILD_DIR]   (default build-asan; must run as root)
# Prints each test's PASS/FAIL lines and, last, "netns-run-complete".
# Exits non-zero if anything failed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:-build-asan}
case $build in /*) ;; *) build=$top/$build ;; esac
PY=/usr/bin/python3

if [ "$(id -u)" != 0 ]; then
	echo "FAIL netns/runner: the netns tests need root (network namespaces, nftables)"
	echo "netns-run-complete"
	exit 1
fi
for b in arphad arpha; do
	if [ ! -x "$build/$b" ]; then
		echo "FAIL netns/runner: no $build/$b (build it first: make asan)"
		echo "netns-run-complete"
		exit 1
	fi
done
if [ ! -x "$PY" ]; then
	echo "FAIL netns/runner: $PY is missing"
	echo "netns-run-complete"
	exit 1
fi

export ARPHA_BUILD="$build"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export PYTHONDONTWRITEBYTECODE=1

failed=0
start=$(date +%s)
log=$(mktemp)
trap 'rm -f "$log" "$log.rc"' EXIT
for t in "$here"/test_*.py; do
	name=$(basename "$t" .py)
	# PASS/FAIL lines as they come; anything else (a traceback) after the test
	{ timeout 240 "$PY" "$t" 2>&1; echo $? >"$log.rc"; } | tee "$log" |
		grep --line-buffered -E '^(PASS|FAIL) '
	rc=$(cat "$log.rc")
	grep -vE '^(PASS|FAIL) ' "$log" | sed 's/^/  | /'
	if [ "$rc" -ne 0 ]; then
		failed=1
		# a test that dies without its own FAIL line still counts as failed
		grep -q '^FAIL ' "$log" ||
			echo "FAIL netns/$name: exited with status $rc and no FAIL line"
	fi
done
echo "netns: $(($(date +%s) - start)) s"
echo "netns-run-complete"
exit $failed
