"""Every number the doctor judges by, with the reason for its value.

The values were set on real MNIST (tests/test_doctor*.py): a correct network (sigmoid or ReLU,
the book's 0.01 init, Xavier or He) stays at least ten times inside each of them, and each planted
bug of tests/gallery.py lands well outside.
"""

# -- inputs ----------------------------------------------------------------------------------

#: largest |x| above which inputs are raw pixel values (0-255, or 0-16 of sklearn's digits):
#: images scaled to [0, 1] stay <= 1 and standardized ones (x - mean) / std stay below about 3
INPUT_RAW_ABOVE = 10.0
#: largest |x| below which inputs were scaled twice (x / 255 / 255, or / 256 of data already in
#: [0, 1]): every MNIST image has ink at 1.0, so the largest value of a batch is about 1
INPUT_TINY_BELOW = 0.1

# -- labels and outputs ----------------------------------------------------------------------

#: how far a row of targets or of predict's output may sum from 1 and still be a distribution
#: (float32 softmax rows sum to 1 within about 1e-6)
SUM_TOLERANCE = 1e-3

# -- initial weights -------------------------------------------------------------------------

#: RMS of a weight matrix over the scale its fan-in and activation call for (He sqrt(2/fan_in)
#: for ReLU, Xavier sqrt(1/fan_in) for sigmoid, tanh and the output), above which the
#: pre-activations are so large that sigmoid/tanh saturate and ReLU outputs grow layer by layer;
#: the accepted answer of seed 000 (std 1 on 784 inputs) is 28 times Xavier
INIT_TOO_LARGE_ERROR = 10.0
#: ... above which it is worth a warning (4x Xavier puts a quarter of sigmoid units near the flat
#: ends on MNIST)
INIT_TOO_LARGE_WARNING = 4.0
#: product over the hidden layers of (RMS / recommended) below which the signal reaching the
#: output is too weak to learn from: 784-100-100-100-10 at the book's 0.01 gives about 1/1000;
#: 784-100-10 at 0.01 gives 1/5 (ReLU) or 1/3.6 (sigmoid), which trains
INIT_TOO_SMALL_WARNING = 1 / 20
#: one hidden layer's RMS / recommended below which the doctor says so, as information: the
#: book's 0.01 with ReLU on 784 inputs (5x below He) trains a two-layer network, not a deep one
INIT_TOO_SMALL_INFO = 1 / 4
#: |mean| / std of a weight matrix above which it is not centred on zero (np.random.rand:
#: mean 0.5, std 0.29, ratio 1.7; zero-mean normals: below 0.1 for any layer of 784-100-10)
NOT_CENTERED_MEAN_OVER_STD = 1.0

# -- activations -----------------------------------------------------------------------------

#: a sigmoid/tanh unit is at a flat end where its derivative is below this fraction of the
#: derivative's maximum (sigmoid |a| > 4.4, tanh |a| > 2.2)
FLAT_DERIVATIVE_FRACTION = 0.05
#: fraction of a layer's activations (samples x units) at the flat ends for an error: most of
#: the gradient is then multiplied by nearly zero (std 1 on 784-100-10 with sigmoid: 64%)
SATURATED_ERROR = 0.5
#: ... for a warning (a correct network at initialization: 0%)
SATURATED_WARNING = 0.25
#: fraction of ReLU units that stay at zero for every sample of the batch, for a warning (a
#: freshly initialized 784-100-10 has 0-1% on 100 MNIST images)
DEAD_UNITS_WARNING = 0.1
#: ... for an error
DEAD_UNITS_ERROR = 0.5
#: fewer samples than this say nothing about units that never fire
DEAD_UNITS_MIN_SAMPLES = 20

# -- loss ------------------------------------------------------------------------------------

#: loss of the batch taken twice over the loss of the batch: 1 for a mean, 2 for a sum; above
#: this the loss grows with the batch size (a batch-wide softmax with a mean loss gives ~1.1)
LOSS_SUM_RATIO = 1.5

# -- gradients -------------------------------------------------------------------------------

#: coordinates per tensor compared with central differences: CS231n's grad_check_sparse
#: default; the mistakes learners make are wrong at nearly every coordinate, and each costs two
#: forward passes of the learner's (often slow) code
GRADIENT_COORDINATES = 10
#: coordinates (the largest analytic partial derivatives) that decide a sign flip
SIGN_COORDINATES = 12
#: cosine between analytic and numerical gradient below which the gradient points the opposite
#: way: a flipped sign gives -1 to within 1e-6, while a derivative taken at the wrong tensor
#: (sigmoid'(a) as a(1 - a)) reaches -0.86 and is a mismatch, with its own fix
SIGN_FLIPPED_COSINE = -0.95
#: step of the second look at a tensor the first check doubted (float64 weights only): a ReLU
#: kink crossed by the first step (1e-5) is crossed 100 times less often, a real mistake stays
RECHECK_H = 1e-7
#: a gradient "N times too large" is called so when |analytic| / |numerical| is within this
#: relative distance of the batch size N (a sum over the batch where the loss is a mean)
BATCH_FACTOR_TOLERANCE = 0.1
#: the learning rate the update/weight ratio is judged at when none is given: the book's
ASSUMED_LEARNING_RATE = 0.1
#: RMS(update) / RMS(weights) above which one step changes the weights by more than their own
#: size (CS231n: about 1e-3 is healthy; a correct 784-100-10 at lr 0.1 gives 1e-3 to 0.03)
EXPLODING_ABOVE = 1.0
#: RMS(gradient) / RMS(weights) below which a tensor does not learn at any sensible learning
#: rate: a correct 784-100-10 gives 1e-2 to 1; saturated sigmoids and dead units give ~0
VANISHING_BELOW = 1e-5

# -- learning rate ---------------------------------------------------------------------------

#: gradient-descent steps tried on the batch at the given learning rate
TRIAL_STEPS = 8
#: the loss rising above this multiple of its start during the trial is divergence (an error):
#: a learning rate 20x too large doubles it within two steps
TRIAL_DIVERGED_FACTOR = 1.5
#: relative decrease of the loss over the trial below which the learning rate barely moves it
#: (784-100-10 at lr 0.1: 1% to 16%; at 1e-3 with ReLU and the book's init: 0.01%)
TRIAL_TOO_LOW_DECREASE = 1e-4
#: the larger learning rate tried to show that a larger one would move the loss
TRIAL_LARGER_FACTOR = 100.0

# -- training watcher ------------------------------------------------------------------------

#: the watcher's fuller checks (update/weight ratio, saturation, dead units, trend) run every
#: this many steps (about 0.3 ms each for 784-100-10); the loss is checked every step
WATCH_EVERY = 100
#: a training loss above this multiple of the first step's loss has diverged (a fresh network
#: starts at log(10) = 2.3; correct runs never go back above it)
WATCH_DIVERGED_FACTOR = 3.0
#: ... the first loss floored at this, so that the noise of a trained network's batch losses
#: (0.05 one batch, 0.4 the next) is not divergence when fit is called again
WATCH_LOSS_FLOOR = 1.0
#: steps before the watcher judges a stall (the book's sigmoid network leaves its 2.30 plateau
#: within a few hundred steps at lr 0.1)
WATCH_STALL_STEPS = 1000
#: relative decrease of the loss since the first steps below which training has stalled
WATCH_STALL_DECREASE = 0.01
#: update/weight ratio above which the watcher stops the run: the weights after such a step are
#: nine tenths update, sigmoid pre-activations ten times their size sit at the flat ends
#: (|a| > 4.4) and ReLU outputs grow tenfold per layer; story 001 (the gradient summed over
#: 10,000 images, no learning rate) changes its output weights by about 800 times their size
WATCH_STOP_UPDATE_RATIO = 10.0
#: an update/weight ratio under this for every weight matrix is too small to learn anything in
#: any number of epochs (healthy updates are about 1e-3; 1e-7 moves a weight by 1e-4 of itself
#: in a thousand steps)
WATCH_TINY_UPDATE_RATIO = 1e-7
#: cosine between the applied update and the given gradient above which the update climbs:
#: plain SGD with its sign flipped gives +1, momentum +0.9 or more, Adam's sign-like step about
#: +0.8; any descent gives a negative cosine (-1 for plain SGD)
WATCH_UPHILL_COSINE = 0.5
#: a loss above this multiple of its start has risen (a correct run, even a stalled one, stays
#: within a few percent of its start: the 2.30 plateau of a fresh network)
WATCH_ROSE_FACTOR = 1.1
