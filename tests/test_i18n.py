"""Every message in English and Chinese: the catalogue covers every string of the package, the
compiled .mo matches its .po, and the language follows --lang, then the locale, then English.

When a test here fails after you added a `_()` string: run `python -m digitlab.locale update`,
translate the new entries of src/digitlab/locale/zh/LC_MESSAGES/digitlab.po, then
`python -m digitlab.locale compile`.
"""

import gettext
import os
import re
import subprocess
import sys

import pytest

from digitlab import i18n
from digitlab.locale.catalog import MO_PATH, PO_PATH, extract, missing, read_catalog

FIX = "run `python -m digitlab.locale update`, translate, then `python -m digitlab.locale compile`"


@pytest.fixture(scope="module")
def po():
    return read_catalog()


def entries(catalog) -> dict[str, str]:
    return {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}


def test_every_string_of_the_package_has_a_chinese_translation(po):
    source = {m.id for m in extract() if m.id}
    assert len(source) > 100  # extraction found the package's strings
    translated = entries(po)
    untranslated = sorted(source - translated.keys())
    assert not untranslated, f"{len(untranslated)} strings lack a translation ({FIX}):\n" + (
        "\n".join(map(repr, untranslated[:20]))
    )
    assert not missing(po), f"fuzzy or placeholders changed ({FIX}): {missing(po)[:10]}"


def test_placeholders_survive_translation(po):
    fields = re.compile(r"\{[^{}]*\}|%\([a-z_]+\)[sd]")
    for message_id, string in entries(po).items():
        if "{{" in message_id:
            continue
        assert set(fields.findall(message_id)) == set(fields.findall(string)), message_id
        # and the translation formats with the same arguments as the English
        names = {name.split(":")[0].split("!")[0] for name in re.findall(r"\{([^{}]*)\}", string)}
        if names and "%(" not in message_id:
            string.format(**{name: 1 for name in names})


def test_the_compiled_catalogue_is_not_stale(po):
    with MO_PATH.open("rb") as file:
        compiled = gettext.GNUTranslations(file)
    in_mo = {k: v for k, v in compiled._catalog.items() if k}
    assert in_mo == entries(po), f"{MO_PATH.name} differs from {PO_PATH.name}: {FIX}"


def test_the_usual_technical_terms(po):
    chinese = "\n".join(entries(po).values())
    for term in ("梯度", "学习率", "归一化", "过拟合", "反向传播", "损失", "权重", "激活"):
        assert term in chinese, term
    assert "梯度" in i18n.translate(
        "The gradient of {subject} points the opposite way to the "
        "loss's slope (cosine {cosine:.2f} with finite "
        "differences): a step 'down' it climbs.",
        "zh",
    )


def test_translate_leaves_the_current_language_alone():
    i18n.set_language("en")
    assert i18n.translate("No problems found.", "zh") != "No problems found."
    assert i18n.current_language() == "en"
    assert i18n._("No problems found.") == "No problems found."


def test_every_doctor_message_renders_in_both_languages():
    from digitlab.doctor.messages import MESSAGES

    for key, (message, fix) in MESSAGES.items():
        for text in (message, fix):
            zh = i18n.translate(text, "zh")
            assert zh != text and re.search(r"[\u4e00-\u9fff]", zh), key


def run_cli(*args, lang=None):
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    env["LANG"] = lang or "C.UTF-8"
    return subprocess.run(
        [sys.executable, "-m", "digitlab", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_cli_english_by_default_chinese_by_flag_or_locale():
    english = run_cli("doctor", "--help")
    assert english.returncode == 0 and "Examine your own network" in english.stdout
    by_flag = run_cli("--lang", "zh", "doctor", "--help")
    assert by_flag.returncode == 0 and "检查你自己的网络" in by_flag.stdout, by_flag.stdout
    by_locale = run_cli("--help", lang="zh_CN.UTF-8")
    assert "手写数字" in by_locale.stdout, by_locale.stdout
    flag_wins = run_cli("--lang", "en", "--help", lang="zh_CN.UTF-8")
    assert "handwritten digits" in flag_wins.stdout


def test_cli_errors_in_chinese():
    result = run_cli("doctor", "no-colon-here", lang="zh_CN.UTF-8")
    assert result.returncode == 1
    assert result.stderr.startswith("digitlab: ") and "MODULE:FACTORY" in result.stderr
    assert re.search(r"[\u4e00-\u9fff]", result.stderr), result.stderr


def test_the_catalogue_ships_with_the_package():
    tomllib = pytest.importorskip("tomllib")
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["digitlab.locale"]
    assert any(MO_PATH.match(pattern) for pattern in patterns)
    assert any(PO_PATH.match(pattern) for pattern in patterns)


def test_an_unknown_language_is_a_config_error():
    from digitlab.errors import ConfigError

    with pytest.raises(ConfigError, match="language 'fr' is not one of en, zh"):
        i18n.set_language("fr")
    with pytest.raises(ConfigError, match="'fr'"), i18n.speaking("fr"):
        pass
