#!/usr/bin/env python3
"""Write hostile tar archives for tests/unpack-hostile.sh.

    unpack-hostile.py OUTDIR CANARY

CANARY is the absolute path of a directory beside the extraction target that
no archive may change. Each case becomes OUTDIR/<case>.tar, and OUTDIR/cases
lists "<case> <expect>" where expect is "refuse" (the whole archive must be
refused, exit 7, nothing left behind) or "ok" (extracts, and the test checks
what it made). Cases follow libarchive's secure-extraction tests, moby's
and containerd's breakout tests and the issue's list, then the privileged
files and overlay attributes of the security review."""
import io
import os
import shutil
import sys
import tarfile

out, canary = sys.argv[1], sys.argv[2]
cases = []


def entry(name, kind=tarfile.REGTYPE, data=b"", link="", mode=0o644, dev=(0, 0), xattrs=None):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mode = mode
    ti.mtime = 1700000000
    ti.linkname = link
    ti.size = len(data) if kind == tarfile.REGTYPE else 0
    ti.devmajor, ti.devminor = dev
    # Extended attributes travel as pax records, as GNU tar --xattrs writes them.
    ti.pax_headers = {"SCHILY.xattr." + k: v for k, v in (xattrs or {}).items()}
    return ti, (io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def case(name, expect, *entries, fmt=tarfile.PAX_FORMAT):
    with tarfile.open(os.path.join(out, name + ".tar"), "w", format=fmt) as t:
        for ti, f in entries:
            t.addfile(ti, f)
    cases.append((name, expect))


D, F, L, H = tarfile.DIRTYPE, tarfile.REGTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE
pwn = b"pwned\n"

# Names that climb out or are absolute.
case("dotdot", "refuse", entry("ok"), entry("../canary/pwned", data=pwn))
case("dotdot-middle", "refuse", entry("a/", D), entry("a/../../canary/pwned", data=pwn))
case("dotdot-dir", "refuse", entry("../canary/newdir/", D))
case("absolute", "refuse", entry(canary + "/pwned", data=pwn))
case("absolute-root", "refuse", entry("/", D), entry("/etc-pwned", data=pwn))
# Symlinks followed by writes through them.
case("symlink-write-relative", "refuse", entry("link", L, link="../canary"), entry("link/pwned", data=pwn))
case("symlink-write-absolute", "refuse", entry("link", L, link=canary), entry("link/pwned", data=pwn))
case("symlink-mkdir-through", "refuse", entry("link", L, link=canary), entry("link/newdir/", D))
case("symlink-chain", "refuse", entry("a", L, link="b"), entry("b", L, link="c"),
     entry("c", L, link="../canary"), entry("a/pwned", data=pwn))
case("symlink-loop", "refuse", entry("a", L, link="b"), entry("b", L, link="a"), entry("a/x", data=pwn))
case("symlink-dotdot-inside", "refuse", entry("d/", D), entry("d/up", L, link="../.."),
     entry("d/up/canary/pwned", data=pwn))
# A file entry over a symlink to the outside replaces the symlink; it must
# never open the file the symlink names.
case("symlink-then-file", "ok", entry("f", L, link=canary + "/file"), entry("f", data=pwn))
case("symlink-relative-then-file", "ok", entry("f", L, link="../canary/file"), entry("f", data=pwn))
# Hardlinks to the outside, directly or through a symlink.
case("hardlink-dotdot", "refuse", entry("h", H, link="../canary/file"), entry("h", data=pwn))
case("hardlink-absolute", "refuse", entry("h", H, link=canary + "/file"))
case("hardlink-through-symlink", "refuse", entry("l", L, link=canary), entry("h", H, link="l/file"),
     entry("h", data=pwn))
case("hardlink-missing", "refuse", entry("h", H, link="nothere"))
case("hardlink-to-dir", "refuse", entry("d/", D), entry("h", H, link="d"))
# A hardlink to a symlink links the symlink itself; a file written over the
# link replaces it.
case("hardlink-to-symlink", "ok", entry("s", L, link=canary + "/file"), entry("h", H, link="s"),
     entry("h", data=pwn))
# A directory replaced by a symlink, then used.
case("dir-replaced-by-symlink", "refuse", entry("d/", D), entry("d", L, link=canary),
     entry("d/pwned", data=pwn))
case("full-dir-replaced-by-symlink", "refuse", entry("d/", D), entry("d/x", data=b"x"),
     entry("d", L, link=canary), entry("d/pwned", data=pwn))
case("file-as-parent", "refuse", entry("f", data=b"x"), entry("f/pwned", data=pwn))
# ".", ".." and empty names.
case("dot-as-file", "refuse", entry(".", data=pwn))
case("dotdot-name", "refuse", entry("..", D))
case("dotdot-trailing", "refuse", entry("a/..", D))
case("empty-name", "refuse", entry("", data=pwn), fmt=tarfile.GNU_FORMAT)
case("hardlink-to-root", "refuse", entry("h", H, link="."))
# Longer than PATH_MAX, and a component longer than NAME_MAX.
long = "/".join(["d" * 200] * 25) + "/f"
case("path-max", "refuse", entry(long, data=pwn))
case("name-max", "refuse", entry("n" * 300, data=pwn))
long_link = "/".join(["e" * 200] * 25)
case("hardlink-path-max", "refuse", entry("f", data=b"x"), entry("h", H, link=long_link))
# Deep nesting beyond the writer's depth cap.
case("too-deep", "refuse", entry("/".join(["x"] * 300) + "/f", data=pwn))

# An old GNU sparse entry whose map puts data past the size it declares:
# 64 KiB written for a declared byte would slip past --max-size.
def octal(n, width):
    return b"%0*o\0" % (width - 1, n)


def sparse_beyond(name, data_size):
    h = bytearray(512)
    h[0:4] = b"bomb"
    h[100:108], h[108:116], h[116:124] = octal(0o644, 8), octal(0, 8), octal(0, 8)
    h[124:136], h[136:148] = octal(data_size, 12), octal(1700000000, 12)
    h[156:157] = b"S"
    h[257:265] = b"ustar  \0"
    h[386:398], h[398:410] = octal(0, 12), octal(data_size, 12)  # one block at offset 0
    h[483:495] = octal(1, 12)  # the size it declares
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    with open(os.path.join(out, name + ".tar"), "wb") as f:
        f.write(bytes(h) + b"x" * data_size + b"\0" * (-data_size % 512 + 1024))
    cases.append((name, "refuse"))


sparse_beyond("sparse-beyond-size", 65536)

# Privileged files, owned by root (uid 0) as in any rootfs: the kernel log's
# node (c 1:11), /dev/kvm's (c 10:232), and id(1) setuid and setgid root,
# which prints the effective ids of whoever runs it. Unpacked into a
# directory of the user's choice, another user must not get to open the
# nodes or to run id as euid 0.
with open(shutil.which("id"), "rb") as f:
    id_bin = f.read()
case("privileged-files", "ok", entry("kmsg", tarfile.CHRTYPE, mode=0o666, dev=(1, 11)),
     entry("kvm", tarfile.CHRTYPE, mode=0o666, dev=(10, 232)),
     entry("id", data=id_bin, mode=0o6755), entry("setgid-dir/", D, mode=0o2775))

# overlayfs keeps its state in trusted.overlay.* (user.overlay.* with
# userxattr): no layer may bring its own, on a directory, a file or the
# root. user.keep shows that other attributes still come through.
overlay = {"trusted.overlay.redirect": "/etc", "trusted.overlay.opaque": "y",
           "trusted.overlay.metacopy": "", "user.overlay.opaque": "y",
           "user.overlay.redirect": "/etc", "user.keep": "1"}
case("overlay-xattrs", "ok", entry("./", D, mode=0o755, xattrs=overlay),
     entry("d/", D, mode=0o755, xattrs=overlay), entry("f", data=b"x", xattrs=overlay))

with open(os.path.join(out, "cases"), "w") as f:
    for name, expect in cases:
        f.write("%s %s\n" % (name, expect))
