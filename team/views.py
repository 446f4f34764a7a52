"""The Équipe and API key pages of an establishment (managers only), and the two pages a link opens:
accepting an invitation, choosing a new password.

Another establishment's id is a 404 (orders.selectors), a member who is not a
manager gets a 403, and every rule is in team.services.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from orders import selectors
from orders.models import Establishment, Membership
from team import services
from team.forms import AcceptInvitationForm, ApiKeyForm, InviteForm

# The one backend that logs a person in without a password check (they just chose it).
LOGIN_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _establishment(request: HttpRequest, establishment_id: int) -> Establishment:
    establishment = selectors.establishment_for(request.user, establishment_id)
    services.require_manager(request.user, establishment)
    return establishment


def _render(request: HttpRequest, establishment: Establishment, template: str, context: dict, status: int = 200) -> HttpResponse:
    with timezone.override(establishment.tzinfo):
        context = {"establishment": establishment, "establishments": list(selectors.establishments_of(request.user)), **context}
        return render(request, template, context, status=status)


def _team_page(
    request: HttpRequest, establishment: Establishment, invite_form: InviteForm | None = None, **extra
) -> HttpResponse:
    invitations = services.pending_invitations(request.user, establishment)
    context = {
        "members": services.members(request.user, establishment),
        "invitations": [
            (invitation, request.build_absolute_uri(services.invitation_path(invitation))) for invitation in invitations
        ],
        "invite_form": invite_form or InviteForm(),
        "roles": Membership.Role.choices,
        "last_manager_refusal": services.LAST_MANAGER_REFUSAL,
        **extra,
    }
    return _render(request, establishment, "team/members.html", context, status=400 if invite_form else 200)


@login_required
@require_GET
def members(request: HttpRequest, establishment_id: int) -> HttpResponse:
    return _team_page(request, _establishment(request, establishment_id))


@login_required
@require_POST
def invite(request: HttpRequest, establishment_id: int) -> HttpResponse:
    establishment = _establishment(request, establishment_id)
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _team_page(request, establishment, invite_form=form)
    invitation = services.invite(request.user, establishment, form.cleaned_data["name"], form.cleaned_data["role"])
    messages.success(
        request,
        _("Invitation created for %(name)s: send them the link below (valid %(days)d days, once).")
        % {"name": invitation.name, "days": invitation.LIFETIME.days},
    )
    return redirect("team:members", establishment_id=establishment.pk)


@login_required
@require_POST
def cancel_invitation(request: HttpRequest, establishment_id: int, invitation_id: int) -> HttpResponse:
    establishment = _establishment(request, establishment_id)
    services.cancel_invitation(request.user, establishment, invitation_id)
    messages.success(request, _("Invitation cancelled: its link no longer works."))
    return redirect("team:members", establishment_id=establishment.pk)


@login_required
@require_POST
def change_role(request: HttpRequest, establishment_id: int, membership_id: int) -> HttpResponse:
    establishment = _establishment(request, establishment_id)
    try:
        membership = services.change_role(request.user, establishment, membership_id, request.POST.get("role", ""))
    except services.TeamError as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(
            request,
            _("%(name)s is now %(role)s.") % {"name": _name(membership.user), "role": membership.get_role_display().lower()},
        )
    return redirect("team:members", establishment_id=establishment.pk)


@login_required
@require_http_methods(["GET", "POST"])
def remove(request: HttpRequest, establishment_id: int, membership_id: int) -> HttpResponse:
    establishment = _establishment(request, establishment_id)
    if request.method == "GET":
        membership = services.member(request.user, establishment, membership_id)
        return _render(
            request, establishment, "team/confirm_remove.html", {"membership": membership, "name": _name(membership.user)}
        )
    try:
        membership = services.remove_member(request.user, establishment, membership_id)
    except services.TeamError as refusal:
        messages.error(request, str(refusal))
        return redirect("team:members", establishment_id=establishment.pk)
    messages.success(
        request,
        _("%(name)s no longer has access to %(establishment)s.")
        % {"name": _name(membership.user), "establishment": establishment.name},
    )
    if membership.user_id == request.user.pk:
        return redirect("orders:home")
    return redirect("team:members", establishment_id=establishment.pk)


@never_cache
@login_required
@require_POST
def password_link(request: HttpRequest, establishment_id: int, membership_id: int) -> HttpResponse:
    """The link is shown in this answer only (not kept in a message cookie, never cached)."""
    establishment = _establishment(request, establishment_id)
    try:
        user, path = services.password_reset_link(request.user, establishment, membership_id)
    except services.TeamError as refusal:
        messages.error(request, str(refusal))
        return redirect("team:members", establishment_id=establishment.pk)
    return _team_page(request, establishment, reset={"name": _name(user), "url": request.build_absolute_uri(path)})


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


# --- API keys -------------------------------------------------------------------------------------


def _keys_page(request: HttpRequest, establishment: Establishment, form: ApiKeyForm | None = None, **extra) -> HttpResponse:
    context = {"keys": services.api_keys(request.user, establishment), "form": form or ApiKeyForm(), **extra}
    return _render(request, establishment, "team/api_keys.html", context, status=400 if form else 200)


@login_required
@require_GET
def api_keys(request: HttpRequest, establishment_id: int) -> HttpResponse:
    return _keys_page(request, _establishment(request, establishment_id))


@never_cache
@login_required
@require_POST
def create_api_key(request: HttpRequest, establishment_id: int) -> HttpResponse:
    """The new key is shown in this answer only: it is never stored in clear, nor kept in a message cookie."""
    establishment = _establishment(request, establishment_id)
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _keys_page(request, establishment, form=form)
    key, raw_key = services.create_api_key(request.user, establishment, form.cleaned_data["name"])
    return _keys_page(request, establishment, new_key=key, raw_key=raw_key)


@login_required
@require_http_methods(["GET", "POST"])
def revoke_api_key(request: HttpRequest, establishment_id: int, apikey_id: int) -> HttpResponse:
    establishment = _establishment(request, establishment_id)
    if request.method == "GET":
        key = services.api_key(request.user, establishment, apikey_id)
        return _render(request, establishment, "team/confirm_revoke.html", {"key": key})
    key = services.revoke_api_key(request.user, establishment, apikey_id)
    messages.success(
        request, _("The key “%(name)s” is revoked: orders sent with it are refused from now on.") % {"name": key.name}
    )
    return redirect("team:api_keys", establishment_id=establishment.pk)


# --- Pages opened from a link ---------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    invitation = services.invitation_from_token(token)
    if invitation is None:
        return render(request, "team/invitation_unusable.html", status=404)
    user_model = AcceptInvitationForm.Meta.model
    # The name the manager wrote takes part in the password checks (a password close to it is refused).
    form = AcceptInvitationForm(request.POST or None, instance=user_model(first_name=invitation.name))
    if request.method == "POST" and form.is_valid():
        try:
            user = services.accept_invitation(invitation, form.cleaned_data["username"], form.cleaned_data["password1"])
        except services.UsernameTaken as refusal:
            form.add_error("username", str(refusal))
        except services.InvitationUnusable:
            return render(request, "team/invitation_unusable.html", status=404)
        else:
            login(request, user, backend=LOGIN_BACKEND)
            messages.success(request, _("Welcome to %(establishment)s!") % {"establishment": invitation.establishment.name})
            return redirect("orders:list", establishment_id=invitation.establishment_id)
    context = {"invitation": invitation, "form": form}
    return render(request, "team/accept_invitation.html", context, status=400 if form.errors else 200)


class PasswordResetView(auth_views.PasswordResetConfirmView):
    """Django's own page for a password reset link (token checked, SetPasswordForm and the password
    validators), logging the person in once the new password is set."""

    template_name = "team/password_reset.html"
    post_reset_login = True
    post_reset_login_backend = LOGIN_BACKEND
    success_url = reverse_lazy("orders:home")

    def form_valid(self, form):
        messages.success(self.request, _("Your new password is set."))
        return super().form_valid(form)
