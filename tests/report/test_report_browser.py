"""The report page in a real browser: Debian's headless Chromium driven by Selenium.

The page must compute what Python computes: its JavaScript forward pass against
Network.forward_layers on 100 test digits (to 1e-6), its preprocessing of a drawing against
nndl.imageprep on the very same pixels (to 1e-6; measured: bit for bit), and the answers of
`nndl predict`. It is driven as a user would: strokes drawn with mouse and touch pointer
events, a test digit and a misclassified digit clicked, a confusion cell picked, the network
switched. And it must stay offline: no request leaves the page, the console stays clean.
Screenshots at desktop and phone widths are kept in $NNDL_SCREENSHOTS when it is set.

Needs /usr/bin/chromium and /usr/bin/chromedriver (Debian: apt-get install -y chromium
chromium-driver) and selenium (the 'test' extra); .ci/run installs them. Without them every
test here is skipped with a message saying so. No browser is ever downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from browser_helpers import chromium, close, require_selenium
from PIL import Image

import nndl
from nndl.cli import main
from nndl.config import TrainConfig
from nndl.data import load_npz
from nndl.imageprep import digit_from_grey, load_digit, prepare_digit, to_ink
from nndl.report import write_report

webdriver = require_selenium("report page browser tests")
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.actions import interaction  # noqa: E402
from selenium.webdriver.common.actions.action_builder import ActionBuilder  # noqa: E402
from selenium.webdriver.common.actions.pointer_input import PointerInput  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

NPZ = str(Path(__file__).parents[1] / "data" / "mnist_sample.npz")
SHOTS = os.environ.get("NNDL_SCREENSHOTS")  # a folder to keep the screenshots in, if set


@pytest.fixture(scope="module")
def sample():
    return load_npz(NPZ)


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module: fresh profile, nothing that talks to the network."""
    driver = chromium(webdriver)
    yield driver
    close(driver)


def trained(sample, tmp: Path, name: str, **config) -> Path:
    cfg = TrainConfig(**{"epochs": 1, "seed": 2, **config})
    net, history = nndl.train(cfg, sample.training, sample.validation)
    path = tmp / f"{name}.json"
    nndl.save(net, path, config=cfg, history=history, dataset=NPZ)
    return path


@pytest.fixture(scope="module")
def model(tmp_path_factory, sample) -> Path:
    return trained(sample, tmp_path_factory.mktemp("model"), "net", sizes=(784, 30, 10), epochs=3)


@pytest.fixture(scope="module")
def page(model, sample) -> Path:
    return write_report(model, model.with_suffix(".html"), test=sample.test)


def open_page(driver, path: Path, width: int = 1280, height: int = 1000):
    driver.set_window_size(width, height)
    driver.get(path.resolve().as_uri())
    driver.get_log("browser")  # start each page with an empty console log
    assert driver.execute_script("return !!(window.nndlReport && window.nndlReport.networks.length)")


def console_problems(driver) -> list:
    return [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]


def pad_pixels(driver) -> np.ndarray:
    """The drawing pad's RGBA pixels, as the page's own getImageData reads them: (280, 280, 4)."""
    data = driver.execute_script(
        "var c = document.getElementById('pad');"
        "return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);"
    )
    return np.array(data, dtype=np.uint8).reshape(280, 280, 4)


def draw(driver, strokes, steps: int = 4) -> None:
    """Draw polylines with the mouse (pointer events); points are offsets from the pad's centre."""
    pad = driver.find_element(By.ID, "pad")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", pad)  # the mouse reaches only the window
    for points in strokes:
        chain = ActionChains(driver).move_to_element_with_offset(pad, *points[0]).click_and_hold()
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            for t in np.linspace(0, 1, steps)[1:]:
                chain.move_to_element_with_offset(pad, int(x0 + t * (x1 - x0)), int(y0 + t * (y1 - y0)))
        chain.release().perform()


def last(driver) -> dict:
    driver.execute_script(
        "return new Promise(function (r) { requestAnimationFrame(function () { requestAnimationFrame(r); }); });"
    )  # let the page redraw
    return driver.execute_script("return window.nndlReport.last")


def python_reads(pixels: np.ndarray, model: Path, tmp: Path, capsys) -> tuple[np.ndarray, dict]:
    """What nndl predict makes of the same pixels saved as a PNG: (input (784,), its JSON answer)."""
    png = tmp / "drawn.png"
    Image.fromarray(pixels, "RGBA").save(png)
    assert main(["predict", str(model), str(png), "--json"]) == 0
    (answer,) = json.loads(capsys.readouterr().out)
    return load_digit(png), answer


SEVEN = [[(-60, -80), (60, -80), (58, -70), (-12, 92)]]
FOUR = [[(-50, -90), (-70, 20), (60, 20)], [(30, -70), (30, 100)]]


@pytest.mark.parametrize("strokes", [SEVEN, FOUR], ids=["seven", "four-in-two-strokes"])
def test_a_drawing_is_read_exactly_as_nndl_predict_reads_it(browser, page, model, tmp_path, capsys, strokes):
    open_page(browser, page)
    draw(browser, strokes)
    got = last(browser)
    x, answer = python_reads(pad_pixels(browser), model, tmp_path, capsys)
    # the same 784 numbers (tolerance 1e-6; measured: 0, bit for bit)
    assert np.abs(np.array(got["input"]) - x).max() <= 1e-6
    # the same answer and confidence as nndl predict
    assert got["digit"] == answer["digit"]
    assert got["confidence"] == pytest.approx(answer["scores"][answer["digit"]], abs=1e-6)
    shown = browser.find_element(By.CSS_SELECTOR, "#answer .digit").text
    assert shown == str(answer["digit"])
    assert f"{100 * got['confidence']:.1f}%" in browser.find_element(By.ID, "answer").text
    assert console_problems(browser) == []
    screenshot(browser, tmp_path, f"desktop-{len(strokes)}-strokes")


def test_drawing_with_a_finger(browser, page, model, tmp_path, capsys):
    open_page(browser, page, 390, 844)
    browser.execute_script(
        "window.__types = []; document.getElementById('pad').addEventListener('pointerdown',"
        " function (e) { window.__types.push(e.pointerType); });"
    )
    pad = browser.find_element(By.ID, "pad")
    finger = ActionBuilder(browser, mouse=PointerInput(interaction.POINTER_TOUCH, "finger"))
    finger.pointer_action.move_to(pad, 0, -int(pad.size["height"] * 0.35)).pointer_down()
    for k in range(1, 9):
        finger.pointer_action.move_to(pad, 2, int(pad.size["height"] * (-0.35 + 0.7 * k / 8)))
    finger.pointer_action.pointer_up()
    finger.perform()
    assert browser.execute_script("return window.__types") == ["touch"]
    got = last(browser)
    x, answer = python_reads(pad_pixels(browser), model, tmp_path, capsys)
    assert np.abs(np.array(got["input"]) - x).max() <= 1e-6 and got["digit"] == answer["digit"]
    quick = browser.find_element(By.ID, "quick-answer")  # on a phone the answer shows under the pad
    assert quick.is_displayed() and quick.text.startswith(str(answer["digit"]))
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth"
    )  # no sideways scroll
    assert console_problems(browser) == []
    screenshot(browser, tmp_path, "phone")


@pytest.fixture(scope="module")
def activations(tmp_path_factory, sample) -> list[Path]:
    """One small network per hidden activation and output layer the page supports."""
    tmp = tmp_path_factory.mktemp("activations")
    combos = [
        ("sigmoid", "quadratic", "large"),
        ("tanh", "log-likelihood", "default"),
        ("relu", "cross-entropy", "he"),
        ("relu", "log-likelihood", "he"),
    ]
    return [
        trained(sample, tmp, f"{a}-{c}", sizes=(784, 40, 20, 10), activation=a, cost=c, init=i) for a, c, i in combos
    ]


def test_forward_pass_equals_numpy_on_100_test_digits(browser, activations, sample):
    X = sample.test.images[:100].astype(np.float64)  # (100, 784)
    worst = {}
    for path in activations:
        net = nndl.load(path)
        page = write_report(path, path.with_suffix(".html"))  # no test data: just the net
        open_page(browser, page)
        js = browser.execute_script(
            "return arguments[0].map(function (x) { return window.nndlReport.forward(0, x); });", X.tolist()
        )
        ref = net.forward_layers(X)  # float64 weights
        for layer in range(1, len(ref)):
            got = np.array([example[layer] for example in js])  # (100, n_layer)
            worst[(path.stem, layer)] = float(np.abs(got - ref[layer]).max())
        assert browser.execute_script("return window.nndlReport.networks[0].output") == net.output.name
    # measured: at most 2.3e-7 (hidden layers) and 5e-8 (outputs), all from keeping the weights as float32
    assert max(worst.values()) <= 1e-6, worst


def photo_cases():
    """Grey pictures with what photos bring: each needs nndl.inkfind to find the digit."""
    rng = np.random.default_rng(3)
    digit = np.load(NPZ)["test_images"][0].astype(np.float64) / 255  # a 7, ink high
    big = np.kron(digit, np.ones((4, 4)))  # (112, 112)

    def sheet():
        g = np.full((180, 160), 0.85) + rng.normal(0, 0.01, (180, 160))
        g[30:142, 24:136] -= 0.7 * big
        return g

    cases = {}
    g = sheet()
    g[5:9, 5:9] = g[160:164, 140:145] = 0.1
    cases["specks"] = g
    g = sheet()
    g[:8] = g[-8:] = 0.05
    g[:, :8] = g[:, -8:] = 0.05
    cases["border"] = g
    g = sheet()
    g[:24, :70] = 0.3
    cases["desk corner"] = g
    g = sheet()
    g[120:123] = 0.45
    cases["ruled line"] = g
    g = sheet()
    g[:, 12:14] = 0.5
    cases["margin line"] = g
    g = 1 - sheet()
    g[4:7, 150:153] = 1.0
    cases["chalk"] = g
    return cases


def rounding_cases():
    """Crisp bars whose size and centre land on halves: Python's round() goes to the even side."""
    cases = {}
    for h, w in ((40, 25), (30, 13), (50, 22)):  # 25 * 20 / 40 = 12.5 -> 12, ...
        g = np.ones((h + 20, w + 30))
        g[10 : 10 + h, 15 : 15 + w] = 0.0
        cases[f"bar {h}x{w}"] = g
    return cases


def browser_prepares(browser, g: np.ndarray) -> np.ndarray:
    return np.array(
        browser.execute_script(
            "return window.nndlReport.prepareGrey(arguments[0], arguments[1], arguments[2]);",
            g.ravel().tolist(),
            *g.shape,
        )
    )


def test_preprocessing_of_photo_artefacts_equals_python(browser, page):
    open_page(browser, page)
    worst = {}
    for name, g in photo_cases().items():
        ref = digit_from_grey(g)
        assert not np.allclose(ref, prepare_digit(to_ink(g)).ravel(), atol=1e-3), name  # inkfind mattered
        worst[name] = float(np.abs(browser_prepares(browser, g) - ref).max())
    for name, g in rounding_cases().items():
        worst[name] = float(np.abs(browser_prepares(browser, g) - digit_from_grey(g)).max())
    assert max(worst.values()) <= 1e-6, worst  # measured: 0 for each


def test_a_test_digit_and_a_mistake_clicked(browser, page, model, sample):
    open_page(browser, page)
    net = nndl.load(model)
    data = browser.execute_script("return JSON.parse(document.getElementById('nndl-data').textContent).digits")
    example = browser.find_elements(By.CSS_SELECTOR, "#examples .example")[3]
    example.click()
    got = last(browser)
    row = data["rows"][int(example.get_attribute("data-pool"))]
    x = sample.test.images[row].astype(np.float64)
    assert np.array_equal(np.array(got["input"]), x)  # float32(pixel / 255), exactly
    out = net.feedforward(x)
    assert got["digit"] == int(out.argmax()) and got["confidence"] == pytest.approx(out.max() / out.sum(), abs=1e-6)

    tiles = browser.find_elements(By.CSS_SELECTOR, "#gallery .mistake")
    assert tiles, "the network makes mistakes on the sample"
    tile = tiles[0]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", tile)
    tile.click()
    got = last(browser)
    row = data["rows"][int(tile.get_attribute("data-pool"))]
    x = sample.test.images[row].astype(np.float64)
    out = net.feedforward(x)
    assert np.array_equal(np.array(got["input"]), x) and got["digit"] == int(out.argmax())
    assert int(tile.get_attribute("data-truth")) == sample.test.labels[row] != got["digit"]
    assert int(tile.get_attribute("data-pred")) == got["digit"]
    assert "which this network reads as" in browser.find_element(By.ID, "pad-label").text
    # a confusion cell filters the gallery to that confusion
    cell = browser.find_elements(By.CSS_SELECTOR, "#confusion td.pick")[0]
    truth, pred = cell.get_attribute("data-true"), cell.get_attribute("data-pred")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", cell)
    cell.click()
    shown = browser.find_elements(By.CSS_SELECTOR, "#gallery .mistake")
    assert shown and all(t.get_attribute("data-truth") == truth and t.get_attribute("data-pred") == pred for t in shown)
    assert browser.find_element(By.ID, "show-all").is_displayed()
    assert console_problems(browser) == []


def exploration(sample, folder: Path, dataset: str = NPZ, figure: bool = False) -> Path:
    """An exploration folder with two runs (baseline, full) and their models; with ``figure``,
    a wide PNG as the exploration's first figure."""
    (folder / "models").mkdir(parents=True)
    runs = {}
    for name, sizes in (("baseline", (784, 30, 10)), ("full", (784, 100, 10))):
        path = trained(sample, folder / "models", name, sizes=sizes)
        runs[name] = {
            "config": json.loads(path.read_text())["config"],
            "n_train": 1667,
            "evaluation_data": "validation",
            "history": json.loads(path.read_text())["history"],
            "seconds": 1.0,
            "final": {"validation_accuracy": 0.9, "test_accuracy": 0.9, "training_accuracy": 0.9},
        }
    results = {
        "complete": True,
        "options": {"dataset": dataset, "quick": True},
        "sizes": {"test": 500, "validation": 333},
        "ladder": [
            {"step": "Level 2 baseline", "run": "baseline", "expected": "~94.5%"},
            {"step": "+ larger hidden layer", "run": "full", "expected": "~97.5-98%"},
        ],
        "runs": runs,
    }
    (folder / "results.json").write_text(json.dumps(results))
    if figure:
        rgb = np.zeros((700, 1800, 3), np.uint8)
        rgb[:, :, 0] = np.linspace(0, 255, 1800, dtype=np.uint8)  # (700, 1800): a gradient, 1800 px wide
        Image.fromarray(rgb, "RGB").save(folder / "1_cross_entropy_advantage.png")
    return folder


def test_switching_networks(browser, sample, tmp_path):
    """An exploration folder with two runs: the menu switches the network everywhere."""
    folder = exploration(sample, tmp_path / "level3" / "run")
    page = write_report(folder, test=sample.test)
    open_page(browser, page)
    count = "return document.querySelectorAll('#hidden .cells span').length"
    # the views are drawn on the next animation frame, which a loaded machine may delay
    WebDriverWait(browser, 20).until(lambda b: b.execute_script(count) == 100)  # 'full' is shown first
    assert len(browser.find_elements(By.CSS_SELECTOR, "#weights .tile")) == 100
    browser.find_elements(By.CSS_SELECTOR, "#examples .example")[0].click()
    full_answer = last(browser)
    menu = browser.find_element(By.ID, "network")
    menu.find_elements(By.TAG_NAME, "option")[0].click()  # baseline
    got = last(browser)
    WebDriverWait(browser, 20).until(lambda b: b.execute_script(count) == 30)
    assert browser.execute_script(count) == 30 and len(browser.find_elements(By.CSS_SELECTOR, "#weights .tile")) == 30
    net = nndl.load(folder / "models" / "baseline.json")
    out = net.feedforward(np.array(got["input"]))
    assert got["input"] == full_answer["input"] and got["digit"] == int(out.argmax())
    assert "baseline" in browser.find_element(By.ID, "acc").text
    assert console_problems(browser) == []


def test_nothing_leaves_the_page(browser, page):
    open_page(browser, page)
    draw(browser, [[(-40, -60), (30, 70)]], steps=3)
    browser.find_elements(By.CSS_SELECTOR, "#examples .example")[0].click()
    last(browser)
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    assert console_problems(browser) == []
    # and the page's Content-Security-Policy would stop a request if one were tried
    blocked = browser.execute_async_script("""
        var done = arguments[arguments.length - 1], seen = [];
        document.addEventListener('securitypolicyviolation', function (e) { seen.push(e.violatedDirective); });
        fetch('http://127.0.0.1:9/probe').then(function () { done(['sent', seen]); },
                                                 function () { setTimeout(function () { done(['blocked', seen]); }, 50); });
    """)
    assert blocked[0] == "blocked" and blocked[1] and blocked[1][0].startswith("connect-src")


@pytest.fixture(scope="module")
def long_pages(tmp_path_factory, sample) -> dict:
    """A model page and an exploration page made from a folder whose path is at least 200
    characters with no place to break (the data set's file sits there too)."""
    base = tmp_path_factory.mktemp("long")
    long = base / ("nndlfolder" * 30)[: max(20, 200 - len(str(base)))]
    long.mkdir()
    assert len(str(long)) >= 200
    npz = long / "mnist_sample_with_a_long_name.npz"
    shutil.copyfile(NPZ, npz)
    model = trained(sample, long, "net", sizes=(784, 30, 10), epochs=1)
    json_model = json.loads(model.read_text())
    json_model["dataset"] = str(npz)
    model.write_text(json.dumps(json_model))
    folder = exploration(sample, long / "level3" / "20261205_080000", dataset=str(npz), figure=True)
    big_test = type(sample.test)(
        np.tile(sample.test.images, (20, 1)),  # 10,000 digits:
        np.tile(sample.test.labels, 20),
    )
    return {
        "model": write_report(model, model.with_suffix(".html"), test=big_test),  # 4-digit counts
        "exploration": write_report(folder, test=sample.test),
    }


def overflowing(driver) -> list:
    """Elements outside any sideways-scrolling box that reach past the right edge of the window, or
    whose content spills out of them (a long word that does not wrap)."""
    return driver.execute_script("""
        var out = [], w = document.documentElement.clientWidth;
        document.querySelectorAll('body *').forEach(function (el) {
          var r = el.getBoundingClientRect(), p = el.parentElement, clipped = false;
          for (; p && p !== document.body; p = p.parentElement)
            if (getComputedStyle(p).overflowX !== 'visible') { clipped = true; break; }
          var spills = getComputedStyle(el).overflowX === 'visible' && el.scrollWidth > el.clientWidth + 1 && el.clientWidth;
          if (!clipped && r.width && (r.right > w + 0.5 || spills))
            out.push(el.tagName + '#' + el.id + '.' + el.className + ': ' + Math.round(r.right) + (spills ? ' (spills)' : ''));
        });
        return out;""")


@pytest.mark.parametrize("which", ["model", "exploration"])
@pytest.mark.parametrize("width", [390, 1280])
def test_long_paths_never_widen_the_page(browser, long_pages, tmp_path, which, width):
    open_page(browser, long_pages[which], width, 844)
    assert (
        str(long_pages[which].parent) in browser.find_element(By.TAG_NAME, "footer").text
        or long_pages[which].parent.name in browser.page_source
    )
    screenshot(browser, tmp_path, f"long-path-{which}-{width}")
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width, overflowing(browser)
    assert overflowing(browser) == []


@pytest.mark.parametrize("width", [390, 1280])
def test_the_confusion_matrix_fits_without_a_scrollbar(browser, long_pages, tmp_path, width):
    open_page(browser, long_pages["model"], width, 900)
    browser.execute_script("document.getElementById('mistakes').scrollIntoView()")
    screenshot(browser, tmp_path, f"confusion-{width}")
    box = browser.execute_script("""
        var t = document.getElementById('confusion'), s = t.parentElement, c = t.querySelector('th.corner');
        var lh = parseFloat(getComputedStyle(c).lineHeight);
        return {scroll: s.scrollWidth, client: s.clientWidth, lines: Math.round((c.clientHeight - 4) / lh),
                right: t.getBoundingClientRect().right, window: document.documentElement.clientWidth};""")
    assert box["scroll"] <= box["client"] and box["right"] <= box["window"], box  # column 9 whole, no sideways scroll
    assert box["lines"] <= 2, box  # the corner header on one or two lines


def test_every_confusion_cell_with_mistakes_shows_some(browser, long_pages):
    open_page(browser, long_pages["model"], 1280, 900)
    seen = browser.execute_script("""
        return Array.from(document.querySelectorAll('#confusion td.pick')).map(function (td) {
          td.click();
          return [+td.textContent, document.querySelectorAll('#gallery .mistake').length,
                  document.getElementById('gallery-note').textContent];
        });""")
    assert len(seen) > 10
    for count, shown, note in seen:
        assert count > 0 and 1 <= shown <= count, (count, shown, note)
        assert note.startswith("True ") and f"{count:,} mistake" in note and "none" not in note
    assert console_problems(browser) == []


def test_the_ladder_shows_every_column_on_a_phone(browser, long_pages, tmp_path):
    open_page(browser, long_pages["exploration"], 390, 844)
    cells = browser.execute_script("""
        var w = document.documentElement.clientWidth;
        return Array.from(document.querySelectorAll('#ladder table.ladder tr')).slice(1).map(function (tr) {
          var c = tr.cells[tr.cells.length - 1], r = c.getBoundingClientRect();
          var box = c.closest('.scroll').getBoundingClientRect();
          return [c.textContent, r.width > 0 && r.left >= 0 && r.right <= Math.min(w, box.right) + 0.5];
        });""")
    browser.execute_script("document.getElementById('ladder').scrollIntoView()")
    screenshot(browser, tmp_path, "phone-ladder")
    assert len(cells) == 2 and all(seen for _, seen in cells), cells  # the validation column, in view


@pytest.mark.parametrize("width", [390, 1280])
def test_a_figure_opens_full_size(browser, long_pages, tmp_path, width):
    open_page(browser, long_pages["exploration"], width, 844)
    img = browser.find_element(By.CSS_SELECTOR, "#figures figure.fig img")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", img)
    assert img.size["width"] < 1800  # shrunk to the page
    img.click()
    big = browser.find_element(By.CSS_SELECTOR, "#zoom img")
    assert big.is_displayed() and big.size["width"] == 1800  # its own size, to scroll around
    screenshot(browser, tmp_path, f"figure-open-{width}", least=2_000)  # mostly the dark backdrop
    browser.find_element(By.ID, "zoom").click()
    assert not browser.find_element(By.ID, "zoom").is_displayed()
    assert console_problems(browser) == []


def screenshot(browser, tmp_path: Path, name: str, least: int = 10_000) -> Path:
    """Keep a screenshot of the page as it is now, in $NNDL_SCREENSHOTS when set (look at them)."""
    folder = Path(SHOTS) if SHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    shot = folder / f"report-{name}.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > least
    return shot


HOSTILE = "<!--<script>x</script><![CDATA[&amp;\u2028\u2029"


def test_hostile_strings_in_every_field_leave_the_page_working(browser, sample, tmp_path):
    """'<!--<script>' in a model file's name, a run's name, config values, a ladder step, the data set's
    name and the exploration's date: the data block holds, the page's scripts run, the strings come
    back as text."""
    folder = tmp_path / f"run{HOSTILE[:12]}"
    (folder / "models").mkdir(parents=True)
    name = f"full{HOSTILE[:12]}"
    path = trained(sample, folder / "models", name, sizes=(784, 30, 10))
    config = {**json.loads(path.read_text())["config"], "cost": HOSTILE, "init": HOSTILE, "activation": HOSTILE}
    run = {
        "config": config,
        "n_train": 1667,
        "evaluation_data": "validation",
        "seconds": 1.0,
        "group": HOSTILE,
        "history": json.loads(path.read_text())["history"],
        "model": HOSTILE,
        "host": HOSTILE,
        "final": {"validation_accuracy": 0.9, "test_accuracy": 0.9, "training_accuracy": 0.9},
    }
    results = {
        "complete": True,
        "created": HOSTILE,
        "options": {"dataset": HOSTILE, "quick": True},
        "sizes": {"test": 500, "validation": 333},
        "ladder": [{"step": HOSTILE, "run": name, "expected": HOSTILE}],
        "runs": {name: run},
    }
    (folder / "results.json").write_text(json.dumps(results))
    pages = [write_report(folder, test=sample.test, dataset=HOSTILE), write_report(path, test=sample.test)]
    for page in pages:
        open_page(browser, page)
        got = browser.execute_script(
            "return [window.nndlReport.networks.length, window.nndlReport.networks[0].name, "
            "document.querySelectorAll('script').length]"
        )
        assert got == [1, name, 4]
        browser.find_elements(By.CSS_SELECTOR, "#examples .example")[0].click()
        assert last(browser)["digit"] in range(10)  # the network still reads a digit
        assert console_problems(browser) == []
    open_page(browser, pages[0])
    assert HOSTILE.split("\u2028")[0] in browser.find_element(By.ID, "ladder").text  # shown as text, intact
