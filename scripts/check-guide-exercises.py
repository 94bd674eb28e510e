#!/usr/bin/env python3
"""Run the guide's "break it, watch it fail" exercises and check their prose.

Usage: python3 scripts/check-guide-exercises.py [--list] [--prose-only] [FILTER ...]

Each exercise that claims an outcome ("seven tests fail", "it hangs",
"everything passes") carries a hidden check block right after the step
that makes the claim, in the chapter's Markdown:

    <!-- exercise-check
    file: timer/src/wheel/mod.rs
    after: fn process(
    replace: self.link(index);
    with: self.arena.push_back(&mut self.expired, ListId::Expired, index);
    run: cargo test -p weft-timer --lib wheel::tests
    fails: 7
    failing: random_operations_fire_the_same_entries_at_the_same_ticks_as_a_btreemap
    claim: seven tests fail
    -->

Keys (one per line; `\\n` in a value is a newline):

- `file`, then one or more `replace`/`with` pairs (each optionally preceded
  by `after`: the replacement is made at the first occurrence of `replace`
  after the first occurrence of `after`). Without `after`, `replace` must
  occur exactly once in the file. A `file` line starts a new file, so one
  check can break several files.
- `says` (optional, repeatable): the words of the prose that tell the reader
  to make the break. They must appear in the chapter's prose (spacing
  aside), so the instructions and the check cannot drift apart; without
  `says`, each `replace` text must appear there itself.
- `run`: the command the chapter tells the reader to run (a `cargo test`).
- `fails`: how many tests fail with the break, or `hang` (the command must
  still be running after `timeout` seconds, default 60, after compiling).
- `failing` (optional, repeatable): a test that must be among the failures.
- `claim`: a phrase that must appear verbatim in the chapter's prose (line
  breaks and spacing aside); if it states a count of failing tests
  ("seven tests fail") the count must equal `fails`; "passes"/"pass"
  means `fails: 0`.

The script applies each break, compiles (untimed), runs the command with
`--no-fail-fast`, counts the failures from cargo's `test result:` lines,
restores every file byte for byte (also on Ctrl-C or a failure), and
compares with the block.

Four checks need no build and always run (`--prose-only` runs only them):

1. Every count of failing tests in a chapter's prose ("six tests fail",
   "two of the ready list's unit tests fail too") lies inside the `claim`
   of some check block of that chapter.
2. Every `## Exercise` section of a chapter holds at least one check block.
3. Every sentence that says "the fix is" or "the fix was" names a test (a
   backticked name defined as `fn name` in the repository) or a commit (a
   hexadecimal id `git` knows), so a reader can check that the fix exists.
4. Every check block's break still applies to today's code: its file
   exists and its `replace` text occurs exactly once (after its `after`
   text, if it has one), so a refactor that moves the code an exercise
   breaks fails here, not only in the slow run.

FILTER runs only the checks whose chapter file name or `run` command
contains it. `--list` prints the checks without running them.

Exit status: 0 when every check holds, 1 otherwise (each problem printed as
`file:line: problem`), 2 on bad usage.
"""

import os
import re
import shlex
import signal
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GUIDE = os.path.join(REPO, "docs", "guide")
PROSE_FILES_EXTRA = [os.path.join(REPO, "docs", "architecture.md")]

BLOCK = re.compile(r"<!--\s*exercise-check\s*\n(.*?)-->", re.DOTALL)
COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
NUMBERS = {
    "no": 0, "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
    "twelve": 12,
}
NUMBER = r"(?:\d+|" + "|".join(NUMBERS) + r")"
# "six tests fail", "two of the ready list's own unit tests fail too",
# "only one test fails", "three unit tests fail".
COUNT_CLAIM = re.compile(
    r"\b" + NUMBER + r"\b(?:\s+[\w'’]+){0,6}?\s+tests?\s+(?:\w+\s+){0,2}fails?\b",
    re.IGNORECASE,
)
# A break's test run that takes longer than this is a hang, reported as a
# problem (CI must fail, not stall). The slowest check takes about 50 s.
RUN_LIMIT = 300
FIX_SENTENCE = re.compile(r"\b[Tt]he fix (?:is|was)\b")
RESULT = re.compile(r"^test result: \w+\. (\d+) passed; (\d+) failed;", re.MULTILINE)
FAILED_TEST = re.compile(r"^test (\S+) \.\.\. FAILED$", re.MULTILINE)


class Check:
    def __init__(self, chapter, line):
        self.chapter = chapter
        self.line = line
        self.edits = []  # (file, after, replace, with)
        self.run = None
        self.fails = None
        self.failing = []
        self.claim = None
        self.says = []
        self.timeout = 60

    def where(self):
        return f"{os.path.relpath(self.chapter, REPO)}:{self.line}"


def chapters():
    return sorted(
        os.path.join(GUIDE, name)
        for name in os.listdir(GUIDE)
        if re.match(r"^\d\d[a-z]?-.*\.md$", name)
    )


def prose_of(text):
    """The chapter without comments, with runs of whitespace as one space."""
    return " ".join(COMMENT.sub(" ", text).split())


def parse_checks(path, problems):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    checks = []
    for match in BLOCK.finditer(text):
        check = Check(path, text.count("\n", 0, match.start()) + 1)
        file, after = None, None
        for raw in match.group(1).splitlines():
            if not raw.strip():
                continue
            key, sep, value = raw.strip().partition(":")
            if not sep:
                problems.append(f"{check.where()}: cannot read line {raw.strip()!r} (want `key: value`)")
                continue
            value = value.strip().replace("\\n", "\n")
            if key == "file":
                file = value
            elif key == "after":
                after = value
            elif key == "replace":
                check.edits.append([file, after, value, None])
                after = None
            elif key == "with":
                if not check.edits or check.edits[-1][3] is not None:
                    problems.append(f"{check.where()}: `with` without a `replace` before it")
                else:
                    check.edits[-1][3] = value
            elif key == "run":
                check.run = value
            elif key == "fails":
                check.fails = value if value == "hang" else int(value)
            elif key == "failing":
                check.failing.append(value)
            elif key == "claim":
                check.claim = value
            elif key == "says":
                check.says.append(value)
            elif key == "timeout":
                check.timeout = int(value)
            else:
                problems.append(f"{check.where()}: unknown key {key!r}")
        missing = [k for k in ("run", "fails", "claim") if getattr(check, k) is None]
        if not check.edits:
            missing.append("replace/with")
        if any(e[0] is None or e[3] is None for e in check.edits):
            missing.append("file or with")
        if missing:
            problems.append(f"{check.where()}: check block lacks {', '.join(missing)}")
            continue
        checks.append(check)
    return text, checks


def claimed_count(claim):
    """The count of failing tests a claim states, 0 for "passes", else None."""
    count = COUNT_CLAIM.search(claim)
    if count:
        w = count.group(0).split()[0].lower()
        return int(w) if w.isdigit() else NUMBERS[w]
    if re.search(r"\bpass(es)?\b", claim):
        return 0
    return None


def prose_problems(path, text, checks):
    """Rule 1 (every count is checked) and the claim/prose agreement."""
    problems = []
    prose = prose_of(text)
    claims = []
    for check in checks:
        claim = " ".join(check.claim.split())
        start = prose.find(claim)
        if start < 0:
            problems.append(f"{check.where()}: claim {check.claim!r} is not in the chapter's prose")
        else:
            claims.append((start, start + len(claim)))
        count = claimed_count(claim)
        if count is not None and check.fails != "hang" and count != check.fails:
            problems.append(f"{check.where()}: claim {check.claim!r} says {count}, the block says fails: {check.fails}")
        for said in check.says or [replace for _f, _a, replace, _w in check.edits]:
            if " ".join(said.split()) not in prose:
                problems.append(f"{check.where()}: the break's text {said!r} does not appear in the prose")
    for heading in re.finditer(r"^## Exercise.*$", text, re.MULTILINE):
        end = re.search(r"^## ", text[heading.end():], re.MULTILINE)
        section = text[heading.start(): heading.end() + end.start() if end else len(text)]
        if not BLOCK.search(section):
            line = text.count("\n", 0, heading.start()) + 1
            problems.append(
                f"{os.path.relpath(path, REPO)}:{line}: exercise {heading.group(0)[3:]!r} has no "
                "exercise-check block: say what the break does and check it"
            )
    for match in COUNT_CLAIM.finditer(prose):
        if not any(s <= match.start() and match.end() <= e for s, e in claims):
            problems.append(
                f"{os.path.relpath(path, REPO)}: the count in {match.group(0)!r} is checked by no exercise-check block"
            )
    return problems


def fix_problems(path):
    """Rule 2: every "the fix is/was" sentence names a test or a commit."""
    with open(path, encoding="utf-8") as f:
        text = COMMENT.sub(" ", f.read())
    problems = []
    prose = " ".join(text.split())
    for match in FIX_SENTENCE.finditer(prose):
        start = max(prose.rfind(". ", 0, match.start()), prose.rfind("\n", 0, match.start())) + 1
        end = prose.find(". ", match.end())
        sentence = prose[start : end if end >= 0 else len(prose)]
        names = re.findall(r"`([A-Za-z_][A-Za-z0-9_:]*)`", sentence)
        hexes = re.findall(r"\b[0-9a-f]{7,40}\b", sentence)
        if any(is_test(n.split("::")[-1]) for n in names) or any(is_commit(h) for h in hexes):
            continue
        problems.append(
            f"{os.path.relpath(path, REPO)}: names no test or commit: {sentence.strip()[:160]!r}"
        )
    return problems


_FN_CACHE = {}


def is_test(name):
    if name not in _FN_CACHE:
        found = subprocess.run(
            ["git", "grep", "-q", "-E", r"fn " + re.escape(name) + r"\b", "--", "*.rs"],
            cwd=REPO,
        )
        _FN_CACHE[name] = found.returncode == 0
    return _FN_CACHE[name]


def is_commit(rev):
    found = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", rev + "^{commit}"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return found.returncode == 0


def apply_edits(check):
    """Applies the breaks; returns {path: original bytes} to restore, or raises."""
    originals = {}
    try:
        for file, after, replace, with_ in check.edits:
            path = os.path.join(REPO, file)
            if path not in originals:
                with open(path, "rb") as f:
                    originals[path] = f.read()
            with open(path, encoding="utf-8") as f:
                source = f.read()
            if after is not None:
                anchor = source.find(after)
                if anchor < 0:
                    raise ValueError(f"{file}: `after` text {after!r} not found")
                at = source.find(replace, anchor)
                if at < 0:
                    raise ValueError(f"{file}: {replace!r} not found after {after!r}")
            else:
                if source.count(replace) != 1:
                    raise ValueError(f"{file}: {replace!r} occurs {source.count(replace)} times, want exactly 1")
                at = source.find(replace)
            with open(path, "w", encoding="utf-8") as f:
                f.write(source[:at] + with_ + source[at + len(replace):])
    except BaseException:
        restore(originals)
        raise
    return originals


def break_problems(check):
    """Why `check`'s break would not apply to the files as they are now."""
    problems = []
    for file, after, replace, _with in check.edits:
        path = os.path.join(REPO, file)
        if not os.path.isfile(path):
            problems.append(f"{check.where()}: no file {file} to break")
            continue
        with open(path, encoding="utf-8") as f:
            source = f.read()
        if after is not None:
            anchor = source.find(after)
            if anchor < 0 or source.find(replace, anchor) < 0:
                problems.append(f"{check.where()}: {file}: {replace!r} not found after {after!r}")
        elif source.count(replace) != 1:
            problems.append(
                f"{check.where()}: {file}: {replace!r} occurs {source.count(replace)} times, want exactly 1"
            )
    return problems


def restore(originals):
    for path, data in originals.items():
        with open(path, "wb") as f:
            f.write(data)


def cargo_args(run, extra):
    """`cargo test ...` with `extra` flags inserted after `test`."""
    args = shlex.split(run)
    if args[:2] != ["cargo", "test"]:
        raise ValueError(f"run must be a `cargo test` command, got {run!r}")
    return args[:2] + extra + args[2:]


def run_check(check):
    """Returns a list of problems (empty if the outcome matches)."""
    try:
        originals = apply_edits(check)
    except ValueError as e:
        return [f"{check.where()}: {e}"]
    try:
        build = subprocess.run(cargo_args(check.run, ["--no-run"]), cwd=REPO,
                               capture_output=True, text=True)
        if build.returncode != 0:
            tail = "\n".join(build.stderr.splitlines()[-15:])
            return [f"{check.where()}: the break does not compile:\n{tail}"]
        command = cargo_args(check.run, ["--no-fail-fast"])
        if check.fails == "hang":
            proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, start_new_session=True)
            try:
                proc.communicate(timeout=check.timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
                return []
            return [f"{check.where()}: `{check.run}` ended within {check.timeout} s; the chapter says it hangs"]
        proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            output, _ = proc.communicate(timeout=RUN_LIMIT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return [f"{check.where()}: `{check.run}` with the break still ran after {RUN_LIMIT} s "
                    "(a hang where the chapter promises failures)"]
        totals = RESULT.findall(output)
        if not totals:
            tail = "\n".join(output.splitlines()[-15:])
            return [f"{check.where()}: no `test result:` line from `{check.run}`:\n{tail}"]
        failed = sum(int(f) for _p, f in totals)
        names = FAILED_TEST.findall(output)
        problems = []
        if failed != check.fails:
            problems.append(
                f"{check.where()}: `{check.run}` with the break: {failed} failed "
                f"({', '.join(names) or 'none'}), the chapter says {check.fails}"
            )
        for name in check.failing:
            if not any(n == name or n.endswith("::" + name) for n in names):
                problems.append(f"{check.where()}: {name} was expected to fail and did not")
        return problems
    finally:
        restore(originals)


def main(argv):
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__.strip())
        return 0
    list_only = "--list" in argv
    prose_only = "--prose-only" in argv
    filters = [a for a in argv if not a.startswith("--")]

    def on_term(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)

    problems, all_checks = [], []
    for path in chapters():
        text, checks = parse_checks(path, problems)
        problems.extend(prose_problems(path, text, checks))
        for check in checks:
            problems.extend(break_problems(check))
        all_checks.extend(checks)
    for path in chapters() + [os.path.join(GUIDE, "README.md")] + PROSE_FILES_EXTRA:
        problems.extend(fix_problems(path))

    selected = [
        c for c in all_checks
        if not filters or any(f in os.path.basename(c.chapter) or f in c.run for f in filters)
    ]
    if list_only:
        for c in selected:
            print(f"{c.where()}: {c.run}  -> fails: {c.fails}  ({c.claim})")
        return 0
    if not prose_only:
        for check in selected:
            started = time.monotonic()
            found = run_check(check)
            verdict = "ok" if not found else "MISMATCH"
            print(f"{check.where()}: {verdict} ({time.monotonic() - started:.0f} s) {check.run} -> {check.fails}",
                  flush=True)
            problems.extend(found)
    for p in problems:
        print(p)
    if problems:
        print(f"check-guide-exercises: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    ran = 0 if prose_only else len(selected)
    print(f"check-guide-exercises: {len(all_checks)} checks, {ran} run, all hold")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
