#!/usr/bin/env python3
"""Check that the guide's links to code cannot rot.

Usage: python3 scripts/check-guide-links.py [FILE.md ...]

With no arguments it checks every Markdown file under docs/guide/ and
docs/architecture.md. For each inline Markdown link `[text](target)` outside
fenced code blocks:

1. A relative target (anything without a URL scheme) must resolve, relative
   to the Markdown file that contains it, to an existing file or directory.
   An anchor (`#...`) is stripped before the check; a link to an anchor of
   the same page (`#...` alone) is not checked.
2. If the link text is a single code span, e.g.
   [`State::transition_to_running`](../../runtime/src/task/state.rs),
   it names an item. The last `::`-separated segment must be *defined* in
   the target file: after `fn`, `struct`, `enum`, `trait`, `type`, `const`,
   `static`, `mod` or `macro_rules!`, or as a struct field (`name:`) or an
   enum variant (a line starting with `Name,` `Name(` or `Name {`). Every
   earlier segment (the type or module) must appear in the file as a whole
   word. Call parentheses `()`, a macro bang `!` and generic arguments
   `<...>` are ignored, so `join!`, `Lock<T>` and `block_on()` are accepted.
   A code span that contains a `/` or a `.` (a path such as
   `runtime/src/task/`) is a file name, not an item, and only rule 1
   applies.
3. Every chapter of the guide (a file named `NN-*.md` or `NNa-*.md` under docs/guide/)
   must hold at least one diagram (a fenced ```text or ```mermaid block)
   and end with an exercise (a `## Exercise` heading).

Links with a scheme (`https:`, `mailto:` ...) are not fetched.

Exit status: 0 when everything holds, 1 when anything is broken (each
problem is listed as `file:line: problem` on stdout, with a count on
stderr), 2 on bad usage (a path that does not exist).
"""

import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_ROOTS = [os.path.join(REPO, "docs", "guide"), os.path.join(REPO, "docs", "architecture.md")]

# [text](target) with no nested brackets in text; target without spaces.
LINK = re.compile(r"\[([^\[\]]+)\]\(([^()\s]+)\)")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
FENCE = re.compile(r"^\s*(```|~~~)")
CODE_SPAN = re.compile(r"^`([^`]+)`$")
IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def markdown_files(args):
    """Every Markdown file to check: the arguments, or the default roots."""
    roots = args or DEFAULT_ROOTS
    files = []
    for root in roots:
        if os.path.isdir(root):
            for dirpath, _dirs, names in os.walk(root):
                files.extend(os.path.join(dirpath, n) for n in sorted(names) if n.endswith(".md"))
        elif os.path.isfile(root):
            files.append(root)
        else:
            print(f"check-guide-links: no such file or directory: {root}", file=sys.stderr)
            sys.exit(2)
    return sorted(files)


def links_outside_code(path):
    """Yield (line number, text, target) for each inline link outside fenced code."""
    in_fence = False
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if FENCE.match(line):
                in_fence = not in_fence
                continue
            if in_fence:
                continue
            for match in LINK.finditer(line):
                yield number, match.group(1), match.group(2)


def item_segments(text):
    """The item segments a link text names, or None if it names no item."""
    span = CODE_SPAN.match(text.strip())
    if not span:
        return None
    name = span.group(1).strip()
    if "/" in name or "." in name:
        return None
    name = re.sub(r"<.*>", "", name)  # generic arguments
    name = name.replace("()", "").rstrip("!")
    segments = [s for s in name.split("::") if s]
    bad = [s for s in segments if not IDENT.match(s)]
    if bad or not segments:
        return ["<malformed: " + span.group(1) + ">"]
    return segments


def check_link(md_path, text, target):
    """Return a problem description, or None if the link is sound."""
    if SCHEME.match(target) or target.startswith("#"):
        return None
    file_part = target.split("#", 1)[0]
    resolved = os.path.normpath(os.path.join(os.path.dirname(md_path), file_part))
    if not os.path.exists(resolved):
        return f"link target does not exist: {target}"
    segments = item_segments(text)
    if segments is None:
        return None
    if segments[0].startswith("<malformed"):
        return f"cannot read an item name in link text {text} (use `Type::method`, `fn_name` or `macro!`)"
    if os.path.isdir(resolved):
        return f"link text {text} names an item but {target} is a directory; link the file that defines it"
    with open(resolved, encoding="utf-8", errors="replace") as f:
        source = f.read()
    *owners, item = segments
    missing = [s for s in owners if not re.search(word(s), source)]
    if missing:
        return f"{', '.join(missing)} (from {text}) not found in {target}"
    if not any(re.search(pattern, source, re.MULTILINE) for pattern in definitions(item)):
        if re.search(word(item), source):
            return f"{item} (from {text}) is mentioned but not defined in {target}; link the file that defines it"
        return f"{item} (from {text}) not found in {target}"
    return None


def word(name):
    """A regex matching `name` as a whole identifier."""
    return r"(?<![A-Za-z0-9_])" + re.escape(name) + r"(?![A-Za-z0-9_])"


def definitions(name):
    """Regexes that match a definition of the item `name` in Rust source."""
    n = re.escape(name)
    return [
        r"\b(?:fn|struct|enum|trait|type|const|static|mod|union)\s+" + n + r"(?![A-Za-z0-9_])",
        r"macro_rules!\s*" + n + r"(?![A-Za-z0-9_])",
        r"^\s*(?:pub(?:\([a-z]+\))?\s+)?" + n + r"\s*:(?!:)",  # a struct field
        r"^\s*" + n + r"\s*(?:,|\(|\{|=|$)",  # an enum variant
    ]


CHAPTER = re.compile(r"^\d\d[a-z]?-.*\.md$")


def chapter_problems(path):
    """Structural problems of a guide chapter (rule 3), as messages."""
    if not CHAPTER.match(os.path.basename(path)):
        return []
    with open(path, encoding="utf-8") as f:
        text = f.read()
    problems = []
    if not re.search(r"^\s*```(?:text|mermaid)\s*$", text, re.MULTILINE):
        problems.append("chapter has no diagram (a ```text or ```mermaid block)")
    if not re.search(r"^## Exercise", text, re.MULTILINE):
        problems.append("chapter has no '## Exercise' section")
    return problems


def main(argv):
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__.strip())
        return 0
    broken = 0
    checked = 0
    for md in markdown_files(argv):
        for problem in chapter_problems(md):
            broken += 1
            print(f"{os.path.relpath(md, REPO)}: {problem}")
        for number, text, target in links_outside_code(md):
            checked += 1
            problem = check_link(md, text, target)
            if problem:
                broken += 1
                print(f"{os.path.relpath(md, REPO)}:{number}: {problem}")
    if broken:
        print(f"check-guide-links: {broken} problem(s); {checked} links checked", file=sys.stderr)
        return 1
    print(f"check-guide-links: all {checked} links resolve")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
