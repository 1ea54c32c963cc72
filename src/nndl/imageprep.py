"""Turn a picture of one handwritten digit into an MNIST-like input vector.

A network trained on MNIST only understands digits prepared the way MNIST's were
(LeCun, Cortes and Burges, "The MNIST database"): white-on-black, the ink's bounding box
scaled to fit a 20x20 box *preserving the aspect ratio*, anti-aliased (so grey levels),
then placed in a 28x28 field so that the centre of mass of the pixel intensities lies at
the field's centre. ``load_digit`` repeats those steps for a user's own image:

1. Read the file (anything Pillow opens), apply its EXIF orientation, convert to grey in
   [0, 1]. Transparent pixels are background: they are painted with the shade *opposite*
   the visible strokes when most pixels are transparent (a black pen on a transparent PNG),
   and with the visible paper's median shade otherwise.
2. Polarity rule: the background level is the median of the outermost ring of pixels (the
   border is paper, even if a stroke touches it). Ink is whichever side of it reaches
   further: darker (pen on paper) or lighter (chalk on a blackboard, a dark-mode canvas).
3. Ink = distance from the background, stretched so the strongest ink is 1. Values below
   ``NOISE`` (a fifth of full ink) are paper texture, shadow or JPEG noise and become 0;
   the rest is stretched linearly onto (0, 1], so anti-aliased edges stay soft.
4. ``prepare_digit``: crop to the ink's bounding box, scale its larger side to 20 pixels,
   centre by centre of mass in 28x28 (``(14, 14)`` in array indices, as measured on MNIST).

The result is 784 float64 values in [0, 1], row-major, 0 = background, 1 = full ink.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from nndl.errors import ImageError

__all__ = ["load_digit", "prepare_digit", "to_ink", "BOX", "FIELD", "NOISE", "MIN_CONTRAST"]

BOX = 20             # MNIST: the digit's larger side is scaled to 20 pixels...
FIELD = 28           # ...and centred by centre of mass in a 28x28 field
NOISE = 0.2          # ink weaker than a fifth of the strongest ink is paper noise
MIN_CONTRAST = 0.1   # ink must differ from the paper by a tenth of the grey range (~25/255)
_ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")
_ALLOWED = "give a PNG or JPEG (or other Pillow-readable) image of one digit"


def load_digit(path: str | os.PathLike) -> np.ndarray:
    """Read an image of one handwritten digit and return it as MNIST would: shape (784,).

    Any size, colour, grey or palette image, with or without transparency, dark ink on
    light paper or light ink on dark. Raises ``ImageError`` (a ``ValueError``) naming the
    file when it is missing, not a file, not a readable image, too large (Pillow's
    decompression-bomb limit ``Image.MAX_IMAGE_PIXELS``), or blank.
    """
    p = Path(path)
    if not p.exists():
        raise ImageError(f"{p}: no such file; {_ALLOWED}")
    if not p.is_file():
        raise ImageError(f"{p}: not a file (a directory?); {_ALLOWED}")
    if p.stat().st_size == 0:
        raise ImageError(f"{p}: the file is empty (0 bytes); {_ALLOWED}")
    try:
        with Image.open(p) as im:
            limit = Image.MAX_IMAGE_PIXELS
            if limit and im.width * im.height > limit:
                raise ImageError(f"{p}: image is {im.width}x{im.height} pixels, more than "
                                 f"Pillow's safety limit of {limit}; scale it down first")
            if im.width == 0 or im.height == 0:
                raise ImageError(f"{p}: image has zero size ({im.width}x{im.height}); {_ALLOWED}")
            grey = _grey(ImageOps.exif_transpose(im))  # (H, W)
    except ImageError:
        raise
    except Image.DecompressionBombError as e:
        raise ImageError(f"{p}: image is too large to open safely ({e}); scale it down first") from e
    except UnidentifiedImageError as e:
        raise ImageError(f"{p}: not an image Pillow can read; {_ALLOWED}") from e
    except PermissionError as e:
        raise ImageError(f"{p}: cannot read the file (permission denied)") from e
    except (OSError, ValueError, SyntaxError, EOFError, struct.error) as e:
        raise ImageError(f"{p}: image is damaged or truncated ({e}); {_ALLOWED}") from e
    try:
        return prepare_digit(to_ink(grey)).reshape(FIELD * FIELD)  # (784,)
    except ImageError as e:
        raise ImageError(f"{p}: {e}") from None


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
    grey = np.asarray(rgba.convert("L"), dtype=np.float64) / 255.0    # (H, W)
    alpha = np.asarray(rgba.getchannel("A"), dtype=np.float64) / 255.0
    if alpha.min() >= 1.0:
        return grey
    visible = alpha > 0.5
    if visible.mean() > 0.5:       # mostly opaque: holes take the paper's shade
        under = float(np.median(grey[visible]))
    else:                          # mostly transparent: strokes on nothing, use the other shade
        mean = float((grey * alpha).sum() / max(alpha.sum(), 1e-12))
        under = 1.0 if mean < 0.5 else 0.0
    return alpha * grey + (1.0 - alpha) * under


def to_ink(grey: np.ndarray) -> np.ndarray:
    """Grey levels (H, W) in [0, 1], either polarity -> ink (H, W) in [0, 1], 0 = background.

    Background = median of the border ring; ink is the side of it that reaches further,
    stretched so the strongest ink is 1, with values under ``NOISE`` dropped (module doc).
    Raises ``ImageError`` if nothing differs from the background by ``MIN_CONTRAST``.
    """
    g = np.asarray(grey, dtype=np.float64)
    if g.ndim != 2 or g.size == 0:
        raise ImageError(f"expected a non-empty 2-D grey image, got shape {g.shape}")
    ring = np.concatenate([g[0], g[-1], g[1:-1, 0], g[1:-1, -1]])
    bg = float(np.median(ring))
    dark, light = bg - float(g.min()), float(g.max()) - bg
    ink = bg - g if dark >= light else g - bg                 # (H, W), ink-high
    top = max(dark, light)
    if not top >= MIN_CONTRAST:
        raise ImageError(f"image is blank: no ink differs from the background ({bg:.2f} on a 0-1 "
                         f"grey scale) by at least {MIN_CONTRAST}; {_ALLOWED}")
    return np.clip((ink / top - NOISE) / (1.0 - NOISE), 0.0, 1.0)


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
    patch = a[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]        # (h, w)
    h, w = patch.shape
    scale = BOX / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))  # Pillow wants (width, height)
    small = Image.fromarray(patch.astype(np.float32)).resize(size, Image.Resampling.LANCZOS)
    patch = np.clip(np.asarray(small, dtype=np.float64), 0.0, 1.0)  # (<=20, <=20)
    if patch.max() <= 0.0:
        raise ImageError("image is blank: the ink vanished when scaled to 20 pixels")
    patch /= patch.max()
    h, w = patch.shape
    mass = patch.sum()
    cy = float((patch.sum(axis=1) * np.arange(h)).sum() / mass)
    cx = float((patch.sum(axis=0) * np.arange(w)).sum() / mass)
    top = int(np.clip(round(FIELD / 2 - cy), 0, FIELD - h))
    left = int(np.clip(round(FIELD / 2 - cx), 0, FIELD - w))
    field = np.zeros((FIELD, FIELD))                              # (28, 28)
    field[top:top + h, left:left + w] = patch
    return field
