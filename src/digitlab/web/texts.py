"""The words of the web pages, in the gettext catalogue like every other message.

The pages are written in English; each element whose text is one of these carries a `data-i18n`
attribute (or `data-i18n-label` for its aria-label), and `static/i18n.js` replaces it with the
translation that `GET /api/texts` returns. The scripts translate what they write with `t()`.
"""

from __future__ import annotations

from digitlab.i18n import N_

PAGE_TEXTS = (
    # the draw page
    N_("digitlab · draw a digit"),
    N_("Draw"),
    N_("Runs"),
    N_("Draw a digit"),
    N_("Drawing pad: draw a digit with the mouse, a pen or a finger; press C or Escape to clear"),
    N_("Clear"),
    N_("Mouse, pen or finger"),
    N_("clears"),
    N_("What the network reads"),
    N_("Probability of each class"),
    N_("What it sees (28×28)"),
    N_("The preprocessed 28 by 28 input"),
    N_("Hidden units"),
    N_("Activations of the hidden layer, brighter is stronger"),
    N_("Each square is one hidden unit; brighter means it fires more for your drawing."),
    N_("Feature maps"),
    N_("Feature maps of the first convolution, brighter is stronger"),
    N_(
        "Each tile is what one filter of the first convolution finds in your drawing: bright "
        "where its pattern (an edge, a corner, a stroke's end) is."
    ),
    N_("The server did not answer:"),
    N_("No digit found:"),
    # the runs page
    N_("digitlab · runs"),
    N_("Training runs"),
    N_("run"),
    N_("state"),
    N_("epochs"),
    N_("train"),
    N_("test"),
    N_("report"),
    N_("Loading…"),
    N_("No runs yet:"),
    N_("open"),
    N_("finished"),
    N_("training"),
    N_("unreadable"),
    N_("Curves:"),
    N_("Loss per step"),
    N_("Accuracy per epoch"),
    N_("no data yet"),
)
