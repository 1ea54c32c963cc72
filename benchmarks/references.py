"""What the benchmark times the engine against: the same math, data and configuration.

* ``Network2PerExample`` - network2.py's algorithm, one (784, 1) column at a time, each
  example backpropagated on its own and the gradients summed per mini-batch. The book's
  code, the baseline every speed-up is measured from.
* ``PlainVectorized`` - the engine as first written: one matrix product per layer,
  weights (n_out, n_in), the decay a pass over every weight each step. The lever table
  (``bench_epoch.py --levers``) measures each optimization against it.
* ``TorchNet`` - idiomatic PyTorch on the CPU: ``nn.Linear`` layers, sigmoid, binary
  cross-entropy (summed over outputs, averaged over the mini-batch), ``torch.optim.SGD``.

All start from the weights they are given, so every variant trains the same network.
"""

from __future__ import annotations

import numpy as np


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _sigmoid_prime(z):
    return _sigmoid(z) * (1 - _sigmoid(z))


class Network2PerExample:
    """network2.Network's SGD inner loop, kept as close to the book's code as Python 3 allows."""

    def __init__(self, weights, biases):
        self.weights = [np.array(w, dtype=np.float64, order="C") for w in weights]  # (n_out, n_in)
        self.biases = [np.array(b, dtype=np.float64, order="C") for b in biases]  # (n_out, 1)

    def run(self, pairs, order, mini_batch_size, eta, lmbda, n):
        """Train on ``pairs`` (a list of (x, y) columns) in the given order, book style."""
        shuffled = [pairs[i] for i in order]
        for k in range(0, len(shuffled), mini_batch_size):
            self.update_mini_batch(shuffled[k : k + mini_batch_size], eta, lmbda, n)

    def update_mini_batch(self, mini_batch, eta, lmbda, n):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            delta_nabla_b, delta_nabla_w = self.backprop(x, y)
            nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
            nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
        self.weights = [
            (1 - eta * (lmbda / n)) * w - (eta / len(mini_batch)) * nw for w, nw in zip(self.weights, nabla_w)
        ]
        self.biases = [b - (eta / len(mini_batch)) * nb for b, nb in zip(self.biases, nabla_b)]

    def backprop(self, x, y):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        activation = x
        activations = [x]
        zs = []
        for b, w in zip(self.biases, self.weights):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = _sigmoid(z)
            activations.append(activation)
        delta = activations[-1] - y  # cross-entropy
        nabla_b[-1] = delta
        nabla_w[-1] = np.dot(delta, activations[-2].transpose())
        for l in range(2, len(self.weights) + 1):
            sp = _sigmoid_prime(zs[-l])
            delta = np.dot(self.weights[-l + 1].transpose(), delta) * sp
            nabla_b[-l] = delta
            nabla_w[-l] = np.dot(delta, activations[-l - 1].transpose())
        return nabla_b, nabla_w


class PlainVectorized:
    """The engine before optimization: batched products, (n_out, n_in) weights, eager decay.

    Preallocated buffers and in-place sigmoid, as the first engine had; every step
    multiplies every weight by the decay factor and adds a separately computed gradient.
    """

    def __init__(self, weights, biases, m, dtype):
        self.weights = [np.array(w, dtype=dtype, order="C") for w in weights]  # (n_out, n_in)
        self.biases = [np.array(b, dtype=dtype, order="C") for b in biases]  # (n_out, 1)
        sizes = [self.weights[0].shape[1]] + [w.shape[0] for w in self.weights]
        self.a = [np.empty((m, k), dtype) for k in sizes]  # (m, n_l)
        self.z = [np.empty((m, k), dtype) for k in sizes[1:]]  # (m, n_{l+1})
        self.t = np.empty((m, sizes[-1]), dtype)  # (m, n_out)
        self.gw = [np.empty(w.shape, dtype) for w in self.weights]  # (n_out, n_in)
        self.gb = [np.empty(w.shape[0], dtype) for w in self.weights]  # (n_out,)

    def step(self, eta, decay):
        """One step on the batch in ``a[0]`` / ``t`` (cross-entropy)."""
        L, m = len(self.weights), self.a[0].shape[0]
        for l in range(L):
            np.matmul(self.a[l], self.weights[l].T, out=self.z[l])  # (m, n_out)
            self.z[l] += self.biases[l].T
            a = self.a[l + 1]
            np.copyto(a, self.z[l])
            np.negative(a, out=a)
            np.exp(a, out=a)
            a += 1.0
            np.reciprocal(a, out=a)
        d = self.a[-1] - self.t  # (m, n_out)
        d *= -eta / m
        for l in range(L - 1, -1, -1):
            np.matmul(d.T, self.a[l], out=self.gw[l])  # (n_out, n_in)
            np.sum(d, axis=0, out=self.gb[l])
            if l:
                d = d @ self.weights[l]  # (m, n_in)
                d *= self.a[l] * (1.0 - self.a[l])
        for w, b, g, h in zip(self.weights, self.biases, self.gw, self.gb):
            if decay != 1.0:
                w *= decay
            w += g
            b[:, 0] += h

    def epoch(self, X, T, order, eta, decay):
        m = self.a[0].shape[0]
        with np.errstate(over="ignore"):
            for lo in range(0, len(order) - m + 1, m):
                idx = order[lo : lo + m]
                np.take(X, idx, axis=0, out=self.a[0])  # (m, n_in)
                np.take(T, idx, axis=0, out=self.t)  # (m, n_out)
                self.step(eta, decay)


class TorchNet:
    """Idiomatic PyTorch: the same network, cost and update (weight decay on weights only).

    network2's step is w <- (1 - eta*lmbda/n) w - (eta/m) sum_x grad C_x. With the loss
    averaged over the mini-batch (summed over the 10 outputs, as the book's cost is),
    ``torch.optim.SGD(lr=eta, weight_decay=lmbda/n)`` on the weights takes exactly that step:
    it adds weight_decay * w to the gradient, then subtracts lr times it.
    """

    def __init__(self, weights, biases, eta, lmbda, n, dtype):
        import torch
        from torch import nn

        self.torch = torch
        self.dtype = getattr(torch, dtype)
        layers = []
        for w, b in zip(weights, biases):
            lin = nn.Linear(w.shape[1], w.shape[0]).to(self.dtype)
            with torch.no_grad():
                lin.weight.copy_(torch.as_tensor(np.asarray(w)))
                lin.bias.copy_(torch.as_tensor(np.asarray(b)).reshape(-1))
            layers += [lin, nn.Sigmoid()]
        self.model = nn.Sequential(*layers[:-1])  # logits out: the loss applies the sigmoid stably
        decayed = [l.weight for l in self.model if isinstance(l, nn.Linear)]
        plain = [l.bias for l in self.model if isinstance(l, nn.Linear)]
        self.opt = torch.optim.SGD(
            [{"params": decayed, "weight_decay": lmbda / n}, {"params": plain, "weight_decay": 0.0}], lr=eta
        )
        self.loss = nn.BCEWithLogitsLoss(reduction="sum")

    def epoch(self, X, Y, m, generator):
        """One epoch on tensors X (n, 784) and one-hot Y (n, 10), order from torch.randperm."""
        torch, model, opt, loss = self.torch, self.model, self.opt, self.loss
        n = X.shape[0]
        perm = torch.randperm(n, generator=generator)
        for lo in range(0, n, m):
            idx = perm[lo : lo + m]
            xb, yb = X[idx], Y[idx]
            opt.zero_grad(set_to_none=True)
            (loss(model(xb), yb) / len(idx)).backward()
            opt.step()

    def step(self, xb, yb):
        """One step on a given mini-batch (the benchmark's same-math check)."""
        self.opt.zero_grad(set_to_none=True)
        (self.loss(self.model(xb), yb) / len(xb)).backward()
        self.opt.step()

    def parameters(self):
        """(weights, biases) as NumPy arrays in network2's shapes."""
        lins = [l for l in self.model if isinstance(l, self.torch.nn.Linear)]
        return (
            [l.weight.detach().numpy().copy() for l in lins],
            [l.bias.detach().numpy().reshape(-1, 1).copy() for l in lins],
        )

    def accuracy(self, X, labels):
        with self.torch.no_grad():
            return int((self.model(X).argmax(dim=1) == labels).sum())
