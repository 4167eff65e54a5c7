#!/usr/bin/env python3
"""Lists the public symbols of the Recurrent library that have no documentation comment.

Reads the symbol graphs (`*.symbols.json`) that `swift package generate-documentation` (make docs) or
`swift package dump-symbol-graph` extracted, under the folder given (default .build), keeps those of the library's
modules, and counts every public or open symbol: types, methods, initialisers, properties, enum cases, global
functions, operators. A symbol counts as documented when it has a `///` comment of its own, or when it implements a
requirement of a protocol from another module and inherits that protocol's documentation (`description`,
`init(from:)`, `==`…; these are reported separately). Symbols the compiler synthesises (`!=` of an Equatable type,
the default implementations of a protocol extension seen from a conforming type) have no source to comment and are
skipped, as DocC shows them without a comment of their own. Code generated from a schema (Sources/*/Generated/,
the Swift of the vendored onnx.proto) carries the schema's comments where it has them and is counted apart.

Usage: Scripts/undocumented_symbols.py [FOLDER] [--list] [--max N]
  prints "undocumented public symbols: N of M" and, with --list, each one as module, kind, path and source location.
Exit status 0 whatever the count (make docs prints it); --max N makes it 1 when more than N are undocumented.
"""
import argparse
import json
import os
import sys

MODULES = ["RecurrentTensor", "RecurrentNN", "RecurrentData", "RecurrentIO", "RecurrentModels",
           "RecurrentTraining", "RecurrentDistributed", "RecurrentKeras", "RecurrentONNX", "Recurrent"]


def graph_files(root):
    """Newest symbol graph of each file name, so that stale copies of an earlier extraction do not count."""
    newest = {}
    for folder, _, files in os.walk(root):
        for name in files:
            if not name.endswith(".symbols.json"):
                continue
            module = name.split("@")[0].split(".")[0]
            if module not in MODULES:
                continue
            path = os.path.join(folder, name)
            if name not in newest or os.path.getmtime(path) > os.path.getmtime(newest[name]):
                newest[name] = path
    return sorted(newest.values())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", nargs="?", default=".build")
    parser.add_argument("--list", action="store_true", help="print every undocumented symbol")
    parser.add_argument("--max", type=int, default=None, help="exit 1 when more than this many are undocumented")
    args = parser.parse_args()

    files = graph_files(args.folder)
    if not files:
        print(f"undocumented_symbols.py: no symbol graphs of {', '.join(MODULES)} under {args.folder}; run make docs first",
              file=sys.stderr)
        return 2
    symbols = {}
    for path in files:
        with open(path) as f:
            graph = json.load(f)
        module = graph["module"]["name"]
        for s in graph["symbols"]:
            if s.get("accessLevel") not in ("public", "open"):
                continue
            identifier = s["identifier"]["precise"]
            if "::SYNTHESIZED::" in identifier:
                continue
            symbols.setdefault(identifier, (module, s))

    own, inherited, generated, missing = 0, 0, 0, []
    for module, s in symbols.values():
        if "/Generated/" in s.get("location", {}).get("uri", ""):
            generated += 1
            continue
        comment = s.get("docComment")
        text = "".join(line.get("text", "") for line in comment.get("lines", [])).strip() if comment else ""
        if text and comment.get("module") not in (None, module) and comment.get("module") not in MODULES:
            inherited += 1
        elif text:
            own += 1
        else:
            location = s.get("location", {})
            where = location.get("uri", "").split("/Sources/")[-1]
            line = location.get("position", {}).get("line", -1) + 1
            missing.append((module, where, line, s["kind"]["displayName"], ".".join(s["pathComponents"])))

    total = own + inherited + len(missing)
    if args.list:
        for module, where, line, kind, path in sorted(missing):
            print(f"{module}\t{kind}\t{path}\t{where}:{line}")
    print(f"undocumented public symbols: {len(missing)} of {total} "
          f"({own} with their own comment, {inherited} inheriting a protocol's; "
          f"{generated} more generated from onnx.proto, not counted)")
    if args.max is not None and len(missing) > args.max:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
