#!/usr/bin/env python3
"""Compare two file trees entry by entry.

    tree_diff.py [options] A B

A and B are directories (a `docker export` tar is unpacked by the caller,
e.g. `tar -xpf F --numeric-owner --xattrs --xattrs-include='*' -C B`).
For every path below the roots (the roots themselves only with --root)
it compares: type; mode including setuid, setgid and sticky; uid and gid;
size and SHA-256 of regular files; symlink targets; device major and
minor; extended attributes; which paths share an inode (hard links); and,
with --mtimes, modification times in whole seconds.

Options:
  --xattrs SPEC    which extended attributes: "all" (default), "none", or a
                   comma-separated list of names and prefixes ending in "*"
                   (e.g. "security.capability,user.*")
  --ignore PATH    leave PATH out (relative to the roots; "dev/" or "dev"
                   leaves out dev and everything below it; fnmatch patterns
                   allowed). Repeatable. A directory on one side only that
                   holds nothing but ignored paths is left out too.
  --docker-export  ignore what `docker export` adds to an image's tree:
                   .dockerenv, dev/, proc/, sys/, etc/hostname, etc/hosts,
                   etc/resolv.conf, etc/mtab
  --no-owner       do not compare uid and gid
  --mtimes         compare modification times of everything but directories
  --dir-mtimes     compare directories' modification times too
  --root           compare the two roots' mode, owner and xattrs too

Exit status: 0 when the trees are equal, 1 with one line per difference on
standard output, 2 on a usage error (the message on standard error).
Only the Python standard library is used.
"""

import argparse
import fnmatch
import hashlib
import os
import stat
import sys

DOCKER_EXPORT = [".dockerenv", "dev/", "proc/", "sys/", "etc/hostname",
                 "etc/hosts", "etc/resolv.conf", "etc/mtab"]

TYPES = [(stat.S_ISREG, "file"), (stat.S_ISDIR, "directory"),
         (stat.S_ISLNK, "symlink"), (stat.S_ISCHR, "char device"),
         (stat.S_ISBLK, "block device"), (stat.S_ISFIFO, "fifo"),
         (stat.S_ISSOCK, "socket")]


def kind(st):
    for test, name in TYPES:
        if test(st.st_mode):
            return name
    return "unknown"


class Ignore:
    def __init__(self, patterns):
        self.patterns = [p.strip("/") for p in patterns if p.strip("/")]

    def __call__(self, rel):
        for p in self.patterns:
            if fnmatch.fnmatchcase(rel, p) or rel.startswith(p + "/"):
                return True
            if any(fnmatch.fnmatchcase(rel[:i], p)
                   for i in range(len(rel)) if rel[i] == "/"):
                return True
        return False

    def holds_only_ignored(self, rel, paths):
        """True when every path below rel in paths is ignored and rel is
        the parent of an ignore pattern (created only to hold it)."""
        prefix = rel + "/"
        if not any(p.startswith(prefix) for p in self.patterns):
            return False
        return all(self(p) for p in paths if p.startswith(prefix))


def want_xattr(spec, name):
    if spec == "all":
        return True
    if spec == "none":
        return False
    for w in spec.split(","):
        w = w.strip()
        if w.endswith("*") and name.startswith(w[:-1]):
            return True
        if name == w:
            return True
    return False


def xattrs(path, spec):
    if spec == "none":
        return {}
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return {}
    out = {}
    for n in names:
        if want_xattr(spec, n):
            try:
                out[n] = os.getxattr(path, n, follow_symlinks=False)
            except OSError as e:
                out[n] = ("unreadable: %s" % e.strerror).encode()
    return out


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def scan(root, ignore):
    """rel path -> lstat result, for every non-ignored entry below root."""
    def fail(e):
        raise e

    entries = {}
    # os.walk lists symlinks to directories without following them.
    for dirpath, dirnames, filenames in os.walk(root, onerror=fail):
        rel_dir = os.path.relpath(dirpath, root)
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        for name in dirnames + filenames:
            rel = rel_dir + name
            if not ignore(rel):
                entries[rel] = os.lstat(os.path.join(dirpath, name))
        dirnames[:] = [n for n in dirnames if not ignore(rel_dir + n)]
    return entries


def link_groups(entries, ignore):
    """frozensets of paths sharing an inode (non-directories, more than one
    path in the tree)."""
    by_inode = {}
    for rel, st in entries.items():
        if ignore(rel) or stat.S_ISDIR(st.st_mode):
            continue
        by_inode.setdefault((st.st_dev, st.st_ino), []).append(rel)
    return {frozenset(v) for v in by_inode.values() if len(v) > 1}


def show(b):
    try:
        s = b.decode()
        if s.isprintable():
            return repr(s)
    except UnicodeDecodeError:
        pass
    return "0x" + b.hex()


def compare_entry(rel, pa, pb, sa, sb, args, out):
    ka, kb = kind(sa), kind(sb)
    if ka != kb:
        out.append("type %s: %s in A, %s in B" % (rel, ka, kb))
        return
    ma, mb = stat.S_IMODE(sa.st_mode), stat.S_IMODE(sb.st_mode)
    # A symlink's own mode means nothing on Linux.
    if ka != "symlink" and ma != mb:
        out.append("mode %s: %04o in A, %04o in B" % (rel, ma, mb))
    if not args.no_owner and (sa.st_uid, sa.st_gid) != (sb.st_uid, sb.st_gid):
        out.append("owner %s: %d:%d in A, %d:%d in B"
                   % (rel, sa.st_uid, sa.st_gid, sb.st_uid, sb.st_gid))
    if ka == "file":
        if sa.st_size != sb.st_size:
            out.append("size %s: %d in A, %d in B"
                       % (rel, sa.st_size, sb.st_size))
        elif sha256(pa) != sha256(pb):
            out.append("content %s: SHA-256 differs" % rel)
    elif ka == "symlink":
        ta, tb = os.readlink(pa), os.readlink(pb)
        if ta != tb:
            out.append("target %s: %r in A, %r in B" % (rel, ta, tb))
    elif ka in ("char device", "block device"):
        da = (os.major(sa.st_rdev), os.minor(sa.st_rdev))
        db = (os.major(sb.st_rdev), os.minor(sb.st_rdev))
        if da != db:
            out.append("device %s: %d,%d in A, %d,%d in B" % ((rel,) + da + db))
    xa, xb = xattrs(pa, args.xattrs), xattrs(pb, args.xattrs)
    for n in sorted(set(xa) | set(xb)):
        if n not in xb:
            out.append("xattr %s: %s only in A" % (rel, n))
        elif n not in xa:
            out.append("xattr %s: %s only in B" % (rel, n))
        elif xa[n] != xb[n]:
            out.append("xattr %s: %s is %s in A, %s in B"
                       % (rel, n, show(xa[n]), show(xb[n])))
    if args.mtimes and (ka != "directory" or args.dir_mtimes):
        ta, tb = int(sa.st_mtime), int(sb.st_mtime)
        if ta != tb:
            out.append("mtime %s: %d in A, %d in B" % (rel, ta, tb))


def main(argv):
    ap = argparse.ArgumentParser(
        prog="tree_diff.py", description="Compare two file trees.")
    ap.add_argument("a", metavar="A")
    ap.add_argument("b", metavar="B")
    ap.add_argument("--xattrs", default="all")
    ap.add_argument("--ignore", action="append", default=[])
    ap.add_argument("--docker-export", action="store_true")
    ap.add_argument("--no-owner", action="store_true")
    ap.add_argument("--mtimes", action="store_true")
    ap.add_argument("--dir-mtimes", action="store_true")
    ap.add_argument("--root", action="store_true")
    args = ap.parse_args(argv)
    if args.dir_mtimes:
        args.mtimes = True
    for d in (args.a, args.b):
        if not os.path.isdir(d) or os.path.islink(d):
            print("tree_diff.py: %s is not a directory: give two directories "
                  "(unpack an archive first)" % d, file=sys.stderr)
            return 2
    ignore = Ignore(args.ignore + (DOCKER_EXPORT if args.docker_export else []))

    try:
        ea, eb = scan(args.a, ignore), scan(args.b, ignore)
    except OSError as e:
        print("tree_diff.py: cannot read %s: %s" % (e.filename, e.strerror),
              file=sys.stderr)
        return 2
    out = []
    if args.root:
        compare_entry(".", args.a, args.b, os.lstat(args.a), os.lstat(args.b),
                      args, out)
    for rel in sorted(set(ea) | set(eb)):
        if ignore(rel):
            continue
        if rel not in eb:
            if not (stat.S_ISDIR(ea[rel].st_mode)
                    and ignore.holds_only_ignored(rel, ea)):
                out.append("missing in B: %s (%s)" % (rel, kind(ea[rel])))
            continue
        if rel not in ea:
            if not (stat.S_ISDIR(eb[rel].st_mode)
                    and ignore.holds_only_ignored(rel, eb)):
                out.append("missing in A: %s (%s)" % (rel, kind(eb[rel])))
            continue
        compare_entry(rel, os.path.join(args.a, rel), os.path.join(args.b, rel),
                      ea[rel], eb[rel], args, out)

    ga, gb = link_groups(ea, ignore), link_groups(eb, ignore)
    for g in sorted(ga - gb, key=sorted):
        out.append("hardlinks %s: one file in A, not in B" % " = ".join(sorted(g)))
    for g in sorted(gb - ga, key=sorted):
        out.append("hardlinks %s: one file in B, not in A" % " = ".join(sorted(g)))

    for line in out:
        print(line)
    return 1 if out else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
