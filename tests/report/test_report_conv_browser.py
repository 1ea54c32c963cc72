"""The report page of a conv net in a real browser (Debian's headless Chromium, Selenium).

Its JavaScript forward pass - conv (valid, stride 1, several maps), max-pool, dense and the
output layer - must compute what Network.forward_layers computes, layer by layer, on 100 test
digits of the committed sample (to 1e-6); a drawing is read by the conv net as nndl predict
reads it; the first conv layer's filters and the drawn digit's feature maps are drawn, and the
maps change with the drawing. Screenshots at 390 and 1280 px are kept in $NNDL_SCREENSHOTS
when it is set. Skipped, with a message saying why, without /usr/bin/chromium,
/usr/bin/chromedriver or selenium (as test_report_browser.py).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from browser_helpers import chromium, close, require_selenium
from PIL import Image

import nndl
from nndl.cli import main
from nndl.config import TrainConfig
from nndl.data import load_npz
from nndl.imageprep import load_digit
from nndl.report import write_report

webdriver = require_selenium("conv report page browser tests")
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

NPZ = str(Path(__file__).parents[1] / "data" / "mnist_sample.npz")
SHOTS = os.environ.get("NNDL_SCREENSHOTS")
# small and fast, but every kind of layer: two conv layers (one of several input maps), two pools
# (one leaving a row and column over: 9 // 2), a dense hidden layer and the softmax output
LAYERS = "conv:6x5x5:relu,pool:2,conv:8x4x4:tanh,pool:2,dense:20:sigmoid"
LONG = "a-conv-net-with-a-very-long-name-that-must-wrap-on-a-phone-" * 3


@pytest.fixture(scope="module")
def sample():
    return load_npz(NPZ)


@pytest.fixture(scope="module")
def model(tmp_path_factory, sample) -> Path:
    """The conv net, trained 30 mini-batches of 10 on the sample (float64: the page's reference)."""
    cfg = TrainConfig(
        layers=LAYERS, cost="log-likelihood", init="he", eta=0.05, lmbda=0.0, epochs=1, seed=3, dtype="float64"
    )
    few = type(sample.training)(sample.training.images[:300], sample.training.labels[:300])
    net, history = nndl.train(cfg, few, sample.validation)
    path = tmp_path_factory.mktemp("conv") / f"{LONG}.json"
    nndl.save(net, path, config=cfg, history=history, dataset=NPZ)
    return path


@pytest.fixture(scope="module")
def page(model, sample) -> Path:
    return write_report(model, model.with_name("conv.html"), test=sample.test)


@pytest.fixture(scope="module")
def browser():
    driver = chromium(webdriver)
    yield driver
    close(driver)


def open_page(driver, path: Path, width: int = 1280, height: int = 1000):
    driver.set_window_size(width, height)
    driver.get(path.resolve().as_uri())
    driver.get_log("browser")
    assert driver.execute_script("return !!(window.nndlReport && window.nndlReport.networks.length)")


def problems(driver) -> list:
    return [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]


def last(driver) -> dict:
    driver.execute_script(
        "return new Promise(function (r) { requestAnimationFrame(function () { requestAnimationFrame(r); }); });"
    )
    return driver.execute_script("return window.nndlReport.last")


def maps_pixels(driver) -> list:
    """Every feature-map canvas as drawn now (PNG data URLs)."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#maps-box canvas')).map(function (c) { return c.toDataURL(); });"
    )


def screenshot(driver, tmp_path: Path, name: str) -> None:
    folder = Path(SHOTS) if SHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(folder / f"report-conv-{name}.png"))


def test_the_conv_forward_pass_equals_numpy_on_100_test_digits(browser, page, model, sample):
    net = nndl.load(model)
    assert [layer.kind for layer in net.layers] == ["conv", "pool", "conv", "pool", "dense", "dense"]
    X = sample.test.images[:100].astype(np.float64)  # (100, 784)
    open_page(browser, page)
    js = browser.execute_script(
        "return arguments[0].map(function (x) { return window.nndlReport.forward(0, x); });", X.tolist()
    )
    ref = net.forward_layers(X)  # [X, (100, 24, 24, 6), (100, 12, 12, 6), (100, 9, 9, 8), ...]
    worst = {}
    for layer in range(1, len(ref)):
        got = np.array([example[layer] for example in js])  # (100, values)
        assert got.shape == (100, ref[layer][0].size)
        worst[layer] = float(np.abs(got - ref[layer].reshape(100, -1)).max())  # (height, width, channels) order
    print("max |JS - NumPy| per layer:", worst)
    # measured: at most 2.1e-7 (the second conv layer), all from keeping the weights as float32 in the page
    assert max(worst.values()) <= 1e-6, worst
    assert problems(browser) == []


def test_a_drawing_is_read_by_the_conv_net_and_its_maps_follow(browser, page, model, tmp_path, capsys):
    open_page(browser, page)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#weights .tile")) == 6  # the first layer's 6 filters
    assert browser.find_element(By.ID, "features-conv").is_displayed()
    assert not browser.find_element(By.ID, "features-dense").is_displayed()
    counts = browser.execute_script(
        "return Array.from(document.querySelectorAll('#maps-box .mapgrid'))"
        ".map(function (g) { return g.children.length; })"
    )
    assert counts == [6, 6, 8, 8]
    blank = maps_pixels(browser)
    pad = browser.find_element(By.ID, "pad")
    # the header says which data set the model was trained on, by path: from a checkout at a long
    # path it takes several lines and pushes the pad below the window's fold, where the mouse cannot go
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", pad)
    ActionChains(browser).move_to_element_with_offset(pad, -60, -80).click_and_hold().move_to_element_with_offset(
        pad, 60, -80
    ).move_to_element_with_offset(pad, 20, 0).move_to_element_with_offset(pad, -12, 92).release().perform()
    got = last(browser)
    seven = maps_pixels(browser)
    assert seven != blank  # the maps show the drawing
    data = browser.execute_script(
        "var c = document.getElementById('pad');"
        "return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);"
    )
    png = tmp_path / "drawn.png"
    Image.fromarray(np.array(data, dtype=np.uint8).reshape(280, 280, 4), "RGBA").save(png)
    assert main(["predict", str(model), str(png), "--json"]) == 0
    (answer,) = json.loads(capsys.readouterr().out)
    assert np.abs(np.array(got["input"]) - load_digit(png)).max() <= 1e-6
    assert got["digit"] == answer["digit"]
    assert got["confidence"] == pytest.approx(answer["scores"][answer["digit"]], abs=1e-6)
    assert browser.find_element(By.CSS_SELECTOR, "#answer .digit").text == str(answer["digit"])
    screenshot(browser, tmp_path, "desktop-1280")
    browser.execute_script("document.getElementById('features').scrollIntoView()")
    screenshot(browser, tmp_path, "desktop-1280-filters-maps")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", pad)
    ActionChains(browser).move_to_element_with_offset(pad, 0, -90).click_and_hold().move_to_element_with_offset(
        pad, 0, 90
    ).release().perform()  # a stroke more: the maps move
    last(browser)
    assert maps_pixels(browser) != seven
    assert problems(browser) == []


def test_the_conv_page_on_a_phone(browser, page, tmp_path):
    open_page(browser, page, 390, 844)
    browser.find_elements(By.CSS_SELECTOR, "#examples .example")[0].click()
    got = last(browser)
    assert got is not None and got["source"] == "test"
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth"
    )  # no sideways scroll
    browser.execute_script("document.getElementById('maps').scrollIntoView()")
    screenshot(browser, tmp_path, "phone-390-maps")
    browser.execute_script("window.scrollTo(0, 0)")
    screenshot(browser, tmp_path, "phone-390-top")
    assert problems(browser) == []


def test_a_level4_folder_switches_between_a_dense_and_a_conv_net(browser, sample, tmp_path):
    """A Level 4 exploration folder (its ladder's first two rows): the menu switches the filters and
    the feature maps on and off with the network, and each reads the clicked digit as NumPy does."""
    folder = tmp_path / "level4" / "run"
    (folder / "models").mkdir(parents=True)
    few = type(sample.training)(sample.training.images[:200], sample.training.labels[:200])
    runs = {}
    for key, extra in (("shallow", {"sizes": (784, 30, 10)}), ("conv", {"layers": "conv:5x5x5,pool:2,dense:20"})):
        cfg = TrainConfig(cost="log-likelihood", epochs=1, seed=1, **extra)
        net, history = nndl.train(cfg, few, sample.validation)
        nndl.save(net, folder / "models" / f"{key}.json", config=cfg, history=history)
        runs[key] = {
            "config": cfg.to_dict(),
            "history": json.loads((folder / "models" / f"{key}.json").read_text())["history"],
            "seconds": 1.0,
            "n_train": 200,
            "model": f"models/{key}.json",
            "final": {"validation_accuracy": 0.5, "test_accuracy": 0.5},
        }
    results = {
        "exploration": "level4",
        "complete": True,
        "created": "today",
        "runs": runs,
        "options": {"dataset": NPZ, "quick": True, "seed": 1},
        "sizes": {"test": 500, "validation": 100},
    }
    (folder / "results.json").write_text(json.dumps(results))
    page = write_report(folder, test=sample.test)
    open_page(browser, page)
    assert "Level 4: convolutional networks" in browser.title
    tiles = "return document.querySelectorAll('#weights .tile').length"
    maps = "return document.querySelectorAll('#maps-box canvas').length"
    assert browser.execute_script(tiles) == 5 and browser.execute_script(maps) == 10  # conv, the last row
    browser.find_elements(By.CSS_SELECTOR, "#examples .example")[2].click()
    for index, key, n_tiles, n_maps in ((0, "shallow", 30, 0), (1, "conv", 5, 10)):
        browser.find_element(By.ID, "network").find_elements(By.TAG_NAME, "option")[index].click()
        got = last(browser)
        assert browser.execute_script(tiles) == n_tiles and browser.execute_script(maps) == n_maps
        assert browser.find_element(By.ID, "features-conv").is_displayed() == (key == "conv")
        out = nndl.load(folder / "models" / f"{key}.json").feedforward(np.array(got["input"]))
        assert got["digit"] == int(out.argmax()) and got["outputs"] == pytest.approx(list(out), abs=1e-6)
    assert problems(browser) == []
