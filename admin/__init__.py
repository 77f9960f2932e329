"""The admin web: aiohttp + jinja2, server-rendered pages for staff."""
