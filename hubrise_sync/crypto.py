"""Encryption at rest for HubRise access tokens.

A token gives full access to a restaurant's HubRise location and never
expires, so a database dump alone must not reveal it.
"""

import base64
import functools
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models


def _fernet() -> Fernet:
    return _fernet_of(settings.FIELD_ENCRYPTION_KEY, settings.SECRET_KEY)


# Every API order reads its establishment's token (the API key's query): deriving the key each time was
# most of a decryption's cost. Keyed by the settings' values, so that a changed key is used at once.
@functools.lru_cache(maxsize=4)
def _fernet_of(field_key: str, secret_key: str) -> Fernet:
    key = field_key
    if not key:
        # One secret is enough to start; a dedicated key can be set later.
        digest = hashlib.sha256(b"getresto-field-encryption:" + secret_key.encode()).digest()
        key = base64.urlsafe_b64encode(digest).decode()
    return Fernet(key)


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(value: str) -> str:
    try:
        return _fernet().decrypt(value.encode()).decode()
    except InvalidToken:
        raise ValueError("The stored secret cannot be decrypted with the current key.") from None


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; Python code sees the clear value."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)
