#!/usr/bin/env python3
"""Check that calls and includes run one way between berth's source files.

    check_layering.py [--root DIR] [--build DIR] [--cc CC]

For each program (lib: src/lib, server: src/server, cli: src/cli) it builds
two graphs and reports every strongly connected component of more than one
file, i.e. every loop of any length:

  includes  file -> header, from `cc -MM` run on every .c and .h file (the
            dependency lists are transitive, which leaves the loops as
            they are);
  calls     A.c -> B.c when A's object uses a symbol B's object defines,
            from `nm` on the objects under BUILD (build/src/...o).

It also checks that a private header (*_int.h) is included only by files in
its own folder (tests may include anything; they are not scanned).

Each loop is printed with the edges that tie it (the symbols, or the
headers); the exit status is 1 when anything was found, 2 on a usage or
tool failure, else 0.
"""

import argparse
import os
import subprocess
import sys

PROGRAMS = [("lib", "src/lib"), ("server", "src/server"), ("cli", "src/cli")]
INCLUDE_DIRS = ["include", "src/lib", "src"]


def sources(root, top):
    out = []
    for d, _, files in os.walk(os.path.join(root, top)):
        for f in files:
            if f.endswith((".c", ".h")):
                out.append(os.path.relpath(os.path.join(d, f), root))
    return sorted(out)


def include_deps(root, cc, files):
    """{file: set(files it includes, directly or not)} from cc -MM."""
    if not files:
        return {}
    cmd = [cc, "-MM", "-MG", "-D_GNU_SOURCE", "-x", "c"]
    cmd += ["-I" + d for d in INCLUDE_DIRS] + files
    p = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        sys.exit("check_layering: '%s -MM' failed" % cc)
    deps = {}
    for rule in p.stdout.replace("\\\n", " ").splitlines():
        if ":" not in rule:
            continue
        words = rule.split(":", 1)[1].split()
        if not words:
            continue
        src = os.path.normpath(words[0])
        deps[src] = {os.path.normpath(w) for w in words[1:]
                     if os.path.normpath(w) != src}
    return deps


def symbols(root, build, files):
    """({file: defined symbols}, {file: undefined symbols}) from nm."""
    objs = {}
    for f in files:
        if not f.endswith(".c"):
            continue
        obj = os.path.join(root, build, f[:-2] + ".o")
        if not os.path.exists(obj):
            sys.exit("check_layering: no object '%s' (build first)" % obj)
        objs[obj] = f
    defined = {f: set() for f in objs.values()}
    used = {f: set() for f in objs.values()}
    if not objs:
        return defined, used
    # One nm for all objects: -A prefixes each line with "OBJECT: ".
    p = subprocess.run(["nm", "-P", "-A"] + sorted(objs),
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        sys.exit("check_layering: nm failed")
    for line in p.stdout.splitlines():
        obj, sep, rest = line.partition(": ")
        w = rest.split()
        if not sep or obj not in objs or len(w) < 2:
            continue
        if w[1] == "U":
            used[objs[obj]].add(w[0])
        elif w[1] in "TDBRCWVGS":
            defined[objs[obj]].add(w[0])
    return defined, used


def sccs(nodes, edges):
    """Tarjan's strongly connected components, iteratively."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]
    for start in nodes:
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is None:
                work.pop()
                if work:
                    u = work[-1][0]
                    low[u] = min(low[u], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        x = stack.pop()
                        on.discard(x)
                        comp.append(x)
                        if x == v:
                            break
                    out.append(sorted(comp))
                continue
            if w not in index:
                index[w] = low[w] = counter[0]
                counter[0] += 1
                stack.append(w)
                on.add(w)
                work.append((w, iter(sorted(edges.get(w, ())))))
            elif w in on:
                low[v] = min(low[v], index[w])
    return [c for c in out if len(c) > 1]


def report(prog, kind, comps, ties):
    for comp in comps:
        print("%s: %s loop among %s" % (prog, kind, ", ".join(comp)))
        members = set(comp)
        for a in comp:
            for b in sorted(ties.get(a, {})):
                if b in members:
                    print("  %s -> %s: %s" %
                          (a, b, " ".join(sorted(ties[a][b]))))
    return len(comps)


def check_program(root, build, cc, prog, top):
    files = sources(root, top)
    problems = 0

    deps = include_deps(root, cc, files)
    inc = {f: {d: {d} for d in ds if d in deps} for f, ds in deps.items()}
    problems += report(prog, "include", sccs(sorted(deps), inc), inc)

    for f, ds in sorted(deps.items()):
        for d in sorted(ds):
            if (d.endswith("_int.h") and d.startswith("src/") and
                    os.path.dirname(d) != os.path.dirname(f)):
                print("%s: %s includes %s, private to %s/" %
                      (prog, f, d, os.path.dirname(d)))
                problems += 1

    defined, used = symbols(root, build, files)
    owner = {}
    for f, syms in defined.items():
        for s in syms:
            owner.setdefault(s, f)
    calls = {}
    for f, syms in used.items():
        for s in syms:
            g = owner.get(s)
            if g and g != f:
                calls.setdefault(f, {}).setdefault(g, set()).add(s)
    problems += report(prog, "call", sccs(sorted(defined), calls), calls)
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=".", help="the source tree")
    ap.add_argument("--build", default="build",
                    help="the object tree, relative to ROOT")
    ap.add_argument("--cc", default=os.environ.get("CC", "cc"))
    args = ap.parse_args()

    problems = 0
    for prog, top in PROGRAMS:
        if os.path.isdir(os.path.join(args.root, top)):
            problems += check_program(args.root, args.build, args.cc, prog,
                                      top)
    if problems:
        print("layering: %d problem(s)" % problems)
        return 1
    print("layering: no loops")
    return 0


if __name__ == "__main__":
    sys.exit(main())
