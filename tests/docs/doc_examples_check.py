#!/usr/bin/env python3
"""Runs the examples of README.md and docs/*.md that are marked to be run.

A fenced block right after a line `<!-- doc-test -->` is run, each command
in turn (a line ending in a backslash continues on the next; `#` lines are
comments), from a scratch copy of the repository's layout, with build/bin
on PATH: every command must exit 0. In a block whose commands start with
`$ `, the lines after a command are its expected output, compared line by
line; `...` stands for any lines. `<!-- doc-test: numbers vary -->` compares
with every number replaced by N. The check fails, naming the file and line,
when an example no longer works as written.

usage: doc_examples_check.py REPO_ROOT BUILD_BIN [FILE.md...]
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

MARK = re.compile(r"^<!-- doc-test(?::\s*(.*?))?\s*-->\s*$")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*(?:e[-+]?\d+)?")


def blocks(path):
    """(line of the fence, options, lines) of each marked block."""
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        m = MARK.match(lines[i])
        if m and i + 1 < len(lines) and lines[i + 1].startswith("```"):
            start = i + 2
            end = start
            while end < len(lines) and not lines[end].startswith("```"):
                end += 1
            yield start, (m.group(1) or ""), lines[start:end]
            i = end
        i += 1


def commands(body):
    """(line offset, command, expected output or None) of a block."""
    console = any(l.startswith("$ ") for l in body)
    out, i = [], 0
    while i < len(body):
        line = body[i]
        if console and not line.startswith("$ "):
            i += 1
            continue
        text = line[2:] if console else line
        first = i
        while text.endswith("\\") and i + 1 < len(body):
            i += 1
            text = text[:-1] + " " + body[i].strip()
        i += 1
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        expected = None
        if console:
            expected = []
            while i < len(body) and not body[i].startswith("$ "):
                expected.append(body[i])
                i += 1
        out.append((first, text, expected))
    return out


def matches(expected, actual, numbers_vary):
    norm = (lambda s: NUMBER.sub("N", s.rstrip())) if numbers_vary else (lambda s: s.rstrip())
    exp = [norm(l) for l in expected]
    act = [norm(l) for l in actual]
    while exp and exp[-1] == "":
        exp.pop()
    while act and act[-1] == "":
        act.pop()

    def walk(e, a):
        if e == len(exp):
            return a == len(act)
        if exp[e] == "...":
            return any(walk(e + 1, k) for k in range(a, len(act) + 1))
        return a < len(act) and exp[e] == act[a] and walk(e + 1, a + 1)

    return walk(0, 0)


def scratch(root):
    """A directory with the repository's entries linked in, so that examples
    that write (runs/, charts) write there and not into the checkout."""
    work = tempfile.mkdtemp(prefix="dojo-doc-")
    for name in os.listdir(root):
        if name in ("runs", ".git"):
            continue
        os.symlink(os.path.join(root, name), os.path.join(work, name))
    return work


def main():
    root, bin_dir = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    files = sys.argv[3:] or [os.path.join(root, "README.md")] + sorted(
        os.path.join(root, "docs", f) for f in os.listdir(os.path.join(root, "docs"))
        if f.endswith(".md"))
    env = dict(os.environ)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               DOJO_BIN_DIR=bin_dir)
    failures = ran = 0
    for path in files:
        rel = os.path.relpath(path, root)
        for start, options, body in blocks(path):
            work = scratch(root)
            env["DOJO_STATE_DIR"] = os.path.join(work, "state")
            for offset, command, expected in commands(body):
                where = f"{rel}:{start + offset + 1}"
                try:
                    r = subprocess.run(["bash", "-c", command], cwd=work, env=env,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       timeout=300, text=True)
                    output, code = r.stdout, r.returncode
                except subprocess.TimeoutExpired:
                    output, code = "(timed out after 300 s)", -1
                ran += 1
                actual = output.split("\n")
                if expected is None and code != 0:
                    failures += 1
                    print(f"FAIL {where}: `{command}` exited {code}:\n{output}")
                elif expected is not None and not matches(expected, actual,
                                                          "numbers vary" in options):
                    failures += 1
                    print(f"FAIL {where}: `{command}` printed\n{output}\nwhere the doc shows\n"
                          + "\n".join(expected))
                else:
                    print(f"ok   {where}: {command}")
            shutil.rmtree(work, ignore_errors=True)
    print(f"doc examples: {ran} commands run, {failures} failed")
    if ran == 0:
        print("no marked examples found")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
