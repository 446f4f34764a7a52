"""Phone numbers in one format, E.164 (+33612345678), whatever way the guest typed theirs.

The ordering front sends what the guest typed: "06 12 34 56 78", "+33 6 12…",
"0033612…". HubRise and the POS get one format, and staff searching "06 12…"
find the order. A number without a country code is read as the establishment's
country's.
"""

import re

import phonenumbers

# What a search for a phone number looks like: digits, with the separators people type.
_PHONE_QUERY = re.compile(r"^\+?[\d\s.\-()/]{4,}$")


class InvalidPhoneNumber(ValueError):
    pass


def to_e164(raw: str, country: str) -> str:
    """The number in E.164; raises InvalidPhoneNumber for a number that cannot exist."""
    try:
        number = phonenumbers.parse(raw, country)
    except phonenumbers.NumberParseException as error:
        raise InvalidPhoneNumber(str(error)) from error
    if not phonenumbers.is_possible_number(number) or not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def search_forms(query: str, country: str) -> list[str] | None:
    """The substrings of a stored E.164 number that a phone search should look for.

    None when the query does not look like (part of) a phone number. "06 12 34"
    typed in France is looked for as "0612 34"'s digits and as "+33612 34"'s, so
    that a partial number finds the stored full one.
    """
    query = query.strip()
    if not _PHONE_QUERY.match(query):
        return None
    digits = re.sub(r"\D", "", query)
    if len(digits) < 4:
        return None
    if query.startswith("+"):
        return ["+" + digits]
    if digits.startswith("00") and len(digits) >= 10:
        return ["+" + digits[2:]]
    forms = [digits]
    national_prefix = _national_prefix(country)
    calling_code = phonenumbers.country_code_for_region(country)
    if national_prefix and calling_code and digits.startswith(national_prefix):
        forms.append(f"+{calling_code}{digits[len(national_prefix) :]}")
    return forms


def _national_prefix(country: str) -> str:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(country)
    return (metadata.national_prefix or "") if metadata is not None else ""
