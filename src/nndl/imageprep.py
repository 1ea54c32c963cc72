"""Turn a picture of one handwritten digit into an MNIST-like input vector.

A network trained on MNIST only understands digits prepared the way MNIST's were
(LeCun, Cortes and Burges, "The MNIST database"): white-on-black, the ink's bounding box
scaled to fit a 20x20 box *preserving the aspect ratio*, anti-aliased (so grey levels),
then placed in a 28x28 field so that the centre of mass of the pixel intensities lies at
the field's centre. ``load_digit`` repeats those steps for a user's own image:

1. Read the file (PNG, JPEG, GIF, BMP, WebP or TIFF; ``FORMATS``) with bounded work: the
   size the file declares is checked before any pixel is decoded (``MAX_PIXELS``), a large
   JPEG is decoded at 1/2, 1/4 or 1/8 scale straight from its DCT (``Image.draft``), and the
   decoded picture is box-averaged down to about ``WORK_PIXELS`` (``Image.reduce``) - a digit
   needs no more. Apply its EXIF orientation, convert to grey in [0, 1]. Transparent pixels are background: they are painted with the shade *opposite*
   the visible strokes when most pixels are transparent (a black pen on a transparent PNG),
   and with the visible paper's median shade otherwise.
2. Polarity rule: the background level is the median of the outermost ring of pixels (the
   border is paper, even if a stroke touches it). Ink is whichever side of it reaches
   further: darker (pen on paper) or lighter (chalk on a blackboard, a dark-mode canvas).
   If that would make most of the picture ink (more than ``MOSTLY``, half: the ring was a dark
   border or desk around the page, not paper), the median of the whole picture is the
   background instead.
3. Uneven lighting (a gradient, a vignette, a broad shadow) is not ink: ink is measured
   from the *local* paper level (``paper_level``: a grey-level closing at half the image's
   scale, far wider than a stroke; flat-field correction), not from one global level.
   Ink = distance from that paper, stretched so the strongest ink is 1. Values below
   ``NOISE`` (a fifth of full ink) are paper texture, shadow or JPEG noise and become 0;
   the rest is stretched linearly onto (0, 1], so anti-aliased edges stay soft.
4. ``nndl.inkfind.main_ink``: keep the digit's main connected ink; drop specks, borders,
   desk edges and ruled lines (see that module).
5. ``prepare_digit``: crop to the ink's bounding box, scale its larger side to 20 pixels,
   centre by centre of mass in 28x28 (``(14, 14)`` in array indices, as measured on MNIST).

``digit_from_grey`` is steps 2-5 on grey levels; the report page's JavaScript mirrors it
line by line (``nndl/report/assets/imageprep.js``), so the browser reads a drawing exactly
as ``nndl predict`` reads a file.

The result is 784 float64 values in [0, 1], row-major, 0 = background, 1 = full ink.
"""

from __future__ import annotations

import math
import os
import struct
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from nndl.errors import ImageError, quote
from nndl.inkfind import main_ink

__all__ = [
    "load_digit",
    "digit_from_grey",
    "prepare_digit",
    "to_ink",
    "paper_level",
    "BOX",
    "FIELD",
    "NOISE",
    "MIN_CONTRAST",
    "LIGHTING",
    "MOSTLY",
    "FORMATS",
    "MAX_PIXELS",
    "MAX_BYTES",
    "WORK_PIXELS",
    "WORK_SIDE",
]

BOX = 20  # MNIST: the digit's larger side is scaled to 20 pixels...
FIELD = 28  # ...and centred by centre of mass in a 28x28 field
NOISE = 0.2  # ink weaker than a fifth of the strongest ink is paper noise
MIN_CONTRAST = 0.1  # ink must differ from the paper by a tenth of the grey range (~25/255)
LIGHTING = 0.5  # the paper's lighting is modelled over half the shorter side...
WORK_SIDE = 64  # ...on a copy block-averaged to about 64 pixels on the shorter side
MOSTLY = 0.5  # "ink" covering more than half of the picture is really the paper
_ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")

# Decoding is bounded (why each number: a phone photo is 12-48 MP and a page scanned at 600 dpi
# is 35 MP, while a digit needs well under a megapixel):
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")  # (JPEG includes phones' MPO files); never
#   formats whose plugins run external programs (EPS runs Ghostscript) or rarely hold a photo
MAX_PIXELS = {"JPEG": 64_000_000, "MPO": 64_000_000}  # JPEG decodes at up to 1/8 scale (draft)
MAX_PIXELS_OTHER = 40_000_000  # other formats decode in full: at most 40 MP (160 MB as RGBA)
MAX_BYTES = 200 * 2**20  # larger files are not pictures of one digit
WORK_PIXELS = 2_000_000  # decoded pictures are box-averaged down to about 2 MP
_ALLOWED = "give a PNG or JPEG (or GIF, BMP, WebP, TIFF) image of one digit"
_REDUCIBLE = ("L", "LA", "RGB", "RGBA", "I", "F")
_ORIENT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def load_digit(path: str | os.PathLike) -> np.ndarray:
    """Read an image of one handwritten digit and return it as MNIST would: shape (784,).

    Any size, colour, grey or palette image, with or without transparency, dark ink on
    light paper or light ink on dark, in one of ``FORMATS``. Raises ``ImageError`` (a
    ``ValueError``) naming the file when it is missing, not a file, not one of those
    formats, too large (``MAX_BYTES``, ``MAX_PIXELS``, or Pillow's decompression-bomb limit
    ``Image.MAX_IMAGE_PIXELS`` if lower), damaged, or blank. Pillow's warnings (odd EXIF,
    palette transparency, ...) are not printed: the picture is read or refused.
    """
    p = Path(path)
    if not p.exists():
        raise ImageError(f"{p}: no such file; {_ALLOWED}")
    if not p.is_file():
        raise ImageError(f"{p}: not a file (a directory?); {_ALLOWED}")
    size = p.stat().st_size
    if size == 0:
        raise ImageError(f"{p}: the file is empty (0 bytes); {_ALLOWED}")
    if size > MAX_BYTES:
        raise ImageError(
            f"{p}: the file is {size / 2**20:.0f} MiB, more than the {MAX_BYTES // 2**20} MiB "
            f"allowed for a picture of one digit; scale it down first"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # no Pillow warning reaches stderr
            with Image.open(p, formats=FORMATS) as im:
                grey = _grey(_decode(im, p))  # (H, W), at most about WORK_PIXELS
    except ImageError:
        raise
    except Image.DecompressionBombError as e:
        raise ImageError(f"{p}: image is too large to open safely ({e}); scale it down first") from e
    except UnidentifiedImageError as e:
        raise ImageError(
            f"{p}: not an image Pillow can read as {', '.join(FORMATS[:-1])} or {FORMATS[-1]}; {_ALLOWED}"
        ) from e
    except PermissionError as e:
        raise ImageError(f"{p}: cannot read the file (permission denied)") from e
    except (OSError, ValueError, SyntaxError, EOFError, struct.error, MemoryError) as e:
        raise ImageError(f"{p}: image is damaged or truncated ({quote(str(e), 100)[1:-1]}); {_ALLOWED}") from e
    except (TypeError, OverflowError, KeyError, IndexError, ZeroDivisionError, AttributeError) as e:
        # Pillow's plugins take a tag of an odd type (a TIFF's StripOffsets as text, a colour map past
        # 255) straight into arithmetic: the file is damaged, whatever exception that makes.
        raise ImageError(
            f"{p}: image is damaged: a field of an unexpected type or size "
            f"({type(e).__name__}: {quote(str(e), 80)[1:-1]}); {_ALLOWED}"
        ) from e
    try:
        return digit_from_grey(grey)  # (784,)
    except ImageError as e:
        raise ImageError(f"{p}: {e}") from None


def _decode(im: Image.Image, p: Path) -> Image.Image:
    """Decode ``im`` with bounded work: the declared size is checked before any pixel is
    decoded, JPEG decodes at a reduced scale, and the result is box-averaged to about
    ``WORK_PIXELS``. EXIF orientation is applied last (on the small copy)."""
    w, h = im.size
    if w == 0 or h == 0:
        raise ImageError(f"{p}: image has zero size ({w}x{h}); {_ALLOWED}")
    limit = MAX_PIXELS.get(im.format, MAX_PIXELS_OTHER)
    if Image.MAX_IMAGE_PIXELS:
        limit = min(limit, Image.MAX_IMAGE_PIXELS)
    if w * h > limit:
        raise ImageError(
            f"{p}: image is {w}x{h} pixels, more than the limit of {limit:,} for a "
            f"{im.format} picture of one digit; scale it down first"
        )
    try:
        orientation = int(im.getexif().get(0x0112, 1))
    except Exception:  # noqa: BLE001 - a damaged EXIF block only loses the orientation
        orientation = 1
    factor = math.ceil(math.sqrt(w * h / WORK_PIXELS))
    if factor > 1 and im.format in ("JPEG", "MPO"):
        im.draft("L" if im.mode in ("RGB", "L") else None, (math.ceil(w / factor), math.ceil(h / factor)))
    im.load()
    w, h = im.size
    factor = math.ceil(math.sqrt(w * h / WORK_PIXELS))
    if factor > 1:
        if im.mode not in _REDUCIBLE:
            alpha = im.mode in _ALPHA_MODES or "transparency" in im.info
            deep = im.mode.startswith("I;16")
            im = im.convert("RGBA" if alpha else ("I" if deep else ("L" if im.mode == "1" else "RGB")))
        im = im.reduce(factor)
    if orientation in _ORIENT:
        im = im.transpose(_ORIENT[orientation])
    return im


def digit_from_grey(grey: np.ndarray) -> np.ndarray:
    """Grey levels (H, W) in [0, 1], either polarity -> the MNIST-like input, shape (784,).

    Steps 2-5 of the module doc: ``to_ink``, ``main_ink``, ``prepare_digit``. This is what
    the report page's JavaScript mirrors.
    """
    return prepare_digit(main_ink(to_ink(grey))).reshape(FIELD * FIELD)  # (784,)


def _grey(im: Image.Image) -> np.ndarray:
    """Grey levels in [0, 1], shape (H, W), with transparency composited (rule in module doc)."""
    if im.mode in ("I", "F") or im.mode.startswith("I;16"):  # 16-bit, 32-bit or float grey
        a = np.asarray(im.convert("F"), dtype=np.float64)
        peak = float(a.max()) if a.size else 0.0
        if im.mode.startswith("I;16") or peak > 255:
            full = 65535.0
        else:
            full = 1.0 if im.mode == "F" and peak <= 1 else 255.0
        return np.clip(a / full, 0.0, 1.0)
    if im.mode not in _ALPHA_MODES and "transparency" not in im.info:
        return np.asarray(im.convert("L"), dtype=np.float64) / 255.0
    rgba = im.convert("RGBA")
    grey = np.asarray(rgba.convert("L"), dtype=np.float64) / 255.0  # (H, W)
    alpha = np.asarray(rgba.getchannel("A"), dtype=np.float64) / 255.0
    if alpha.min() >= 1.0:
        return grey
    visible = alpha > 0.5
    if visible.mean() > 0.5:  # mostly opaque: holes take the paper's shade
        under = float(np.median(grey[visible]))
    else:  # mostly transparent: strokes on nothing, use the other shade
        mean = float((grey * alpha).sum() / max(alpha.sum(), 1e-12))
        under = 1.0 if mean < 0.5 else 0.0
    return alpha * grey + (1.0 - alpha) * under


def to_ink(grey: np.ndarray) -> np.ndarray:
    """Grey levels (H, W) in [0, 1], either polarity -> ink (H, W) in [0, 1], 0 = background.

    Polarity from the border ring's median (ink is the side of it that reaches further),
    or from the whole picture's median when the ring's would make most of it ink;
    then ink = distance from the *local* paper level ``paper_level`` (flat-field
    correction, so uneven lighting is not read as ink), stretched so the strongest ink
    is 1, with values under ``NOISE`` dropped (module doc). Raises ``ImageError`` if
    nothing differs from the paper by ``MIN_CONTRAST``.
    """
    g = np.asarray(grey, dtype=np.float64)
    if g.ndim != 2 or g.size == 0:
        raise ImageError(f"expected a non-empty 2-D grey image, got shape {g.shape}")
    ring = np.concatenate([g[0], g[-1], g[1:-1, 0], g[1:-1, -1]])
    bg = float(np.median(ring))
    dark_ink = bg - float(g.min()) >= float(g.max()) - bg
    far = (g < (bg + float(g.min())) / 2) if dark_ink else (g > (bg + float(g.max())) / 2)
    if float(far.mean()) > MOSTLY:  # the ring was a border, not paper
        bg = float(np.median(g))
        dark_ink = bg - float(g.min()) >= float(g.max()) - bg
    if dark_ink:
        ink = paper_level(g) - g  # (H, W), ink-high
    else:  # the same rule, mirrored
        ink = g - (1.0 - paper_level(1.0 - g))
    top = float(ink.max())
    if not top >= MIN_CONTRAST:
        raise ImageError(
            f"image is blank: no ink differs from the background ({bg:.2f} on a 0-1 "
            f"grey scale) by at least {MIN_CONTRAST}; {_ALLOWED}"
        )
    return np.clip((ink / top - NOISE) / (1.0 - NOISE), 0.0, 1.0)


def paper_level(grey: np.ndarray) -> np.ndarray:
    """The brightness of light paper under dark ink at every pixel: shape (H, W) like ``grey``.

    A grey-level *closing* (a max filter, then a min filter, over a square window
    ``LIGHTING`` = half the shorter side wide) removes every dark feature narrower than the
    window -- the strokes -- and keeps the paper's lighting, which varies on a larger scale:
    a gradient, a vignette, a broad shadow (a linear ramp passes through a closing
    unchanged). It runs on a copy shrunk by block averaging to about ``WORK_SIDE`` pixels on the
    shorter side (fast, and it averages away grain and JPEG noise) and is scaled back up
    bilinearly. Near the image's edge a window sees only one side, which would lift a ramp
    that darkens towards the edge; so the copy is first extended by continuing each edge
    linearly where it darkens outwards and flatly elsewhere (a stroke touching the edge
    is never mirrored into bright paper). On evenly lit paper the result is the paper's own
    level, so ``to_ink`` measures ink from one level, as before.
    Limit: a stroke wider than about half the shorter side is not removed (its core would
    read as paper), so crop less tightly around such a fat digit; and ink running along a
    whole edge of the picture looks like a dark edge of the paper, not like ink.
    """
    g = np.asarray(grey, dtype=np.float64)
    h, w = g.shape
    f = max(1, min(h, w) // WORK_SIDE)  # block size
    ph, pw = -h % f, -w % f
    padded = np.pad(g, ((0, ph), (0, pw)), mode="edge")
    terms = [padded[dy::f, dx::f] for dy in range(f) for dx in range(f)]  # f*f arrays (h', w')
    while len(terms) > 1:  # added in pairs, in a fixed order: the JavaScript mirror
        terms = [
            terms[i] + terms[i + 1] if i + 1 < len(terms) else terms[i]  # gets the same
            for i in range(0, len(terms), 2)
        ]  # bits
    small = terms[0] / (f * f)  # (h', w') block means
    k = max(3, round(LIGHTING * min(small.shape)) | 1)  # odd window
    n = min(k, *small.shape) - 1  # margin, continuing a darkening edge
    padded = np.minimum(np.pad(small, n, mode="reflect", reflect_type="odd"), np.pad(small, n, mode="edge"))
    closed = _rank(_rank(padded, k, np.max), k, np.min)
    return _upsample(closed[n : n + small.shape[0], n : n + small.shape[1]], f, h, w)


def _rank(a: np.ndarray, k: int, op) -> np.ndarray:
    """Max or min (``op``) over a k x k window, edges replicated; separable, so fast."""
    r = k // 2
    a = np.pad(a, r, mode="edge")
    a = op(np.lib.stride_tricks.sliding_window_view(a, k, axis=0), axis=-1)
    return op(np.lib.stride_tricks.sliding_window_view(a, k, axis=1), axis=-1)


def _upsample(a: np.ndarray, f: int, h: int, w: int) -> np.ndarray:
    """Bilinear from block centres (blocks of f x f pixels) back to (h, w), edges held."""
    if f == 1:
        return a[:h, :w]

    def axis(n_out, n_in):
        p = np.clip((np.arange(n_out) + 0.5) / f - 0.5, 0, n_in - 1)
        i0 = np.floor(p).astype(np.intp)
        return i0, np.minimum(i0 + 1, n_in - 1), p - i0

    r0, r1, rw = axis(h, a.shape[0])
    c0, c1, cw = axis(w, a.shape[1])
    cols = a[:, c0] * (1 - cw) + a[:, c1] * cw  # (h', w)
    return cols[r0] * (1 - rw)[:, None] + cols[r1] * rw[:, None]  # (h, w)


def _total(a: np.ndarray) -> float:
    """Sum of a 1-D array added left to right (NumPy's own sum pairs terms up; the JavaScript
    mirror adds in order, and the centre of mass must round the same way in both)."""
    return float(np.cumsum(a)[-1]) if a.size else 0.0


def prepare_digit(ink: np.ndarray) -> np.ndarray:
    """Ink-high array (H, W), 0 = background -> MNIST-style digit, shape (28, 28), in [0, 1].

    Crops to the bounding box of the non-zero pixels, scales it so its larger side is
    ``BOX`` = 20 pixels keeping the aspect ratio (Lanczos on floats, clipped to [0, 1] and
    re-stretched so the strongest ink is 1, as in every MNIST digit), then pastes it into
    a 28x28 field so that its centre of mass lands on index (14, 14), rounded to whole
    pixels and clipped to keep the digit inside the field.
    """
    a = np.asarray(ink, dtype=np.float64)
    if a.ndim != 2 or a.size == 0 or not np.isfinite(a).all():
        raise ImageError(f"expected a non-empty, finite 2-D ink array, got shape {a.shape}")
    a = np.clip(a, 0.0, None)
    rows, cols = np.flatnonzero(a.any(axis=1)), np.flatnonzero(a.any(axis=0))
    if rows.size == 0:
        raise ImageError("image is blank: no ink (every pixel is background)")
    patch = a[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]  # (h, w)
    h, w = patch.shape
    scale = BOX / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))  # Pillow wants (width, height)
    small = Image.fromarray(patch.astype(np.float32)).resize(size, Image.Resampling.LANCZOS)
    patch = np.clip(np.asarray(small, dtype=np.float64), 0.0, 1.0)  # (<=20, <=20)
    if patch.max() <= 0.0:
        raise ImageError("image is blank: the ink vanished when scaled to 20 pixels")
    patch /= patch.max()
    h, w = patch.shape
    mass = _total(patch.ravel())
    cy = _total(np.cumsum(patch, axis=1)[:, -1] * np.arange(h)) / mass
    cx = _total(np.cumsum(patch, axis=0)[-1] * np.arange(w)) / mass
    top = int(np.clip(round(FIELD / 2 - cy), 0, FIELD - h))
    left = int(np.clip(round(FIELD / 2 - cx), 0, FIELD - w))
    field = np.zeros((FIELD, FIELD))  # (28, 28)
    field[top : top + h, left : left + w] = patch
    return field
