#!/bin/bash
# Every tool reads its options the same way (common/opts.c): before or
# after the operands, "--" ending them; roost's global options before the
# command too; nothing is done before the whole command line is read; a
# real --help for every tool and every roost command. launch's docker
# habits: -i, -it, --rm, --env-file.
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"

ARCH=$(uname -m); [ "$ARCH" = x86_64 ] || ARCH=aarch64
fixture_tarball "$TEST_TMP/rootfs.tar.gz" gz 3.99.1 || skip_all "cannot build the fixture rootfs"
# Two throwaway stores: A is the default one (ROOST_STORE), B is named
# with --store. Both hold alpine:3.20; B holds alpine:3.21 too.
A=$TEST_TMP/default-store B=$TEST_TMP/other-store
export ROOST_STORE=$A
fill() {
        rm -rf "$A" "$B"
        store-put put "$A" "$TEST_TMP/rootfs.tar.gz" alpine 3.20 "$ARCH" 3.99.1 >/dev/null &&
                store-put put "$B" "$TEST_TMP/rootfs.tar.gz" alpine 3.20 "$ARCH" 3.99.1 >/dev/null &&
                store-put put "$B" "$TEST_TMP/rootfs.tar.gz" alpine 3.21 "$ARCH" 3.99.1 >/dev/null
}
refs() { roost images -q --store "$1" | tr '\n' ' '; }
fill; ok $? "two stores are filled without a network"
sha=$(sha256sum "$TEST_TMP/rootfs.tar.gz" | cut -d' ' -f1)

# ---- --store after the operand names the store the command acts on
run_cmd roost rm alpine:3.20 --store "$B"
is "$rc" 0 "rm IMAGE --store OTHER exits 0"
is "$(refs "$B")" "alpine:3.21 " "... and removes the image from OTHER"
is "$(refs "$A")" "alpine:3.20 " "... and leaves the default store untouched"
fill
run_cmd roost rm --prune alpine:3.21 --store "$B" -q
is "$rc:$out:$(refs "$B")" "0::alpine:3.20 " "options on both sides of the operand are all read"

# verify IMAGE --store X checks X: damage B's archive, keep A's intact.
fill
chmod u+w "$B/blobs/sha256/$sha"
flip_byte "$B/blobs/sha256/$sha" 100
run_cmd roost verify alpine:3.20 --store "$B"
is "$rc" 5 "verify IMAGE --store X checks X (whose archive is damaged): exit 5"
like "$err" "alpine:3.20: archive ${sha:0:12}: checksum mismatch" "... and names X's damaged archive"
run_cmd roost verify alpine:3.20
is "$rc" 0 "verify IMAGE without --store checks the default store, intact"
fill

# ---- global options before the command
run_cmd roost --store "$B" images -q
is "$rc:$out" "0:alpine:3.20
alpine:3.21" "roost --store X images lists X"
run_cmd roost --arch aarch64 -q images
is "$rc:$out" "0:alpine:3.20" "roost --arch ARCH -q images: both global options are taken"
run_cmd roost -q --store "$B" rm alpine:3.21
is "$rc:$out:$(refs "$B")" "0::alpine:3.20 " "roost -q --store X rm IMAGE: quiet, and in X"
fill
run_cmd roost --store "$B" images --store "$A" -q
is "$out" "alpine:3.20" "an option after the command wins over the same global option before it"
run_cmd roost --arch '../x' images
is "$rc" 2 "a bad global --arch: exit 2"
run_cmd roost --store "$B"
is "$rc:$(wc -l <<<"$err")" "2:1" "global options and no command: exit 2, one line"
# The exec'd tools get the global options in front of their own.
run_cmd roost --store "$B" -q pull --offline alpine 3.21
is "$rc:$out" "0:" "roost --store X -q pull --offline: pull reads X, quietly"
run_cmd roost --store "$A" pull --offline alpine 3.21
is "$rc" 3 "... and the same pull against the store without it: not found (exit 3)"
run_cmd roost --store "$B" unpack alpine:3.21 --to "$TEST_TMP/exported"
is "$rc:$(cat "$TEST_TMP/exported/etc/alpine-release" 2>/dev/null)" "0:3.99.1" \
        "roost --store X unpack IMAGE --to DIR exports from X"

# ---- nothing is done before the whole command line is read
fill
for cmd in "rm alpine:3.20 --bogus" "rm alpine:3.20 --store" "rm --prune alpine:3.20 -Z" "gc --bogus" \
        "export alpine:3.20 $TEST_TMP/out.tar --bogus" "import $TEST_TMP/none.tar --bogus"; do
        run_cmd roost $cmd
        is "$rc:$(wc -l <<<"$err")" "2:1" "roost ${cmd//$TEST_TMP/TMP}: exit 2 and one line"
        like "$err" "^roost: [a-z]+: (unknown option|option '--store' needs an argument)" "... saying which option"
done
is "$(refs "$A")" "alpine:3.20 " "... and none of them removed anything"
test ! -e "$TEST_TMP/out.tar"; ok $? "... nor wrote an export"
run_cmd roost rm alpine:3.20 --help
is "$rc:$(refs "$A")" "0:alpine:3.20 " "--help after an operand prints the help and removes nothing"
run_cmd roost gc alpine:3.20
is "$rc" 2 "gc refuses an operand rather than collect the whole store"
run_cmd roost images --json=yes
is "$rc" 2 "an option that takes no argument refuses one"
run_cmd roost rm -- -x
like "$err" "^roost: rm: -x: " "after --, a word that looks like an option is an operand"
for t in pull unpack; do
        run_cmd $t --store
        is "$rc:$(wc -l <<<"$err")" "2:1" "$t --store (no argument): exit 2 and one line"
        run_cmd $t alpine:3.20 --bogus
        is "$rc:$err" "2:$t: unknown option '--bogus'; try '$t --help'" "$t: an unknown option after the operand: exit 2, one line"
done

# ---- every tool and every command has its own --help
for cmd in pull unpack launch images rm gc verify export import; do
        run_cmd roost "$cmd" --help
        is "$rc" 0 "roost $cmd --help exits 0"
        like "$(head -1 <<<"$out")" "^Usage: (roost )?$cmd " "... and prints $cmd's own usage"
        like "$out" "--help" "... with its options"
        like "$out" "(Exit status|roost\\(1\\)|$cmd\\(1\\))" "... and its exit codes or man page"
done
run_cmd roost --help
like "$out" "--store DIR" "roost --help lists the global --store"
like "$out" "-q, --quiet" "... and -q"
like "$out" "--arch ARCH" "... and --arch"

# ---- launch: what follows the image is the command's; docker's -i, -it,
# --rm and --env-file
run_cmd launch --bogus alpine true
is "$rc:$err" "125:launch: unknown option '--bogus'; try 'launch --help'" "launch: an unknown option: 125, one line"
run_cmd launch --env-file "$TEST_TMP/missing.env" --rootfs "$TEST_TMP" true
is "$rc:$err" "125:launch: --env-file $TEST_TMP/missing.env: No such file or directory" \
        "launch --env-file with a missing file: 125, one line"
printf 'GOOD=1\nBAD KEY=2\n' >"$TEST_TMP/bad.env"
run_cmd launch --env-file "$TEST_TMP/bad.env" --rootfs "$TEST_TMP" true
is "$rc:$err" "125:launch: --env-file $TEST_TMP/bad.env:2: expected KEY=VALUE or KEY, no blank in KEY" \
        "a malformed line: 125, naming the file and line"
# A file that never ends (a device, a pipe) stops at the bounds, in
# bounded memory, rather than growing until the machine swaps.
run_cmd timeout 30 launch --env-file /dev/zero --rootfs "$TEST_TMP" true
is "$rc:$err" "125:launch: --env-file /dev/zero:1: longer than 128 KiB (the kernel's bound on one variable)" \
        "--env-file /dev/zero: 125, one line (a line's bound)"
run_cmd timeout 30 launch --env-file <(yes A=b) --rootfs "$TEST_TMP" true
like "$rc:$err" "^125:launch: --env-file /dev/fd/[0-9]+: longer than 4 MiB$" \
        "--env-file of an endless pipe: 125, one line (the file's bound)"
run_cmd launch --rm --name web --rootfs "$TEST_TMP" true
is "$rc:$(wc -l <<<"$err")" "125:1" "--rm with --name (which keeps the layer): 125, one line"
if [ "$(id -u)" -ne 0 ]; then
        skip "launch runs with -i, -it, --rm, --env-file" "needs root"
else
        launch_fixture
        run_cmd L echo --bogus -q
        is "$rc:$out" "0:--bogus -q" "what follows the command is the command's, verbatim"
        run_cmd L -i --rm true
        is "$rc" 0 "-i and --rm are accepted (launch's defaults)"
        run_cmd L -it true </dev/null
        is "$rc:$err" "125:launch: --tty: standard input is not a terminal" "-it is read as -i -t"
        if command -v script >/dev/null; then
                # script turns the EOF of its stdin into a "^@" the terminal echoes.
                out=$(script -qec "launch --store $STORE --rootfs $ROOTFS -it sh -c 'test -t 0 && echo TTY'" \
                        /dev/null </dev/null | tr -d '\r' | sed 's/^\^@//')
                like "$out" "^TTY$" "-it on a terminal gives the command one"
        else
                skip "-it on a terminal gives the command one" "script (util-linux) not installed"
        fi
        printf '# a comment\n\n  SPACED=a b \nFROM_CALLER\nUNSET_HERE\nEQ=x=y\r\nOVER=file\n' >"$TEST_TMP/ok.env"
        run_cmd env -u UNSET_HERE FROM_CALLER=ours \
                launch --store "$STORE" --rootfs "$ROOTFS" --env-file "$TEST_TMP/ok.env" -e OVER=flag env
        is "$rc" 0 "--env-file: the command runs"
        env=$(LC_ALL=C sort <<<"$out" | grep -vE '^(PATH|HOME|HOSTNAME|container)=')
        is "$env" "EQ=x=y
FROM_CALLER=ours
OVER=flag
SPACED=a b " "--env-file: values verbatim, KEY alone from the caller (or nothing), comments skipped, -e wins"
fi
tap_done
