"""The usage page's CSV download, scoped as the page is (members: their own runs only)."""

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views import View

from billing.portal.services import month_bounds, person_end_user_id
from billing.portal.usage_export import usage_csv, usage_rows
from seedance.models import Membership
from seedance.portal.access import PortalMixin


class UsageCsvView(PortalMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        membership = self.membership
        is_admin = membership.role == Membership.Role.ADMIN
        end_user_id = None if is_admin else person_end_user_id(user_id=membership.user_id)
        start, end = month_bounds(timezone.now())
        rows = usage_rows(tenant=membership.tenant, start=start, end=end, end_user_id=end_user_id)
        response = HttpResponse(usage_csv(rows), content_type="text/csv; charset=utf-8")
        filename = f"usage-{start:%Y-%m}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
