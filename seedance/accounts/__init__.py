"""People's accounts on django-allauth: the staff TOTP gate, account deletion, demo sign-ins."""
