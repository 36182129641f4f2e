#!/usr/bin/python3
"""check_docs.py HEARTH SRC: the documentation agrees with the program.

In README.md and docs/*.md:
- every `hearth SUBCOMMAND ...` run in a shell block or an inline code span
  names a subcommand (and sub-subcommand) that `hearth help` lists, and
  every --flag on it is one that command takes: a key of the option table
  (`hearth config reference`) for that command, or a flag `hearth help` or
  `hearth help COMMAND` prints for it;
- every key of a hearth configuration example (a block, or a code span, of
  `key = value` lines) is a key of the option table;
- every relative link resolves to a file of the repository, and its
  #anchor, when it has one and points into a Markdown file, to a heading
  or an explicit id there.
Prints each problem as FILE:LINE: what, and exits 1 when there is one.
"""
import os
import re
import shlex
import subprocess
import sys

SHELL_LANGS = {"sh", "bash", "shell", "console", ""}
CONFIG_LANGS = {"", "ini", "conf"}
KEY_LINE = re.compile(r"^([a-z][a-z0-9-]*)\s*=\s*\S")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
SPAN = re.compile(r"`([^`]+)`")
# commands whose second word is an action of their own
ACTIONS = {"eab": "add|list|revoke", "certs": "list|show", "ca": "rotate-intermediate",
           "store": "migrate", "config": "reference"}


def run(hearth, *args):
    return subprocess.run([hearth, *args], capture_output=True, text=True).stdout


class Program:
    """What the binary says it takes."""

    def __init__(self, hearth):
        usage = run(hearth, "help")
        self.commands = set(re.findall(r"hearth ([a-z]+)", usage))
        self.actions = {}
        for cmd, acts in re.findall(r"hearth ([a-z]+) ([a-z|-]+(?:\|[a-z-]+)*)", usage):
            if cmd in ACTIONS:
                self.actions.setdefault(cmd, set()).update(acts.split("|"))
        self.flags = {c: set() for c in self.commands}
        for line in usage.splitlines():
            m = re.search(r"hearth ([a-z]+)", line)
            if m:
                self.flags[m.group(1)].update(re.findall(r"--[a-z0-9-]+", line))
        m = re.search(r"^\s*(.*) take --store", usage, re.M)
        for cmd in re.findall(r"[a-z]+", m.group(1)) if m else []:
            if cmd in self.flags:
                self.flags[cmd].add("--store")
        for cmd in self.commands:
            self.flags[cmd].add("--config")
            text = run(hearth, "help", cmd)
            if text != usage:
                self.flags[cmd].update(re.findall(r"--[a-z0-9-]+", text))
        table = run(hearth, "config", "reference", "--format", "markdown")
        self.keys = set()
        for key, cmds in re.findall(r"^\| \[([a-z0-9-]+)\]\(#[^)]*\) \| ([a-z, ]+) \|", table, re.M):
            self.keys.add(key)
            for cmd in cmds.split(", "):
                self.flags.setdefault(cmd, set()).add("--" + key)


def slug(heading):
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def anchors(path, cache={}):
    if path not in cache:
        found, seen = set(), {}
        for line in open(path, encoding="utf-8").read().split("\n"):
            m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
            if m:
                base = slug(re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", m.group(1)))
                n = seen.get(base, 0)
                seen[base] = n + 1
                found.add(base if n == 0 else f"{base}-{n}")
            found.update(re.findall(r"<a\s+(?:id|name)=\"([^\"]+)\"", line))
        cache[path] = found
    return cache[path]


class Checker:
    def __init__(self, program, src):
        self.p, self.src = program, src
        self.problems = []
        self.counts = {"hearth commands": 0, "flags": 0, "config keys": 0, "links": 0}

    def problem(self, where, what):
        self.problems.append(f"{where}: {what}")

    def command(self, where, text):
        """One shell command line; checks it when it runs hearth."""
        for part in re.split(r"\|\||&&|;|\|(?![a-z])", text):
            try:
                words = shlex.split(part, comments=True)
            except ValueError:
                words = part.split()
            while words and (words[0] in ("sudo", "exec", "env") or
                             re.match(r"^[A-Z_]+=", words[0])):
                words.pop(0)
            if not words or os.path.basename(words[0]) != "hearth" or len(words) < 2:
                continue
            self.hearth(where, words[1:])

    def hearth(self, where, words):
        self.counts["hearth commands"] += 1
        cmd = words[0]
        if not re.fullmatch(r"[a-z][a-z-]*", cmd):
            return                          # a placeholder, or output
        if cmd not in self.p.commands:
            self.problem(where, f"`hearth {cmd}`: no such command in `hearth help`")
            return
        if cmd in ACTIONS and len(words) > 1 and not words[1].startswith("-"):
            for act in words[1].split("|"):
                if re.fullmatch(r"[a-z][a-z-]*", act) and act not in self.p.actions.get(cmd, set()):
                    self.problem(where, f"`hearth {cmd} {act}`: `hearth help` lists no such action")
        for w in words[1:]:
            if not w.startswith("--"):
                continue
            flag = w.split("=", 1)[0]
            if flag in ("--",) or not re.fullmatch(r"--[a-z0-9-]+", flag):
                continue
            self.counts["flags"] += 1
            if os.environ.get("CHECK_DOCS_VERBOSE"):
                print(f"{where}: hearth {cmd} {flag}")
            if flag not in self.p.flags.get(cmd, set()):
                self.problem(where, f"`hearth {cmd} {flag}`: `hearth {cmd}` takes no such flag")

    def config_key(self, where, line):
        m = KEY_LINE.match(line.strip())
        self.counts["config keys"] += 1
        if os.environ.get("CHECK_DOCS_VERBOSE"):
            print(f"{where}: key {m.group(1)}")
        if m and m.group(1) not in self.p.keys:
            self.problem(where, f"config key `{m.group(1)}` is not in the option table")

    def link(self, path, where, target):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):
            return
        self.counts["links"] += 1
        file, _, anchor = target.partition("#")
        dest = os.path.normpath(os.path.join(os.path.dirname(path), file)) if file else path
        if not os.path.exists(dest):
            self.problem(where, f"link {target}: {os.path.relpath(dest, self.src)} does not exist")
        elif anchor and dest.endswith(".md") and anchor not in anchors(dest):
            self.problem(where, f"link {target}: no heading or id `{anchor}` in "
                                f"{os.path.relpath(dest, self.src)}")

    def block(self, path, start, lang, lines):
        rel = os.path.relpath(path, self.src)
        if lang in CONFIG_LANGS:
            body = [l for l in lines if l.strip() and not l.strip().startswith("#")]
            if body and all(KEY_LINE.match(l.strip()) for l in body):
                for k, l in enumerate(lines):
                    if l.strip() and not l.strip().startswith("#"):
                        self.config_key(f"{rel}:{start + k + 1}", l)
                return
        if lang not in SHELL_LANGS:
            return
        if any(l.startswith("$ ") for l in lines):   # prompts and output
            lines = [l[2:] if l.startswith("$ ") else "" for l in lines]
        k = 0
        while k < len(lines):
            first, text = k, lines[k]
            while text.endswith("\\") and k + 1 < len(lines):
                k += 1
                text = text[:-1] + " " + lines[k]
            self.command(f"{rel}:{start + first + 1}", text)
            k += 1

    def prose(self, path, numbered):
        """Inline spans and links of the text outside blocks; a paragraph
        is joined first, since a span may wrap."""
        rel = os.path.relpath(path, self.src)
        para = []
        for n, line in numbered + [(0, "")]:
            if line.strip():
                para.append((n, line))
                continue
            if not para:
                continue
            text = " ".join(l for _, l in para)
            where = f"{rel}:{para[0][0]}"
            for span in SPAN.findall(text):
                span = span.strip()
                if span.startswith("hearth "):
                    self.command(where, span)
                elif KEY_LINE.match(span) and " = " in span:
                    self.config_key(where, span)
            for target in LINK.findall(SPAN.sub("", text)):
                self.link(path, where, target)
            para = []

    def file(self, path):
        lines = open(path, encoding="utf-8").read().split("\n")
        numbered, k = [], 0
        while k < len(lines):
            m = re.match(r"^\s*```(.*)$", lines[k])
            if m:
                lang = m.group(1).strip().split(" ")[0]
                j = k + 1
                while j < len(lines) and not re.match(r"^\s*```\s*$", lines[j]):
                    j += 1
                self.block(path, k + 1, lang, [l.strip() for l in lines[k + 1:j]])
                numbered.append((k + 1, ""))
                k = j + 1
                continue
            numbered.append((k + 1, lines[k]))
            k += 1
        self.prose(path, numbered)


def main():
    hearth, src = sys.argv[1], os.path.abspath(sys.argv[2])
    program = Program(hearth)
    if not program.commands or not program.keys:
        sys.exit("hearth help or hearth config reference printed nothing usable")
    checker = Checker(program, src)
    docs = os.path.join(src, "docs")
    files = [os.path.join(src, "README.md")] + sorted(
        os.path.join(docs, f) for f in os.listdir(docs) if f.endswith(".md"))
    for path in files:
        checker.file(path)
    for p in checker.problems:
        print(p)
    summary = ", ".join(f"{n} {what}" for what, n in checker.counts.items())
    print(f"{len(files)} files: {summary}; {len(checker.problems)} problems")
    if any(n == 0 for n in checker.counts.values()):
        print("nothing of one kind was found: the parser no longer reads the docs")
        return 1
    return 1 if checker.problems else 0


if __name__ == "__main__":
    sys.exit(main())
