#!/bin/bash
# Build libarchive, libyaml and jansson from Debian's own sources (apt-get
# source), with clang and the fuzzer's coverage instrumentation plus ASan
# and UBSan, as static libraries under DEST (default: fuzz/deps beside this
# script). Against Debian's uninstrumented libarchive a fuzzer sees only
# roost's own edges and none of the tar parser's (docs/fuzz.md has the
# figures); the same goes for the YAML and JSON parsers.
#
# Done once per build tree: a second run finds DEST/prefix complete and
# does nothing. Needs clang, dpkg-dev and a deb-src entry: when apt has
# none and this runs as root, one is added for the URIs and suites the deb
# entries already name (/etc/apt/sources.list.d/roost-deb-src.sources).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dest=${1:-$here/deps}
prefix=$dest/prefix
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
prefix=$dest/prefix
packages="libarchive libyaml jansson"
complete=1
for p in $packages; do
        grep -q "^${p}_" "$prefix/.complete" 2>/dev/null || complete=
done
[ -z "$complete" ] || exit 0
command -v clang >/dev/null || { echo "build-deps: clang not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 77; }
command -v dpkg-source >/dev/null || { echo "build-deps: dpkg-source not found (apt-get install dpkg-dev)" >&2; exit 77; }

src=$dest/src
rm -rf "$src" "$prefix"
mkdir -p "$src"
cd "$src"

# Debian's sources for exactly the packages installed here, or the newest
# the configured suites have.
fetch() {
        apt-get source -qq --download-only $packages >fetch.log 2>&1
}
if ! fetch; then
        if [ "$(id -u)" -ne 0 ]; then
                echo "build-deps: apt-get source failed and only root can add a deb-src entry:" >&2
                tail -5 fetch.log >&2
                exit 77
        fi
        list=/etc/apt/sources.list.d/roost-deb-src.sources
        found=
        for f in /etc/apt/sources.list.d/*.sources; do
                [ "$f" = "$list" ] || [ ! -e "$f" ] && continue
                found=1
                sed -n 's/^Types:.*\<deb\>.*/Types: deb-src/; /^#/d; p' "$f"
                echo
        done >"$list.new"
        if [ -e /etc/apt/sources.list ]; then
                sed -n 's/^deb \(.*\)/deb-src \1/p' /etc/apt/sources.list >/etc/apt/sources.list.d/roost-deb-src.list
                found=1
        fi
        [ -n "$found" ] || { echo "build-deps: no apt sources to derive deb-src from" >&2; rm -f "$list.new"; exit 77; }
        mv "$list.new" "$list"
        apt-get update -qq >/dev/null
        fetch || { echo "build-deps: apt-get source failed:" >&2; tail -5 fetch.log >&2; exit 77; }
fi
for dsc in *.dsc; do
        dpkg-source -x --no-check "$dsc" >/dev/null
done

jobs=$(nproc)
# Coverage and ASan everywhere; UBSan's findings in Debian's code are
# reported but recoverable (roost's own code is built not to recover):
# a fault in a dependency is worth knowing, not a fault of roost's.
san="-fsanitize=fuzzer-no-link,address,undefined"
export CC=clang CFLAGS="-O1 -g -fno-omit-frame-pointer $san" LDFLAGS="-fsanitize=address,undefined"

# Debian's libyaml source is a git snapshot without a configure script.
cd "$src"/libyaml-*/
autoreconf -fi >../libyaml-autoreconf.log 2>&1
./configure -q --prefix="$prefix" --disable-shared --enable-static >../libyaml-configure.log
make -s -j"$jobs" >../libyaml-make.log 2>&1
make -s install >/dev/null

# jansson: the registry's, the store's and import's JSON.
cd "$src"/jansson-*/
autoreconf -fi >../jansson-autoreconf.log 2>&1
./configure -q --prefix="$prefix" --disable-shared --enable-static >../jansson-configure.log
make -s -j"$jobs" >../jansson-make.log 2>&1
make -s install >/dev/null

# libarchive as roost uses it: tar with every compressor Debian's links
# (zlib, bzip2, xz, zstd, lz4); no front ends, no ACL or xattr on disk
# (roost writes its own tree), no XML or crypto (xar, zip encryption).
# Debian's patches touch the build files: regenerate them with the
# autotools installed here, as Debian's own build does (dh_autoreconf).
cd "$src"/libarchive-*/
autoreconf -fi >../libarchive-autoreconf.log 2>&1
./configure -q --prefix="$prefix" --disable-shared --enable-static --disable-bsdtar --disable-bsdcpio \
        --disable-bsdcat --disable-acl --disable-xattr --without-xml2 --without-expat --without-openssl \
        --without-nettle --without-cng --without-libb2 --without-iconv \
        --with-zlib --with-bz2lib --with-lzma --with-zstd --with-lz4 >../libarchive-configure.log
make -s -j"$jobs" libarchive.la >../libarchive-make.log 2>&1
make -s install-libLTLIBRARIES install-includeHEADERS install-pkgconfigDATA >/dev/null

ls "$src"/*.dsc | sed 's,.*/,,' >"$prefix/.complete"
echo "build-deps: $(tr '\n' ' ' <"$prefix/.complete")into $prefix"
