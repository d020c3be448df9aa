#!/bin/bash
# Images of several layers, run from the store: each layer's tree (unpacked
# once, whiteouts as overlayfs whiteouts) stacked top first, a layer whose
# root is opaque ending the stack; and the image's config (Entrypoint, Cmd,
# Env, WorkingDir, User) honoured with docker's precedence. As root
# (trusted.overlay.*), then rootless (user.overlay.*).
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
require_root
ARCH=$(uname -m)
case $ARCH in arm64) ARCH=aarch64 ;; esac

# make_image DIR: DIR/base.tar.gz (the fixture tree), DIR/app.tar (a plain
# tar: a whiteout, an opaque directory, /srv and a user), DIR/flat.tar.gz
# (an opaque root with busybox alone), and the configs.
make_image() {
        local d=$1
        make_rootfs "$d/base" 3.99.0 || return 1
        mkdir -p "$d/base/usr/share/op" "$d/base/usr/share/kept"
        echo old >"$d/base/usr/share/op/old"
        echo kept >"$d/base/usr/share/kept/file"
        make_tarball "$d/base" "$d/base.tar.gz" || return 1
        mkdir -p "$d/app/etc" "$d/app/srv" "$d/app/usr/share/op"
        echo app >"$d/app/etc/motd"
        : >"$d/app/etc/.wh.os-release"
        : >"$d/app/usr/share/op/.wh..wh..opq"
        echo new >"$d/app/usr/share/op/new"
        cp "$d/base/etc/passwd" "$d/base/etc/group" "$d/app/etc/"
        echo 'app:x:1000:1000:app:/srv:/bin/sh' >>"$d/app/etc/passwd"
        echo 'app:x:1000:' >>"$d/app/etc/group"
        chown 1000:1000 "$d/app/srv"
        tar -C "$d/app" --numeric-owner -cf "$d/app.tar" . || return 1
        mkdir -p "$d/flat/bin"
        cp "$BUSYBOX" "$d/flat/bin/busybox"
        ln -s busybox "$d/flat/bin/sh"
        ln -s busybox "$d/flat/bin/ls"
        : >"$d/flat/.wh..wh..opq"
        make_tarball "$d/flat" "$d/flat.tar.gz" || return 1
        cat >"$d/app.json" <<'JSON'
{"Entrypoint":["/bin/sh","-c"],"Cmd":["echo \"$GREETING from $(pwd) as $(id -u):$(id -g) home $HOME\""],
 "Env":["PATH=/usr/bin:/bin","GREETING=hello"],"WorkingDir":"/srv","User":"app"}
JSON
        # Without subordinate ids a rootless launch maps only root: its
        # image runs as root.
        sed 's/"User":"app"/"User":"root"/' "$d/app.json" >"$d/app-root.json"
        echo '{"Env":["PATH=/bin"]}' >"$d/none.json"
        echo '{"Cmd":["/bin/sh","-c","ls / | tr \"\\n\" \" \""]}' >"$d/flat.json"
}

# suite WHO DIR CONFIG IDS HOME: the checks; AS runs a command as WHO, S
# is WHO's store; the image's User has IDS (uid:gid) and HOME.
suite() {
        local who=$1 d=$2 config=$3 ids=$4 home=$5
        run_cmd $AS store-put image "$S" app 1 "$ARCH" "$d/$config" "$d/base.tar.gz" "$d/app.tar"
        is "$rc" 0 "$who: a two-layer image is stored (gzip base, plain tar on top)"
        local id=$out
        run_cmd $AS roost --store "$S" images --json
        is "$(printf '%s' "$out" | jq -r '.[] | select(.name == "app") | "\(.digest) \(.layers | length)"')" \
                "sha256:$id 2" "$who: images shows it with its two layers"
        run_cmd $AS unpack --store "$S" -q app:1
        is "$rc" 0 "$who: unpack extracts each layer once"
        is "$(ls "$S/trees" | wc -l)" 2 "$who: ... into a tree per layer"

        run_cmd $AS unpack --store "$S" -q --to "$d/flat-app" app:1
        is "$rc" 0 "$who: unpack --to flattens a two-layer image"
        is "$(cat "$d/flat-app/etc/motd"; ls "$d/flat-app/usr/share/op"; find "$d/flat-app" -name '.wh.*' | wc -l;
              ls "$d/flat-app/etc/os-release" 2>/dev/null | wc -l)" "$(printf 'app\nnew\n0\n0')" \
                "$who: ... with the whiteouts applied, none left as files"

        run_cmd $AS launch --store "$S" -q app:1
        is "$rc:$out" "0:hello from /srv as $ids home $home" \
                "$who: Entrypoint, Cmd, Env, WorkingDir and User come from the image's config"
        run_cmd $AS launch --store "$S" -q app:1 'echo $PATH; cat /etc/motd'
        is "$out" "$(printf '/usr/bin:/bin\napp')" "$who: arguments replace Cmd and follow the Entrypoint"
        run_cmd $AS launch --store "$S" -q -e GREETING=hi -w / -u 0 app:1
        is "$out" "hi from / as 0:0 home /root" "$who: -e, -w and -u override the config"
        run_cmd $AS launch --store "$S" -q --entrypoint /bin/cat app:1 /etc/motd
        is "$out" app "$who: --entrypoint replaces the Entrypoint and drops Cmd"
        run_cmd $AS launch --store "$S" -q --entrypoint /bin/sh app:1 -c \
                'ls /etc/os-release 2>&1; ls /usr/share/op | tr "\n" " "; cat /usr/share/kept/file'
        is "$out" "$(printf 'ls: /etc/os-release: No such file or directory\nnew kept')" \
                "$who: the upper layer's whiteout and opaque directory hide the base's files"
        run_cmd $AS launch --store "$S" -q --explain app:1 true
        like "$err" "lowerdir=[^,]*/trees/[0-9a-f]{64}/rootfs:[^,]*/trees/[0-9a-f]{64}/rootfs,upperdir=" \
                "$who: the layers are stacked as two lower directories"
        like "$err" "lower 1 of 2 \(top\): .*/trees/$(sha256sum "$d/app.tar" | cut -c1-64)/rootfs" \
                "$who: ... the last layer on top"

        run_cmd $AS store-put image "$S" flat 1 "$ARCH" "$d/flat.json" "$d/base.tar.gz" "$d/app.tar" "$d/flat.tar.gz"
        run_cmd $AS unpack --store "$S" -q flat:1
        run_cmd $AS launch --store "$S" -q --explain flat:1
        like "$rc:$out" "^0:bin " "$who: a layer whose root is opaque runs"
        unlike "$out" "home|root|tmp|usr" "$who: ... and hides every layer below it"
        like "$err" "lower 1 of 1 \(top\)" "$who: ... and ends the stack"

        run_cmd $AS store-put image "$S" nocmd 1 "$ARCH" "$d/none.json" "$d/base.tar.gz"
        run_cmd $AS unpack --store "$S" -q nocmd:1
        run_cmd $AS launch --store "$S" -q nocmd:1
        is "$rc" 125 "$who: an image with neither Entrypoint nor Cmd, given no command: 125"
        is "$(printf '%s\n' "$err" | wc -l)" 1 "$who: ... with one line"
        run_cmd $AS launch --store "$S" -q nocmd:1 /bin/echo ran
        is "$rc:$out" "0:ran" "$who: ... and runs the command it is given"
}

R=$TEST_TMP/root
mkdir -p "$R"
make_image "$R" || skip_all "cannot build the fixture layers"
S=$R/store AS=
suite root "$R" app.json 1000:1000 /srv

# Layers shared between images: stored and unpacked once, counted as shared,
# kept by rm and gc while an image has them.
run_cmd roost --store "$S" images
like "$(grep '^app:1 ' <<<"$out")" "^app:1 +- +$ARCH +[0-9.]+ KiB +[0-9.]+ KiB " "images shows the bytes an image shares"
run_cmd roost --store "$S" images --json
is "$(jq -r '.[] | select(.name == "flat") | [.layers[].shared_with] | join(",")' <<<"$out")" "2,1,0" \
        "--json: each layer says how many other images have it"
is "$(jq -r '.[] | select(.name == "app") | .shared_size == .size' <<<"$out")" true \
        "--json: all of app's bytes are shared"
trees_before=$(ls "$S/trees" | wc -l)
run_cmd roost --store "$S" rm app:1
is "$out" "removed app:1 ($ARCH); 2 of its 2 layers stay, other images have them" "rm says which layers stay"
run_cmd roost --store "$S" gc
is "$(ls "$S/trees" | wc -l)" "$trees_before" "gc keeps the trees another image has"
run_cmd launch --store "$S" -q flat:1
is "$rc" 0 "... and that image still runs"
run_cmd roost --store "$S" rm flat:1 nocmd:1
run_cmd roost --store "$S" gc
is "$(ls "$S/trees" | wc -l):$(ls "$S/blobs/sha256" | wc -l)" "0:0" "gc removes the layers once no image has them"

if ensure_test_user && as_test_user unshare --user --map-root-user true 2>/dev/null; then
        U=$TEST_TMP/user
        mkdir -p "$U"
        chmod 755 "$TEST_TMP"
        cp "$R"/*.tar* "$R"/*.json "$U/"
        chown -R "$TEST_USER:" "$U"
        S=$U/store AS=as_test_user
        suite rootless "$U" app-root.json 0:0 /root
else
        skip "rootless image layers" "no test user, or unprivileged user namespaces are disabled"
fi

tap_done
