import re

from django import forms
from django.utils.translation import gettext_lazy as _

from menu import selectors as menu_selectors
from printing.models import Printer, PrintSettings

# A menu category's ref code, as the menu (and HubRise's catalog) write them.
CATEGORY_REF = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
MAX_CATEGORIES = 50


class PrinterForm(forms.ModelForm):
    categories = forms.MultipleChoiceField(
        label=_("Categories"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "The menu categories this printer prints, with every category inside them (e.g. Drinks for the bar); "
            "an order with none of their items prints nothing there. None ticked: the whole order. "
            "An item of no ticked category prints only on printers without categories."
        ),
    )

    class Meta:
        model = Printer
        fields = ["name", "host", "port", "paper_width", "ticket_kind"]

    def __init__(self, *args, establishment, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.establishment = establishment
        self.instance.establishment = establishment
        choices = menu_selectors.category_choices(establishment.pk)
        on_menu = {ref for ref, _label in choices}
        # A code chosen earlier that the menu no longer has stays visible, so that it can be unticked.
        gone = [(ref, _("%(ref)s (not on the menu)") % {"ref": ref}) for ref in self.instance.category_refs if ref not in on_menu]
        self.fields["categories"].choices = choices + gone
        if self.instance.pk:
            self.fields["categories"].initial = list(self.instance.category_refs)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        taken = Printer.objects.filter(establishment=self.establishment, name__iexact=name).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(_("Another printer of this establishment already has this name."))
        return name

    def clean_host(self) -> str:
        host = self.cleaned_data["host"].strip()
        if not re.fullmatch(r"[A-Za-z0-9.\-:\[\]]+", host):
            raise forms.ValidationError(_("Enter an IP address (192.168.1.50) or a host name, without http:// or a port."))
        return host

    def clean_categories(self) -> list[str]:
        refs = self.cleaned_data["categories"]
        invalid = [ref for ref in refs if not CATEGORY_REF.match(ref)]
        if invalid:
            raise forms.ValidationError(
                _("Not a category ref code: %(refs)s (letters, digits, - _ . only).") % {"refs": ", ".join(invalid)}
            )
        if len(refs) > MAX_CATEGORIES:
            raise forms.ValidationError(_("At most %(count)d categories.") % {"count": MAX_CATEGORIES})
        return list(dict.fromkeys(refs))

    def save(self, commit: bool = True) -> Printer:
        self.instance.category_refs = self.cleaned_data["categories"]
        return super().save(commit)


class AutoPrintForm(forms.Form):
    auto_print = forms.ChoiceField(
        label=_("Print automatically"), choices=PrintSettings.AutoPrint.choices, widget=forms.RadioSelect
    )
