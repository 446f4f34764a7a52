"""French typography of every translated string: a non-breaking space before : ; ? ! and inside « »."""

import gettext
import re
from pathlib import Path

from django.conf import settings

CATALOG = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES" / "django.mo"


def french_strings() -> list[str]:
    with CATALOG.open("rb") as mo:
        catalog = gettext.GNUTranslations(mo)._catalog
    return [text for key, text in catalog.items() if key and text]


def test_no_breakable_space_before_high_punctuation_or_inside_guillemets():
    wrong = [text for text in french_strings() if re.search(r" [:;?!»]|« ", text)]

    assert wrong == []


def test_no_high_punctuation_glued_to_the_word_before_it():
    # "Motif: x" reads as English; times (19:30) and the HTTP header to send are not French sentences.
    sentences = [text.replace("Authorization: Api-Key", "") for text in french_strings()]
    wrong = [text for text in sentences if re.search(r"[A-Za-zÀ-ÿ)][;!?](\s|$)|[A-Za-zÀ-ÿ)]:(\s|$)", text)]

    assert wrong == []
