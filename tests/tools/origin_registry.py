#!/usr/bin/env python3
"""A registry whose URLs lead to another origin, and a collector there.

    origin_registry.py PORT COLLECTOR_PORT --log FILE

The registry on 127.0.0.1:PORT wants Basic credentials (any user and
password) for everything, and serves repository "away" with the tag "v1"
(a generated one-layer image). Each URL it hands out points at the
collector on 127.0.0.1:COLLECTOR_PORT:

  GET  /v2/away/tags/list        tag "v1" and `Link: rel="next"` to the
                                 collector, which serves tag "v2"
  POST /v2/away/blobs/uploads/   202 with a Location on the collector, which
                                 accepts the PUT ?digest=
  GET  /v2/away/blobs/<layer>    307 to the collector, which serves it

HEAD of a blob answers 404 (so a push uploads), PUT of a manifest 201.
One line per request to either server is appended to FILE:
    registry|collector METHOD PATH auth=yes|no
The collector never asks for credentials. Only the Python standard library
is used.
"""

import argparse
import hashlib
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mkimage  # noqa: E402
import regserve  # noqa: E402


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def make_image():
    raw = mkimage.layer_tar("origin/away/0", 4000, 1)
    layer = mkimage.gz(raw)
    cfg = mkimage.canonical({
        "created": mkimage.CREATED, "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [sha(raw)]}})
    manifest = mkimage.canonical({
        "schemaVersion": 2, "mediaType": mkimage.OCI_MANIFEST,
        "config": {"mediaType": mkimage.OCI_CONFIG, "digest": sha(cfg),
                   "size": len(cfg)},
        "layers": [{"mediaType": mkimage.OCI_LAYER, "digest": sha(layer),
                    "size": len(layer)}]})
    return manifest, sha(cfg), cfg, sha(layer), layer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send(self, status, body=b"", ctype="application/json", headers=None):
        srv = self.server
        with srv.log_lock, open(srv.log_path, "a") as f:
            f.write("%s %s %s auth=%s\n" % (
                srv.role, self.command, self.path,
                "yes" if self.headers.get("Authorization") else "no"))
        regserve.answer(self, status, body, ctype, headers)

    def drain(self):
        n = int(self.headers.get("Content-Length") or 0)
        while n > 0:
            got = self.rfile.read(min(n, 65536))
            if not got:
                break
            n -= len(got)

    def do_GET(self):
        self.route()

    def do_HEAD(self):
        self.route()

    def do_POST(self):
        self.drain()
        self.route()

    def do_PUT(self):
        self.drain()
        self.route()

    def do_PATCH(self):
        self.drain()
        self.route()

    def do_DELETE(self):
        self.route()

    def route(self):
        if self.server.role == "registry":
            self.registry()
        else:
            self.collector()

    def registry(self):
        st = self.server.state
        path = self.path.partition("?")[0]
        if not self.headers.get("Authorization", "").startswith("Basic "):
            return self.send(401, b'{"errors":[{"code":"UNAUTHORIZED",'
                             b'"message":"authentication required"}]}',
                             headers={"WWW-Authenticate":
                                      'Basic realm="origin"'})
        away = "http://127.0.0.1:%d" % st["collector_port"]
        if path in ("/v2", "/v2/"):
            return self.send(200, b"{}")
        if path == "/v2/away/tags/list":
            return self.send(200, b'{"name":"away","tags":["v1"]}', headers={
                "Link": '<%s/v2/away/tags/list?last=v1>; rel="next"' % away})
        if path == "/v2/away/blobs/uploads/" and self.command == "POST":
            return self.send(202, headers={
                "Location": "%s/upload/1" % away})
        if path.startswith("/v2/away/manifests/"):
            if self.command == "PUT":
                return self.send(201, headers={
                    "Location": path, "Docker-Content-Digest": st["digest"]})
            return self.send(200, st["manifest"], mkimage.OCI_MANIFEST,
                             {"Docker-Content-Digest": st["digest"]})
        if path.startswith("/v2/away/blobs/"):
            d = path[len("/v2/away/blobs/"):]
            if self.command == "HEAD" or d not in st["blobs"]:
                return self.send(404, b'{"errors":[{"code":"BLOB_UNKNOWN",'
                                 b'"message":"blob unknown"}]}')
            if d == st["layer"]:
                return self.send(307, headers={
                    "Location": "%s/storage/%s" % (away, d)})
            return self.send(200, st["blobs"][d], "application/octet-stream")
        return self.send(404, b'{"errors":[{"code":"NAME_UNKNOWN",'
                         b'"message":"unknown"}]}')

    def collector(self):
        st = self.server.state
        path = self.path.partition("?")[0]
        if path == "/v2/away/tags/list":
            return self.send(200, b'{"name":"away","tags":["v2"]}')
        if path == "/upload/1" and self.command == "PUT":
            return self.send(201, headers={"Location": "/v2/away/blobs/x"})
        if path.startswith("/storage/"):
            d = path[len("/storage/"):]
            if d in st["blobs"]:
                return self.send(200, st["blobs"][d],
                                 "application/octet-stream")
        return self.send(404, b'{"errors":[{"code":"NOT_FOUND",'
                         b'"message":"not found"}]}')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("port", type=int)
    ap.add_argument("collector_port", type=int)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    manifest, cd, cfg, ld, layer = make_image()
    state = {"collector_port": args.collector_port, "manifest": manifest,
             "digest": sha(manifest), "layer": ld,
             "blobs": {cd: cfg, ld: layer}}
    lock = threading.Lock()
    servers = []
    for role, port in (("registry", args.port),
                       ("collector", args.collector_port)):
        srv = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        srv.daemon_threads = True
        srv.role, srv.state, srv.log_path, srv.log_lock = \
            role, state, args.log, lock
        servers.append(srv)
    threading.Thread(target=servers[1].serve_forever, daemon=True).start()
    servers[0].serve_forever()


if __name__ == "__main__":
    main()
