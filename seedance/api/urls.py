from django.urls import path

from seedance.api import views

app_name = "api"

urlpatterns = [
    path("runs", views.RunCollectionApi.as_view(), name="runs"),
    path("runs/<str:run_id>", views.RunDetailApi.as_view(), name="run-detail"),
    path("runs/<str:run_id>/cancel", views.RunCancelApi.as_view(), name="run-cancel"),
]
