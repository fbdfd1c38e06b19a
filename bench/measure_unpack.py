#!/usr/bin/env python3
"""Pull and unpack images with berth and its peers, cold and warm, and compare.

    measure_unpack.py --registry HOST:PORT --work DIR --image LABEL=REPO:TAG...
                      [--berth PATH] [--runs N] [--json OUT]
                      [--dockerd-pid PID] [--containerd-pid PID]
                      [--bin DIR] [--policy FILE] [--tools T,...]

Tools (the --bin directory holds `ctr` and `podman` wrappers that point
them at the benchmark's own daemon and storage; DOCKER_HOST points docker
at the benchmark's dockerd):

  berth       `berth --root STORE pull --unpack DIR REF`; cold: STORE and DIR
              empty; warm: STORE complete, DIR empty
  docker      `docker pull REF` (dockerd, overlay2: its layers are its
              unpacked tree); cold: image removed and layers pruned first
  containerd  `ctr image pull --plain-http REF` (overlayfs snapshotter);
              cold: image removed and content garbage-collected first
  podman      `podman pull REF` (overlay driver); cold: image removed first
  umoci       `skopeo copy docker://REF oci:LAYOUT:bench` then
              `umoci raw unpack --image LAYOUT:bench DIR`; cold: LAYOUT and
              DIR empty; warm: LAYOUT complete (skopeo skips its blobs), DIR
              empty

Warm for the three engines is their pull of an image they already hold:
they check the manifest and unpack nothing (their store is the tree).

Measures per command: wall time; CPU (user+system) of the client and
every child it waited for, from wait4(); the client's peak RSS from GNU
time. For docker and containerd also the daemon's CPU (utime, stime and
its waited children's, from /proc/PID/stat, summed over the daemon and its
descendants, before and after) and the growth of its peak RSS (VmHWM is
reset through /proc/PID/clear_refs before the command; growth = VmHWM
after - VmRSS before). The page cache is written back (sync, not timed)
before every command; caches are not dropped.

The trees and stores of berth and umoci are not deleted between commands
but moved aside, and deleted when every command has run: on ext4 without
a journal, a file created within a minute of many deletions in its block
group costs a scan past each freed inode (recently_deleted() in
fs/ext4/ialloc.c), and a tree deleted just before a cold run would bill
that run for it. The engines delete their own layers when told to remove
an image.

Prints a Markdown table (medians; RSS: the largest of the runs) and the
ratio berth / fastest peer. Exits 1 if a command fails.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

MODES = ("cold", "warm")
TOOLS = ("berth", "docker", "containerd", "podman", "umoci")
LABELS = {
    "berth": "berth pull --unpack",
    "docker": "docker pull (dockerd 20.10, overlay2)",
    "containerd": "ctr image pull (containerd 1.6, overlayfs)",
    "podman": "podman pull (overlay)",
    "umoci": "skopeo copy + umoci raw unpack",
}
ENGINES = ("docker", "containerd", "podman")
GNU_TIME = "/usr/bin/time"
HZ = os.sysconf("SC_CLK_TCK")


def log(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def children_of():
    kids = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(name))
    return kids


def tree_cpu(pid):
    """CPU seconds of pid and its living descendants, each with its waited
    children's; None without a pid."""
    if not pid:
        return None
    kids = children_of()
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open("/proc/%d/stat" % p) as f:
                v = f.read().rsplit(")", 1)[1].split()
            total += int(v[11]) + int(v[12]) + int(v[13]) + int(v[14])
        except (OSError, IndexError, ValueError):
            pass
        todo += kids.get(p, [])
    return total / HZ


def status_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


class Daemon:
    """CPU and peak-RSS growth of a daemon across one command."""

    def __init__(self, pid):
        self.pid = pid

    def start(self):
        if not self.pid:
            return
        with open("/proc/%d/clear_refs" % self.pid, "w") as f:
            f.write("5")  # resets VmHWM to the current RSS
        self.rss0 = status_kib(self.pid, "VmRSS")
        self.cpu0 = tree_cpu(self.pid)

    def stop(self):
        if not self.pid:
            return None, None
        cpu = tree_cpu(self.pid) - self.cpu0
        growth = max(0, status_kib(self.pid, "VmHWM") - self.rss0)
        return cpu, growth


def timed(argv, logpath, env):
    """Runs argv; returns (status, wall s, cpu s, peak RSS KiB)."""
    with tempfile.NamedTemporaryFile("r") as rss, open(logpath, "ab") as out:
        out.write(("$ %s\n" % " ".join(argv)).encode())
        out.flush()
        t0 = time.perf_counter()
        p = subprocess.Popen([GNU_TIME, "-q", "-f", "%M", "-o", rss.name] + argv,
                             stdin=subprocess.DEVNULL, stdout=out,
                             stderr=out, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        peak = int(rss.read().split()[-1])
    return os.waitstatus_to_exitcode(status), wall, ru.ru_utime + ru.ru_stime, peak


def quiet(argv, logpath, env, check=True):
    with open(logpath, "ab") as out:
        out.write(("$ %s   (not timed)\n" % " ".join(argv)).encode())
        out.flush()
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out,
                           stderr=out, env=env)
    if check and r.returncode != 0:
        raise RuntimeError("'%s' failed (exit %d)" % (" ".join(argv),
                                                        r.returncode))
    return r.returncode


def output(argv, env):
    return subprocess.run(argv, stdin=subprocess.DEVNULL, env=env,
                          capture_output=True, text=True).stdout.split()


class Bench:
    def __init__(self, args):
        self.a = args
        self.env = dict(os.environ)
        if args.bin:
            self.env["PATH"] = args.bin + ":" + self.env["PATH"]
        self.logpath = os.path.join(args.work, "commands.log")
        self.daemons = {"docker": Daemon(args.dockerd_pid),
                        "containerd": Daemon(args.containerd_pid)}
        self.skopeo = ["skopeo"] + (["--policy", args.policy]
                                    if args.policy else [])

    def path(self, label, tool, what):
        return os.path.join(self.a.work, "%s-%s-%s" % (label, tool, what))

    def discard(self, path):
        """Moves path aside, to be deleted by purge() (see above)."""
        if os.path.lexists(path):
            self.discarded = getattr(self, "discarded", 0) + 1
            grave = os.path.join(self.a.work, "discarded")
            os.makedirs(grave, exist_ok=True)
            os.rename(path, os.path.join(grave, str(self.discarded)))

    def purge(self):
        shutil.rmtree(os.path.join(self.a.work, "discarded"),
                      ignore_errors=True)

    def remove(self, tool, src, label):
        """Everything the tool holds of the image (not timed)."""
        q = lambda argv: quiet(argv, self.logpath, self.env, check=False)
        if tool == "docker":
            q(["docker", "rmi", "-f", src])
            q(["docker", "image", "prune", "-af"])
            left = output(["docker", "images", "-aq"], self.env)
        elif tool == "containerd":
            q(["ctr", "image", "rm", "--sync", src])
            left = output(["ctr", "content", "ls", "-q"], self.env)
            # `ctr snapshots ls` prints a header line (KEY PARENT KIND).
            snaps = subprocess.run(["ctr", "snapshots", "ls"], env=self.env,
                                   stdin=subprocess.DEVNULL, text=True,
                                   capture_output=True).stdout.splitlines()
            left += [l.split()[0] for l in snaps[1:] if l.strip()]
        elif tool == "podman":
            q(["podman", "rmi", "-f", src])
            left = output(["podman", "images", "-aq"], self.env)
        else:
            for what in ("store", "dir", "layout"):
                self.discard(self.path(label, tool, what))
            left = []
        if left:
            raise RuntimeError("%s still holds %s after removing the image"
                               % (tool, " ".join(left[:4])))

    def commands(self, tool, mode, src, label):
        store, d = self.path(label, tool, "store"), self.path(label, tool, "dir")
        if tool == "berth":
            self.discard(d)
            return [[self.a.berth, "--root", store, "pull", "--unpack", d, src]]
        if tool == "docker":
            return [["docker", "pull", "-q", src]]
        if tool == "containerd":
            return [["ctr", "image", "pull", "--plain-http", src]]
        if tool == "podman":
            return [["podman", "pull", "-q", "--tls-verify=false", src]]
        lay = self.path(label, tool, "layout")
        self.discard(d)
        return [self.skopeo + ["copy", "-q", "--src-tls-verify=false",
                               "docker://" + src, "oci:%s:bench" % lay],
                ["umoci", "raw", "unpack", "--image", lay + ":bench", d]]

    def measure(self, tool, mode, src, label):
        wall = cpu = 0.0
        rss = 0
        daemon = self.daemons.get(tool)
        dcpu = dgrowth = None
        for argv in self.commands(tool, mode, src, label):
            os.sync()
            if daemon:
                daemon.start()
            rc, w, c, r = timed(argv, self.logpath, self.env)
            if daemon:
                dc, dg = daemon.stop()
                if dc is not None:
                    dcpu = (dcpu or 0) + dc
                    dgrowth = max(dgrowth or 0, dg)
            if rc != 0:
                with open(self.logpath, "rb") as f:
                    tail = f.read()[-2000:].decode(errors="replace")
                raise RuntimeError("'%s' failed (exit %d):\n%s"
                                   % (" ".join(argv), rc, tail))
            wall, cpu, rss = wall + w, cpu + c, max(rss, r)
        return {"wall": wall, "cpu": cpu, "rss_kib": rss,
                "daemon_cpu": dcpu, "daemon_rss_kib": dgrowth}


def median(xs):
    return statistics.median(xs) if xs else None


def fmt_s(x):
    return "-" if x is None else "%.2f s" % x


def fmt_mib(kib):
    return "-" if kib is None else "%.1f MiB" % (kib / 1024.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--registry", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--image", action="append", required=True,
                    help="LABEL=REPO:TAG")
    ap.add_argument("--berth", help="berth with pull --unpack; omitted: "
                    "berth's rows are 'not available'")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json")
    ap.add_argument("--dockerd-pid", type=int)
    ap.add_argument("--containerd-pid", type=int)
    ap.add_argument("--bin")
    ap.add_argument("--policy")
    ap.add_argument("--tools", default=",".join(TOOLS),
                    help="comma-separated subset of " + ",".join(TOOLS))
    args = ap.parse_args()

    b = Bench(args)
    chosen = args.tools.split(",")
    for t in chosen:
        if t not in TOOLS:
            ap.error("unknown tool %r in --tools (%s)" % (t, ",".join(TOOLS)))
    tools = [t for t in TOOLS if t in chosen and (t != "berth" or args.berth)]
    results = []
    try:
        for spec in args.image:
            label, _, ref = spec.partition("=")
            src = "%s/%s" % (args.registry, ref)
            for t in tools:
                b.remove(t, src, label)
            for run in range(args.runs):
                k = run % len(tools)
                for tool in tools[k:] + tools[:k]:
                    for mode in MODES:
                        if mode == "cold":
                            b.remove(tool, src, label)
                        r = b.measure(tool, mode, src, label)
                        r.update(image=label, tool=tool, mode=mode, run=run + 1,
                                 load=os.getloadavg()[0])
                        results.append(r)
                        log("%-6s run %d %-10s %-4s wall %7.3f s  cpu %7.3f s"
                            "  rss %6.1f MiB%s" % (
                                label, run + 1, tool, mode, r["wall"], r["cpu"],
                                r["rss_kib"] / 1024.0,
                                "  daemon cpu %.3f s, rss +%.1f MiB" % (
                                    r["daemon_cpu"], r["daemon_rss_kib"] / 1024.0)
                                if r["daemon_cpu"] is not None else ""))
                    b.remove(tool, src, label)
    except RuntimeError as e:
        log("FAILED: %s" % e)
        return 1
    finally:
        b.purge()

    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)

    def stat(label, tool, mode, key, fn=median):
        xs = [r[key] for r in results if r["image"] == label
              and r["tool"] == tool and r["mode"] == mode
              and r[key] is not None]
        return fn(xs) if xs else None

    print("| image | pull | tool | wall | CPU client | CPU daemon | CPU total "
          "| peak RSS client | daemon peak RSS growth |")
    print("|---|---|---|--:|--:|--:|--:|--:|--:|")
    ratios = []
    for spec in args.image:
        label = spec.partition("=")[0]
        for mode in MODES:
            walls = {}
            for tool in TOOLS:
                if tool not in chosen:
                    continue
                if tool not in tools:
                    print("| %s | %s | %s | not available | | | | | |"
                          % (label, mode, LABELS[tool]))
                    continue
                w = stat(label, tool, mode, "wall")
                c = stat(label, tool, mode, "cpu")
                dc = stat(label, tool, mode, "daemon_cpu")
                note = " (image present: nothing to unpack)" \
                    if mode == "warm" and tool in ENGINES else ""
                walls[tool] = w
                print("| %s | %s | %s%s | %s | %s | %s | %s | %s | %s |" % (
                    label, mode, LABELS[tool], note, fmt_s(w), fmt_s(c),
                    fmt_s(dc), fmt_s(c + (dc or 0)),
                    fmt_mib(stat(label, tool, mode, "rss_kib", max)),
                    fmt_mib(stat(label, tool, mode, "daemon_rss_kib", max))))
            # Warm, the engines do no unpacking: compare with what does.
            peers = [t for t in walls if t != "berth"
                     and (mode == "cold" or t not in ENGINES)]
            if peers:
                fastest = min(peers, key=lambda t: walls[t])
                ratios.append((label, mode, walls.get("berth"), fastest,
                               walls[fastest]))
    print()
    print("| image | pull | berth wall | fastest peer | its wall | berth / fastest peer |")
    print("|---|---|--:|---|--:|--:|")
    for label, mode, bw, f, fw in ratios:
        print("| %s | %s | %s | %s | %s | %s |" % (
            label, mode, fmt_s(bw) if bw is not None else "not available",
            LABELS[f], fmt_s(fw),
            "%.2f" % (bw / fw) if bw is not None else "-"))
    print()
    loads = [r["load"] for r in results]
    print("Medians of %d runs; RSS: the largest of the runs. Warm, the "
          "fastest peer is the fastest that unpacks (the engines' warm pull "
          "only checks the manifest). 1-minute load average after the "
          "commands: %.2f to %.2f (median %.2f)."
          % (args.runs, min(loads), max(loads), statistics.median(loads)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
