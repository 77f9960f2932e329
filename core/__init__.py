"""The domain of the МЦУ: intake, routing, lifecycle, deadlines, reports.

Nothing here imports aiogram or aiohttp (design.md rule 1).
"""
