#!/bin/bash
# unpack's command line: every compression, standard input, broken inputs,
# target rules, limits, stored images (put there by tests/store-put,
# not pull), exit codes, and a SIGKILL in the middle.
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"

T=$TEST_TMP
listing() { (cd "$1" && find . -printf '%y %m %s %Ts %l %p\n' | sort && find . -type f -exec sha256sum {} + | sort); }
make_rootfs "$T/rootfs" 3.20.3 || skip_all "cannot build the fixture rootfs"
want_setid=$(listing "$T/rootfs")
# A directory of the user's choice gets no setuid bit unless asked
# (--keep-setid); the fixture has one setuid file.
cp -a "$T/rootfs" "$T/rootfs-plain"
find "$T/rootfs-plain" ! -type d -perm /6000 -exec chmod ug-s {} +
want=$(listing "$T/rootfs-plain")
is "$(diff <(echo "$want_setid") <(echo "$want") | grep -c '^>')" 1 "the fixture has one setuid file"

for comp in gz xz zst bz2 none; do
        make_tarball "$T/rootfs" "$T/fixture.$comp" "$comp"
        run_cmd unpack -q "$T/fixture.$comp" "$T/out-$comp"
        is "$rc" 0 "$comp: unpacks"
        is "$(listing "$T/out-$comp")" "$want" "$comp: the tree matches the source (types, modes, sizes, mtimes, links, contents)"
done
ROOST_UNPACK_ZLIB=1 run_cmd unpack -q "$T/fixture.gz" "$T/out-zlib"
is "$(listing "$T/out-zlib")" "$want" "gz through libarchive's zlib: the same tree"
run_cmd unpack --keep-setid "$T/fixture.gz" "$T/out-msg"
like "$out" "^unpacked .*fixture.gz into .*out-msg$" "a summary line names what went where"
is "$err" "" "nothing on stderr when not a terminal"
is "$(listing "$T/out-msg")" "$want_setid" "--keep-setid: the setuid bit is kept"
run_cmd unpack -q "$T/fixture.gz" "$T/out-plain"
is "$err" "unpack: warning: $T/fixture.gz: not restored outside the store: the setuid/setgid bits of 1 file (--keep-devices, --keep-setid restore them)" \
        "without it, one warning says what was left out"

unpack -q - "$T/out-stdin" <"$T/fixture.xz"
ok $? "standard input: unpacks"
is "$(listing "$T/out-stdin")" "$want" "standard input: the same tree"
cat "$T/fixture.zst" | unpack -q - "$T/out-pipe"
is "$(listing "$T/out-pipe")" "$want" "a pipe: the same tree"

if command -v script >/dev/null; then
        progress=$(TERM=xterm script -qec "unpack '$T/fixture.gz' '$T/out-tty'" /dev/null | tr '\r' '\n')
        like "$progress" "^unpack: 100% \([0-9.]+ of [0-9.]+ MB\)" "progress on a terminal"
        progress=$(TERM=xterm script -qec "unpack -q --keep-setid '$T/fixture.gz' '$T/out-tty-q'" /dev/null)
        is "$progress" "" "--quiet: no progress on a terminal"
else
        skip "progress on a terminal" "script(1) missing"
fi

# Target rules.
mkdir "$T/empty"
unpack -q "$T/fixture.gz" "$T/empty"
ok $? "an existing empty directory is accepted"
is "$(listing "$T/empty")" "$want" "and filled"
run_cmd unpack -q "$T/fixture.gz" "$T/out-gz"
is "$rc" 2 "a non-empty target is refused with exit 2"
like "$err" "^unpack: .*out-gz is not empty$" "one line saying so"
touch "$T/afile"
run_cmd unpack -q "$T/fixture.gz" "$T/afile"
is "$rc" 2 "a file as target is refused"
ln -s "$T/elsewhere" "$T/alink"
mkdir "$T/elsewhere"
run_cmd unpack -q "$T/fixture.gz" "$T/alink"
is "$rc" 2 "a symlink as target is refused"
is "$(ls -A "$T/elsewhere")" "" "nothing went through the symlink"
run_cmd unpack -q "$T/nosuch.tar.gz" "$T/x"
is "$rc" 3 "a missing archive: exit 3"
like "$err" "^unpack: .*nosuch.tar.gz" "and the message names it"
run_cmd unpack -q "$T/fixture.gz" "$T/no/such/parent/x"
isnt() { [ "$1" != "$2" ]; ok $? "$3"; }
isnt "$rc" 0 "a missing parent directory fails"

# Broken inputs: one line naming the problem, exit 7, nothing left behind.
: >"$T/empty.tar"
head -c 1000 /dev/urandom >"$T/random.bin"
echo "just some text, not an archive" >"$T/text.txt"
gzip -c "$T/text.txt" >"$T/text.gz"
head -c 60000 "$T/fixture.gz" >"$T/trunc.gz"
head -c 60000 "$T/fixture.xz" >"$T/trunc.xz"
head -c 60000 "$T/fixture.zst" >"$T/trunc.zst"
head -c 60000 "$T/fixture.bz2" >"$T/trunc.bz2"
head -c 700000 "$T/fixture.none" >"$T/trunc.tar"
cp "$T/fixture.gz" "$T/corrupt.gz"
printf 'XXXXXXXXXXXXXXXX' | dd of="$T/corrupt.gz" bs=1 seek=30000 conv=notrunc 2>/dev/null
head -c 1024 /dev/zero >"$T/zeros.tar"
declare -A why=(
        [empty.tar]="empty input"
        [random.bin]="not a tar archive"
        [text.txt]="not a tar archive"
        [text.gz]="not a tar archive .*gzip"
        [trunc.gz]="entry '.*': truncated gzip input"
        [trunc.xz]=".*(truncated|No progress)"
        [trunc.zst]=".*[Tt]runcated zstd input"
        [trunc.bz2]=".*truncated bzip2 input"
        [trunc.tar]="entry '.*': Truncated tar archive"
        [corrupt.gz]=".*(corrupt|checksum|entry)"
        [zeros.tar]="archive has no entries"
)
for f in empty.tar random.bin text.txt text.gz trunc.gz trunc.xz trunc.zst trunc.bz2 trunc.tar corrupt.gz zeros.tar; do
        mkdir "$T/b-$f"
        run_cmd unpack -q "$T/$f" "$T/b-$f/out"
        is "$rc" 7 "$f: exit 7"
        like "$err" "^unpack: .*$f: ${why[$f]}" "$f: the message says why"
        is "$(printf '%s\n' "$err" | wc -l)" 1 "$f: one line"
        is "$(ls -A "$T/b-$f")" "" "$f: no target, no temporary"
done
# The same broken input through the zlib path, when ISA-L is the default.
mkdir "$T/b-zlib"
ROOST_UNPACK_ZLIB=1 run_cmd unpack -q "$T/trunc.gz" "$T/b-zlib/out"
is "$rc" 7 "truncated gzip through libarchive's zlib: exit 7"
like "$err" "trunc.gz: .*truncated gzip input" "the same kind of message"
is "$(ls -A "$T/b-zlib")" "" "nothing left"

# A compression libarchive would hand to a program in PATH (lrzip) is not
# one unpack takes: no program of the archive's choosing runs.
mkdir -p "$T/fakebin" "$T/b-lrz"
printf '#!/bin/sh\ntouch "%s/lrzip-ran"\ncat >/dev/null\n' "$T" >"$T/fakebin/lrzip"
chmod +x "$T/fakebin/lrzip"
{ printf 'LRZI\000\006'; head -c 2000 /dev/zero; } >"$T/x.lrz"
PATH="$T/fakebin:$PATH" run_cmd unpack -q "$T/x.lrz" "$T/b-lrz/out"
is "$rc" 7 "an lrzip stream: exit 7"
test ! -e "$T/lrzip-ran"; ok $? "... and no lrzip program was run for it"

# A refused entry from a pipe whose writer stays open: unpack stops at
# once instead of waiting for the writer.
python3 -c '
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    ti = tarfile.TarInfo("../escape"); ti.size = 1; t.addfile(ti, io.BytesIO(b"x"))
' "$T/evil.tar"
gzip -c "$T/evil.tar" >"$T/evil.tar.gz"
# gzip is prompt through ISA-L; libarchive's filters read ahead.
streams=evil.tar
if grep -q '^#define HAVE_ISAL' "$ROOST_BUILDDIR/config.h"; then
        streams="$streams evil.tar.gz"
else
        skip "gzip on an open pipe" "built without ISA-L: libarchive's gzip filter reads ahead"
fi
for f in $streams; do
        mkdir "$T/b-pipe-$f"
        start=$(date +%s)
        run_cmd unpack -q - "$T/b-pipe-$f/out" < <(cat "$T/$f"; sleep 8)
        is "$rc" 7 "$f: a hostile stream on an open pipe: exit 7"
        check "$f: unpack did not wait for the writer" test $(($(date +%s) - start)) -lt 5
done

# Limits.
run_cmd unpack -q --max-entries 10 "$T/fixture.gz" "$T/lim1"
is "$rc" 7 "--max-entries: exit 7"
like "$err" "more than 10 entries" "--max-entries: says which limit"
check "--max-entries: nothing left" test ! -e "$T/lim1"
run_cmd unpack -q --max-size 100K "$T/fixture.gz" "$T/lim2"
is "$rc" 7 "--max-size: exit 7"
like "$err" "more than 102400 bytes of file data" "--max-size: says which limit"
run_cmd unpack -q --max-size 10G --max-entries 1000 "$T/fixture.gz" "$T/lim3"
is "$rc" 0 "limits above the archive pass"
run_cmd unpack --max-size 12Q "$T/fixture.gz" "$T/lim4"
is "$rc" 2 "a bad --max-size is a usage error"
run_cmd unpack --max-entries -1 "$T/fixture.gz" "$T/lim4"
is "$rc" 2 "a bad --max-entries is a usage error"

# Stored images.
S=$T/store
sha=$(store-put put "$S" "$T/fixture.gz" alpine 3.20 x86_64 3.20)
store-put put "$S" "$T/fixture.xz" alpine 3.20 aarch64 3.20 >/dev/null
run_cmd unpack --store "$S" --arch x86_64 alpine:3.20
is "$rc" 0 "alpine:3.20: unpacks into the store"
like "$out" "^unpacked alpine:3.20 \(x86_64\) into .*/trees/$sha/rootfs$" "alpine:3.20: says where"
is "$(listing "$S/trees/$sha/rootfs")" "$want_setid" "the stored tree matches, setuid bit included"
run_cmd unpack --store "$S" --arch x86_64 alpine 3.20
is "$rc" 0 "a second call succeeds"
like "$out" "already unpacked" "and says it is done"
is "$(ls -A "$S/tmp")" "" "no temporary left in the store"
ROOST_STORE=$S run_cmd unpack --arch aarch64 alpine 3.20
is "$rc" 0 "NAME TAG form with --arch and ROOST_STORE"
is "$(ls "$S/trees" | wc -l)" 2 "another arch is another tree"
case $(uname -m) in
x86_64)
        run_cmd unpack --store "$S" alpine:3.20
        like "$out" "already unpacked" "the host's arch is found by default" ;;
*) skip "default arch" "not an x86_64 host" ;;
esac
run_cmd unpack --store "$S" --arch x86_64 --to "$T/exported" alpine:3.20
is "$rc" 0 "--to exports"
is "$(listing "$T/exported")" "$want" "--to: the exported tree matches"
run_cmd unpack --store "$S" --arch x86_64 --to "$T/exported" alpine:3.20
is "$rc" 2 "--to a non-empty directory is refused"
run_cmd unpack --store "$S" --arch x86_64 alpine:9.9
is "$rc" 3 "an unknown tag: exit 3"
like "$err" "^unpack: alpine:9.9 \(x86_64\) is not in the store; run 'pull alpine:9.9' first$" "and what to do"
run_cmd unpack --store "$S" --arch s390x alpine:3.20
is "$rc" 3 "an arch not pulled: exit 3"
run_cmd unpack --store "$T/nostore" alpine:3.20
is "$rc" 3 "a missing store: exit 3"
check "a missing store is not created" test ! -e "$T/nostore"
run_cmd unpack --store "$S" 'Bad/Name'
is "$rc" 2 "a bad reference: exit 2"
run_cmd unpack --store "$S" --arch '../x' alpine:3.20
is "$rc" 2 "a bad arch: exit 2"
run_cmd unpack
is "$rc" 2 "no argument: exit 2"
run_cmd unpack a b c
is "$rc" 3 "three arguments are layers and a DIR: a missing layer is exit 3"
run_cmd unpack --frobnicate
is "$rc" 2 "an unknown option: exit 2"
run_cmd unpack --help
like "$out" "Exit status:" "--help documents the exit codes"

# SIGKILL in the middle of a stored unpack leaves the store consistent: no
# tree (or a complete one), the temporary swept by the next command, and a
# later unpack that works.
mkdir -p "$T/big/d"
for i in $(seq 1 40); do head -c 5000000 /dev/zero >"$T/big/d/f$i"; done
tar -C "$T/big" -czf "$T/big.tar.gz" .
rm -rf "$T/big"
bsha=$(store-put put "$S" "$T/big.tar.gz" big 1 x86_64 1)
unpack --store "$S" --arch x86_64 -q big:1 &
pid=$!
# Kill as soon as the first file lands in the temporary tree.
for i in $(seq 1 500); do
        compgen -G "$S/tmp/*/rootfs/d/f*" >/dev/null && break
        sleep 0.01
done
kill -9 $pid
wait $pid 2>/dev/null
is "$?" 137 "SIGKILL reached unpack while it was writing the tree"
if [ -d "$S/trees/$bsha" ]; then
        is "$(du -sb "$S/trees/$bsha/rootfs/d" | cut -f1)" $((40 * 5000000 + 4096)) "SIGKILL: the tree, when published, is complete"
else
        isnt "$(ls -A "$S/tmp")" "" "SIGKILL: no tree published; the partial one is where the next command sweeps it"
fi
run_cmd unpack --store "$S" --arch x86_64 -q big:1
is "$rc" 0 "after SIGKILL: unpack works"
is "$(ls -A "$S/tmp")" "" "after SIGKILL: the dead writer's temporary is gone"
is "$(find "$S/trees/$bsha/rootfs/d" -type f | wc -l)" 40 "after SIGKILL: the tree is whole"

# gzip headers that ISA-L's inflater reads differently from zlib unless
# roost reads them itself: a header longer than one read (128 KiB: FEXTRA
# and a long FNAME) with FHCRC over all of it, and a reserved flag
# (refused, as zlib and gzip refuse it). Made by hand: no tool writes such
# headers.
python3 - "$T/fixture.none" "$T" <<'PY' || exit 1
import struct, sys, zlib
tar = open(sys.argv[1], "rb").read()
def member(flags, extra=b"", name=b""):
    head = b"\x1f\x8b\x08" + bytes([flags]) + b"\0\0\0\0\0\xff"
    if flags & 4:
        head += struct.pack("<H", len(extra)) + extra
    if flags & 8:
        head += name + b"\0"
    if flags & 2:
        head += struct.pack("<H", zlib.crc32(head) & 0xffff)
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return head + c.compress(tar) + c.flush() + struct.pack("<II", zlib.crc32(tar), len(tar) & 0xffffffff)
open(sys.argv[2] + "/fhcrc.tar.gz", "wb").write(member(2 | 4 | 8, b"x" * 65000, b"n" * 300000))
open(sys.argv[2] + "/reserved.tar.gz", "wb").write(member(0x20))
PY
run_cmd unpack -q "$T/fhcrc.tar.gz" "$T/out-fhcrc"
is "$rc" 0 "gzip with FEXTRA, FNAME and FHCRC, the header past one read: unpacks ($err)"
is "$(listing "$T/out-fhcrc")" "$want" "... the same tree"
run_cmd unpack -q - "$T/out-fhcrc-stdin" <"$T/fhcrc.tar.gz"
is "$rc" 0 "... and from a pipe, in short reads ($err)"
run_cmd unpack -q "$T/reserved.tar.gz" "$T/out-reserved"
is "$rc" 7 "gzip with a reserved flag: refused, exit 7"
like "$err" "gzip header is corrupt" "... saying so ($err)"
tap_done
