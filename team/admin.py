"""Invitations in the (superuser-only) admin: who invited whom, and whether the link was used."""

from django.contrib import admin
from django.http import HttpRequest

from team.models import Invitation


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["name", "establishment", "role", "invited_by", "created_at", "accepted_at", "accepted_user"]
    list_filter = ["role", ("accepted_at", admin.EmptyFieldListFilter)]
    list_select_related = ["establishment", "invited_by", "accepted_user"]
    search_fields = ["name", "establishment__name", "invited_by__username", "accepted_user__username"]
    readonly_fields = ["establishment", "name", "role", "invited_by", "created_at", "accepted_at", "accepted_user"]

    # Invitations are made on the Équipe page, whose link is their only use; here they can be read or deleted.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Invitation | None = None) -> bool:
        return False
