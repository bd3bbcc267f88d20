from django.urls import path

from server.cargo.api import LeaseView

from . import api

urlpatterns = [
    path("sync/", api.SyncBatchView.as_view(), name="sync-batch"),
    path("sync/changes", api.ChangesView.as_view(), name="sync-changes"),
    path("tasks/", api.TaskList.as_view(), name="task-list"),
    path("tasks/<uuid:task_id>/", api.TaskDetail.as_view(), name="task-detail"),
    path("tasks/<uuid:task_id>/retry/", api.TaskRetry.as_view(), name="task-retry"),
    path("tasks/<uuid:task_id>/cancel/", api.TaskCancel.as_view(), name="task-cancel"),
    path("devices/report/", api.DeviceReportView.as_view(), name="device-report"),
    path("leases/", LeaseView.as_view(), name="device-leases"),
    path("health/", api.HealthView.as_view(), name="health"),
]
