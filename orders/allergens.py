"""Whether a guest's note mentions an allergy, so that the pass cannot miss it.

A note such as "pas d'oignons" is a preference; "allergie aux noix" or "sans
gluten" may send someone to hospital. Staff see the second kind in red with an
icon, never in the yellow of ordinary notes. A false alarm costs a glance; a
missed allergy costs far more, so the list errs on the side of matching.
"""

import re
import unicodedata

# Word stems, accents removed and lower case, French and English. Each must start a word;
# the stems end where the word may go on ("allerg" covers allergie, allergique, allergic…).
_STEMS = (
    # The words that say it.
    r"allerg",
    r"anaphyla",
    r"epipen",
    r"intoleran",
    r"co?elia[cq]",
    # The fourteen allergens European menus must declare, as guests write them.
    r"gluten",
    r"arachide",
    r"cacahuete",
    r"peanut",
    r"noix\b",
    r"nuts?\b",
    r"fruits? a coques?",
    r"tree ?nuts?",
    r"noisette",
    r"amandes?\b",
    r"almond",
    r"pistache",
    r"pistachio",
    r"cajou",
    r"cashew",
    r"pecan",
    r"lactose",
    r"dairy",
    r"sesame",
    r"crustace",
    r"shellfish",
    r"mollusque",
    r"soja\b",
    r"soy\b",
    r"lupin",
    r"sulfite",
    r"sulphite",
)
_PATTERN = re.compile(r"\b(?:" + "|".join(_STEMS) + ")", re.IGNORECASE)


def _plain(text: str) -> str:
    """Lower case without accents, so that "Allergène", "allergene" and "ALLERGÈNE" read alike."""
    decomposed = unicodedata.normalize("NFKD", text.replace("œ", "oe").replace("Œ", "OE"))
    return "".join(char for char in decomposed if not unicodedata.combining(char)).lower()


def mentions_allergy(text: str | None) -> bool:
    """True when the note speaks of an allergy or of an allergen."""
    if not text:
        return False
    return _PATTERN.search(_plain(text)) is not None
