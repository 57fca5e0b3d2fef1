# Vigie: one image for the web, worker and release processes.
#   docker build -t vigie .
#   docker run --env-file .env vigie vigie db upgrade
#   docker run --env-file .env -p 3000:3000 vigie            # HTTP mode (vigie web)
#   docker run --env-file .env vigie vigie worker            # scheduler
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PORT=3000 \
    VIGIE_LOG_FORMAT=json MPLCONFIGDIR=/tmp/matplotlib

RUN useradd --create-home --uid 10001 vigie
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY alembic ./alembic
# Editable install: migrations are read from /app/alembic next to the packages.
RUN pip install -e '.[postgres]'

USER vigie
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c \
    "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz')"
CMD ["sh", "-c", "vigie web --port ${PORT}"]
