"""Durability: local output reaches the disk before the metadata that publishes it.

`tessera convert` and `tessera copy` run under `strace -f -y` (fsync, fdatasync, rename*,
mkdir*), and the trace is checked against the order Docs/convert.md promises:

  * every object's temporary is flushed (fsync/fdatasync of that file) before it is
    renamed over its key;
  * before any metadata document (zarr.json, .zarray, .zattrs, .zgroup) is renamed into
    place, the folder of every object renamed in earlier, and the parent of every
    folder made earlier, has been fsynced after that rename / mkdir — so the document
    never survives a power loss without the objects it makes visible;
  * the last document's own folder is fsynced after it.

With `--no-fsync` the same runs make no fsync or fdatasync call at all (and still
rename every object into place). Sources are tiny (16x96x96 uint16): the trace, not
the size, is the point.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import convert_inputs as ci

TIMEOUT = 180
SHAPE = (16, 96, 96)
METADATA = {"zarr.json", ".zarray", ".zattrs", ".zgroup"}
SYSCALLS = "fsync,fdatasync,rename,renameat,renameat2,mkdir,mkdirat"
# "1234 name(args) = 0", "1234 name(args <unfinished ...>", "1234 <... name resumed>) = 0"
LINE = re.compile(r"^(\d+)\s+(?:<\.\.\. (\w+) resumed>(.*)|(\w+)\((.*))$")
QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
FD_PATH = re.compile(r"^\d+<(.*)>")


@dataclass
class Event:
    kind: str  # "sync", "rename", "mkdir"
    paths: tuple
    ok: bool


def strace_bin() -> str:
    path = shutil.which("strace")
    if path is None:
        pytest.fail("strace is not installed (scripts/setup.sh installs it)", pytrace=False)
    return path


def traced(tmp_path: Path, name: str, args: list) -> list:
    """Runs `args` under strace; returns the events in the order they took effect: a
    sync when it returned, a rename or mkdir when it was called (the moment that
    matters for the order: what was flushed before it)."""
    log = tmp_path / f"{name}.strace"
    cmd = [strace_bin(), "-f", "-qq", "-y", "-s", "4096", "-e", f"trace={SYSCALLS}", "-o", str(log), *map(str, args)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"{' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stderr[-2000:]}"
    return parse(log.read_text())


def parse(text: str) -> list:
    events, pending = [], {}
    for line in text.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        pid, resumed_name, resumed_rest, name, rest = m.groups()
        if resumed_name:
            call, args, index = pending.pop((pid, resumed_name))
            ok = succeeded(resumed_rest)
            if index is None:  # a sync takes effect when it returns
                events.append(Event(kind_of(call), paths_of(call, args), ok))
            else:
                events[index].ok = ok
        elif rest.endswith("<unfinished ...>"):
            args = rest[: -len("<unfinished ...>")]
            index = None
            if kind_of(name) != "sync":  # a rename or mkdir is ordered by when it was called
                index = len(events)
                events.append(Event(kind_of(name), paths_of(name, args), ok=False))
            pending[(pid, name)] = (name, args, index)
        else:
            events.append(Event(kind_of(name), paths_of(name, rest), succeeded(rest)))
    return [e for e in events if e.ok]


def succeeded(rest: str) -> bool:
    return re.search(r"\)\s+=\s+0(\s|$)", rest) is not None


def kind_of(name: str) -> str:
    return "sync" if name in ("fsync", "fdatasync") else "rename" if name.startswith("rename") else "mkdir"


def paths_of(name: str, args: str) -> tuple:
    if kind_of(name) == "sync":
        m = FD_PATH.match(args)
        return (m.group(1),) if m else ("?",)
    return tuple(os.path.normpath(p) for p in QUOTED.findall(args))


def check_order(events: list, out: Path) -> dict:
    """Asserts the promised order for everything under `out`; returns counts."""
    out = str(out)
    under = lambda p: p == out or p.startswith(out + "/")
    data_renames = metadata_renames = 0
    flushed_files = set()  # temporaries whose data is on disk
    # Entries made since their folder was last fsynced: folder -> what changed it.
    unflushed = {}
    for i, e in enumerate(events):
        if e.kind == "sync":
            flushed_files.add(e.paths[0])
            unflushed.pop(e.paths[0], None)
        elif e.kind == "mkdir" and under(e.paths[0]):
            unflushed.setdefault(os.path.dirname(e.paths[0]), f"mkdir {e.paths[0]}")
        elif e.kind == "rename" and len(e.paths) == 2 and under(e.paths[1]):
            src, dst = e.paths
            assert src in flushed_files, f"event {i}: {dst} renamed into place before its data was flushed ({src} never fsynced)"
            if os.path.basename(dst) in METADATA:
                metadata_renames += 1
                assert not unflushed, (f"event {i}: metadata {dst} renamed into place while these folders held "
                                       f"entries not yet fsynced: {sorted(unflushed.items())[:5]}")
            else:
                data_renames += 1
            unflushed.setdefault(os.path.dirname(dst), f"rename to {dst}")
    assert not unflushed, f"folders never fsynced after their last change: {sorted(unflushed.items())[:5]}"
    return {"data": data_renames, "metadata": metadata_renames}


def renames_under(events: list, out: Path) -> int:
    return sum(1 for e in events if e.kind == "rename" and len(e.paths) == 2 and e.paths[1].startswith(str(out) + "/"))


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("fsync-src") / "vol.tif"
    data = ci.pixels(np.uint16, SHAPE, seed=3)
    ci.write_tiff_pages(path, data)
    return path


@pytest.mark.parametrize("ngff", ["0.5", "0.4"])
def test_convert_flushes_objects_and_folders_before_metadata(tessera_bin, source, tmp_path, ngff):
    tmp_path = tmp_path.resolve()  # paths compared with the kernel's (strace -y) spelling
    out = tmp_path / "out.zarr"
    events = traced(tmp_path, "convert", [tessera_bin, "convert", source, out, "--ngff", ngff, "--chunks", "16",
                                          *(["--shards", "32"] if ngff == "0.5" else []), "--jobs", "2"])
    counts = check_order(events, out)
    # Several levels, each with several objects, and every level's metadata plus the group's.
    assert counts["data"] >= 10, counts
    assert counts["metadata"] >= 4, counts


def test_copy_flushes_objects_and_folders_before_metadata(tessera_bin, source, tmp_path):
    tmp_path = tmp_path.resolve()
    src = tmp_path / "src.zarr"
    subprocess.run([tessera_bin, "convert", source, src, "--chunks", "32", "--no-fsync"], check=True,
                   capture_output=True, timeout=TIMEOUT)
    out = tmp_path / "copy.zarr"
    events = traced(tmp_path, "copy", [tessera_bin, "copy", src, out, "--zarr-format", "2", "--chunks", "8,16,16", "--jobs", "2"])
    counts = check_order(events, out)
    assert counts["data"] >= 10 and counts["metadata"] >= 4, counts


def test_no_fsync_makes_no_fsync_call(tessera_bin, source, tmp_path):
    tmp_path = tmp_path.resolve()
    out = tmp_path / "out.zarr"
    events = traced(tmp_path, "convert", [tessera_bin, "convert", source, out, "--chunks", "16", "--no-fsync"])
    assert renames_under(events, out) >= 10
    copied = tmp_path / "copy.zarr"
    events += traced(tmp_path, "copy", [tessera_bin, "copy", out, copied, "--zarr-format", "2", "--chunks", "8,16,16", "--no-fsync"])
    assert renames_under(events, copied) >= 10
    syncs = [e.paths[0] for e in events if e.kind == "sync"]
    assert syncs == [], f"--no-fsync still flushed: {syncs[:5]}"


# The checker itself, on hand-written traces: each rule it enforces must be able to fail.
GOOD = """\
10 mkdir("/o/0", 0755) = 0
11 fdatasync(5</o/0/.tmp-c.1>) = 0
11 rename("/o/0/.tmp-c.1", "/o/0/c") = 0
10 fsync(6</o/0> <unfinished ...>
11 fsync(7</o>) = 0
10 <... fsync resumed>) = 0
10 fdatasync(5</o/.tmp-zarr.json.2>) = 0
10 rename("/o/.tmp-zarr.json.2", "/o/zarr.json") = 0
10 fsync(6</o>) = 0
"""


@pytest.mark.parametrize("broken, message", [
    (lambda t: t.replace("11 fdatasync(5</o/0/.tmp-c.1>) = 0\n", ""), "before its data was flushed"),
    (lambda t: t.replace("10 <... fsync resumed>) = 0", "10 <... fsync resumed>) = -1 EIO (Input/output error)"), "not yet fsynced"),
    (lambda t: t.replace("11 fsync(7</o>) = 0\n", ""), "not yet fsynced"),
    (lambda t: t.rsplit("10 fsync(6</o>) = 0\n", 1)[0], "never fsynced after"),
])
def test_checker_rejects_a_trace_out_of_order(broken, message):
    assert check_order(parse(GOOD), Path("/o")) == {"data": 1, "metadata": 1}
    with pytest.raises(AssertionError, match=message):
        check_order(parse(broken(GOOD)), Path("/o"))
