#!/usr/bin/env python3
"""Generate berth unpack's corpus: images of generated layers, normal and hostile.

    layer_corpus.py OUT CANARY [--platform OS/ARCH[/VARIANT]]
                    [--only normal|hostile]

For each case, OUT/<name> is an OCI layout whose tag "v1" is the image
(the "multi" case: an index of two platforms). OUT/cases.json lists them:

    [{"name": "...", "kind": "normal" | "hostile", "layers": N,
      "docker": true,              normal: docker 20.10 can load it (no hard
                                   link to a file of an earlier layer)
      "docker_ignore": [...],      paths where docker's overlay2 result differs
      "twin": "name",              compare with that case's umoci tree instead
      "group": "paths" | "bounds", hostile: which script runs it
      "mtimes": true,              compare modification times too
      "refused": "regex",          hostile: berth must fail, stderr matching
      "status": N,                 ... with this exit status
      "max_size": "SIZE",          --max-unpacked-size for this case
      "inside": [...],             paths that must exist in DIR afterwards
      "absent": [...]}, ...]       paths that must not

CANARY is the absolute path of the directory around DIR: hostile links aim
at it (or at "/" followed by it), so an escape would land in the canary,
where the test sees it, never in the host's /etc. The canary holds a file
"secret" and a file "victim" the hostile layers try to link, overwrite and
white out.
"""

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mkimage import (CREATED, EPOCH, OCI_CONFIG, OCI_INDEX,  # noqa: E402
                     OCI_MANIFEST, Layout, canonical, platform_dict)
from mklayout import LAYER_TYPES, compress, layer_tar  # noqa: E402

CAP = "0100000200200000000000000000000000000000"  # cap_net_bind_service


def d(path, **kw):
    return dict(path=path, type="dir", **kw)


def f(path, content=None, **kw):
    e = dict(path=path, type="file", **kw)
    if content is not None:
        e["content"] = content
    return e


def sl(path, target, **kw):
    return dict(path=path, type="symlink", target=target, **kw)


def hl(path, target):
    return dict(path=path, type="link", target=target)


def raw_tar(build):
    """A layer written with tarfile directly, for what a spec cannot say."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT,
                      encoding="utf-8") as tar:
        build(tar)
    return buf.getvalue()


def gnu_sparse(fmt, name):
    """A sparse file of 256 MiB with two 4 KiB extents, by GNU tar."""
    with tempfile.TemporaryDirectory() as tmp:
        os.mkdir(os.path.join(tmp, "data"))
        p = os.path.join(tmp, "data", name)
        with open(p, "wb") as fh:
            fh.write(b"head" * 1024)
            fh.seek((256 << 20) - 4096)
            fh.write(b"tail" * 1024)
        os.chmod(p, 0o640)
        os.utime(p, (EPOCH, EPOCH))
        return subprocess.run(
            ["tar", "--sparse", "--format=" + fmt, "--numeric-owner",
             "--owner=0", "--group=0", "--mtime=@%d" % EPOCH, "-cf", "-",
             "-C", tmp, "data/" + name],
            stdout=subprocess.PIPE, check=True).stdout


class Corpus:
    def __init__(self, out, platform):
        self.out, self.platform, self.cases = out, platform, []

    def image(self, lay, layers, platform, diff_override=None):
        """layers: [(raw tar bytes, compression, blob override or None)]."""
        descs, diff_ids = [], []
        for raw, how, blob in layers:
            comp = blob if blob is not None else compress(raw, how)
            descs.append({"mediaType": LAYER_TYPES[how],
                          "digest": lay.put(comp), "size": len(comp)})
            diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
        if diff_override:
            diff_ids = diff_override(diff_ids)
        pd = platform_dict(platform)
        config = {"created": CREATED, "architecture": pd["architecture"],
                  "os": pd["os"], "config": {"Cmd": ["/bin/sh"]},
                  "rootfs": {"type": "layers", "diff_ids": diff_ids},
                  "history": [{"created": CREATED} for _ in layers]}
        if "variant" in pd:
            config["variant"] = pd["variant"]
        cb = canonical(config)
        manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                    "config": {"mediaType": OCI_CONFIG, "digest": lay.put(cb),
                               "size": len(cb)},
                    "layers": descs}
        mb = canonical(manifest)
        return {"mediaType": OCI_MANIFEST, "digest": lay.put(mb),
                "size": len(mb)}

    def add(self, name, kind, layers, diff_override=None, **meta):
        """layers: specs (lists of entries), or (raw, compression[, blob])."""
        lay = Layout(os.path.join(self.out, name))
        norm = []
        for l in layers:
            if isinstance(l, list):
                norm.append((layer_tar(l), "gzip", None))
            elif isinstance(l, dict):
                norm.append((layer_tar(l["entries"]),
                             l.get("compression", "gzip"), None))
            else:
                raw, how = l[0], l[1]
                norm.append((raw, how, l[2] if len(l) > 2 else None))
        desc = self.image(lay, norm, self.platform, diff_override)
        lay.set_tag("v1", desc)
        case = {"name": name, "kind": kind, "layers": len(norm),
                "docker": kind == "normal", "docker_ignore": [],
                "refused": None, "status": 0, "max_size": None,
                "twin": None, "mtimes": False, "group": "paths",
                "inside": [], "absent": []}
        case.update(meta)
        self.cases.append(case)

    def multi(self, name):
        """An index of two platforms, each with its own file."""
        lay = Layout(os.path.join(self.out, name))
        mans = []
        for plat in ("linux/amd64", "linux/arm64"):
            raw = layer_tar([d("etc/"), f("etc/arch", plat + "\n")])
            desc = self.image(lay, [(raw, "gzip", None)], plat)
            desc["platform"] = platform_dict(plat)
            mans.append(desc)
        ib = canonical({"schemaVersion": 2, "mediaType": OCI_INDEX,
                        "manifests": mans})
        lay.set_tag("v1", {"mediaType": OCI_INDEX, "digest": lay.put(ib),
                           "size": len(ib)})
        self.cases.append({"name": name, "kind": "index", "layers": 2})


def normal(c, peers_spec):
    with open(peers_spec) as fh:
        spec = json.load(fh)
    c.add("kinds-peers", "normal", spec["layers"],
          docker_ignore=["srv/private"])
    c.add("modes-owners", "normal", [[
        d("bin/"), f("bin/suid", "s", mode="4755"),
        f("bin/sgid", "g", mode="2711", gid=50),
        f("bin/both", "b", mode="6755", uid=1, gid=1),
        f("bin/sticky-file", "t", mode="1644"),
        d("tmp/", mode="1777"), d("shared/", mode="2775", gid=100),
        d("locked/", mode="0000"), f("locked/inside", "x", mode="0000"),
        f("owned", "o", uid=12345, gid=54321, mode="0600"),
        f("readonly", "r", mode="0444")]])
    c.add("links", "normal", [[
        d("usr/"), d("usr/lib/"), f("usr/lib/libz.so.1.2", "z" * 300),
        sl("usr/lib/libz.so.1", "libz.so.1.2"),
        sl("usr/lib/libz.so", "/usr/lib/libz.so.1"),
        sl("dangling", "/nowhere/at/all"), sl("dot", "."),
        sl("up", "../../.."), hl("usr/lib/hard", "usr/lib/libz.so.1.2"),
        hl("usr/lib/hard-to-link", "usr/lib/libz.so"),
        sl("bin", "usr/bin"), d("usr/bin/"), f("usr/bin/sh", "#!", mode="0755"),
        f("bin/through-link", "written through a relative link")]])
    c.add("xattrs", "normal", [[
        d("bin/"), f("bin/ping", "p", mode="0755", xattrs_hex={
            "security.capability": CAP}),
        f("notes", "n", xattrs={"user.one": "1", "user.two": "two"}),
        d("dir-x/", xattrs={"user.dir": "d"}),
        f("trusted", "t", xattrs={"trusted.berth": "x"})]],
        docker_ignore=[])
    c.add("nodes", "normal", [[
        d("dev/"), d("devs/"),
        dict(path="devs/null", type="char", mode="0666", major=1, minor=3),
        dict(path="devs/sda", type="block", mode="0660", gid=6, major=8,
             minor=0),
        dict(path="devs/fifo", type="fifo", mode="0620", uid=7)]])
    c.add("whiteout-file", "normal", [
        [d("a/"), f("a/keep", "k"), f("a/gone", "g"), f("top-gone", "t")],
        [f("a/.wh.gone"), f(".wh.top-gone"), f(".wh.never-there")]])
    c.add("whiteout-dir", "normal", [
        [d("tree/"), d("tree/sub/"), f("tree/sub/x", "x"), f("tree/y", "y"),
         d("other/")],
        [f(".wh.tree"), f("other/z", "z")]])
    c.add("opaque-first", "normal", [
        [d("o/"), f("o/old1", "1"), d("o/sub/"), f("o/sub/old2", "2")],
        [d("o/"), f("o/.wh..wh..opq"), f("o/new", "n"), d("o/sub/"),
         f("o/sub/new2", "n2")]])
    c.add("opaque-last", "normal", [
        [d("o/"), f("o/old1", "1"), d("o/keepdir/"), f("o/keepdir/old", "o")],
        [d("o/"), f("o/new", "n"), d("o/keepdir/"), f("o/keepdir/new", "n"),
         f("o/.wh..wh..opq")]])
    c.add("replace-types", "normal", [
        [d("d2f/"), f("d2f/inner", "i"), f("f2d", "file"), d("d2l/"),
         f("d2l/x", "x"), sl("l2d", "d2f"), f("f2l", "f")],
        [f("d2f", "now a file"), d("f2d/"), f("f2d/inner", "now a dir"),
         sl("d2l", "f2d"), d("l2d/"), f("l2d/own", "own"), sl("f2l", "f2d")],
        [d("d2f/"), f("d2f/again", "a dir again")]])
    c.add("hardlink-earlier", "normal", [
        [d("lib/"), f("lib/base", "the base file\n", mode="0755")],
        [hl("lib/linked", "lib/base"), hl("linked-top", "lib/base")]],
        docker=False)
    c.add("mtimes", "normal", [[
        d("t/", mtime=1500000000), f("t/a", "a", mtime=1400000000),
        d("t/deeper/", mtime=1300000000),
        f("t/deeper/b", "b", mtime=1200000000),
        sl("t/link", "a", mtime=1100000000)]], mtimes=True)
    # umoci 0.4 lacks zstd: that image is compared with its gzip twin's.
    comp = [("none", [d("plain/"), f("plain/x", "p")]),
            ("zstd", [d("zstd/"), f("zstd/x", "z" * 5000)]),
            ("gzip", [d("gzip/"), f("gzip/x", "g")])]
    c.add("compressions-gzip", "normal",
          [{"compression": "gzip", "entries": e} for _, e in comp])
    c.add("compressions", "normal",
          [{"compression": h, "entries": e} for h, e in comp],
          twin="compressions-gzip", docker=False)
    c.add("empty-layers", "normal", [
        (b"\0" * 1024, "gzip"), [f("only", "file")], (b"\0" * 1024, "none")])
    c.add("large-file", "normal", [[
        d("big/"), dict(path="big/file", type="file", size=64 << 20)]])
    # GNU tar's pax sparse format (1.0), and its old 'S' entries, which
    # umoci 0.4 refuses: that image is compared with the first.
    c.add("sparse", "normal", [(gnu_sparse("posix", "a"), "gzip"),
                               (gnu_sparse("posix", "b"), "gzip")])
    c.add("sparse-gnu", "normal", [(gnu_sparse("gnu", "a"), "gzip"),
                                   (gnu_sparse("gnu", "b"), "gzip")],
          twin="sparse", docker=False)
    long = "/".join(["c" * 200] * 15)
    c.add("long-names", "normal", [[f(long + "/leaf", "deep"),
                                    f("n" * 255, "255 bytes")]])
    c.add("unicode", "normal", [[d("données/"), f("données/café", "☕"),
                                 f("日本語", "テキスト"), f("sp ace", "s")]])
    c.add("many-files", "normal", [
        [d("m/")] + [f("m/%05d" % i, str(i)) for i in range(3000)],
        [f("m/.wh.%05d" % i) for i in range(0, 3000, 3)]])
    c.add("implied-parents", "normal", [
        [f("no/dir/entries/here", "x")]], docker=False)


def hostile(c):
    C = c.canary.lstrip("/")
    E = "'..' climbs above the image root"
    H = dict(kind="hostile", docker=False)
    c.add("h-dotdot", layers=[[f("../escaped", "x")]], refused=E, status=10,
          **H)
    c.add("h-dotdot-deep", layers=[[d("a/"), f("a/../../escaped", "x")]],
          refused=E, status=10, **H)
    c.add("h-absolute", layers=[[f("/abs-escape", "x"), d("/etc/"),
                                 f("/etc/abs-conf", "x")]],
          inside=["abs-escape", "etc/abs-conf"], **H)
    c.add("h-symlink-root", layers=[[sl("rl", "/"),
                                     f("rl/" + C + "/escaped", "x")]],
          inside=[C + "/escaped"], **H)
    c.add("h-symlink-root-layers", layers=[[sl("rl", "/")],
                                           [f("rl/" + C + "/escaped", "x")]],
          inside=[C + "/escaped"], **H)
    c.add("h-symlink-dotdot", layers=[[sl("up", "../../../../../../../.."),
                                       f("up/escaped", "x")]],
          inside=["escaped"], **H)
    c.add("h-symlink-canary", layers=[[sl("cl", c.canary),
                                       f("cl/victim", "overwritten")]],
          refused="does not exist", status=10, **H)
    c.add("h-hardlink-out", layers=[[hl("h", "../../../etc/passwd")]],
          refused=E, status=10, **H)
    c.add("h-hardlink-abs", layers=[[hl("h", c.canary + "/secret")]],
          refused="hard link target '.*secret' does not exist", status=10,
          **H)
    c.add("h-hardlink-via-link", layers=[[sl("el", c.canary),
                                          hl("h", "el/secret")]],
          refused="does not exist", status=10, **H)
    c.add("h-swap-dir-link", layers=[
        [d("d/"), f("d/a", "a")], [sl("d", "..")], [f("d/escaped", "x")]],
        inside=["escaped"], absent=["d/a"], **H)
    c.add("h-swap-in-layer", layers=[[d("d/"), f("d/a", "a"), sl("d", "/"),
                                      f("d/" + C + "/x", "x")]],
          inside=[C + "/x"], absent=["d/a"], **H)
    c.add("h-whiteout-up", layers=[[f("../.wh.victim")]], refused=E,
          status=10, **H)
    c.add("h-whiteout-via-link", layers=[[sl("wl", c.canary),
                                          f("wl/.wh.victim")]], **H)
    c.add("h-opaque-via-link", layers=[[sl("ol", c.canary),
                                        f("ol/.wh..wh..opq")]], **H)
    c.add("h-whiteout-dotdot", layers=[[d("a/"), f("a/.wh...")]],
          refused="a whiteout must name a file", status=10, **H)
    c.add("h-nul-name", group="bounds", layers=[(raw_tar(lambda t: nul_entry(t)), "gzip")],
          inside=["nul"], absent=["escaped"], **H)
    long = "/".join(["p" * 250] * 17)
    c.add("h-path-max", group="bounds", layers=[[f(long, "x")]], refused="over PATH_MAX",
          status=10, **H)
    c.add("h-name-max", group="bounds", layers=[[f("n" * 300, "x")]],
          refused="over NAME_MAX", status=10, **H)
    c.add("h-loop", layers=[[sl("loop", "loop"), f("loop/x", "x")]],
          refused="too many symbolic links", status=10, **H)
    c.add("h-file-as-dir", layers=[[f("f", "x"), f("f/x", "y")]],
          refused="not a directory", status=10, **H)
    c.add("h-hardlink-dir", layers=[[d("dd/"), hl("h", "dd")]],
          refused="is a directory", status=10, **H)
    c.add("h-link-to-link-out", layers=[[sl("s", "../../../../etc/shadow"),
                                         hl("h", "s")]],
          inside=["h", "s"], **H)
    bomb = layer_tar([dict(path="zeros", type="file", size=0)])
    c.add("h-gzip-bomb", group="bounds", layers=[(zeros_tar(96 << 20), "gzip")],
          max_size="32M", refused="more than 33554432 bytes", status=18, **H)
    c.add("h-zstd-bomb", group="bounds", layers=[(zeros_tar(96 << 20), "zstd")],
          max_size="32M", refused="more than 33554432 bytes", status=18, **H)
    c.add("h-many-entries", group="bounds", layers=[(many_entries(40000), "gzip")],
          max_size="8M", refused="more than 8388608 bytes", status=18, **H)
    c.add("h-not-tar", group="bounds", layers=[(b"", "gzip", compress(
        bytes(range(256)) * 64, "gzip"))],
          refused="not a valid tar archive", status=10, **H)
    good = layer_tar([f("x", "x")])
    c.add("h-diff-id", group="bounds", layers=[[f("fine", "1")], [f("x", "x")]],
          diff_override=lambda ids: [ids[0], "sha256:" + "0" * 64],
          refused="layer 2 \\(sha256:.*\\): its content is sha256:.*, but "
          "the config's rootfs.diff_ids says sha256:0{64}", status=11, **H)
    trunc = compress(layer_tar([f("big", None, size=1 << 20)]), "gzip")
    c.add("h-truncated", group="bounds",
          layers=[(b"", "gzip", trunc[:len(trunc) // 2])],
          refused="layer 1 \\(sha256:[0-9a-f]{12}\\): gzip layer is "
          "truncated", status=10, **H)
    del bomb, good


def nul_entry(tar):
    ti = tarfile.TarInfo("placeholder")
    ti.pax_headers = {"path": "nul\x00/../../../escaped"}
    ti.size = 1
    tar.addfile(ti, io.BytesIO(b"x"))


def zeros_tar(size):
    class Zeros(io.RawIOBase):
        def __init__(self):
            self.left = size

        def readinto(self, b):
            n = min(len(b), self.left)
            b[:n] = bytes(n)
            self.left -= n
            return n

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        ti = tarfile.TarInfo("zeros")
        ti.size = size
        t.addfile(ti, Zeros())
    return buf.getvalue()


def many_entries(n):
    return layer_tar([f("e/%06d" % i, "") for i in range(n)])


def main():
    ap = argparse.ArgumentParser(prog="layer_corpus.py")
    ap.add_argument("out")
    ap.add_argument("canary")
    ap.add_argument("--platform", default="linux/amd64")
    ap.add_argument("--only", choices=["normal", "hostile"])
    ap.add_argument("--peers-spec", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "integration",
        "peers_image.json"))
    args = ap.parse_args()
    if not os.path.isabs(args.canary):
        sys.exit("layer_corpus.py: CANARY must be an absolute path")
    c = Corpus(args.out, args.platform)
    c.canary = args.canary.rstrip("/")
    if args.only != "hostile":
        normal(c, args.peers_spec)
        c.multi("multi")
    if args.only != "normal":
        hostile(c)
    with open(os.path.join(args.out, "cases.json"), "w") as fh:
        json.dump(c.cases, fh, indent=1)
    n = sum(x["layers"] for x in c.cases)
    print("%d cases, %d layers" % (len(c.cases), n))


if __name__ == "__main__":
    main()
