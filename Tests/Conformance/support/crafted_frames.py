"""Hand-built compressed frames for the untrusted-input tests (copy/test_copy_untrusted_zarr.py)
and the fuzz seeds (Fuzz/make_seeds.py): frames that lie about their size or expand to far
more than they weigh, which no well-behaved compressor would write."""

from __future__ import annotations

import struct
import zlib

ZSTD_MAGIC = struct.pack("<I", 0xFD2FB528)


def zstd_raw_frame_declaring(content_size: int, payload: bytes) -> bytes:
    """A zstd frame with an 8-byte Frame_Content_Size field and one raw block."""
    header = bytes([0xC0, 0x00])  # FCS 8 bytes, not single-segment; window descriptor 1 KiB
    block = (1 | (0 << 1) | (len(payload) << 3)).to_bytes(3, "little")  # last, raw
    return ZSTD_MAGIC + header + struct.pack("<Q", content_size) + block + payload


def zstd_rle_bomb(total: int) -> bytes:
    """A zstd frame without a content size: RLE blocks of 128 KiB, 4 bytes each."""
    header = bytes([0x00, 0x38])  # no FCS, window descriptor: 2^(10+7) = 128 KiB
    step = 128 << 10
    blocks = []
    for i in range(total // step):
        last = 1 if i == total // step - 1 else 0
        blocks.append((last | (1 << 1) | (step << 3)).to_bytes(3, "little") + b"\x2a")
    return ZSTD_MAGIC + header + b"".join(blocks)


def gzip_bomb(total: int) -> bytes:
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    piece = bytes(64 << 20)
    parts = [z.compress(piece) for _ in range(total // len(piece))]
    return b"".join(parts) + z.flush()
