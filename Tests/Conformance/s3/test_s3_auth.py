"""S3 with authentication enforced: moto verifies SigV4 signatures and IAM policies as
AWS does. Right keys work (so Tessera's signing is correct, multipart included); a wrong
secret, an unknown key and a missing permission each fail at once — no retry storm —
with one line naming the bucket and key."""

from __future__ import annotations

import json

import numpy as np
import pytest
import zarr

import convert_checks as cc
import convert_inputs as ci
from s3_server import MotoServer

BUCKET = "tessera-auth"


@pytest.fixture(scope="module")
def users():
    import boto3

    # The server's readiness probe and the setup take 7 requests (the probe; 2 users ×
    # create, key, policy); after that every request must be signed by a known key and
    # allowed by its policy — the bucket is already created by the writer, signed.
    server = MotoServer(unauthenticated_actions=7)
    kw = dict(endpoint_url=server.endpoint, aws_access_key_id="admin", aws_secret_access_key="admin", region_name="us-east-1")
    iam = boto3.client("iam", **kw)
    keys = {}
    policies = {"writer": ["s3:*"], "reader": ["s3:GetObject", "s3:ListBucket"]}
    for user, actions in policies.items():
        iam.create_user(UserName=user)
        k = iam.create_access_key(UserName=user)["AccessKey"]
        iam.put_user_policy(UserName=user, PolicyName="s3", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
        keys[user] = (k["AccessKeyId"], k["SecretAccessKey"])
    writer = keys["writer"]
    boto3.client("s3", **{**kw, "aws_access_key_id": writer[0], "aws_secret_access_key": writer[1]}).create_bucket(Bucket=BUCKET)
    yield server, keys
    server.stop()


def use(monkeypatch, server, key, secret):
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.setenv("AWS_REGION", "us-east-1")


def test_signed_requests_are_accepted_including_multipart(users, run_convert, tmp_path, monkeypatch):
    server, keys = users
    use(monkeypatch, server, *keys["writer"])
    monkeypatch.setenv("TESSERA_S3_MULTIPART_THRESHOLD", str(5 << 20))
    data = ci.pixels("uint16", (2048, 2048), seed=3)
    src = ci.write_tiff(tmp_path / "big.tif", data, "yx", tile=(256, 256))
    cc.convert(run_convert, *cc.convert_args([src.arg], f"s3://{BUCKET}/signed.ome.zarr"))
    key, secret = keys["reader"]
    group = zarr.open_group(f"s3://{BUCKET}/signed.ome.zarr", mode="r",
                            storage_options={"endpoint_url": server.endpoint, "key": key, "secret": secret})
    np.testing.assert_array_equal(group["0"][:], data)


@pytest.mark.parametrize("who, expect", [("wrong-secret", "credentials were refused"),
                                         ("unknown-key", "credentials were refused"),
                                         ("reader", "access denied")])
def test_refused_requests_fail_at_once_naming_bucket_and_key(who, expect, users, run_convert, tmp_path, monkeypatch):
    server, keys = users
    key, secret = {"wrong-secret": (keys["writer"][0], "not-the-secret"), "unknown-key": ("AKIAUNKNOWN0000000", "x"),
                   "reader": keys["reader"]}[who]
    use(monkeypatch, server, key, secret)
    lines, stderr, elapsed = cc.failed_convert(run_convert, tmp_path, f"s3://{BUCKET}/{who}.ome.zarr")
    assert len(lines) == 1 and expect in lines[0] and f"s3://{BUCKET}/{who}.ome.zarr" in lines[0], stderr
    assert "attempts" not in lines[0], f"a 403 was retried: {lines[0]}"
    assert elapsed < 10, f"took {elapsed:.1f}s: retried?"
