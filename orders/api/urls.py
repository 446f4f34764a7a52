from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from orders.api.views import OrderViewSet

router = SimpleRouter()
router.register("orders", OrderViewSet, basename="order")

# The docs pages keep the site's Content-Security-Policy but for what the two viewers
# need: Swagger UI's script comes as a file of its own (the split view), and Redoc
# styles itself with <style> elements and renders the schema in a blob: worker.
swagger_ui = SpectacularSwaggerSplitView.as_view(url_name="api-schema")
redoc = csp_update({"style-src": [UNSAFE_INLINE], "worker-src": ["blob:"]})(SpectacularRedocView.as_view(url_name="api-schema"))

urlpatterns = [
    path("v1/", include((router.urls, "api"), namespace="v1")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", swagger_ui, name="api-docs"),
    path("redoc/", redoc, name="api-redoc"),
]
