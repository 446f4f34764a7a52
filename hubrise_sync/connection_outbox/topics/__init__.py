"""The topics of the connection outbox, one module each (how to add one: the package's docstring)."""

from __future__ import annotations

from hubrise_sync.connection_outbox.topic import Topic
from hubrise_sync.connection_outbox.topics import catalog, inventory, location

# Modules, each with a TOPIC; the order is the settings page's.
TOPICS = (location, catalog, inventory)

BY_NAME: dict[str, Topic] = {module.TOPIC.name: module.TOPIC for module in TOPICS}


def get(name: str) -> Topic:
    """The topic of that name; a KeyError for an unknown one (a typo in a request_send call)."""
    return BY_NAME[name]


def label(name: str) -> str:
    topic = BY_NAME.get(name)
    return str(topic.label) if topic else name
