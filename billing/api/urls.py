from django.urls import path

from billing.api import views

app_name = "billing_api"

urlpatterns = [
    path("usage", views.UsageApi.as_view(), name="usage"),
]
