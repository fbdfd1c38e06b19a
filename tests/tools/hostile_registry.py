#!/usr/bin/env python3
"""A small registry that misbehaves on purpose, for client tests.

    hostile_registry.py PORT [--log FILE] [--platform OS/ARCH[/VARIANT]]
                        [--layout REPO=DIR]... [--release FILE]

Listens on 127.0.0.1:PORT and speaks just enough of the distribution API
(GET/HEAD /v2/, manifests, blobs; tags/list) to serve these repositories,
each with the tag "v1" (images are generated at start, deterministically):

  hostile/good      a correct two-layer image (control case)
  hostile/badblob   layer 2's bytes do not match its digest (same length)
  hostile/cutoff    an 8 MiB layer whose response announces its full
                    Content-Length, sends half and closes the connection
  hostile/badsize   a layer served in full and matching its digest, but the
                    manifest's descriptor gives a size 100 bytes smaller
  hostile/liesize   hostile/good's blobs, but the manifest gives its last
                    layer a size 100 bytes smaller (pull hostile/good first
                    and the layer is "already" in the store)
  hostile/schema1   a Docker schema 1 (signed) manifest
  hostile/huge      a manifest of 5 MiB
  hostile/error500  every manifest request answers 500
  hostile/redirect  a correct image whose blob GETs answer 307 to
                    /storage/<hex> (as object-storage backends do)
  hostile/slow      a correct image with one 4 MiB layer sent at ~1 MB/s
  hostile/trickle   a correct image whose layer is sent at 2.5 bytes/s (a
                    byte every 0.4 s), until the client gives up
  hostile/parallel  a correct image with four 256 KiB layers, each sent
                    at ~512 KB/s, so concurrent downloads overlap
  hostile/many      tags t1..t5; tags/list always paginates 2 per page with
                    a Link header
  hostile/held      a correct image whose 1 MiB layer is sent half, then
                    held until the file given with --release exists
  hostile/limited   every manifest and blob request answers 429
                    TOOMANYREQUESTS with Retry-After: 37

--layout serves the image tagged "v1" in the OCI image layout DIR (as
mkimage.py writes it) as repository REPO, correctly: an image too large
to push quickly (a thousand layers) is served from where it was made.

With --log, one line per request is appended to FILE:
    METHOD PATH STATUS inflight=N
where N counts blob GETs being served at the moment this one started.
Only the Python standard library is used.
"""

import argparse
import hashlib
import json
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mkimage  # noqa: E402
import regserve  # noqa: E402

OCI_MANIFEST = mkimage.OCI_MANIFEST
SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+prettyjws"


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


class Image:
    """A generated image: manifest bytes and blobs by digest."""

    def __init__(self, seed, sizes, platform, files=2, size_delta=None):
        self.blobs = {}
        layers, diffs = [], []
        for i, size in enumerate(sizes):
            raw = mkimage.layer_tar("hostile/%s/%d" % (seed, i), size, files)
            comp = mkimage.gz(raw)
            d = sha(comp)
            self.blobs[d] = comp
            layers.append({"mediaType": mkimage.OCI_LAYER, "digest": d,
                           "size": len(comp)})
            diffs.append(sha(raw))
        pd = mkimage.platform_dict(platform)
        cfg = {"created": mkimage.CREATED, "architecture": pd["architecture"],
               "os": pd["os"]}
        if "variant" in pd:
            cfg["variant"] = pd["variant"]
        cfg["config"] = {"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["/bin/sh"]}
        cfg["rootfs"] = {"type": "layers", "diff_ids": diffs}
        cb = mkimage.canonical(cfg)
        self.config = sha(cb)
        self.blobs[self.config] = cb
        self.layers = layers
        if size_delta:
            layers[-1] = dict(layers[-1], size=layers[-1]["size"] + size_delta)
        m = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
             "config": {"mediaType": mkimage.OCI_CONFIG,
                        "digest": self.config, "size": len(cb)},
             "layers": layers}
        self.manifest = mkimage.canonical(m)
        self.media_type = OCI_MANIFEST
        self.digest = sha(self.manifest)


class LayoutImage:
    """The image tagged v1 in an OCI image layout, its blobs read lazily."""

    def __init__(self, path):
        self.path = path
        with open(os.path.join(path, "index.json")) as f:
            idx = json.load(f)
        top = [m for m in idx["manifests"] if m.get("annotations", {}).get(
            "org.opencontainers.image.ref.name") == "v1"][0]
        self.digest = top["digest"]
        self.media_type = top["mediaType"]
        self.manifest = self.read(self.digest)
        self.config = json.loads(self.manifest)["config"]["digest"]
        self.blobs = BlobDir(self)

    def read(self, d):
        with open(os.path.join(self.path, "blobs", "sha256",
                               d.split(":", 1)[1]), "rb") as f:
            return f.read()


class BlobDir:
    def __init__(self, im):
        self.im = im

    def __contains__(self, d):
        return d.startswith("sha256:") and all(
            c in "0123456789abcdef" for c in d[7:]) and os.path.isfile(
            os.path.join(self.im.path, "blobs", "sha256", d[7:]))

    def __getitem__(self, d):
        return self.im.read(d)

    def items(self):
        return []


def schema1_manifest():
    body = {
        "schemaVersion": 1, "name": "hostile/schema1", "tag": "v1",
        "architecture": "amd64",
        "fsLayers": [{"blobSum": "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d"
                                 "633cb16422d00e8a7c22955b46d4"}],
        "history": [{"v1Compatibility": json.dumps(
            {"id": "0" * 64, "created": mkimage.CREATED,
             "architecture": "amd64", "os": "linux"})}],
        "signatures": [{"header": {"jwk": {"crv": "P-256", "kty": "EC",
                                           "x": "AAAA", "y": "AAAA"},
                                   "alg": "ES256"},
                        "signature": "AAAA", "protected": "AAAA"}],
    }
    return json.dumps(body, indent=3).encode()


class State:
    def __init__(self, platform):
        self.lock = threading.Lock()
        self.inflight = 0
        self.repos = {}
        good = Image("good", [20000, 30000], platform)
        self.repos["hostile/good"] = good
        bad = Image("badblob", [20000, 30000], platform)
        bad.serve_override = {}
        d = bad.layers[1]["digest"]
        real = bad.blobs[d]
        bad.serve_override[d] = bytes(b ^ 0x5A for b in real)
        self.repos["hostile/badblob"] = bad
        self.repos["hostile/cutoff"] = Image("cutoff", [8 << 20], platform,
                                             files=1)
        self.repos["hostile/badsize"] = Image("badsize", [20000, 30000],
                                              platform, size_delta=-100)
        self.repos["hostile/liesize"] = Image("good", [20000, 30000],
                                              platform, size_delta=-100)
        self.repos["hostile/redirect"] = Image("redirect", [20000, 30000],
                                               platform)
        self.repos["hostile/slow"] = Image("slow", [4 << 20], platform,
                                           files=1)
        self.repos["hostile/trickle"] = Image("trickle", [4000], platform,
                                              files=1)
        self.repos["hostile/parallel"] = Image(
            "parallel", [256 << 10] * 4, platform, files=1)
        s1 = Image("schema1", [1000], platform)
        s1.manifest = schema1_manifest()
        s1.media_type = SCHEMA1
        s1.digest = sha(s1.manifest)
        self.repos["hostile/schema1"] = s1
        huge = Image("huge", [1000], platform)
        m = json.loads(huge.manifest)
        m["annotations"] = {"org.example.padding": "x" * (5 << 20)}
        huge.manifest = mkimage.canonical(m)
        huge.digest = sha(huge.manifest)
        self.repos["hostile/huge"] = huge
        self.repos["hostile/held"] = Image("held", [1 << 20], platform,
                                           files=1)
        self.repos["hostile/limited"] = good
        self.repos["hostile/error500"] = good
        self.repos["hostile/many"] = good
        # Every blob can also be fetched from /storage/<hex> (redirect target).
        self.storage = {}
        for im in self.repos.values():
            for d, b in im.blobs.items():
                self.storage[d.split(":", 1)[1]] = b


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hostile-registry/1"

    def log_message(self, fmt, *args):
        pass

    def log_req(self, status, inflight=0):
        path = self.server.log_path
        if not path:
            return
        with self.server.log_lock, open(path, "a") as f:
            f.write("%s %s %d inflight=%d\n"
                    % (self.command, self.path, status, inflight))

    def send(self, status, body=b"", ctype="application/json", headers=None,
             inflight=0):
        self.log_req(status, inflight)
        regserve.answer(self, status, body, ctype, headers)

    def error(self, status, code, msg):
        body = json.dumps({"errors": [{"code": code, "message": msg,
                                       "detail": None}]}).encode()
        self.send(status, body)

    def do_HEAD(self):
        self.route()

    def do_GET(self):
        self.route()

    def route(self):
        st = self.server.state
        path, _, query = self.path.partition("?")
        if path in ("/v2", "/v2/"):
            return self.send(200, b"{}")
        if path.startswith("/storage/"):
            b = st.storage.get(path[len("/storage/"):])
            if b is None:
                return self.error(404, "BLOB_UNKNOWN", "blob unknown")
            return self.send(200, b, "application/octet-stream")
        for name, im in st.repos.items():
            pre = "/v2/%s/" % name
            if path.startswith(pre):
                return self.repo(name, im, path[len(pre):], query)
        return self.error(404, "NAME_UNKNOWN",
                          "repository name not known to registry")

    def repo(self, name, im, rest, query):
        if rest == "tags/list":
            return self.tags(name, query)
        if rest.startswith("manifests/"):
            ref = rest[len("manifests/"):]
            if name == "hostile/error500":
                return self.error(500, "UNKNOWN", "internal error")
            if name == "hostile/limited":
                return self.limited()
            if ref not in ("v1", im.digest):
                return self.error(404, "MANIFEST_UNKNOWN", "manifest unknown")
            return self.send(200, im.manifest, im.media_type,
                             {"Docker-Content-Digest": im.digest})
        if rest.startswith("blobs/"):
            d = rest[len("blobs/"):]
            if name == "hostile/limited":
                return self.limited()
            if d not in im.blobs:
                return self.error(404, "BLOB_UNKNOWN", "blob unknown")
            return self.blob(name, im, d)
        return self.error(404, "NOT_FOUND", "not found")

    def limited(self):
        body = json.dumps({"errors": [{
            "code": "TOOMANYREQUESTS",
            "message": "You have reached your pull rate limit (hostile)",
            "detail": None}]}).encode()
        self.send(429, body, headers={"Retry-After": "37"})

    def tags(self, name, query):
        if name != "hostile/many":
            return self.send(200, json.dumps(
                {"name": name, "tags": ["v1"]}).encode())
        tags = ["t1", "t2", "t3", "t4", "t5"]
        last = None
        for kv in query.split("&"):
            k, _, v = kv.partition("=")
            if k == "last":
                last = v
        start = tags.index(last) + 1 if last in tags else 0
        page = tags[start:start + 2]
        headers = {}
        if start + 2 < len(tags):
            headers["Link"] = ('</v2/%s/tags/list?n=2&last=%s>; rel="next"'
                               % (name, page[-1]))
        return self.send(200, json.dumps({"name": name, "tags": page}).encode(),
                         headers=headers)

    def blob(self, name, im, d):
        body = getattr(im, "serve_override", {}).get(d, im.blobs[d])
        hdr = {"Docker-Content-Digest": d}
        if self.command == "HEAD":
            return self.send(200, body, "application/octet-stream", hdr)
        if name == "hostile/redirect":
            return self.send(307, b"", headers={
                "Location": "/storage/" + d.split(":", 1)[1]})
        st = self.server.state
        with st.lock:
            st.inflight += 1
            n = st.inflight
        released = False

        # A download stops counting just before its last bytes leave, so
        # the client cannot start its next request while this one counts.
        def release():
            nonlocal released
            if not released:
                released = True
                with st.lock:
                    st.inflight -= 1
        try:
            if name == "hostile/cutoff" and d != im.config:
                self.log_req(200, n)
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Docker-Content-Digest", d)
                self.end_headers()
                self.wfile.write(body[:len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            if name == "hostile/trickle" and d != im.config:
                self.log_req(200, n)
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                for i in range(len(body)):
                    self.wfile.write(body[i:i + 1])
                    self.wfile.flush()
                    time.sleep(0.4)
                return
            if name == "hostile/held" and d != im.config:
                self.log_req(200, n)
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                half = len(body) // 2
                self.wfile.write(body[:half])
                self.wfile.flush()
                end = time.time() + 600
                while not os.path.exists(self.server.release or "") \
                        and time.time() < end:
                    time.sleep(0.05)
                self.wfile.write(body[half:])
                self.wfile.flush()
                return
            if name in ("hostile/slow", "hostile/parallel") \
                    and d != im.config:
                self.log_req(200, n)
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                step, pause = (32768, 0.03) if name == "hostile/slow" \
                    else (16384, 0.03)
                for i in range(0, len(body), step):
                    if i + step >= len(body):
                        release()
                    self.wfile.write(body[i:i + step])
                    self.wfile.flush()
                    if i + step < len(body):
                        time.sleep(pause)
                return
            release()
            return self.send(200, body, "application/octet-stream", hdr, n)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            release()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("port", type=int)
    ap.add_argument("--log")
    ap.add_argument("--platform", default="linux/amd64")
    ap.add_argument("--layout", action="append", default=[])
    ap.add_argument("--release")
    args = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    srv.state = State(args.platform)
    for spec in args.layout:
        repo, _, path = spec.partition("=")
        srv.state.repos[repo] = LayoutImage(path)
    srv.log_path = args.log
    srv.release = args.release
    srv.log_lock = threading.Lock()
    srv.serve_forever()


if __name__ == "__main__":
    main()
