"""The words of every finding: what is wrong and how to fix it, in English.

Keys are "code" or "code/variant"; the placeholders are the finding's evidence and `subject`.
Strings are marked with N_() for the catalogue and translated when a finding is read
(digitlab.i18n.translate), so one report can be rendered in English or Chinese.
"""

from __future__ import annotations

from digitlab.i18n import N_

MESSAGES: dict[str, tuple[str, str]] = {
    # -- data -----------------------------------------------------------------------------
    "input-not-normalized/raw": (
        N_(
            "The inputs go up to {max:.4g} (mean {mean:.3g}): raw pixel values, not scaled to "
            "[0, 1]. Each hidden unit then sums hundreds of large numbers, so sigmoid and tanh "
            "units sit at their flat ends and their gradient is almost zero."
        ),
        N_(
            "Divide the images by their largest value before training, e.g. x = x / 255.0 "
            "(load_mnist(normalize=True) does this), and use the same scaling for prediction."
        ),
    ),
    "input-not-normalized/tiny": (
        N_(
            "The largest input is {max:.3g}: the images seem to have been scaled twice (for "
            "example divided by 255 after they were already in [0, 1]). The first layer's "
            "gradient is as small as its inputs, so it learns hundreds of times more slowly."
        ),
        N_("Scale the images once, so that the ink of a digit is about 1.0 (x / 255 of bytes)."),
    ),
    "input-layout/channels-last": (
        N_(
            "The images are {shape}: channels last (N, H, W, C, as Keras and PIL lay them out), "
            "but {subject} takes (N, C, H, W). The network fails on them, or its filters read "
            "rows of pixels as channels."
        ),
        N_(
            "Move the channel axis first: x = x.transpose(0, 3, 1, 2) (load_mnist(flatten=False) "
            "gives (N, 1, 28, 28))."
        ),
    ),
    "input-layout/flat": (
        N_(
            "The images are {shape}: flattened rows, but {subject} takes images (N, {channels}, "
            "{side}, {side}), and the network fails on rows."
        ),
        N_(
            "Reshape them: x = x.reshape(-1, {channels}, {side}, {side}), or load them with "
            "load_mnist(flatten=False)."
        ),
    ),
    "non-finite/input": (
        N_(
            "The inputs contain {count} NaN or Inf values (first in sample {first_sample}); "
            "everything computed from them is NaN."
        ),
        N_("Clean the data before training: look for a division by zero in the preprocessing."),
    ),
    "labels-invalid/rows": (
        N_(
            "The labels have shape {shape} but there are {samples} inputs: every sample needs "
            "one label (or one one-hot row)."
        ),
        N_("Take the labels with the same indices as the inputs, e.g. t_batch = t[batch_mask]."),
    ),
    "labels-invalid/dtype": (
        N_("The labels are of type {dtype}, not numbers."),
        N_("Convert them to integers (class indices) or to a one-hot float array."),
    ),
    "labels-invalid/non-finite": (
        N_("The labels contain {count} NaN or Inf values."),
        N_("Rebuild the labels from the data set's label file."),
    ),
    "labels-invalid/column": (
        N_(
            "The labels have shape {shape}: a column of class indices, while the output has "
            "{classes} columns. Subtracting or comparing it with the output broadcasts it over "
            "every class instead of picking the right one."
        ),
        N_(
            "Pass the labels as a flat array of indices, t.ravel() (shape (N,)), or as one-hot "
            "rows, np.eye({classes})[t.ravel()] (shape (N, {classes}))."
        ),
    ),
    "labels-invalid/fractional": (
        N_("The labels are class indices with fractions (e.g. {example:g}), not whole numbers."),
        N_("Class indices are whole numbers 0, 1, ..., C-1: convert them with t.astype(int)."),
    ),
    "labels-invalid/range": (
        N_(
            "The labels go from {min} to {max}, but the output has {classes} classes (indices 0 "
            "to {classes} - 1)."
        ),
        N_(
            "Number the classes from 0 (subtract 1 from labels that start at 1), or give the "
            "output layer one unit per class."
        ),
    ),
    "labels-invalid/ndim": (
        N_("The labels have shape {shape}: neither class indices (N,) nor one-hot rows (N, C)."),
        N_("Reshape them to (N,) indices or (N, C) one-hot rows."),
    ),
    "labels-invalid/columns": (
        N_("The labels have shape {shape}, but the output has {classes} columns."),
        N_("Make the one-hot rows as wide as the output: np.eye({classes})[labels]."),
    ),
    "labels-invalid/one-hot": (
        N_(
            "{bad_rows} label rows are not one-hot (row {first_bad_row} sums to {row_sum:.3g}, "
            "smallest value {row_min:.3g}): each row should hold a single 1 and zeros."
        ),
        N_(
            "Build one-hot rows with np.eye(C)[labels]; do not use -1/1 targets with a softmax "
            "output."
        ),
    ),
    # -- parameters -----------------------------------------------------------------------
    "non-finite/params": (
        N_(
            "{subject} already contains {count} NaN or Inf values of {size} (first at "
            "{first_index}; affected: {tensors}). Every output and gradient is NaN from here on."
        ),
        N_(
            "Start again from fresh weights. NaN weights come from steps that were too large: "
            "lower the learning rate, average the loss over the batch, and watch the loss from "
            "the first steps."
        ),
    ),
    "init-too-large": (
        N_(
            "The weights {subject} have RMS {rms:.3g}, {ratio:.1f} times the {scheme} scale "
            "for a fan-in of {fan_in} ({recommended:.3g}). The pre-activations are that much "
            "too large: sigmoid/tanh units saturate and the scores start far too confident."
        ),
        N_(
            "Initialize with std = {recommended:.3g} ({scheme}): np.random.randn({fan_in}, "
            "fan_out) * {recommended:.3g}."
        ),
    ),
    "init-too-small/zero": (
        N_(
            "The weights {subject} are all zero: every hidden unit computes the same thing and "
            "gets the same gradient, so the units never become different."
        ),
        N_(
            "Initialize with small random numbers: np.random.randn({fan_in}, fan_out) * "
            "np.sqrt(2/{fan_in}) (He, for ReLU) or np.sqrt(1/{fan_in}) (Xavier, for sigmoid)."
        ),
    ),
    "init-too-small/shallow": (
        N_(
            "The weights {subject} have RMS {rms:.3g}, {ratio:.2f} times the {scheme} scale for "
            "a fan-in of {fan_in} ({recommended:.3g}). A two-layer network still trains from "
            "there (the book's 0.01 does), only the first steps are slower; a deeper one would "
            "not."
        ),
        N_("Consider std = {recommended:.3g} ({scheme}), which keeps the signal's size."),
    ),
    "init-too-small/deep": (
        N_(
            "Through {hidden_layers} hidden layers the initial weights shrink the signal to "
            "{signal:.2g} of its size (smallest: {subject}): the output barely depends on the "
            "input and the first layers' gradients vanish."
        ),
        N_(
            "Initialize each layer by its fan-in: He, std = sqrt(2/fan_in), for ReLU; Xavier, "
            "std = sqrt(1/fan_in), for sigmoid and tanh."
        ),
    ),
    "init-not-centered": (
        N_(
            "The weights {subject} are not centred on zero: mean {mean:.3g}, std {std:.3g}, "
            "{positive:.0%} positive (as np.random.rand gives). All units then move together, "
            "and sums over hundreds of inputs grow large."
        ),
        N_(
            "Draw weights centred on zero: np.random.randn(fan_in, fan_out) * std, not "
            "np.random.rand."
        ),
    ),
    # -- activations ----------------------------------------------------------------------
    "activations-saturated": (
        N_(
            "{fraction:.0%} of the {activation} activations after {subject} are at the flat ends "
            "(mean |pre-activation| {mean_abs_preactivation:.3g}), where the derivative is "
            "below 5% of its maximum: backpropagation multiplies the gradient by almost zero."
        ),
        N_(
            "Make the pre-activations smaller: scale the inputs to [0, 1] and initialize with "
            "Xavier, std = sqrt(1/fan_in); a lower learning rate keeps them from growing."
        ),
    ),
    "dead-units": (
        N_(
            "{dead} of the {units} ReLU units after {subject} ({fraction:.0%}) never fire on these "
            "{samples} samples: their output and gradient are zero, so they never learn again."
        ),
        N_(
            "Lower the learning rate (large steps push units into the negative side for good), "
            "initialize with He, std = sqrt(2/fan_in), and biases at 0."
        ),
    ),
    # -- output ---------------------------------------------------------------------------
    "output-not-probability/shape": (
        N_("predict() returns shape {shape} for {samples} samples: expected one row per sample."),
        N_("Return an (N, C) array: one row of class probabilities per sample."),
    ),
    "output-not-probability/negative": (
        N_(
            "predict() returns values down to {min:.3g} and rows summing to {row_sum_min:.3g}"
            "–{row_sum_max:.3g} (output: {output}): not probabilities. Against one-hot targets "
            "of 0 and 1, a tanh output's range does not even match the targets'."
        ),
        N_(
            "End the network with softmax and train it with cross-entropy; its gradient is "
            "simply (y - t) / batch_size."
        ),
    ),
    "output-not-probability/sum": (
        N_(
            "predict() returns rows summing to {row_sum_min:.3g}–{row_sum_max:.3g} (output: "
            "{output}): independent scores per class, not one probability distribution over "
            "the digits."
        ),
        N_(
            "Use softmax over each row with cross-entropy for one-of-C classes; sigmoid outputs "
            "suit independent yes/no labels."
        ),
    ),
    "output-not-probability/logits": (
        N_(
            "predict() returns scores (logits), not probabilities (rows sum to {row_sum_min:.3g}"
            "–{row_sum_max:.3g}); the loss applies softmax itself, so training is right."
        ),
        N_("Apply softmax to predict's output where you need probabilities."),
    ),
    "softmax-across-batch": (
        N_(
            "predict()'s rows sum to {row_sums} and only the whole batch sums to "
            "{batch_sum:.3g}: the softmax took its sum over the whole batch instead of each row, "
            "so each sample's probabilities depend on the other samples."
        ),
        N_(
            "Take max and sum per row: a = a - a.max(axis=1, keepdims=True); y = np.exp(a) / "
            "np.exp(a).sum(axis=1, keepdims=True)."
        ),
    ),
    "softmax-across-batch/columns": (
        N_(
            "predict()'s rows sum to {row_sums} while each column sums to 1: the softmax "
            "normalized over the samples (axis 0, as Python's sum() of a 2-D array does) instead "
            "of over the classes of each row."
        ),
        N_(
            "Sum over axis 1 with keepdims: y = np.exp(a) / np.exp(a).sum(axis=1, "
            "keepdims=True), after subtracting a.max(axis=1, keepdims=True)."
        ),
    ),
    "non-finite/output": (
        N_(
            "predict() returns {count} NaN or Inf values (first in sample {first_sample}). A "
            "softmax that does not subtract the maximum first overflows in exp for scores above "
            "709."
        ),
        N_("Subtract each row's maximum before exp: a - a.max(axis=1, keepdims=True)."),
    ),
    # -- loss -----------------------------------------------------------------------------
    "non-finite/loss": (
        N_("loss() returns {loss}: log(0) of a probability that underflowed, or NaN weights."),
        N_(
            "Compute cross-entropy as log(y + 1e-7) or from the scores by log-sum-exp, and "
            "check the weights."
        ),
    ),
    "non-finite/not-scalar": (
        N_(
            "loss() returns an array of shape {shape} ({dtype}) instead of one number: the "
            "per-sample losses were not reduced."
        ),
        N_("Return the mean over the batch: np.sum(...) / batch_size."),
    ),
    "loss-not-averaged": (
        N_(
            "The loss grows with the batch: {loss:.4g} for these {samples} samples, {ratio:.2f} "
            "times as much ({loss_of_batch_twice:.4g}) for the same samples taken twice. A sum "
            "over the batch ties the right learning rate to the batch size: a rate that works "
            "for 10 samples explodes for 1,000."
        ),
        N_(
            "Divide the loss (and its gradient) by the batch size: return np.sum(...) / "
            "x.shape[0], as the book's cross_entropy_error does."
        ),
    ),
    # -- gradients ------------------------------------------------------------------------
    "gradient-mismatch": (
        N_(
            "Backpropagation disagrees with finite differences for {subject}: relative error up "
            "to {max_relative_error:.2g} over {checked} sampled entries (above 0.01 is wrong)."
        ),
        N_(
            "Check {subject}'s backward step: each derivative must be taken at the right "
            "tensor, e.g. sigmoid'(a) = y * (1 - y) with y the sigmoid's output, and tanh'(a) = "
            "1 - tanh(a)**2, not tanh(a)."
        ),
    ),
    "gradient-mismatch/batch": (
        N_(
            "The gradient of {subject} is {factor:.4g} times the finite-difference gradient, "
            "about the batch size {samples}: the backward pass sums over the batch while the "
            "loss is a mean (largest relative error {max_relative_error:.2g})."
        ),
        N_("Divide the output layer's error by the batch size: dy = (y - t) / batch_size."),
    ),
    "gradient-mismatch/scale": (
        N_(
            "The gradient of {subject} points the right way but is {factor:.3g} times the "
            "finite-difference gradient (largest relative error {max_relative_error:.2g})."
        ),
        N_(
            "Look for a constant factor in the backward pass: a missing or extra 1/2, 2 or "
            "1/batch_size."
        ),
    ),
    "gradient-mismatch/guard": (
        N_(
            "Backpropagation for {subject} differs from finite differences of the loss "
            "(relative error up to {max_relative_error:.2g}, same direction: cosine "
            "{cosine:.2f}) because for {guarded} samples the right class has a probability below "
            "1e-5, where log(y + 1e-7) flattens the loss. The gradient is right; the network is "
            "far too confident."
        ),
        N_(
            "Look at the findings about initialization and inputs: scores this large come from "
            "weights or inputs that are too large."
        ),
    ),
    "gradient-mismatch/suspicious": (
        N_(
            "Backpropagation for {subject} is close to finite differences but not within the "
            "usual 1e-4 (relative error up to {max_relative_error:.2g})."
        ),
        N_(
            "Usually harmless (a kink of ReLU, float32 rounding); check with float64 weights "
            "and a few samples: digitlab.gradients.check(net, x[:3], t[:3])."
        ),
    ),
    "gradient-mismatch/missing": (
        N_("gradient() returns no entry for {subject} (shape {shape}), so it never learns."),
        N_("Return a gradient for every key of params, under the same name."),
    ),
    "gradient-mismatch/shape": (
        N_("gradient() returns shape {shape} for {subject}, which has shape {expected}."),
        N_("Sum over the batch axis only (axis=0 for biases) and match the parameter's layout."),
    ),
    "gradient-mismatch/not-dict": (
        N_(
            "gradient() returns a {returned}, not a dict keyed like params, so no optimizer can "
            "use it."
        ),
        N_("Return a dict with the same keys as params: grads['W1'], grads['b1'], ..."),
    ),
    "gradient-sign-flipped": (
        N_(
            "The gradient of {subject} points the opposite way to the loss's slope (cosine "
            "{cosine:.2f} with finite differences): a step 'down' it climbs."
        ),
        N_(
            "Use (y - t), not (t - y), for the output error, and update with params -= "
            "learning_rate * grads (or keep += with the negated error, but not both flips)."
        ),
    ),
    "exploding-gradient/given": (
        N_(
            "One step at learning rate {learning_rate:g} would change {subject} by "
            "{update_ratio:.3g} times its own size (gradient RMS {gradient_rms:.3g}, weights "
            "{weight_rms:.3g}); healthy steps change weights by about a thousandth. The weights "
            "blow up within a few steps."
        ),
        N_(
            "Lower the learning rate until updates are about 1e-3 of the weights, average the "
            "loss over the batch, and check the gradient against finite differences."
        ),
    ),
    "exploding-gradient/assumed": (
        N_(
            "At the book's learning rate {learning_rate:g} one step would change {subject} by "
            "{update_ratio:.3g} times its own size (gradient RMS {gradient_rms:.3g}, weights "
            "{weight_rms:.3g}); healthy steps change weights by about a thousandth."
        ),
        N_(
            "Check the gradient against finite differences and average the loss over the "
            "batch; give the doctor your learning rate (learning_rate=...) to judge the step."
        ),
    ),
    "vanishing-gradient": (
        N_(
            "The gradient of {subject} is {gradient_ratio:.2g} of its weights' size (gradient "
            "RMS {gradient_rms:.3g}, weights {weight_rms:.3g}): at any sensible learning rate "
            "{subject} does not learn."
        ),
        N_(
            "Look at the findings above it: saturated sigmoid/tanh units, dead ReLU units, "
            "unscaled inputs or too small weights all starve the gradient."
        ),
    ),
    "vanishing-gradient/estimated": (
        N_(
            "Finite differences at sampled entries put the gradient of {subject} at "
            "{gradient_ratio:.2g} of its weights' size (gradient RMS {gradient_rms:.3g}, weights "
            "{weight_rms:.3g}): at any sensible learning rate {subject} does not learn."
        ),
        N_(
            "Look at the findings above it: saturated sigmoid/tanh units, dead ReLU units, "
            "unscaled inputs or too small weights all starve the gradient."
        ),
    ),
    "non-finite/gradient": (
        N_("gradient() returns {count} NaN or Inf values for {subject} (affected: {tensors})."),
        N_(
            "Look for an overflowing exp (sigmoid or softmax of huge numbers) or a division by "
            "zero in the backward pass; scaled inputs and smaller weights avoid the overflow."
        ),
    ),
    "numerical-gradient-only": (
        N_(
            "The network has numerical_gradient() but no gradient(): correct, but two forward "
            "passes per parameter, {parameters} of them, about {seconds_per_step:.3g} s per step."
        ),
        N_(
            "Write gradient() by backpropagation (the book's chapter 5); keep "
            "numerical_gradient() to check it on a few samples."
        ),
    ),
    # -- learning rate --------------------------------------------------------------------
    "learning-rate-too-high/diverged": (
        N_(
            "At learning rate {learning_rate:g} the loss rose from {loss_before:.4g} to "
            "{loss_highest:.4g} within {steps} trial steps on this batch: the steps overshoot "
            "and training diverges. {suggested:g} lowered it."
        ),
        N_("Use a learning rate of about {suggested:g}."),
    ),
    "learning-rate-too-high/diverged-all": (
        N_(
            "At learning rate {learning_rate:g} the loss rose from {loss_before:.4g} to "
            "{loss_highest:.4g} within {steps} trial steps, and even a thousandth of it did not "
            "lower it."
        ),
        N_(
            "The gradient itself is probably too large: average the loss over the batch and "
            "check the findings about the gradient."
        ),
    ),
    "learning-rate-too-high/no-progress": (
        N_(
            "At learning rate {learning_rate:g} the loss went from {loss_before:.4g} to "
            "{loss_after:.4g} after {steps} trial steps on this batch: the steps overshoot."
        ),
        N_("Try a learning rate about 3 times smaller."),
    ),
    "learning-rate-too-low/update": (
        N_(
            "At step {step} with learning rate {learning_rate:g}, the update changed the weights "
            "by at most {update_ratio:.2g} of their size ({weights}); healthy updates are about "
            "1e-3 of the weights: training barely moves, in any number of epochs."
        ),
        N_(
            "Raise the learning rate: the update scales with it (about 0.1 for SGD on MNIST, "
            "1e-3 for Adam), and watch the loss fall."
        ),
    ),
    "learning-rate-too-low": (
        N_(
            "At learning rate {learning_rate:g} the loss fell by only {decrease:.2g} of itself "
            "in {steps} trial steps, and by {decrease_at_larger:.2g} at {larger:g}: training "
            "would barely move."
        ),
        N_("Use a larger learning rate, about {larger:g}, and watch the loss fall."),
    ),
    # -- the learner's code ---------------------------------------------------------------
    # -- conv nets (one layer at a time) ----------------------------------------------------
    "conv-output-size/raised": (
        N_(
            "{subject} fails on a {input} input: its forward reshapes to an output size computed "
            "wrongly. A {filter} filter with stride {stride} and padding {pad} gives {expected} "
            "maps."
        ),
        N_(
            "Compute the output size as OH = (H + 2*pad - FH) // stride + 1, and OW likewise: "
            "the padding adds pad pixels on both sides."
        ),
    ),
    "conv-output-size": (
        N_(
            "{subject} gives {got} maps from a {input} input, but a {filter} filter with stride "
            "{stride} and padding {pad} gives {expected}."
        ),
        N_(
            "Compute the output size as OH = (H + 2*pad - FH) // stride + 1, and OW likewise: "
            "the padding adds pad pixels on both sides."
        ),
    ),
    "conv-wrong/patch-transposed": (
        N_(
            "{subject} convolves with every filter transposed (rows for columns): its im2col "
            "lays a patch out in another order than W.reshape(FN, -1). Backward agrees with it, "
            "so the gradient check passes and the network trains, but badly."
        ),
        N_(
            "Lay each patch out as (channel, row, column), the order of W.reshape(FN, -1): "
            "from an im2col array (N, C, FH, FW, OH, OW), col.transpose(0, 4, 5, 1, 2, 3)."
        ),
    ),
    "conv-wrong/pixels-transposed": (
        N_(
            "{subject} gives its output maps transposed (rows for columns): im2col's rows are "
            "in the order (N, OW, OH) but are read back as (N, OH, OW)."
        ),
        N_(
            "Keep one order: im2col's rows sample by sample, then output row, then output "
            "column; reshape the product to (N, OH, OW, FN), then transpose(0, 3, 1, 2)."
        ),
    ),
    "conv-wrong": (
        N_(
            "{subject}'s output is not the convolution of its W and b (off by up to "
            "{relative_error:.2g} of the largest output; {filter} filter, stride {stride}, "
            "padding {pad})."
        ),
        N_(
            "Compare its forward with a plain loop on one small image: out[f, i, j] = "
            "sum(x[:, i*s:i*s+FH, j*s:j*s+FW] * W[f]) + b[f]."
        ),
    ),
    "pooling-wrong/forward": (
        N_("{subject}'s forward does not give each {pool} window's maximum (stride {stride})."),
        N_(
            "Take each window's maximum: im2col with the pooling size, the rows reshaped to "
            "(-1, pool_h * pool_w), then np.max(col, axis=1)."
        ),
    ),
    "pooling-wrong/backward": (
        N_(
            "{subject}'s backward sends the gradient to cells that did not win their window: "
            "{share:.0%} of the pixels of windows with one maximum get a wrong gradient, so the "
            "layers below learn from the wrong pixels."
        ),
        N_(
            "Remember in forward which cell won each window (arg_max = np.argmax(col, axis=1)) "
            "and put each window's gradient there only, in the row order of forward's im2col."
        ),
    ),
    "pooling-wrong/backward-shape": (
        N_("{subject}'s backward returns shape {got}, not the shape of its input."),
        N_(
            "Return col2im(dcol, x.shape, pool_h, pool_w, stride, pad): the gradient has the "
            "shape of forward's input."
        ),
    ),
    "network-raised": (
        N_("{subject} raised {error} (at {where})."),
        N_("Fix that line first: the doctor skipped the checks that need {subject}."),
    ),
    "network-not-recovered": (
        N_(
            "{subject} ran, but the doctor could not follow its network through the arrays it "
            "computes (a conv net, or layers it does not know), so nothing was examined: this "
            "is no clean bill of health."
        ),
        N_(
            "Examine the network object itself: digitlab doctor FILE.py:CLASS, with FILE.py "
            "the module that defines the network (e.g. simple_convnet.py:SimpleConvNet)."
        ),
    ),
    "network-changed-params": (
        N_(
            "{method}() changed the weights {subject} itself; the doctor put them back. An "
            "update hidden inside {method}() is applied again every time it is called."
        ),
        N_("Let gradient() only compute gradients, and update the weights in the training loop."),
    ),
    # -- training (the watcher) -----------------------------------------------------------
    "non-finite/training": (
        N_(
            "The loss became {loss} at step {step}. The first NaN or Inf is in {first} ({count} "
            "of {size} values); non-finite by now: {where}. The largest finite weight is "
            "{largest_weight:.3g}. Training stopped instead of going on with NaN."
        ),
        N_(
            "Lower the learning rate (about 10 times), average the loss over the batch, and "
            "scale the inputs to [0, 1]."
        ),
    ),
    "non-finite/training-all": (
        N_(
            "The loss became {loss} at step {step}, and every weight is NaN or Inf. The first "
            "NaN or Inf is in {first} ({count} of {size} values); non-finite by now: {where}. "
            "Training stopped instead of going on with NaN."
        ),
        N_(
            "Start again from fresh weights with a learning rate about 10 times lower, the loss "
            "averaged over the batch, and the inputs scaled to [0, 1]."
        ),
    ),
    "non-finite/training-loss": (
        N_(
            "The loss became {loss} at step {step} while every weight and gradient is still "
            "finite (largest weight {largest_weight:.3g}): the loss computation itself broke. "
            "exp of a large score overflows to Inf (a softmax that does not subtract the row's "
            "maximum), and log(0) of a probability that underflowed is -Inf. Training stopped "
            "instead of going on with NaN."
        ),
        N_(
            "Subtract each row's maximum before exp and take the cross-entropy as log(y + 1e-7) "
            "or by log-sum-exp; weights this large also mean steps too large: lower the "
            "learning rate and average the gradient over the batch."
        ),
    ),
    "learning-rate-too-high/training": (
        N_(
            "The loss rose from {loss_start:.4g} to {loss_now:.4g} by step {step}: the steps "
            "overshoot and training diverges."
        ),
        N_("Lower the learning rate, about 10 times, and start again from fresh weights."),
    ),
    "exploding-gradient/training": (
        N_(
            "At step {step} one update changed {subject} by {update_ratio:.3g} times its size "
            "before the step (update RMS {update_rms:.3g}, weights {weight_rms:.3g}); healthy "
            "updates are about a thousandth."
        ),
        N_(
            "Multiply the gradient by a learning rate (the update is learning_rate * gradient, "
            "with the gradient averaged over the batch) and lower it until updates are about "
            "1e-3 of the weights."
        ),
    ),
    "update-sign-flipped/training": (
        N_(
            "The updates climb the loss: the one measured at step {measured_at} moved the "
            "weights along the gradient instead of against it (cosine {cosine:+.2f} between "
            "update and gradient; gradient descent gives -1), and the loss rose from "
            "{loss_start:.4g} to {loss_now:.4g} by step {step}. No learning rate helps: a "
            "smaller one only climbs more slowly."
        ),
        N_(
            "Subtract the gradient: W -= lr * dW (params[key] -= lr * grads[key]). Only if your "
            "dW is the error as target − output, the negative of the gradient, is adding it "
            "right."
        ),
    ),
    "loss-stalled": (
        N_(
            "After {step} steps the loss is still {loss_now:.4g}, {decrease:.1%} below its start "
            "{loss_start:.4g}: training has stalled."
        ),
        N_(
            "Run the doctor on the network (digitlab doctor or digitlab.doctor.examine) for the "
            "cause: a learning rate too low, saturated or dead units, or a wrong gradient."
        ),
    ),
    # -- a learner's program, watched while it trains (digitlab doctor PROGRAM.py) ----------
    "update-sign-flipped/program": (
        N_(
            "The update of step {step} climbs the loss: along it the loss rises from "
            "{loss_before:.4g} already at a ten-thousandth of the step ({loss_small_step:.4g}) "
            "and reaches {loss_after:.4g} with the whole step (cosine with the gradient "
            "{cosine:+.2f}, where a descent has -1). The weights move along the gradient, not "
            "against it: no learning rate can help."
        ),
        N_(
            "Flip the update's sign: subtract the gradient (W -= lr * dW). If your error is "
            "written target - output, it is already minus the gradient: then add it (W += lr * "
            "delta), as you would subtract output - target."
        ),
    ),
    "loss-not-averaged/update": (
        N_(
            "The update is {factor:.3g} times {rate_name} = {learning_rate:.3g} times the "
            "gradient of the mean loss, for a batch of {samples} samples: the gradient is summed "
            "over the samples and never divided by their number, so the real step grows with "
            "the batch."
        ),
        N_(
            "Divide the gradient by the batch size (dW = x.T @ delta / x.shape[0], or take the "
            "mean of the loss), then choose the learning rate again (about 0.1 for sigmoid, "
            "0.01-0.1 for ReLU)."
        ),
    ),
    "loss-not-averaged/update-no-rate": (
        N_(
            "The update is {factor:.3g} times the gradient of the mean loss, for a batch of "
            "{samples} samples: the gradient is summed over every sample and applied with no "
            "learning rate at all, so each step is about {samples} times too large."
        ),
        N_(
            "Average over the batch and scale by a learning rate: W += lr * (x.T @ delta) / "
            "x.shape[0], with lr about 0.1 to 1 for a sigmoid network."
        ),
    ),
    "gradient-mismatch/update": (
        N_(
            "The change applied to {subject} at step {step} does not follow the gradient of the "
            "loss: cosine {cosine:+.2f} between them, where a gradient step has -1. Its backprop "
            "formula is wrong (a derivative taken of the wrong tensor, or a function where its "
            "derivative belongs)."
        ),
        N_(
            "Check the backward pass of {subject} term by term: the derivative of each activation "
            "at its own input (sigmoid'(z) = s (1 - s) with s = sigmoid(z); tanh'(z) = 1 - "
            "tanh(z)^2), and run digitlab gradcheck on it."
        ),
    ),
    "gradient-mismatch/update-from": (
        N_(
            "The change applied to {subject} at step {step}, made of {gradient}, does not follow "
            "the gradient of the loss: cosine {cosine:+.2f} between them, where a gradient step "
            "has -1. The backprop formula that computes {gradient} is wrong (a derivative taken "
            "of the wrong tensor, or a function where its derivative belongs)."
        ),
        N_(
            "Check the code that computes {gradient} term by term: the derivative of each "
            "activation at its own input (sigmoid'(z) = s (1 - s) with s = sigmoid(z); tanh'(z) "
            "= 1 - tanh(z)^2); `digitlab gradcheck` on your program shows its worst coordinates."
        ),
    ),
    "gradient-mismatch/numerical": (
        N_(
            "{subject} returns a wrong gradient: on a corner of a weight matrix its values have "
            "RMS {rms_theirs:.3g} where central differences of the same loss give "
            "{rms_truth:.3g} (relative error {relative_error:.2g}). A loop over x.shape[0] "
            "perturbs whole rows of a 2-D weight, not single entries."
        ),
        N_(
            "Loop over every entry: for idx in np.ndindex(x.shape) (or np.nditer with "
            "multi_index), perturb x[idx] by h, and restore it."
        ),
    ),
    "numerical-gradient-only/program": (
        N_(
            "{subject} trains by numerical differentiation: {parameters} partial derivatives, "
            "two losses each, about {seconds_per_step:.3g} s per step, {hours_per_epoch:.3g} h "
            "per epoch of {steps_per_epoch} steps. It is correct but far too slow to train with "
            "(the doctor stopped it after timing it)."
        ),
        N_(
            "Compute the gradient by backpropagation (the book's chapter 5, gradient()); keep the "
            "numerical gradient to check it on a few samples."
        ),
    ),
    "non-finite/program": (
        N_(
            "At step {step} the update made {arrays} NaN or Inf; numpy's first floating-point "
            "error: {where}."
        ),
        N_(
            "Fix the cause listed before this finding (the step size, the scale of the inputs "
            "or of the initial weights), then use numerically stable forms: sigmoid as "
            "0.5 * (1 + np.tanh(z / 2)), softmax minus the row's max."
        ),
    ),
}
