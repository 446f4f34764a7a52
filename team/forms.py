from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _

from orders.models import ApiKey, Membership
from team.models import Invitation


class InviteForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=Invitation._meta.get_field("name").max_length)
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices, initial=Membership.Role.STAFF)


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=_("Name of the key"),
        max_length=ApiKey._meta.get_field("name").max_length,
        help_text=_("Where it is used, e.g. “QR code menu”."),
    )


class AcceptInvitationForm(UserCreationForm):
    """Username and password (twice, checked by the project's password validators) of the invited person."""

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username",)
