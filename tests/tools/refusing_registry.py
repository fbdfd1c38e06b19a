#!/usr/bin/env python3
"""A registry that refuses what is pushed to it, for client tests.

    refusing_registry.py PORT --log FILE

Listens on 127.0.0.1:PORT. Every blob HEAD answers 404 (so a client
uploads), and each repository refuses the upload its own way:

  refuse/unauthorized  POST uploads answer 401 with a Basic challenge
  refuse/denied        POST uploads answer 403 DENIED
  refuse/toobig        POST opens an upload; the PUT answers 413
  refuse/limited       POST uploads answer 429 with Retry-After: 37

Manifest PUTs answer 201 (a client that sends one after a refused blob
has tagged a half-copied image: the log shows it). One line per request
is appended to FILE: METHOD PATH STATUS.
Only the Python standard library is used.
"""

import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def errors(code, message):
    return json.dumps({"errors": [{"code": code, "message": message}]}).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def log_req(self, status):
        with open(self.server.log, "a") as f:
            f.write("%s %s %d\n" % (self.command, self.path, status))

    def answer(self, status, body=b"", headers=()):
        self.log_req(status)
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if body:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def drain(self):
        n = int(self.headers.get("Content-Length") or 0)
        while n > 0:
            chunk = self.rfile.read(min(n, 65536))
            if not chunk:
                break
            n -= len(chunk)

    def repo(self):
        p = self.path.split("?")[0]
        parts = p.split("/")
        return "/".join(parts[2:4]) if len(parts) > 3 else ""

    def do_GET(self):
        if self.path == "/v2/":
            return self.answer(200, b"{}")
        self.answer(404, errors("MANIFEST_UNKNOWN", "unknown"))

    def do_HEAD(self):
        if self.path == "/v2/":
            return self.answer(200)
        self.answer(404)

    def do_POST(self):
        self.drain()
        repo = self.repo()
        if repo == "refuse/unauthorized":
            return self.answer(401, errors("UNAUTHORIZED", "authentication "
                                           "required"),
                               [("WWW-Authenticate", 'Basic realm="test"')])
        if repo == "refuse/denied":
            return self.answer(403, errors("DENIED", "requested access to "
                                           "the resource is denied"))
        if repo == "refuse/limited":
            return self.answer(429, errors("TOOMANYREQUESTS", "slow down"),
                               [("Retry-After", "37")])
        self.answer(202, headers=[("Location", "/v2/%s/blobs/uploads/u1"
                                   % repo)])

    def do_PUT(self):
        self.drain()
        if "/manifests/" in self.path:
            return self.answer(201)
        self.answer(413, errors("SIZE_INVALID", "blob too large"))

    def do_DELETE(self):
        self.answer(204)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.log = a.log
    srv.daemon_threads = True
    srv.serve_forever()


if __name__ == "__main__":
    main()
