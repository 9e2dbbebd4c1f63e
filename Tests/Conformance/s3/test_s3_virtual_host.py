"""Virtual-host addressing against moto (issue 18): with `TESSERA_S3_ADDRESSING=virtual`
requests go to `BUCKET.ENDPOINT-HOST`. The endpoint host here is under `.invalid`, which
never resolves, so they can only reach the local server through libcurl's
`CURLOPT_CONNECT_TO` (`TESSERA_S3_CONNECT_TO`), not through DNS or system files. A
pass-through proxy in front of moto records the Host header of every request."""

from __future__ import annotations

import numpy as np
import zarr

import convert_checks as cc
import convert_inputs as ci
from fault_proxy import FaultProxy

BUCKET = "tessera-vhost"
HOST = "s3.tessera.invalid"
TIMEOUT = 120


def test_virtual_host_requests_carry_the_bucket_in_the_host_and_round_trip_exactly(s3, run_convert, run_tessera, tmp_path,
                                                                                    monkeypatch):
    proxy = FaultProxy(s3.port)  # no faults: it only records Host headers
    try:
        for k, v in s3.env().items():
            monkeypatch.setenv(k, v)
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{HOST}:{proxy.port}")
        monkeypatch.setenv("TESSERA_S3_ADDRESSING", "virtual")
        # Without the mapping the host does not resolve (control): the request never leaves.
        unmapped = run_tessera("info", f"s3://{BUCKET}/nothing", timeout=TIMEOUT)
        assert unmapped.returncode != 0 and proxy.hosts == [], (unmapped.stderr, proxy.hosts)

        monkeypatch.setenv("TESSERA_S3_CONNECT_TO", f"{BUCKET}.{HOST}:{proxy.port}:127.0.0.1:{proxy.port}")
        data = ci.pixels("uint16", (300, 200), seed=5)
        src = ci.write_tiff(tmp_path / "img.tif", data, "yx", tile=(64, 64))
        cc.convert(run_convert, *cc.convert_args([src.arg], f"s3://{BUCKET}/img.ome.zarr"), timeout=TIMEOUT)
        out = tmp_path / "back.ome.zarr"
        proc = run_tessera("copy", f"s3://{BUCKET}/img.ome.zarr", out, timeout=TIMEOUT)
        assert proc.returncode == 0, proc.stderr

        # Every request, writes and listings alike, named the bucket in the Host header.
        assert len(proxy.hosts) > 5, proxy.hosts
        assert set(proxy.hosts) == {f"{BUCKET}.{HOST}:{proxy.port}"}, set(proxy.hosts)
    finally:
        proxy.stop()
    # Read back straight from moto (path style), and from the local copy: exact pixels.
    stored = zarr.open_group(f"s3://{BUCKET}/img.ome.zarr", mode="r", storage_options=s3.storage_options())
    np.testing.assert_array_equal(stored["0"][:], data)
    np.testing.assert_array_equal(zarr.open_group(out, mode="r")["0"][:], data)
