#!/usr/bin/env python3
"""Checks every include of the project against docs/ARCHITECTURE.md.

The document's dependency block lists each component (a folder) and what it
may include: other components and external libraries. This reads that block,
then every #include of every source file outside tests/, and fails naming the
file and line of each include the block does not allow, and each source file
in a folder no component owns.

usage: check_layering.py [ROOT]
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parents[2])
SOURCES = (".h", ".cpp", ".cu", ".in")
SKIP = ("tests/", "build", ".git/")

# External libraries: the names the document uses, and the headers that are theirs.
EXTERNAL = {
    "mpi": [r"mpi\.h"],
    "cuda": [r"cuda[_a-z]*\.h", r"cuda_runtime[_a-z]*\.h", r"cuda_bf16\.h", r"cuda_fp16\.h"],
    "cublas": [r"cublas[_a-zA-Z]*\.h"],
    "nccl": [r"nccl\.h"],
    "openblas": [r"cblas\.h"],
    "zlib": [r"zlib\.h"],
    "yaml-cpp": [r"yaml-cpp/"],
    "prometheus-cpp": [r"prometheus/"],
    "cli11": [r"CLI/"],
    "nlohmann-json": [r"nlohmann/"],
}


def parse_rules(text):
    """component -> set of allowed components and external library names."""
    blocks = re.findall(r"```\n(.*?)```", text, re.S)
    block = next((b for b in blocks if "──>" in b), None)
    if block is None:
        sys.exit("docs/ARCHITECTURE.md: no dependency block (lines of the form 'A ──> B, C')")
    entries = []  # [name, text of its dependencies, continuation lines included]
    for line in block.splitlines():
        if "──>" in line:
            name, deps = line.split("──>", 1)
            entries.append([name.strip(), deps])
        elif entries and line.strip():
            entries[-1][1] += " " + line
    names = {name for name, _ in entries}
    rules = {}
    for name, deps in entries:
        deps = re.sub(r"\([^)]*\)", "", deps)  # remarks in parentheses
        rules[name] = set()
        for dep in deps.split(","):
            dep = dep.strip()
            if dep and dep != "nothing":
                rules[name].add(dep if dep in names else dep.lower())
    return rules


def component_of(path, components):
    best = None
    for c in components:
        if path == c or path.startswith(c + "/"):
            if best is None or len(c) > len(best):
                best = c
    return best


def external_of(header):
    for name, patterns in EXTERNAL.items():
        if any(re.match(p, header) for p in patterns):
            return name
    return None


def main():
    rules = parse_rules((ROOT / "docs/ARCHITECTURE.md").read_text())
    components = list(rules)
    problems = []
    files = sorted(p for p in ROOT.rglob("*") if p.suffix in SOURCES and p.is_file())
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(SKIP) or "/build" in rel:
            continue
        owner = component_of(rel, components)
        if owner is None:
            problems.append(f"{rel}: no component of docs/ARCHITECTURE.md owns this folder")
            continue
        allowed = rules[owner]
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            m = re.match(r'\s*#\s*include\s*([<"])([^>"]+)[>"]', line)
            if not m:
                continue
            quoted, header = m.group(1) == '"', m.group(2)
            if quoted:
                target = component_of(header, components)
                if target is None:
                    local = (path.parent / header).resolve()
                    if local.exists():
                        target = component_of(local.relative_to(ROOT).as_posix(), components)
                if target is None:
                    problems.append(f"{rel}:{number}: includes \"{header}\", which no component owns")
                elif target != owner and target not in allowed:
                    problems.append(f"{rel}:{number}: {owner} includes \"{header}\" of {target}, "
                                    f"which its arrow list does not allow")
            else:
                lib = external_of(header)
                if lib is not None and lib not in allowed:
                    problems.append(f"{rel}:{number}: {owner} includes <{header}> of {lib}, "
                                    f"which its arrow list does not allow")
    for p in problems:
        print(p)
    checked = len(files)
    if problems:
        print(f"layering: {len(problems)} include(s) break docs/ARCHITECTURE.md")
        return 1
    print(f"layering: every include of {checked} files agrees with docs/ARCHITECTURE.md "
          f"({len(components)} components)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
