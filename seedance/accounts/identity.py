"""Accounts made outside sign-up (the demo, tests): a verified address, which mandatory
verification needs before a first sign-in, and for staff a TOTP authenticator whose
secret the person can add to an authenticator app."""

from allauth.account.models import EmailAddress
from allauth.mfa.adapter import get_adapter
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from allauth.mfa.utils import decrypt
from django.contrib.auth.models import AbstractBaseUser, User
from django.db import transaction


def verified_email_set(*, user: User, email: str) -> None:
    """Make ``email`` the person's one primary, verified address."""
    with transaction.atomic():
        user.email = email
        user.save(update_fields=["email"])
        EmailAddress.objects.filter(user=user).exclude(email__iexact=email).delete()
        address, _ = EmailAddress.objects.get_or_create(user=user, email=email)
        address.verified = address.primary = True
        address.save(update_fields=["verified", "primary"])


def totp_secret_ensure(*, user: AbstractBaseUser) -> str:
    """The account's TOTP secret, enrolling a new authenticator only when it has none, so an
    authenticator app set up from an earlier demo keeps working."""
    existing = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if existing is not None:
        return str(decrypt(existing.data["secret"]))
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def totp_url(*, user: AbstractBaseUser, secret: str) -> str:
    """The otpauth:// URI an authenticator app imports (what allauth's QR code holds)."""
    return str(get_adapter().build_totp_url(user, secret))
