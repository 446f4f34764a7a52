"""Who belongs to an establishment and what its managers may change: every rule of the Équipe and API
key pages, written once here; the views only call these functions.

- Only a manager of an establishment acts on it, and only on its memberships, invitations and keys.
- An establishment always keeps a manager: nobody removes or demotes its last one.
- A member's account (password, email) is the manager's to reset only when every establishment the
  member belongs to is one the manager runs, and never a platform administrator's: otherwise a manager
  could take over someone else's restaurant through a shared cook.
- The accounts made here are never superusers nor staff: the admin stays the platform's.

Removing someone from this establishment, or changing their role here, is allowed whatever else they
belong to: it never reaches the other establishments, and a restaurant decides who works in it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from orders.models import ApiKey, Establishment, Membership
from team.models import Invitation

INVITATION_SALT = "team.invitation"


LAST_MANAGER_REFUSAL = gettext_lazy("An establishment needs at least one manager: name another manager first.")
UNKNOWN_ROLE = gettext_lazy("Unknown role.")


class TeamError(Exception):
    """A change the rules refuse; the message says why, for the manager."""


class InvitationUnusable(TeamError):
    pass


class UsernameTaken(TeamError):
    pass


@dataclass(frozen=True)
class Member:
    membership: Membership
    is_you: bool
    # The establishment's only manager: they can be neither demoted nor removed.
    last_manager: bool
    # Why the manager may not reset this member's password, or None when they may.
    account_locked: str | None


def require_manager(actor: AbstractBaseUser, establishment: Establishment) -> None:
    if not Membership.objects.filter(user=actor, establishment=establishment, role=Membership.Role.MANAGER).exists():
        raise PermissionDenied


def _managed_ids(actor: AbstractBaseUser) -> set[int]:
    return set(Membership.objects.filter(user=actor, role=Membership.Role.MANAGER).values_list("establishment_id", flat=True))


def _account_refusals(actor: AbstractBaseUser, users: list[AbstractBaseUser]) -> dict[int, str]:
    """For each user whose account the actor may not change, why (the rule on accounts, for one or many users)."""
    outside = set(
        Membership.objects.filter(user__in=users)
        .exclude(establishment_id__in=_managed_ids(actor))
        .values_list("user_id", flat=True)
    )
    refusals = {}
    for user in users:
        if user.is_superuser or user.is_staff:
            refusals[user.pk] = _("This is a platform administrator's account; only the platform can change it.")
        elif user.pk in outside:
            refusals[user.pk] = _(
                "This person also belongs to an establishment you do not manage: only the platform's administrators "
                "can change their password."
            )
    return refusals


def members(actor: AbstractBaseUser, establishment: Establishment) -> list[Member]:
    require_manager(actor, establishment)
    memberships = list(
        Membership.objects.filter(establishment=establishment)
        .select_related("user")
        .order_by("user__first_name", "user__username")
    )
    refusals = _account_refusals(actor, [membership.user for membership in memberships])
    managers = sum(membership.role == Membership.Role.MANAGER for membership in memberships)
    return [
        Member(
            membership=membership,
            is_you=membership.user_id == actor.pk,
            last_manager=membership.role == Membership.Role.MANAGER and managers == 1,
            account_locked=refusals.get(membership.user_id),
        )
        for membership in memberships
    ]


def _membership(establishment: Establishment, membership_id: int, *, lock: bool = False) -> Membership:
    """A membership of this establishment; another establishment's is a 404, as everywhere."""
    memberships = Membership.objects.filter(establishment=establishment).select_related("user")
    if lock:
        memberships = memberships.select_for_update(of=("self",))
    membership = memberships.filter(pk=membership_id).first()
    if membership is None:
        raise Http404
    return membership


def member(actor: AbstractBaseUser, establishment: Establishment, membership_id: int) -> Membership:
    require_manager(actor, establishment)
    return _membership(establishment, membership_id)


def _lock_managers(actor: AbstractBaseUser, establishment: Establishment) -> list[int]:
    """The ids of the establishment's manager memberships, locked until the transaction ends, so that two
    managers demoting each other at the same moment cannot leave it without one."""
    managers = list(
        Membership.objects.select_for_update()
        .filter(establishment=establishment, role=Membership.Role.MANAGER)
        .values_list("pk", "user_id")
    )
    if actor.pk not in {user_id for _pk, user_id in managers}:
        raise PermissionDenied
    return [pk for pk, _user_id in managers]


@transaction.atomic
def change_role(actor: AbstractBaseUser, establishment: Establishment, membership_id: int, role: str) -> Membership:
    managers = _lock_managers(actor, establishment)
    membership = _membership(establishment, membership_id, lock=True)
    if role not in Membership.Role.values:
        raise TeamError(UNKNOWN_ROLE)
    if membership.role == role:
        return membership
    if membership.pk in managers and len(managers) == 1:
        raise TeamError(LAST_MANAGER_REFUSAL)
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def remove_member(actor: AbstractBaseUser, establishment: Establishment, membership_id: int) -> Membership:
    managers = _lock_managers(actor, establishment)
    membership = _membership(establishment, membership_id, lock=True)
    if membership.pk in managers and len(managers) == 1:
        raise TeamError(LAST_MANAGER_REFUSAL)
    membership.delete()
    return membership


def password_reset_link(
    actor: AbstractBaseUser, establishment: Establishment, membership_id: int
) -> tuple[AbstractBaseUser, str]:
    """The member and the path of a one-time link to choose their new password (Django's password reset
    token: it stops working once the password changes, or after PASSWORD_RESET_TIMEOUT)."""
    require_manager(actor, establishment)
    user = _membership(establishment, membership_id).user
    refusal = _account_refusals(actor, [user]).get(user.pk)
    if refusal:
        raise TeamError(refusal)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return user, reverse("team:password_reset", kwargs={"uidb64": uid, "token": default_token_generator.make_token(user)})


# --- Invitations -------------------------------------------------------------------------------------


def invite(actor: AbstractBaseUser, establishment: Establishment, name: str, role: str) -> Invitation:
    require_manager(actor, establishment)
    if role not in Membership.Role.values:
        raise TeamError(UNKNOWN_ROLE)
    return Invitation.objects.create(establishment=establishment, name=name, role=role, invited_by=actor)


def pending_invitations(actor: AbstractBaseUser, establishment: Establishment) -> list[Invitation]:
    require_manager(actor, establishment)
    invitations = establishment.invitations.filter(accepted_at__isnull=True, created_at__gt=timezone.now() - Invitation.LIFETIME)
    return list(invitations.select_related("invited_by"))


def cancel_invitation(actor: AbstractBaseUser, establishment: Establishment, invitation_id: int) -> None:
    require_manager(actor, establishment)
    deleted, _by_model = establishment.invitations.filter(pk=invitation_id, accepted_at__isnull=True).delete()
    if not deleted:
        raise Http404


def invitation_path(invitation: Invitation) -> str:
    """The path of the invitation's link. Signed anew each time it is shown; the row's own expiry and single use
    bound every copy."""
    token = signing.dumps({"invitation": invitation.pk, "establishment": invitation.establishment_id}, salt=INVITATION_SALT)
    return reverse("team:accept_invitation", kwargs={"token": token})


def invitation_from_token(token: str) -> Invitation | None:
    """The pending invitation a link stands for, or None for a forged, expired, used or cancelled one."""
    try:
        payload = signing.loads(token, salt=INVITATION_SALT, max_age=Invitation.LIFETIME)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict):
        return None
    invitation = (
        Invitation.objects.select_related("establishment")
        .filter(pk=payload.get("invitation"), establishment_id=payload.get("establishment"))
        .first()
    )
    return invitation if invitation is not None and invitation.is_pending else None


@transaction.atomic
def accept_invitation(invitation: Invitation, username: str, password: str) -> AbstractBaseUser:
    """Create the invited person's account and membership; the invitation is used up.

    The account is a plain one (never staff nor superuser), named as the manager wrote it.
    """
    locked = Invitation.objects.select_for_update().filter(pk=invitation.pk).first()
    if locked is None or not locked.is_pending:
        raise InvitationUnusable(_("This invitation has already been used, has expired or was cancelled."))
    try:
        with transaction.atomic():
            user = get_user_model().objects.create_user(username=username, password=password, first_name=locked.name)
    except IntegrityError:
        raise UsernameTaken(_("This username is already taken: choose another one.")) from None
    Membership.objects.create(user=user, establishment_id=locked.establishment_id, role=locked.role)
    locked.accepted_at = timezone.now()
    locked.accepted_user = user
    locked.save(update_fields=["accepted_at", "accepted_user"])
    return user


# --- API keys of the ordering front ------------------------------------------------------------------


def api_keys(actor: AbstractBaseUser, establishment: Establishment) -> list[ApiKey]:
    require_manager(actor, establishment)
    return list(establishment.api_keys.order_by("revoked_at", "-created_at"))


def create_api_key(actor: AbstractBaseUser, establishment: Establishment, name: str) -> tuple[ApiKey, str]:
    """A new key and its clear value, which only this answer shows (only its hash is stored)."""
    require_manager(actor, establishment)
    return ApiKey.generate(establishment, name)


def api_key(actor: AbstractBaseUser, establishment: Establishment, key_id: int) -> ApiKey:
    require_manager(actor, establishment)
    key = establishment.api_keys.filter(pk=key_id).first()
    if key is None:
        raise Http404
    return key


def revoke_api_key(actor: AbstractBaseUser, establishment: Establishment, key_id: int) -> ApiKey:
    key = api_key(actor, establishment, key_id)
    establishment.api_keys.filter(pk=key.pk).revoke()
    key.refresh_from_db()
    return key
