"""The figures of Level 4 (chapter 6), drawn from results.json alone; each title says what to notice.

1_filters.png: the first conv layer's 20 learned 5x5 filters (the book's picture);
2_feature_maps.png: a test digit through both conv layers of the ReLU row's network;
3_accuracy.png: validation accuracy per epoch of every row (and the first seed beyond the book);
4_ladder.png: the ladder, ours beside the book's, and the rows beyond the book;
5_ensemble_errors.png: the test digits the ensemble's vote gets wrong, with labels and answers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, folder: Path, name: str, title: str) -> Path:
    from nndl.explore.figures import wrap_to_figure

    fig.suptitle(wrap_to_figure(title, fig), fontsize=10)
    fig.tight_layout()
    path = folder / name
    fig.savefig(path, dpi=100)
    _plt().close(fig)
    return path


def _blank(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def draw_filters(results: dict, folder: Path) -> Path:
    """The first conv layer's 20 learned 5x5 filters (the book's picture), dark = large weight."""
    plt = _plt()
    w = np.array(results["filters"])  # (maps, 5, 5)
    fig, axes = plt.subplots(2, (len(w) + 1) // 2, figsize=(8, 3.6))
    for ax, f in zip(axes.flat, w):
        ax.matshow(f, cmap="binary")
        _blank(ax)
    notice = (
        "After a quick run they are still mostly their random start: the book's picture needs many "
        "epochs on all of MNIST."
        if results["options"].get("quick")
        else "Look for strokes and edges: each map looks for its own feature, anywhere in the image."
    )
    return _save(
        fig,
        folder,
        "1_filters.png",
        f"The first conv layer's 20 learned 5x5 filters (ReLU row); dark squares are large weights. {notice}",
    )


def mosaic(maps: np.ndarray, cols: int) -> np.ndarray:
    """Maps (k, h, w) tiled ``cols`` to a row with a one-pixel gap (NaN: drawn blank), each
    scaled by the layer's largest value so a silent map is white."""
    k, h, w = maps.shape
    rows = (k + cols - 1) // cols
    out = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1), np.nan)  # (rows*(h+1)-1, cols*(w+1)-1)
    top = float(np.abs(maps).max()) or 1.0
    for i, m in enumerate(maps):
        r, c = divmod(i, cols)
        out[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = m / top
    return out


def draw_feature_maps(results: dict, folder: Path) -> Path:
    """A test digit, its 20 maps after the first conv layer (24x24) and its 40 after the second (8x8)."""
    plt = _plt()
    fm = results["feature_maps"]
    c1, c2 = np.array(fm["conv1"]), np.array(fm["conv2"])  # (20, 24, 24), (40, 8, 8)
    fig, axes = plt.subplots(1, 3, figsize=(11, 4.4), gridspec_kw={"width_ratios": [1, 2.6, 2.6]})
    cmap = plt.get_cmap("binary").with_extremes(bad="#d8e4f0")
    panels = [
        (np.array(fm["image"]), "the digit (28x28)"),
        (mosaic(c1, 5), f"conv 1: {len(c1)} maps of {c1.shape[1]}x{c1.shape[2]}"),
        (mosaic(c2, 8), f"conv 2: {len(c2)} maps of {c2.shape[1]}x{c2.shape[2]} (after pooling)"),
    ]
    for ax, (img, title) in zip(axes, panels):
        ax.imshow(img, cmap=cmap, vmin=0, vmax=1)
        ax.set_title(title, fontsize=9)
        _blank(ax)
    return _save(
        fig,
        folder,
        "2_feature_maps.png",
        "A test digit through the ReLU row's conv layers (dark = "
        "active, white = silent). Notice that each first-layer map lights up its own part of the "
        "stroke, and the second layer's smaller maps respond to combinations of them: the digit's "
        "picture fades, its features remain.",
    )


BEYOND_COLOUR = "#d0702a"  # the rows beyond the book, in every figure that shows them
BOOK_COLOUR, OURS_COLOUR = "#bbbbbb", "#3070b0"


def first_halving(run: dict | None) -> tuple[int, float, float] | None:
    """(epoch, best validation count up to it, the next epoch's) where ``run``'s eta was first
    halved after that epoch (1-based), from its history's per-epoch eta; None when eta never fell,
    the history does not say, or no epoch ran after the halving."""
    h = (run or {}).get("history") or {}
    etas, acc = h.get("eta") or [], h.get("evaluation_accuracy") or []
    n = min(len(etas), len(acc))
    i = next((i for i in range(1, n) if etas[i] < etas[0]), None)  # epoch i + 1 is the first at a smaller eta
    return None if i is None else (i, max(acc[:i]), acc[i])


def draw_accuracy(results: dict, folder: Path, ladder: list, beyond: list[str] = (), elastic: bool = False) -> Path:
    """Validation accuracy per epoch, a line per row of ``ladder`` (the ensemble's extra nets left
    out), and a dashed one for the first run of ``beyond`` (the runs beyond the book), if any;
    ``elastic``: whether those runs saw elastically distorted digits (their ladder row says)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 5))
    n_val = results["sizes"]["validation"]
    palette = [c for i, c in enumerate(plt.get_cmap("tab10").colors) if i != 1]  # orange is beyond the book's
    lines = [(key, f"{key}: {what}"[:60], {"color": c}) for (key, what, _, _), c in zip(ladder, palette * 2)]
    beyond = list(beyond)[:1]
    for key in beyond:
        seed = results["runs"][key]["config"]["seed"]
        style = {"color": BEYOND_COLOUR, "linestyle": "--", "linewidth": 2}
        extra = "rotations, distortions" if elastic else "rotations"
        lines.append((key, f"beyond the book (seed {seed}): + {extra}, eta halved", style))
    for key, label, style in lines:
        r = results["runs"].get(key)
        if r is None or not r["history"]["evaluation_accuracy"]:
            continue
        acc = 100 * np.array(r["history"]["evaluation_accuracy"]) / n_val  # (epochs,)
        ax.plot(np.arange(1, len(acc) + 1), acc, marker="o", ms=3, label=label, **style)
    halved = first_halving(results["runs"].get("dropout"))
    if halved is not None:
        epoch, before, after = halved[0], 100 * halved[1] / n_val, 100 * halved[2] / n_val
        colour = dict((k, st["color"]) for k, _, st in lines).get("dropout", "black")
        ax.axvline(epoch + 0.5, color=colour, linestyle=":", lw=1)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    notice = (
        "A quick run of 1-2 epochs on a small sample: notice that the sigmoid conv rows have barely "
        "started while the ReLU rows already learn."
        if results["options"].get("quick")
        else "Notice that the conv rows keep climbing after the dense baseline has levelled off, and that "
        "the ReLU rows start higher than the sigmoid ones; a line ends where early stopping ended its row."
    )
    if halved is not None:
        notice += (
            f" The dotted line: the dropout row's eta is halved after epoch {epoch} (chapter 3's schedule), and "
            f"its validation accuracy goes from {before:.2f}% at best to {after:.2f}% the epoch after."
        )
    if beyond:
        notice += (
            " The dashed orange line, beyond the book, is the ReLU row's net on shifted and rotated"
            + (" (and elastically distorted)" if elastic else "")
            + " digits "
            "whose eta is halved when its validation accuracy stops improving: compare it with "
            "the expanded row's line."
        )
    return _save(fig, folder, "3_accuracy.png", f"Validation accuracy per epoch, one line per row. {notice}")


def draw_ladder(results: dict, folder: Path, rows: list[dict]) -> Path:
    """The ladder: our test accuracy beside the book's, row by row (``nndl.explore.level4.ladder_rows``);
    the rows beyond the book below a dashed line, in orange, the single net's seeds' range drawn
    across its bar, each beside the book's number it is compared with."""
    plt = _plt()
    beyond = [r for r in rows if r.get("beyond")]
    fig, ax = plt.subplots(figsize=(9, 5.6 if beyond else 5))
    y = np.arange(len(rows))[::-1]
    ours = [r.get("beyond") for r in rows]
    ax.barh(y + 0.2, [r["book"] for r in rows], 0.4, label="the book", color=BOOK_COLOUR)
    book_rows = [(yy, r) for yy, r, b in zip(y, rows, ours) if not b]
    ax.barh(
        [yy - 0.2 for yy, _ in book_rows],
        [r["test"] for _, r in book_rows],
        0.4,
        label="nndl (this run)",
        color=OURS_COLOUR,
    )
    if beyond:
        at = [yy for yy, b in zip(y, ours) if b]
        ax.barh(
            [yy - 0.2 for yy in at],
            [r["test"] for r in beyond],
            0.4,
            label="nndl beyond the book: chapter 3's tools (grey: the book's best it is compared with)",
            color=BEYOND_COLOUR,
        )
        for yy, r in zip(at, beyond):
            if "test_min" in r:  # the single net: the mean of its seeds, their range across it
                ax.errorbar(
                    r["test"],
                    yy - 0.2,
                    xerr=[[r["test"] - r["test_min"]], [r["test_max"] - r["test"]]],
                    color="black",
                    capsize=3,
                    lw=1,
                )
        ax.axhline(min(at) + len(at) - 0.5, color="#555555", linestyle="--", lw=1)
    for yy, r in zip(y, rows):
        right = max(r["test"], r.get("test_max", r["test"]))
        ax.text(right, yy - 0.2, f" {r['test']:.2f}%", va="center", fontsize=8)
        ax.text(r["book"], yy + 0.2, f" {r['book']:.2f}%", va="center", fontsize=8, color="#555555")
    labels = [
        (f"beyond: 1 net (mean of {r['seeds']})" if "seeds" in r else f"beyond: vote of {r['nets']}")
        if r.get("beyond")
        else r["key"]
        for r in rows
    ]
    ax.set_yticks(y, labels)
    for tick, b in zip(ax.get_yticklabels(), ours):
        if b:
            tick.set_color(BEYOND_COLOUR)
    low = min([r.get("test_min", r["test"]) for r in rows] + [97.0])
    ax.set_xlim(max(0.0, low - 1.0), 100.4)
    ax.set_xlabel("test accuracy (%)")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2 if not beyond else 1)
    quick = results["options"].get("quick")
    notice = (
        "A quick run on a small sample: the rows stay far below the book's; read their order, not the numbers."
        if quick
        else "Notice that the steps shrink as the rows go up: the last errors are the hardest ones."
    )
    if beyond:
        notice += (
            " Below the dashed line, in orange, beyond the book: the ReLU row's net with rotations"
            + (", elastic distortions" if any(r.get("elastic") for r in beyond) else "")
            + " and eta halving (the mean of its seeds; the black line their range) beside the book's best single "
            "net, and their vote beside the book's ensemble."
        )
    return _save(fig, folder, "4_ladder.png", f"Chapter 6's ladder, each row adding one idea. {notice}")


def draw_ensemble_errors(results: dict, folder: Path) -> Path:
    """The test digits the ensemble's vote gets wrong (at most 60): label, answer, the five answers."""
    plt = _plt()
    e = results["ensemble"]
    wrong = e["wrong"]
    cols = 10
    n_rows = max(1, (len(wrong) + cols - 1) // cols)
    fig, axes = plt.subplots(n_rows, cols, figsize=(11, 1.35 * n_rows + 1.2), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, w in zip(axes.flat, wrong):
        ax.imshow(np.array(w["image"]), cmap="binary")
        ax.set_title(f"{w['label']} read {w['answer']}\n{''.join(map(str, w['answers']))}", fontsize=8)
    shown = f"the first {len(wrong)} of them" if len(wrong) < e["n_wrong"] else "all of them"
    return _save(
        fig,
        folder,
        "5_ensemble_errors.png",
        f"The {e['n_wrong']} of {e['n_test']:,} test digits the "
        f"ensemble's vote gets wrong ({shown}): 'label read answer', and below it the five nets' "
        "answers. Notice how many a person would hesitate over too (the book shows its 33).",
    )


def draw_all(results: dict, folder: Path, ladder: list, rows: list[dict]) -> list[Path]:
    """Every figure whose data ``results`` holds; their paths. ``ladder``: (key, what, book, shows)
    of each row; ``rows``: the ladder's numbers (both from ``nndl.explore.level4``)."""
    paths = []
    if "filters" in results:
        paths.append(draw_filters(results, folder))
    if "feature_maps" in results:
        paths.append(draw_feature_maps(results, folder))
    if results["runs"]:
        beyond = [r["run"] for r in rows if r.get("beyond") and "run" in r]  # the first seed beyond the book
        elastic = any(r.get("elastic") for r in rows if r.get("beyond"))  # level4.beyond_elastic's answer
        paths += [draw_accuracy(results, folder, ladder, beyond, elastic), draw_ladder(results, folder, rows)]
    if results.get("ensemble") and results["ensemble"]["nets"]:
        paths.append(draw_ensemble_errors(results, folder))
    return paths
