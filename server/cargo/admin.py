from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from . import services
from .models import Client, Colis, Lot, Sequence, Tariff


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


@admin.register(Lot)
class LotAdmin(admin.ModelAdmin):
    list_display = ("numero_lot", "type_lot", "statut", "agent_createur", "created_at")
    list_filter = ("type_lot", "statut")
    search_fields = ("numero_lot", "agent_createur__username")
    readonly_fields = ("numero_lot", "op_id")
    actions = [close_lots]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        lot = services.open_lot(request.user, obj.type_lot)
        obj.pk, obj.numero_lot = lot.pk, lot.numero_lot


@admin.register(Colis)
class ColisAdmin(admin.ModelAdmin):
    list_display = ("numero_suivi", "lot", "client", "type_transport", "poids", "prix_calcule",
                    "mode_paiement", "statut", "photo_status", "created_at")
    list_filter = ("type_transport", "statut", "mode_paiement", "photo_status")
    search_fields = ("numero_suivi", "client__nom", "client__telephone", "lot__numero_lot")
    list_select_related = ("lot", "client")
    readonly_fields = ("numero_suivi", "version", "prix_calcule", "tariff", "created_by")
    raw_id_fields = ("client", "lot")


@admin.register(Sequence)
class SequenceAdmin(admin.ModelAdmin):
    list_display = ("key", "value")
    search_fields = ("key",)
