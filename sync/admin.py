from django.contrib import admin

from . import actions
from .models import ColisTask, TaskEvent, Upload


class TaskEventInline(admin.TabularInline):
    model = TaskEvent
    extra = 0
    readonly_fields = ("from_status", "to_status", "at", "by", "message")
    can_delete = False


@admin.action(description="Relancer les tâches en échec sélectionnées")
def retry_selected(modeladmin, request, queryset):
    count = actions.bulk_retry(queryset, request.user)
    modeladmin.message_user(request, f"{count} tâche(s) relancée(s).")


@admin.register(ColisTask)
class ColisTaskAdmin(admin.ModelAdmin):
    list_display = ("task_id", "operation", "status", "current_step", "progress_percentage",
                    "initiated_by", "lot", "colis", "retry_count", "created_at")
    list_filter = ("status", "operation")
    search_fields = ("task_id", "op_id", "colis__numero_suivi", "initiated_by__username")
    list_select_related = ("initiated_by", "lot", "colis")
    readonly_fields = [f.name for f in ColisTask._meta.fields]
    inlines = [TaskEventInline]
    actions = [retry_selected]


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    list_display = ("upload_id", "owner", "photo_id", "offset", "length", "expires_at",
                    "completed_at")
    search_fields = ("upload_id", "photo_id", "owner__username")
