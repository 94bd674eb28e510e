#!/usr/bin/env python3
"""Check that prose names only files and items that exist.

Usage: python3 scripts/check-doc-refs.py [--list]

Links are checked elsewhere (scripts/check-guide-links.py for the guide's
Markdown links, rustdoc for intra-doc links). This script checks what no
tool checks: a name in a code span of prose, such as
`worker::park_in_context`, `Shared::is_quiescent`, `block_on()` or
`scheduler/shared.rs`, in

- docs/*.md, docs/guide/*.md and every README.md of the repository
  (outside fenced code blocks), and
- the doc comments (`//!`, `///`) of every workspace crate's src/.

What a code span is taken to name, and when it is sound:

1. A file: a span ending in `.rs` or `.md` (or ending in `/`, a
   directory). Sound if some file of the repository has that path, or
   ends with it (`scheduler/shared.rs` matches
   runtime/src/scheduler/shared.rs; a bare `shared.rs` matches any file of
   that name).
2. A path `Owner::item` (two or more `::` segments, call parentheses and a
   macro bang ignored). Only paths whose first segment is a weft name are
   checked: a module of a workspace crate (a file stem or a `mod` name), a
   type, trait or enum defined in one, or a crate name (`weft`,
   `weft_runtime`, `crate`, `self`, `super`). A path starting with
   anything else (`std::`, `mio::`, `tokio::`) is not weft's and is
   skipped. For a checked path, every segment after the first must be
   defined (as a fn, type, trait, const, static, mod, macro, struct field
   or enum variant) in a file that defines or implements the segment
   before it (or the type a `type` alias of that name stands for), or in
   that module's file. Names re-exported (`pub use`) by
   a file count as defined there.
3. A call `name()` (one segment with parentheses): sound if a `fn name`
   is defined anywhere in the workspace, or `name` is in EXTERNAL_CALLS
   (functions of std, libc or other crates that prose cites).
4. A bare snake_case name of three words or more (`no_clock_reads_unless_enabled`,
   `block_on_main_future_loop_yields`): prose names tests this way, and a
   renamed or deleted test leaves the sentence describing something that
   no longer runs. Sound if the workspace defines the name (a fn, const,
   static, type, field or module, as in 2), a benchmark names a workload
   so (a string literal in benches/), or it is in EXTERNAL_NAMES. Shorter
   names (`block_on`, `will_wake`) are too often words of std or of other
   crates to check this way.

5. A constant and the value prose gives it: `` `NAME` (5 ms) ``,
   `` [`NAME`](link) (3) ``, `` `NAME`, 1 ms `` or `` `NAME` = 6 `` in docs/ and
   the READMEs. Sound if some `const NAME` of the workspace has that value:
   an integer expression of literals and other constants, or a
   `Duration::from_secs/millis/micros/nanos`. A constant whose definition
   this script cannot evaluate is not checked.

Exit status: 0 when every reference resolves, 1 otherwise (each listed as
`file:line: problem`). `--list` prints every reference checked.
"""

import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Calls prose names that are not weft's: system calls and functions of
# std or of other runtimes, cited for comparison.
EXTERNAL_CALLS = {
    "epoll_wait", "epoll_ctl", "poll", "read", "write", "recv", "send",
    "sendto", "recvfrom", "futex", "accept", "accept4", "connect", "close",
    "wake", "wake_by_ref", "clone", "drop", "unwrap", "expect", "sleep",
    "park", "unpark", "now", "elapsed", "spawn", "main", "new", "lock",
    "catch_unwind", "resume_unwind", "getaddrinfo", "mmap", "malloc",
    "free", "sched_yield", "nanosleep", "clock_gettime", "select",
    "gather", "create_task", "run_in_executor", "to_thread", "wait_for",
    "run", "get_event_loop", "run_until_complete", "shield", "as_completed",
    "wait", "cancel", "result", "set_result", "set_exception", "done",
    "call_soon", "call_soon_threadsafe", "gettid", "eventfd", "timerfd_settime",
    "poll_fn", "pin", "block_on", "yield_now", "join", "try_join",
    # asyncio and contextvars names in the mapping tables
    "qsize", "empty", "full", "copy_context", "current_task", "all_tasks",
    # hyper's
    "graceful_shutdown",
}

# Bare names of three words or more (check 4) that are other projects'
# items: aiohttp's, rustc's lints, tokio's, crossbeam's, asyncio's, std's.
EXTERNAL_NAMES = {
    "limit_per_host", "unused_must_use", "enable_metrics_poll_time_histogram",
    "steal_batch_and_pop", "add_signal_handler", "size_of_val",
}

# First segments that name std or other crates' items even where weft has
# a module or type of the same name (`Arc::clone`, `hyper::rt::Read`,
# futures' `Stream::poll_next`).
EXTERNAL_OWNERS = {
    "Arc", "Rc", "Box", "Vec", "Option", "Result", "String", "usize", "u8",
    "u16", "u32", "u64", "i32", "i64", "core", "std", "alloc", "loom",
    "hyper", "hyper_util", "tokio", "mio", "futures", "crossbeam_deque",
    "Stream", "Future", "Waker", "Context", "Pin", "Poll", "Duration",
    "tracing",
}

# Spans that are strings, not paths: tracing targets tokio-console reads.
NOT_PATHS = {"runtime::waker", "runtime::spawn", "runtime::resource"}

# A span right after one of these words (within the 160 characters before it)
# names that project's file or item, not weft's: "tokio `io/scheduled_io.rs`".
EXTERNAL_CONTEXT = re.compile(
    r"\b(?:tokio|smol|async-task|async-io|async-executor|async-std|event-listener|polling|"
    r"crossbeam|mio|hyper|hyper-util|console-subscriber|Go|asyncio|Python|CPython|glommio|"
    r"futures|mini-redis|libc|aiohttp|trio|loom|tracing|parking_lot|Tokio|Linux|glibc)\b"
    r"[^`]{0,80}(?:`[^`]*`[^`]{0,40}){0,3}$"
)

CRATE_NAMES = {"weft", "weft_runtime", "weft_io", "weft_timer", "weft_sync", "weft_coop",
               "weft_macros", "weft_hyper", "crate", "self", "super"}

CODE_SPAN = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
FENCE = re.compile(r"^\s*(```|~~~)")
PATH_SPAN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:<[^<>]*>)?(?:::[A-Za-z_][A-Za-z0-9_]*(?:<[^<>]*>)?)+(?:\(\)|!)?$")
CALL_SPAN = re.compile(r"^([a-z_][a-z0-9_]*)\(\)$")
NAME_SPAN = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+){2,}$")
FILE_SPAN = re.compile(r"^[A-Za-z0-9_./-]+(?:\.rs|\.md|/)$")


def crate_dirs():
    with open(os.path.join(REPO, "Cargo.toml"), encoding="utf-8") as f:
        text = f.read()
    members = re.search(r"members\s*=\s*\[([^\]]*)\]", text).group(1)
    return ["."] + re.findall(r'"([^"]+)"', members)


def repo_files():
    """Every file path of the repository (relative, with `/`), minus build output."""
    out = []
    for dirpath, dirs, names in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in ("target", ".git") and not d.startswith("target")]
        for name in names:
            out.append(os.path.relpath(os.path.join(dirpath, name), REPO).replace(os.sep, "/"))
        for name in dirs:
            out.append(os.path.relpath(os.path.join(dirpath, name), REPO).replace(os.sep, "/") + "/")
    return out


def source_files():
    """The .rs files of every workspace crate's src/ (whose docs are checked)."""
    out = []
    for crate in crate_dirs():
        src = os.path.join(REPO, crate, "src")
        for dirpath, _dirs, names in os.walk(src):
            out.extend(os.path.join(dirpath, n) for n in sorted(names) if n.endswith(".rs"))
    return out


def defining_files():
    """Every .rs file prose may name items of: the crates' src/, and the
    examples, tests and benches of every crate."""
    out = []
    for crate in crate_dirs():
        for part in ("src", "examples", "tests", "benches"):
            root = os.path.join(REPO, crate, part)
            for dirpath, _dirs, names in os.walk(root):
                out.extend(os.path.join(dirpath, n) for n in sorted(names) if n.endswith(".rs"))
    return sorted(set(out))


DEFINITION = re.compile(
    r"\b(?:fn|struct|enum|trait|type|const|static|mod|union)\s+([A-Za-z_]\w*)"
    r"|macro_rules!\s*([A-Za-z_]\w*)"
    r"|^\s*(?:pub(?:\([a-z ]+\))?\s+)?([A-Za-z_]\w*)\s*:(?!:)"  # a field
    r"|^\s*([A-Z]\w*)\s*(?:,|\(|\{|=\s*\d|$)",  # an enum variant
    re.MULTILINE,
)
OWNER_DEF = re.compile(r"\b(?:struct|enum|trait|union|type|mod)\s+([A-Za-z_]\w*)")
IMPL = re.compile(r"\bimpl\b(?:\s*<[^{;]*?>)?\s+(?:[\w:]+(?:<[^{;]*?>)?\s+for\s+)?(?:[\w]+::)*([A-Za-z_]\w*)")
ALIAS = re.compile(r"\btype\s+([A-Za-z_]\w*)\s*(?:<[^=;]*>)?\s*=\s*(?:[\w]+::)*([A-Za-z_]\w*)")
REEXPORT = re.compile(r"\bpub(?:\([^)]*\))?\s+use\s+([^;]+);")


class Index:
    """Which names each source file defines, and where types live."""

    def __init__(self):
        self.defines = {}  # file -> set of names
        self.owners = {}  # owner name -> set of files
        self.fns = set()
        self.modules = {}  # module name -> set of files (its own file)
        self.aliases = {}  # type alias -> the types it names
        self.names = set()  # every name defined anywhere, and benchmark workload names
        for path in defining_files():
            with open(path, encoding="utf-8") as f:
                code = strip_comments(f.read())
            names = set()
            for m in DEFINITION.finditer(code):
                names.add(next(g for g in m.groups() if g))
            for m in REEXPORT.finditer(code):
                names.update(re.findall(r"([A-Za-z_]\w*)(?=\s*(?:[,}]|$))", m.group(1)))
            self.defines[path] = names
            self.names |= names
            if os.sep + "benches" + os.sep in path:
                self.names.update(re.findall(r'"([a-z][a-z0-9_]*)"', code))
            self.fns.update(re.findall(r"\bfn\s+([A-Za-z_]\w*)", code))
            for m in OWNER_DEF.finditer(code):
                self.owners.setdefault(m.group(1), set()).add(path)
            for m in IMPL.finditer(code):
                self.owners.setdefault(m.group(1), set()).add(path)
            for m in ALIAS.finditer(code):
                self.aliases.setdefault(m.group(1), set()).add(m.group(2))
            stem = os.path.basename(path)[:-3]
            module = os.path.basename(os.path.dirname(path)) if stem in ("mod", "lib") else stem
            self.modules.setdefault(module, set()).add(path)

    def is_weft_name(self, name):
        if name in EXTERNAL_OWNERS:
            return False
        return name in CRATE_NAMES or name in self.owners or name in self.modules

    def files_of(self, owner, seen=()):
        files = self.owners.get(owner, set()) | self.modules.get(owner, set())
        for target in self.aliases.get(owner, ()):
            if target not in seen:
                files |= self.files_of(target, seen + (owner,))
        return files

    def check_path(self, segments):
        """None if the path resolves, else the segment that does not."""
        if segments[0] in CRATE_NAMES:
            segments = segments[1:]
            if not segments:
                return None
            if len(segments) == 1:
                return None if any(segments[0] in names for names in self.defines.values()) else segments[0]
        for owner, item in zip(segments, segments[1:]):
            if item == "mod" and owner in self.modules:
                continue  # `task::mod`: the module's own file
            files = self.files_of(owner)
            if not files:
                # An owner reached through a crate name: any definition will do.
                if any(item in names for names in self.defines.values()):
                    continue
                return item
            if any(item in self.defines[f] for f in files):
                continue
            # `module::Type` where a child module defines the type.
            if not (owner in self.modules and item in self.owners):
                return f"{owner}::{item}"
        return None


def strip_comments(code):
    code = re.sub(r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group(0)), code, flags=re.S)
    return re.sub(r"//[^\n]*", "", code)


def prose_spans():
    """(file, line, span) for every code span in the prose that is checked."""
    docs = [os.path.join(REPO, "docs", n) for n in sorted(os.listdir(os.path.join(REPO, "docs"))) if n.endswith(".md")]
    guide = os.path.join(REPO, "docs", "guide")
    docs += [os.path.join(guide, n) for n in sorted(os.listdir(guide)) if n.endswith(".md")]
    for dirpath, dirs, names in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in ("target", ".git", "docs") and not d.startswith("target")]
        docs += [os.path.join(dirpath, n) for n in names if n == "README.md"]
    for path in docs:
        with open(path, encoding="utf-8") as f:
            in_fence = False
            previous = ""
            for number, line in enumerate(f, start=1):
                if FENCE.match(line):
                    in_fence = not in_fence
                    continue
                if not in_fence:
                    line = re.sub(r"\[[^\]]*\]\([^)]*\)", "", line)  # links: checked elsewhere
                    for m in CODE_SPAN.finditer(line):
                        yield path, number, m.group(1), previous + " " + line[: m.start()]
                    previous = (previous + " " + line.rstrip("\n"))[-160:]
    for path in source_files():
        with open(path, encoding="utf-8") as f:
            in_fence = False
            previous = ""
            for number, line in enumerate(f, start=1):
                m = re.match(r"\s*//[/!]\s?(.*)", line)
                if not m:
                    previous = ""
                    continue
                text = m.group(1)
                if FENCE.match(text):
                    in_fence = not in_fence
                    continue
                if not in_fence:
                    text = re.sub(r"\[[^\]]*\]\([^)]*\)", "", text)
                    text = re.sub(r"\[`[^`]*`\]", "", text)  # intra-doc links: rustdoc checks them
                    for m in CODE_SPAN.finditer(text):
                        yield path, number, m.group(1), previous + " " + text[: m.start()]
                    previous = (previous + " " + text)[-160:]


CONST_DEF = re.compile(r"\bconst\s+([A-Z][A-Z0-9_]*)\s*:\s*([^=;]+?)\s*=\s*([^;]+);")
CONST_VALUE = re.compile(
    r"`([A-Z][A-Z0-9_]{2,})`(?:\]\([^)]*\))?(?: \(|, | = )"
    r"([0-9][0-9,]*(?:\.[0-9]+)?)(?: ?(ns|µs|us|ms|s)\b)?"
)
NANOS = {"ns": 1, "µs": 1_000, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}


def constant_values():
    """name -> set of values (int, or ("ns", n) for a Duration) of every
    `const` in the workspace whose definition evaluates."""
    raw = {}
    for path in defining_files():
        with open(path, encoding="utf-8") as f:
            for m in CONST_DEF.finditer(strip_comments(f.read())):
                raw.setdefault(m.group(1), []).append(m.group(3).strip())

    def evaluate(expr, depth=0):
        if depth > 5:
            return None
        d = re.fullmatch(r"(?:std::time::)?Duration::from_(secs|millis|micros|nanos)\(\s*([0-9_]+)\s*\)", expr)
        if d:
            unit = {"secs": "s", "millis": "ms", "micros": "µs", "nanos": "ns"}[d.group(1)]
            return ("ns", int(d.group(2).replace("_", "")) * NANOS[unit])
        expr = re.sub(r"\b([0-9][0-9_]*)(?:u8|u16|u32|u64|u128|usize|i32|i64)?\b",
                      lambda m: m.group(1).replace("_", ""), expr)
        for name in set(re.findall(r"\b[A-Z][A-Z0-9_]*\b", expr)):
            values = {evaluate(e, depth + 1) for e in raw.get(name, [])} - {None}
            if len(values) != 1 or isinstance(next(iter(values)), tuple):
                return None
            expr = re.sub(r"\b%s\b" % name, str(next(iter(values))), expr)
        if not re.fullmatch(r"[0-9 ()<>*/+-]+", expr):
            return None
        try:
            return int(eval(expr.replace("/", "//"), {"__builtins__": {}}))
        except Exception:  # noqa: BLE001 - anything unevaluable is skipped
            return None

    return {name: {evaluate(e) for e in exprs} - {None} for name, exprs in raw.items()}


def constant_problems(listing):
    """(problems, checked) for check 5, printing each problem."""
    values = constant_values()
    problems = checked = 0
    docs = [os.path.join(REPO, "docs", n) for n in sorted(os.listdir(os.path.join(REPO, "docs"))) if n.endswith(".md")]
    guide = os.path.join(REPO, "docs", "guide")
    docs += [os.path.join(guide, n) for n in sorted(os.listdir(guide)) if n.endswith(".md")]
    docs += [os.path.join(REPO, "README.md")]
    for path in docs:
        with open(path, encoding="utf-8") as f:
            in_fence = False
            for number, line in enumerate(f, start=1):
                if FENCE.match(line):
                    in_fence = not in_fence
                    continue
                if in_fence:
                    continue
                for m in CONST_VALUE.finditer(line):
                    name, number_text, unit = m.group(1), m.group(2).replace(",", ""), m.group(3)
                    known = values.get(name)
                    if not known:
                        continue  # not weft's, or not evaluable
                    said = float(number_text)
                    if unit:
                        claim = ("ns", said * NANOS[unit])
                        ok = any(isinstance(v, tuple) and abs(v[1] - claim[1]) < 1e-6 for v in known)
                    else:
                        ok = any(not isinstance(v, tuple) and v == said for v in known)
                    checked += 1
                    where = f"{os.path.relpath(path, REPO)}:{number}"
                    if listing:
                        print(f"{where}: {name} {number_text}{unit or ''}")
                    if not ok:
                        problems += 1
                        shown = ", ".join(f"{v[1] / 1e6:g} ms" if isinstance(v, tuple) else str(v) for v in known)
                        print(f"{where}: {name} is {shown} in the code, not {m.group(2)}{' ' + unit if unit else ''}")
    return problems, checked


def main(argv):
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__.strip())
        return 0
    listing = "--list" in argv
    index = Index()
    files = repo_files()
    problems = checked = 0
    for path, number, span, before in prose_spans():
        span = span.strip()
        problem = None
        if span in NOT_PATHS or EXTERNAL_CONTEXT.search(before):
            continue
        if FILE_SPAN.match(span) and ("/" in span or "." in span):
            if re.search(r"\b[A-Z]{2,}\b", span):
                continue  # a placeholder: `examples/patterns/NAME.rs`
            checked += 1
            target = span.lstrip("./")
            if not any(f == target or f.endswith("/" + target) for f in files):
                problem = f"no file {span}"
        elif PATH_SPAN.match(span):
            segments = [re.sub(r"<.*>", "", s) for s in re.sub(r"(\(\)|!)$", "", span).split("::")]
            if not index.is_weft_name(segments[0]):
                continue
            checked += 1
            missing = index.check_path(segments)
            if missing:
                problem = f"{span}: {missing} is not defined where it says"
        elif NAME_SPAN.match(span):
            checked += 1
            if span not in index.names and span not in EXTERNAL_NAMES and span not in EXTERNAL_CALLS:
                problem = f"{span}: nothing of that name in the workspace (a renamed test?)"
        elif CALL_SPAN.match(span):
            name = CALL_SPAN.match(span).group(1)
            checked += 1
            if name not in index.fns and name not in EXTERNAL_CALLS:
                problem = f"{span}: no fn {name} in the workspace"
        else:
            continue
        if listing:
            print(f"{os.path.relpath(path, REPO)}:{number}: {span}")
        if problem:
            problems += 1
            print(f"{os.path.relpath(path, REPO)}:{number}: {problem}")
    more_problems, more_checked = constant_problems(listing)
    problems += more_problems
    checked += more_checked
    if problems:
        print(f"check-doc-refs: {problems} stale reference(s) of {checked} checked", file=sys.stderr)
        return 1
    print(f"check-doc-refs: all {checked} references to files and items resolve")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
