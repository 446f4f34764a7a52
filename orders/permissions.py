"""Who may do what in an establishment: managers run it, staff handle its orders."""

from django.contrib.auth.models import AbstractBaseUser

from orders.models import Establishment, Membership


def role_in(user: AbstractBaseUser, establishment: Establishment) -> str | None:
    """The user's role in the establishment, or None when they do not belong to it."""
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, establishment=establishment).values_list("role", flat=True).first()


def is_manager(user: AbstractBaseUser, establishment: Establishment) -> bool:
    return role_in(user, establishment) == Membership.Role.MANAGER


def may_pause(user: AbstractBaseUser, establishment: Establishment) -> bool:
    """Managers pause orders and set the busy mode; staff too where the establishment allows it."""
    role = role_in(user, establishment)
    return role == Membership.Role.MANAGER or (role == Membership.Role.STAFF and establishment.staff_may_pause)
