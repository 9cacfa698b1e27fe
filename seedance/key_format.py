"""What an API key looks like, apart from the models, so the log redaction can know it
while logging is configured (before any app is loaded)."""

KEY_PREFIX = "sdk"
PREFIX_RANDOM_CHARS = 8
SECRET_CHARS = 40
