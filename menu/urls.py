app_name = "menu"
urlpatterns: list = []
