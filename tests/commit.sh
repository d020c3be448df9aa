#!/bin/bash
# roost commit: a named container that adds, changes and deletes files and
# makes a directory opaque becomes an image whose new layer holds exactly
# those changes (OCI whiteouts), sharing its base's layer; it launches at
# once and runs as --change says. Then containers, tag and inspect. As root
# (trusted.overlay.*), then rootless (user.overlay.*, the layer written
# from a user namespace mapped as launch's).
. "$ROOST_SRCDIR/tests/lib/tap.sh"
. "$ROOST_SRCDIR/tests/lib/fixtures.sh"
require_root
ARCH=$(uname -m)
case $ARCH in arm64) ARCH=aarch64 ;; esac

# make_base DIR: DIR/base.tar.gz, the fixture tree with a directory to make
# opaque and one to delete, and its config.
make_base() {
        local d=$1
        make_rootfs "$d/base" 3.99.0 || return 1
        mkdir -p "$d/base/srv/op" "$d/base/srv/gone"
        echo old >"$d/base/srv/op/old"
        echo old2 >"$d/base/srv/op/old2"
        echo gone >"$d/base/srv/gone/file"
        echo keep >"$d/base/srv/keep"
        make_tarball "$d/base" "$d/base.tar.gz" || return 1
        echo '{"Cmd":["/bin/sh","-c","echo base"],"Env":["PATH=/usr/bin:/bin"]}' >"$d/base.json"
}

# The container's changes: a new file, a changed one, a deleted file and
# directory, an opaque directory (removed and made again: overlayfs marks
# it so), a symlink, a hard link and a FIFO.
CHANGES='echo new >/srv/new; echo changed >>/srv/keep; rm /etc/os-release; rm -rf /srv/gone;
rm -rf /srv/op; mkdir /srv/op; echo fresh >/srv/op/fresh; ln -s /srv/new /srv/link; ln /srv/new /srv/hard;
mkfifo /srv/fifo; chmod 0604 /srv/new'

# layer_of STORE IMAGE: the path of IMAGE's top layer blob.
layer_of() {
        local d
        d=$(roost --store "$1" inspect "$2" | jq -r '.[0].Layers[-1].Digest' | cut -d: -f2)
        echo "$1/blobs/sha256/$d"
}

suite() {
        local who=$1 d=$2
        run_cmd $AS store-put image "$S" base 1 "$ARCH" "$d/base.json" "$d/base.tar.gz"
        local base=$out
        run_cmd $AS unpack --store "$S" -q base:1
        run_cmd $AS launch --store "$S" -q --name ci base:1 sh -c "$CHANGES"
        is "$rc" 0 "$who: a named container makes its changes"
        like "$(cat "$S/containers/ci/image")" "digest sha256:$base" "$who: launch --name records the image it was made from"

        run_cmd $AS roost --store "$S" commit nosuch app:1
        is "$rc" 3 "$who: an unknown container: exit 3"
        is "$(printf '%s\n' "$err" | wc -l)" 1 "$who: ... with one line"
        like "$err" "no container nosuch" "$who: ... naming it"

        # A running container: its lock is held, roost cannot pause it.
        local fifo=$d/hold
        mkfifo "$fifo"
        chmod 666 "$fifo"
        $AS launch --store "$S" -q --name ci -v "$d:/mnt" base:1 sh -c 'read x </mnt/hold' &
        local pid=$!
        for _ in $(seq 50); do
                [ "$($AS roost --store "$S" containers --json | jq -r '.[0].running')" = true ] && break
                sleep 0.1
        done
        run_cmd $AS roost --store "$S" commit ci app:1
        is "$rc:$(printf '%s\n' "$err" | wc -l)" "1:1" "$who: a running container is refused, with one line"
        like "$err" "running" "$who: ... saying it runs"
        run_cmd $AS roost --store "$S" containers
        like "$out" "^ci +base:1 +${base:0:12} +running " "$who: containers shows it running"
        echo go >"$fifo"
        wait "$pid"

        run_cmd $AS roost --store "$S" commit -m "first" --change 'CMD ["/bin/cat", "/srv/new"]' \
                --change 'ENV GREETING="hi there"' --change 'WORKDIR /srv' --change 'LABEL team=ci' \
                --change "USER $USER_CHANGE" ci app:1
        is "$rc" 0 "$who: commit"
        like "$out" "^app:1 sha256:[0-9a-f]{64} " "$who: ... prints the new image"
        local app
        app=$(cut -d' ' -f2 <<<"$out" | cut -d: -f2)

        run_cmd $AS roost --store "$S" images --json
        is "$(jq -r '.[] | select(.name == "app") | [(.layers | length), .layers[0].shared_with] | join(" ")' <<<"$out")" \
                "2 1" "$who: images shows the new image with two layers, the base's shared"
        is "$(jq -r '.[] | select(.name == "app") | .layers[0].digest' <<<"$out")" \
                "$(jq -r '.[] | select(.name == "base") | .layers[0].digest' <<<"$out")" \
                "$who: ... the very base layer, stored once"
        is "$(ls "$S/trees" | wc -l)" 2 "$who: the new layer is unpacked into a tree of its own"

        local blob listing
        blob=$(layer_of "$S" app:1)
        listing=$(tar -tzvf "$blob" --numeric-owner)
        is "$(tar -tzf "$blob" | tr '\n' ' ')" \
                "etc/ etc/.wh.os-release srv/ srv/fifo srv/.wh.gone srv/hard srv/keep srv/link srv/new srv/op/ srv/op/.wh..wh..opq srv/op/fresh " \
                "$who: the layer holds exactly the changes, sorted, with .wh. whiteouts and the opaque marker"
        like "$(grep ' srv/hard$' <<<"$listing")" "^-rw----r-- 0/0 " "$who: ... modes and the container's owners (0/0)"
        like "$(grep ' srv/new' <<<"$listing")" "^h.* srv/new link to srv/hard" "$who: ... a hard link within the layer"
        like "$(grep ' srv/link' <<<"$listing")" "^l.* -> /srv/new" "$who: ... a symlink, not followed"
        like "$(grep ' srv/fifo' <<<"$listing")" "^p" "$who: ... a FIFO"
        unlike "$(tar -tzf "$blob")" "^\./|overlay" "$who: ... no ./ prefix, no overlay bookkeeping"

        run_cmd $AS launch --store "$S" -q app:1
        is "$rc:$out" "0:new" "$who: the committed image launches at once, with its --change CMD"
        run_cmd $AS launch --store "$S" -q app:1 /bin/sh -c \
                'echo "$GREETING|$(pwd)|$(id -un)"; ls /etc/os-release 2>&1; ls /srv | tr "\n" " "; echo; ls /srv/op; cat /srv/keep'
        is "$out" "$(printf 'hi there|/srv|%s\nls: /etc/os-release: No such file or directory\nfifo hard keep link new op \nfresh\nkeep\nchanged' "$USER_NAME")" \
                "$who: ... ENV, WORKDIR and USER apply; deleted files are gone, the opaque directory holds only the new file"

        run_cmd $AS roost --store "$S" inspect app:1
        is "$rc" 0 "$who: inspect"
        is "$(jq -r '.[0] | [.Config.Cmd[1], .Config.WorkingDir, .Config.User, .Config.Labels.team,
                           (.Config.Env | join(",")), .History[-1].created_by, .History[-1].comment,
                           (.RootFS.Layers | length), (.Layers | length), .Id, .RepoTags[0]] | join(" ")' <<<"$out")" \
                "/srv/new /srv $USER_CHANGE ci PATH=/usr/bin:/bin,GREETING=hi there roost commit first 2 2 sha256:$app app:1" \
                "$who: ... shows the changes, the history entry, both layers and the id"
        is "$(jq -r '.[0].Layers[1] | [.MediaType, (.DiffID | test("^sha256:[0-9a-f]{64}$")), (.Size > 0)] | join(" ")' <<<"$out")" \
                "application/vnd.oci.image.layer.v1.tar+gzip true true" "$who: ... each layer's media type, diff_id and size"
        is "$(jq -r '.[0].Layers[1].DiffID' <<<"$out")" "sha256:$(gzip -dc "$blob" | sha256sum | cut -c1-64)" \
                "$who: ... the diff_id is the SHA-256 of the layer's tar"
        is "$(sha256sum "$blob" | cut -c1-64)" "$(basename "$blob")" "$who: ... and the blob is named by its SHA-256"
        is "$(jq -r '.[0].Provenance | has("roost.created")' <<<"$out")" true "$who: ... and the store's provenance"

        # The same container again: the same layer, bit for bit.
        run_cmd $AS roost --store "$S" commit ci app:2
        is "$(basename "$(layer_of "$S" app:2)")" "$(basename "$blob")" \
                "$who: committing the same container twice gives the same layer digest"
        is "$($AS launch --store "$S" -q app:2)" "base" \
                "$who: ... and without --change, the parent's config"

        run_cmd $AS roost --store "$S" containers --json
        is "$(jq -r '.[0] | [.name, .image, .id, .running, (.size > 0), (.last_used | test("^20"))] | join(" ")' <<<"$out")" \
                "ci base:1 sha256:$base false true true" "$who: containers --json: name, image, id, state, size, last use"
        run_cmd $AS roost --store "$S" tag app:1 team/app
        is "$rc" 0 "$who: tag"
        run_cmd $AS roost --store "$S" inspect team/app:latest
        is "$(jq -r '.[0] | [.Id, (.RepoTags | sort | join(","))] | join(" ")' <<<"$out")" \
                "sha256:$app app:1,team/app:latest" "$who: ... names the same image, which inspect lists by both names"
        run_cmd $AS roost --store "$S" inspect nosuch:1
        is "$rc" 3 "$who: inspect of an unknown image: exit 3"

        # An unchanged container commits to an empty layer, as docker's does.
        run_cmd $AS launch --store "$S" -q --name idle base:1 true
        run_cmd $AS roost --store "$S" commit idle idle:1
        is "$rc:$(tar -tzf "$(layer_of "$S" idle:1)" | wc -l)" "0:0" "$who: an unchanged container gives an empty layer"

        run_cmd $AS launch --store "$S" -q --name raw --rootfs "$d/base" true
        run_cmd $AS roost --store "$S" commit raw raw:1
        is "$rc:$(printf '%s\n' "$err" | wc -l)" "2:1" "$who: a --rootfs container is refused, with one line"
        run_cmd $AS roost --store "$S" commit --change 'RUN apk add x' ci app:3
        is "$rc" 2 "$who: an unknown --change is a usage error"
        is "$($AS roost --store "$S" images -q | grep -c app:3)" 0 "$who: ... and stores nothing"
}

R=$TEST_TMP/root
mkdir -p "$R"
make_base "$R" || skip_all "cannot build the fixture layer"
S=$R/store AS= USER_CHANGE=nobody USER_NAME=nobody
suite root "$R"

# What others read of it: roost export's OCI layout, as skopeo and umoci see it.
if command -v skopeo >/dev/null && command -v umoci >/dev/null; then
        run_cmd roost --store "$S" export app:1 "$R/app.tar"
        is "$rc" 0 "root: the committed image exports as an OCI layout"
        run_cmd skopeo inspect --raw "oci-archive:$R/app.tar"
        is "$(jq -r '[(.layers | length), .layers[1].mediaType] | join(" ")' <<<"$out")" \
                "2 application/vnd.oci.image.layer.v1.tar+gzip" "root: skopeo reads it: two layers, the new one gzip"
        mkdir "$R/layout" && tar -C "$R/layout" -xf "$R/app.tar"
        run_cmd umoci unpack --image "$R/layout:app:1" "$R/bundle"
        is "$rc" 0 "root: umoci unpacks it"
        is "$(ls "$R/bundle/rootfs/etc/os-release" 2>/dev/null | wc -l) $(ls "$R/bundle/rootfs/srv/op" | tr '\n' ' ')$(cat "$R/bundle/rootfs/srv/keep")" \
                "$(printf '0 fresh keep\nchanged')" "root: ... applying its whiteouts and opaque directory as roost does"
else
        skip "skopeo and umoci read the export" "skopeo or umoci is not installed"
fi

# xattrs of the upper travel; overlay's own do not.
run_cmd launch --store "$S" -q --name attrs base:1 sh -c 'echo x >/srv/attr; rm -rf /srv/op; mkdir /srv/op'
setfattr -n user.note -v hello "$S/containers/attrs/upper/srv/attr"
run_cmd roost --store "$S" commit attrs attrs:1
mkdir "$R/x"
tar -C "$R/x" --xattrs --xattrs-include='*' -xzf "$(layer_of "$S" attrs:1)"
is "$(getfattr --only-values -n user.note "$R/x/srv/attr" 2>/dev/null)" hello "root: the upper's xattrs are in the layer"
is "$(getfattr -d -m '' "$R/x/srv/op" 2>/dev/null | grep -c overlay)" 0 "root: ... overlay's own are not"

if ensure_test_user && as_test_user unshare --user --map-root-user true 2>/dev/null; then
        U=$TEST_TMP/user
        mkdir -p "$U"
        chmod 755 "$TEST_TMP"
        make_base "$U"
        chown -R "$TEST_USER:" "$U"
        # Without subordinate ids a rootless launch maps only root.
        S=$U/store AS=as_test_user USER_CHANGE=root USER_NAME=root
        suite rootless "$U"
else
        skip "rootless commit" "no test user, or unprivileged user namespaces are disabled"
fi

tap_done
