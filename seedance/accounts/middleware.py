"""Staff open the admin only with TOTP: allauth asks for the code at sign-in, this makes
sure there is one to ask for."""

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

ENROL_MESSAGE = (
    "Staff accounts need two-factor authentication: add an authenticator app here, "
    "then open the admin again."
)


class StaffTOTPRequiredMiddleware:
    """A signed-in staff account without an active TOTP authenticator that opens any admin
    page is sent to allauth's activate-TOTP page instead."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and user.is_staff
            and request.path.startswith(reverse("admin:index"))
            and not is_mfa_enabled(user, [Authenticator.Type.TOTP])
        ):
            messages.warning(request, ENROL_MESSAGE)
            return HttpResponseRedirect(reverse("mfa_activate_totp"))
        return self.get_response(request)
