#!/usr/bin/env python3
"""The layout rules the include paths alone cannot enforce, checked on every build.

Usage: scripts/check_layout.py FILE...  (the modules' .c and .h files; the Makefile passes them)

1. A module includes headers by name only: "store.h", never "../service/store.h", so every
   include goes through the include paths the Makefile gives the module.
2. No include cycle between the concepts of a module. A concept is a file pair (verdict.c and
   verdict.h, with an engine_internal.h counted as engine's); it depends on another of its
   folder when either of its files includes the other's header. A cycle (verdict -> observe -> alerts -> verdict) means the concepts are one, or a
   responsibility sits in the wrong place.
Prints each violation with where it is, and exits 1 if there is any.
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)


def concept_of(name):
    """engine.c, engine.h and engine_internal.h are one concept: engine."""
    stem = os.path.splitext(name)[0]
    return stem[: -len("_internal")] if stem.endswith("_internal") else stem


def main(files):
    problems = []
    graph = {}  # (folder, concept) -> {concept: (file, line)}
    for path in files:
        folder = os.path.dirname(path)
        if os.path.basename(folder) == "include":  # a module's public headers: one folder up
            folder = os.path.dirname(folder)
        concept = concept_of(os.path.basename(path))
        edges = graph.setdefault((folder, concept), {})
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        for m in INCLUDE.finditer(text):
            name = m.group(1)
            line = text.count("\n", 0, m.start()) + 1
            if "/" in name:
                problems.append(f'{path}:{line}: #include "{name}" names a path; include by '
                                f"name, through the module's include paths (Makefile)")
                continue
            target = concept_of(name)
            if target != concept:
                edges.setdefault(target, (path, line))
    # Keep the edges that stay inside a folder, then look for cycles by depth-first search.
    by_folder = {}
    for (folder, concept), edges in graph.items():
        by_folder.setdefault(folder, {})[concept] = edges
    for folder, concepts in sorted(by_folder.items()):
        local = {c: {t: w for t, w in e.items() if t in concepts} for c, e in concepts.items()}
        state, stack, seen_cycles = {}, [], set()

        def visit(c):
            state[c] = 1
            stack.append(c)
            for t in sorted(local[c]):
                if state.get(t) == 1:
                    cycle = stack[stack.index(t):] + [t]
                    key = frozenset(cycle)
                    if key not in seen_cycles:
                        seen_cycles.add(key)
                        where = ", ".join(f"{local[a][b][0]}:{local[a][b][1]}"
                                          for a, b in zip(cycle, cycle[1:]))
                        problems.append(f"{folder}: include cycle {' -> '.join(cycle)} ({where})")
                elif state.get(t) is None:
                    visit(t)
            stack.pop()
            state[c] = 2

        for c in sorted(local):
            if state.get(c) is None:
                visit(c)
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
