#!/usr/bin/env python3
"""A webhook receiver for berth serve's event tests.

    event_receiver.py PORT OUT [--mode ok|fail|hang]

Listens on 127.0.0.1:PORT. Every POST is recorded as one JSON line in OUT:
{"path":…, "headers":{…}, "body":<the parsed JSON body>}, written and
flushed before the answer. Modes: ok answers 200, fail answers 500, hang
records the request and then never answers (the connection stays open
until the process ends). OUT.ready is created once it listens.
"""

import argparse
import http.server
import json
import socketserver
import threading

FOREVER = threading.Event()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("out")
    ap.add_argument("--mode", choices=["ok", "fail", "hang"], default="ok")
    args = ap.parse_args()
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(n)
            try:
                body = json.loads(raw)
            except ValueError:
                body = {"unparsed": raw.decode("utf-8", "replace")}
            rec = {"path": self.path,
                   "headers": {k.lower(): v for k, v in self.headers.items()},
                   "body": body}
            with lock, open(args.out, "a") as f:
                f.write(json.dumps(rec) + "\n")
                f.flush()
            if args.mode == "hang":
                FOREVER.wait()
            status = 200 if args.mode == "ok" else 500
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, fmt, *a):
            pass

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        allow_reuse_address = True

    srv = Server(("127.0.0.1", args.port), Handler)
    open(args.out + ".ready", "w").close()
    srv.serve_forever()


if __name__ == "__main__":
    main()
