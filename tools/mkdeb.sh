#!/bin/sh
# Build the Debian packages (debian/) in a copy of the tree under OUTDIR, so
# that dpkg-buildpackage's ../*.deb and debian/'s leftovers never land in the
# source tree; the .deb, .buildinfo and .changes files end in OUTDIR.
# Usage: tools/mkdeb.sh [OUTDIR]   (default build-deb)
# DEB_BUILD_OPTIONS is passed on (e.g. nocheck parallel=2); without it the
# unit tests run during the build, on every core.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-build-deb}
case $out in /*) ;; *) out=$top/$out ;; esac
version=$(sed -n '1s/^arpha (\([^)]*\)).*/\1/p' "$top/debian/changelog")
[ -n "$version" ] || { echo "mkdeb: no version in debian/changelog" >&2; exit 1; }
: "${DEB_BUILD_OPTIONS:=parallel=$(nproc)}"
export DEB_BUILD_OPTIONS
src=$out/arpha-$version
rm -rf "$src"
rm -f "$out"/arpha*_"$version"_*.deb "$out"/arpha_"$version"_*.buildinfo \
	"$out"/arpha_"$version"_*.changes
mkdir -p "$src"
# the tree as it is (uncommitted changes too), without build directories and git
(cd "$top" && tar --exclude=./.git --exclude='./build*' --exclude=./tests/fuzz/corpus-run \
	--exclude='__pycache__' -cf - .) | tar -C "$src" -xf -
(cd "$src" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1 || {
	tail -n 60 "$out/build.log" >&2
	echo "mkdeb: dpkg-buildpackage failed; the whole log is $out/build.log" >&2
	exit 1
}
rm -rf "$src"
ls "$out"/*.deb
