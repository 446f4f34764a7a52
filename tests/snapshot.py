"""Every row of every table, to show that a refused request changed nothing at all."""

from django.apps import apps
from django.contrib.sessions.models import Session


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table (sessions aside: logging in writes them)."""
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values_list())
        for model in apps.get_models()
        if model is not Session and not model._meta.proxy
    }


def changed_tables(before: dict, after: dict) -> list[str]:
    return [label for label in before if before[label] != after[label]]
