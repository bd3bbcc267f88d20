from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import Device, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = BaseUserAdmin.fieldsets + (("Colis sync", {"fields": ("role", "warehouse")}),)
    list_display = ("username", "first_name", "last_name", "role", "warehouse", "is_active")
    list_filter = ("role", "warehouse", "is_active", "is_staff")


@admin.action(description="Révoquer les jetons sélectionnés")
def revoke_devices(modeladmin, request, queryset):
    for device in queryset:
        device.revoke()


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "token_prefix", "created_at", "last_seen_at", "revoked_at",
                    "outbox_pending")
    list_filter = ("revoked_at",)
    search_fields = ("name", "user__username", "token_prefix")
    readonly_fields = ("token_prefix", "created_at", "last_seen_at", "outbox_pending",
                       "oldest_pending_at", "outbox_reported_at")
    actions = [revoke_devices]
