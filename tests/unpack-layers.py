#!/usr/bin/env python3
"""Write OCI layer tarballs for tests/unpack-layers.sh.

    unpack-layers.py OUTDIR CANARY

Each stack becomes OUTDIR/<stack>.<n>.tar (bottom first), and OUTDIR/stacks
lists "<stack> <layers> <expect> <overlay>": whether flattening the stack is
"ok" or refused, and the same for its top layer alone as an overlay tree. CANARY is
the absolute path of a directory beside the target that no layer may change."""
import io
import os
import sys
import tarfile

out, canary = sys.argv[1], sys.argv[2]
stacks = []
D, F, L, H, C = tarfile.DIRTYPE, tarfile.REGTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE


def entry(name, kind=F, data=b"", link="", xattrs=None):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mode = 0o755 if kind == D else 0o644
    ti.mtime = 1700000000
    ti.linkname = link
    ti.size = len(data) if kind == F else 0
    ti.pax_headers = {"SCHILY.xattr." + k: v for k, v in (xattrs or {}).items()}
    return ti, (data if kind == F else None)


def stack(name, expect, *layers, overlay=None):
    for i, entries in enumerate(layers):
        with tarfile.open(os.path.join(out, "%s.%d.tar" % (name, i)), "w", format=tarfile.PAX_FORMAT) as t:
            for ti, data in entries:
                t.addfile(ti, None if data is None else io.BytesIO(data))
    stacks.append((name, len(layers), expect, overlay or expect))


base = [entry("etc/", D), entry("etc/keep", data=b"k"), entry("etc/gone", data=b"g"), entry("etc/byc", data=b"c"),
        entry("etc/sub/", D), entry("etc/sub/deep", data=b"d"),
        entry("opq/", D), entry("opq/old", data=b"o"), entry("opq/olddir/", D), entry("opq/olddir/x", data=b"x"),
        entry("mixed/", D), entry("mixed/lower", data=b"l"),
        entry("tofile/", D), entry("tofile/child", data=b"c"), entry("todir", data=b"t"),
        entry("rootgone", data=b"r"), entry("rootdir/", D), entry("rootdir/y", data=b"y")]

# The spec's order (whiteouts before their siblings) and the others: a
# layer's own entries before its markers stay; a whiteout before a
# directory of the same name makes that directory replace the one below.
stack("image", "ok", base,
      [entry("etc/.wh.gone"), entry("etc/.wh.sub"), entry("etc/byc", C),
       entry("opq/.wh..wh..opq", data=b"a marker's content is dropped"), entry("opq/new", data=b"n"),
       entry(".wh.rootgone"), entry(".wh.rootdir"), entry(".wh.nothere"),
       entry("tofile", data=b"now a file"), entry("todir/", D), entry("todir/in", data=b"i"),
       entry("mixed/upper", data=b"u"),
       entry("own/", D), entry("own/x", data=b"x"), entry("own/.wh.x"), entry("own/.wh..wh..opq"),
       entry(".wh..wh.plnk/", D), entry(".wh..wh.plnk/123", data=b"aufs"),
       entry("etc/new", data=b"new")],
      [entry(".wh.todir"), entry("todir/", D), entry("todir/again", data=b"a"), entry("mixed/.wh.lower"),
       entry("etc/d/", D, xattrs={"user.overlay.opaque": "y", "trusted.overlay.opaque": "y"})])

# A whiteout of nothing in a directory no layer has: the directory is made,
# as containerd makes a marker's parents (an overlay would show the 0/0
# node in it: it filters whiteouts only in directories several layers hold).
stack("whiteout-nowhere", "ok", base, [entry("nodir/.wh.nothere")])

# An opaque root hides every layer below, keeping the layer's own entries.
stack("root-opaque", "ok", base, [entry("first", data=b"1"), entry(".wh..wh..opq"), entry("after/", D)])

# An empty layer (a tar of nothing but its end) is a layer.
stack("empty-layer", "ok", base, [])

# Refused, whatever layer they are in: a whiteout of ".", ".." or nothing,
# a marker used as a directory, a whiteout through a symlink (the layer's
# own or a lower one's, relative or absolute), a hardlink into the layers
# below. A lower layer's symlink on the way is not in the top layer's own
# tree: there the whiteout is made in a directory of that name, which an
# overlay shows in the symlink's place.
stack("wh-dot", "refuse", base, [entry("etc/.wh..")])
stack("wh-dotdot", "refuse", base, [entry("etc/.wh...")])
stack("wh-root-dot", "refuse", base, [entry(".wh..")])
stack("wh-root-dotdot", "refuse", base, [entry(".wh...")])
stack("wh-empty", "refuse", base, [entry("etc/.wh.")])
stack("wh-as-dir", "refuse", base, [entry("etc/.wh.keep/x", data=b"x")])
stack("wh-through-symlink", "refuse", base + [entry("link", L, link=canary)], [entry("link/.wh.file")], overlay="ok")
stack("wh-through-relative-symlink", "refuse", base + [entry("rel", L, link="../canary")], [entry("rel/.wh.file")], overlay="ok")
stack("wh-through-own-symlink", "refuse", base, [entry("link", L, link=canary), entry("link/.wh.file")])
stack("opq-through-symlink", "refuse", base + [entry("link", L, link=canary)], [entry("link/.wh..wh..opq")], overlay="ok")
stack("wh-dotdot-path", "refuse", base, [entry("../canary/.wh.file")])
stack("hardlink-below", "refuse", base, [entry("h", H, link="etc/keep")])
stack("hardlink-whiteout", "refuse", base, [entry(".wh.x"), entry("h", H, link="x")])

with open(os.path.join(out, "stacks"), "w") as f:
    for s in stacks:
        f.write("%s %d %s %s\n" % s)
