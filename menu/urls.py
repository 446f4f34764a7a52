from django.urls import path

from menu import views
from menu.services import KINDS

app_name = "menu"

urlpatterns = [
    path("e/<int:establishment_id>/menu/", views.menu_page, name="page"),
    path("e/<int:establishment_id>/menu/availability/", views.set_availability, name="availability"),
    path("e/<int:establishment_id>/menu/settings/", views.save_settings, name="settings"),
    path("e/<int:establishment_id>/menu/version/", views.menu_version, name="version"),
    # One URL per kind, so that a kind that does not exist is not a URL at all.
    *(
        path(
            f"e/<int:establishment_id>/menu/{kind.replace('_', '-')}/<int:item_id>/",
            views.edit_item,
            {"kind": kind},
            name=f"edit_{kind}",
        )
        for kind in KINDS
    ),
]
