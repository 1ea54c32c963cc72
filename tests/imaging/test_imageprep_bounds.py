"""Bounded image decoding for nndl predict: the formats allowed, the size
checked before any pixel is decoded, JPEG decoded at reduced scale, large pictures reduced
to about WORK_PIXELS, and no Pillow warning escaping."""

from __future__ import annotations

import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import EpsImagePlugin, Image, ImageDraw

from nndl import imageprep
from nndl.errors import ImageError
from nndl.imageprep import FORMATS, load_digit


def seven(size=(100, 120)) -> Image.Image:
    im = Image.new("L", size, 255)
    w, h = size
    ImageDraw.Draw(im).line(
        [(w // 5, h // 12), (4 * w // 5, h // 12), (w // 3, 11 * h // 12)], fill=0, width=max(3, w // 11)
    )
    return im


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A tiny PNG that declares width x height grey pixels (one empty IDAT): a decompression bomb's shape."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    )
    return path


@pytest.mark.parametrize("fmt, name", [("GIF", "d.gif"), ("BMP", "d.bmp"), ("WEBP", "d.webp"), ("TIFF", "d.tif")])
def test_the_stated_formats_read_like_png(tmp_path, fmt, name):
    ref = load_digit(_save(seven(), tmp_path / "d.png"))
    kw = {"lossless": True} if fmt == "WEBP" else {}
    assert np.allclose(load_digit(_save(seven(), tmp_path / name, **kw)), ref, atol=1e-6)


def _save(im, path, **kw):
    im.save(path, **kw)
    return path


def test_eps_is_refused_and_ghostscript_never_runs(tmp_path, monkeypatch):
    def no_ghostscript(*a, **k):
        raise AssertionError("Ghostscript was started")

    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", no_ghostscript)
    path = tmp_path / "digit.eps"
    path.write_text(
        "%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 28 28\nnewpath 4 4 moveto 24 24 lineto stroke\nshowpage\n%%EOF\n"
    )
    with pytest.raises(
        ImageError,
        match=r"digit\.eps: not an image Pillow can read as PNG, JPEG, GIF, BMP, "
        r"WEBP or TIFF",
    ):
        load_digit(path)


def test_other_pillow_formats_are_refused(tmp_path):
    path = _save(seven(), tmp_path / "digit.pcx")  # Pillow reads PCX, but it is not allowed
    with pytest.raises(ImageError, match=r"digit\.pcx: not an image Pillow can read as"):
        load_digit(path)
    assert "PCX" not in FORMATS and "EPS" not in FORMATS


def test_a_huge_declared_size_is_refused_before_decoding(tmp_path, monkeypatch):
    # 60,000 x 60,000 = 3.6 billion pixels declared by a 60-byte file
    path = png_header_only(tmp_path / "bomb.png", 60_000, 60_000)

    def no_decoding(self):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(Image.Image, "load", no_decoding)
    monkeypatch.setattr("PIL.ImageFile.ImageFile.load", no_decoding)
    with pytest.raises(ImageError, match=r"bomb\.png: image is|bomb\.png: image is too large"):
        load_digit(path)


def test_a_wide_picture_under_pillows_limit_is_refused_by_ours(tmp_path, monkeypatch):
    # the reproducer: a small, very wide PNG (Pillow allows up to 89 million pixels)
    path = png_header_only(tmp_path / "wide.png", 1_500_000, 50)  # 75 million pixels
    with pytest.raises(
        ImageError,
        match=r"wide\.png: image is 1500000x50 pixels, more than the limit of "
        r"40,000,000 for a PNG picture",
    ):
        load_digit(path)


def test_large_pictures_are_reduced_to_about_work_pixels(tmp_path, monkeypatch):
    monkeypatch.setattr(imageprep, "WORK_PIXELS", 10_000)
    ref = load_digit(_save(seven((100, 120)), tmp_path / "small.png"))
    big = _save(seven((400, 480)), tmp_path / "big.png")
    with Image.open(big) as im:
        assert imageprep._decode(im, big).size == (80, 96)  # factor ceil(sqrt(192,000 / 10,000)) = 5
    # the same 7 (its centre of mass may round to the neighbouring pixel): measured 0.963
    got = load_digit(big).reshape(28, 28)
    assert (
        max(np.corrcoef(np.roll(got, (dy, dx), (0, 1)).ravel(), ref)[0, 1] for dy in (-1, 0, 1) for dx in (-1, 0, 1))
        > 0.95
    )


def test_jpeg_is_decoded_at_reduced_scale(tmp_path, monkeypatch):
    monkeypatch.setattr(imageprep, "WORK_PIXELS", 10_000)
    path = _save(seven((800, 600)).convert("RGB"), tmp_path / "photo.jpg", quality=90)
    with Image.open(path) as im:
        out = imageprep._decode(im, path)
        assert im.size == (200, 150)  # DCT scaling 1/4 while decoding
    assert out.size == (100, 75)  # then box-averaged by 2
    assert load_digit(path).shape == (784,)


def test_the_file_size_is_bounded(tmp_path, monkeypatch):
    path = _save(seven(), tmp_path / "d.png")
    monkeypatch.setattr(imageprep, "MAX_BYTES", 100)
    with pytest.raises(ImageError, match=r"d\.png: the file is 0 MiB, more than the 0 MiB allowed"):
        load_digit(path)


def test_no_pillow_warning_escapes(tmp_path):
    # corrupt EXIF (Pillow warns "Corrupt EXIF data") that still says: rotated 90 degrees
    im = Image.new("RGB", (120, 100), "white")
    ImageDraw.Draw(im).rectangle([20, 45, 100, 55], fill="black")
    exif = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x05\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\xff\xff"
    path = _save(im, tmp_path / "phone.jpg", exif=exif)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning would raise here
        field = load_digit(path).reshape(28, 28)
    rows, cols = np.flatnonzero((field > 0.1).any(1)), np.flatnonzero((field > 0.1).any(0))
    assert rows[-1] - rows[0] + 1 == 20 and cols[-1] - cols[0] + 1 < 6  # the bar stands upright
