"""The results of a section: its JSON document (header, atomic write) and its text table."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def write_json(path: Path, doc: dict) -> None:
    """Writes a results document atomically (temporary file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    os.replace(tmp, path)


def run_header(git, **host_extra) -> dict:
    """The fields every results document starts with: when, what command, which commit,
    on what machine (plus any host readings a section adds, e.g. load averages)."""
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": [sys.executable] + sys.argv,
        "tessera_git": git,
        "host": {"cpus": os.cpu_count(), "machine": platform.machine(), "python": platform.python_version(), **host_extra},
    }


def git_describe():
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return head + ("-dirty" if dirty else "") if head else None
    except (OSError, subprocess.SubprocessError):
        return None


def count_objects(folder):
    n = size = 0
    for root, _dirs, files in os.walk(folder):
        for f in files:
            n += 1
            size += os.lstat(os.path.join(root, f)).st_size
    return n, size


def csv_choice(allowed):
    def parse(text):
        items = [s.strip() for s in text.split(",") if s.strip()]
        bad = [s for s in items if s not in allowed]
        if bad or not items:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(allowed)} (got {text!r})")
        return tuple(dict.fromkeys(items))
    return parse


def format_table(header, rows, right, group=True) -> list:
    """Text table lines: columns padded to width, columns in `right` right-aligned, a rule
    under the header, and (with `group`) a blank line where the first column changes."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]

    def fmt(r):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))

    lines = [fmt(header), "  ".join("-" * w for w in widths)]
    for i, r in enumerate(rows):
        if group and i > 0 and r[0] != rows[i - 1][0]:
            lines.append("")
        lines.append(fmt(r))
    return lines
