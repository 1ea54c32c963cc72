/* nndl report page: the drawing pad, the network's insides, the mistakes. Plain JavaScript, no
 * library, no network access: everything it shows comes from the data written into the page. */
"use strict";

(function () {
  var DATA = JSON.parse(document.getElementById("nndl-data").textContent);
  NNDLPrep.init(DATA.prep);
  NNDLNet.init(DATA.saturated);
  var NETS = DATA.networks.map(NNDLNet.fromData);
  var DIGITS = DATA.digits ? NNDLNet.decode(DATA.digits.pixels, Uint8Array) : null;
  var $ = function (id) { return document.getElementById(id); };
  var state = { net: NETS.length ? NETS.length - 1 : -1, input: null, source: null, layers: null, filter: null };
  for (var b = 0; b < NETS.length; b++) if (NETS[b].name === DATA.default_network) state.net = b;

  // A test digit as the network saw it in Python: float32(pixel / 255).
  function digitInput(k) {
    var x = new Float64Array(784);
    for (var i = 0; i < 784; i++) x[i] = Math.fround(DIGITS[k * 784 + i] / 255);
    return x;
  }

  function paintDigit(canvas, values, scaleTo) {           // values in [0, 1], ink high: dark on white
    var n = Math.round(Math.sqrt(values.length)), ctx = canvas.getContext("2d");
    canvas.width = n; canvas.height = n;
    var img = ctx.createImageData(n, n);
    for (var i = 0; i < values.length; i++) {
      var v = 255 - Math.round(255 * Math.min(Math.max(values[i], 0), 1));
      img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = v; img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    if (scaleTo) { canvas.style.width = canvas.style.height = scaleTo + "px"; }
  }

  function colourOf(v, lo, hi) {                            // diverging: red negative, blue positive
    var t = v >= 0 ? Math.min(v / hi, 1) : Math.min(-v / -lo, 1);
    var r = v >= 0 ? 255 - 200 * t : 255, g = 255 - 200 * t, bl = v >= 0 ? 255 : 255 - 200 * t;
    return [Math.round(r), Math.round(g), Math.round(bl)];
  }

  // ---- the drawing pad ----------------------------------------------------------------------
  var pad = $("pad"), pctx = pad ? pad.getContext("2d", { willReadFrequently: true }) : null, drawing = false, last = null, dirty = false, inked = false;

  function clearPad() {
    pctx.fillStyle = "#ffffff"; pctx.fillRect(0, 0, pad.width, pad.height);
    inked = false; state.source = null; state.input = null; $("pad-label").textContent = "";
    schedule();
  }

  function where(e) {
    var r = pad.getBoundingClientRect();
    return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height];
  }

  function stroke(a, c) {
    pctx.strokeStyle = "#000000"; pctx.lineWidth = DATA.pen; pctx.lineCap = "round"; pctx.lineJoin = "round";
    pctx.beginPath(); pctx.moveTo(a[0], a[1]); pctx.lineTo(c[0], c[1]); pctx.stroke();
  }

  function schedule() {
    if (dirty) return;
    dirty = true;
    window.requestAnimationFrame(function () { dirty = false; update(); });
  }

  if (pad) {
    pad.addEventListener("pointerdown", function (e) {
      e.preventDefault();
      if (state.source !== null && state.source !== "drawing") clearPad();  // a test digit was shown
      pad.setPointerCapture(e.pointerId);
      drawing = true; inked = true; state.source = "drawing"; last = where(e);
      stroke(last, last); schedule();
    });
    pad.addEventListener("pointermove", function (e) {
      if (!drawing) return;
      e.preventDefault();
      var events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
      if (!events.length) events = [e];
      for (var i = 0; i < events.length; i++) { var p = where(events[i]); stroke(last, p); last = p; }
      schedule();
    });
    var end = function () { drawing = false; schedule(); };
    pad.addEventListener("pointerup", end);
    pad.addEventListener("pointercancel", end);
    $("clear").addEventListener("click", clearPad);
  }

  function readPad() {                                      // the drawing, prepared as nndl predict does
    var img = pctx.getImageData(0, 0, pad.width, pad.height);
    var grey = NNDLPrep.greyFromRGBA(img.data, pad.width, pad.height);
    return NNDLPrep.digitFromGrey(grey);
  }

  function showTestDigit(k, caption) {
    state.source = "test"; state.input = digitInput(k); inked = false;
    var big = document.createElement("canvas");
    paintDigit(big, state.input);
    pctx.fillStyle = "#ffffff"; pctx.fillRect(0, 0, pad.width, pad.height);
    pctx.imageSmoothingEnabled = false;
    pctx.drawImage(big, 0, 0, pad.width, pad.height);
    $("pad-label").textContent = caption + " Draw on the pad to start your own digit.";
    schedule();
  }

  // ---- one update: input -> network -> every view ----------------------------------------
  function update() {
    if (state.net < 0) return;
    var net = NETS[state.net], message = "";
    if (state.source === "drawing" && inked) {
      try { state.input = readPad(); } catch (err) {
        if (!(err instanceof NNDLPrep.ImageError)) throw err;
        state.input = null; message = "Nothing to read yet: " + err.message + ".";
      }
    }
    if (state.input === null) {
      state.layers = null;
      paintDigit($("input"), new Float64Array(784), 168);
      paintDigit($("quick-input"), new Float64Array(784), 56);
      $("answer").innerHTML = message ? "<span class='muted'>" + message + "</span>"
        : "<span class='muted'>Draw a digit, or click a test digit.</span>";
      $("quick-answer").textContent = message ? "nothing to read yet" : "the answer shows here";
      renderHidden(null); renderBars(null); renderTiles(null); renderMaps(null);
      window.nndlReport.last = null;
      return;
    }
    var layers = NNDLNet.forwardLayers(net, state.input), out = layers[layers.length - 1];
    state.layers = layers;
    paintDigit($("input"), state.input, 168);
    var total = 0, best = 0;
    for (var j = 0; j < out.length; j++) { total += out[j]; if (out[j] > out[best]) best = j; }
    var share = Array.from(out, function (v) { return total > 0 ? v / total : 1 / out.length; });
    $("answer").innerHTML = "<span class='digit'>" + best + "</span><span class='conf'>confidence " +
      (100 * share[best]).toFixed(1) + "%</span>";
    paintDigit($("quick-input"), state.input, 56);
    $("quick-answer").innerHTML = "<span class='digit'>" + best + "</span><br>" + (100 * share[best]).toFixed(1) + "%";
    renderHidden(layers); renderBars(share, out); renderTiles(layers); renderMaps(layers);
    window.nndlReport.last = { digit: best, confidence: share[best], outputs: Array.from(out),
                               input: Array.from(state.input), source: state.source };
  }

  // The layers whose neurons the hidden panel shows: dense layers below the output layer.
  function hiddenLayers(net) {
    var out = [];
    for (var l = 0; l < net.layers.length - 1; l++) if (net.layers[l].kind === "dense") out.push(l);
    return out;
  }

  function renderHidden(layers) {
    var box = $("hidden"), net = NETS[state.net], hidden = hiddenLayers(net);
    if (!box.childElementCount) buildHidden();
    var sat = 0, count = 0, act = hidden.length ? net.layers[hidden[0]].activation : net.activation;
    for (var h = 0; h < hidden.length; h++) {
      var l = hidden[h], la = net.layers[l].activation;
      var a = layers ? layers[l + 1] : null, cells = box.querySelectorAll(".layer")[h].children[1].children;
      var hi = 1e-12;
      if (a) for (var i = 0; i < a.length; i++) hi = Math.max(hi, Math.abs(a[i]));
      for (i = 0; i < cells.length; i++) {
        var cell = cells[i];
        if (!a) { cell.style.background = "#f4f4f4"; cell.classList.remove("sat"); cell.title = "neuron " + i; continue; }
        var v = a[i], scale = la === "relu" || la === "linear" ? hi : 1;
        var c = la === "tanh" ? colourOf(v, -1, 1) : colourOf(v / scale, -1, 1);
        cell.style.background = "rgb(" + c.join(",") + ")";
        var s = NNDLNet.saturated(la, v);
        cell.classList.toggle("sat", s);
        sat += s; count++;
        cell.title = "hidden neuron " + i + ": activation " + v.toFixed(3) + (s ? " (saturated)" : "");
      }
    }
    if (hidden.length === 0) {
      $("sat-now").textContent = net.conv ? "This network has no fully connected hidden layer: its conv layers' " +
        "feature maps are under Feature maps." : "This network has no hidden layer: the inputs feed the outputs directly.";
      return;
    }
    $("sat-now").textContent = layers ? sat + " of " + count + " hidden neurons " + (sat === 1 ? "is" : "are") +
      " saturated for this input " +
      "(outlined: their derivative is below " + Math.round(100 * DATA.saturated) + "% of its peak" + (act === "sigmoid" ? ", σ(z) < 0.01 or > 0.99" : "") +
      "), so they would barely learn from it." + (net.conv ? " The conv layers' feature maps are under Feature maps." : "") : "";
  }

  var LEGENDS = {
    sigmoid: [["#3737ff", "active (near 1)"], ["#ffffff", "silent (near 0)"]],
    tanh: [["#3737ff", "near +1"], ["#ffffff", "near 0"], ["#ff3737", "near -1"]],
    relu: [["#3737ff", "active (the strongest here)"], ["#ffffff", "silent (0)"]]
  };

  function buildHidden() {
    var box = $("hidden"), net = NETS[state.net], hidden = hiddenLayers(net);
    var act = hidden.length ? net.layers[hidden[0]].activation : net.activation;
    box.innerHTML = "";
    $("hidden-legend").innerHTML = hidden.length ? (LEGENDS[act] || []).map(function (l) {
      return "<span><span class='swatch' style='background:" + l[0] + "'></span>" + l[1] + "</span>";
    }).join("") + "<span><span class='swatch' style='border:2px solid #111'></span>saturated</span>" : "";
    for (var h = 0; h < hidden.length; h++) {
      var layer = net.layers[hidden[h]], n = layer.n, cols = Math.ceil(Math.sqrt(n)), wrap = document.createElement("div");
      wrap.className = "layer";
      wrap.innerHTML = "<div class='hint'>" + (net.conv ? "fully connected layer " : "hidden layer ") + (h + 1) + ": " +
        n + " " + layer.activation + " neurons</div>";
      var grid = document.createElement("div");
      grid.className = "cells"; grid.style.gridTemplateColumns = "repeat(" + cols + ", 1fr)";
      grid.style.maxWidth = Math.min(260, cols * 26) + "px";
      for (var i = 0; i < n; i++) { var c = document.createElement("span"); grid.appendChild(c); }
      wrap.appendChild(grid); box.appendChild(wrap);
    }
  }

  function renderBars(share, out) {
    var box = $("bars"), net = NETS[state.net];
    if (!box.childElementCount) {
      for (var j = 0; j < net.sizes[net.sizes.length - 1]; j++) {
        var row = document.createElement("div");
        row.className = "bar";
        row.innerHTML = "<b>" + j + "</b><span class='track'><span class='fill'></span></span><i></i>";
        box.appendChild(row);
      }
    }
    var rows = box.children, best = -1;
    if (share) for (j = 0; j < share.length; j++) if (best < 0 || share[j] > share[best]) best = j;
    for (j = 0; j < rows.length; j++) {
      rows[j].querySelector(".fill").style.width = share ? (100 * share[j]).toFixed(1) + "%" : "0";
      rows[j].querySelector("i").textContent = share ? (100 * share[j]).toFixed(1) + "%" : "";
      rows[j].classList.toggle("best", j === best);
      rows[j].title = share ? "output neuron " + j + ": activation " + out[j].toFixed(4) : "";
    }
    $("bars-note").textContent = net.output === "softmax"
      ? "Softmax outputs: probabilities that sum to 100%."
      : "Sigmoid outputs, each in (0, 1) on its own; the bars show each as a share of their sum, " +
        "as nndl predict reports confidence.";
  }

  // ---- what the hidden neurons look for -----------------------------------------------------
  function paintWeights(cv, w, at, n, side) {               // n values of w, w[at(i)], on a side x side canvas
    var lo = 0, hi = 0, i;
    for (i = 0; i < n; i++) { lo = Math.min(lo, w[at(i)]); hi = Math.max(hi, w[at(i)]); }
    var m = Math.max(-lo, hi) || 1, ctx = cv.getContext("2d");
    cv.width = cv.height = side;
    var img = ctx.createImageData(side, side);
    for (i = 0; i < n; i++) {
      var c = colourOf(w[at(i)], -m, m);
      img.data[4 * i] = c[0]; img.data[4 * i + 1] = c[1]; img.data[4 * i + 2] = c[2]; img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    return [lo, hi];
  }

  function firstConv(net) {
    for (var l = 0; l < net.layers.length; l++) if (net.layers[l].kind === "conv") return l;
    return -1;
  }

  function addTile(box, cv, title) {
    var tile = document.createElement("figure");
    tile.className = "tile"; tile.title = title;
    tile.appendChild(cv);
    var meter = document.createElement("span");
    meter.className = "meter"; meter.appendChild(document.createElement("span"));
    tile.appendChild(meter);
    box.appendChild(tile);
  }

  function buildTiles() {
    var box = $("weights"), net = NETS[state.net], fc = firstConv(net);
    box.innerHTML = "";
    $("features-dense").hidden = net.conv; $("features-conv").hidden = !net.conv;
    box.classList.toggle("filters", net.conv);
    if (net.conv) {                                          // the first conv layer's filters (k, k, C, maps)
      var layer = net.layers[fc], k = layer.kernel, C = layer.in_shape[2], F = layer.maps;
      $("filters-what").textContent = F + " filters of " + k + "×" + k + " weights" +
        (C > 1 ? " (their first input channel of " + C + ")" : "") + ", each making one feature map.";
      for (var f = 0; f < F; f++) {
        var cv = document.createElement("canvas");
        var r = paintWeights(cv, layer.w, function (i) { return i * C * F + f; }, k * k, k);
        addTile(box, cv, "filter " + (f + 1) + ": weights from " + r[0].toFixed(2) + " (red) to " + r[1].toFixed(2) +
                " (blue); the bar: how strongly its map responds to the digit on the pad");
      }
      return;
    }
    if (net.sizes.length < 3 || net.sizes[0] !== 784) {
      box.innerHTML = "<p class='muted'>This network has no hidden layer reading 28x28 images.</p>";
      return;
    }
    var w = net.layers[0].w, n = net.sizes[1];
    for (var j = 0; j < n; j++) {
      var canvas = document.createElement("canvas");
      var range = paintWeights(canvas, w, function (i) { return j * 784 + i; }, 784, 28);
      addTile(box, canvas, "hidden neuron " + j + ": weights from " + range[0].toFixed(2) + " (red) to " +
              range[1].toFixed(2) + " (blue)");
    }
  }

  // The bar under each tile: a dense neuron's activation, or a filter's map's mean activation
  // (as a share of the strongest map's).
  function renderTiles(layers) {
    var tiles = $("weights").querySelectorAll(".tile"), net = NETS[state.net], hi = 1e-12, i, v, t;
    if (net.conv) {
      var l = firstConv(net), F = net.layers[l].maps, a = layers ? layers[l + 1] : null, mean = new Float64Array(F);
      if (a) for (i = 0; i < a.length; i++) mean[i % F] += Math.abs(a[i]) / (a.length / F);
      for (i = 0; i < F; i++) hi = Math.max(hi, mean[i]);
      for (i = 0; i < tiles.length; i++) tiles[i].querySelector(".meter span").style.width = a ? (100 * mean[i] / hi).toFixed(0) + "%" : "0";
      return;
    }
    var hidden = layers ? layers[1] : null;
    if (hidden && net.activation === "relu") for (i = 0; i < hidden.length; i++) hi = Math.max(hi, hidden[i]);
    for (i = 0; i < tiles.length; i++) {
      v = hidden ? hidden[i] : 0;
      t = net.activation === "tanh" ? (v + 1) / 2 : (net.activation === "relu" ? v / hi : v);
      tiles[i].querySelector(".meter span").style.width = hidden ? (100 * Math.min(Math.max(t, 0), 1)).toFixed(0) + "%" : "0";
    }
  }

  // ---- feature maps: the digit on the pad through the conv and pool layers ------------------
  var MAPS_SHOWN = 48;                                        // maps drawn per layer (the book's widest has 40)

  function buildMaps() {
    var box = $("maps-box"), net = NETS[state.net];
    if (!box) return;
    box.innerHTML = "";
    if (!net.conv) { box.innerHTML = "<p class='muted'>This network has no conv layers: choose a conv net in the menu.</p>"; return; }
    for (var l = 0; l < net.layers.length; l++) {
      var layer = net.layers[l];
      if (layer.kind !== "conv" && layer.kind !== "pool") continue;
      var s = layer.out_shape, shown = Math.min(s[2], MAPS_SHOWN), wrap = document.createElement("div");
      wrap.className = "maplayer"; wrap.dataset.layer = l;
      wrap.innerHTML = "<div class='hint'>layer " + (l + 1) + ": " + (layer.kind === "conv"
        ? "conv, " + s[2] + " maps of " + s[0] + "×" + s[1] + " (" + layer.kernel + "×" + layer.kernel + " filters, " + layer.activation + ")"
        : "max-pool " + layer.size + "×" + layer.size + ", " + s[2] + " maps of " + s[0] + "×" + s[1]) +
        (shown < s[2] ? ", the first " + shown + " shown" : "") + "</div>";
      var grid = document.createElement("div");
      grid.className = "mapgrid";
      grid.style.setProperty("--cell", Math.max(28, Math.min(72, 3 * s[1])) + "px");   // a map's width on a desktop
      for (var f = 0; f < shown; f++) {
        var cv = document.createElement("canvas");
        cv.width = s[1]; cv.height = s[0]; cv.title = "map " + (f + 1) + " of layer " + (l + 1);
        grid.appendChild(cv);
      }
      wrap.appendChild(grid); box.appendChild(wrap);
    }
  }

  function renderMaps(layers) {
    var box = $("maps-box"), net = NETS[state.net];
    if (!box || !net.conv) return;
    var blocks = box.querySelectorAll(".maplayer");
    for (var b = 0; b < blocks.length; b++) {
      var l = +blocks[b].dataset.layer, s = net.layers[l].out_shape, a = layers ? layers[l + 1] : null;
      var canvases = blocks[b].querySelectorAll("canvas"), m = 1e-12, i;
      if (a) for (i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));   // one scale for the whole layer
      for (var f = 0; f < canvases.length; f++) {
        var ctx = canvases[f].getContext("2d"), img = ctx.createImageData(s[1], s[0]);
        for (i = 0; i < s[0] * s[1]; i++) {
          var c = a ? colourOf(a[i * s[2] + f], -m, m) : [244, 244, 244];
          img.data[4 * i] = c[0]; img.data[4 * i + 1] = c[1]; img.data[4 * i + 2] = c[2]; img.data[4 * i + 3] = 255;
        }
        ctx.putImageData(img, 0, 0);
      }
    }
  }

  // ---- mistakes: confusion matrix and gallery ---------------------------------------------
  function buildMistakes() {
    var net = NETS[state.net], t = net.test, table = $("confusion"), gallery = $("gallery");
    if (!table) return;
    if (!t) { table.innerHTML = ""; gallery.innerHTML = "<p class='muted'>No test data was given.</p>"; return; }
    var k = t.confusion.length, html = "<tr><th class='corner'>true ↓<br>answer →</th>", i, j, peak = 1;
    for (j = 0; j < k; j++) html += "<th>" + j + "</th>";
    html += "</tr>";
    for (i = 0; i < k; i++) for (j = 0; j < k; j++) if (i !== j) peak = Math.max(peak, t.confusion[i][j]);
    for (i = 0; i < k; i++) {
      html += "<tr><th>" + i + "</th>";
      for (j = 0; j < k; j++) {
        var v = t.confusion[i][j], style;
        if (i === j) style = "background:#e3f1e3";
        else { var a = v ? 0.15 + 0.85 * Math.log(1 + v) / Math.log(1 + peak) : 0; style = "background:rgba(214,39,40," + a.toFixed(2) + ")"; }
        html += "<td data-true='" + i + "' data-pred='" + j + "' style='" + style + "'" +
          (i !== j && v ? " class='pick' title='show the kept mistakes: true " + i + ", predicted " + j + "'" : "") + ">" + v + "</td>";
      }
      html += "</tr>";
    }
    table.innerHTML = html;
    $("acc").textContent = net.label + ": " + t.correct.toLocaleString("en") + " of " + t.n.toLocaleString("en") +
      " test digits right (" + (100 * t.correct / t.n).toFixed(2) + "%).";
    renderGallery();
  }

  function renderGallery() {
    var net = NETS[state.net], t = net.test, gallery = $("gallery"), f = state.filter, shown = 0;
    var top = t.top === undefined ? t.mistakes.length : t.top;   // the most confident of all come first
    gallery.innerHTML = "";
    for (var m = 0; m < t.mistakes.length; m++) {
      var e = t.mistakes[m];
      if (f ? (e[1] !== f[0] || e[2] !== f[1]) : m >= top) continue;
      var tile = document.createElement("button"), cv = document.createElement("canvas");
      tile.className = "mistake"; tile.type = "button";
      tile.dataset.pool = e[0]; tile.dataset.truth = e[1]; tile.dataset.pred = e[2];
      paintDigit(cv, digitInput(e[0]));
      tile.appendChild(cv);
      tile.insertAdjacentHTML("beforeend", "<span>" + e[1] + " → <b>" + e[2] + "</b> " + Math.round(100 * e[3]) + "%</span>");
      tile.title = "true " + e[1] + ", read as " + e[2] + " with confidence " + (100 * e[3]).toFixed(1) + "%: click to see it inside";
      gallery.appendChild(tile);
      shown++;
    }
    var total = t.n - t.correct, note;
    if (f) {
      var inCell = t.confusion[f[0]][f[1]];
      note = "True " + f[0] + ", read as " + f[1] + ": " + inCell.toLocaleString("en") + " mistake" + (inCell === 1 ? "" : "s") +
        (shown === inCell ? (inCell === 1 ? ", shown. " : ", all shown. ")
         : shown ? "; the " + shown + " most confident are shown (the page keeps " + (t.per_cell || shown) +
                   " of each cell, besides the " + top + " most confident of all). "
         : "; none was kept in this page, so none can be shown. ");
    } else {
      note = "The " + Math.min(top, t.mistakes.length) + " most confident of the " + total.toLocaleString("en") +
        " mistakes; click a cell of the confusion matrix for the mistakes of that cell. ";
    }
    $("gallery-note").textContent = note +
      "Each reads: true digit → what the network answered, and its confidence. Click one to see it inside the network.";
    $("show-all").hidden = !f;
  }

  function pickNetwork(i) {
    state.net = i;
    $("hidden").innerHTML = ""; $("bars").innerHTML = ""; state.filter = null;
    buildTiles(); buildMaps(); buildMistakes();
    schedule();
  }

  // ---- wiring ----------------------------------------------------------------------------
  window.nndlReport = {
    networks: NETS, state: state, last: null,
    forward: function (i, x) { return NNDLNet.forwardLayers(NETS[i], x).map(function (a) { return Array.from(a); }); },
    prepareGrey: function (flat, h, w) { return Array.from(NNDLPrep.digitFromGrey(NNDLPrep.pic(h, w, Float64Array.from(flat)))); },
    digitInput: function (k) { return Array.from(digitInput(k)); },
    pickNetwork: pickNetwork
  };

  // ---- a figure at full size: its text is small when the figure is shrunk to a phone's width ----
  var zoom = $("zoom");
  if (zoom) {
    var closeZoom = function () { zoom.hidden = true; zoom.querySelector("img").removeAttribute("src"); };
    document.querySelectorAll("#figures figure.fig img").forEach(function (img) {
      img.addEventListener("click", function () {
        var big = zoom.querySelector("img");
        big.src = img.src; big.alt = img.alt; zoom.hidden = false; zoom.scrollTop = zoom.scrollLeft = 0;
      });
    });
    zoom.addEventListener("click", closeZoom);
    document.addEventListener("keydown", function (e) { if (e.key === "Escape" && !zoom.hidden) closeZoom(); });
  }

  if (state.net < 0) return;
  var select = $("network");
  NETS.forEach(function (n, i) {
    var o = document.createElement("option");
    o.value = i; o.textContent = n.label + (n.test ? " (" + (100 * n.test.correct / n.test.n).toFixed(2) + "% on the test digits)" : "");
    select.appendChild(o);
  });
  select.value = state.net;
  select.addEventListener("change", function () { pickNetwork(+select.value); });
  if (NETS.length < 2) select.disabled = true;

  if (DIGITS) {
    var ex = $("examples");
    DATA.examples.forEach(function (k) {
      var btn = document.createElement("button"), cv = document.createElement("canvas");
      btn.type = "button"; btn.className = "example"; btn.dataset.pool = k;
      btn.title = "a test digit labelled " + DATA.digits.labels[k];
      paintDigit(cv, digitInput(k)); btn.appendChild(cv);
      btn.addEventListener("click", function () { showTestDigit(k, "Test digit labelled " + DATA.digits.labels[k] + "."); });
      ex.appendChild(btn);
    });
    $("gallery").addEventListener("click", function (e) {
      var tile = e.target.closest(".mistake");
      if (!tile) return;
      showTestDigit(+tile.dataset.pool, "Test digit labelled " + tile.dataset.truth + ", which this network reads as " +
                    tile.dataset.pred + ".");
      $("draw").scrollIntoView({ behavior: "smooth", block: "start" });
    });
    $("confusion").addEventListener("click", function (e) {
      var td = e.target.closest("td.pick");
      if (!td) return;
      state.filter = [+td.dataset.true, +td.dataset.pred];
      renderGallery();
    });
    $("show-all").addEventListener("click", function () { state.filter = null; renderGallery(); });
  }
  clearPad();
  pickNetwork(state.net);
})();
