"""Forms for the tenant admin pages: input checks only; the rules live in the services."""

from django import forms

from seedance.models import ApiKey, Membership, Tenant


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
