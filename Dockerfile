# The Retail Pulse service image, built by compose.yaml (`docker compose up --build`).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

COPY pyproject.toml README.md ./
COPY service ./service
COPY sql ./sql
COPY scripts ./scripts
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /app app \
    && mkdir -p /app/var \
    && chown app /app/var

USER app
EXPOSE 8001
# `python -m service` from /app imports the source tree beside sql/ (service.config.SQL_DIR).
CMD ["python", "-m", "service", "serve"]
