"""Damaged DM3/DM4 files (issue 17, must-show 3): one error line naming the file and what is
wrong, a non-zero exit that is not a crash, and no output marked complete."""

from __future__ import annotations

import pytest

import convert_checks as cc
import dm_inputs as dm

CASES = {
    "unknown-type": "unknown DM tag type 99",
    "truncated": "truncated",
    "huge-count": "2147483647 elements",
    "depth-bomb": "deeper than 64",
    "complex": "unsupported data type",
    "spectrum": "1-D spectrum",
    "short-data": "pixels need",
}


@pytest.mark.parametrize("version", [3, 4], ids=["dm3", "dm4"])
@pytest.mark.parametrize("case", list(CASES))
def test_dm_bad_input(case, version, run_convert, tmp_path):
    path = dm.bad_dm(tmp_path / f"bad-{case}.dm{version}", case, version=version)
    out = tmp_path / "out.ome.zarr"
    proc = run_convert("convert", str(path), str(out), timeout=60)
    cc.assert_clean_failure(proc, [path.name, CASES[case]], f"{case} DM{version}", out)


def test_dm_extension_without_dm_header(run_convert, tmp_path):
    path = tmp_path / "notdm.dm3"
    path.write_bytes(b"\x00\x00\x00\x07" + bytes(60))
    out = tmp_path / "out.ome.zarr"
    proc = run_convert("convert", str(path), str(out), timeout=60)
    cc.assert_clean_failure(proc, [path.name, "not a DM3/DM4 file", "version field 7"], "not DM", out)
