"""What the neuroglancer tests share (serve/test_gateway_neuroglancer.py, browse/): the
static client of the PyPI `neuroglancer` package, and reading its screenshots: the yellow
box it draws around a volume, and the correlation with the expected pixels."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


def neuroglancer_client() -> Path:
    """The built client folder of the installed `neuroglancer` package (fails the test
    with what to install when it is missing)."""
    try:
        import neuroglancer.static
    except ImportError as exc:
        pytest.fail(f"{exc}: install the PyPI `neuroglancer` package into the venv", pytrace=False)
    client = Path(neuroglancer.static.__file__).parent / "client"
    if not (client / "index.html").is_file():
        pytest.fail(f"the neuroglancer package has no built client at {client}", pytrace=False)
    return client


def volume_box(rgb: np.ndarray):
    """(top, bottom, left, right) of the yellow bounding box neuroglancer draws
    around the volume, or None."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    yellow = (r > 200) & (g > 200) & (b < 90)
    rows = np.flatnonzero(yellow.sum(axis=1) > 100)
    cols = np.flatnonzero(yellow.sum(axis=0) > 100)
    if len(rows) < 2 or len(cols) < 2:
        return None
    return rows[0], rows[-1], cols[0], cols[-1]


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))
