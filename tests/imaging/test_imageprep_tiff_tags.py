"""A TIFF whose tags have odd types (StripOffsets as text, a colour map past 255) is one ImageError,
not the TypeError or OverflowError Pillow's TIFF plugin raises on it."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image

from nndl.errors import ImageError
from nndl.imageprep import load_digit


def tiff_with_tag_type(mode: str, tag: int, new_type: int, count: int | None = None) -> bytes:
    """A small uncompressed TIFF whose ``tag`` entry claims type ``new_type`` (and ``count``)."""
    a = np.full((12, 10), 230, np.uint8)
    a[3:9, 4:6] = 20
    buf = io.BytesIO()
    Image.fromarray(a).convert(mode).save(buf, format="TIFF")
    data = bytearray(buf.getvalue())
    ifd = struct.unpack("<I", data[4:8])[0]
    for i in range(struct.unpack("<H", data[ifd : ifd + 2])[0]):
        entry = ifd + 2 + 12 * i
        if struct.unpack("<H", data[entry : entry + 2])[0] == tag:
            data[entry + 2 : entry + 4] = struct.pack("<H", new_type)
            if count is not None:
                data[entry + 4 : entry + 8] = struct.pack("<I", count)
            return bytes(data)
    raise AssertionError(f"no tag {tag}")


@pytest.mark.parametrize(
    "mode, tag, new_type, count",
    [
        ("L", 273, 2, None),  # StripOffsets as ASCII: Pillow compares text with an int (TypeError)
        ("L", 273, 5, None),  # StripOffsets as RATIONAL (TypeError)
        ("P", 320, 4, 2),  # ColorMap as LONG: a palette entry past 255 (OverflowError)
    ],
    ids=["offsets-as-text", "offsets-as-rational", "colormap-as-long"],
)
def test_a_tiff_with_tags_of_odd_types_is_one_image_error(tmp_path, mode, tag, new_type, count):
    path = tmp_path / "digit.tif"
    path.write_bytes(tiff_with_tag_type(mode, tag, new_type, count))
    with pytest.raises(ImageError, match="damaged") as e:
        load_digit(path)
    assert str(path) in str(e.value) and "\n" not in str(e.value)
