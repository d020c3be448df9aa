# Fixtures the tests build for themselves: a tiny root filesystem from
# Debian's busybox-static laid out like Alpine's minirootfs, its tarball, and
# a mirror tree in Alpine's layout. Source after tap.sh.

BUSYBOX=${BUSYBOX:-/bin/busybox}

# The mirrors make_mirror lays out carry no signatures (Alpine's own key
# cannot sign here, and a throwaway key per test would cost every test a
# gpg run): pull lets them in, marked unsigned. tests/pull-signature.sh,
# which is about signatures, unsets this and signs its mirror.
export ROOST_ALLOW_UNSIGNED=1

# make_rootfs DIR VERSION: busybox, its applet links, /etc like Alpine's, and
# the awkward cases a faithful unpack must keep (setuid, hardlink, symlinks,
# an empty directory, a sticky /tmp).
make_rootfs() {
        local d=$1 version=${2:-3.99.0}
        [ -x "$BUSYBOX" ] || { echo "make_rootfs: $BUSYBOX missing (apt-get install busybox-static)" >&2; return 1; }
        mkdir -p "$d"/{bin,sbin,etc,dev,proc,sys,tmp,root,home,mnt,run,var/empty,usr/bin,usr/sbin,lib}
        cp "$BUSYBOX" "$d/bin/busybox"
        local a
        for a in sh ash ls cat echo ps hostname id mount umount sleep true false env pwd \
                 touch mkdir rm ln cp mv stat readlink grep sed wc head tail printf kill \
                 test chmod chown uname date dd sync; do
                ln -s busybox "$d/bin/$a"
        done
        ln -s ../bin/busybox "$d/usr/bin/whoami"
        ln -s ../../bin/busybox "$d/usr/bin/nproc"
        echo "$version" >"$d/etc/alpine-release"
        printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n' >"$d/etc/passwd"
        printf 'root:x:0:root\nnobody:x:65534:\n' >"$d/etc/group"
        printf 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=%s\n' "$version" >"$d/etc/os-release"
        printf '127.0.0.1\tlocalhost\n' >"$d/etc/hosts"
        echo localhost >"$d/etc/hostname"
        : >"$d/etc/resolv.conf"
        printf '#!/bin/sh\necho suid\n' >"$d/usr/bin/suid-probe"
        chmod 4755 "$d/usr/bin/suid-probe"
        ln "$d/etc/os-release" "$d/etc/os-release.hardlink"
        chmod 1777 "$d/tmp"
        chmod 700 "$d/root"
        touch -d '2024-01-02 03:04:05' "$d/etc/alpine-release"
}

# make_tarball DIR OUT [gz|xz|zst|bz2|none]: root-owned, numeric, like
# Alpine's own tarballs.
make_tarball() {
        local dir=$1 out=$2 comp=${3:-gz} flag
        case $comp in
                gz) flag=-z ;; xz) flag=-J ;; zst) flag=--zstd ;; bz2) flag=-j ;; none) flag= ;;
                *) echo "make_tarball: unknown compression $comp" >&2; return 1 ;;
        esac
        tar -C "$dir" --owner=0 --group=0 --numeric-owner $flag -cf "$out" .
}

# make_mirror DOCROOT VERSION TARBALL [ARCH] [EXTRA_VERSIONS...]
# Lays TARBALL out as Alpine's minirootfs VERSION under DOCROOT/alpine, with
# .sha256, .sha512 and a latest-releases.yaml that lists other flavors
# first, so that a parser must pick the right entry.
make_mirror() {
        local root=$1 version=$2 tarball=$3 arch=${4:-x86_64}
        local branch=v${version%.*}
        [ "$version" = edge ] && branch=edge
        local dir=$root/alpine/$branch/releases/$arch
        local file=alpine-minirootfs-$version-$arch.tar.gz
        mkdir -p "$dir"
        cp "$tarball" "$dir/$file"
        (cd "$dir" && sha256sum "$file" >"$file.sha256" && sha512sum "$file" >"$file.sha512")
        local sha256 sha512 size
        sha256=$(cut -d' ' -f1 "$dir/$file.sha256")
        sha512=$(cut -d' ' -f1 "$dir/$file.sha512")
        size=$(stat -c %s "$dir/$file")
        local yaml=$dir/latest-releases.yaml
        [ -f "$yaml" ] || printf -- '---\n' >"$yaml"
        cat >>"$yaml" <<YAML
-
  title: "Standard"
  branch: $branch
  arch: $arch
  version: $version
  flavor: alpine-standard
  file: alpine-standard-$version-$arch.iso
  iso: alpine-standard-$version-$arch.iso
  date: 2024-09-06
  time: 11:31:01
  size: 200001000
  sha256: de36166a7549e715efced4602df253a5a2563887243dc26643eb57b8b3432841
-
  title: "Mini root filesystem"
  branch: $branch
  arch: $arch
  version: $version
  flavor: alpine-minirootfs
  file: $file
  iso: $file
  date: 2024-09-06
  time: 11:30:00
  size: $size
  sha256: $sha256
  sha512: $sha512
YAML
}

# fixture_signing_key: a throwaway OpenPGP key in a gpg home of its own
# under $TEST_TMP (its agent killed at exit); its public half in
# $FIXTURE_KEY, for pull --trust. fixture_sign FILE writes FILE.asc,
# armored, as Alpine signs (gpg's default hash for RSA: SHA-512).
# test_gpg_keys: a GnuPG home in $TEST_TMP with three throwaway signing
# keys, mirror@, other@ and late@example.org (the last made as of 2021),
# and G, gpg asking nothing; the test is skipped when gpg cannot make them.
test_gpg_keys() {
        export GNUPGHOME=$TEST_TMP/gnupg
        mkdir -m 700 "$GNUPGHOME"
        tap_at_exit 'gpgconf --kill gpg-agent 2>/dev/null'
        G() { gpg -q --batch --no-tty --passphrase '' --pinentry-mode loopback "$@" 2>/dev/null; }
        G --quick-gen-key 'Mirror <mirror@example.org>' rsa2048 sign never &&
                G --quick-gen-key 'Other <other@example.org>' rsa2048 sign never &&
                G --faked-system-time 20210101T000000 --quick-gen-key 'Late <late@example.org>' rsa2048 sign never ||
                skip_all "gpg cannot make keys here"
}
fixture_signing_key() {
        export GNUPGHOME=$TEST_TMP/gnupg
        mkdir -p -m 700 "$GNUPGHOME"
        tap_at_exit 'gpgconf --kill gpg-agent 2>/dev/null'
        FIXTURE_KEY=$TEST_TMP/fixture-key.asc
        gpg -q --batch --no-tty --passphrase '' --pinentry-mode loopback \
                --quick-gen-key 'Fixture <fixture@example.org>' rsa2048 sign never 2>/dev/null &&
                gpg -q --batch -a --export fixture@example.org >"$FIXTURE_KEY" 2>/dev/null
}
fixture_sign() {
        gpg -q --batch --no-tty --yes -u fixture@example.org -a --detach-sign -o "$1.asc" "$1" 2>/dev/null
}

# fixture_tarball OUT [COMPRESSION] [VERSION]: build the fixture rootfs and
# pack it; cached per test run in $TEST_TMP.
fixture_tarball() {
        local out=$1 comp=${2:-gz} version=${3:-3.99.0}
        local tree=$TEST_TMP/fixture-rootfs-$version
        [ -d "$tree" ] || make_rootfs "$tree" "$version" || return 1
        make_tarball "$tree" "$out" "$comp"
}

# launch_fixture: the busybox tree in $ROOTFS and an empty store in $STORE
# for launch tests, and L as `launch` on them; skips the script when the
# tree cannot be built.
launch_fixture() {
        ROOTFS=$TEST_TMP/rootfs
        STORE=$TEST_TMP/store
        # Made here, so that it is there between launches: a store that a
        # command made and left holding nothing is removed when it ends.
        mkdir -p "$STORE"
        make_rootfs "$ROOTFS" 3.99.0 || skip_all "cannot build the fixture rootfs"
}
L() { launch --store "$STORE" --rootfs "$ROOTFS" "$@"; }

# caller_cgroup_dir [CONTROLLER]: this shell's cgroup directory in the v1
# hierarchy of CONTROLLER, or (none) in the unified one; empty when that
# hierarchy is not mounted. Where launch puts its roost/ cgroups.
caller_cgroup_dir() {
        local mnt own
        if [ -n "${1:-}" ]; then
                mnt=$(awk -v c="$1" '{ for (i = 7; $i != "-"; i++); if ($(i + 1) == "cgroup" && $(i + 3) ~ "(^|,)" c "(,|$)") print $5 }' /proc/self/mountinfo | head -1)
                own=$(awk -F: -v c="$1" '$2 ~ "(^|,)" c "(,|$)" { print $3 }' /proc/self/cgroup)
        else
                mnt=$(awk '{ for (i = 7; $i != "-"; i++); if ($(i + 1) == "cgroup2") print $5 }' /proc/self/mountinfo | head -1)
                own=$(awk -F: '$1 == 0 { print $3 }' /proc/self/cgroup)
        fi
        [ -n "$mnt" ] && echo "$mnt${own%/}"
}

# A root launch keeps the device cgroup containers share (roost/dev/shared):
# a test that makes it removes it at the end, by its path (rmdir leaves it
# to a launch still in it).
if [ "$(id -u)" -eq 0 ]; then
        for _cg in "$(caller_cgroup_dir)" "$(caller_cgroup_dir devices)"; do
                [ -n "$_cg" ] && [ ! -d "$_cg/roost/dev" ] &&
                        tap_at_exit "rmdir '$_cg/roost/dev/shared' '$_cg/roost/dev' 2>/dev/null"
        done
        unset _cg
fi

# v1_export STORE NAME TAG OUT: NAME:TAG of STORE (for $ARCH) as roost's
# earlier export wrote it, roost-image.json then sha256/<hex>, with
# tests/store-put's help.
v1_export() {
        local d=$TEST_TMP/v1.$$ hex
        rm -rf "$d" && mkdir -p "$d/sha256" && store-put v1 "$1" "$2" "$3" "$ARCH" >"$d/roost-image.json" &&
                hex=$(jq -r .sha256 "$d/roost-image.json") && cp "$1/blobs/sha256/$hex" "$d/sha256/$hex" &&
                tar -C "$d" --owner=0 --group=0 --numeric-owner -cf "$4" roost-image.json "sha256/$hex" &&
                rm -rf "$d"
}
