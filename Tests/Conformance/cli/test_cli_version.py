"""`tessera --version`: one line on stdout, the version every output records.

Benchmarks/gateway_bench.py prints `tessera --version` beside nginx's version, and
`convert`/`copy` write the same version into the output mark (`.tessera-output.json`),
so the two must come from one constant (Sources/ZarrCore/Support/TesseraVersion.swift).
"""

from __future__ import annotations

import json
import re

import numpy as np
import zarr

# A release number: MAJOR.MINOR.PATCH, optionally with a pre-release suffix (0.3.0-rc1).
VERSION = re.compile(r"\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?")


def test_version_is_one_line_on_stdout(run_tessera):
    proc = run_tessera("--version")
    assert proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr!r}"
    assert proc.stderr == "", f"stderr must stay empty: {proc.stderr!r}"
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, f"expected one line, got {proc.stdout!r}"
    assert VERSION.fullmatch(lines[0]), f"not a version number: {lines[0]!r}"


def test_version_is_the_one_outputs_record(run_tessera, tmp_path):
    src = tmp_path / "src.zarr"
    a = zarr.create_array(store=str(src), shape=(4, 4), chunks=(2, 2), dtype="uint8", zarr_format=3)
    a[:] = np.arange(16, dtype="uint8").reshape(4, 4)
    run_tessera.copy(src, tmp_path / "dst.zarr", check=True)
    mark = json.loads((tmp_path / "dst.zarr" / ".tessera-output.json").read_text())
    printed = run_tessera("--version", check=True).stdout.strip()
    assert mark["tessera"] == printed, f"copy recorded {mark['tessera']!r}, --version prints {printed!r}"
