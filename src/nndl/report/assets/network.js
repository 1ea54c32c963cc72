/* nndl report page: the forward pass of nndl/engine/network.py (Network.forward_layers, Dense.forward) and the
 * activations of nndl/activations.py, line by line. A network here is
 * {sizes, activation, output, weights: [Float32Array (n_out * n_in), row-major], biases: [...]}
 * (weights are stored as float32; the arithmetic is float64, as in NumPy).
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

  // Network.activations_of: the hidden activation, or the cost's output activation last.
  function activationsOf(net, l) {
    return ACTIVATIONS[l === net.weights.length - 1 ? net.output : net.activation];
  }

  // Network.forward_layers: [x, a_1, ..., outputs] for one input x (n_in values).
  function forwardLayers(net, x) {
    var out = [Float64Array.from(x)];                              // out = [X]
    for (var l = 0; l < net.weights.length; l++) {                 // for l, (w, b) in enumerate(...)
      var w = net.weights[l], b = net.biases[l], nIn = net.sizes[l], nOut = net.sizes[l + 1];
      var prev = out[out.length - 1], z = new Float64Array(nOut);
      for (var j = 0; j < nOut; j++) {                             // z = out[-1] @ w.T + b.T
        var s = 0.0, row = j * nIn;
        for (var i = 0; i < nIn; i++) s += prev[i] * w[row + i];
        z[j] = s + b[j];
      }
      out.push(activationsOf(net, l).fn(z));                       // out.append(activations_of(l).fn_(z))
    }
    return out;
  }

  // saturated_share, per neuron: is its derivative below SATURATED of its peak?
  function saturated(net, a) {
    var act = ACTIVATIONS[net.activation];
    return act.primeFromOutput(a) < SATURATED * act.primeMax;
  }

  function decode(b64, Type) {
    var bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new Type(bytes.buffer);                                  // little-endian, as written
  }

  // A network from the page's data (weights and biases base64 float32).
  function fromData(d) {
    return { name: d.name, label: d.label, sizes: d.sizes, activation: d.activation, output: d.output,
             cost: d.cost, test: d.test,
             weights: d.weights.map(function (s) { return decode(s, Float32Array); }),
             biases: d.biases.map(function (s) { return decode(s, Float32Array); }) };
  }

  return { forwardLayers: forwardLayers, saturated: saturated, fromData: fromData, decode: decode,
           ACTIVATIONS: ACTIVATIONS, init: init, threshold: function () { return SATURATED; } };
})();
