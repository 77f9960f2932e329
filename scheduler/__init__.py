"""Short periodic ticks (APScheduler) that claim due rows from the database (design.md rule 4)."""
