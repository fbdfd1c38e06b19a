#!/usr/bin/env python3
"""A token server for Docker's registry token authentication, for tests.

    token_server.py PORT --dir DIR [--service NAME] [--issuer NAME]
                    [--user NAME:PASSWORD]... [--anonymous-pull]
                    [--refresh-token NAME:TOKEN]... [--expires-in SECONDS]
                    [--access-token-field] [--log FILE]

Listens on 127.0.0.1:PORT and answers
  GET  /token?service=S&scope=A&scope=B   (Basic credentials optional)
  POST /token   grant_type=refresh_token&refresh_token=T&service=S&scope=A
                (docker's OAuth2 form, for identity tokens)
with {"token": JWT, "expires_in": N, "issued_at": ...} (or "access_token"
with --access-token-field). Tokens are RS256 JWTs carrying the signing
certificate in "x5c", so Debian's docker-registry trusts them with:

    auth:
      token:
        realm: http://127.0.0.1:PORT/token
        service: NAME            (--service, default "berth-test")
        issuer: NAME             (--issuer, default "berth-test-issuer")
        rootcertbundle: DIR/cert.pem

The key and self-signed certificate are made in DIR with the openssl command
if they are not there yet. Grants: a user with a valid password, or a valid
refresh token, gets every action asked for; an anonymous client gets "pull"
only with --anonymous-pull; wrong credentials get 401.

With --log, one line per token request is appended to FILE:
    METHOD user=NAME|- scope=A,B|- status=N
Credentials and tokens are never written to the log. Only the Python
standard library and the openssl command are used.
"""

import argparse
import base64
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def ensure_key(d):
    key = os.path.join(d, "key.pem")
    cert = os.path.join(d, "cert.pem")
    if not (os.path.exists(key) and os.path.exists(cert)):
        os.makedirs(d, exist_ok=True)
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
             "-keyout", key, "-out", cert, "-days", "30",
             "-subj", "/CN=berth-test-token-signer"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    der = subprocess.run(["openssl", "x509", "-in", cert, "-outform", "DER"],
                         check=True, stdout=subprocess.PIPE).stdout
    return key, der


def sign(key, data):
    return subprocess.run(["openssl", "dgst", "-sha256", "-sign", key],
                          input=data, check=True,
                          stdout=subprocess.PIPE).stdout


def parse_scope(s):
    """'repository:a/b:pull,push' -> dict, or None."""
    parts = s.split(":")
    if len(parts) < 3:
        return None
    return {"type": parts[0], "name": ":".join(parts[1:-1]),
            "actions": [a for a in parts[-1].split(",") if a]}


class Server:
    def __init__(self, args):
        self.args = args
        self.key, self.der = ensure_key(args.dir)
        self.users = dict(u.split(":", 1) for u in args.user)
        self.refresh = {t: n for n, t in
                        (r.split(":", 1) for r in args.refresh_token)}
        self.lock = threading.Lock()

    def token(self, user, scopes):
        now = int(time.time())
        access = []
        for s in scopes:
            sc = parse_scope(s)
            if sc is None:
                continue
            if user is None:
                sc["actions"] = [a for a in sc["actions"] if a == "pull"] \
                    if self.args.anonymous_pull else []
            access.append(sc)
        header = {"typ": "JWT", "alg": "RS256",
                  "x5c": [base64.b64encode(self.der).decode()]}
        claims = {"iss": self.args.issuer, "sub": user or "",
                  "aud": self.args.service, "exp": now + self.args.expires_in,
                  "nbf": now - 10, "iat": now, "jti": uuid.uuid4().hex,
                  "access": access}
        signing = (b64url(json.dumps(header).encode()) + "." +
                   b64url(json.dumps(claims).encode())).encode()
        return signing.decode() + "." + b64url(sign(self.key, signing))

    def log(self, line):
        if self.args.log:
            with self.lock, open(self.args.log, "a") as f:
                f.write(line + "\n")


def make_handler(srv):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def reply(self, status, body, user, scopes):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if status == 401:
                self.send_header("WWW-Authenticate",
                                 'Basic realm="berth-test"')
            self.end_headers()
            self.wfile.write(data)
            srv.log("%s user=%s scope=%s status=%d" % (
                self.command, user or "-", ",".join(scopes) or "-", status))

        def grant(self, user, scopes):
            tok = srv.token(user, scopes)
            field = "access_token" if srv.args.access_token_field else "token"
            self.reply(200, {field: tok, "expires_in": srv.args.expires_in,
                             "issued_at": time.strftime(
                                 "%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
                       user, scopes)

        def do_GET(self):
            u = urlsplit(self.path)
            if u.path != "/token":
                return self.reply(404, {"error": "not found"}, None, [])
            q = parse_qs(u.query)
            scopes = [s for v in q.get("scope", []) for s in v.split(" ")]
            user = None
            auth = self.headers.get("Authorization", "")
            if auth:
                if not auth.startswith("Basic "):
                    return self.reply(401, {"error": "basic only"}, "?",
                                      scopes)
                try:
                    name, pw = base64.b64decode(auth[6:]).decode().split(
                        ":", 1)
                except Exception:
                    return self.reply(401, {"error": "bad header"}, "?",
                                      scopes)
                if srv.users.get(name) != pw:
                    return self.reply(401, {"error": "bad credentials"},
                                      name, scopes)
                user = name
            self.grant(user, scopes)

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            form = parse_qs(self.rfile.read(n).decode())
            scopes = [s for v in form.get("scope", []) for s in v.split(" ")]
            if form.get("grant_type", [""])[0] != "refresh_token":
                return self.reply(400, {"error": "unsupported_grant_type"},
                                  None, scopes)
            user = srv.refresh.get(form.get("refresh_token", [""])[0])
            if user is None:
                return self.reply(401, {"error": "invalid_grant"}, "?",
                                  scopes)
            self.grant(user, scopes)

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("port", type=int)
    p.add_argument("--dir", required=True)
    p.add_argument("--service", default="berth-test")
    p.add_argument("--issuer", default="berth-test-issuer")
    p.add_argument("--user", action="append", default=[])
    p.add_argument("--refresh-token", action="append", default=[])
    p.add_argument("--anonymous-pull", action="store_true")
    p.add_argument("--expires-in", type=int, default=300)
    p.add_argument("--access-token-field", action="store_true")
    p.add_argument("--log")
    args = p.parse_args()
    srv = Server(args)
    httpd = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(srv))
    print("token server on 127.0.0.1:%d, certificate %s" %
          (args.port, os.path.join(args.dir, "cert.pem")), flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
