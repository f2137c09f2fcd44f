"""The words of the web pages, in the gettext catalogue like every other message, and which
language a request is answered in (`page_language`).

The pages are written in English; each element whose text is one of these carries a `data-i18n`
attribute (or `data-i18n-label` for its aria-label), and `static/i18n.js` replaces it with the
translation that `GET /api/texts` returns. The scripts translate what they write with `t()`.
"""

from __future__ import annotations

from digitlab.i18n import LANGUAGES, N_, current_language

PAGE_TEXTS = (
    # the draw page
    N_("digitlab · draw a digit"),
    N_("Draw"),
    N_("Runs"),
    N_("Draw a digit"),
    N_(
        "Drawing pad: draw a digit with the mouse, a pen or a finger, or drop a picture on it; "
        "press C or Escape to clear"
    ),
    N_("Clear"),
    N_("Undo"),
    N_("Pen width"),
    N_("Open a picture…"),
    N_("or drop one on the pad (PNG or JPEG, a photo of a digit on paper)"),
    N_("Mouse, pen or finger"),
    N_("clears"),
    N_("undoes a stroke"),
    N_("Probability of each class; choose one to see why (not)"),
    N_("Why this answer"),
    N_("Class"),
    N_("Saliency map: where more ink raises (red) or lowers (blue) the chosen class's score"),
    N_(
        "Red: more ink there would make the network more sure of this class. Blue: more ink "
        "there would speak against it. Grey: what it sees."
    ),
    N_("Unsure:"),
    N_("or"),
    N_("Choose a PNG or JPEG picture."),
    N_("What the network reads"),
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
    N_("compare"),
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
    N_("stopped"),
    N_("unreadable"),
    N_("Choose a run's name to see its curves; tick two or more to compare them."),
    N_("Curves:"),
    N_("Loss per step"),
    N_("Accuracy per epoch"),
    N_("no data yet"),
    N_("epoch"),
    N_("loss"),
    N_("accuracy"),
    N_("Settings side by side"),
    N_("Highlighted: the settings in which the runs differ."),
)


def page_language(asked: str | None, accept_language: str) -> str:
    """`asked` if digitlab has it; else the first language of an Accept-Language header that
    digitlab has ("zh-CN,zh;q=0.9,en;q=0.8" -> "zh"); else the server's current language."""
    if asked in LANGUAGES:
        return asked
    for item in accept_language.split(","):
        primary = item.split(";")[0].strip().lower().split("-")[0]
        if primary in LANGUAGES:
            return primary
    return current_language()
