from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class TeamConfig(AppConfig):
    name = "team"
    verbose_name = _("Team")

    def ready(self) -> None:
        from orders import extensions
        from orders.models import Membership

        # Managers only: staff have nothing to do on these pages (they get a 403 there).
        extensions.establishment_menu.append((_("Team"), "team:members", Membership.Role.MANAGER))
        extensions.establishment_menu.append((pgettext_lazy("menu", "API keys"), "team:api_keys", Membership.Role.MANAGER))
