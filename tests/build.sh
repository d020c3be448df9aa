#!/bin/bash
# roost build: a Dockerfile of every supported instruction, built twice
# (the second fully cached: no RUN runs, the same image), a COPY source
# changed (rebuilt from that step on), --no-cache, ARG and --build-arg,
# refused instructions, a failing RUN (its status, no image, no container
# left), hostile contexts, .dockerignore, FROM scratch, -q and --json, the
# image launched and exported for skopeo, and gc of the cache. As root:
# RUN runs through launch over real overlayfs and namespaces.
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
require_root
ARCH=$(uname -m)
case $ARCH in arm64) ARCH=aarch64 ;; esac

S=$TEST_TMP/store
C=$TEST_TMP/ctx
mkdir -p "$C"
make_rootfs "$TEST_TMP/base" 3.99.0 || skip_all "cannot build the fixture rootfs"
echo 'app:x:1000:1000::/home/app:/bin/sh' >>"$TEST_TMP/base/etc/passwd"
echo 'app:x:1000:' >>"$TEST_TMP/base/etc/group"
make_tarball "$TEST_TMP/base" "$TEST_TMP/base.tar.gz"
echo '{"Cmd":["/bin/sh"],"Env":["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]}' >"$TEST_TMP/base.json"
run_cmd store-put image "$S" base 1 "$ARCH" "$TEST_TMP/base.json" "$TEST_TMP/base.tar.gz"
is "$rc" 0 "the base image is stored"
run_cmd unpack --store "$S" -q base:1

# build ARGS...: roost build in $S.
build() { run_cmd roost --store "$S" build "$@"; }
# top_id: the image id of app:1.
image_id() { roost --store "$S" inspect "$1" | jq -r '.[0].Id'; }

# ---- every instruction ----
mkdir -p "$C/src/sub" "$C/logs"
echo 'hello from a file' >"$C/hello.txt"
echo 'in a directory' >"$C/src/sub/deep.txt"
printf '#!/bin/sh\necho "app says $*"\n' >"$C/src/app.sh"
chmod 750 "$C/src/app.sh"
echo 'not wanted' >"$C/logs/build.log"
echo 'not wanted either' >"$C/secret.key"
echo 'kept' >"$C/logs/keep.log"
printf '# comments and patterns\nlogs\n*.key\n!logs/keep.log\n' >"$C/.dockerignore"
cat >"$C/Dockerfile" <<'EOF'
# Every instruction roost build reads.
ARG BASE=base:1
FROM $BASE
ARG GREETING=hello
ARG WHO
ENV APP_HOME=/opt/app \
    MODE="two words"
LABEL team=ci "org.example.note"="a note"
WORKDIR $APP_HOME
RUN echo "$GREETING ${WHO:-nobody} in $MODE" >greeting.txt && \
    cat /proc/sys/kernel/random/uuid >stamp && pwd >where
RUN ["/bin/sh", "-c", "echo exec form >/opt/app/exec.txt"]
COPY hello.txt .
COPY --chown=app:app src/ bin/
COPY . /ctx/
USER app
ENTRYPOINT ["/opt/app/bin/app.sh"]
CMD ["one", "two"]
EOF
build -t app:1 --build-arg WHO=roost "$C"
is "$rc" 0 "a Dockerfile of every instruction builds"
[ "$rc" = 0 ] || tap_diag "$err"
is "$(grep -c "^STEP [0-9]*/15: " <<<"$out")" 15 "... one line per step (15)"
like "$out" "STEP 9/15: RUN \\[\"/bin/sh\"" "... each naming its instruction"
like "$(tail -1 <<<"$out")" "^app:1 sha256:[0-9a-f]{64}$" "... and ends with the image"
ID1=$(image_id app:1)
run_cmd launch --store "$S" app:1
is "$out" "app says one two" "the image launches with its ENTRYPOINT and CMD"
run_cmd launch --store "$S" --entrypoint /bin/sh app:1 -c \
        'cat greeting.txt where exec.txt hello.txt; id -u; echo $MODE; ls -ln bin/app.sh bin/sub/deep.txt | cut -c1-30'
is "$(sed -n 1,4p <<<"$out")" "$(printf 'hello roost in two words\n/opt/app\nexec form\nhello from a file')" \
        "RUN saw ENV, ARG (--build-arg over none, the default otherwise) and WORKDIR; COPY to a relative destination"
is "$(sed -n 5,6p <<<"$out")" "$(printf '1000\ntwo words')" "USER and ENV are the image's"
like "$(sed -n 7p <<<"$out")" "^-rwxr-x--- +1 1000 +1000 " "COPY --chown=app:app: owner and mode"
like "$(sed -n 8p <<<"$out")" "^-rw-r--r-- +1 1000 +1000 " "... down a copied directory too"
CFG=$(roost --store "$S" inspect app:1 | jq -c '.[0].Config | {Env, WorkingDir, User, Labels, Entrypoint, Cmd}')
is "$CFG" '{"Env":["PATH=/usr/sbin:/usr/bin:/sbin:/bin","APP_HOME=/opt/app","MODE=two words"],"WorkingDir":"/opt/app","User":"app","Labels":{"org.example.note":"a note","team":"ci"},"Entrypoint":["/opt/app/bin/app.sh"],"Cmd":["one","two"]}' \
        "the config says what the Dockerfile did"
is "$(roost --store "$S" inspect app:1 | jq '.[0].Layers | length')" 6 "a layer per RUN and COPY, on the base's"
is "$(roost --store "$S" inspect app:1 | jq -r '.[0].History[-6].created_by')" "COPY hello.txt ." \
        "the history names each step"
run_cmd launch --store "$S" --entrypoint /bin/sh app:1 -c 'ls -a /ctx | tr "\n" " "; ls /ctx/logs'
is "$out" '. .. .dockerignore Dockerfile hello.txt logs src keep.log' \
        ".dockerignore: logs and *.key left out, !logs/keep.log kept"
STAMP1=$(launch --store "$S" --entrypoint /bin/cat app:1 /opt/app/stamp)

# ---- the second build: fully cached ----
build -t app:1 --build-arg WHO=roost "$C"
is "$rc" 0 "the same build again"
is "$(grep -c '^STEP .*CACHED' <<<"$out")" 11 "... every step that makes an image is CACHED (11: all but FROM and the ARGs)"
unlike "$out" "STEP [0-9/]*: (RUN|COPY)" "... no RUN or COPY ran"
is "$(image_id app:1)" "$ID1" "... the same image"
is "$(launch --store "$S" --entrypoint /bin/cat app:1 /opt/app/stamp)" "$STAMP1" "... whose RUN did not run again (its stamp)"
is "$(ls "$S/containers" 2>/dev/null | wc -l)" 0 "no build container is left"

# ---- a COPY source changed ----
echo 'hello again' >"$C/hello.txt"
build -t app:1 --build-arg WHO=roost "$C"
is "$rc" 0 "a COPY source changed: it builds"
like "$out" "STEP 9/15: CACHED RUN" "... the steps before it are cached"
like "$out" "STEP 10/15: COPY hello.txt" "... that COPY runs again"
like "$out" "STEP 11/15: COPY --chown" "... and every step after it"
unlike "$out" "STEP 1[1-5]/15: CACHED" "... none of them cached"
chmod 755 "$C/src/app.sh"
build -t app:1 --build-arg WHO=roost "$C"
like "$out" "STEP 10/15: CACHED COPY hello" "a source's mode changed: the COPY before it stays cached"
like "$out" "STEP 11/15: COPY --chown" "... that COPY runs again"

# ---- ARG values are in the key ----
build -t app:1 --build-arg WHO=else "$C"
like "$out" "STEP 8/15: RUN echo" "another --build-arg: the RUN that sees it runs again"
is "$(launch --store "$S" --entrypoint /bin/cat app:1 /opt/app/greeting.txt)" "hello else in two words" \
        "... with the new value"

build -q -t app:1 --build-arg WHO=roost --build-arg NOPE=1 "$C"
like "$err" "build-arg NOPE: no ARG NOPE in the Dockerfile; ignored" "a --build-arg no ARG declares: a warning"
if ensure_test_user; then
        run_cmd as_test_user roost --store "$TEST_TMP/user-store" build -t app:1 "$C"
        like "$rc:$err" "^1:.*runs as root for now" "without root: refused with one line (not supported yet)"
else
        skip "a rootless build is refused" "no test user"
fi

# ---- --no-cache ----
build -t app:1 --no-cache --build-arg WHO=roost "$C"
is "$rc" 0 "--no-cache builds"
unlike "$out" "CACHED" "... reusing nothing"
STAMP2=$(launch --store "$S" --entrypoint /bin/cat app:1 /opt/app/stamp)
[ "$STAMP2" != "$STAMP1" ]
ok $? "... its RUN ran again"

# ---- -q and --json ----
build -q -t app:1 --build-arg WHO=roost "$C"
like "$out" "^sha256:[0-9a-f]{64}$" "-q prints the image id only"
is "$out" "$(image_id app:1)" "... the image's"
build --json -t app:1 --build-arg WHO=roost "$C"
is "$(jq -r '.reference, (.steps | length), ([.steps[] | select(.cached)] | length)' <<<"$out" | tr '\n' ' ')" \
        "app:1 15 11 " "--json: the reference and each step, cached or not"

# ---- refused instructions ----
mkdir -p "$TEST_TMP/bad"
printf 'FROM base:1\nRUN true\n\n# a comment\nEXPOSE 80\n' >"$TEST_TMP/bad/Dockerfile"
build -t bad:1 "$TEST_TMP/bad"
is "$rc:$(grep -c . <<<"$err")" "2:1" "EXPOSE is refused: exit 2, one line"
like "$err" "line 5: EXPOSE is not supported" "... naming its line and the instruction"
unlike "$out" "STEP" "... before any step runs"
printf 'FROM base:1\nONBUILD RUN true\n' >"$TEST_TMP/bad/Dockerfile"
build -t bad:1 "$TEST_TMP/bad"
like "$rc $err" "^2 .*line 2: ONBUILD" "ONBUILD too"
printf 'FROM base:1\nFLY away\n' >"$TEST_TMP/bad/Dockerfile"
build -t bad:1 "$TEST_TMP/bad"
like "$rc $err" "^2 .*line 2: unknown instruction FLY" "an unknown instruction: its name"

# ---- a failing RUN ----
printf 'FROM base:1\nRUN echo made >/made\nRUN echo half >/half && exit 42\nRUN echo never\n' >"$TEST_TMP/bad/Dockerfile"
build -t bad:1 "$TEST_TMP/bad"
is "$rc" 42 "a failing RUN: the build exits with its status"
like "$err" "line 3: RUN echo half.*status 42" "... naming the line"
unlike "$out" "STEP 4/4" "... and stops there"
run_cmd roost --store "$S" inspect bad:1
is "$rc" 3 "... no image is named"
is "$(ls "$S/containers" 2>/dev/null | wc -l):$(ls "$S/tmp" | wc -l)" "0:0" "... no build container or temporary is left"

# A build killed during a RUN leaves its build container; the next build
# removes it (its pid is gone).
printf 'FROM base:1\nRUN echo started >/started && sleep 30\n' >"$TEST_TMP/bad/Dockerfile"
roost --store "$S" build -t killed:1 "$TEST_TMP/bad" >"$TEST_TMP/killed.out" 2>&1 &
bpid=$!
for _ in $(seq 100); do ls "$S/containers" 2>/dev/null | grep -q "^roost-build-$bpid-" && break; sleep 0.1; done
sleep 0.5
kill -KILL "$bpid"
wait "$bpid" 2>/dev/null
for _ in $(seq 100); do [ "$(roost --store "$S" containers --json | jq '[.[] | select(.running)] | length')" = 0 ] && break; sleep 0.1; done
is "$(ls "$S/containers" | grep -c "^roost-build-$bpid-")" 1 "a build killed during a RUN leaves its build container"
build -q -t app:1 --build-arg WHO=roost "$C"
is "$(ls "$S/containers" | grep -c "^roost-build-")" 0 "... which the next build removes"

# ---- hostile contexts ----
H=$TEST_TMP/hostile
mkdir -p "$H/ok"
echo 'host secret' >"$TEST_TMP/outside.txt"
ln -s "$TEST_TMP/outside.txt" "$H/abs-link"
ln -s ../outside.txt "$H/rel-link"
ln -s "$TEST_TMP" "$H/dir-link"
echo fine >"$H/ok/fine"
ESC=$TEST_TMP/escape-target
printf 'FROM base:1\nCOPY ../outside.txt /x\n' >"$H/Dockerfile"
build -t hostile:1 "$H"
like "$rc $err" "^[1-9][0-9]* .*line 2: COPY \\.\\./outside.txt: outside the build context" "COPY ../x is refused"
printf 'FROM base:1\nCOPY dir-link/outside.txt /x\n' >"$H/Dockerfile"
build -t hostile:1 "$H"
like "$rc $err" "^[1-9][0-9]* .*through a symlink" "a source reached through a symlink out of DIR is refused"
printf 'FROM base:1\nCOPY abs-link rel-link /links/\nRUN ln -s %s /escape && ln -s ../../../../.. /up\nCOPY ok/fine /escape/\nCOPY ok/fine /up/tmp/../../fine2\n' \
        "$ESC" >"$H/Dockerfile"
build -t hostile:1 "$H"
is "$rc" 0 "symlinks out of DIR are copied as symlinks; destinations through the image's symlinks"
run_cmd launch --store "$S" hostile:1 sh -c 'readlink /links/abs-link; readlink /links/rel-link; cat /links/rel-link 2>&1; cat '"$ESC"'/fine; cat /fine2'
is "$(sed -n 1,2p <<<"$out")" "$(printf '%s\n../outside.txt' "$TEST_TMP/outside.txt")" "... the links as they were, not followed"
unlike "$out" "host secret" "... the host's file is not in the image"
is "$(sed -n 4,5p <<<"$out")" "$(printf 'fine\nfine')" "... an absolute destination through a symlink lands inside the image"
[ ! -e "$ESC" ]
ok $? "... and never on the host"

# ---- wildcards in COPY's sources ----
printf 'FROM base:1\nCOPY *.txt src/*.sh /w/\n' >"$TEST_TMP/glob.Dockerfile"
build -t glob:1 -f "$TEST_TMP/glob.Dockerfile" "$C"
is "$rc" 0 "COPY with wildcards builds"
is "$(launch --store "$S" --entrypoint /bin/ls glob:1 /w | tr '\n' ' ')" "app.sh hello.txt " \
        "... copying what they match in the context"
printf 'FROM base:1\nCOPY *.key /k/\n' >"$TEST_TMP/glob.Dockerfile"
build -t glob:1 -f "$TEST_TMP/glob.Dockerfile" "$C"
like "$rc $err" "^3 .*line 2: COPY \*\.key: no file in the build context matches" \
        "... and what .dockerignore leaves out they do not match"

# ---- FROM scratch ----
mkdir -p "$TEST_TMP/scratch"
cp /bin/busybox "$TEST_TMP/scratch/busybox"
printf 'FROM scratch\nCOPY busybox /bin/busybox\nENTRYPOINT ["/bin/busybox"]\nCMD ["echo", "from scratch"]\n' \
        >"$TEST_TMP/scratch/Dockerfile"
build -t scratchy:1 "$TEST_TMP/scratch"
is "$rc" 0 "FROM scratch builds"
is "$(roost --store "$S" inspect scratchy:1 | jq '.[0].Layers | length')" 1 "... one layer, the COPY's"
run_cmd launch --store "$S" scratchy:1
is "$out" "from scratch" "... and launches"

# ---- --network ----
printf 'FROM base:1\nRUN grep -c : /proc/net/dev >/n\n' >"$TEST_TMP/bad/Dockerfile"
build -t net:1 --network none "$TEST_TMP/bad"
is "$(launch --store "$S" net:1 cat /n)" 1 "--network none: RUN sees loopback alone"
build -t net:1 --no-cache "$TEST_TMP/bad"
is "$(launch --store "$S" net:1 cat /n)" "$(grep -c : /proc/net/dev)" "the default: the host's network, as docker build"

# ---- export, read by skopeo ----
if command -v skopeo >/dev/null; then
        build -q -t app:1 --build-arg WHO=roost "$C"
        run_cmd roost --store "$S" export app:1 "$TEST_TMP/app.tar"
        is "$rc" 0 "the built image exports as an OCI archive"
        run_cmd skopeo inspect "oci-archive:$TEST_TMP/app.tar"
        is "$(jq -r '.Digest, (.Layers | length), .Labels.team' <<<"$out" | tr '\n' ' ')" "$(image_id app:1) 6 ci " \
                "skopeo reads it: roost's image id, six layers, the labels"
else
        skip "skopeo reads the export" "skopeo is not installed"
fi
# The README's CI recipe: export, import into another store, launch offline.
roost --store "$S" export app:1 "$TEST_TMP/app2.tar"
run_cmd roost --store "$TEST_TMP/other" import "$TEST_TMP/app2.tar" ci-app:1
is "$rc" 0 "the export imports into another store"
run_cmd launch --store "$TEST_TMP/other" --offline ci-app:1
is "$rc:$out" "0:app says one two" "... and launches there offline, as built"

# ---- gc and the cache ----
records=$(ls "$S/cache" | wc -l)
run_cmd roost --store "$S" gc
like "$out" "[0-9]+ build cache records" "gc reports the cache records it removed"
roost --store "$S" rm app:1 hostile:1 net:1 scratchy:1 glob:1 >/dev/null
run_cmd roost --store "$S" gc
like "$out" "removed [1-9][0-9]* blobs, .* [1-9][0-9]* build cache records" "once no image uses their layers, gc removes cache records"
[ "$(ls "$S/cache" | wc -l)" -lt "$records" ]
ok $? "... fewer remain"
build -t app:1 --build-arg WHO=roost "$C"
like "$out" "STEP 8/15: RUN echo" "... and the next build runs its RUN again"

# ---- FROM an image not stored: pulled on first use ----
if have_alpine_mirror; then
        mkdir -p "$TEST_TMP/alp"
        printf 'FROM alpine:3.20\nRUN cat /etc/alpine-release >/release\n' >"$TEST_TMP/alp/Dockerfile"
        ROOST_MIRROR="file://$ALPINE_MIRROR_DIR/alpine" run_cmd roost --store "$TEST_TMP/astore" build -t alp:1 "$TEST_TMP/alp"
        is "$rc" 0 "FROM alpine:3.20 not stored: pulled (from the local mirror) and built on"
        is "$(launch --store "$TEST_TMP/astore" alp:1 cat /release)" 3.20.3 "... RUN ran in Alpine 3.20.3"
else
        skip "FROM an image pulled on first use" "no Alpine mirror at $ALPINE_MIRROR_DIR"
fi

tap_done
