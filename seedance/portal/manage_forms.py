"""Forms for the tenant admin pages: input checks only; the rules live in the services."""

from django import forms

from seedance.models import ApiKey, Membership, Tenant
from seedance.webhooks.endpoints import DESCRIPTION_MAX_CHARS, URL_MAX_CHARS
from seedance.webhooks.events import EVENT_TYPES


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(
        label="Key name",
        max_length=ApiKey._meta.get_field("name").max_length,
        help_text="Where the key is used, e.g. “Production server”.",
        widget=forms.TextInput(attrs={"id": "key-name", "autocomplete": "off"}),
    )


class InvitationForm(forms.Form):
    email = forms.EmailField(
        label="Email",
        max_length=254,
        help_text="They get an email naming you and this tenant; they join once they accept.",
        widget=forms.EmailInput(attrs={"id": "invite-email", "autocomplete": "off"}),
    )
    role = forms.ChoiceField(
        choices=Membership.Role.choices,
        initial=Membership.Role.MEMBER,
        widget=forms.Select(attrs={"id": "invite-role"}),
    )


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)


#: A hundred years; more would overflow the dates computed from it (a 500, not a form error).
RETENTION_DAYS_MAX = 36_500


class TenantSettingsForm(forms.Form):
    name = forms.CharField(max_length=Tenant._meta.get_field("name").max_length)
    output_retention_days = forms.IntegerField(
        label="Keep videos for (days)",
        required=False,
        min_value=1,
        max_value=RETENTION_DAYS_MAX,
        help_text="Our copy of each video is deleted after this many days. Blank: keep forever.",
    )


class WebhookEndpointForm(forms.Form):
    """An endpoint's URL, events and note; the URL's reachability and the event types are
    the service's to judge (its errors are put next to these fields)."""

    url = forms.CharField(
        label="URL",
        max_length=URL_MAX_CHARS,
        help_text="An https URL on the public internet that answers POST requests.",
        widget=forms.URLInput(
            attrs={"id": "webhook-url", "autocomplete": "off", "placeholder": "https://"}
        ),
    )
    events = forms.MultipleChoiceField(
        label="Events",
        required=False,
        choices=list(EVENT_TYPES.items()),
        widget=forms.CheckboxSelectMultiple(attrs={"class": "webhook-event"}),
    )
    description = forms.CharField(
        label="Description",
        required=False,
        max_length=DESCRIPTION_MAX_CHARS,
        help_text="For your team, e.g. “Production app”.",
        widget=forms.TextInput(attrs={"id": "webhook-description", "autocomplete": "off"}),
    )

    def add_service_errors(self, fields: dict[str, list[str]]) -> None:
        """The service's field errors beside their fields (any other above the form)."""
        for name, field_messages in fields.items():
            self.add_error(name if name in self.fields else None, field_messages)


class WebhookEndpointEnabledForm(forms.Form):
    enabled = forms.TypedChoiceField(
        choices=[("true", "Enable"), ("false", "Disable")], coerce=lambda value: value == "true"
    )
