"""The engine: layers, the network they stack into, costs, activations, initializers,
regularizers, the update rule, the windowed fast path and the training loop.

The layer contract, kept by every layer (``nndl.engine.layers``):

* ``in_shape``, ``out_shape``: the shapes of one example, fixed when the layer is built
  (dense: ``(n,)``; images: ``(height, width, channels)``). Arrays hold one example per row,
  so a batch is ``(m, *shape)``: (batch, n) or (batch, height, width, channels).
* ``params``: a list of ``Param(name, value, grad, decays)``. ``value`` is the array the
  update rule changes in place, ``grad`` an array of its shape and dtype that ``backward``
  fills, ``decays`` is True for weights (the regularizer acts on them) and False for biases.
* ``forward(x, train=False) -> y``: x (m, *in_shape) -> y (m, *out_shape). With
  ``train=True`` the layer keeps what its backward pass needs.
* ``backward(dy) -> dx``: dy = dC/dy (m, *out_shape) for the last ``forward(..., train=True)``;
  fills every ``param.grad`` with dC/dparam summed over the batch (at the scale dy carries:
  the network folds -eta/m into the output error) and returns dC/dx (m, *in_shape). A layer
  that ends in an activation also takes ``backward(dz, wrt_z=True)``, dz = dC/dz of its
  weighted input: the network calls the last layer that way with the cost's
  ``delta(z, a, y)`` (network2's output error).
* ``spec()``: a JSON-ready dict (``{"kind": "dense", "n": 100, "activation": "sigmoid"}``)
  from which ``LAYERS`` (kind -> constructor) builds the layer again on the shape below it.

A network (``nndl.engine.network``) is a stack of layers and a cost; network2's dense
network [784, 100, 10] is [Dense(784 -> 100, sigmoid), Dense(100 -> 10, the cost's output
activation)]. The loop (``nndl.engine.training``), the update rule (``nndl.engine.rules``),
the costs and the regularizers see only the stack and its ``params``, never which kind of
layer they hold; a convolution or pooling layer plugs in with no change to them. For dense
stacks trained by plain SGD with L2 (or no) decay, the windowed engine
(``nndl.engine.windowed``) takes the same steps several mini-batches at a time; the rule
chooses it in one place (``GradientDescent.workspace``).

The modules, one job each: ``layers`` (Param, the Layer base, Dense, the LAYERS registry),
``network`` (the stack and its cost: forward pass, evaluation, backpropagation), ``activations``,
``costs``, ``initializers`` and ``regularizers`` (the registered leaves, each with its value and
its derivative side by side), ``dropout`` (the masks), ``rules`` (gradient descent: the update of
every Param, and the choice of engine), ``windowed`` (the fast path), ``schedules`` (the learning
rate schedule and early stopping), ``history`` (what a run records and reports), ``runstate``
(what a stopped run keeps) and ``training`` (the loop: ``fit``, ``train``, ``sgd``).
"""
