/* nndl report page: the digit preparation of nndl/imageprep.py and nndl/inkfind.py, in plain
 * JavaScript, function by function and line by line, so that a digit drawn on the page is read
 * exactly as `nndl predict` reads an image file. Each function names its Python original.
 *
 * Pictures are {h, w, d} with d a Float64Array of h*w values, row-major (Python: an (H, W)
 * float64 array). The constants come from Python (PREP, written into the page), so the two can
 * never disagree. Pillow's Lanczos resize (used by prepare_digit) is mirrored from Pillow's C
 * code (libImaging/Resample.c, 32-bit float images), float32 rounding included.
 */
"use strict";

var NNDLPrep = (function () {
  var PREP = null;                                   // set by init(constants)

  function ImageError(message) { this.name = "ImageError"; this.message = message; }

  function pic(h, w, d) { return { h: h, w: w, d: d || new Float64Array(h * w) }; }

  // Python's round(): halves go to the even neighbour.
  function roundHalfEven(x) {
    var r = Math.round(x);
    return (Math.abs(x % 1) === 0.5 && r % 2 !== 0) ? r - 1 : r;
  }

  // np.median: the middle value, or the mean of the two middle values.
  function median(values) {
    var a = new Float64Array(values.length);
    for (var i = 0; i < a.length; i++) a[i] = values[i];
    a.sort();
    var n = a.length, m = n >> 1;
    return n % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
  }

  // _total: a sum added left to right.
  function total(a) { var t = 0; for (var i = 0; i < a.length; i++) t += a[i]; return t; }

  // _grey, for RGBA pixels (a canvas's ImageData): Pillow's convert("L") and the alpha rule.
  function greyFromRGBA(rgba, w, h) {
    var n = w * h, grey = new Float64Array(n), alpha = new Float64Array(n), amin = 1;
    for (var i = 0; i < n; i++) {
      var r = rgba[4 * i], g = rgba[4 * i + 1], b = rgba[4 * i + 2];
      grey[i] = ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16) / 255.0;   // Pillow's L24
      alpha[i] = rgba[4 * i + 3] / 255.0;
      if (alpha[i] < amin) amin = alpha[i];
    }
    if (amin >= 1.0) return pic(h, w, grey);
    var visible = 0, vis = [];
    for (i = 0; i < n; i++) if (alpha[i] > 0.5) { visible++; vis.push(grey[i]); }
    var under;
    if (visible / n > 0.5) {
      under = median(vis);
    } else {
      var num = 0, den = 0;
      for (i = 0; i < n; i++) { num += grey[i] * alpha[i]; den += alpha[i]; }
      under = num / Math.max(den, 1e-12) < 0.5 ? 1.0 : 0.0;
    }
    var out = new Float64Array(n);
    for (i = 0; i < n; i++) out[i] = alpha[i] * grey[i] + (1.0 - alpha[i]) * under;
    return pic(h, w, out);
  }

  // to_ink
  function toInk(g) {
    var h = g.h, w = g.w, d = g.d, n = h * w, i, ring = [];
    for (i = 0; i < w; i++) ring.push(d[i]);
    for (i = 0; i < w; i++) ring.push(d[(h - 1) * w + i]);
    for (i = 1; i < h - 1; i++) ring.push(d[i * w]);
    for (i = 1; i < h - 1; i++) ring.push(d[i * w + w - 1]);
    var bg = median(ring), gmin = Infinity, gmax = -Infinity;
    for (i = 0; i < n; i++) { if (d[i] < gmin) gmin = d[i]; if (d[i] > gmax) gmax = d[i]; }
    var darkInk = bg - gmin >= gmax - bg;
    var far = 0;
    for (i = 0; i < n; i++) far += darkInk ? (d[i] < (bg + gmin) / 2) : (d[i] > (bg + gmax) / 2);
    if (far / n > PREP.MOSTLY) {                                  // the ring was a border, not paper
      bg = median(d);
      darkInk = bg - gmin >= gmax - bg;
    }
    var ink = new Float64Array(n), level;
    if (darkInk) {
      level = paperLevel(g).d;
      for (i = 0; i < n; i++) ink[i] = level[i] - d[i];
    } else {                                                       // the same rule, mirrored
      var inv = new Float64Array(n);
      for (i = 0; i < n; i++) inv[i] = 1.0 - d[i];
      level = paperLevel(pic(h, w, inv)).d;
      for (i = 0; i < n; i++) ink[i] = d[i] - (1.0 - level[i]);
    }
    var top = -Infinity;
    for (i = 0; i < n; i++) if (ink[i] > top) top = ink[i];
    if (!(top >= PREP.MIN_CONTRAST)) throw new ImageError("image is blank: no ink differs from the background");
    for (i = 0; i < n; i++) ink[i] = Math.min(Math.max((ink[i] / top - PREP.NOISE) / (1.0 - PREP.NOISE), 0.0), 1.0);
    return pic(h, w, ink);
  }

  // np.pad(a, n, mode="edge") and mode="reflect", reflect_type="odd": rows first, then columns.
  function pad(a, n, odd) {
    var h = a.h, w = a.w, H = h + 2 * n, W = w + 2 * n, out = pic(H, W), y, x, v;
    for (y = 0; y < h; y++) for (x = 0; x < w; x++) out.d[(y + n) * W + x + n] = a.d[y * w + x];
    for (x = n; x < n + w; x++) {
      for (var k = 1; k <= n; k++) {
        var top = out.d[n * W + x], bot = out.d[(n + h - 1) * W + x];
        out.d[(n - k) * W + x] = odd ? 2 * top - out.d[(n + k) * W + x] : top;
        out.d[(n + h - 1 + k) * W + x] = odd ? 2 * bot - out.d[(n + h - 1 - k) * W + x] : bot;
      }
    }
    for (y = 0; y < H; y++) {
      for (k = 1; k <= n; k++) {
        var lft = out.d[y * W + n], rgt = out.d[y * W + n + w - 1];
        out.d[y * W + n - k] = odd ? 2 * lft - out.d[y * W + n + k] : lft;
        out.d[y * W + n + w - 1 + k] = odd ? 2 * rgt - out.d[y * W + n + w - 1 - k] : rgt;
      }
    }
    void v;
    return out;
  }

  // _rank: max or min over a k x k window, edges replicated; along rows, then columns. Python
  // takes each window's max with NumPy; here the van Herk / Gil-Werman scheme gives the same
  // maxima (exactly: max and min do not round) in three passes instead of k per pixel.
  function slide(src, dst, n, k, isMax) {           // dst[i] = max/min of src[i .. i+k-1]
    var m = src.length, g = new Float64Array(m), h = new Float64Array(m), i, v;
    for (i = 0; i < m; i++) {
      v = src[i];
      g[i] = (i % k === 0) ? v : (isMax ? (v > g[i - 1] ? v : g[i - 1]) : (v < g[i - 1] ? v : g[i - 1]));
    }
    for (i = m - 1; i >= 0; i--) {
      v = src[i];
      h[i] = (i === m - 1 || (i + 1) % k === 0) ? v : (isMax ? (v > h[i + 1] ? v : h[i + 1]) : (v < h[i + 1] ? v : h[i + 1]));
    }
    for (i = 0; i < n; i++) {
      var a = h[i], b = g[i + k - 1];
      dst[i] = isMax ? (a > b ? a : b) : (a < b ? a : b);
    }
  }

  function rank(a, k, isMax) {
    var r = k >> 1, h = a.h, w = a.w, x, y, i;
    var line = new Float64Array(Math.max(h, w) + 2 * r), res = new Float64Array(Math.max(h, w));
    var mid = pic(h, w), out = pic(h, w);
    for (x = 0; x < w; x++) {                          // along each column (axis 0), edges replicated
      var col = line.subarray(0, h + 2 * r);
      for (i = 0; i < h + 2 * r; i++) col[i] = a.d[Math.min(Math.max(i - r, 0), h - 1) * w + x];
      slide(col, res, h, k, isMax);
      for (y = 0; y < h; y++) mid.d[y * w + x] = res[y];
    }
    for (y = 0; y < h; y++) {                          // then along each row (axis 1)
      var row = line.subarray(0, w + 2 * r);
      for (i = 0; i < w + 2 * r; i++) row[i] = mid.d[y * w + Math.min(Math.max(i - r, 0), w - 1)];
      slide(row, res, w, k, isMax);
      for (x = 0; x < w; x++) out.d[y * w + x] = res[x];
    }
    return out;
  }

  // _upsample: bilinear from block centres back to (h, w), edges held.
  function upsample(a, f, h, w) {
    var y, x;
    if (f === 1) {
      var same = pic(h, w);
      for (y = 0; y < h; y++) for (x = 0; x < w; x++) same.d[y * w + x] = a.d[y * a.w + x];
      return same;
    }
    function axis(nOut, nIn) {
      var i0 = new Int32Array(nOut), i1 = new Int32Array(nOut), wt = new Float64Array(nOut);
      for (var i = 0; i < nOut; i++) {
        var p = Math.min(Math.max((i + 0.5) / f - 0.5, 0), nIn - 1);
        i0[i] = Math.floor(p); i1[i] = Math.min(i0[i] + 1, nIn - 1); wt[i] = p - i0[i];
      }
      return [i0, i1, wt];
    }
    var R = axis(h, a.h), C = axis(w, a.w), cols = pic(a.h, w), out = pic(h, w);
    for (y = 0; y < a.h; y++) for (x = 0; x < w; x++)
      cols.d[y * w + x] = a.d[y * a.w + C[0][x]] * (1 - C[2][x]) + a.d[y * a.w + C[1][x]] * C[2][x];
    for (y = 0; y < h; y++) for (x = 0; x < w; x++)
      out.d[y * w + x] = cols.d[R[0][y] * w + x] * (1 - R[2][y]) + cols.d[R[1][y] * w + x] * R[2][y];
    return out;
  }

  // paper_level
  function paperLevel(g) {
    var h = g.h, w = g.w, f = Math.max(1, Math.floor(Math.min(h, w) / PREP.WORK));
    var ph = ((-h % f) + f) % f, pw = ((-w % f) + f) % f, H = h + ph, W = w + pw, y, x, i;
    var padded = pic(H, W);
    for (y = 0; y < H; y++) for (x = 0; x < W; x++) padded.d[y * W + x] = g.d[Math.min(y, h - 1) * w + Math.min(x, w - 1)];
    var sh = H / f, sw = W / f, small = pic(sh, sw), t = new Float64Array(f * f), len, dy, dx;
    for (y = 0; y < sh; y++) for (x = 0; x < sw; x++) {
      // the block's f*f values in Python's order (dy, then dx), added in pairs as Python adds its arrays
      for (dy = 0; dy < f; dy++) for (dx = 0; dx < f; dx++) t[dy * f + dx] = padded.d[(y * f + dy) * W + x * f + dx];
      for (len = f * f; len > 1; len = (len + 1) >> 1) {
        for (i = 0; 2 * i < len; i++) t[i] = (2 * i + 1 < len) ? t[2 * i] + t[2 * i + 1] : t[2 * i];
      }
      small.d[y * sw + x] = t[0] / (f * f);
    }
    var k = Math.max(3, roundHalfEven(PREP.LIGHTING * Math.min(sh, sw)) | 1);
    var n = Math.min(k, sh, sw) - 1;
    var odd = pad(small, n, true), edge = pad(small, n, false), both = pic(odd.h, odd.w);
    for (i = 0; i < both.d.length; i++) both.d[i] = Math.min(odd.d[i], edge.d[i]);
    var closed = rank(rank(both, k, true), k, false), inner = pic(sh, sw);
    for (y = 0; y < sh; y++) for (x = 0; x < sw; x++) inner.d[y * sw + x] = closed.d[(y + n) * closed.w + x + n];
    return upsample(inner, f, h, w);
  }

  // ---- nndl/inkfind.py ---------------------------------------------------------------------

  function transpose(a) {
    var t = pic(a.w, a.h);
    for (var y = 0; y < a.h; y++) for (var x = 0; x < a.w; x++) t.d[x * a.h + y] = a.d[y * a.w + x];
    return t;
  }

  // runs: horizontal runs of ink > 0, in raster order (ends exclusive).
  function runs(a) {
    var rows = [], starts = [], ends = [];
    for (var y = 0; y < a.h; y++) {
      var x = 0;
      while (x < a.w) {
        if (a.d[y * a.w + x] > 0) {
          var s = x;
          while (x < a.w && a.d[y * a.w + x] > 0) x++;
          rows.push(y); starts.push(s); ends.push(x);
        } else x++;
      }
    }
    return { rows: rows, starts: starts, ends: ends };
  }

  // touching: for each run of lane r, the runs [lo, hi) of lane r - 1 that touch it (8-connected).
  function touching(R, lane) {
    var n = lane.length, lo = new Int32Array(n), hi = new Int32Array(n), m = R.rows.length, i;
    var lanes = m ? R.rows[m - 1] + 1 : 0, first = new Int32Array(lanes + 1).fill(-1), stop = new Int32Array(lanes + 1);
    for (i = 0; i < m; i++) { if (first[R.rows[i]] < 0) first[R.rows[i]] = i; stop[R.rows[i]] = i + 1; }
    for (var k = 0; k < n; k++) {
      var j = lane[k], u = R.rows[j] - 1;
      if (u < 0 || first[u] < 0) continue;                        // no runs in the lane before
      var a = first[u], b = stop[u];
      while (a < b && R.ends[a] < R.starts[j]) a++;               // first run before with end >= start
      var c = a;
      while (c < b && R.starts[c] <= R.ends[j]) c++;              // runs before with start <= end
      lo[k] = a; hi[k] = c;
    }
    return [lo, hi];
  }

  // label: union-find, the smaller run index always the root; parts numbered by first run.
  function label(a) {
    var R = runs(a), n = R.rows.length, parent = new Int32Array(n), i;
    for (i = 0; i < n; i++) parent[i] = i;
    function root(i) { while (parent[i] !== i) { parent[i] = parent[parent[i]]; i = parent[i]; } return i; }
    var below = [];
    for (i = 0; i < n; i++) if (R.rows[i] > 0) below.push(i);
    var t = touching(R, below);
    for (var k = 0; k < below.length; k++) {
      for (var j = t[0][k]; j < t[1][k]; j++) {
        var ri = root(j), rj = root(below[k]);
        if (ri !== rj) parent[Math.max(ri, rj)] = Math.min(ri, rj);
      }
    }
    var part = new Int32Array(n), ids = {}, count = 0;
    for (i = 0; i < n; i++) {
      var r = root(i);
      if (!(r in ids)) ids[r] = count++;
      part[i] = ids[r];
    }
    var labels = new Int32Array(a.h * a.w);
    for (i = 0; i < n; i++) for (var x = R.starts[i]; x < R.ends[i]; x++) labels[R.rows[i] * a.w + x] = part[i] + 1;
    return { labels: labels, n: count, runs: R, part: part };
  }

  // parts
  function parts(a) {
    var L = label(a), R = L.runs, n = L.n, H = a.h, W = a.w, i;
    var csum = new Float64Array(H * (W + 1));
    for (var y = 0; y < H; y++) {
      var s = 0;
      for (var x = 0; x < W; x++) { s += a.d[y * W + x]; csum[y * (W + 1) + x + 1] = s; }
    }
    var z = function () { return new Float64Array(n); };
    var out = { labels: L.labels, n: n, mass: z(), count: z(), on_top: z(), on_bottom: z(), on_left: z(), on_right: z(),
                top: new Float64Array(n).fill(H), bottom: new Float64Array(n).fill(-1),
                left: new Float64Array(n).fill(W), right: new Float64Array(n).fill(-1) };
    for (i = 0; i < R.rows.length; i++) {
      var p = L.part[i], r = R.rows[i], st = R.starts[i], en = R.ends[i], len = en - st;
      out.mass[p] += csum[r * (W + 1) + en] - csum[r * (W + 1) + st];
      out.count[p] += len;
      out.on_top[p] += len * (r === 0);
      out.on_bottom[p] += len * (r === H - 1);
      out.on_left[p] += (st === 0) ? 1 : 0;
      out.on_right[p] += (en === W) ? 1 : 0;
      out.top[p] = Math.min(out.top[p], r); out.bottom[p] = Math.max(out.bottom[p], r);
      out.left[p] = Math.min(out.left[p], st); out.right[p] = Math.max(out.right[p], en - 1);
    }
    return out;
  }

  function thinLimit(h, w) { return Math.max(2.0, PREP.LINE_THIN * Math.min(h, w)); }

  // choose
  function choose(f, H, W) {
    var n = f.n, k, i, candidate = [], any = false;
    var height = [], width = [], longest = [];
    for (k = 0; k < n; k++) {
      height[k] = f.bottom[k] - f.top[k] + 1; width[k] = f.right[k] - f.left[k] + 1;
      var edge = f.on_top[k] >= PREP.EDGE * W || f.on_bottom[k] >= PREP.EDGE * W ||
                 f.on_left[k] >= PREP.EDGE * H || f.on_right[k] >= PREP.EDGE * H;
      longest[k] = Math.max(width[k], height[k]);
      var spans = width[k] >= height[k] ? width[k] / W : height[k] / H;
      var line = spans >= PREP.LINE_LENGTH && f.count[k] / longest[k] <= thinLimit(H, W);
      var speck = longest[k] < Math.max(2.0, PREP.SPECK * Math.max(H, W));
      candidate[k] = !edge && !line && !speck;
      any = any || candidate[k];
    }
    if (!any) for (k = 0; k < n; k++) candidate[k] = true;
    var main = -1;
    for (k = 0; k < n; k++) if (candidate[k] && (main < 0 || f.mass[k] > f.mass[main])) main = k;
    var keep = new Array(n).fill(false);
    keep[main] = true;
    var box = [f.top[main], f.bottom[main], f.left[main], f.right[main]];
    var reach = PREP.REACH * longest[main];
    var order = [];
    for (k = 0; k < n; k++) order.push(k);
    order.sort(function (p, q) { return (f.mass[q] - f.mass[p]) || (p - q); });
    var grew = true;
    while (grew) {
      grew = false;
      for (i = 0; i < n; i++) {
        k = order[i];
        if (keep[k] || !candidate[k] || f.mass[k] < PREP.PIECE * f.mass[main]) continue;
        var gapY = Math.max(box[0] - f.bottom[k], f.top[k] - box[1], 0);
        var gapX = Math.max(box[2] - f.right[k], f.left[k] - box[3], 0);
        if (Math.max(gapY, gapX) <= reach) {
          keep[k] = true;
          box = [Math.min(box[0], f.top[k]), Math.max(box[1], f.bottom[k]),
                 Math.min(box[2], f.left[k]), Math.max(box[3], f.right[k])];
          grew = true;
        }
      }
    }
    return keep;
  }

  // bands: thin horizontal band segments (runs of each column linked one to one).
  function bands(a, thin) {
    var t = transpose(a), R = runs(t), n = R.rows.length, i;      // vertical runs, by column
    var right = [];
    for (i = 0; i < n; i++) if (R.rows[i] > 0) right.push(i);
    var tt = touching(R, right), nRight = new Int32Array(n), nLeft = new Int32Array(n), prevOf = new Int32Array(n).fill(-1);
    for (var k = 0; k < right.length; k++) {
      nLeft[right[k]] = Math.max(tt[1][k] - tt[0][k], 0);
      for (var j = tt[0][k]; j < tt[1][k]; j++) nRight[j]++;
      if (nLeft[right[k]] === 1) prevOf[right[k]] = tt[0][k];
    }
    var isThin = [];
    for (i = 0; i < n; i++) isThin[i] = (R.ends[i] - R.starts[i]) <= thin;
    var head = new Int32Array(n);
    for (i = 0; i < n; i++) {                                      // previous runs come first
      var p = prevOf[i];
      head[i] = (p >= 0 && isThin[i] && isThin[p] && nRight[p] === 1) ? head[p] : i;
    }
    var length = new Int32Array(n);
    for (i = 0; i < n; i++) if (isThin[i]) length[head[i]]++;
    var segments = [], need = Math.max(PREP.TAIL * a.w, 2), at = {};
    for (i = 0; i < n; i++) {                                      // grouped by head, heads in order
      if (length[head[i]] < need) continue;
      if (!(head[i] in at)) { at[head[i]] = segments.length; segments.push([]); }
      segments[at[head[i]]].push(i);
    }
    return { segments: segments, cols: R.rows, starts: R.starts, ends: R.ends };
  }

  // fit_line: least squares y = a + b x, and the largest distance from it.
  function fitLine(xs, ys) {
    var mx = total(xs) / xs.length, my = total(ys) / ys.length, i;
    var dxx = [], dxy = [];
    for (i = 0; i < xs.length; i++) { dxx.push((xs[i] - mx) * (xs[i] - mx)); dxy.push((xs[i] - mx) * (ys[i] - my)); }
    var sxx = total(dxx), b = sxx > 0 ? total(dxy) / sxx : 0.0, a = my - b * mx, worst = 0;
    for (i = 0; i < xs.length; i++) worst = Math.max(worst, Math.abs(ys[i] - (a + b * xs[i])));
    return [a, b, worst];
  }

  // remove_ruled_lines (horizontal ones; vertical ones by transposing)
  function removeRuledLines(ink) {
    var a = pic(ink.h, ink.w, Float64Array.from(ink.d)), H = a.h, W = a.w;
    if (W < 3 || H < 3) return a;
    var mask = new Uint8Array(ink.d.length);
    for (var q = 0; q < mask.length; q++) mask[q] = ink.d[q] > 0 ? 1 : 0;
    var thin = thinLimit(H, W), B = bands(a, thin), segs = B.segments, cols = B.cols;
    var centre = function (r) { return (B.starts[r] + B.ends[r] - 1) / 2.0; };
    var span = PREP.LINE_SPAN * W, lines = [], used = {}, k, m;
    for (k = 0; k < segs.length; k++) {
      var seg = segs[k];
      if (used[k]) continue;
      if (cols[seg[seg.length - 1]] - cols[seg[0]] + 1 >= span) { lines.push(seg); continue; }
      var best = null;
      for (m = k + 1; m < segs.length; m++) {
        var other = segs[m];
        if (used[m] || cols[other[0]] <= cols[seg[seg.length - 1]] ||
            cols[other[other.length - 1]] - cols[seg[0]] + 1 < span) continue;
        var gap = cols[other[0]] - cols[seg[seg.length - 1]];         // a quick test the fit implies
        if (Math.abs(centre(other[0]) - centre(seg[seg.length - 1])) > PREP.MAX_SLOPE * gap + thin + 2) continue;
        var both = seg.concat(other);
        var fit = fitLine(both.map(function (r) { return cols[r]; }), both.map(centre));
        if (Math.abs(fit[1]) <= PREP.MAX_SLOPE && fit[2] <= thin / 2 + 1 && (best === null || fit[2] < best[0])) best = [fit[2], m];
      }
      if (best !== null) { used[k] = used[best[1]] = true; lines.push(seg.concat(segs[best[1]])); }
    }
    for (var l = 0; l < lines.length; l++) {
      var line = lines[l], f2 = fitLine(line.map(function (r) { return cols[r]; }), line.map(centre));
      var thick = 0;
      for (k = 0; k < line.length; k++) thick = Math.max(thick, B.ends[line[k]] - B.starts[line[k]]);
      var half = thick / 2 + 1 + f2[2];
      for (var x = cols[line[0]]; x <= cols[line[line.length - 1]]; x++) {
        var c = f2[0] + f2[1] * x, lo = Math.floor(c - half), hi = Math.ceil(c + half);
        var above = lo - 1 >= 0 && mask[Math.min(Math.max(lo - 1, 0), H - 1) * W + x];
        var under = hi + 1 <= H - 1 && mask[Math.min(Math.max(hi + 1, 0), H - 1) * W + x];
        if (above || under) continue;                              // a stroke touches the line here
        for (var y = Math.max(lo, 0); y <= Math.min(hi, H - 1); y++) a.d[y * W + x] = 0.0;
      }
    }
    return a;
  }

  // main_ink
  function mainInk(ink) {
    var a = removeRuledLines(ink);
    a = transpose(removeRuledLines(transpose(a)));
    var f = parts(a);
    if (f.n === 0) return a;
    var keep = choose(f, a.h, a.w), out = pic(a.h, a.w);
    for (var i = 0; i < a.d.length; i++) out.d[i] = (f.labels[i] > 0 && keep[f.labels[i] - 1]) ? a.d[i] : 0.0;
    return out;
  }

  // ---- Pillow: Image.resize(size, LANCZOS) of a mode "F" (float32) image ------------------

  function sinc(x) { if (x === 0.0) return 1.0; x = x * Math.PI; return Math.sin(x) / x; }
  function lanczos(x) { return (-3.0 <= x && x < 3.0) ? sinc(x) * sinc(x / 3) : 0.0; }

  function precomputeCoeffs(inSize, outSize) {                    // precompute_coeffs, box (0, inSize)
    var scale = inSize / outSize, filterscale = scale < 1.0 ? 1.0 : scale;
    var support = 3.0 * filterscale, ksize = Math.ceil(support) * 2 + 1;
    var kk = new Float64Array(outSize * ksize), bounds = new Int32Array(outSize * 2);
    for (var xx = 0; xx < outSize; xx++) {
      var center = 0 + (xx + 0.5) * scale, ww = 0.0, ss = 1.0 / filterscale, x;
      var xmin = Math.trunc(center - support + 0.5);
      if (xmin < 0) xmin = 0;
      var xmax = Math.trunc(center + support + 0.5);
      if (xmax > inSize) xmax = inSize;
      xmax -= xmin;
      for (x = 0; x < xmax; x++) { var wgt = lanczos((x + xmin - center + 0.5) * ss); kk[xx * ksize + x] = wgt; ww += wgt; }
      for (x = 0; x < xmax; x++) if (ww !== 0.0) kk[xx * ksize + x] /= ww;
      bounds[xx * 2] = xmin; bounds[xx * 2 + 1] = xmax;
    }
    return { ksize: ksize, kk: kk, bounds: bounds };
  }

  function resizeLanczos(src, w, h, outW, outH) {                 // ImagingResampleInner (float32)
    var f32 = Float32Array.from(src);
    if (outW === w && outH === h) return f32;
    var needH = outW !== w, needV = outH !== h, x, y, k, ss;
    var V = precomputeCoeffs(h, outH);
    var yFirst = V.bounds[0], yLast = V.bounds[outH * 2 - 2] + V.bounds[outH * 2 - 1];
    var img = f32, iw = w;
    if (needH) {
      var Hc = precomputeCoeffs(w, outW);
      for (y = 0; y < outH; y++) V.bounds[y * 2] -= yFirst;
      var rowsN = yLast - yFirst, tmp = new Float32Array(outW * rowsN);
      for (y = 0; y < rowsN; y++) for (x = 0; x < outW; x++) {
        var xmin = Hc.bounds[x * 2], xmax = Hc.bounds[x * 2 + 1];
        ss = 0.0;
        for (k = 0; k < xmax; k++) ss += img[(y + yFirst) * iw + k + xmin] * Hc.kk[x * Hc.ksize + k];
        tmp[y * outW + x] = ss;                                    // stored as float32
      }
      img = tmp; iw = outW;
    }
    if (!needV) return img;
    var out = new Float32Array(iw * outH);
    for (y = 0; y < outH; y++) {
      var ymin = V.bounds[y * 2], ymax = V.bounds[y * 2 + 1];
      for (x = 0; x < iw; x++) {
        ss = 0.0;
        for (k = 0; k < ymax; k++) ss += img[(k + ymin) * iw + x] * V.kk[y * V.ksize + k];
        out[y * iw + x] = ss;
      }
    }
    return out;
  }

  // prepare_digit
  function prepareDigit(ink) {
    var H = ink.h, W = ink.w, y, x, r0 = -1, r1 = -1, c0 = W, c1 = -1;
    var a = new Float64Array(ink.d.length);
    for (var q = 0; q < a.length; q++) a[q] = ink.d[q] < 0 ? 0 : ink.d[q];
    for (y = 0; y < H; y++) for (x = 0; x < W; x++) if (a[y * W + x] !== 0) {
      if (r0 < 0) r0 = y;
      r1 = y; if (x < c0) c0 = x; if (x > c1) c1 = x;
    }
    if (r0 < 0) throw new ImageError("image is blank: no ink (every pixel is background)");
    var h = r1 - r0 + 1, w = c1 - c0 + 1, patch = new Float64Array(h * w);
    for (y = 0; y < h; y++) for (x = 0; x < w; x++) patch[y * w + x] = a[(y + r0) * W + x + c0];
    var scale = PREP.BOX / Math.max(h, w);
    var sw = Math.max(1, roundHalfEven(w * scale)), sh = Math.max(1, roundHalfEven(h * scale));
    var small = resizeLanczos(patch, w, h, sw, sh), peak = 0, i;
    var p = new Float64Array(sw * sh);
    for (i = 0; i < p.length; i++) { p[i] = Math.min(Math.max(small[i], 0.0), 1.0); if (p[i] > peak) peak = p[i]; }
    if (peak <= 0.0) throw new ImageError("image is blank: the ink vanished when scaled to 20 pixels");
    for (i = 0; i < p.length; i++) p[i] /= peak;
    h = sh; w = sw;
    var mass = total(p), rowSums = [], colSums = [];
    for (y = 0; y < h; y++) { var s = 0; for (x = 0; x < w; x++) s += p[y * w + x]; rowSums.push(s * y); }
    for (x = 0; x < w; x++) { var t = 0; for (y = 0; y < h; y++) t += p[y * w + x]; colSums.push(t * x); }
    var cy = total(rowSums) / mass, cx = total(colSums) / mass, F = PREP.FIELD;
    var top = Math.min(Math.max(roundHalfEven(F / 2 - cy), 0), F - h);
    var left = Math.min(Math.max(roundHalfEven(F / 2 - cx), 0), F - w);
    var field = new Float64Array(F * F);
    for (y = 0; y < h; y++) for (x = 0; x < w; x++) field[(top + y) * F + left + x] = p[y * w + x];
    return field;
  }

  // digit_from_grey
  function digitFromGrey(g) { return prepareDigit(mainInk(toInk(g))); }

  return {
    init: function (constants) { PREP = constants; },
    ImageError: ImageError, pic: pic, greyFromRGBA: greyFromRGBA, toInk: toInk, paperLevel: paperLevel,
    mainInk: mainInk, removeRuledLines: removeRuledLines, parts: parts, label: label,
    resizeLanczos: resizeLanczos, prepareDigit: prepareDigit, digitFromGrey: digitFromGrey,
    roundHalfEven: roundHalfEven
  };
})();
