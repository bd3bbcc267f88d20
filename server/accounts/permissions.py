from rest_framework.permissions import BasePermission


class CanRegisterColis(BasePermission):
    """Writes of colis and lots: agents (and admins)."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.can_register_colis)


class IsSupervisor(BasePermission):
    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_supervisor)
