from django.urls import path

from orders import views, views_service, views_today

app_name = "orders"

urlpatterns = [
    path("", views.home, name="home"),
    path("e/<int:establishment_id>/orders/", views.order_list, name="list"),
    path("e/<int:establishment_id>/orders/live/", views.order_list_live, name="list_live"),
    # Answered by the stream process (orders.live_stream); here only when it is not in front of these paths.
    path("e/<int:establishment_id>/orders/live/stream/", views.live_stream_elsewhere, name="list_stream"),
    path("e/<int:establishment_id>/orders/<int:order_id>/", views.order_detail, name="detail"),
    path("e/<int:establishment_id>/orders/<int:order_id>/live/", views.order_status_live, name="detail_live"),
    path("e/<int:establishment_id>/orders/<int:order_id>/live/stream/", views.live_stream_elsewhere, name="detail_stream"),
    path("e/<int:establishment_id>/orders/<int:order_id>/status/", views.change_order_status, name="change_status"),
    path("e/<int:establishment_id>/orders/<int:order_id>/delay/", views.delay_order, name="delay"),
    path("e/<int:establishment_id>/today/", views_today.today, name="today"),
    path("e/<int:establishment_id>/service/", views_service.service_page, name="service"),
    path("e/<int:establishment_id>/service/pause/", views_service.pause, name="pause"),
    path("e/<int:establishment_id>/service/busy/", views_service.busy, name="busy"),
    path("e/<int:establishment_id>/service/resume/", views_service.resume, name="resume"),
    path("e/<int:establishment_id>/service/settings/", views_service.settings, name="service_settings"),
    path(
        "e/<int:establishment_id>/orders/<int:order_id>/confirmed-time/",
        views.change_order_confirmed_time,
        name="change_confirmed_time",
    ),
]
