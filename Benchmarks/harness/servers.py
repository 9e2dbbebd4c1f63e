"""The server launchers the benchmarks share with the conformance tests: they live in
Tests/Conformance/support/ (s3_server.py: moto's S3 server and free_port; gateway_server.py:
`tessera serve` on a free port) and are imported from there, not copied."""

from __future__ import annotations

import sys
from pathlib import Path

SUPPORT = Path(__file__).resolve().parents[2] / "Tests" / "Conformance" / "support"
if str(SUPPORT) not in sys.path:
    sys.path.insert(0, str(SUPPORT))

from gateway_server import GatewayServer  # noqa: E402
from s3_server import MotoServer, free_port  # noqa: E402

__all__ = ["GatewayServer", "MotoServer", "free_port"]
