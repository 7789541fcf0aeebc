#!/usr/bin/env python3
"""The layout's rules that a compiler does not check (README, "Layout").

1. No include cycle between modules. A module is a header with its .cc
   (base/io.h and base/io.cc); module A depends on B when a file of A
   includes B's header. A cycle means two modules cannot be understood,
   tested or moved apart.
2. No on-disk format header (formats/*_format.h) is included outside
   formats/, tests aside: the layouts of a file are its reader's and
   writer's business.

Which library may include which is enforced by CMake at configure time
(vmc_check_layering in the top-level CMakeLists.txt).

Usage: include_graph.py SOURCE_ROOT
"""
import os
import re
import sys

LIBRARY_DIRS = ["base", "compress", "formats", "vmcoreinfo", "collector"]
INCLUDE = re.compile(r'^#include "([a-z0-9_/]+\.h)"', re.M)


def sources(root):
    for top in LIBRARY_DIRS:
        for dirpath, _, names in os.walk(os.path.join(root, top)):
            for name in names:
                if name.endswith((".h", ".cc")):
                    path = os.path.join(dirpath, name)
                    yield os.path.relpath(path, root)


def module_of(path):
    return os.path.splitext(path)[0]


def module_graph(root):
    graph = {}
    for path in sources(root):
        with open(os.path.join(root, path), encoding="utf-8") as f:
            text = f.read()
        deps = graph.setdefault(module_of(path), set())
        for header in INCLUDE.findall(text):
            if module_of(header) != module_of(path):
                deps.add(module_of(header))
    return graph


def cycles(graph):
    """Groups of modules that reach each other through includes (the strongly
    connected components of more than one module), each sorted."""
    index, low, on_stack, stack, groups = {}, {}, set(), [], []
    counter = [0]

    def visit(start):
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, ())))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(groups)


def format_headers_outside_formats(root):
    bad = []
    for path in sources(root):
        if path.startswith("formats/"):
            continue
        with open(os.path.join(root, path), encoding="utf-8") as f:
            for header in INCLUDE.findall(f.read()):
                if re.fullmatch(r"formats/[a-z0-9_]+_format\.h", header):
                    bad.append(f"{path} includes {header}")
    return bad


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    graph = module_graph(root)
    failures = 0
    for group in cycles(graph):
        print("modules that include each other: " + ", ".join(group))
        failures += 1
    if not failures:
        print(f"no include cycle among {len(graph)} modules")
    leaks = format_headers_outside_formats(root)
    for leak in leaks:
        print("format header outside formats/: " + leak)
    failures += len(leaks)
    if not leaks:
        print("no formats/*_format.h included outside formats/")

    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
