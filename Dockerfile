# Vigie: one image for the web, worker and release processes.
#   docker build -t vigie .
#   docker run --env-file .env -v vigie-data:/data -p 3000:3000 vigie   # HTTP mode (vigie web)
#   docker run --env-file .env -v vigie-data:/data vigie vigie run      # all in one (SQLite)
# The entrypoint (docker/entrypoint.sh) migrates the database before the command; with
# PostgreSQL and several containers, see docker-compose.yml (one migrate step first).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PORT=3000 \
    VIGIE_LOG_FORMAT=json MPLCONFIGDIR=/tmp/matplotlib VIGIE_DATA_DIR=/data

RUN useradd --create-home --uid 10001 vigie \
    && mkdir /data && chown vigie:vigie /data
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY alembic ./alembic
COPY docker/entrypoint.sh /usr/local/bin/vigie-entrypoint
# Editable install: migrations are read from /app/alembic next to the packages.
RUN pip install -e '.[postgres]'

USER vigie
# SQLite (the default) lives here; files the console mode saves too.
VOLUME /data
WORKDIR /data
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c \
    "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz')"
ENTRYPOINT ["/usr/local/bin/vigie-entrypoint"]
CMD ["sh", "-c", "exec vigie web --port ${PORT}"]
