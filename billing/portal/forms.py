"""Forms for the tenant admin's caps page: blank means no cap, negative is refused."""

from django import forms

from billing.models import EndUserLimit


def _money_field(label: str, help_text: str, *, required: bool = False) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=0,
        max_digits=14,
        decimal_places=6,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
    )


#: Far above any real concurrency, far below the column's 2**31 - 1 (a DB overflow is a 500).
IN_FLIGHT_MAX = 100_000


class CapsForm(forms.Form):
    monthly_spend_cap = _money_field(
        "Monthly spend cap (USD)", "The whole tenant, per UTC month. Blank: no cap."
    )
    max_in_flight_runs = forms.IntegerField(
        label="Runs in flight at once",
        required=False,
        min_value=0,
        max_value=IN_FLIGHT_MAX,
        help_text="Queued or running together. Blank: no cap.",
        widget=forms.NumberInput(attrs={"min": "0", "inputmode": "numeric"}),
    )
    end_user_monthly_spend_cap = _money_field(
        "Per end user monthly cap (USD)",
        "Default for each end user (an API end_user_id or a portal person). Blank: no cap.",
    )


class EndUserLimitForm(forms.Form):
    end_user_id = forms.CharField(
        label="End user id",
        max_length=EndUserLimit._meta.get_field("end_user_id").max_length,
        help_text='As your app sends it, or a person\'s "portal:…" id.',
    )
    monthly_spend_cap = _money_field("Monthly cap (USD)", "", required=True)


class BillingEmailForm(forms.Form):
    email = forms.EmailField(
        label="Billing email",
        max_length=254,
        help_text="Stripe sends invoices and receipts here.",
    )
