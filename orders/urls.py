from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [
    path("", views.home, name="home"),
    path("e/<int:establishment_id>/orders/", views.order_list, name="list"),
]
