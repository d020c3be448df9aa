#!/bin/bash
# launch IMAGE end to end: the first launch pulls (from nginx over HTTPS)
# and unpacks, later ones download nothing; pull's output stays off the
# command's stdout; unknown images and offline misses fail with launch's
# line and one that says what to do.
# Then Alpine's real 3.20.3 minirootfs, when its mirror copy is present.
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
. "$ROOST_SRCDIR/tests/lib/nginx.sh"
require_root
pull --help 2>/dev/null | grep -q "not implemented" && skip_all "pull is not built in this tree yet"

www=$TEST_TMP/www
STORE=$TEST_TMP/store
fixture_tarball "$TEST_TMP/fixture.tar.gz" gz 3.99.2 || skip_all "cannot build the fixture tarball"
make_mirror "$www" 3.99.2 "$TEST_TMP/fixture.tar.gz" >/dev/null || skip_all "cannot build the fixture mirror"
nginx_start "$www" || skip_all "cannot start nginx"
M=(--mirror "$NGINX_URL/alpine" --cacert "$NGINX_CA")

run_cmd launch --store "$STORE" "${M[@]}" alpine:3.99 sh -c 'cat /etc/alpine-release; echo $$'
is "$rc" 0 "the first launch of an image pulls, unpacks and runs it"
is "$out" "$(printf '3.99.2\n2')" "the command's stdout holds only the command's output"
like "$err" "alpine-minirootfs-3.99.2" "pull's progress goes to stderr"
downloads=$(grep -c 'minirootfs-3.99.2-x86_64.tar.gz ' "$NGINX_LOG")
is "$downloads" 1 "the tarball was downloaded once"
run_cmd launch --store "$STORE" "${M[@]}" alpine:3.99 cat /etc/alpine-release
is "$rc:$out:$err" "0:3.99.2:" "the second launch runs at once, silently"
is "$(grep -c 'minirootfs-3.99.2-x86_64.tar.gz ' "$NGINX_LOG")" "$downloads" "... without downloading anything"
run_cmd launch --store "$STORE" --offline alpine:3.99 true
is "$rc" 0 "--offline runs an image that is in the store"
tree=$(ls -d "$STORE"/trees/*/rootfs | head -1)
hash_tree() { (cd "$1" && find . -printf '%p %m %U %s\n' | LC_ALL=C sort && find . -type f -exec sha256sum {} + | LC_ALL=C sort) | sha256sum; }
before=$(hash_tree "$tree")
run_cmd launch --store "$STORE" --offline alpine:3.99 sh -c 'rm -rf /bin/ls /etc; echo x >/new'
is "$(hash_tree "$tree")" "$before" "the stored tree is unchanged by what a container does"

run_cmd launch --store "$STORE" "${M[@]}" -q alpine:3.42 true
is "$rc:$(wc -l <<<"$err")" "125:2" "an unknown version (-q): 125, the reason and what to do"
like "$err" "^launch: alpine:3\\.42 not found" "... launch's, saying which"
run_cmd launch --store "$STORE" --offline alpine:3.98 true
is "$rc" 125 "an image missing offline: 125"
like "$err" "^launch: alpine:3\\.98 .*not stored" "... with launch's line"
run_cmd launch --store "$STORE" "${M[@]}" 'Not/Valid' true
is "$rc" 125 "an invalid reference: 125"
is "$(grep -c . <<<"$err")" 1 "... one line"

if have_alpine_mirror; then
        AS=$TEST_TMP/astore
        run_cmd launch --store "$AS" --mirror "file://$ALPINE_MIRROR_DIR/alpine" alpine:3.20 \
                sh -c 'cat /etc/alpine-release; ps -o pid,comm >/tmp/ps; wc -l </tmp/ps; hostname; ls /dev | wc -l'
        is "$rc" 0 "Alpine 3.20.3 pulls, unpacks and launches"
        is "$(sed -n 1p <<<"$out")" 3.20.3 "its /etc/alpine-release"
        # Not "ps | wc": ps may read /proc before sh has started wc.
        is "$(sed -n 2p <<<"$out")" 4 "its ps sees init, sh and ps only (and a header)"
        is "$(sed -n 3p <<<"$out")" roost "its own hostname"
        run_cmd launch --store "$AS" --offline --net host alpine:3.20 sh -c 'apk --version >/dev/null && echo apk-ok'
        is "$out" apk-ok "apk runs inside"
else
        skip "Alpine 3.20.3 end to end" "no Alpine mirror at $ALPINE_MIRROR_DIR"
fi
tap_done
