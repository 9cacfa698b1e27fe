"""seedance's own account pages, beside allauth's under /accounts/ (namespace ``accounts``)."""

from django.urls import path

from seedance.accounts import views

app_name = "accounts"

urlpatterns = [
    path("delete/", views.AccountDeleteView.as_view(), name="delete"),
]
