#!/usr/bin/env python3
# A filesystem tree as text, one line per entry, sorted by path, so that
# two views of the same guest filesystem can be compared with diff:
#
#   tree-listing.py dir DIR      walk a directory (a guestmount mount)
#   tree-listing.py tar FILE     read a tar archive (guestfish's tar-out)
#
# Each line: path, type (f d l p c b s), mode (octal, permission bits),
# uid, gid, mtime (seconds), then for a file its size and sha256, for a
# symbolic link its target, for a device its major:minor.  Directories'
# sizes are left out (tar does not record them).  A hard link in a tar
# archive is the file it links to, as a directory walk sees it.
import hashlib
import os
import stat
import sys
import tarfile


def line(path, kind, mode, uid, gid, mtime, extra):
    return "%s %s %04o %d %d %d%s" % (path, kind, mode & 0o7777, uid, gid,
                                      int(mtime), extra)


def from_dir(top):
    out = []
    top = top.rstrip("/") or "/"
    for dirpath, dirnames, filenames in os.walk(top):
        names = dirnames + filenames
        if dirpath == top:
            names = names + [None]          # the root itself
        for name in names:
            p = dirpath if name is None else os.path.join(dirpath, name)
            rel = "/" + os.path.relpath(p, top) if p != top else "/"
            st = os.lstat(p)
            m = st.st_mode
            if stat.S_ISREG(m):
                h = hashlib.sha256()
                with open(p, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        h.update(chunk)
                extra = " %d %s" % (st.st_size, h.hexdigest())
                kind = "f"
            elif stat.S_ISDIR(m):
                kind, extra = "d", ""
            elif stat.S_ISLNK(m):
                kind, extra = "l", " -> " + os.readlink(p)
            elif stat.S_ISFIFO(m):
                kind, extra = "p", ""
            elif stat.S_ISSOCK(m):
                kind, extra = "s", ""
            else:
                kind = "c" if stat.S_ISCHR(m) else "b"
                extra = " %d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
            out.append(line(rel, kind, m, st.st_uid, st.st_gid,
                            st.st_mtime, extra))
    return out


def norm(name):
    if name.startswith("./"):
        name = name[2:]
    name = name.rstrip("/")
    return "/" if name in ("", ".") else "/" + name


def from_tar(path):
    out = []
    files = {}
    with tarfile.open(path, "r:") as t:
        for m in t:
            p = norm(m.name)
            if m.isreg():
                f = t.extractfile(m)
                h = hashlib.sha256(f.read()).hexdigest()
                files[p] = (m.size, h)
                extra = " %d %s" % (m.size, h)
                kind = "f"
            elif m.islnk():
                size, h = files[norm(m.linkname)]
                kind, extra = "f", " %d %s" % (size, h)
            elif m.isdir():
                kind, extra = "d", ""
            elif m.issym():
                kind, extra = "l", " -> " + m.linkname
            elif m.isfifo():
                kind, extra = "p", ""
            elif m.ischr() or m.isblk():
                kind = "c" if m.ischr() else "b"
                extra = " %d:%d" % (m.devmajor, m.devminor)
            else:
                raise SystemExit("%s: %s: unknown member type %r" %
                                 (path, m.name, m.type))
            out.append(line(p, kind, m.mode, m.uid, m.gid, m.mtime, extra))
    return out


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("dir", "tar"):
        raise SystemExit("usage: tree-listing.py dir DIR | tar FILE")
    lines = from_dir(sys.argv[2]) if sys.argv[1] == "dir" \
        else from_tar(sys.argv[2])
    for l in sorted(lines):
        print(l)


main()
