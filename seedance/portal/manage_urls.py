from django.urls import path

from seedance.portal.placeholder import not_built_yet

urlpatterns = [
    path("", not_built_yet, name="manage"),
]
