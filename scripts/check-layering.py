#!/usr/bin/env python3
"""Check that no two files of a workspace crate use each other, directly or round a loop.

Usage: python3 scripts/check-layering.py [--verbose | --graph CRATE_DIR]

For each crate of the workspace (the `members` of the root Cargo.toml, and
the facade at the root) it draws the file-level import graph of `src/` and
fails, listing every circle, if the graph has one. `--graph runtime` prints
the edges of one crate instead (file -> files it uses), for drawing the
diagram in docs/architecture.md; `--verbose` also prints the allowed
circles.

What counts as an edge (file A uses file B):

1. A path in A's code that starts with `crate::`, `$crate::`, `super::` or
   `self::` (in a `use` item or written out in an expression or a type),
   resolved segment by segment to the deepest module that has a file of its
   own (`x.rs` or `x/mod.rs`). A path into an inline `mod x { ... }` stays in
   the file that holds it.
2. A name imported from a module (`use super::worker;`, then `worker::run`)
   is followed the same way.
3. A module's face does not count. `mod x;` declarations are not edges
   (a parent declares its children; it does not use them). A `pub use` /
   `pub(crate) use` / `pub(super) use` item is a re-export: it is not an
   edge, and a path that lands on a re-exported name is followed to the file
   that defines it. So a `mod.rs` (or `lib.rs`) that declares children and
   re-exports their items is the module's face, not a node between them;
   one that defines items of its own (a type, a fn) is a node like any other
   file, and a re-exported name it also uses in its own code is an edge.
4. Test code does not count: `#[cfg(test)]` / `#[cfg(all(test, ...))]`
   items (inline `mod tests { ... }` blocks) and the files of `src/**/tests/`
   directories sit on top of everything and may use anything.
5. Comments, string literals and doc comments are not code: a path written
   there is prose (scripts/check-doc-refs.py checks those).

A circle is a strongly connected component of two or more files; each is
printed with its files and one loop through each of its edges.

ALLOWED below lists circles that are known and owned by someone else's open
work (each entry says whose and why). A circle is allowed when its files
are a subset of one entry. An entry that no longer matches any circle is
reported as stale (a note, not a failure), so the list shrinks as circles
are broken.

Exit status: 0 when no circle is left outside ALLOWED, 1 otherwise.
"""

import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (crate dir, files relative to its src/, why). Each entry is a circle
# someone is breaking; a circle that shrinks stays allowed, one that grows
# or appears elsewhere fails.
ALLOWED = [
]


# ---------------------------------------------------------------- source text


def strip_comments_and_strings(text):
    """The source with comments, string and char literals blanked (same length, same lines)."""
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
        elif c == "r" and re.match(r'r#*"', text[i:i + 10]) and not ident_char(text, i - 1):
            hashes = re.match(r'r(#*)"', text[i:]).group(1)
            end = text.find('"' + hashes, i + 2 + len(hashes))
            j = n if end < 0 else end + 1 + len(hashes)
            out.append(blank(text[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(blank(text[i:j + 1]))
            i = j + 1
        elif c == "'":
            m = re.match(r"'(\\.[^']*|[^\\'])'", text[i:i + 12])
            if m:
                out.append(blank(m.group(0)))
                i += len(m.group(0))
            else:  # a lifetime
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def blank(s):
    return re.sub(r"[^\n]", " ", s)


def ident_char(text, i):
    return i >= 0 and (text[i].isalnum() or text[i] == "_")


def matching_brace(code, open_at):
    """Index of the `}` that closes the `{` at open_at."""
    depth = 0
    for j in range(open_at, len(code)):
        if code[j] == "{":
            depth += 1
        elif code[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    return len(code)


TEST_CFG = re.compile(r"#\[cfg\((?:test|all\([^\]]*\btest\b[^\]]*\))\)\]")


def strip_test_items(code):
    """Blank every item under #[cfg(test)] or #[cfg(all(test, ...))]."""
    while True:
        m = TEST_CFG.search(code)
        if not m:
            return code
        start = m.start()
        j = m.end()
        # The item: up to its `;` (a `mod x;` / `use`) or its braced body.
        semi = code.find(";", j)
        brace = code.find("{", j)
        if brace >= 0 and (semi < 0 or brace < semi):
            end = matching_brace(code, brace) + 1
        else:
            end = semi + 1 if semi >= 0 else len(code)
        code = code[:start] + blank(code[start:end]) + code[end:]


INLINE_MOD = re.compile(r"\bmod\s+([A-Za-z_]\w*)\s*\{")


def inline_mods(code):
    """(start, end, name) of each inline `mod name { ... }` block."""
    spans = []
    for m in INLINE_MOD.finditer(code):
        spans.append((m.end() - 1, matching_brace(code, m.end() - 1), m.group(1)))
    return spans


def inline_path_at(spans, offset):
    """The inline module names enclosing offset, outermost first."""
    return [name for start, end, name in sorted(spans) if start < offset < end]


# ---------------------------------------------------------------- use trees

USE_ITEM = re.compile(r"(?<![\w$])(pub(?:\s*\([^)]*\))?\s+)?use\s+([^;]+);")


def expand_use_tree(tree):
    """[(path segments, alias)] for each leaf of a use tree; alias None for a glob.

    Renames arrive as `name@as@alias` (see use_leaves)."""
    tree = re.sub(r"\s+", "", tree)
    leaves = []

    def walk(prefix, s):
        s = s.strip(",")
        if not s:
            return
        brace = s.find("{")
        if brace >= 0 and s.endswith("}") and top_level_brace(s, brace):
            head = [p for p in s[:brace].split("::") if p]
            for part in split_top(s[brace + 1:-1]):
                walk(prefix + head, part)
            return
        parts = s.split("::")
        path = prefix + [p for p in parts if p]
        if path and path[-1] == "*":
            leaves.append((path[:-1], None))
        elif path and path[-1] == "self":
            leaves.append((path[:-1], path[-2] if len(path) > 1 else None))
        elif path:
            leaves.append((path, path[-1]))

    walk([], tree)
    return leaves


def top_level_brace(s, brace):
    depth = 0
    for j in range(brace, len(s)):
        depth += {"{": 1, "}": -1}.get(s[j], 0)
        if depth == 0:
            return j == len(s) - 1
    return False


def split_top(s):
    parts, depth, cur = [], 0, []
    for ch in s:
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        depth += {"{": 1, "}": -1}.get(ch, 0)
        cur.append(ch)
    parts.append("".join(cur))
    return [p for p in parts if p]


def use_leaves(tree):
    """Like expand_use_tree, honouring `x as y` renames."""
    # Mark renames before whitespace is removed.
    marked = re.sub(r"\s+as\s+", " @as@ ", tree)
    leaves = []
    for path, alias in expand_use_tree(marked.replace(" @as@ ", "@as@")):
        if path and "@as@" in path[-1]:
            name, alias = path[-1].split("@as@")
            path = path[:-1] + [name]
        leaves.append((path, alias))
    return leaves


# ---------------------------------------------------------------- one crate


class Crate:
    def __init__(self, root):
        self.root = root  # the crate directory
        self.src = os.path.join(root, "src")
        self.files = {}  # module path tuple -> file (relative to src)
        for dirpath, dirs, names in os.walk(self.src):
            dirs[:] = [d for d in dirs if d not in ("tests", "bin")]
            for name in names:
                if not name.endswith(".rs"):
                    continue
                rel = os.path.relpath(os.path.join(dirpath, name), self.src)
                module = module_of(rel)
                if module is not None:
                    self.files[module] = rel
        self.code = {}
        test_modules = set()
        for module, rel in self.files.items():
            with open(os.path.join(self.src, rel), encoding="utf-8") as f:
                code = strip_comments_and_strings(f.read())
            # Files declared under a test cfg (`#[cfg(test)] mod tests;`).
            for m in re.finditer(TEST_CFG.pattern + r"\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", code):
                test_modules.add(module + (m.group(1),))
            self.code[rel] = strip_test_items(code)
        for module in test_modules:
            rel = self.files.pop(module, None)
            self.code.pop(rel, None)
        self.reexports = {rel: self.read_reexports(rel) for rel in self.code}
        # `#[macro_export]` puts a macro at the crate root, wherever it is
        # written: `crate::name!` is a use of the file that defines it.
        self.exported_macros = {}
        for rel, code in self.code.items():
            for m in re.finditer(r"#\[macro_export\]\s*macro_rules!\s*([A-Za-z_]\w*)", code):
                self.exported_macros[m.group(1)] = rel

    def module_of_file(self, rel):
        return module_of(rel)

    def read_reexports(self, rel):
        """name -> (absolute path segments) of each `pub ... use` leaf of the file."""
        found = {}
        globs = []
        for m in USE_ITEM.finditer(self.code[rel]):
            if not m.group(1):
                continue
            for path, alias in use_leaves(m.group(2)):
                absolute = self.absolute(rel, path, m.start())
                if absolute is None:
                    continue
                if alias is None:
                    globs.append(absolute)
                else:
                    found[alias] = absolute
        found["*"] = globs
        return found

    def absolute(self, rel, path, offset):
        """The path as segments from the crate root, or None if it leaves the crate."""
        if not path:
            return None
        here = list(self.module_of_file(rel)) + inline_path_at(inline_mods(self.code[rel]), offset)
        head, rest = path[0], path[1:]
        if head in ("crate", "$crate"):
            base = []
        elif head == "self":
            base = here
        elif head == "super":
            base = here[:-1]
            while rest and rest[0] == "super":
                base, rest = base[:-1], rest[1:]
        elif tuple(here + [head]) in self.files:
            return here + path  # a child module, named without `self::`
        else:
            return None  # an external crate, std, or a name in scope
        return base + rest

    def file_of(self, absolute, seen=None):
        """The file that defines what the absolute path names."""
        seen = seen or set()
        if len(absolute) == 1 and absolute[0] in self.exported_macros:
            return self.exported_macros[absolute[0]]
        module, i = (), 0
        while i < len(absolute) and tuple(absolute[: i + 1]) in self.files:
            i += 1
            module = tuple(absolute[:i])
        rel = self.files.get(module)
        if rel is None:
            return None
        if i == len(absolute):
            return rel  # the path names a module: its file
        name = absolute[i]
        target = self.reexports[rel].get(name)
        key = (rel, name)
        if target is not None and key not in seen:
            seen.add(key)
            return self.file_of(target + absolute[i + 1:], seen) or rel
        if not defines(self.code[rel], name):
            for glob in self.reexports[rel]["*"]:
                if (rel, "*", tuple(glob)) in seen:
                    continue
                seen.add((rel, "*", tuple(glob)))
                owner = self.file_of(glob + [name], seen)
                if owner is not None and owner != self.files.get(tuple(glob)):
                    return owner
                if owner is not None and defines(self.code[owner], name):
                    return owner
        return rel

    def edges(self):
        """file -> {file it uses: an example path}."""
        graph = {rel: {} for rel in self.code}
        for rel, code in self.code.items():
            for path, offset in self.paths_in(rel, code):
                absolute = self.absolute(rel, path, offset)
                if absolute is None:
                    continue
                target = self.file_of(absolute)
                if target is not None and target != rel:
                    graph[rel].setdefault(target, "::".join(path))
        return graph

    def paths_in(self, rel, code):
        """(segments, offset) of every crate-relative path in the file's code."""
        reexported_names = set()
        aliases = {}
        for m in USE_ITEM.finditer(code):
            leaves = use_leaves(m.group(2))
            if m.group(1):  # a re-export: the face, not an edge
                reexported_names.update(alias for _, alias in leaves if alias)
                continue
            for path, alias in leaves:
                yield path, m.start()
                if alias and self.absolute(rel, path, m.start()) is not None:
                    aliases[alias] = path
        # Paths written out in code (not in a use item).
        body = USE_ITEM.sub(lambda m: blank(m.group(0)), code)
        for m in re.finditer(r"(?<![\w:])(\$?crate|super|self)((?:::[A-Za-z_]\w*)+)", body):
            yield [m.group(1)] + m.group(2).split("::")[1:], m.start()
        # Names imported from a module, used as `name::Item`; a child
        # module is in scope by its name.
        here = self.module_of_file(rel)
        for module in self.files:
            if len(module) == len(here) + 1 and module[:-1] == here:
                aliases.setdefault(module[-1], ["self", module[-1]])
        for alias, path in aliases.items():
            pattern = r"(?<![\w:])" + re.escape(alias) + r"((?:::[A-Za-z_]\w*)+)"
            for m in re.finditer(pattern, body):
                yield path + m.group(1).split("::")[1:], m.start()
        # A re-exported name the file also uses in its own code (not in a
        # `mod` declaration or a derive, where the same word names a module
        # or a std trait).
        own = re.sub(r"\bmod\s+\w+\s*;|#\[derive\([^)]*\)\]", lambda m: blank(m.group(0)), body)
        for name in reexported_names:
            if re.search(r"(?<![\w:])" + re.escape(name) + r"(?!\w)", own):
                for m in USE_ITEM.finditer(code):
                    if not m.group(1):
                        continue
                    for path, alias in use_leaves(m.group(2)):
                        if alias == name:
                            yield path, m.start()


def module_of(rel):
    """Module path (tuple) of a file relative to src/, or None for a bin."""
    parts = rel[:-3].split(os.sep)
    if parts[-1] in ("lib", "main") and len(parts) == 1:
        return ()
    if parts[-1] == "mod":
        parts = parts[:-1]
    return tuple(parts)


def defines(code, name):
    n = re.escape(name)
    return re.search(
        r"\b(?:fn|struct|enum|trait|type|const|static|mod|union)\s+" + n + r"(?!\w)"
        r"|macro_rules!\s*" + n + r"(?!\w)",
        code,
    ) is not None


# ---------------------------------------------------------------- circles


def strongly_connected(graph):
    """Tarjan: the components of two or more nodes."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
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
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def shortest_path(graph, start, goal, within):
    """Breadth-first path start -> goal inside the component."""
    previous = {start: None}
    queue = [start]
    for node in queue:
        if node == goal:
            break
        for nxt in sorted(graph[node]):
            if nxt in within and nxt not in previous:
                previous[nxt] = node
                queue.append(nxt)
    path, node = [], goal
    while node is not None:
        path.append(node)
        node = previous[node]
    return path[::-1]


def loops(graph, component):
    """One loop through each edge of the component, without repeats."""
    within = set(component)
    seen = set()
    for a in component:
        for b in sorted(graph[a]):
            if b not in within:
                continue
            back = shortest_path(graph, b, a, within)
            loop = tuple([a] + back)
            key = frozenset(zip(loop, loop[1:]))
            if key not in seen:
                seen.add(key)
                yield loop


# ---------------------------------------------------------------- main


def crate_dirs():
    with open(os.path.join(REPO, "Cargo.toml"), encoding="utf-8") as f:
        text = f.read()
    members = re.search(r"members\s*=\s*\[([^\]]*)\]", text).group(1)
    return ["."] + re.findall(r'"([^"]+)"', members)


def main(argv):
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__.strip())
        return 0
    if argv[:1] == ["--graph"] and len(argv) == 2:
        graph = Crate(os.path.join(REPO, argv[1])).edges()
        for rel in sorted(graph):
            print(f"{rel} -> {', '.join(sorted(graph[rel])) or '-'}")
        return 0
    verbose = argv[:1] == ["--verbose"]
    failures, used_allowances, files, allowed_count = 0, set(), 0, 0
    for directory in crate_dirs():
        crate = Crate(os.path.join(REPO, directory))
        files += len(crate.files)
        graph = crate.edges()
        for component in strongly_connected(graph):
            allowance = next(
                (i for i, (d, allowed, _) in enumerate(ALLOWED) if d == directory and set(component) <= set(allowed)),
                None,
            )
            if allowance is not None and not verbose:
                used_allowances.add(allowance)
                allowed_count += 1
                continue
            label = "allowed circle" if allowance is not None else "circle"
            where = os.path.normpath(os.path.join(directory, "src"))
            print(f"{where}: {label} of {len(component)} files: {', '.join(component)}")
            for loop in loops(graph, component):
                print("    " + " -> ".join(loop))
            if allowance is None:
                failures += 1
            else:
                used_allowances.add(allowance)
    for i, (directory, allowed, why) in enumerate(ALLOWED):
        if i not in used_allowances:
            print(f"note: allow-list entry {directory}: {', '.join(allowed)} matches no circle; remove it", file=sys.stderr)
    if failures:
        print(f"check-layering: {failures} circle(s) between files; break each by moving what both use into a lower file, or by passing a hook", file=sys.stderr)
        return 1
    plural = "circle" if allowed_count == 1 else "circles"
    allowed = f" outside {allowed_count} allowed {plural} (--verbose lists them)" if allowed_count else ""
    print(f"check-layering: no circle between the {files} files of {len(crate_dirs())} crates{allowed}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
