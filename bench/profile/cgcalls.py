"""Calls to the functions whose names match a regular expression, summed over
a callgrind file: cgcalls.py FILE REGEX. The profile scripts count their
operations this way (a function called once per operation), so the figure
per operation does not depend on how many the window happened to hold."""
import re
import sys


def main():
    path, pattern = sys.argv[1], re.compile(sys.argv[2])
    names, cur, total = {}, None, 0
    for line in open(path, errors="replace"):
        m = re.match(r"c?fn=\((\d+)\)(?: (.*))?", line.strip())
        if m:
            if m.group(2):
                names[m.group(1)] = m.group(2)
            if line.startswith("cfn="):
                cur = names.get(m.group(1), "")
        elif line.startswith("calls=") and cur and pattern.search(cur):
            total += int(line[6:].split()[0])
    print(total)


if __name__ == "__main__":
    main()
