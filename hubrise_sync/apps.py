from django.apps import AppConfig


class HubriseSyncConfig(AppConfig):
    name = "hubrise_sync"
    verbose_name = "HubRise"
