"""REST API v1 for tenant apps."""
