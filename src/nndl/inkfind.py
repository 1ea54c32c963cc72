"""Find the digit in a picture's ink: its main connected ink, not every dark pixel.

A photo of paper brings more ink than the digit: dust specks, the dark edge of a desk or
a scanner's black border, the ruled lines of a notebook. Cropping to the box around every
inked pixel would then shrink the digit to a dot in a page-sized box (a 7 read as "5, 95 %").
``main_ink`` keeps only the digit, in three steps:

1. ``remove_ruled_lines``: a thin straight band of ink across at least 80 % of the picture
   (followed column by column; a digit may interrupt it) is a ruled line: it is erased,
   except where a stroke touches it (ink just above or just below the band: a
   stroke crossing the line, or resting on it, keeps its pixels).
   Horizontal lines first, then vertical ones (a notebook's margin) by the same code on
   the transposed picture.
2. ``parts``: the connected pieces of ink (8-connected), each with its ink mass (sum of ink),
   pixel count, bounding box and how much of it lies on each edge of the picture.
3. ``choose``: a part that runs along an edge of the picture for a third of it or more is a
   border or a desk edge; a long part whose mean thickness is under ``LINE_THIN`` of the
   picture is a line; a part smaller than ``SPECK`` of the picture is a speck. The heaviest
   remaining part is the digit's main part; other parts join it when they carry at least
   ``PIECE`` of its ink and lie within ``REACH`` of its size (a 5 whose top bar was drawn
   separately, a stroke broken by faint ink). If nothing remains, the heaviest part of all
   is kept (a lone "1" drawn along the edge is still a digit).

Everything here is array arithmetic on an ink array (H, W) with 0 = background. The report
page's JavaScript (``nndl/report/assets/imageprep.js``) mirrors these functions line by line,
so a digit drawn in the browser is read exactly as ``nndl predict`` reads a file.
Limits: a digit written exactly on a ruled line loses the strokes that coincide with it;
a line that shows on one side of the digit only stays (and widens the digit's box); a thin
straight stroke of the digit itself that, with another collinear one, spans 80 % of the
picture is taken for a ruled line; and a stroke that runs along the picture's edge is taken
for its border when other ink of a digit's size remains.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "main_ink",
    "remove_ruled_lines",
    "parts",
    "choose",
    "label",
    "EDGE",
    "LINE_LENGTH",
    "LINE_THIN",
    "LINE_SPAN",
    "SPECK",
    "PIECE",
    "REACH",
    "TAIL",
    "MAX_SLOPE",
]

EDGE = 1 / 3  # a part lying along a third of an edge (or more) is a border or desk edge
LINE_LENGTH = 0.5  # a line spans at least half the picture...
LINE_THIN = 0.03  # ...and is at most 3 % of the picture's shorter side thick
SPECK = 0.02  # a part smaller than 2 % of the picture's larger side is a speck
PIECE = 0.05  # a separate piece of the digit carries at least 5 % of the main part's ink...
REACH = 0.25  # ...and lies within a quarter of the main part's size of the digit
LINE_SPAN = 0.8  # a ruled line spans at least 80 % of the width...
TAIL = 0.1  # ...showing at least 10 % of it on each side of the digit it crosses
MAX_SLOPE = 0.25  # ruled lines are near horizontal (or vertical): slope at most 1 in 4


def main_ink(ink: np.ndarray) -> np.ndarray:
    """Ink (H, W), 0 = background -> the same array with everything but the digit set to 0.

    Ruled lines are erased first, then the digit's parts are chosen (module doc). A picture
    whose ink is all one part comes back unchanged.
    """
    a = np.array(ink, dtype=np.float64)  # (H, W)
    a = remove_ruled_lines(a)
    a = remove_ruled_lines(a.T).T
    found = parts(a)
    if found["n"] == 0:
        return a
    keep = choose(found, a.shape)  # (n,) bool
    return np.where(keep[found["labels"] - 1] & (found["labels"] > 0), a, 0.0)


def thin_limit(shape) -> float:
    """The thickest a ruled line may be, in pixels: ``LINE_THIN`` of the shorter side, at least 2."""
    return max(2.0, LINE_THIN * min(shape))


def touching(keys_s, keys_e, lane, starts, ends, stride):
    """For runs in lane ``lane`` (rows of a picture, or columns), the index range [lo, hi)
    of the runs in lane - 1 that touch each (8-connected: overlapping or diagonal), given all
    runs' sorted keys lane * stride + start and lane * stride + end."""
    up = (lane - 1) * stride
    return (np.searchsorted(keys_e, up + starts, side="left"), np.searchsorted(keys_s, up + ends, side="right"))


def expand(lo: np.ndarray, count: np.ndarray) -> np.ndarray:
    """lo[0], lo[0]+1, ..., lo[0]+count[0]-1, lo[1], ...: every index of the ranges [lo, lo + count)."""
    return np.repeat(lo, count) + np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)


def bands(mask: np.ndarray, thin: float) -> list:
    """The thin horizontal band segments of mask (H, W), as arrays of run indices.

    Each column's vertical runs of True are found; a run links to the next column's run when
    each is the only run touching the other and both are at most ``thin`` long. A chain of
    such links is a band segment: a piece of a ruled line, cut where a stroke crosses it.
    Returns (segments, runs) with segments a list of index arrays (column order) into
    runs = (columns, starts, ends) for the segments at least ``TAIL`` of the width long.
    """
    H, W = mask.shape
    cols, starts, ends = runs(mask.T)  # vertical runs, by column
    n = len(cols)
    key_s, key_e = cols * (H + 2) + starts, cols * (H + 2) + ends  # (n,) sorted
    right = np.flatnonzero(cols > 0)  # runs with a column to the left
    lo, hi = touching(key_s, key_e, cols[right], starts[right], ends[right], H + 2)
    count = np.maximum(hi - lo, 0)  # touching runs on the left
    n_right = np.bincount(expand(lo, count), minlength=n)  # touching runs on the right
    single = right[count == 1]  # exactly one run on its left
    prev = lo[count == 1]  # ...which is this one
    is_thin = (ends - starts) <= thin
    link = is_thin[single] & is_thin[prev] & (n_right[prev] == 1)
    head = np.arange(n)
    head[single[link]] = prev[link]
    while True:  # pointer jumping to chain heads
        nxt = head[head]
        if np.array_equal(nxt, head):
            break
        head = nxt
    length = np.bincount(head[is_thin], minlength=n)  # (n,) columns per chain
    long_enough = length >= max(TAIL * W, 2)  # (n,) by chain head
    members = np.flatnonzero(long_enough[head])  # runs of those chains
    members = members[np.argsort(head[members], kind="stable")]  # grouped by head, in order
    cuts = np.flatnonzero(np.diff(head[members])) + 1
    return (np.split(members, cuts) if len(members) else []), (cols, starts, ends)


def fit_line(xs: np.ndarray, ys: np.ndarray) -> tuple[float, float, float]:
    """Least-squares line y = a + b x through the points: (a, b, largest distance |y - line|)."""
    mx, my = _total(xs) / len(xs), _total(ys) / len(ys)
    sxx = _total((xs - mx) * (xs - mx))
    b = _total((xs - mx) * (ys - my)) / sxx if sxx > 0 else 0.0
    a = my - b * mx
    return a, b, float(np.abs(ys - (a + b * xs)).max())


def _total(a: np.ndarray) -> float:
    """Sum added left to right, as the JavaScript mirror adds (NumPy's sum pairs terms up)."""
    return float(np.cumsum(a)[-1]) if a.size else 0.0


def remove_ruled_lines(ink: np.ndarray) -> np.ndarray:
    """Erase horizontal ruled lines from ink (H, W); returns a new array.

    A ruled line is a thin band spanning at least ``LINE_SPAN`` of the width: one band
    segment that long, or two collinear segments (each at least ``TAIL`` of the width, the
    digit between them) that together span that far. Its pixels, over the line's extent,
    are set to 0, except in columns where ink touches the band just above or just below it
    (a stroke crossing or resting on the line keeps its pixels).
    """
    a = np.array(ink, dtype=np.float64)  # (H, W)
    H, W = a.shape
    if W < 3 or H < 3:
        return a
    mask = a > 0
    thin = thin_limit(a.shape)
    segments, (cols, starts, ends) = bands(mask, thin)
    centre = (starts + ends - 1) / 2.0  # (n,) each run's middle row
    span = LINE_SPAN * W
    first = [int(cols[seg[0]]) for seg in segments]  # each segment's columns...
    last = [int(cols[seg[-1]]) for seg in segments]
    y0 = [float(centre[seg[0]]) for seg in segments]  # ...and rows at its ends
    y1 = [float(centre[seg[-1]]) for seg in segments]
    lines, used = [], set()
    for k, seg in enumerate(segments):  # segments sorted by start
        if k in used:
            continue
        if last[k] - first[k] + 1 >= span:
            lines.append(seg)
            continue
        best = None
        for m in range(k + 1, len(segments)):
            if m in used or first[m] <= last[k] or last[m] - first[k] + 1 < span:
                continue
            if abs(y0[m] - y1[k]) > MAX_SLOPE * (first[m] - last[k]) + thin + 2:
                continue  # a quick test the fit implies
            both = np.concatenate([seg, segments[m]])
            _, slope, worst = fit_line(cols[both].astype(np.float64), centre[both])
            if abs(slope) <= MAX_SLOPE and worst <= thin / 2 + 1 and (best is None or worst < best[0]):
                best = (worst, m)
        if best is not None:
            used.update((k, best[1]))
            lines.append(np.concatenate([seg, segments[best[1]]]))
    for line in lines:
        a0, b0, worst = fit_line(cols[line].astype(np.float64), centre[line])
        half = float((ends[line] - starts[line]).max()) / 2 + 1 + worst
        xs = np.arange(cols[line[0]], cols[line[-1]] + 1)  # the line's extent
        c = a0 + b0 * xs  # its centre row there
        lo, hi = np.floor(c - half).astype(np.intp), np.ceil(c + half).astype(np.intp)
        above = (lo - 1 >= 0) & mask[np.clip(lo - 1, 0, H - 1), xs]
        under = (hi + 1 <= H - 1) & mask[np.clip(hi + 1, 0, H - 1), xs]
        erase = ~(above | under)
        for dy in range(int((hi - lo).max()) + 1):
            y = lo + dy
            ok = erase & (y >= 0) & (y <= H - 1) & (y <= hi)
            a[y[ok], xs[ok]] = 0.0
    return a


def runs(mask: np.ndarray):
    """Horizontal runs of True in mask (H, W): (rows, starts, ends), ends exclusive, raster order."""
    H, W = mask.shape
    m = np.zeros((H, W + 2), dtype=np.int8)
    m[:, 1:-1] = mask
    d = np.diff(m, axis=1)  # (H, W + 1)
    rows, starts = np.nonzero(d == 1)
    _, ends = np.nonzero(d == -1)
    return rows, starts, ends


def label(mask: np.ndarray):
    """8-connected parts of mask (H, W): (labels (H, W) int, 0 = background and 1..n in the
    raster order of each part's first pixel; n; the runs (rows, starts, ends); each run's part).

    Runs of consecutive rows touch when their column ranges overlap or meet diagonally. The
    runs are joined by hooking (each touching pair's larger label points to the smaller)
    and pointer jumping until nothing changes, all in whole-array steps, so a picture of
    pure noise (a million runs) costs seconds at most, not minutes. Every part ends labelled
    by its first run in raster order, as the JavaScript mirror's union-find labels it.
    """
    H, W = mask.shape
    rows, starts, ends = runs(mask)
    n_runs = len(rows)
    key_s, key_e = rows * (W + 2) + starts, rows * (W + 2) + ends  # (n_runs,) sorted
    below = np.flatnonzero(rows > 0)  # runs with a row above
    lo, hi = touching(key_s, key_e, rows[below], starts[below], ends[below], W + 2)
    count = np.maximum(hi - lo, 0)  # touching runs above each
    j = np.repeat(below, count)  # (links,)
    i = expand(lo, count)
    lab = np.arange(n_runs)
    while True:
        li, lj = lab[i], lab[j]
        differ = li != lj
        if not differ.any():
            break
        np.minimum.at(lab, np.maximum(li, lj)[differ], np.minimum(li, lj)[differ])
        while True:  # pointer jumping
            nxt = lab[lab]
            if np.array_equal(nxt, lab):
                break
            lab = nxt
    uniq, part = np.unique(lab, return_inverse=True)
    length = ends - starts
    pixel = np.repeat(rows * W + starts - np.cumsum(length) + length, length) + np.arange(length.sum())
    labels = np.zeros(H * W, dtype=np.int32)
    labels[pixel] = np.repeat(part + 1, length)
    return labels.reshape(H, W), len(uniq), (rows, starts, ends), part


def parts(ink: np.ndarray) -> dict:
    """The connected parts of ink > 0, with per-part arrays (n,): ``mass`` (sum of ink),
    ``count`` (pixels), ``top``/``bottom``/``left``/``right`` (bounding box, inclusive),
    ``on_top``/``on_bottom``/``on_left``/``on_right`` (pixels on each edge of the picture);
    and ``labels`` (H, W), ``n``."""
    a = np.asarray(ink, dtype=np.float64)
    H, W = a.shape
    labels, n, (rows, starts, ends), part = label(a > 0)
    csum = np.zeros((H, W + 1))
    csum[:, 1:] = np.cumsum(a, axis=1)  # (H, W + 1)
    run_mass = csum[rows, ends] - csum[rows, starts]  # (n_runs,)
    length = (ends - starts).astype(np.float64)

    def per_part(values):
        return np.bincount(part, weights=values, minlength=n)[:n]

    out = {
        "labels": labels,
        "n": n,
        "mass": per_part(run_mass),
        "count": per_part(length),
        "on_top": per_part(length * (rows == 0)),
        "on_bottom": per_part(length * (rows == H - 1)),
        "on_left": per_part((starts == 0).astype(np.float64)),
        "on_right": per_part((ends == W).astype(np.float64)),
    }
    top, bottom = np.full(n, H), np.full(n, -1)
    left, right = np.full(n, W), np.full(n, -1)
    np.minimum.at(top, part, rows)
    np.maximum.at(bottom, part, rows)
    np.minimum.at(left, part, starts)
    np.maximum.at(right, part, ends - 1)
    out.update(top=top, bottom=bottom, left=left, right=right)
    return out


def choose(found: dict, shape) -> np.ndarray:
    """Which parts make the digit: (n,) bool (rules in the module doc)."""
    H, W = shape
    n = found["n"]
    height = found["bottom"] - found["top"] + 1  # (n,)
    width = found["right"] - found["left"] + 1
    edge = (
        (found["on_top"] >= EDGE * W)
        | (found["on_bottom"] >= EDGE * W)
        | (found["on_left"] >= EDGE * H)
        | (found["on_right"] >= EDGE * H)
    )
    longest = np.maximum(width, height)
    spans = np.where(width >= height, width / W, height / H)
    line = (spans >= LINE_LENGTH) & (found["count"] / longest <= thin_limit(shape))
    speck = longest < max(2.0, SPECK * max(H, W))
    candidate = ~edge & ~line & ~speck
    if not candidate.any():
        candidate = np.ones(n, dtype=bool)
    mass = found["mass"]
    main = int(np.flatnonzero(candidate)[np.argmax(mass[candidate])])
    keep = np.zeros(n, dtype=bool)
    keep[main] = True
    box = [found["top"][main], found["bottom"][main], found["left"][main], found["right"][main]]
    reach = REACH * float(longest[main])
    order = sorted(range(n), key=lambda k: (-mass[k], k))
    grew = True
    while grew:
        grew = False
        for k in order:
            if keep[k] or not candidate[k] or mass[k] < PIECE * mass[main]:
                continue
            gap_y = max(box[0] - found["bottom"][k], found["top"][k] - box[1], 0)
            gap_x = max(box[2] - found["right"][k], found["left"][k] - box[3], 0)
            if max(gap_y, gap_x) <= reach:
                keep[k] = True
                box = [
                    min(box[0], found["top"][k]),
                    max(box[1], found["bottom"][k]),
                    min(box[2], found["left"][k]),
                    max(box[3], found["right"][k]),
                ]
                grew = True
    return keep
