from django.urls import path

from printing import views

app_name = "printing"

urlpatterns = [
    path("e/<int:establishment_id>/printers/", views.printers, name="printers"),
    path("e/<int:establishment_id>/printers/new/", views.printer_form, name="printer_add"),
    path("e/<int:establishment_id>/printers/settings/", views.auto_print, name="auto_print"),
    path("e/<int:establishment_id>/printers/banner/", views.banner, name="banner"),
    path("e/<int:establishment_id>/printers/<int:printer_id>/", views.printer_form, name="printer_edit"),
    path("e/<int:establishment_id>/printers/<int:printer_id>/delete/", views.printer_delete, name="printer_delete"),
    path("e/<int:establishment_id>/printers/<int:printer_id>/test/", views.printer_test, name="printer_test"),
    path("e/<int:establishment_id>/printers/<int:printer_id>/retry/", views.printer_retry, name="printer_retry"),
    path("e/<int:establishment_id>/orders/<int:order_id>/ticket/", views.ticket_view, name="ticket"),
    path("e/<int:establishment_id>/orders/<int:order_id>/print/", views.print_order, name="print_order"),
    path("e/<int:establishment_id>/orders/<int:order_id>/print-state/", views.order_print_state, name="order_print_state"),
]
