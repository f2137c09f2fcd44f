"""Pictures of digits: read any picture safely, bring it into MNIST's form, classify it.

`preprocess(picture).image` is the (28, 28) input a network trained on MNIST expects (the same
function serves `digitlab predict` and the web page); `predict(model, picture)` reads the digit.
"""

from digitlab.imaging.load import MAX_PIXELS, open_image
from digitlab.imaging.mnist_style import Preprocessed, preprocess
from digitlab.imaging.prediction import Prediction, predict

__all__ = ["MAX_PIXELS", "Prediction", "Preprocessed", "open_image", "predict", "preprocess"]
