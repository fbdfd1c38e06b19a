#!/usr/bin/env python3
"""A reverse proxy in front of a registry that breaks blob downloads, for
tests of mirrors fallback and resumable pulls.

    cut_proxy.py PORT UPSTREAM_HOST:PORT [--cut FRACTION] [--cuts N]
                 [--min-size BYTES] [--mode close|stall] [--log FILE]

Listens on 127.0.0.1:PORT and forwards every request to the upstream
registry (plain HTTP). The first N (--cuts, default 1; 0 = none) blob GETs
whose body is at least --min-size bytes get their headers (announcing the
full length) and only FRACTION (--cut, default 0.5) of their body; then the
connection is closed (--mode close) or left hanging (--mode stall).

Other misbehaviour, on manifest requests (GET and HEAD):
    --fail-status CODE --fail-count N   answer the first N with CODE
    --retry-after VALUE                 ... carrying this Retry-After
    --ratelimit LIMIT --remaining REM   add RateLimit-Limit/-Remaining
                                        headers ("100;w=21600") to all

On blob HEAD requests: --blob-head-delay SECONDS holds each that long, and
the log line gets "inflight=N", how many blob HEADs were being held at once
(to observe a client's concurrency). With --blob-head-hold N, a HEAD is
held until N are held at once (then all go on), the delay being only the
bound for a client that never sends that many: so a client that does run
N at once is seen doing so however slow the machine is.

With --log, one line per request is appended to FILE:
    METHOD PATH STATUS sent=BYTES range=RANGE|- cut=yes|no
where BYTES counts the body bytes sent to the client. Only the Python
standard library is used.
"""

import argparse
import http.client
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer",
       "upgrade", "proxy-authorization", "proxy-authenticate"}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("upstream")
    p.add_argument("--cut", type=float, default=0.5)
    p.add_argument("--cuts", type=int, default=1)
    p.add_argument("--min-size", type=int, default=1)
    p.add_argument("--mode", choices=["close", "stall"], default="close")
    p.add_argument("--log")
    p.add_argument("--fail-status", type=int, default=0)
    p.add_argument("--fail-count", type=int, default=0)
    p.add_argument("--retry-after")
    p.add_argument("--ratelimit")
    p.add_argument("--remaining")
    p.add_argument("--blob-head-delay", type=float, default=0)
    p.add_argument("--blob-head-hold", type=int, default=0)
    args = p.parse_args()
    state = {"cuts": args.cuts, "fails": args.fail_count, "heads": 0,
             "released": 0}
    lock = threading.Lock()
    held = threading.Condition(lock)

    def log(line):
        if args.log:
            with lock, open(args.log, "a") as f:
                f.write(line + "\n")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def quota(self):
            if args.ratelimit:
                self.send_header("RateLimit-Limit", args.ratelimit)
            if args.remaining:
                self.send_header("RateLimit-Remaining", args.remaining)

        def forward(self):
            n = int(self.headers.get("Content-Length", "0") or 0)
            body = self.rfile.read(n) if n else None
            manifest = "/manifests/" in self.path
            fail = False
            if manifest and args.fail_status:
                with lock:
                    if state["fails"] > 0:
                        state["fails"] -= 1
                        fail = True
            if fail:
                msg = b'{"errors":[{"code":"TOOMANYREQUESTS",' \
                      b'"message":"injected failure"}]}'
                self.send_response(args.fail_status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(msg)))
                if args.retry_after:
                    self.send_header("Retry-After", args.retry_after)
                self.quota()
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(msg)
                log("%s %s %d sent=0 range=- cut=no" % (
                    self.command, self.path, args.fail_status))
                return
            inflight = None
            if (args.blob_head_delay and self.command == "HEAD" and
                    "/blobs/" in self.path):
                with lock:
                    state["heads"] += 1
                    inflight = state["heads"]
                if args.blob_head_hold:
                    with held:
                        batch = state["released"]
                        if state["heads"] >= args.blob_head_hold:
                            state["released"] += 1
                            held.notify_all()
                        else:
                            held.wait_for(
                                lambda: state["released"] != batch,
                                timeout=args.blob_head_delay)
                    # a little longer, so one HEAD too many is seen
                    time.sleep(0.2)
                else:
                    time.sleep(args.blob_head_delay)
                with lock:
                    inflight = max(inflight, state["heads"])
                    state["heads"] -= 1
            hdrs = {k: v for k, v in self.headers.items()
                    if k.lower() not in HOP and k.lower() != "host"}
            hdrs["Host"] = args.upstream
            up = http.client.HTTPConnection(args.upstream, timeout=60)
            up.request(self.command, self.path, body=body, headers=hdrs)
            resp = up.getresponse()
            length = resp.getheader("Content-Length")
            is_blob = ("/blobs/sha256:" in self.path and
                       self.command == "GET" and resp.status in (200, 206))
            cut = False
            if is_blob and length and int(length) >= args.min_size:
                with lock:
                    if state["cuts"] > 0:
                        state["cuts"] -= 1
                        cut = True
            self.send_response_only(resp.status, resp.reason)
            for k, v in resp.getheaders():
                if k.lower() not in HOP:
                    self.send_header(k, v)
            if manifest:
                self.quota()
            if length is None and self.command != "HEAD":
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            sent = 0
            limit = int(int(length) * args.cut) if cut else None
            if self.command != "HEAD":
                while True:
                    chunk = resp.read(65536)
                    if not chunk:
                        break
                    if limit is not None and sent + len(chunk) >= limit:
                        chunk = chunk[:limit - sent]
                        self.wfile.write(chunk)
                        sent += len(chunk)
                        self.wfile.flush()
                        break
                    self.wfile.write(chunk)
                    sent += len(chunk)
            up.close()
            log("%s %s %d sent=%d range=%s cut=%s%s" % (
                self.command, self.path, resp.status, sent,
                self.headers.get("Range", "-"), "yes" if cut else "no",
                "" if inflight is None else " inflight=%d" % inflight))
            if cut:
                if args.mode == "stall":
                    time.sleep(3600)
                self.close_connection = True
                try:
                    self.connection.shutdown(2)
                except OSError:
                    pass

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = forward

    httpd = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    httpd.daemon_threads = True
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
