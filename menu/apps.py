from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MenuConfig(AppConfig):
    name = "menu"
    verbose_name = _("Menu")

    def ready(self) -> None:
        from menu import demo, ordering
        from orders import extensions

        # Orders sent to an establishment with a menu are checked against it (and completed from it).
        extensions.order_checkers.append(ordering.check_order)
        # check_order reads the menu's row: with the intake API's own query.
        extensions.intake_select_related.append("menu")
        # The demo draws its orders from the menu (the demo restaurant's comes from HubRise's sandbox).
        extensions.demo_menus.append(demo.demo_menu)
        extensions.establishment_menu.append((_("Menu"), "menu:page"))
