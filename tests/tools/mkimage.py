#!/usr/bin/env python3
"""Write a generated container image into an OCI image layout.

    mkimage.py DIR --tag TAG [--layer SIZE[@SEED]]... [--files N] [--seed S]
               [--platform OS/ARCH[/VARIANT] | --platforms P1,P2,...]
               [--env K=V]...

Each --layer is a gzip-compressed tar of N generated files whose contents
add up to about SIZE bytes (suffixes k and m: 1024-based). The contents are
deterministic from the image seed and the layer's position, or from an
explicit @SEED, so two images that name the same layer seed share that layer
byte for byte. File contents are partly compressible: random runs mixed with
repeated text.

With --platforms the tag points to an image index holding one image per
platform (each platform gets its own layer contents). Media types are OCI;
for Docker schema2 in a registry, push with `skopeo copy --format v2s2`.

DIR may already hold a layout: blobs are added and the tag is added to (or
replaced in) index.json. The script prints a JSON summary on stdout:
    {"digest": top-level digest, "mediaType": ..., "size": ...,
     "images": [{"platform": "os/arch[/variant]", "digest", "size",
                 "config": {digest, size},
                 "layers": [{digest, size, diff_id, raw_size}]}]}
Only the Python standard library is used.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import random
import sys
import tarfile

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"

WORDS = (b"berth registry layer manifest config digest platform index blob "
         b"tag pull push store lorem ipsum dolor sit amet consectetur ").split()

# A fixed timestamp keeps everything reproducible.
EPOCH = 1704067200  # 2024-01-01T00:00:00Z
CREATED = "2024-01-01T00:00:00Z"


def parse_size(text):
    text = text.strip().lower()
    mult = 1
    if text.endswith("k"):
        mult, text = 1024, text[:-1]
    elif text.endswith("m"):
        mult, text = 1024 * 1024, text[:-1]
    return int(float(text) * mult)


def content(rng, size):
    """About half random bytes, half repeated words, in runs."""
    out = bytearray()
    while len(out) < size:
        run = rng.randint(64, 4096)
        if rng.random() < 0.5:
            out += rng.randbytes(run)
        else:
            w = WORDS[rng.randrange(len(WORDS))]
            out += (w + b" ") * (run // (len(w) + 1) + 1)
    return bytes(out[:size])


def layer_tar(seed, size, nfiles):
    """An uncompressed tar stream of generated files, deterministic."""
    rng = random.Random(seed)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        def add_dir(name):
            ti = tarfile.TarInfo(name)
            ti.type = tarfile.DIRTYPE
            ti.mode = 0o755
            ti.mtime = EPOCH
            tar.addfile(ti)
        top = "data/%s" % hashlib.sha256(str(seed).encode()).hexdigest()[:8]
        add_dir("data")
        add_dir(top)
        per = max(size // max(nfiles, 1), 0)
        for i in range(nfiles):
            n = per if i < nfiles - 1 else size - per * (nfiles - 1)
            data = content(rng, max(n, 0))
            ti = tarfile.TarInfo("%s/file%03d.bin" % (top, i))
            ti.size = len(data)
            ti.mode = 0o644
            ti.mtime = EPOCH
            tar.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def gz(data):
    out = io.BytesIO()
    # mtime=0 and no file name: the same input always gives the same bytes.
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0,
                       compresslevel=6) as f:
        f.write(data)
    return out.getvalue()


class Layout:
    def __init__(self, path):
        self.path = path
        os.makedirs(os.path.join(path, "blobs", "sha256"), exist_ok=True)
        lay = os.path.join(path, "oci-layout")
        if not os.path.exists(lay):
            with open(lay, "w") as f:
                json.dump({"imageLayoutVersion": "1.0.0"}, f)

    def put(self, data):
        d = hashlib.sha256(data).hexdigest()
        p = os.path.join(self.path, "blobs", "sha256", d)
        if not os.path.exists(p):
            tmp = p + ".tmp"
            with open(tmp, "wb") as f:
                f.write(data)
            os.rename(tmp, p)
        return "sha256:" + d

    def set_tag(self, tag, desc):
        ip = os.path.join(self.path, "index.json")
        idx = {"schemaVersion": 2, "manifests": []}
        if os.path.exists(ip):
            with open(ip) as f:
                idx = json.load(f)
        keep = [m for m in idx.get("manifests", [])
                if m.get("annotations", {}).get(
                    "org.opencontainers.image.ref.name") != tag]
        d = dict(desc)
        d["annotations"] = {"org.opencontainers.image.ref.name": tag}
        keep.append(d)
        idx["manifests"] = keep
        with open(ip + ".tmp", "w") as f:
            json.dump(idx, f, indent=1)
        os.rename(ip + ".tmp", ip)


def platform_dict(p):
    parts = p.split("/")
    if len(parts) not in (2, 3):
        sys.exit("mkimage: bad platform %r" % p)
    d = {"os": parts[0], "architecture": parts[1]}
    if len(parts) == 3:
        d["variant"] = parts[2]
    return d


def canonical(obj):
    return json.dumps(obj, separators=(",", ":"), sort_keys=False).encode()


def build_image(lay, args, plat, layer_specs):
    mt = (OCI_MANIFEST, OCI_CONFIG, OCI_LAYER)
    layers, diff_ids, history, raw_sizes = [], [], [], []
    for i, (size, lseed) in enumerate(layer_specs):
        seed = lseed if lseed is not None else "%s/%s/%d" % (args.seed, plat, i)
        raw = layer_tar(seed, size, args.files)
        comp = gz(raw)
        dig = lay.put(comp)
        diff = "sha256:" + hashlib.sha256(raw).hexdigest()
        layers.append({"mediaType": mt[2], "digest": dig, "size": len(comp)})
        diff_ids.append(diff)
        raw_sizes.append(len(raw))
        history.append({"created": CREATED,
                        "created_by": "mkimage layer %d seed %s" % (i, seed)})
    pd = platform_dict(plat)
    env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "BERTH_TEST_SEED=%s" % args.seed] + list(args.env)
    config = {"created": CREATED, "architecture": pd["architecture"],
              "os": pd["os"]}
    if "variant" in pd:
        config["variant"] = pd["variant"]
    config["config"] = {"Env": env, "Cmd": ["/bin/sh"],
                        "WorkingDir": "/data",
                        "Labels": {"org.example.seed": str(args.seed)}}
    config["rootfs"] = {"type": "layers", "diff_ids": diff_ids}
    config["history"] = history
    cbytes = canonical(config)
    cdig = lay.put(cbytes)
    manifest = {"schemaVersion": 2, "mediaType": mt[0],
                "config": {"mediaType": mt[1], "digest": cdig,
                           "size": len(cbytes)},
                "layers": layers}
    mbytes = canonical(manifest)
    mdig = lay.put(mbytes)
    return {"platform": plat, "mediaType": mt[0], "digest": mdig,
            "size": len(mbytes),
            "config": {"digest": cdig, "size": len(cbytes)},
            "layers": [{"digest": l["digest"], "size": l["size"],
                        "diff_id": d, "raw_size": r}
                       for l, d, r in zip(layers, diff_ids, raw_sizes)]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--tag", required=True)
    ap.add_argument("--layer", action="append", default=[],
                    help="SIZE[@SEED], repeatable (default: one 64k layer)")
    ap.add_argument("--files", type=int, default=3)
    ap.add_argument("--seed", default="0")
    ap.add_argument("--platform", default="linux/amd64")
    ap.add_argument("--platforms", default=None,
                    help="comma-separated: write an index")
    ap.add_argument("--env", action="append", default=[])
    args = ap.parse_args()

    specs = []
    for s in args.layer or ["64k"]:
        size, _, lseed = s.partition("@")
        specs.append((parse_size(size), lseed or None))

    lay = Layout(args.dir)
    if args.platforms:
        plats = [p for p in args.platforms.split(",") if p]
        images = [build_image(lay, args, p, specs) for p in plats]
        idx = {"schemaVersion": 2,
               "mediaType": OCI_INDEX,
               "manifests": [{"mediaType": im["mediaType"],
                              "digest": im["digest"], "size": im["size"],
                              "platform": platform_dict(im["platform"])}
                             for im in images]}
        ib = canonical(idx)
        top = {"mediaType": idx["mediaType"], "digest": lay.put(ib),
               "size": len(ib)}
    else:
        images = [build_image(lay, args, args.platform, specs)]
        top = {"mediaType": images[0]["mediaType"],
               "digest": images[0]["digest"], "size": images[0]["size"]}
    lay.set_tag(args.tag, top)
    out = dict(top)
    out["images"] = images
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
