from django.contrib import admin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("colis", "event", "channel", "status", "attempts", "sent_at")
    list_filter = ("status", "event", "channel")
    search_fields = ("colis__numero_suivi",)
