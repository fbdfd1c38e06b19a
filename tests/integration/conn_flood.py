#!/usr/bin/env python3
"""Connection floods against berth serve on 127.0.0.1, for t_serve_conns.sh.

  hold PORT IDLE TRICKLE ADDRS DIR
      opens IDLE idle sockets and TRICKLE sockets that send one header byte
      every 2 s, spread over the source addresses 127.0.0.2 ..
      127.0.0.(ADDRS+1); writes DIR/ready when all are connected, then
      DIR/status ("idle_alive=N trickle_alive=M") after every round, until
      DIR/stop exists.
  stall PORT N DEADLINE
      opens N idle sockets, N that trickle their headers and N that
      trickle a body (1 byte a second each), and waits until the server
      has closed every one, or DEADLINE seconds; prints "closed X of Y".
  cap PORT N SRC OTHER
      opens N connections from SRC, each answered once (kept alive); then
      one more from SRC and one from OTHER, and prints whether each got an
      answer ("extra=answered|closed|waiting other=..."), waiting up to
      60 s for the server to answer or close.

Nothing here assumes speed: every wait is for a condition, with a deadline.
"""
import os
import select
import socket
import sys
import time

REQ_HEAD = b"GET /v2/ HTTP/1.1\r\nHost: berth\r\nX-Slow: "


def connect(port, src):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(120)
    s.connect(("127.0.0.1", port))
    s.setblocking(False)
    return s


def closed_by_server(s):
    """True when the server has closed s (EOF or reset)."""
    try:
        return s.recv(4096) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def hold(port, n_idle, n_trickle, n_addrs, d):
    addrs = ["127.0.0.%d" % (2 + i % n_addrs) for i in range(n_idle + n_trickle)]
    idle = [connect(port, addrs[i]) for i in range(n_idle)]
    trick = [connect(port, addrs[n_idle + i]) for i in range(n_trickle)]
    with open(os.path.join(d, "ready"), "w") as f:
        f.write("ready\n")
    alive_i, alive_t = set(range(n_idle)), set(range(n_trickle))
    while not os.path.exists(os.path.join(d, "stop")):
        for i in list(alive_t):
            try:
                trick[i].send(b"a")
            except BlockingIOError:
                pass
            except OSError:
                alive_t.discard(i)
        for i in list(alive_t):
            if closed_by_server(trick[i]):
                alive_t.discard(i)
        for i in list(alive_i):
            if closed_by_server(idle[i]):
                alive_i.discard(i)
        tmp = os.path.join(d, "status.tmp")
        with open(tmp, "w") as f:
            f.write("idle_alive=%d trickle_alive=%d\n" % (len(alive_i), len(alive_t)))
        os.rename(tmp, os.path.join(d, "status"))
        time.sleep(2)


def stall(port, n, deadline):
    socks, kinds = [], []
    for i in range(n):
        socks.append(connect(port, "127.0.0.1"))
        kinds.append("idle")
        s = connect(port, "127.0.0.1")
        s.send(REQ_HEAD)
        socks.append(s)
        kinds.append("head")
        s = connect(port, "127.0.0.1")
        s.send(b"POST /v2/slow/blobs/uploads/ HTTP/1.1\r\nHost: berth\r\n"
               b"Content-Type: application/octet-stream\r\n"
               b"Content-Length: 1000000\r\n\r\n")
        socks.append(s)
        kinds.append("body")
    open_ = set(range(len(socks)))
    end = time.monotonic() + deadline
    while open_ and time.monotonic() < end:
        for i in list(open_):
            if kinds[i] != "idle":
                try:
                    socks[i].send(b"a")
                except BlockingIOError:
                    pass
                except OSError:
                    open_.discard(i)
                    continue
            if closed_by_server(socks[i]):
                open_.discard(i)
        time.sleep(1)
    left = sorted(set(kinds[i] for i in open_))
    print("closed %d of %d%s" % (len(socks) - len(open_), len(socks),
                                 (" (open: %s)" % ",".join(left)) if left else ""))


def ask(s):
    s.setblocking(True)
    s.sendall(b"GET /v2/ HTTP/1.1\r\nHost: berth\r\n\r\n")


def outcome(s, deadline):
    """'answered', 'closed' or 'waiting' after a request was sent on s."""
    data = b""
    end = time.monotonic() + deadline
    s.setblocking(False)
    while time.monotonic() < end:
        r, _, _ = select.select([s], [], [], 1)
        if not r:
            continue
        try:
            chunk = s.recv(4096)
        except BlockingIOError:
            continue
        except OSError:
            return "closed"
        if chunk == b"":
            return "answered" if data.startswith(b"HTTP/1.1 200") else "closed"
        data += chunk
        if data.startswith(b"HTTP/1.1 200") and data.endswith(b"{}"):
            return "answered"
    return "waiting"


def cap(port, n, src, other):
    held = []
    for _ in range(n):
        s = connect(port, src)
        ask(s)
        if outcome(s, 120) != "answered":
            print("held connection not answered")
            return
        held.append(s)
    extra = connect(port, src)
    ask(extra)
    e = outcome(extra, 60)
    o = connect(port, other)
    ask(o)
    print("extra=%s other=%s" % (e, outcome(o, 60)))


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    args = sys.argv[3:]
    if mode == "hold":
        hold(port, int(args[0]), int(args[1]), int(args[2]), args[3])
    elif mode == "stall":
        stall(port, int(args[0]), float(args[1]))
    elif mode == "cap":
        cap(port, int(args[0]), args[1], args[2])
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
