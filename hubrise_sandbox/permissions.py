"""OAuth scopes: parsing a scope string, and what a connection's permissions let it do.

A permission is ``<resource>.<read|write>``; ``write`` implies ``read``. A call the scope does
not allow answers 403 ``forbidden`` naming the permissions that would allow it.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import forbidden

PERMISSION_RESOURCES = ("orders", "customer_list", "catalog", "inventory", "all_customer_lists", "all_catalogs")
_SCOPE_PART = re.compile(r"(location|account)\[([^\]]*)\]|(profile_with_email|profile)")


class ScopeError(ValueError):
    pass


def parse_scope(scope: str) -> dict[str, Any]:
    """Returns {"level": "location", "permissions": [...], "profile": bool} or raises ScopeError."""
    if not scope or not scope.strip():
        raise ScopeError("the scope is missing")
    level, permissions, profile = None, [], False
    leftover = _SCOPE_PART.sub("", scope).replace(",", "").strip()
    if leftover:
        raise ScopeError(f"{scope!r} is not a valid scope")
    for match in _SCOPE_PART.finditer(scope):
        if match.group(3):
            profile = True
            continue
        if level is not None:
            raise ScopeError("only one location[...] or account[...] part is allowed")
        level = match.group(1)
        for permission in filter(None, (p.strip() for p in match.group(2).split(","))):
            resource, _, access = permission.partition(".")
            if resource not in PERMISSION_RESOURCES or access not in ("read", "write"):
                raise ScopeError(f"{permission!r} is not a valid permission")
            permissions.append(permission)
    if level is None:
        raise ScopeError("the sandbox only grants location[...] scopes")
    if level == "account":
        raise ScopeError("the sandbox only grants location[...] scopes, not account[...]")
    return {"level": level, "permissions": permissions, "profile": profile}


def scope_covers(scope: str, *resources: str) -> bool:
    return any(f"{resource}." in scope for resource in resources)


def granted(scope: str) -> set[str]:
    """Every permission the scope grants, with ``x.read`` added for each ``x.write``."""
    try:
        permissions = parse_scope(scope)["permissions"]
    except ScopeError:
        return set()
    result = set(permissions)
    result.update(p.replace(".write", ".read") for p in permissions if p.endswith(".write"))
    return result


def has_any(scope: str, *permissions: str) -> bool:
    return bool(granted(scope) & set(permissions))


def require_any(scope: str, *permissions: str) -> None:
    if not has_any(scope, *permissions):
        raise forbidden(f"This access token needs the {' or '.join(permissions)} permission")
