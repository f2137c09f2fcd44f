"""The message catalogues: `zh/LC_MESSAGES/digitlab.po` (the source, edited by people) and
`digitlab.mo` (compiled from it, read by gettext at run time); see digitlab.i18n.

Regenerate both after adding or changing any `_()`/`N_()` string (needs Babel, a test extra):

    python -m digitlab.locale update    # extract every string of the package into the .po
    # ... translate the new entries (msgstr "") in the .po ...
    python -m digitlab.locale compile   # write the .mo
    python -m digitlab.locale check     # exit 1 if any string lacks a translation

The same can be done with Babel's command line: `pybabel extract -k N_ -o digitlab.pot
src/digitlab`, `pybabel update -D digitlab -i digitlab.pot -d src/digitlab/locale -l zh`,
`pybabel compile -D digitlab -d src/digitlab/locale`.
"""
