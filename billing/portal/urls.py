from django.urls import path

from seedance.portal.placeholder import not_built_yet

app_name = "billing_portal"

urlpatterns = [
    path("usage/", not_built_yet, name="usage"),
    path("usage/estimate/", not_built_yet, name="estimate"),
    path("manage/caps/", not_built_yet, name="caps"),
]
