#!/usr/bin/env python3
"""Write the layer spec (for mklayout.py) of an image with package databases.

    sbom_image.py SPEC.json EXPECTED.json [--go BINARY] [--os debian|alpine]
                  [--dpkg N] [--status-bytes N]

The image has three layers. The first holds etc/os-release, a dpkg status
of N packages (default 200; a few not installed, some with a Source of
their own version), distroless-style status.d files, an apk database,
Python packages (dist-info and egg-info) and node_modules (scoped, nested).
The second deletes some of them (whiteouts, an opaque directory) and
replaces others with new versions; the third adds the Go binary, when
given. EXPECTED.json lists what is left, as berth must report it:
[{"type", "name", "version"}...], sorted. --status-bytes pads the status
file with one long stanza to that size instead (the bound test).
Only the Python standard library is used.
"""

import argparse
import json

ap = argparse.ArgumentParser()
ap.add_argument("spec")
ap.add_argument("expected")
ap.add_argument("--go")
ap.add_argument("--os", default="debian")
ap.add_argument("--dpkg", type=int, default=200)
ap.add_argument("--status-bytes", type=int, default=0)
a = ap.parse_args()

expected = {}


def want(t, name, version, key=None):
    expected[(t, key or name)] = (name, version)


def gone(t, name):
    expected.pop((t, name), None)


def f(path, content, mode="0644"):
    return {"path": path, "type": "file", "content": content, "mode": mode}


l1, l2, l3 = [], [], []
if a.os == "alpine":
    l1.append(f("etc/os-release", 'NAME="Alpine Linux"\nID=alpine\n'
                'VERSION_ID=3.18.4\nPRETTY_NAME="Alpine Linux v3.18"\n'))
    l1.append(f("etc/alpine-release", "3.18.4\n"))
else:
    l1.append(f("usr/lib/os-release", 'PRETTY_NAME="Debian GNU/Linux 12 '
                '(bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
                'ID=debian\n'))
    l1.append({"path": "etc/os-release", "type": "symlink",
               "target": "../usr/lib/os-release"})
    l1.append(f("etc/debian_version", "12.4\n"))  # how trivy knows Debian

# dpkg: N installed packages, two remembered but removed
stanzas = []
for i in range(a.dpkg):
    name = "pkg%03d" % i
    ver = "%d.%d.%d-%d" % (i // 100 + 1, i % 10, i % 7, i % 3 + 1)
    if i % 17 == 0:
        ver = "1:" + ver + "+deb12u1"
    s = ["Package: " + name, "Status: install ok installed",
         "Priority: optional", "Installed-Size: %d" % (i * 3 + 10),
         "Maintainer: Debian <debian@example.org>",
         "Architecture: " + ("all" if i % 5 == 0 else "amd64"),
         "Version: " + ver]
    if i % 4 == 0:
        s.append("Source: src%03d (%s)" % (i, "9.9-1"))
    elif i % 4 == 1:
        s.append("Source: src%03d" % i)
    s += ["Depends: libc6 (>= 2.34)", "Description: package %d" % i,
          " A long description,", " .", " over several lines."]
    stanzas.append("\n".join(s) + "\n")
    want("deb", name, ver)
for name in ("removed1", "removed2"):
    stanzas.append("Package: %s\nStatus: deinstall ok config-files\n"
                   "Architecture: amd64\nVersion: 1.0\n" % name)
status = "\n".join(stanzas)
if a.status_bytes:
    pad = a.status_bytes - len(status) - 64
    status += "\nPackage: big\nVersion: 1\nDescription: x\n" + \
        "".join(" %s\n" % ("x" * 99) for _ in range(max(pad, 0) // 101))
l1.append(f("var/lib/dpkg/status", status))
# distroless: one file a package
for name, ver in (("base-files", "12.4+deb12u5"), ("tzdata", "2024a-0+deb12u1")):
    l1.append(f("var/lib/dpkg/status.d/" + name,
                "Package: %s\nVersion: %s\nArchitecture: amd64\n" % (name, ver)))
    l1.append(f("var/lib/dpkg/status.d/%s.md5sums" % name, "abc  file\n"))
    want("deb", name, ver)

# apk
apk = []
for i in range(20):
    name, ver = "apk%02d" % i, "1.%d.%d-r%d" % (i, i % 3, i % 4)
    apk.append("C:Q1abc=\nP:%s\nV:%s\nA:x86_64\nS:100\nI:200\nT:pkg %d\n"
               "U:https://example.org\nL:MIT\no:%s\nm:M <m@e.org>\n"
               "t:1700000000\nc:abc\nF:usr/bin\nR:%s\n" % (name, ver, i, name, name))
    want("apk", name, ver)
l1.append(f("lib/apk/db/installed", "\n".join(apk) + "\n"))

# Python
sp = "usr/lib/python3/dist-packages/"
for i, (name, ver) in enumerate((("requests", "2.28.1"), ("urllib3", "1.26.12"),
                                 ("charset_normalizer", "3.0.1"), ("idna", "3.3"),
                                 ("six", "1.16.0"), ("PyYAML", "6.0"))):
    l1.append(f(sp + "%s-%s.dist-info/METADATA" % (name, ver),
                "Metadata-Version: 2.1\nName: %s\nVersion: %s\nLicense: MIT\n"
                "Summary: s\n\nLong description\n" % (name, ver)))
    l1.append(f(sp + "%s-%s.dist-info/RECORD" % (name, ver), "x,,\n"))
    want("pypi", name, ver)
l1.append(f(sp + "chardet-5.1.0.egg-info/PKG-INFO",
            "Metadata-Version: 1.1\nName: chardet\nVersion: 5.1.0\n"))
want("pypi", "chardet", "5.1.0")
l1.append(f("usr/lib/python3/site-packages/oldpkg-0.1.egg-info",
            "Metadata-Version: 1.0\nName: oldpkg\nVersion: 0.1\n"))
want("pypi", "oldpkg", "0.1")

# npm
nm = "app/node_modules/"


def npm(path, name, ver, lic="MIT", layer=l1):
    layer.append(f(path + "/package.json", json.dumps(
        {"name": name, "version": ver, "license": lic,
         "description": "d", "main": "index.js"})))
    want("npm", name, ver, path)


for name, ver in (("express", "4.18.2"), ("left-pad", "1.3.0"),
                  ("lodash", "4.17.21"), ("debug", "2.6.9"), ("ms", "2.0.0")):
    npm(nm + name, name, ver)
npm(nm + "@types/node", "@types/node", "20.8.0")
npm(nm + "@babel/core", "@babel/core", "7.23.0")
npm(nm + "express/node_modules/debug", "debug", "4.3.4")
l1.append(f(nm + "lodash/fp/package.json", '{"name":"lodash/fp","version":"x"}'))

# layer 2: deletions and replacements
l2.append(f("var/lib/dpkg/status.d/.wh.tzdata", ""))
gone("deb", "tzdata")
l2.append(f(nm + ".wh.left-pad", ""))
gone("npm", nm + "left-pad")
l2.append(f(nm + "@babel/.wh..wh..opq", ""))
gone("npm", nm + "@babel/core")
npm(nm + "@babel/parser", "@babel/parser", "7.23.1", layer=l2)
npm(nm + "lodash", "lodash", "4.17.22", layer=l2)
l2.append(f(sp + ".wh.six-1.16.0.dist-info", ""))
gone("pypi", "six")

if a.go:
    l3.append({"path": "usr/local/bin/hello", "type": "file", "mode": "0755",
               "from": a.go})

layers = [{"entries": l1}, {"entries": l2}]
if a.status_bytes:  # stored as it is: gzip would only cost time here
    layers[0]["compression"] = "none"
if l3:
    layers.append({"entries": l3})
with open(a.spec, "w") as out:
    json.dump({"layers": layers}, out)
rows = []
for (t, _), (name, ver) in expected.items():
    rows.append({"type": t, "name": name, "version": ver})
rows.sort(key=lambda r: (r["type"], r["name"], r["version"]))
with open(a.expected, "w") as out:
    json.dump(rows, out, indent=1)
