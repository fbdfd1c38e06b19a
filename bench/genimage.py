#!/usr/bin/env python3
"""Write a large generated container image into an OCI image layout, fast.

    genimage.py DIR --tag TAG --layer SIZE... [--seed S] [--jobs N]
                [--platform OS/ARCH[/VARIANT]]

Each --layer SIZE (suffixes k, m, g: 1024-based) becomes a gzip-compressed
(level 6) tar of about SIZE bytes of files that look like the contents of a
real root file system: file sizes from a few hundred bytes up to a sixteenth
of the layer, and three kinds of content mixed as in a typical image: text
(55 % of the bytes: source, scripts, documentation; words from a skewed
vocabulary with repeated lines; gzip keeps about 28 %), machine code (37 %:
random bytes mixed with zero runs and repeated short sequences; gzip keeps
about 40 %) and data that is already compressed (8 %: random bytes). Over a
layer gzip keeps about 38 % of the bytes.

Layers are built in parallel (--jobs, default the number of CPUs), streamed
through zlib without holding a layer in memory. Everything is deterministic
from the seed and the layer's position, so the same arguments always give
the same digests. Prints a JSON summary like tests/tools/mkimage.py:
    {"digest", "mediaType", "size", "layers": [{digest, size, diff_id}],
     "uncompressed": total tar bytes}
Only the Python standard library is used.
"""

import argparse
import hashlib
import io
import json
import multiprocessing
import os
import random
import sys
import tarfile
import zlib

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
EPOCH = 1704067200  # 2024-01-01T00:00:00Z: fixed, for reproducible bytes
CREATED = "2024-01-01T00:00:00Z"

# Share of a layer's bytes by kind of content, and the file extensions that
# go with each kind.
KINDS = (
    ("text", 0.55, ("py", "c", "h", "txt", "html", "js", "json", "conf")),
    ("code", 0.37, ("so", "bin", "a", "o")),
    ("packed", 0.08, ("gz", "png", "jar", "zip")),
)
DIRS = ("usr/lib", "usr/share/doc", "usr/bin", "usr/share/locale", "opt/app",
        "usr/lib/python3/dist-packages", "var/lib/data", "usr/include")


def parse_size(text):
    text = text.strip().lower()
    mult = 1
    for suffix, m in (("k", 1 << 10), ("m", 1 << 20), ("g", 1 << 30)):
        if text.endswith(suffix):
            mult, text = m, text[:-1]
    return int(float(text) * mult)


class Content:
    """Generators for the three kinds of file content."""

    def __init__(self, rng):
        self.rng = rng
        letters = b"abcdefghijklmnopqrstuvwxyz_"
        words = [bytes(rng.choices(letters, k=rng.randint(2, 11)))
                 for _ in range(6000)]
        words += [b"self", b"return", b"if", b"the", b"for", b"int", b"=",
                  b"(", b")", b"{", b"}", b"0", b"1", b"NULL", b"static"]
        cum, total = [], 0.0
        for i in range(len(words)):
            total += 1.0 / (i + 1)  # Zipf: a few words are very common
            cum.append(total)
        seq = rng.choices(words, cum_weights=cum, k=400000)
        lines, i = [], 0
        while i < len(seq):
            n = rng.randint(2, 12)
            lines.append(b"\t" * rng.randint(0, 3) + b" ".join(seq[i:i + n]))
            i += n
        self.corpus = b"\n".join(lines) + b"\n"
        # Machine code repeats short instruction sequences.
        self.ops = rng.randbytes(2048)

    def text(self, n):
        rng, corpus, out = self.rng, self.corpus, bytearray()
        last = len(corpus) - 4096
        while len(out) < n:
            if len(out) > 4096 and rng.random() < 0.6:
                # A repeated line or block: boilerplate, indentation, names.
                o = len(out) - rng.randint(64, 4096)
                out += out[o:o + rng.randint(16, 300)]
            else:
                o = rng.randrange(last)
                out += corpus[o:o + rng.randint(40, 1500)]
        del out[n:]
        return out

    def code(self, n):
        rng, ops, out = self.rng, self.ops, bytearray()
        while len(out) < n:
            r = rng.random()
            if r < 0.18:
                out += rng.randbytes(rng.randint(16, 160))
            elif r < 0.36:
                out += bytes(rng.randint(4, 48))
            elif r < 0.72:
                o = rng.randrange(len(ops) - 64)
                out += ops[o:o + rng.randint(6, 64)]
            elif len(out) > 2048:
                o = len(out) - rng.randint(32, 2048)
                out += out[o:o + rng.randint(8, 96)]
        del out[n:]
        return out

    def packed(self, n):
        return self.rng.randbytes(n)


class GzipSink(io.RawIOBase):
    """A write-only file: hashes the tar stream, gzips it, hashes and
    writes the result."""

    def __init__(self, path):
        self.f = open(path, "wb")
        self.z = zlib.compressobj(6, zlib.DEFLATED, 31)  # gzip, mtime 0
        self.raw = hashlib.sha256()
        self.comp = hashlib.sha256()
        self.raw_size = 0
        self.comp_size = 0
        self.pending = []
        self.pending_len = 0

    def writable(self):
        return True

    def _out(self, data):
        if data:
            self.comp.update(data)
            self.comp_size += len(data)
            self.f.write(data)

    def _flush_pending(self):
        data = b"".join(self.pending)
        self.pending, self.pending_len = [], 0
        self.raw.update(data)
        self.raw_size += len(data)
        self._out(self.z.compress(data))

    def write(self, b):
        self.pending.append(bytes(b))
        self.pending_len += len(b)
        if self.pending_len >= 1 << 20:
            self._flush_pending()
        return len(b)

    def finish(self):
        self._flush_pending()
        self._out(self.z.flush())
        self.f.close()


def file_sizes(rng, total):
    """Sizes adding up to total: mostly small files, some large ones."""
    sizes, left = [], total
    while left > 0:
        r = rng.random()
        if r < 0.02:
            # Large files, but none big enough to upset the mix of kinds.
            s = rng.randint(4 << 20, max(4 << 20, total // 16))
        elif r < 0.25:
            s = int(2 ** rng.uniform(16, 22))  # 64 KiB .. 4 MiB
        else:
            s = int(2 ** rng.uniform(8, 16))  # 256 B .. 64 KiB
        s = min(s, left)
        sizes.append(s)
        left -= s
    return sizes


def build_layer(job):
    """Writes one layer blob to a staging file; returns its numbers."""
    path, seed, size = job
    rng = random.Random(seed)
    gen = Content(rng)
    sink = GzipSink(path)
    with tarfile.open(fileobj=sink, mode="w|",
                      format=tarfile.GNU_FORMAT) as tar:
        seen = set()

        def add_dir(name):
            parts = name.split("/")
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i])
                if d in seen:
                    continue
                seen.add(d)
                ti = tarfile.TarInfo(d)
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                ti.mtime = EPOCH
                ti.uname = ti.gname = "root"
                tar.addfile(ti)

        # Give each file the kind furthest behind its share of the bytes.
        done = {k[0]: 0 for k in KINDS}
        total = 0
        for i, n in enumerate(file_sizes(rng, size)):
            total += n
            kind, _, exts = max(KINDS, key=lambda k: k[1] * total - done[k[0]])
            done[kind] += n
            data = getattr(gen, kind)(n)
            d = "%s/pkg%03d" % (DIRS[rng.randrange(len(DIRS))],
                                rng.randrange(200))
            add_dir(d)
            ti = tarfile.TarInfo("%s/f%05d.%s" % (
                d, i, exts[rng.randrange(len(exts))]))
            ti.size = len(data)
            ti.mode = 0o755 if kind == "code" else 0o644
            ti.mtime = EPOCH
            ti.uname = ti.gname = "root"
            tar.addfile(ti, io.BytesIO(data))
    sink.finish()
    return {"digest": "sha256:" + sink.comp.hexdigest(),
            "size": sink.comp_size,
            "diff_id": "sha256:" + sink.raw.hexdigest(),
            "uncompressed": sink.raw_size}


def put_blob(root, data):
    d = hashlib.sha256(data).hexdigest()
    p = os.path.join(root, "blobs", "sha256", d)
    with open(p + ".tmp", "wb") as f:
        f.write(data)
    os.rename(p + ".tmp", p)
    return "sha256:" + d


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--tag", required=True)
    ap.add_argument("--layer", action="append", required=True)
    ap.add_argument("--seed", default="0")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--platform", default="linux/amd64")
    args = ap.parse_args()

    blobs = os.path.join(args.dir, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)
    with open(os.path.join(args.dir, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)

    jobs = [(os.path.join(blobs, "layer%d.tmp" % i),
             "%s/%d" % (args.seed, i), parse_size(s))
            for i, s in enumerate(args.layer)]
    if args.jobs > 1 and len(jobs) > 1:
        # Largest first, so the workers finish together.
        order = sorted(range(len(jobs)), key=lambda i: -jobs[i][2])
        with multiprocessing.Pool(min(args.jobs, len(jobs))) as pool:
            done = pool.map(build_layer, [jobs[i] for i in order],
                            chunksize=1)
        layers = [None] * len(jobs)
        for i, l in zip(order, done):
            layers[i] = l
    else:
        layers = [build_layer(j) for j in jobs]
    for (tmp, _, _), l in zip(jobs, layers):
        os.rename(tmp, os.path.join(blobs, l["digest"][7:]))

    parts = args.platform.split("/")
    config = {"created": CREATED, "architecture": parts[1], "os": parts[0]}
    if len(parts) > 2:
        config["variant"] = parts[2]
    config["config"] = {
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"],
        "Cmd": ["/bin/sh"]}
    config["rootfs"] = {"type": "layers",
                        "diff_ids": [l["diff_id"] for l in layers]}
    config["history"] = [{"created": CREATED,
                          "created_by": "genimage layer %d" % i}
                         for i in range(len(layers))]
    cbytes = json.dumps(config, separators=(",", ":")).encode()
    manifest = {
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG,
                   "digest": put_blob(args.dir, cbytes), "size": len(cbytes)},
        "layers": [{"mediaType": OCI_LAYER, "digest": l["digest"],
                    "size": l["size"]} for l in layers]}
    mbytes = json.dumps(manifest, separators=(",", ":")).encode()
    top = {"mediaType": OCI_MANIFEST, "digest": put_blob(args.dir, mbytes),
           "size": len(mbytes)}
    index = {"schemaVersion": 2, "manifests": [dict(
        top, annotations={"org.opencontainers.image.ref.name": args.tag})]}
    with open(os.path.join(args.dir, "index.json.tmp"), "w") as f:
        json.dump(index, f)
    os.rename(os.path.join(args.dir, "index.json.tmp"),
              os.path.join(args.dir, "index.json"))

    out = dict(top)
    out["layers"] = [{k: l[k] for k in ("digest", "size", "diff_id")}
                     for l in layers]
    out["uncompressed"] = sum(l["uncompressed"] for l in layers)
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
