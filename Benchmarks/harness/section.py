"""The skeleton every section of `make bench` shares, so a section declares only its
workloads (`measure`), its table, its goals and its own fields of the results document.

A section object is run by `run_section`: `run()` (which times `measure()`), then its
table on stdout, its results JSON, and the list of problems; the exit status is 1 if any
step failed, 130 on ^C.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from harness.report import git_describe, run_header, write_json

REPO = Path(__file__).resolve().parents[2]
RELEASE = REPO / ".build" / "release"


class Section:
    progress_width = 34  # the step name's column in the progress lines on stderr

    def __init__(self, args):
        self.args = args
        self.failures = []
        self.notes = []
        self.rows = {}
        self.versions = {}
        self.step = 0
        self.steps_total = 0
        self.runtime = 0.0
        self.git = None

    # --- what a section declares

    def measure(self):
        """Runs the section's workloads, filling `rows` (and failures, notes)."""
        raise NotImplementedError

    def table_lines(self) -> list:
        """The section's table and what it measured against its goals, as text lines."""
        raise NotImplementedError

    def summary(self) -> list:
        """The last lines under the table, after the notes (with the input's checksum for the
        sections that read an input back)."""
        checksum = getattr(self, "checksum", None)
        prefix = "" if checksum is None else f"input checksum {checksum}; "
        return [f"{prefix}total runtime {self.runtime:.1f} s"]

    def document(self) -> dict:
        """The section's own fields of the results document (between the common header and
        failures / ok / runtime_seconds)."""
        raise NotImplementedError

    def host_readings(self) -> dict:
        """Extra host readings for the header (e.g. load averages)."""
        return {}

    # --- what every section does the same way

    def run(self):
        t0 = time.monotonic()
        try:
            self.measure()
        finally:
            self.runtime = time.monotonic() - t0

    def fail(self, msg):
        self.failures.append(msg)
        print(f"FAIL: {msg}", file=sys.stderr, flush=True)

    def note(self, msg):
        if msg not in self.notes:
            self.notes.append(msg)

    def progress(self, what, msg):
        """One `[step/total] what  msg` line on stderr; counts the step."""
        self.step += 1
        print(f"[{self.step}/{self.steps_total}] {what:<{self.progress_width}} {msg}", file=sys.stderr, flush=True)

    @contextlib.contextmanager
    def workdir(self, prefix, parent, kept="outputs"):
        """A fresh temporary folder under `parent` (the input's disk), removed afterwards
        unless --keep (then its path is printed)."""
        path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
        try:
            yield path
        finally:
            if getattr(self.args, "keep", False):
                print(f"{kept} kept in {path}", file=sys.stderr)
            else:
                shutil.rmtree(path, ignore_errors=True)

    def conditions(self) -> str:
        """How the figures were taken, for a table's title line."""
        a = self.args
        return f"jobs={a.jobs}, best of {a.repeat}, {os.cpu_count()} CPUs, tessera {self.git or '?'}"

    def table(self) -> str:
        return "\n".join(self.table_lines() + [f"note: {n}" for n in self.notes] + self.summary())

    def write_json(self, path):
        write_json(path, {**run_header(self.git, **self.host_readings()), **self.document(),
                          "failures": self.failures, "ok": not self.failures, "runtime_seconds": self.runtime})


def run_section(bench, json_path) -> int:
    """Runs one section, prints its table and problems, writes its results; returns the
    exit status (130 on ^C)."""
    bench.git = git_describe()
    try:
        bench.run()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    print(bench.table())
    bench.write_json(json_path)
    print(f"results: {json_path}")
    if bench.failures:
        print("\n" + "=" * 72)
        print(f"FAIL: {len(bench.failures)} problem(s):")
        for f in bench.failures:
            print("  - " + f)
        print("=" * 72)
        return 1
    return 0


# --- the command-line options the sections share

def add_size_arguments(ap, small_shape, parse_shape, small_help="quick smoke run on {} instead of the 1 GiB input"):
    """--small / --shape Z,Y,X (one or the other)."""
    size = ap.add_mutually_exclusive_group()
    size.add_argument("--small", action="store_true", help=small_help.format("x".join(map(str, small_shape))))
    size.add_argument("--shape", type=parse_shape, help="input shape Z,Y,X (default 128,2048,2048)")


def add_run_arguments(ap, json_default, what="step", keep=True):
    """--repeat, --jobs, --tessera, --json, --timeout, --no-sync and (with `keep`) --keep."""
    ap.add_argument("--repeat", type=int, default=1, help=f"runs per {what}; the best time is kept (default 1)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count(), help="threads per tool (default: os.cpu_count())")
    ap.add_argument("--tessera", type=Path, default=RELEASE / "tessera",
                    help="path of the tessera binary (default <repo>/.build/release/tessera)")
    ap.add_argument("--json", type=Path, default=json_default,
                    help=f"where to write the results (default Benchmarks/.cache/{json_default.name})")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds before a child is killed (default 1800)")
    ap.add_argument("--no-sync", dest="sync", action="store_false", help=f"do not sync(2) before each {what}")
    if keep:
        ap.add_argument("--keep", action="store_true", help="keep the output folders (their path is printed)")


def check_counts(ap, args):
    if args.repeat < 1 or args.jobs < 1:
        ap.error("--repeat and --jobs must be >= 1")
    args.tessera = args.tessera.absolute()
