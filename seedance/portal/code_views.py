"""The create page's copy-as-code panel, re-rendered by htmx as the form changes."""

from typing import Any
from uuid import uuid4

from django.views.generic import TemplateView

from seedance.portal.access import PortalMixin
from seedance.portal.code_samples import code_samples
from seedance.portal.forms import RunForm

CODE_TEMPLATE = "seedance/portal/_code_samples.html"


def code_samples_context(inputs: dict[str, Any]) -> dict[str, Any]:
    """A fresh Idempotency-Key per page: a copied request repeated makes one run."""
    return {"code_samples": code_samples(inputs, idempotency_key=str(uuid4()))}


class RunCodeView(PortalMixin, TemplateView):
    template_name = CODE_TEMPLATE

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(code_samples_context(RunForm(self.request.GET).draft_input_data()))
        return context
