"""Every user-facing text of the code is in both catalogs, and English is fully translated."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]


def _catalog(path: Path):
    with path.open("rb") as handle:
        return read_po(handle)


def test_catalogs_cover_the_code_and_english_is_complete(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "--mapping-file", "babel.cfg",
         "--omit-header", "--output-file", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    wanted = {m.id for m in _catalog(pot) if m.id}
    assert len(wanted) > 50
    for lang in ("ru", "en"):
        catalog = _catalog(ROOT / "locales" / lang / "LC_MESSAGES" / "messages.po")
        have = {m.id: m.string for m in catalog if m.id}
        assert wanted - set(have) == set(), f"{lang}: run `make locales` and translate"
        untranslated = [k for k in wanted if not have[k]]
        assert untranslated == [], f"{lang}: untranslated {untranslated[:3]}"
        # Placeholders must survive translation.
        for key in wanted:
            assert sorted(_fields(key)) == sorted(_fields(have[key])), (lang, key)


def _fields(text: str) -> list[str]:
    import string

    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


def test_no_text_hides_from_the_catalogs():
    """`page_gettext(request)("…")` and the like translate at run time but extraction only sees
    the known keywords (`_`, `N_`, `gettext` …): such a literal must be wrapped in `N_(…)`."""
    import re

    hidden = re.compile(r"""(?:page_gettext|_gettext|gettext_for)\([^()]*\)\(\s*["']""")
    found = []
    for folder in ("admin", "bot", "core", "mcu", "scheduler"):
        for path in (ROOT / folder).rglob("*.py"):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if hidden.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}")
    assert found == [], f"wrap these texts in N_(…): {found}"
