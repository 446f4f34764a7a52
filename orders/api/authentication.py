"""API-key authentication of the ordering front: `Authorization: Api-Key <key>`."""

import hmac
from datetime import timedelta

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from getresto import statements
from orders import extensions
from orders.models import ApiKey

KEYWORD = "Api-Key"
# Writing last_used_at on every request would turn each read into a write.
LAST_USED_PRECISION = timedelta(minutes=1)
_NO_KEY_HASH = ApiKey.hash("")


def _active_key(prefix: str):
    # With the establishment's one-to-ones that taking an order reads (orders.extensions.intake_select_related).
    related = ["establishment", *(f"establishment__{name}" for name in extensions.intake_select_related)]
    # The facts taking an order uses (orders.extensions.intake_facts), read by this query as intake_<name>.
    facts = {f"intake_{name}": build() for name, build in extensions.intake_facts.items()}
    # The prefix is unique: a slice, not first(), which would add an ORDER BY.
    return ApiKey.objects.active().select_related(*related).annotate(**facts).filter(prefix=prefix)[:1]


def intake_facts(api_key: ApiKey) -> dict:
    """The facts read with the key (orders.extensions.intake_facts), by name."""
    return {name: getattr(api_key, f"intake_{name}") for name in extensions.intake_facts}


# Compiled once, on the first request (the apps have added their relations by then): every request runs it.
# No key has an empty prefix: it stands for the key's.
_ACTIVE_KEY = statements.Select(_active_key, "")


class ApiKeyAuthentication(BaseAuthentication):
    """Finds the key by its clear prefix, then compares SHA-256 digests in constant time.

    request.auth is the ApiKey (its establishment selected); request.user is anonymous.
    """

    def authenticate(self, request: Request) -> tuple[AnonymousUser, ApiKey] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None
        if len(parts) != 2:
            raise AuthenticationFailed(_("Send the key as: Authorization: Api-Key <key>."))
        try:
            raw_key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed(_("Invalid API key.")) from None
        api_key = self._find(raw_key)
        if api_key is None:
            raise AuthenticationFailed(_("Invalid API key."))
        self._touch(api_key)
        return AnonymousUser(), api_key

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD

    @staticmethod
    def _find(raw_key: str) -> ApiKey | None:
        # Keys look like gr_<prefix>_<secret>; see ApiKey.generate.
        _scheme, _sep, rest = raw_key.partition("_")
        prefix = rest[: ApiKey.PREFIX_LENGTH]
        found = _ACTIVE_KEY.objects(prefix) if prefix else []
        api_key = found[0] if found else None
        # Hash even when no key has this prefix so that timing tells nothing.
        matches = hmac.compare_digest(api_key.key_hash if api_key else _NO_KEY_HASH, ApiKey.hash(raw_key))
        return api_key if api_key is not None and matches else None

    @staticmethod
    def _touch(api_key: ApiKey) -> None:
        now = timezone.now()
        if api_key.last_used_at and now - api_key.last_used_at < LAST_USED_PRECISION:
            return
        ApiKey.objects.filter(pk=api_key.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION)
        ).update(last_used_at=now)
        api_key.last_used_at = now


class HasApiKey(BasePermission):
    def has_permission(self, request: Request, view) -> bool:
        return isinstance(request.auth, ApiKey)


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "The establishment's key, sent as `Api-Key <key>`.",
        }
