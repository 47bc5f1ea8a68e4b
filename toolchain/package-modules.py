#!/usr/bin/env python3
"""Prints, from Package.swift, the library modules that targets need and the libraries to link.

    toolchain/package-modules.py [--package-path DIR] [--manifest FILE] [--modules] [--libs] [--deps] --for TARGET...

--modules (the default) prints one line: every library (`.target`) module that the named
targets depend on, directly or not, the named ones included when they are libraries, in
dependency order (a module after everything it imports; ties in Package.swift's order).
Executables, test targets and system-library (module map) targets are not printed.
--libs prints one line: the `-lNAME` flags for the same dependency closure, from the targets'
`linkerSettings: [.linkedLibrary(...)]` (Linux ones) and the system-library targets' module
map `link` lines, ordered for a static link (a library after every module that uses it).
With both, modules come on the first line and libraries on the second.
--deps then prints one line per module of that closure, in the same order, `MODULE:` and the
library modules it imports, directly or not, in dependency order (what a change in recompiles
it).

The manifest is read from `swift package dump-package` in DIR (default: this repository;
SWIFT_BIN= picks the toolchain) or, with --manifest, from that command's saved JSON ("-" for
stdin); module maps are read from DIR. Exit status 2 for a usage error or a manifest the
device and fuzz builds cannot follow (an unknown target, a dependency on another package, a
library outside Sources/<name>/).

Used by toolchain/build (the device build) and fuzz/run (the fuzz targets), which compile the same
Sources/ folders with swiftc directly and so need the order SwiftPM works out for itself.
"""

import argparse
import json
import os
import re
import subprocess
import sys

DEFAULT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The builds run on Linux: a setting conditioned on other platforms does not apply.
PLATFORM = "linux"
# A module map's `link "name"` line (Clang module map language); `link framework` is Darwin's.
MODULEMAP_LINK = re.compile(r'^\s*link\s+"([^"]+)"', re.MULTILINE)


class ManifestError(Exception):
    pass


def load_manifest(path, root):
    if path == "-":
        return json.load(sys.stdin)
    if path:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    swift = os.path.join(os.environ.get("SWIFT_BIN", "/opt/swift/usr/bin"), "swift")
    # A scratch path of our own: `swift package` must not wait on another build's .build lock.
    scratch = os.path.join(os.environ.get("TMPDIR", "/tmp"), "package-modules-%d" % os.getuid())
    try:
        out = subprocess.run(
            [swift, "package", "--package-path", root, "--scratch-path", scratch, "dump-package"],
            check=True, stdout=subprocess.PIPE, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise ManifestError("swift package dump-package failed: %s" % e)
    return json.loads(out)


def applies(condition):
    """A dependency or setting condition: absent, or naming Linux among its platforms."""
    if not condition:
        return True
    platforms = condition.get("platformNames") or []
    return not platforms or PLATFORM in platforms


def dependency_names(target):
    names = []
    for dep in target.get("dependencies", []):
        (kind, value), = dep.items()
        if kind == "product":
            raise ManifestError("%s depends on product %s of another package, which the swiftc "
                                "builds cannot compile" % (target["name"], value[0]))
        # byName and target: [name, condition]
        if applies(value[1] if len(value) > 1 else None):
            names.append(value[0])
    return names


def closure_in_order(targets, roots):
    """The roots and everything they depend on, dependencies first, ties in manifest order."""
    order = {name: i for i, name in enumerate(targets)}
    needed, stack = set(), list(roots)
    while stack:
        name = stack.pop()
        if name in needed:
            continue
        if name not in targets:
            raise ManifestError("no target %s in Package.swift" % name)
        needed.add(name)
        stack.extend(dependency_names(targets[name]))
    # Kahn's algorithm, always taking the earliest-declared ready target: the order is stable
    # and changes only where Package.swift changes.
    waiting = {n: set(dependency_names(targets[n])) for n in needed}
    result = []
    while waiting:
        ready = sorted((n for n, deps in waiting.items() if not deps), key=order.get)
        if not ready:
            raise ManifestError("dependency cycle among %s" % " ".join(sorted(waiting)))
        result.append(ready[0])
        del waiting[ready[0]]
        for deps in waiting.values():
            deps.discard(ready[0])
    return result


def libraries_of(target, root):
    libs = []
    for setting in target.get("settings", []):
        kind = setting.get("kind", {})
        if setting.get("tool") == "linker" and "linkedLibrary" in kind and applies(setting.get("condition")):
            libs.append(kind["linkedLibrary"]["_0"])
    if target.get("type") == "system":
        path = os.path.join(root, target.get("path") or os.path.join("Sources", target["name"]),
                            "module.modulemap")
        try:
            with open(path, encoding="utf-8") as f:
                libs.extend(MODULEMAP_LINK.findall(f.read()))
        except OSError as e:
            raise ManifestError("system library %s: %s" % (target["name"], e))
    return libs


def link_order(targets, ordered, root):
    """Each library once, after every module that needs it: users come before their
    dependencies in reverse dependency order, and a repeated library keeps its last place."""
    sequence = [lib for name in reversed(ordered) for lib in libraries_of(targets[name], root)]
    return [lib for i, lib in enumerate(sequence) if lib not in sequence[i + 1:]]


def library_modules(targets, ordered):
    modules = []
    for name in ordered:
        target = targets[name]
        if target["type"] != "regular":
            continue
        # The swiftc builds compile Sources/<name>/ and name the module after the folder.
        path = target.get("path")
        if path not in (None, "Sources/" + name, "Sources/%s/" % name):
            raise ManifestError("%s lives in %s; the device and fuzz builds expect Sources/%s/"
                                % (name, path, name))
        modules.append(name)
    return modules


def main():
    parser = argparse.ArgumentParser(
        description="Library modules (dependency order) and link libraries from Package.swift.")
    parser.add_argument("--for", dest="roots", nargs="+", required=True, metavar="TARGET",
                        help="targets whose dependency closure to print")
    parser.add_argument("--modules", action="store_true", help="print the library modules (default)")
    parser.add_argument("--libs", action="store_true", help="print the -l flags")
    parser.add_argument("--deps", action="store_true",
                        help="then one line per module: MODULE: the modules it imports, directly or not")
    parser.add_argument("--package-path", metavar="DIR", default=DEFAULT_ROOT,
                        help="the package (default: this repository)")
    parser.add_argument("--manifest", metavar="FILE",
                        help="saved `swift package dump-package` JSON, - for stdin")
    args = parser.parse_args()
    try:
        manifest = load_manifest(args.manifest, args.package_path)
        targets = {t["name"]: t for t in manifest["targets"]}
        for name in args.roots:
            if name in targets and targets[name]["type"] == "test":
                raise ManifestError("%s is a test target" % name)
        ordered = closure_in_order(targets, args.roots)
        modules = library_modules(targets, ordered)
        if args.modules or not (args.libs or args.deps):
            print(" ".join(modules))
        if args.libs:
            print(" ".join("-l" + lib for lib in link_order(targets, ordered, args.package_path)))
        if args.deps:
            for name in modules:
                # The module's own closure ends with the module itself.
                below = library_modules(targets, closure_in_order(targets, [name]))[:-1]
                print(" ".join([name + ":"] + below))
    except (ManifestError, OSError, ValueError, KeyError) as e:
        print("package-modules.py: error: %s" % e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
