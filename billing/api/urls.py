from django.urls import path

from billing.api import prices, views

app_name = "billing_api"

urlpatterns = [
    path("usage", views.UsageApi.as_view(), name="usage"),
    path("prices/estimate", prices.PriceEstimateApi.as_view(), name="price-estimate"),
    path("limits", prices.LimitsApi.as_view(), name="limits"),
]
