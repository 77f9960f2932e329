FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    MCU_ADMIN_HOST=0.0.0.0 MCU_DATA_DIR=/app/data

WORKDIR /app
COPY pyproject.toml README.md babel.cfg ./
COPY mcu mcu
COPY core core
COPY db db
COPY bot bot
COPY admin admin
COPY scheduler scheduler
COPY sandbox sandbox
COPY locales locales

RUN pip install --no-cache-dir -e . \
    && pybabel compile --domain messages --directory locales \
    && useradd --create-home mcu && mkdir -p /app/data && chown mcu /app/data
USER mcu
VOLUME /app/data
EXPOSE 8080
CMD ["mcu", "run"]
