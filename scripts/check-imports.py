#!/usr/bin/env python3
"""Every module a target imports is declared in Package.swift.

SwiftPM lets a target import a module that only reaches it through another target's dependencies; the build
then works by accident and breaks when that other target changes. This reads the package description
(`swift package dump-package`) and every source file's imports, and fails naming each undeclared one.

Usage: scripts/check-imports.py [package-dir]   (exit 1 when any import is undeclared)
"""
import json
import os
import re
import subprocess
import sys

# Modules that come with the toolchain, not from a package.
TOOLCHAIN = {
    "Foundation", "FoundationEssentials", "FoundationNetworking", "FoundationInternationalization", "Dispatch",
    "Glibc", "Musl", "Darwin", "Synchronization", "Testing", "XCTest", "_Concurrency", "Swift", "os", "CoreFoundation",
    "RegexBuilder", "Observation", "Distributed", "PackageDescription",
}
# Imports that cannot be declared, each with why it is made anyway.
UNDECLARABLE = {
    # sqlite-nio vendors SQLite as a target it does not publish as a product. Persistence calls that same copy
    # (one SQLite per process keeps the file locks of every connection coherent); the module reaches it through
    # the declared SQLiteNIO product.
    ("Persistence", "VaporCSQLite"),
}
IMPORT = re.compile(r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*import\s+(?:(?:struct|class|enum|protocol|func|var|let|typealias)\s+)?([A-Za-z_][A-Za-z0-9_]*)", re.M)


def main() -> int:
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
    package = json.loads(subprocess.run(["swift", "package", "dump-package"], cwd=root, check=True, capture_output=True, text=True).stdout)
    problems = []
    for target in package["targets"]:
        if target["type"] in ("plugin", "binary"):
            continue
        name = target["name"]
        declared = {name}
        for dependency in target.get("dependencies", []):
            kind, value = next(iter(dependency.items()))
            declared.add(value[0])  # byName, target or product: the first element is the module's name
        default = "Tests" if target["type"] == "test" else "Sources"
        path = os.path.join(root, target.get("path") or os.path.join(default, name))
        for directory, _, files in os.walk(path):
            for file in files:
                if not file.endswith(".swift"):
                    continue
                full = os.path.join(directory, file)
                with open(full, encoding="utf-8") as handle:
                    text = handle.read()
                for module in sorted(set(IMPORT.findall(text))):
                    if module not in declared and module not in TOOLCHAIN and (name, module) not in UNDECLARABLE:
                        problems.append(f"{os.path.relpath(full, root)}: target {name} imports {module}, which Package.swift does not declare")
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} undeclared import(s): add each module to its target's dependencies in Package.swift")
        return 1
    print("imports: every module a target imports is declared")
    return 0


if __name__ == "__main__":
    sys.exit(main())
