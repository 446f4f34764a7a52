from django.urls import path

from team import views

app_name = "team"

urlpatterns = [
    path("e/<int:establishment_id>/team/", views.members, name="members"),
    path("e/<int:establishment_id>/team/invite/", views.invite, name="invite"),
    path(
        "e/<int:establishment_id>/team/invitations/<int:invitation_id>/cancel/", views.cancel_invitation, name="cancel_invitation"
    ),
    path("e/<int:establishment_id>/team/<int:membership_id>/role/", views.change_role, name="change_role"),
    path("e/<int:establishment_id>/team/<int:membership_id>/remove/", views.remove, name="remove"),
    path("e/<int:establishment_id>/team/<int:membership_id>/password-link/", views.password_link, name="password_link"),
    path("e/<int:establishment_id>/api-keys/", views.api_keys, name="api_keys"),
    path("e/<int:establishment_id>/api-keys/create/", views.create_api_key, name="create_api_key"),
    path("e/<int:establishment_id>/api-keys/<int:apikey_id>/revoke/", views.revoke_api_key, name="revoke_api_key"),
    path("team/invitation/<str:token>/", views.accept_invitation, name="accept_invitation"),
    path("team/password/<uidb64>/<token>/", views.PasswordResetView.as_view(), name="password_reset"),
]
