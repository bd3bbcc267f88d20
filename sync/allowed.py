"""What people may do to a task in each status: one table, read by the actions, the API and
the pages' buttons alike, so a button is shown exactly when its action would be accepted.

The state machine (sync/states.py) says which moves a task can make; this says which of
them a person may ask for. A cancelled or completed task is terminal: no action at all.
"""

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from .models import Status

S = Status
RETRY = "retry"  # send the task round again as it is
RETRY_WITH_DATA = "retry_with_data"  # again, with corrected fields
CANCEL = "cancel"
ACTIONS = (RETRY, RETRY_WITH_DATA, CANCEL)

_AFTER_A_FAILURE = frozenset({RETRY, RETRY_WITH_DATA, CANCEL})
_NONE: frozenset = frozenset()
TABLE: dict[str, frozenset] = {
    S.PENDING: frozenset({CANCEL}),  # not started: the job will find it cancelled and stop
    S.PROCESSING: _NONE,
    S.IMAGE_UPLOADING: _NONE,
    S.PRICE_CALCULATING: _NONE,
    S.NOTIFICATION_SENDING: _NONE,
    S.COMPLETED: _NONE,
    S.FAILED: _AFTER_A_FAILURE,
    S.FAILED_RETRY: _AFTER_A_FAILURE,
    S.FAILED_FINAL: _AFTER_A_FAILURE,
    S.CANCELLED: _NONE,
}
# An edit refused for a stale base version fails the same way each time it is sent again.
# Its way out is the tablet's resolution (a new edit on the current version, this task then
# cancelled as `conflict_resolved`, superseded by it) or a plain cancel.
NO_RETRY = frozenset({"version_conflict"})


def actions_for(status: str, error_code: str = "") -> frozenset:
    """The actions allowed on a task in `status` that failed with `error_code`."""
    allowed = TABLE[status]
    if error_code in NO_RETRY:
        allowed = allowed - {RETRY, RETRY_WITH_DATA}
    return allowed


def allows(task, action: str) -> bool:
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    return action in actions_for(task.status, task.error_code)


def statuses_allowing(action: str) -> frozenset:
    return frozenset(status for status, actions in TABLE.items() if action in actions)


def allowing(queryset: QuerySet, action: str) -> QuerySet:
    """The tasks of `queryset` on which `action` is allowed (a filter, for bulk actions)."""
    rows = queryset.filter(status__in=statuses_allowing(action))
    if action in (RETRY, RETRY_WITH_DATA):
        rows = rows.exclude(error_code__in=NO_RETRY)
    return rows


def refusal_code(task) -> str:
    """Why an action is refused: the task's status, or the failure a retry cannot mend
    (`version_conflict`)."""
    if task.status in statuses_allowing(RETRY) and task.error_code in NO_RETRY:
        return task.error_code
    return task.status


def refusal_message(code: str, action: str) -> str:
    """A refusal said to people, in the active language (the pages', the API's by
    Accept-Language)."""
    if code == S.CANCELLED:
        return _("Cette tâche a été annulée : c'est définitif, elle ne peut plus être "
                 "relancée ni annulée.")
    if code == S.COMPLETED and action == CANCEL:
        return _("Cette tâche est terminée : elle ne peut plus être annulée.")
    if code == S.COMPLETED:
        return _("Cette tâche est terminée : il n'y a rien à relancer.")
    if code == "version_conflict":
        return _("Le colis a changé depuis cette modification : la relancer échouerait "
                 "encore. Résolvez le conflit sur la tablette, ou annulez la tâche.")
    if action == CANCEL:
        return _("Cette tâche est en cours de traitement : elle ne peut plus être annulée.")
    return _("Cette tâche n'a pas échoué : il n'y a rien à relancer.")
