#!/usr/bin/env python3
"""Finds import circles between the source files of Rust crates.

    scripts/import_cycles.py [CRATE_DIR ...]      (default: every workspace member)

For each crate (a directory with a Cargo.toml) it builds the module tree from
its roots (src/lib.rs, src/main.rs, src/bin/*.rs, tests/*.rs,
tests/*/main.rs, benches/*.rs, examples/*.rs) by following `mod name;`
declarations (and `#[path = "..."]`), then reads every path that starts at
the crate (`crate::a::b`, `super::x`, `self::y`, or a child module's name)
in `use` declarations and in code, and resolves it to the file of the
longest module prefix it names. File A imports file B when one of A's paths
resolves into B. Declaring a module (`mod b;`) is not importing it, and the
paths inside unit tests (`#[cfg(test)] mod tests { ... }`) are left out:
tests may use the crate's surface from anywhere. Test modules in files of
their own (`#[cfg(test)] mod tests;`) are files like any other.

A circle is a set of two or more files each reachable from the others along
import arrows (a strongly connected component). The script prints every
circle with one loop through it and the imports that make it, and exits 1 if
there is any, 0 otherwise. Every arrow inside a circle is listed with the
first line that makes it. Python 3 standard library only.
"""

import os
import re
import sys
import tomllib

# ---------------------------------------------------------------- lexing ----


def strip_code(text):
    """The text with comments, strings and char literals blanked out (same
    length, newlines kept), so positions and line numbers still match."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(blank(text[i:j]))
            i = j
        elif c == "r" and re.match(r'r#*"', text[i:i + 260]) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'r(#*)"', text[i:])
            end = '"' + m.group(1)
            j = text.find(end, i + len(m.group(0)))
            j = n if j < 0 else j + len(end)
            out.append(blank(text[i:j]))
            i = j
        elif c == '"' or (c == "b" and text.startswith('b"', i)):
            j = i + (2 if c == "b" else 1)
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j += 1
            out.append(blank(text[i:j]))
            i = j
        elif c == "'":
            # A char literal ('a', '\n', '\u{1F600}') or a lifetime ('a).
            m = re.match(r"'(\\u\{[0-9a-fA-F]+\}|\\.|[^\\'])'", text[i:i + 12])
            if m:
                out.append(blank(m.group(0)))
                i += len(m.group(0))
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def blank(s):
    return "".join("\n" if ch == "\n" else " " for ch in s)


def expand_use(tree):
    """`a::{b, c::{d, e}}` → ['a::b', 'a::c::d', 'a::c::e'] (aliases dropped)."""
    tree = re.sub(r"\s+as\s+\w+", "", tree)
    tree = re.sub(r"\s+", "", tree)
    out = []

    def walk(prefix, s):
        # Split s at top-level commas.
        parts, depth, cur = [], 0, ""
        for ch in s:
            if ch == "," and depth == 0:
                parts.append(cur)
                cur = ""
                continue
            depth += ch == "{"
            depth -= ch == "}"
            cur += ch
        parts.append(cur)
        for p in parts:
            if not p:
                continue
            k = p.find("{")
            if k >= 0:
                walk(prefix + p[:k], p[k + 1:p.rfind("}")])
            else:
                out.append(prefix + p)

    walk("", tree)
    return out


# ------------------------------------------------------------ module tree ----


class Crate:
    def __init__(self, root):
        self.root = os.path.normpath(root)
        self.name = os.path.basename(self.root)
        try:
            with open(os.path.join(self.root, "Cargo.toml"), "rb") as f:
                self.name = tomllib.load(f).get("package", {}).get("name", self.name)
        except (OSError, tomllib.TOMLDecodeError):
            pass
        # module path (tuple, per crate root) -> file; file -> its module paths
        self.modules = {}
        self.files = {}

    def roots(self):
        found = []
        src = os.path.join(self.root, "src")
        for name in ["lib.rs", "main.rs"]:
            if os.path.isfile(os.path.join(src, name)):
                found.append(os.path.join(src, name))
        for d in ["src/bin", "tests", "benches", "examples"]:
            full = os.path.join(self.root, d)
            if not os.path.isdir(full):
                continue
            for e in sorted(os.listdir(full)):
                p = os.path.join(full, e)
                if e.endswith(".rs") and os.path.isfile(p):
                    found.append(p)
                elif os.path.isfile(os.path.join(p, "main.rs")):
                    found.append(os.path.join(p, "main.rs"))
        # A package whose lib is elsewhere (`[lib] path = ...`).
        try:
            with open(os.path.join(self.root, "Cargo.toml"), "rb") as f:
                manifest = tomllib.load(f)
            for section in [manifest.get("lib", {})] + manifest.get("bin", []):
                p = section.get("path")
                if p and os.path.isfile(os.path.join(self.root, p)):
                    found.append(os.path.normpath(os.path.join(self.root, p)))
        except (OSError, tomllib.TOMLDecodeError):
            pass
        return list(dict.fromkeys(os.path.normpath(p) for p in found))

    def load(self):
        for root in self.roots():
            key = os.path.relpath(root, self.root)
            self.add_file(root, (key,), dir_for_children=os.path.dirname(root))

    def add_file(self, path, modpath, dir_for_children):
        if path in self.files and modpath in self.files[path]:
            return
        self.files.setdefault(path, []).append(modpath)
        self.modules[modpath] = path
        try:
            text = open(path, encoding="utf-8").read()
        except OSError:
            return
        code = strip_code(text)
        for m in re.finditer(r'(#\[path\s*=\s*"([^"]*)"\]\s*)?(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;', text):
            # Blank in the stripped code: a module named in a comment.
            if code[m.start()].isspace():
                continue
            name, explicit = m.group(3), m.group(2)
            inline = self.inline_modules_at(code, m.start())
            child_dir = os.path.join(dir_for_children, *inline)
            if explicit:
                child = os.path.normpath(os.path.join(os.path.dirname(path), explicit))
                grand_dir = os.path.join(os.path.dirname(child), os.path.splitext(os.path.basename(child))[0])
            else:
                a = os.path.join(child_dir, name + ".rs")
                b = os.path.join(child_dir, name, "mod.rs")
                child = a if os.path.isfile(a) else b
                grand_dir = os.path.join(child_dir, name)
            if os.path.isfile(child):
                self.add_file(os.path.normpath(child), modpath + tuple(inline) + (name,), grand_dir)

    def inline_modules_at(self, code, pos):
        return [name for name, start, end in inline_modules(code) if start < pos < end]


def inline_modules(code):
    """(name, body start, body end) of every `mod name { ... }` in code, outermost first."""
    found = []
    for m in re.finditer(r"\bmod\s+(\w+)\s*\{", code):
        depth, j = 1, m.end()
        while j < len(code) and depth:
            depth += code[j] == "{"
            depth -= code[j] == "}"
            j += 1
        found.append((m.group(1), m.end(), j))
    return found


def test_modules(code):
    """(start, end) of every inline module under `#[cfg(test)]`."""
    found = []
    for m in re.finditer(r"#\[cfg\(test\)\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*\{", code):
        depth, j = 1, m.end()
        while j < len(code) and depth:
            depth += code[j] == "{"
            depth -= code[j] == "}"
            j += 1
        found.append((m.start(), j))
    return found


# ---------------------------------------------------------------- imports ----

PATH = re.compile(r"(?<![\w:])((?:crate|super|self|[a-z_][a-z0-9_]*)(?:\s*::\s*(?:\w+|\{))+)")


def imports(crate, path):
    """(target file, line number, the path as written) for each crate path in path."""
    text = open(path, encoding="utf-8").read()
    code = strip_code(text)
    inl = inline_modules(code)
    found = []

    def here(pos):
        return [name for name, s, e in inl if s < pos < e]

    def line_of(pos):
        return code.count("\n", 0, pos) + 1

    # Unit tests (`#[cfg(test)] mod tests { ... }`) may use the crate's
    # surface from anywhere: their paths are not the file's imports.
    tests = [(s, e) for s, e in test_modules(code)]
    spans = list(tests)
    for m in re.finditer(r"\buse\s+([^;]*);", code):
        if any(s <= m.start() < e for s, e in tests):
            continue
        spans.append((m.start(), m.end()))
        for p in expand_use(m.group(1)):
            found.append((m.start(), p))
    for m in PATH.finditer(code):
        if any(s <= m.start() < e for s, e in spans):
            continue
        p = re.sub(r"\s+", "", m.group(1)).rstrip(":{")
        found.append((m.start(), p))
    found = [(pos, re.sub(r"::self$", "", p)) for pos, p in found]

    out = []
    for modpath in crate.files[path]:
        for pos, p in found:
            target = resolve(crate, modpath + tuple(here(pos)), p.split("::"))
            if target and target != path:
                out.append((target, line_of(pos), p))
    return out


def resolve(crate, current, segs):
    segs = [s for s in segs if s and s != "*"]
    if not segs:
        return None
    root = current[:1]
    if segs[0] == "crate":
        base, rest = root, segs[1:]
    elif segs[0] in ("super", "self"):
        base, rest = current, segs
        while rest and rest[0] in ("super", "self"):
            if rest[0] == "super":
                base = base[:-1] if len(base) > 1 else base
            rest = rest[1:]
    elif current + (segs[0],) in crate.modules:
        base, rest = current, segs
    else:
        return None  # another crate, std, or a local name
    # The longest prefix that is a module; inline modules map to their file.
    mod = base
    for s in rest:
        if base + (s,) in crate.modules or any(k[:len(base) + 1] == base + (s,) for k in crate.modules):
            base = base + (s,)
            mod = base
        else:
            break
    while mod not in crate.modules and len(mod) > 1:
        mod = mod[:-1]
    return crate.modules.get(mod)


# ----------------------------------------------------------------- cycles ----


def circles(graph):
    """Strongly connected components of two or more nodes (Tarjan)."""
    index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return comps


def loop_through(graph, comp):
    """One loop through the first file of a circle (breadth-first, shortest)."""
    start, members = comp[0], set(comp)
    prev, queue = {start: None}, [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph.get(v, ())):
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return list(reversed(path)) + [start]
            if w in members and w not in prev:
                prev[w] = v
                queue.append(w)
    return comp


def workspace_members(top):
    with open(os.path.join(top, "Cargo.toml"), "rb") as f:
        manifest = tomllib.load(f)
    return [os.path.join(top, m) for m in manifest.get("workspace", {}).get("members", [])]


def main(argv):
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    dirs = argv or workspace_members(top)
    bad = 0
    for d in dirs:
        crate = Crate(d)
        crate.load()
        graph, why = {}, {}
        for f in crate.files:
            graph.setdefault(f, set())
            for target, line, p in imports(crate, f):
                graph[f].add(target)
                why.setdefault((f, target), (line, p))
        comps = circles(graph)
        rel = lambda f: os.path.relpath(f, crate.root)
        edges = sum(len(v) for v in graph.values())
        print(f"{crate.name}: {len(crate.files)} files, {edges} import arrows, {len(comps)} circle(s)")
        for comp in comps:
            bad += 1
            loop = loop_through(graph, comp)
            print(f"  circle of {len(comp)}: " + " → ".join(rel(f) for f in loop))
            members = set(comp)
            for a in comp:
                for b in sorted(graph[a] & members):
                    line, p = why[(a, b)]
                    print(f"    {rel(a)}:{line} uses {p}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
