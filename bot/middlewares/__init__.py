"""Middlewares: database session and deduplication, the user and roles, locale, throttling."""
