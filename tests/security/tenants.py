"""Which establishment a row belongs to, found from the models' relations, for the walks over every URL and admin form."""

from collections import deque

from django.db import models

from orders.models import Establishment


def path_to_establishment(model: type[models.Model]) -> str | None:
    """The ORM lookup from ``model`` to its establishment, following relations (shortest first)."""
    if model is Establishment:
        return "pk"
    seen = {model}
    queue = deque([(model, "")])
    while queue:
        current, prefix = queue.popleft()
        for model_field in current._meta.get_fields():
            related = getattr(model_field, "related_model", None)
            if related is None:
                continue
            lookup = f"{prefix}{model_field.name}"
            if related is Establishment:
                return lookup
            if related not in seen and lookup.count("__") < 3:
                seen.add(related)
                queue.append((related, lookup + "__"))
    return None


def rows_of(model: type[models.Model], establishments: list[Establishment]) -> models.QuerySet:
    """The rows of ``model`` that belong to these establishments; every row when the model belongs to none
    (an admin log, a refused callback: nobody's but the platform's)."""
    lookup = path_to_establishment(model)
    rows = model._default_manager.all()
    if lookup is not None:
        rows = rows.filter(**{f"{lookup}__in": [establishment.pk for establishment in establishments]})
    return rows.distinct().order_by("pk")
