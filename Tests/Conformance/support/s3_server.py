"""A real S3-compatible server for the tests (and the s3 benchmark): moto's server mode
(PyPI `moto[server]`), started on 127.0.0.1 at a free port and stopped when the test
session ends."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MotoServer:
    def __init__(self, unauthenticated_actions: int | None = None, log_path: Path | None = None):
        """With `unauthenticated_actions`, moto checks SigV4 signatures and IAM policies
        (as AWS does) once that many requests have been served. With `log_path`, its access
        log (werkzeug's, on stderr: one line per request) is written there."""
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        server = Path(sys.executable).with_name("moto_server")
        if not os.access(server, os.X_OK):
            raise RuntimeError(f"{server} is missing (pip install 'moto[server]')")
        env = dict(os.environ)
        if unauthenticated_actions is not None:
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(unauthenticated_actions)
        self.log_path = log_path
        self.log_file = open(log_path, "wb") if log_path else None
        self.proc = subprocess.Popen([str(server), "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=self.log_file or subprocess.DEVNULL,
                                     stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(self.endpoint + "/", timeout=1).read()
                break
            except Exception:
                if self.proc.poll() is not None or time.time() > deadline:
                    self.stop()
                    raise RuntimeError("moto_server did not start")
                time.sleep(0.1)

    def env(self) -> dict:
        """The AWS environment a client (Tessera, s3fs, tensorstore) needs for this server."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_REGION": "us-east-1"}

    def create_bucket(self, name: str) -> None:
        req = urllib.request.Request(f"{self.endpoint}/{name}", method="PUT")
        urllib.request.urlopen(req, timeout=10).read()

    def storage_options(self) -> dict:
        return {"endpoint_url": self.endpoint, "key": "testing", "secret": "testing"}

    def tensorstore_kvstore(self, bucket: str, path: str) -> dict:
        return {"driver": "s3", "bucket": bucket, "path": path.rstrip("/") + "/", "endpoint": self.endpoint,
                "aws_region": "us-east-1", "aws_credentials": {"type": "environment"}}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log_file:
            self.log_file.close()
