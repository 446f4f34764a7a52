from django.contrib.admin.apps import AdminConfig


class PlatformAdminConfig(AdminConfig):
    """Makes the superuser-only PlatformAdminSite the ``admin.site`` every app registers its models on.

    Kept apart from the site's module: this one is imported while the app
    registry loads, before the auth forms the site needs can be.
    """

    default_site = "getresto.admin_site.PlatformAdminSite"
