"""promcheck.py: reads a Prometheus text-format page (version 0.0.4) on
stdin, checks every line's syntax, that each sample's metric family was
declared by a TYPE line before it, that histogram buckets are cumulative
and end with +Inf equal to _count, and prints "name{labels} value" lines
sorted, for the test to read values from. Exit 1 with the reason on the
first error."""
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"'
SAMPLE = re.compile(r"^(%s)(\{(%s(?:,%s)*)?\})? (\S+)$" % (NAME, LABEL, LABEL))
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def fail(n, line, why):
    sys.exit("line %d: %s: %r" % (n, why, line))


def family(name, types):
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[: -len(suffix)] if name.endswith(suffix) else None
        if base and types.get(base) == "histogram":
            return base
    return name


def main():
    types, out, buckets = {}, [], {}
    for n, line in enumerate(sys.stdin.read().splitlines(), 1):
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            parts = line.split(" ")
            if len(parts) != 4 or parts[3] not in TYPES or parts[2] in types:
                fail(n, line, "bad or repeated TYPE")
            types[parts[2]] = parts[3]
            continue
        m = SAMPLE.match(line)
        if m is None:
            fail(n, line, "not a sample line")
        name, labels, value = m.group(1), m.group(3) or "", m.group(4)
        float(value)
        if family(name, types) not in types:
            fail(n, line, "sample before its TYPE")
        if name.endswith("_bucket"):
            key = (name, re.sub(r',?le="[^"]*"', "", labels))
            prev = buckets.get(key, -1)
            if float(value) < prev:
                fail(n, line, "buckets not cumulative")
            buckets[key] = float(value)
        out.append("%s{%s} %s" % (name, labels, value))
    for (name, labels), last in buckets.items():
        count = "%s_count{%s}" % (name[: -len("_bucket")], labels)
        if not any(o.startswith(count + " ") and float(o.split()[-1]) == last
                   for o in out):
            sys.exit("%s: +Inf bucket differs from _count" % name)
    print("\n".join(sorted(out)))


main()
