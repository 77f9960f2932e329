"""The Telegram bot: aiogram routers per audience, middlewares, FSM storage."""
