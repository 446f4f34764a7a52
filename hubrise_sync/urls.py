from django.urls import path

from hubrise_sync import views_catalog, views_delivery, views_imports, views_push, views_settings
from hubrise_sync.webhook import HubRiseCallbackView

app_name = "hubrise"

urlpatterns: list = [
    path("e/<int:establishment_id>/settings/", views_settings.settings_page, name="settings"),
    path("e/<int:establishment_id>/connect/", views_settings.connect, name="connect"),
    path("e/<int:establishment_id>/connect/confirm/", views_settings.confirm_replacement, name="confirm_replacement"),
    path("e/<int:establishment_id>/test/", views_settings.test_connection, name="test"),
    path("e/<int:establishment_id>/disconnect/", views_settings.disconnect, name="disconnect"),
    path("e/<int:establishment_id>/imports/<int:event_id>/retry/", views_imports.retry_import, name="retry_import"),
    path("e/<int:establishment_id>/imports/acknowledge/", views_imports.acknowledge_setting, name="acknowledge_setting"),
    path("e/<int:establishment_id>/imports/earlier/", views_imports.earlier_orders_answer, name="earlier_orders"),
    path("e/<int:establishment_id>/orders/<int:order_id>/delivery/", views_delivery.delivery_live, name="delivery_live"),
    path("e/<int:establishment_id>/catalog/import/", views_catalog.reimport, name="reimport"),
    path("e/<int:establishment_id>/catalog/imports/", views_catalog.imports_fragment, name="catalog_imports"),
    path("e/<int:establishment_id>/catalog/push/", views_catalog.push, name="push_catalog"),
    path("e/<int:establishment_id>/catalog/auto-push/", views_catalog.auto_push, name="auto_push_catalog"),
    path("e/<int:establishment_id>/catalog/auto-import/", views_catalog.auto_import, name="auto_import_catalog"),
    path("callback/", HubRiseCallbackView.as_view(), name="callback"),
    path("oauth/callback/", views_settings.oauth_callback, name="oauth_callback"),
    path("e/<int:establishment_id>/orders/<int:order_id>/retry/", views_push.retry_order, name="retry_order"),
    path("e/<int:establishment_id>/topics/<slug:topic>/retry/", views_push.retry_topic, name="retry_topic"),
]
