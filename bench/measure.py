#!/usr/bin/env python3
"""Pull images with berth and with skopeo, cold and warm, and compare.

    measure.py --registry HOST:PORT --berth PATH --work DIR
               --image LABEL=REPO:TAG... [--runs N] [--access-log FILE]
               [--json OUT] [--policy FILE] [--registry-pid PID]

For each image and each run: berth cold (empty store), berth warm (the same
store again), the same with `berth pull --sync`, skopeo cold (`skopeo copy
docker://... oci:EMPTY_DIR:bench`) and skopeo warm (the same OCI directory
again). The tools take turns going first from one run to the next.

Every command is timed on its own: wall time, user+system CPU and peak RSS
come from wait4() on that process, so they cover it and every child it
waited for. Before each command the page cache is flushed to disk (sync,
not timed) so one pull's write-back does not land on the next; caches are
not dropped, so the registry serves from memory. With --access-log the
registry's requests are counted per pull, with --registry-pid its CPU time.

Prints a Markdown table of medians (wall, CPU) and maxima (RSS), the ratio
berth/skopeo, and one verdict line per target. Exits 1 if any pull fails,
0 otherwise (missing a target is reported, not an error).
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
# "berth-sync" is `berth pull --sync`: every blob flushed to disk before it
# is published, as skopeo's OCI destination always does (fsync per blob).
TOOLS = ("berth", "berth-sync", "skopeo")
# Targets of the issue: berth/skopeo ratios, and RSS in KiB.
COLD_RATIO = 0.6
WARM_RATIO = 0.25
RSS_LIMIT_KIB = 16 * 1024


def log(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


class AccessLog:
    """Counts requests in the registry's access log (combined format)."""

    def __init__(self, path):
        self.path = path
        self.pos = 0

    def mark(self):
        if self.path:
            self.pos = os.path.getsize(self.path)

    def since(self):
        if not self.path:
            return None
        time.sleep(0.1)  # the registry logs after answering
        with open(self.path, "rb") as f:
            f.seek(self.pos)
            lines = f.read().decode(errors="replace").splitlines()
        blob_gets = sum(1 for l in lines
                        if '"GET /v2/' in l and "/blobs/" in l)
        return {"requests": len(lines), "blob_gets": blob_gets}


def proc_cpu(pid):
    """CPU seconds a running process has used so far, or None."""
    if not pid:
        return None
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy():
    """CPU seconds all CPUs have spent busy since boot."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...
    return (v[0] + v[1] + v[2] + v[5] + v[6]) / os.sysconf("SC_CLK_TCK")


# GNU time forks the measured program from its own small process: a child
# forked from Python would carry Python's resident pages in its peak RSS
# (ru_maxrss spans the exec), hiding anything smaller than ~14 MiB.
GNU_TIME = "/usr/bin/time"


def timed(argv, logpath, env):
    """Runs argv; returns (status, wall s, cpu s, peak RSS KiB)."""
    os.sync()
    with tempfile.NamedTemporaryFile("r") as rss, open(logpath, "ab") as out:
        out.write(("$ %s\n" % " ".join(argv)).encode())
        out.flush()
        t0 = time.perf_counter()
        p = subprocess.Popen([GNU_TIME, "-q", "-f", "%M", "-o", rss.name] + argv,
                             stdin=subprocess.DEVNULL, stdout=out,
                             stderr=out, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        peak = int(rss.read().split()[-1])
    return p.returncode, wall, ru.ru_utime + ru.ru_stime, peak


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def fmt_s(x):
    return "%.3f s" % x


def fmt_mib(kib):
    return "%.1f MiB" % (kib / 1024.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--registry", required=True)
    ap.add_argument("--berth", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--image", action="append", required=True,
                    help="LABEL=REPO:TAG")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--access-log")
    ap.add_argument("--policy", help="skopeo signature policy file")
    ap.add_argument("--json", help="write every run's numbers here")
    ap.add_argument("--registry-pid", type=int,
                    help="also record the CPU time the registry spends")
    args = ap.parse_args()

    env = dict(os.environ)
    acc = AccessLog(args.access_log)
    logpath = os.path.join(args.work, "pulls.log")
    skopeo = ["skopeo"] + (["--policy", args.policy] if args.policy else [])
    results = []  # dicts: image, tool, mode, run, wall, cpu, rss, requests

    for spec in args.image:
        label, _, ref = spec.partition("=")
        src = "%s/%s" % (args.registry, ref)
        for run in range(args.runs):
            # Rotate who goes first.
            k = run % len(TOOLS)
            tools = TOOLS[k:] + TOOLS[:k]
            for tool in tools:
                dest = os.path.join(args.work, "%s-%s-%d" % (label, tool, run))
                if tool == "berth":
                    argv = [args.berth, "--root", dest, "pull", src]
                elif tool == "berth-sync":
                    argv = [args.berth, "--root", dest, "pull", "--sync", src]
                else:
                    argv = skopeo + ["copy", "--src-tls-verify=false",
                                     "docker://" + src, "oci:%s:bench" % dest]
                for mode in MODES:
                    acc.mark()
                    reg0 = proc_cpu(args.registry_pid)
                    busy0 = machine_busy()
                    rc, wall, cpu, rss = timed(argv, logpath, env)
                    busy1 = machine_busy()
                    reg1 = proc_cpu(args.registry_pid)
                    if rc != 0:
                        log("FAILED (exit %d): %s" % (rc, " ".join(argv)))
                        with open(logpath, "rb") as f:
                            tail = f.read()[-2000:].decode(errors="replace")
                        log(tail)
                        return 1
                    req = acc.since()
                    r = {"image": label, "tool": tool, "mode": mode,
                         "run": run + 1, "wall": wall, "cpu": cpu,
                         "rss_kib": rss}
                    if req:
                        r.update(req)
                    if reg0 is not None and reg1 is not None:
                        r["registry_cpu"] = reg1 - reg0
                    # Whatever else kept the CPUs busy meanwhile (other
                    # programs, and the kernel's network processing).
                    r["other_cpu"] = max(0.0, busy1 - busy0 - cpu
                                         - r.get("registry_cpu", 0.0))
                    results.append(r)
                    log("%-6s run %d %-6s %-4s  wall %7.3f s  cpu %7.3f s"
                        "  rss %6.1f MiB  other cpu %.2f s%s%s" % (
                            label, run + 1, tool, mode, wall, cpu,
                            rss / 1024.0, r["other_cpu"],
                            "  registry cpu %.3f s" % r["registry_cpu"]
                            if "registry_cpu" in r else "",
                            "  requests %d (blob GETs %d)" % (
                                req["requests"], req["blob_gets"])
                            if req else ""))
                shutil.rmtree(dest)

    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)

    def pick(label, tool, mode, key):
        return [r[key] for r in results
                if r["image"] == label and r["tool"] == tool
                and r["mode"] == mode]

    print("| image | pull | berth wall | skopeo wall | ratio | berth CPU "
          "| skopeo CPU | ratio | berth RSS | skopeo RSS | blob GETs "
          "berth / skopeo | registry CPU berth / skopeo "
          "| berth --sync wall | ratio |")
    print("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    summary = {}
    for spec in args.image:
        label = spec.partition("=")[0]
        for mode in MODES:
            s = {}
            for tool in TOOLS:
                s[tool] = {
                    "wall": median(pick(label, tool, mode, "wall")),
                    "cpu": median(pick(label, tool, mode, "cpu")),
                    "rss": max(pick(label, tool, mode, "rss_kib")),
                    "gets": (max(pick(label, tool, mode, "blob_gets"))
                             if args.access_log else None),
                    "reg": median(pick(label, tool, mode, "registry_cpu")),
                }
            b, k, y = s["berth"], s["skopeo"], s["berth-sync"]
            s["wall_ratio"] = b["wall"] / k["wall"]
            s["cpu_ratio"] = b["cpu"] / k["cpu"] if k["cpu"] else float("inf")
            summary[(label, mode)] = s
            print("| %s | %s | %s | %s | %.2f | %s | %s | %.2f | %s | %s "
                  "| %s | %s | %s | %.2f |" % (
                      label, mode, fmt_s(b["wall"]), fmt_s(k["wall"]),
                      s["wall_ratio"], fmt_s(b["cpu"]), fmt_s(k["cpu"]),
                      s["cpu_ratio"], fmt_mib(b["rss"]), fmt_mib(k["rss"]),
                      "%s / %s" % (b["gets"], k["gets"])
                      if args.access_log else "-",
                      "%.2f s / %.2f s" % (b["reg"], k["reg"])
                      if args.registry_pid else "-",
                      fmt_s(y["wall"]), y["wall"] / k["wall"]))
    print()
    print("Medians of %d runs (RSS: the largest of the runs). Registry CPU: "
          "what docker-registry spent serving the pull, on the same cores. "
          "berth --sync flushes each blob before publishing it, as skopeo "
          "does; the targets are checked against plain berth pull."
          % args.runs)
    print()

    # Was the machine quiet? Other load inflates wall times unevenly.
    ncpu = os.cpu_count() or 1
    busy = [r["other_cpu"] / (r["wall"] * ncpu) for r in results
            if r["wall"] > 0.2]
    if busy:
        share = statistics.median(busy)
        print("Other activity on the machine during the longer pulls: %.0f %% "
              "of its CPU (median; includes the kernel's network work)%s." % (
                  100 * share,
                  " -- the machine was busy, wall times are noisy: run again "
                  "when it is idle" if share > 0.15 else ""))
        print()

    def verdict(ok, text):
        print("- %s: %s" % ("met" if ok else "MISSED", text))

    for spec in args.image:
        label = spec.partition("=")[0]
        c, w = summary[(label, "cold")], summary[(label, "warm")]
        verdict(c["wall_ratio"] <= COLD_RATIO,
                "%s cold wall <= %.2fx skopeo (%.2fx)" % (
                    label, COLD_RATIO, c["wall_ratio"]))
        verdict(c["cpu_ratio"] <= COLD_RATIO,
                "%s cold CPU <= %.2fx skopeo (%.2fx)" % (
                    label, COLD_RATIO, c["cpu_ratio"]))
        verdict(w["wall_ratio"] <= WARM_RATIO,
                "%s warm wall <= %.2fx skopeo (%.2fx)" % (
                    label, WARM_RATIO, w["wall_ratio"]))
        verdict(w["cpu_ratio"] <= WARM_RATIO,
                "%s warm CPU <= %.2fx skopeo (%.2fx)" % (
                    label, WARM_RATIO, w["cpu_ratio"]))
        rss = max(summary[(label, m)][t]["rss"] for m in MODES
                  for t in ("berth", "berth-sync"))
        verdict(rss < RSS_LIMIT_KIB,
                "%s berth peak RSS < 16 MiB (%s)" % (label, fmt_mib(rss)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
