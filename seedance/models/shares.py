"""Links that show one video to anyone holding them, until they expire or are revoked."""

from django.conf import settings
from django.db import models

from seedance.models.runs import OutputFile
from seedance.tenancy import TenantQuerySet


class ShareLink(models.Model):
    """One video, shown without sign-in while the link lasts.

    The token is given out once and stored as a SHA-256 digest, as API keys are; every use
    re-checks the video's moderation, retention and deletion and the tenant's standing
    (seedance.services.shares).
    """

    output_file = models.ForeignKey(
        OutputFile, on_delete=models.CASCADE, related_name="share_links"
    )
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()
    tenant_lookup = "output_file__run__tenant"

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"share link {self.pk} of {self.output_file}"
