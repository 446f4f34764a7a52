from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("orders.api.urls")),
    path("hubrise/", include("hubrise_sync.urls")),
    path("", include("team.urls")),
    path("", include("printing.urls")),
    path("", include("orders.urls")),
]
