from django import template

from hubrise_sync import catalog_import
from orders.models import Establishment

register = template.Library()


@register.inclusion_tag("hubrise_sync/_catalog_imports.html")
def catalog_imports(establishment: Establishment) -> dict:
    """The last imports of the establishment's HubRise catalog, newest first."""
    return {"establishment": establishment, "imports": catalog_import.recent_imports(establishment)}


@register.simple_tag
def catalog_auto_push(connection) -> bool:
    """Whether the menu's changes go to HubRise by themselves."""
    from hubrise_sync.models import CatalogSync

    return CatalogSync.objects.filter(connection=connection, auto_push=True).exists()


@register.simple_tag
def catalog_auto_import(connection) -> bool:
    """Whether the POS's changes of the catalog re-import the menu."""
    return catalog_import.imports_automatically(connection)
