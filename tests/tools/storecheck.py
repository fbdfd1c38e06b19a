#!/usr/bin/env python3
"""Inspect and verify an OCI image layout (the berth store) independently.

    storecheck.py verify STORE     every visible blob re-hashed; index.json and
                                   oci-layout parsed; every entry's manifest,
                                   config and layers present with the right
                                   size; no ref name twice. Prints problems,
                                   exits 1 if any.
    storecheck.py snapshot STORE   index.json's entries, canonical and sorted
                                   ("[]" when there is no index.json)
    storecheck.py refs STORE       the ref names, one per line (unnamed
                                   entries left out)
    storecheck.py entry STORE REF  the index.json descriptor named REF (exit 1
                                   if none)
    storecheck.py blobs STORE      "alg:hex" of every visible blob
    storecheck.py tree STORE REF   digests reachable from REF's entry
                                   (manifest, config, layers), one per line
Only the Python standard library is used.
"""

import hashlib
import json
import os
import re
import sys

REF_NAME = "org.opencontainers.image.ref.name"
HEXLEN = {"sha256": 64, "sha512": 128}
MANIFESTS = ("application/vnd.oci.image.manifest.v1+json",
             "application/vnd.docker.distribution.manifest.v2+json")


def blob_path(store, digest):
    alg, _, hexd = digest.partition(":")
    return os.path.join(store, "blobs", alg, hexd)


def visible_blobs(store):
    out = []
    root = os.path.join(store, "blobs")
    if not os.path.isdir(root):
        return out
    for alg in sorted(os.listdir(root)):
        n = HEXLEN.get(alg)
        d = os.path.join(root, alg)
        if n is None or not os.path.isdir(d):
            continue
        pat = re.compile("^[0-9a-f]{%d}$" % n)
        for name in sorted(os.listdir(d)):
            if pat.match(name) and os.path.isfile(os.path.join(d, name)):
                out.append("%s:%s" % (alg, name))
    return out


def load_index(store):
    p = os.path.join(store, "index.json")
    if not os.path.exists(p):
        return None
    with open(p, "rb") as f:
        return json.loads(f.read())


def entries(store):
    idx = load_index(store)
    return [] if idx is None else idx.get("manifests", [])


def ref_of(d):
    return (d.get("annotations") or {}).get(REF_NAME)


def file_hash(path, alg):
    h = hashlib.new(alg)
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def read_blob(store, digest):
    with open(blob_path(store, digest), "rb") as f:
        return f.read()


def tree(store, desc):
    """Digests reachable from a descriptor; raises on a missing blob."""
    out = [desc["digest"]]
    if desc.get("mediaType") in MANIFESTS or desc.get("mediaType") is None:
        m = json.loads(read_blob(store, desc["digest"]))
        if "config" in m:
            out.append(m["config"]["digest"])
            out += [l["digest"] for l in m.get("layers", [])]
    return out


def verify(store):
    problems = []
    lay = os.path.join(store, "oci-layout")
    try:
        with open(lay) as f:
            v = json.load(f).get("imageLayoutVersion")
        if not v:
            problems.append("oci-layout has no imageLayoutVersion")
    except (OSError, ValueError) as e:
        problems.append("oci-layout: %s" % e)
    for b in visible_blobs(store):
        alg, _, hexd = b.partition(":")
        got = file_hash(blob_path(store, b), alg)
        if got != hexd:
            problems.append("blob %s has content %s:%s" % (b, alg, got))
    try:
        idx = load_index(store)
    except (OSError, ValueError) as e:
        problems.append("index.json: %s" % e)
        idx = {"schemaVersion": 2, "manifests": []}
    if idx is None:
        idx = {"schemaVersion": 2, "manifests": []}
    if idx.get("schemaVersion") != 2:
        problems.append("index.json schemaVersion is %r"
                        % idx.get("schemaVersion"))
    seen = set()
    for d in idx.get("manifests", []):
        r = ref_of(d)
        if r in seen:
            problems.append("ref %r appears twice in index.json" % r)
        seen.add(r)
        p = blob_path(store, d["digest"])
        if not os.path.isfile(p):
            problems.append("%r: manifest %s missing" % (r, d["digest"]))
            continue
        if os.path.getsize(p) != d.get("size"):
            problems.append("%r: manifest %s size %d, descriptor says %r"
                            % (r, d["digest"], os.path.getsize(p),
                               d.get("size")))
        if d.get("mediaType") in MANIFESTS:
            m = json.loads(read_blob(store, d["digest"]))
            for c in [m["config"]] + m.get("layers", []):
                cp = blob_path(store, c["digest"])
                if not os.path.isfile(cp):
                    problems.append("%r: blob %s missing" % (r, c["digest"]))
                elif os.path.getsize(cp) != c["size"]:
                    problems.append("%r: blob %s has size %d, want %d"
                                    % (r, c["digest"], os.path.getsize(cp),
                                       c["size"]))
    for p in problems:
        print(p)
    return 1 if problems else 0


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cmd, store = sys.argv[1], sys.argv[2]
    if cmd == "verify":
        sys.exit(verify(store))
    if cmd == "snapshot":
        es = sorted((json.dumps(e, sort_keys=True) for e in entries(store)))
        print("[" + ",".join(es) + "]")
    elif cmd == "refs":
        for e in entries(store):
            if ref_of(e) is not None:  # an unnamed entry names nothing
                print(ref_of(e))
    elif cmd == "entry":
        for e in entries(store):
            if ref_of(e) == sys.argv[3]:
                print(json.dumps(e, sort_keys=True))
                return
        sys.exit(1)
    elif cmd == "blobs":
        for b in visible_blobs(store):
            print(b)
    elif cmd == "tree":
        for e in entries(store):
            if ref_of(e) == sys.argv[3]:
                for d in tree(store, e):
                    print(d)
                return
        sys.exit(1)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
