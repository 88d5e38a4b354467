"""Self cost per function (and per object) of a callgrind file, divided by an
operation count: cgself.py FILE OPS [TOP]. callgrind_annotate attributes
everything to main when the counters were zeroed mid-run; this reads the
raw cost lines instead (a cost line right after calls= is the call's
inclusive cost and is skipped)."""
import collections
import re
import sys

names = {"fn": {}, "ob": {}}


def name(kind, text):
    m = re.match(r"\((\d+)\)(?: (.*))?", text)
    if not m:
        return text
    key, label = m.groups()
    if label is not None:
        names[kind][key] = label
    return names[kind].get(key, key)


def main():
    path, ops = sys.argv[1], float(sys.argv[2])
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    by_fn, by_ob = collections.Counter(), collections.Counter()
    ob = fn = None
    after_call = False
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        if line.startswith("ob="):
            ob = name("ob", line[3:])
        elif line.startswith("fn="):
            fn = name("fn", line[3:])
        elif line.startswith("cob="):
            name("ob", line[4:])
        elif line.startswith("cfn="):
            name("fn", line[4:])
        elif line.startswith("calls="):
            after_call = True
        elif line[:1].isdigit() or line[:1] in "+-*":
            parts = line.split()
            if len(parts) < 2:
                continue
            if after_call:
                after_call = False
                continue
            by_fn[(ob, fn)] += int(parts[1])
            by_ob[ob] += int(parts[1])
    total = sum(by_fn.values())
    print(f"{total / ops:,.0f} instructions per operation ({total:,} over {ops:,.0f})")
    for (o, f), c in by_fn.most_common(top):
        print(f"{c / ops:9.1f} {100 * c / total:5.1f}%  {f[:100]}  [{(o or '').split('/')[-1]}]")
    print("by object:")
    for o, c in by_ob.most_common(8):
        print(f"{c / ops:9.1f} {100 * c / total:5.1f}%  {o}")


main()
