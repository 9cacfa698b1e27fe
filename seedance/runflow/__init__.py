"""Everything that speaks Runflow: the outbound client, payload parsing and signing."""
