"""The admin writes through the same domain functions as the pages, the API and the jobs:
a colis is created by services.create_colis and edited by services.update_colis (through
sync.actions.edit_colis, so the tablets hear of it), a lot opened by services.open_lot and
closed by services.close_lot. What those functions compute is read-only here."""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from . import services
from .models import Client, Colis, Lot, NumeroLease, Sequence, Tariff


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ("nom", "prenom", "telephone", "ville_destination", "pays_destination")
    list_filter = ("pays_destination", "ville_destination")
    search_fields = ("nom", "prenom", "telephone", "email")


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    list_display = ("mode", "unit", "rate", "divisor", "minimum", "currency", "round_to",
                    "rounding", "valid_from")
    list_filter = ("mode", "currency")


def refusal(exc: services.DomainError) -> str:
    """A domain refusal as a sentence for the admin."""
    from server import codes

    if isinstance(exc, services.VersionConflict):
        return str(STALE) % {"current": exc.current.version}
    texts = [codes.render(m) for messages_ in exc.errors.values()
             for m in (messages_ if isinstance(messages_, list) else [messages_])]
    return " ".join(texts) or exc.code


STALE = gettext_lazy("Ce colis a été modifié ailleurs depuis l'ouverture de ce formulaire "
                     "(il est maintenant en version %(current)s). Rien n'a été enregistré : "
                     "rechargez la page et refaites la modification.")


class DomainAdmin(admin.ModelAdmin):
    """A refusal raised by the domain function while saving (the rules changed between the
    form's checks and the write: a lot closed, another edit first) rolls the whole save back
    and comes back as an admin error, never as a 500 or a half-done write."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except services.DomainError as exc:  # raised inside the admin's transaction
            self.message_user(request, refusal(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


@admin.action(description=gettext_lazy("Fermer les lots sélectionnés"))
def close_lots(modeladmin, request, queryset):
    """Close each lot through services.close_lot: a lot whose tasks are still active stays
    open, as on the lot's page."""
    closed, busy = 0, []
    for lot in queryset.filter(statut=Lot.Statut.OUVERT).order_by("pk"):
        try:
            services.close_lot(lot, request.user)
            closed += 1
        except services.LotBusy as exc:
            busy.append(_("%(lot)s (%(n)d tâche(s) en cours ou en attente)")
                        % {"lot": lot.numero_lot, "n": exc.active})
        except services.InvalidData:  # closed meanwhile
            continue
    if closed:
        messages.success(request, ngettext("%(n)d lot fermé.", "%(n)d lots fermés.", closed)
                         % {"n": closed})
    if busy:
        messages.error(request, _("Pas fermés, des tâches peuvent encore y ajouter des colis : "
                                  "%(lots)s.") % {"lots": ", ".join(busy)})


LOT_FIELDS = ("numero_lot", "type_lot", "statut", "agent_createur", "op_id", "created_at",
              "closed_at")


@admin.register(Lot)
class LotAdmin(DomainAdmin):
    """A lot is opened here (type only) and closed by the action; nothing else is edited."""

    list_display = ("numero_lot", "type_lot", "statut", "agent_createur", "created_at")
    list_filter = ("type_lot", "statut")
    search_fields = ("numero_lot", "agent_createur__username")
    actions = [close_lots]

    def get_fields(self, request, obj=None):
        return LOT_FIELDS if obj else ("type_lot",)

    def get_readonly_fields(self, request, obj=None):
        return LOT_FIELDS if obj else ()

    def save_model(self, request, obj, form, change):
        if change:
            return  # every field is read-only: a lot changes by the close action only
        lot = services.open_lot(request.user, obj.type_lot)
        _adopt(obj, lot)


def _adopt(obj, saved) -> None:
    """Make the admin's unsaved `obj` the row a domain function saved, for its log and
    redirect."""
    for field in type(saved)._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding, obj._state.db = False, saved._state.db


COLIS_ADD_FIELDS = ("lot", *services.EDITABLE_FIELDS)
COLIS_COMPUTED = ("numero_suivi", "lot", "type_transport", "statut", "prix_calcule", "devise",
                  "tariff", "version", "photo_status", "photo_id", "photo_error",
                  "photo_attempts", "image", "thumbnail", "created_by", "created_at",
                  "updated_at")


class ColisAdminForm(forms.ModelForm):
    """A colis' editable fields, and the version they were shown at: saving over a newer
    version is refused, as a tablet's stale edit is."""

    base_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Colis
        fields = COLIS_ADD_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["base_version"].initial = self.instance.version

    def domain_data(self, names) -> dict:
        """The cleaned fields `names` as the domain functions take them (ids, text numbers)."""
        data = {}
        for name in names:
            value = self.cleaned_data.get(name)
            if isinstance(value, Decimal):
                value = str(value)
            data[name] = value.pk if hasattr(value, "pk") else value
        return data

    def edited(self) -> list[str]:
        return [name for name in self.changed_data if name in services.EDITABLE_FIELDS]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        if self.instance.pk:
            current = Colis.objects.filter(pk=self.instance.pk).values_list(
                "version", flat=True).first()
            if cleaned.get("base_version") != current:
                raise forms.ValidationError(STALE % {"current": current},
                                            code="version_conflict")
        try:  # the domain's own checks, shown on their fields (the write checks them again)
            if self.instance.pk:
                services.clean_colis(self.domain_data(self.edited()), partial=True)
            else:
                services.clean_colis(self.domain_data(COLIS_ADD_FIELDS))
        except services.InvalidData as exc:
            self._add_domain_errors(exc.errors)
        return cleaned

    def _add_domain_errors(self, errors: dict) -> None:
        from server import codes

        for name, texts in errors.items():
            texts = texts if isinstance(texts, list) else [texts]
            self.add_error(name if name in self.fields else None, [codes.render(t) for t in texts])


@admin.register(Colis)
class ColisAdmin(DomainAdmin):
    form = ColisAdminForm
    list_display = ("numero_suivi", "lot", "client", "type_transport", "poids", "prix_calcule",
                    "mode_paiement", "statut", "photo_status", "created_at")
    list_filter = ("type_transport", "statut", "mode_paiement", "photo_status")
    search_fields = ("numero_suivi", "client__nom", "client__telephone", "lot__numero_lot")
    list_select_related = ("lot", "client")
    raw_id_fields = ("client", "lot")

    def get_fields(self, request, obj=None):
        if obj is None:
            return COLIS_ADD_FIELDS
        return (*services.EDITABLE_FIELDS, "base_version", *COLIS_COMPUTED)

    def get_readonly_fields(self, request, obj=None):
        return COLIS_COMPUTED if obj else ()

    def save_model(self, request, obj, form, change):
        from sync import actions

        if not change:
            colis = services.create_colis(request.user, form.domain_data(COLIS_ADD_FIELDS))
        elif edited := form.edited():
            colis = actions.edit_colis(obj.pk, form.cleaned_data["base_version"],
                                       form.domain_data(edited), request.user)
        else:
            return  # nothing changed: no new version
        _adopt(obj, colis)


@admin.register(Sequence)
class SequenceAdmin(admin.ModelAdmin):
    """The counters behind lot and tracking numbers and the changes feed: shown, never set
    by hand (a lowered counter hands out a number twice, or hides changes from tablets)."""

    list_display = ("key", "value")
    search_fields = ("key",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(NumeroLease)
class NumeroLeaseAdmin(SequenceAdmin):
    """Ranges of numéros leased to tablets (server/cargo/leases.py): taken during sync and
    voided by revoking the device, never edited by hand (a changed range hands a number
    out twice)."""

    list_display = ("first_numero", "last_numero", "device", "created_at", "voided_at")
    list_filter = ("year", "voided_at")
    search_fields = ("first_numero", "last_numero", "device__name", "device__user__username")
    list_select_related = ("device__user",)
