"""Admin of hubrise_sync, one module per topic; Django's autodiscovery imports this package."""
