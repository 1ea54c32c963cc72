"""A ``Report`` as one self-contained HTML page: inline CSS and plain JavaScript, the figures as
base64 PNG, the networks' weights as base64 float32, a Content-Security-Policy that forbids
every network request. It opens from ``file://`` with no build step and nothing to fetch.

The page's scripts (``assets/``): ``imageprep.js`` mirrors ``nndl.imageprep`` and
``nndl.inkfind``, ``network.js`` mirrors ``Network.forward_layers``, ``page.js`` draws.
"""

from __future__ import annotations

import json
import math
from html import escape
from importlib import resources

import nndl
from nndl import imageprep, inkfind
from nndl.engine.activations import SATURATED

from .charts import run_charts, saturation_chart
from .collect import EXPECTED, Report

# Nothing may leave the page: no fetch, no image, font or frame from anywhere but the page itself.
CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'"
)
PEN = 18  # the drawing pad's pen width in pixels, on a 280 x 280 pad (a felt pen on a small card)


def prep_constants() -> dict:
    """The constants of nndl.imageprep and nndl.inkfind, for the JavaScript mirror."""
    names_prep = ("BOX", "FIELD", "NOISE", "MIN_CONTRAST", "LIGHTING", "MOSTLY")
    names_ink = ("EDGE", "LINE_LENGTH", "LINE_THIN", "LINE_SPAN", "SPECK", "PIECE", "REACH", "TAIL", "MAX_SLOPE")
    out = {n: getattr(imageprep, n) for n in names_prep}
    out["WORK"] = imageprep.WORK_SIDE
    out.update({n: getattr(inkfind, n) for n in names_ink})
    return out


def asset(name: str) -> str:
    return resources.files("nndl.report").joinpath("assets", name).read_text(encoding="utf-8")


# In JSON, these characters occur only inside strings, where \uXXXX means the same to JSON.parse; escaped,
# no string can open a comment ('<!--'), a script ('<script') or end the element ('</script') early, and
# U+2028/U+2029 (line breaks to old JavaScript parsers) cannot break the block either.
_SCRIPT_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def _finite(value):
    """``value`` with every non-finite float as null: JSON.parse refuses NaN and Infinity."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _script_json(value) -> str:
    """JSON safe inside a <script> element: no '<', '>' or '&' appears as such, so no string can end
    the element or leave the browser's parser in a comment or a nested script; strict JSON (no NaN)."""
    return json.dumps(_finite(value), separators=(",", ":"), allow_nan=False).translate(_SCRIPT_ESCAPES)


def _pct(v) -> str:
    return f"{100 * v:.2f}%" if isinstance(v, (int, float)) else ""


CONFIG_FIELDS = (
    ("sizes", "layer sizes"),
    ("cost", "cost"),
    ("activation", "hidden neurons"),
    ("init", "initial weights"),
    ("eta", "learning rate eta"),
    ("lmbda", "regularization lambda"),
    ("epochs", "epochs"),
    ("mini_batch_size", "mini-batch size"),
    ("seed", "seed"),
)
# Shown only when they change something (chapter 3's further techniques).
OPTIONAL_FIELDS = (
    ("layers", "hidden layers", lambda v, c: v),
    ("regularization", "regularization", lambda v, c: c.get("lmbda", 0) and v != "l2"),
    ("momentum", "momentum", lambda v, c: v),
    ("dropout", "dropout", lambda v, c: v),
    (
        "dropout_on",
        "dropout on (dense: only the inputs of fully connected layers)",
        lambda v, c: c.get("dropout") and v != "hidden",
    ),
    ("schedule", "eta schedule", lambda v, c: v not in (None, "constant")),
    ("early_stopping", "early stopping", lambda v, c: v),
    ("expand", "expanded data", lambda v, c: v not in (None, "none")),
    ("rotate", "rotations (degrees)", lambda v, c: v),
    ("elastic", "elastic distortions (alpha)", lambda v, c: v),
    ("dtype", "arithmetic", lambda v, c: v not in (None, "float64")),
)


def config_list(config: dict, run: dict) -> str:
    rows = [(label, config[key]) for key, label in CONFIG_FIELDS if key in config]
    rows += [
        (label, config[key]) for key, label, shown in OPTIONAL_FIELDS if key in config and shown(config[key], config)
    ]
    if run.get("n_train"):
        rows.append(("training images", f"{run['n_train']:,}"))
    if run.get("evaluation_data"):
        rows.append(("watched during training", f"the {run['evaluation_data']} set"))
    final = run.get("final") or {}
    for key, label in (
        ("training_accuracy", "final training accuracy"),
        ("validation_accuracy", "final validation accuracy"),
        ("test_accuracy", "final test accuracy"),
    ):
        if key in final:
            rows.append((label, _pct(final[key])))
    if run.get("seconds"):
        rows.append(("time", f"{run['seconds']:.1f} s"))
    return (
        "<dl class='config'>"
        + "".join(f"<dt>{escape(str(k))}</dt><dd>{escape(str(v))}</dd>" for k, v in rows)
        + "</dl>"
    )


BEYOND_ROW = " class='beyond'"  # a Level 4 row beyond the book, shaded (report.css)


def section_ladder(report: Report) -> str:
    if not report.ladder:
        return ""
    rows = "".join(
        f"<tr{BEYOND_ROW if r.get('beyond') else ''}><td class='step'>{escape(str(r['step']))}</td>"
        f"<td data-label='Configuration'>"
        f"{escape(shape_text(r['config']))}, "
        f"{escape(str(r['config'].get('cost')))}, {escape(str(r['config'].get('init')))} init, "
        f"&lambda; {r['config'].get('lmbda', 0):g}, &eta; {r['config'].get('eta', 0):g}</td>"
        f"<td data-label='{escape(report.ladder_expected)}'>{escape(str(r['expected']))}</td>"
        f"<td class='num' data-label='Test'>{escape(r['test'])}</td>"
        f"<td class='num' data-label='Validation'>{escape(r['validation'])}</td></tr>"
        for r in report.ladder
    )
    intro = (
        "Section 5.2 of the Level 3 document (Level 3: Improved Neural Network Techniques): each step adds one "
        "idea of the book's chapter 3 to the Level 2 network. Read down the test column: most ideas lift "
        "the accuracy, most of all the larger hidden layer at the end; cross-entropy and better "
        "initialization mainly make the early epochs better (figures 2 and 4)."
        if report.ladder_expected == EXPECTED
        else "Chapter 6's ladder: each row adds one idea of the book's to the row above, from a dense network to "
        "two conv-pool layers, rectified linear units and expanded data; the book's test accuracy (its "
        "60-epoch runs on all of MNIST) beside ours. Read down the test column."
        if report.ladder_expected == "The book"
        else "Each row adds techniques to the one above, trained with several seeds: the mean, and in brackets "
        "the smallest and largest, of the seeds' accuracies. Read down the test column."
    )
    beyond = [r for r in report.ladder if r.get("beyond")]
    if beyond:
        elastic = any(isinstance(r.get("config"), dict) and r["config"].get("elastic") for r in beyond)
        intro += (
            " The last rows (shaded) are beyond the book, not its rows: the ReLU row's network trained with "
            "chapter 3's tools (random rotations"
            + (" and elastic distortions" if elastic else "")
            + " on top of the shifts, eta halved whenever the validation "
            "accuracy stalls), its test accuracy the mean of its seeds (their range in brackets), then their "
            "majority vote; the book's column holds the book's number each is compared with."
        )
    return (
        f"<section id='ladder'><h2>The accuracy ladder</h2><p>{intro}</p><div class='scroll'><table class='ladder'>"
        f"<tr><th>Step</th><th>Configuration</th><th>{escape(report.ladder_expected)}</th><th>Test</th>"
        f"<th>Validation</th></tr>{rows}</table></div></section>"
    )


def shape_text(config: dict) -> str:
    """A run's layers: its conv description ('conv:20x5x5,pool:2,dense:100') or its dense sizes."""
    return str(config.get("layers") or config.get("sizes"))


def section_runs(report: Report) -> str:
    if not report.runs:
        return ""
    parts = []
    for i, run in enumerate(report.runs):
        charts = "".join(run_charts(run))
        parts.append(
            f"<details class='run'{' open' if i == 0 else ''}><summary>{escape(run['label'])}</summary>"
            f"<div class='run-body'>{config_list(run['config'], run)}{charts}</div></details>"
        )
    return (
        "<section id='runs'><h2>Each run</h2><p>What each training run was given and how its accuracy and "
        "cost moved after every epoch. A curve that keeps rising was still learning; a training curve far "
        "above the watched one is overfitting.</p>" + "".join(parts) + "</section>"
    )


def figure_title(file: str) -> str:
    """'2_cost_comparison.png' -> 'Figure 2: cost comparison'."""
    number, _, rest = file.rsplit(".", 1)[0].partition("_")
    return f"Figure {number}: {rest.replace('_', ' ')}" if number.isdigit() else file


def section_figures(report: Report) -> str:
    if not report.figures:
        return ""
    figs = "".join(
        f"<figure class='fig'><img alt='{escape(figure_title(f['file']))}' "
        f"src='data:image/png;base64,{f['png']}'><figcaption><b>{escape(figure_title(f['file']))}.</b> "
        f"{escape(f['caption'])} <span class='muted'>({escape(f['file'])})</span></figcaption></figure>"
        for f in report.figures
    )
    count = {5: "five", 7: "seven"}.get(len(report.figures), str(len(report.figures)))
    zoom = (
        "<div id='zoom' hidden role='dialog' aria-label='the figure at full size'><p class='zoom-bar'>"
        "The figure at full size: scroll to move around; click or tap it (or press Esc) to close.</p>"
        "<img alt=''></div>"
    )
    return (
        f"<section id='figures'><h2>The {count} figures</h2><p class='hint'>Click or tap a figure to see it "
        f"at full size.</p>" + figs + zoom + "</section>"
    )


SATURATION_MEANING = (
    "<h3>Why a trained network still reads as largely saturated</h3>"
    "<p>The number counts, image by image, the hidden neurons whose derivative is below 4% of its peak. "
    "What it means depends on the neuron:</p><ul>"
    "<li><b>Sigmoid</b>: saturated is an output below 0.01 or above 0.99 (&sigma;&prime;(z) &lt; 0.01). After "
    "training most hidden neurons have made up their mind about an image: a neuron that looks for a stroke the "
    "digit lacks sits near 0, one whose stroke is there near 1. That is the network answering confidently, not a "
    "stall. What hurts is saturation <em>before</em> learning (epoch 0): N(0, 1) weights saturate most neurons at "
    "the start, so they learn slowly; N(0, 1/n<sub>in</sub>) starts almost none saturated, and the curves then "
    "rise as the neurons learn to decide.</li>"
    "<li><b>tanh</b>: the same at &plusmn;1 (tanh&prime;(z) = 1 &minus; tanh&sup2;(z) below 0.04, |tanh(z)| "
    "above 0.98).</li>"
    "<li><b>ReLU</b>: the derivative is 0 wherever the neuron is off (z &lt; 0), so the number is the share of "
    "neurons that are off for an image: about half from the start with N(0, 2/n<sub>in</sub>) weights, by design. "
    "That sparsity is how ReLU networks work; only a neuron that is off for every image (a dead neuron) never "
    "learns again.</li></ul>"
)


def section_saturation(report: Report) -> str:
    chart = saturation_chart(report.runs)
    intro = (
        f"<p>A hidden neuron is <em>saturated</em> when its derivative is below {SATURATED:.0%} of its peak (for the "
        "sigmoid: &sigma;&prime;(z) &lt; 0.01, i.e. &sigma;(z) &lt; 0.01 or &gt; 0.99). Its weights then "
        "barely change, whatever the cost: this is the slowdown that N(0, 1/n<sub>in</sub>) initialization "
        "removes. The pad above marks the saturated neurons for your own digit.</p>"
    )
    if chart:
        body = (
            f"<p>Share of (image, hidden neuron) pairs saturated on the first 1,000 watched images, before "
            f"training (epoch 0) and after each epoch. Compare the runs that differ only in their "
            f"initialization or their cost.</p><div class='scroll'>{chart}</div>" + SATURATION_MEANING
        )
    else:
        body = (
            "<p class='note'>Saturation per epoch was not recorded for these runs (their history has no "
            "<code>saturation</code>; the engine records it when the saturation monitor is on, e.g. "
            "<code>nndl train --monitor saturation</code>).</p>"
        )
    rows = [n for n in report.networks if n.get("saturation")]
    if rows:
        body += (
            "<h3>After training, on the test digits</h3><p class='hint'>Share of (test digit, hidden neuron) "
            "pairs saturated in each network as it ended, on the first 1,000 test digits.</p>"
            "<div class='scroll'><table class='ladder'><tr><th>Network</th><th>Saturated</th></tr>"
            + "".join(
                f"<tr><td>{escape(n['label'])}</td><td class='num'>"
                f"{' / '.join(f'{100 * v:.1f}%' for v in n['saturation'])}</td></tr>"
                for n in rows
            )
            + "</table></div>"
        )
    return "<section id='saturation'><h2>Saturation</h2>" + intro + body + "</section>"


def section_draw(report: Report) -> str:
    if not report.networks:
        return ""
    examples = "<p class='hint'>Or click a test digit:</p><div id='examples'></div>" if report.digits else ""
    return f"""<section id="draw"><h2>Draw a digit</h2>
<p>Draw with the mouse or a finger. The page reads your drawing exactly as <code>nndl predict</code> reads an
image file (the same steps, written again in JavaScript): it keeps the main connected ink, crops its box, scales
it to 20&times;20 keeping the aspect ratio and centres it by its centre of mass in 28&times;28, as MNIST's digits
were made. Then the trained network runs on those 784 numbers, in your browser.</p>
<div class="stage">
 <div class="panel"><h3>1. Your drawing</h3><div class="padrow"><div class="padbox"><canvas id="pad" width="280"
  height="280" aria-label="drawing pad"></canvas><div class="guide"></div></div>
  <div class="quick" aria-hidden="true"><canvas id="quick-input" width="28" height="28"></canvas>
  <span id="quick-answer" class="hint">the answer shows here</span></div></div>
  <button id="clear" type="button">Clear</button> <span id="pad-label" class="hint"></span>{examples}</div>
 <div class="panel"><h3>2. What the network sees</h3><canvas id="input" width="28" height="28"></canvas>
  <p class="hint">The 784 input neurons: your ink, cropped, scaled and centred. A speck or a stray stroke far
  from the digit would shrink it here.</p></div>
 <div class="panel"><h3>3. Hidden neurons</h3><div id="hidden"></div><p class="hint" id="sat-now"></p>
  <div class="legend-row" id="hidden-legend"></div></div>
 <div class="panel"><h3>4. The ten outputs</h3><div id="answer"></div><div id="bars"></div>
  <p class="hint" id="bars-note"></p></div>
</div></section>
<section id="features"><h2>What the hidden neurons look for</h2>
<p id="features-dense">Each square is one hidden neuron's 784 incoming weights, laid out as the 28&times;28 image they multiply:
blue pixels push the neuron on, red ones hold it off. The orange bar under each shows how strongly it fires for
the digit on the pad. Compare networks in the menu at the top: N(0, 1) initialization leaves noisy weights, L2
regularization smooth strokes.</p>
<div id="features-conv" hidden><p>The first conv layer's filters, chapter 6's picture: <span
id="filters-what"></span> A map slides its filter over the whole image, so it finds its feature anywhere. Blue
weights push the map on, red ones hold it off; the orange bar: how strongly the map responds to the digit on the
pad. Notice: trained filters are not noise - many set a blue stroke beside a red one, an edge at some angle - yet,
as the book says of its own, what each looks for is hard to put in words. After a short training they are still
close to their random start.</p></div><div id="weights"></div></section>{section_maps(report)}"""


def section_maps(report: Report) -> str:
    """The drawn digit's feature maps through the conv and pool layers (only if a network has them)."""
    if not any(n.get("stack") for n in report.networks):
        return ""
    return """<section id="maps"><h2>Feature maps</h2>
<p>The digit on the pad through the conv net, layer by layer: each small square is one feature map, one
filter's response at every position (blue strong, red negative; one colour scale per layer). Notice: the first
layer's maps still look like your digit, each lit where its filter's edge or stroke lies; pooling halves them,
keeping roughly where each feature is; the next conv layer's maps no longer look like a digit - they say which
features lie where, and the fully connected layers read the answer from them. Draw, and watch them change.</p><div id="maps-box"></div></section>"""


def section_mistakes(report: Report) -> str:
    if not report.networks or not report.digits:
        return ""
    return f"""<section id="mistakes"><h2>Mistakes</h2>
<p id="acc"></p>
<div class="cols"><div><h3>Confusion matrix</h3><p class="hint">Rows: the true digit; columns: the network's
answer, on {escape(report.test_name)}. The diagonal holds the right answers; the darker a red cell, the more
often that confusion happens. Click one to see those digits.</p><div class="scroll"><table id="confusion"></table></div></div>
<div><h3>Misclassified test digits</h3><p class="hint" id="gallery-note"></p>
<button id="show-all" type="button" hidden>Show all kept mistakes</button><div id="gallery"></div></div></div>
</section>"""


def html(report: Report) -> str:
    """The whole page as one string."""
    data = {
        "prep": prep_constants(),
        "pen": PEN,
        "saturated": SATURATED,
        "networks": report.networks,
        "digits": report.digits,
        "examples": report.examples,
        "default_network": report.networks[-1]["name"] if report.networks else None,
    }
    for n in report.networks:  # the ladder's last step reads best
        if n["name"] == "full":
            data["default_network"] = "full"
    nav = [
        ("draw", "Draw"),
        ("features", "Hidden neurons"),
        ("maps", "Feature maps"),
        ("mistakes", "Mistakes"),
        ("saturation", "Saturation"),
        ("ladder", "Ladder"),
        ("runs", "Runs"),
        ("figures", "Figures"),
    ]
    body = [
        section_draw(report),
        section_mistakes(report),
        section_saturation(report),
        section_ladder(report),
        section_runs(report),
        section_figures(report),
    ]
    joined = "".join(body)
    links = " ".join(f"<a href='#{k}'>{v}</a>" for k, v in nav if f'id="{k}"' in joined or f"id='{k}'" in joined)
    picker = "<label>Network: <select id='network'></select></label>" if report.networks else ""
    notes = "".join(f"<p class='sub'>{escape(n)}</p>" for n in report.notes)
    book = (
        "chapter 6 (<code>network3.py</code>) &middot; Level 4: convolutional networks"
        if any(n.get("stack") for n in report.networks)
        else "chapter 3 (<code>network2.py</code>) &middot; Level 3: Improved Neural Network Techniques"
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<title>{escape(report.title)}</title>
<style>{asset("report.css")}</style></head>
<body>
<header><p class="sub">Neural Networks and Deep Learning, {book} &middot; made by nndl {escape(nndl.__version__)}</p>
<h1>{escape(report.title)}</h1>{notes}</header>
<div class="bar-top"><nav>{links}</nav>{picker}</div>
<main>{joined}</main>
<footer>Everything on this page is in this one file: it needs no network connection and sends nothing anywhere.
Source: {escape(report.source)}.</footer>
<script type="application/json" id="nndl-data">{_script_json(data)}</script>
<script>{asset("imageprep.js")}</script>
<script>{asset("network.js")}</script>
<script>{asset("page.js")}</script>
</body></html>
"""
