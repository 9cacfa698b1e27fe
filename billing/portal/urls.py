"""billing's portal pages, linked from seedance's templates by URL name only."""

from django.urls import path

from billing.portal import billing_views, export_views, views

app_name = "billing_portal"

urlpatterns = [
    path("usage/", views.UsageView.as_view(), name="usage"),
    path("usage/usage.csv", export_views.UsageCsvView.as_view(), name="usage-csv"),
    path("usage/estimate/", views.EstimateView.as_view(), name="estimate"),
    path("usage/invoice/", views.InvoicePreviewView.as_view(), name="invoice-preview"),
    path("usage/runs/<uuid:run_id>/", views.RunCostView.as_view(), name="run-cost"),
    path("manage/caps/", views.CapsView.as_view(), name="caps"),
    path("manage/billing/", billing_views.BillingView.as_view(), name="billing"),
    path("manage/billing/checkout/", billing_views.CheckoutStartView.as_view(), name="checkout"),
    path(
        "manage/billing/checkout/done/",
        billing_views.CheckoutDoneView.as_view(),
        name="checkout-done",
    ),
    path(
        "manage/billing/portal/",
        billing_views.CustomerPortalView.as_view(),
        name="customer-portal",
    ),
    path("manage/caps/end-users/", views.EndUserLimitAddView.as_view(), name="end-user-limit-add"),
    path(
        "manage/caps/end-users/<int:limit_id>/remove/",
        views.EndUserLimitRemoveView.as_view(),
        name="end-user-limit-remove",
    ),
]
