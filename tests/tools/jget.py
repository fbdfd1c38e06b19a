#!/usr/bin/env python3
"""Evaluate a Python expression over JSON read from stdin (or FILE).

    jget.py EXPR [FILE]

The parsed document is `j`. A string or number result is printed as is, a
list of strings or numbers one item per line, anything else as JSON. Exits 1
when the input is not JSON or the expression fails (e.g. a missing key), so a
test can tell "absent" from "empty".
"""

import json
import sys


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    try:
        if len(sys.argv) == 3:
            with open(sys.argv[2]) as f:
                j = json.load(f)
        else:
            j = json.load(sys.stdin)
        r = eval(sys.argv[1], {"json": json}, {"j": j})
    except Exception as e:  # the test prints why
        print("jget: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        sys.exit(1)
    if isinstance(r, bool):
        print("true" if r else "false")
    elif isinstance(r, (str, int, float)):
        print(r)
    elif isinstance(r, list) and all(isinstance(x, (str, int, float))
                                     for x in r):
        for x in r:
            print(x)
    else:
        print(json.dumps(r, sort_keys=True))


if __name__ == "__main__":
    main()
