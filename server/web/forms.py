"""Forms of the dashboards. They only shape input: the rules live in cargo.services."""

import re

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from server import codes, inputs
from server.cargo.models import Client, Colis, Lot, TypeLot
from sync.models import ColisTask, Status

CODES = codes.FIELD  # error codes the domain returns, as sentences for people
RECENT_COLIS = 200  # the retry form suggests the clients of the agent's last colis
FILTER_STATUSES = [(s.value, s.label) for s in Status if s != Status.CANCELLED]


class BoardFilter(forms.Form):
    lot = forms.TypedChoiceField(label=_("Lot"), required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(label=_("Statut"), required=False,
                               choices=[("", _("Tous"))] + FILTER_STATUSES)

    def __init__(self, *args, lots=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lot"].choices = [("", _("Tous"))] + [(lot.pk, str(lot)) for lot in lots]

    def apply(self, tasks):
        """`tasks` narrowed to the chosen lot and status (all of them when the form is bad)."""
        if not self.is_valid():
            return tasks
        if self.cleaned_data["lot"]:
            tasks = tasks.filter(lot_id=self.cleaned_data["lot"])
        if self.cleaned_data["status"]:
            tasks = tasks.filter(status=self.cleaned_data["status"])
        return tasks


class OpenLotForm(forms.Form):
    type_lot = forms.ChoiceField(label=_("Type de lot"), choices=TypeLot.choices)


def client_label(client: Client) -> str:
    """How a client is written in the retry form: readable, and read back by its (#id)."""
    return f"{client} · {client.telephone} (#{client.pk})"


class ClientField(forms.CharField):
    """A client by name, phone or number, typed: a forwarder has thousands of clients, too
    many for a <select>. "(#12)" or a bare 12 is that client's number; other text must match
    one client only, each word in the nom, prénom or téléphone."""

    def to_python(self, value) -> int | None:
        text = super().to_python(value).strip()
        if not text:
            return None
        tagged = re.search(r"#(\d+)\)?$", text)
        pk = inputs.row_id(tagged.group(1) if tagged else text)
        if pk is not None and Client.objects.filter(pk=pk).exists():
            return pk
        words = Q()
        for word in text.split():
            words &= (Q(nom__icontains=word) | Q(prenom__icontains=word)
                      | Q(telephone__icontains=word))
        found = list(Client.objects.filter(words).values_list("pk", flat=True)[:2])
        if len(found) == 1:
            return found[0]
        raise forms.ValidationError(CODES["client_not_found"] if not found else
                                    _("Plusieurs clients correspondent : précisez le nom "
                                      "ou le téléphone."))


class RetryForm(forms.Form):
    """The task's data, editable; sent to sync.actions.retry_task, checked as a new item."""

    lot = forms.TypedChoiceField(label=_("Lot"), coerce=int, required=False)
    client = ClientField(label=_("Client"), required=False, widget=forms.TextInput(
        attrs={"list": "retry-clients", "autocomplete": "off"}))
    poids = forms.CharField(label=_("Poids (kg)"), required=False)
    longueur = forms.CharField(label=_("Longueur (cm)"), required=False)
    largeur = forms.CharField(label=_("Largeur (cm)"), required=False)
    hauteur = forms.CharField(label=_("Hauteur (cm)"), required=False)
    mode_paiement = forms.ChoiceField(label=_("Mode de paiement"), required=False,
                                      choices=Colis.ModePaiement.choices)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(
        attrs={"rows": 2}))

    def __init__(self, task: ColisTask, *args, **kwargs):
        data = task.colis_data
        current = Client.objects.filter(pk=inputs.row_id(data.get("client"))).first()
        kwargs.setdefault("initial", {**data, "lot": task.lot_id,
                                      "client": client_label(current) if current else ""})
        super().__init__(*args, **kwargs)
        if task.operation == ColisTask.Operation.CREATE:
            lots = Lot.objects.filter(statut=Lot.Statut.OUVERT) | Lot.objects.filter(
                pk=task.lot_id)
            self.fields["lot"].choices = [(lot.pk, str(lot)) for lot in lots.order_by("-pk")]
        else:
            del self.fields["lot"]
        recent = (Colis.objects.filter(created_by_id=task.initiated_by_id).order_by("-pk")
                  .values_list("client_id", flat=True)[:RECENT_COLIS])
        self.client_options = [client_label(c) for c in Client.objects.filter(
            pk__in={*recent, *([current.pk] if current else [])}).order_by("nom", "prenom")]
        self.operation = task.operation

    def payload(self) -> dict:
        """The corrected fields as a device would send them (text, ids as numbers)."""
        data = dict(self.cleaned_data)
        if self.operation == ColisTask.Operation.UPDATE:  # an edit sends what it changes
            return {k: v for k, v in data.items() if v not in (None, "")}
        data["lot_op_id"] = ""  # the chosen lot wins over an offline-opened one
        return data

    def add_domain_errors(self, errors: dict) -> None:
        for name, messages in errors.items():
            messages = messages if isinstance(messages, list) else [messages]
            texts = [codes.render(m) for m in messages]
            self.add_error(name if name in self.fields else None, texts)
