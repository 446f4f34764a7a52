"""The Django admin is the platform operators' tool: superusers only.

Restaurant managers run their establishment from the back office (the Équipe
and API key pages), never from here. The admin edits users, memberships and
every establishment's data through generic forms whose foreign keys, inlines,
autocompletes and filters would each have to be scoped to a tenant by hand;
one forgotten field let a manager grant herself another restaurant. Checking
at the site's root covers every page, form, action and autocomplete at once,
including those of apps we do not write (django-axes).
"""

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


class SuperuserAuthenticationForm(AdminAuthenticationForm):
    """The admin's login form: a staff account that is not a superuser is refused like a wrong password."""

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if not user.is_superuser:
            raise ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


class PlatformAdminSite(admin.AdminSite):
    site_header = _("Get Resto platform administration")
    site_title = _("Get Resto administration")
    login_form = SuperuserAuthenticationForm

    def has_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser
