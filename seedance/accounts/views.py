"""The account pages seedance serves itself (allauth serves the rest under /accounts/)."""

from typing import Any

from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.models import User
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.generic import FormView

from seedance.accounts.forms import AccountDeleteForm
from seedance.accounts.services import account_delete, account_deletion_blockers
from seedance.exceptions import AccountDeletionRefused
from seedance.models import Membership


class AccountDeleteView(LoginRequiredMixin, FormView[AccountDeleteForm]):
    """Confirm with the password; then the person is signed out for good."""

    template_name = "seedance/accounts/delete.html"
    form_class = AccountDeleteForm

    @property
    def account(self) -> User:
        user = self.request.user
        assert isinstance(user, User)  # LoginRequiredMixin turned the anonymous away
        return user

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.account
        return kwargs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["account_memberships"] = (
            Membership.objects.select_related("tenant")
            .filter(user=self.account)
            .order_by("tenant__name")
        )
        context["blocked_tenants"] = account_deletion_blockers(user=self.account)
        return context

    def post(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        # Password guesses here count like reauthentication attempts, per account.
        if not ratelimit.consume(request, action="reauthenticate", user=request.user):
            return ratelimit.respond_429(request)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: AccountDeleteForm) -> HttpResponse:
        try:
            account_delete(user=self.account)
        except AccountDeletionRefused as refused:
            form.add_error(None, refused.message)
            return self.form_invalid(form)
        logout(self.request)
        messages.success(self.request, "Your account is deleted.")
        return HttpResponseRedirect(reverse("account_login"))
