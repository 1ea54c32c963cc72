/* nndl report page: the forward pass of nndl/engine/network.py (Network.forward_layers) and its
 * layers (Dense.forward in layers.py, Conv.forward in conv.py, Pool.forward in pool.py) and the
 * activations of nndl/engine/activations.py, line by line, for one example at a time. A network
 * here is {sizes, activation, output, layers: [{kind, in_shape, out_shape, activation, w, b, ...}]}:
 * images are (height, width, channels) flat in row-major order, conv weights (k, k, channels,
 * maps) and dense weights (n_out, n_in) row-major Float32Arrays (stored as float32; the
 * arithmetic is float64, as in NumPy on a float64 network).
 */
"use strict";

var NNDLNet = (function () {
  // nndl.engine.activations.SATURATED, from the page's data (init): a derivative below this
  // share of its peak counts as saturated
  var SATURATED = null;
  function init(saturated) { SATURATED = saturated; }

  // nndl.activations: fn (in place on a Float64Array) and the derivative from the output.
  var ACTIVATIONS = {
    sigmoid: {                                     // Sigmoid.fn_: 1 / (1 + exp(-z))
      fn: function (z) { for (var j = 0; j < z.length; j++) z[j] = 1.0 / (1.0 + Math.exp(-z[j])); return z; },
      primeFromOutput: function (a) { return a * (1.0 - a); }, primeMax: 0.25
    },
    tanh: {                                        // Tanh.fn_: tanh(z)
      fn: function (z) { for (var j = 0; j < z.length; j++) z[j] = Math.tanh(z[j]); return z; },
      primeFromOutput: function (a) { return 1.0 - a * a; }, primeMax: 1.0
    },
    relu: {                                        // ReLU.fn_: max(z, 0)
      fn: function (z) { for (var j = 0; j < z.length; j++) z[j] = Math.max(z[j], 0.0); return z; },
      primeFromOutput: function (a) { return a > 0 ? 1.0 : 0.0; }, primeMax: 1.0
    },
    linear: {                                      // Linear.fn_: z itself
      fn: function (z) { return z; },
      primeFromOutput: function (a) { return 1.0; }, primeMax: 1.0
    },
    softmax: {                                     // Softmax.fn_: exp(z - max z) / sum
      fn: function (z) {
        var m = -Infinity, s = 0, j;
        for (j = 0; j < z.length; j++) if (z[j] > m) m = z[j];
        for (j = 0; j < z.length; j++) { z[j] = Math.exp(z[j] - m); }
        for (j = 0; j < z.length; j++) s += z[j];
        for (j = 0; j < z.length; j++) z[j] /= s;
        return z;
      },
      primeFromOutput: function (a) { return a * (1.0 - a); }, primeMax: 0.25
    }
  };

  // Dense.forward: y = act(x W^T + b) for one example (x flat: an image's (height, width,
  // channels) values row-major, as the reshape to (m, n_in) lays them out).
  function denseForward(layer, x) {
    var w = layer.w, b = layer.b, nIn = x.length, nOut = layer.n, z = new Float64Array(nOut);
    for (var j = 0; j < nOut; j++) {                               // z = x @ P[:-1]; z += P[-1]
      var s = 0.0, row = j * nIn;
      for (var i = 0; i < nIn; i++) s += x[i] * w[row + i];
      z[j] = s + b[j];
    }
    return ACTIVATIONS[layer.activation].fn(z);                    // activation.fn_(z)
  }

  // Conv.forward: z[i, j, f] = b[f] + sum over (di, dj, c) of x[i + di, j + dj, c] * w[di, dj, c, f]
  // (valid positions, stride 1), then y = act(z). x is (height, width, channels) row-major, w is
  // (k, k, channels, maps) row-major, as the engine stores them; the sum runs in the order of a
  // row of im2col's patch matrix (di, dj, c).
  function convForward(layer, x) {
    var W = layer.in_shape[1], C = layer.in_shape[2], k = layer.kernel, F = layer.maps;
    var Ho = layer.out_shape[0], Wo = layer.out_shape[1], w = layer.w, b = layer.b;
    var y = new Float64Array(Ho * Wo * F);                         // (out_h, out_w, maps)
    for (var i = 0; i < Ho; i++) {
      for (var j = 0; j < Wo; j++) {
        for (var f = 0; f < F; f++) {
          var s = 0.0;                                             // cols @ W: one patch . one filter
          for (var di = 0; di < k; di++) {
            for (var dj = 0; dj < k; dj++) {
              var xi = ((i + di) * W + (j + dj)) * C, wi = ((di * k + dj) * C) * F + f;
              for (var c = 0; c < C; c++) s += x[xi + c] * w[wi + c * F];
            }
          }
          y[(i * Wo + j) * F + f] = s + b[f];                      // z += b
        }
      }
    }
    return ACTIVATIONS[layer.activation].fn(y);                    // activation.fn_(y)
  }

  // Pool.forward: the largest value of each non-overlapping p x p window of every map (rows and
  // columns left over dropped), taken over the window's positions in row-major order as
  // np.maximum does (a nan wins, as it does there; a tie keeps the same value either way).
  function poolForward(layer, x) {
    var W = layer.in_shape[1], C = layer.in_shape[2], p = layer.size;
    var Ho = layer.out_shape[0], Wo = layer.out_shape[1], y = new Float64Array(Ho * Wo * C);
    for (var i = 0; i < Ho; i++) {
      for (var j = 0; j < Wo; j++) {
        for (var c = 0; c < C; c++) {
          var m = x[((i * p) * W + j * p) * C + c];                 // parts[0]
          for (var di = 0; di < p; di++) {
            for (var dj = 0; dj < p; dj++) {                       // np.maximum(y, part) for each part
              var v = x[((i * p + di) * W + (j * p + dj)) * C + c];
              if (v > m || v !== v) m = v;
            }
          }
          y[(i * Wo + j) * C + c] = m;
        }
      }
    }
    return y;
  }

  var FORWARD = { dense: denseForward, conv: convForward, pool: poolForward };   // layers.LAYERS

  // Network.forward_layers: [x, a_1, ..., outputs] for one input x (784 values), each layer's
  // output flat in its (height, width, channels) or (n,) order.
  function forwardLayers(net, x) {
    var out = [Float64Array.from(x)];                              // out = [X]
    for (var l = 0; l < net.layers.length; l++) {                  // for layer in self.layers:
      var layer = net.layers[l];
      out.push(FORWARD[layer.kind](layer, out[out.length - 1]));   //     x = layer.forward(x)
    }
    return out;
  }

  // saturated_share, per neuron: is its derivative (activation act) below SATURATED of its peak?
  function saturated(act, a) {
    var A = ACTIVATIONS[act];
    return A.primeFromOutput(a) < SATURATED * A.primeMax;
  }

  function decode(b64, Type) {
    var bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new Type(bytes.buffer);                                  // little-endian, as written
  }

  // A network from the page's data: a dense network's weights and biases (base64 float32,
  // (n_out, n_in) row-major) become its stack of dense layers; a conv net's stack is given.
  function fromData(d) {
    var layers;
    if (d.stack) {
      layers = d.stack.map(function (e) {
        var layer = Object.assign({}, e);
        if (e.w) { layer.w = decode(e.w, Float32Array); layer.b = decode(e.b, Float32Array); }
        return layer;
      });
    } else {
      layers = d.weights.map(function (s, l) {
        var n = d.sizes[l + 1];
        return { kind: "dense", n: n, in_shape: [d.sizes[l]], out_shape: [n],
                 activation: l === d.weights.length - 1 ? d.output : d.activation,
                 w: decode(s, Float32Array), b: decode(d.biases[l], Float32Array) };
      });
    }
    return { name: d.name, label: d.label, sizes: d.sizes, activation: d.activation, output: d.output,
             cost: d.cost, test: d.test, layers: layers, conv: !!d.stack };
  }

  return { forwardLayers: forwardLayers, saturated: saturated, fromData: fromData, decode: decode,
           ACTIVATIONS: ACTIVATIONS, init: init, threshold: function () { return SATURATED; } };
})();
