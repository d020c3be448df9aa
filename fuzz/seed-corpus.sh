#!/bin/bash
# Write the seeds the corpus in fuzz/corpus/ was made from, then merge them
# into it (libFuzzer's -merge=1 keeps only inputs that add coverage). Run
# from a built tree after `make fuzz-build`, as root (the tools write a
# store). Seeds: tests/unpack-hostile.py's and tests/unpack-layers.py's
# archives, the Alpine mirror's release indexes and checksum files beside
# the source tree (../shared/alpine-mirror) when it is there, a small image
# that roost imports and exports (its reference, index, manifest and
# config; OCI archive, docker-archive, earlier export), and registry
# headers, references, manifests and auth.json files as registries and
# podman or docker write them. Dockerfiles and .dockerignore files as
# projects write them; Alpine's /etc/passwd and /etc/group, with long lines
# and NUL bytes; --env-files.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-fuzz/build}
seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
for t in alpine-index sumfile registry-ref registry-challenge registry-manifest registry-auth store-docs import unpack \
        dockerfile user-db env-file; do
        mkdir -p "$seeds/$t" "fuzz/corpus/$t"
done

# ---- unpack: the hostile battery, aimed at the target's sibling canary/
# (fuzz/unpack.c); trailing zero blocks cut, the setuid binary cut short.
python3 tests/unpack-hostile.py "$seeds/h" /dev/shm/canary >/dev/null 2>&1 || { mkdir -p "$seeds/h" && python3 tests/unpack-hostile.py "$seeds/h" /dev/shm/canary; }
python3 tests/unpack-layers.py "$seeds/l" /dev/shm/canary >/dev/null 2>&1 || { mkdir -p "$seeds/l" && python3 tests/unpack-layers.py "$seeds/l" /dev/shm/canary; }
python3 - "$seeds/unpack" "$seeds"/h/*.tar "$seeds"/l/*.tar <<'PY'
import io, os, sys, tarfile
dest = sys.argv[1]
for path in sys.argv[2:]:
    data = open(path, "rb").read()
    if len(data) > 16384:  # the privileged-files case carries id(1)
        src = tarfile.open(path)
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
            for m in src.getmembers():
                f = src.extractfile(m) if m.isfile() else None
                body = f.read(64) if f else None
                if f:
                    m.size = len(body)
                t.addfile(m, io.BytesIO(body) if f else None)
        data = buf.getvalue()
    # Keep two zero blocks of the end-of-archive marker, no more.
    end = len(data)
    while end >= 512 and data[end - 512:end] == bytes(512):
        end -= 512
    data = data[:end] + bytes(1024)
    name = os.path.basename(os.path.dirname(path)) + "-" + os.path.basename(path)
    open(os.path.join(dest, name), "wb").write(data)
PY

# ---- Alpine's release indexes and checksum files.
mirror=../shared/alpine-mirror
if [ -d "$mirror" ]; then
        for f in "$mirror"/alpine/*/releases/*/latest-releases.yaml; do
                cp "$f" "$seeds/alpine-index/$(echo "$f" | cut -d/ -f5,7 | tr / -).yaml"
        done
        for f in "$mirror"/alpine/*/releases/*/*.sha256 "$mirror"/alpine/*/releases/*/*.sha512; do
                cp "$f" "$seeds/sumfile/"
        done
fi
printf '%s  alpine-minirootfs-3.20.3-x86_64.tar.gz\n%s *other.tar.gz\n' "$(printf 'ab%.0s' {1..32})" \
        "$(printf 'cd%.0s' {1..32})" >"$seeds/sumfile/two-lines"

# ---- registry text
i=0
for ref in alpine alpine:3.20.3 docker.io/library/alpine:3.22 index.docker.io/team/app:1 \
        127.0.0.1:5000/team/app localhost/app:v2 ghcr.io/o/r:t@sha256:$(printf '0%.0s' {1..64}) \
        registry.example.com:443/a/b/c_d__e-f.g:tag-1.2_3; do
        printf '%s' "$ref" >"$seeds/registry-ref/$((i++))"
done
printf '%s' 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"' \
        >"$seeds/registry-challenge/bearer"
printf '%s' 'basic realm="a \"quoted\" realm", charset=UTF-8' >"$seeds/registry-challenge/basic"
printf '%s' 'Negotiate' >"$seeds/registry-challenge/negotiate"
d=sha256:$(printf 'e%.0s' {1..64})
cat >"$seeds/registry-manifest/docker-list" <<EOF
{"manifests":[{"digest":"$d","mediaType":"application/vnd.docker.distribution.manifest.v2+json","platform":{"architecture":"amd64","os":"linux"},"size":528},{"digest":"$d","mediaType":"application/vnd.docker.distribution.manifest.v2+json","platform":{"architecture":"arm","os":"linux","variant":"v7"},"size":528},{"digest":"$d","mediaType":"application/vnd.docker.distribution.manifest.v2+json","platform":{"architecture":"arm64","os":"linux","variant":"v8"},"size":528}],"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","schemaVersion":2}
EOF
cat >"$seeds/registry-manifest/docker-manifest" <<EOF
{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1471,"digest":"$d"},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":3623807,"digest":"$d"}]}
EOF
cat >"$seeds/registry-auth/podman" <<'EOF'
{"auths":{"127.0.0.1:5000":{"auth":"Y2k6czNjcjpldA=="},"ghcr.io":{"auth":"bWU6dG9r"}}}
EOF
cat >"$seeds/registry-auth/docker" <<'EOF'
{"auths":{"https://index.docker.io/v1/":{"auth":"dTpw"},"bad":{"auth":"!!!!"}},"credsStore":"desktop"}
EOF

# ---- a small image, as roost stores and exports it
work=$seeds/work
mkdir -p "$work/rootfs/bin" "$work/rootfs/etc"
echo 'hello' >"$work/rootfs/etc/motd"
ln -s ../etc/motd "$work/rootfs/bin/motd"
tar -C "$work/rootfs" -cf "$work/rootfs.tar" .
store=$work/store
front/roost --store "$store" -q import "$work/rootfs.tar" fuzz:1 >/dev/null
front/roost --store "$store" -q export fuzz:1 "$work/oci.tar" >/dev/null
cp "$work/rootfs.tar" "$seeds/import/rootfs.tar"
cp "$work/oci.tar" "$seeds/import/oci.tar"
gzip -9n <"$work/oci.tar" >"$seeds/import/oci.tar.gz"
if command -v skopeo >/dev/null; then
        skopeo copy -q "oci-archive:$work/oci.tar" "docker-archive:$seeds/import/docker.tar:fuzz:1" >/dev/null
fi
# The store's documents, their digests written as store-docs.c's
# placeholders, NUL between them.
python3 - "$store" "$seeds/store-docs/roost" "$seeds/import/roost-v1.tar" <<'PY'
import glob, hashlib, io, json, os, re, sys, tarfile
store, dest, v1 = sys.argv[1:]
def blob(d): return open(os.path.join(store, "blobs/sha256", d.split(":")[1]), "rb").read().decode()
ref = open(glob.glob(os.path.join(store, "tags/*/*"))[0]).read()
index_d = json.loads(ref)["index"]
index = blob(index_d)
man_d = json.loads(index)["manifests"][0]["digest"]
man = blob(man_d)
m = json.loads(man)
cfg_d, layer_d = m["config"]["digest"], m["layers"][0]["digest"]
cfg = blob(cfg_d)
diff_d = json.loads(cfg)["rootfs"]["diff_ids"][0]
def sub(s): return (s.replace(index_d, "@I").replace(man_d, "@M").replace(cfg_d, "@C")
                    .replace(layer_d, "@L").replace(diff_d, "@D"))
# Where the seed was made is nobody's business: a path of a USB stick instead.
index = re.sub(r'"file://[^"]*"', '"file:///media/usb/rootfs.tar"', index)
open(dest, "wb").write("\0".join(sub(x) for x in (ref, index, man, cfg)).encode())
# roost's earlier export: roost-image.json, then sha256/<hex>.
layer = open(os.path.join(store, "blobs/sha256", layer_d.split(":")[1]), "rb").read()
doc = json.dumps({"schema": 1, "name": "fuzz", "tag": "1", "arch": "x86_64", "version": "1",
                  "source": "file:///x", "sha256": layer_d.split(":")[1],
                  "sha512": hashlib.sha512(layer).hexdigest(), "size": len(layer),
                  "created": "2024-01-01T00:00:00Z"}).encode()
with tarfile.open(v1, "w", format=tarfile.PAX_FORMAT) as t:
    for name, data in (("roost-image.json", doc), ("sha256/" + layer_d.split(":")[1], layer)):
        ti = tarfile.TarInfo(name); ti.size = len(data); ti.mtime = 1700000000
        t.addfile(ti, io.BytesIO(data))
PY
# The manifest and index as the registry readers see them, too.
tr '\0' '\n' <"$seeds/store-docs/roost" | sed -n 2p >"$seeds/registry-manifest/oci-index"
tr '\0' '\n' <"$seeds/store-docs/roost" | sed -n 3p >"$seeds/registry-manifest/oci-manifest"

# ---- roost build's Dockerfiles (and .dockerignore files, read by the same
# target): tests/build.sh's, continuation lines, a heredoc (which the subset
# refuses, as a line of its own), exec forms, ARG and ENV substitution.
cat >"$seeds/dockerfile/every-instruction" <<'EOF'
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
printf '# syntax=docker/dockerfile:1\r\nfrom alpine:3.20\r\nrun apk add --no-cache \\\r\n  # a comment amid\r\n  curl \\\r\n\r\n  jq\r\ncmd sh -c '"'"'echo ${HOME:+$HOME} \\$PATH'"'"'\r\n' \
        >"$seeds/dockerfile/crlf-continuations"
cat >"$seeds/dockerfile/heredoc" <<'EOF'
FROM scratch
COPY ["a b", "c", "/d/"]
RUN <<EOT
echo ${A:-${B:+x}} '$C' \$D $
EOT
ENTRYPOINT []
EOF
cat >"$seeds/dockerfile/refused" <<'EOF'
ARG V=3.20
FROM alpine:${V} AS build
ADD http://example.com/x /x
HEALTHCHECK CMD true
RUN --mount=type=cache,target=/root true
EOF
printf '# comments and patterns\nlogs\n*.key\n!logs/keep.log\n/./a/**/b/\n**\n.git\n' >"$seeds/dockerfile/dockerignore"

# ---- an image's /etc/passwd and /etc/group (launch -u), as Alpine's, then
# hostile: overlong lines, NUL bytes, ids at and past 2^32 - 1.
alpine=$(ls "$mirror"/alpine/v3.20/releases/x86_64/alpine-minirootfs-*.tar.gz 2>/dev/null | head -1)
if [ -n "$alpine" ]; then
        tar -xzOf "$alpine" ./etc/passwd >"$seeds/user-db/alpine-passwd"
        tar -xzOf "$alpine" ./etc/group >"$seeds/user-db/alpine-group"
fi
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\nwheel:x:10:root,app\nnogroup:x:65533:\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n' \
        >"$seeds/user-db/mixed"
{
        printf 'app:x:%s:1\n' "$(printf '1%.0s' {1..5000})"
        printf 'app:x:4294967295:4294967295::/:\n'
        printf 'app\0:x:1:1::/nul:\napp:x:1000:1000::/home/app:/bin/sh'
} >"$seeds/user-db/hostile"

# ---- --env-file
printf '# a comment\nA=1\n  B=two words  \r\nFUZZ_SET\nUNSET_HERE\nC==x=\n\nD=\0cut\n' >"$seeds/env-file/docker"
{
        printf 'LONG='
        head -c 140000 /dev/zero | tr '\0' x
        echo
} >"$seeds/env-file/long-line"

for t in "$seeds"/*/; do
        t=$(basename "$t")
        [ -x "$out/fuzz-$t" ] || continue
        "$out/fuzz-$t" -merge=1 "fuzz/corpus/$t" "$seeds/$t" >"$seeds/merge-$t.log" 2>&1 ||
                { echo "seed-corpus: merging $t failed:"; tail -20 "$seeds/merge-$t.log"; exit 1; }
        echo "$t: $(ls "fuzz/corpus/$t" | wc -l) inputs, $(du -sk "fuzz/corpus/$t" | cut -f1) KB"
done
