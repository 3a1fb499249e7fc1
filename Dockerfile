# fishhook as a container: the service only (PostgreSQL comes from docker-compose or your own).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FISHHOOK_HOST=0.0.0.0 \
    FISHHOOK_PORT=8000

WORKDIR /srv
# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir app && touch app/__init__.py && pip install . && pip uninstall -y fishhook
COPY app ./app
COPY migrations ./migrations
COPY alembic.ini ./
RUN pip install --no-deps -e . && useradd --system --no-create-home fishhook
USER fishhook

EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
# `serve` applies migrations (a no-op once the migrate step has run), then runs uvicorn.
CMD ["fishhook", "serve"]
