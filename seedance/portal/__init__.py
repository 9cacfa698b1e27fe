"""The web portal for end users and tenant admins: server-rendered pages with htmx."""
