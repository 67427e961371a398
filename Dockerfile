# The production image: web (gunicorn), worker and beat all run from it.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_PYTHON_DOWNLOADS=never \
    PATH="/opt/venv/bin:$PATH"

RUN pip install --no-cache-dir "uv==0.13.9" \
 && useradd --create-home --uid 10001 clinic

WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

COPY . .
# Static files are collected at build time; the build needs no secrets.
RUN DJANGO_SETTINGS_MODULE=config.settings.production SECRET_KEY=collectstatic-only \
    ALLOWED_HOSTS=build python manage.py collectstatic --noinput \
 && mkdir -p /app/var && chown -R clinic /app/var

USER clinic
ENV DJANGO_SETTINGS_MODULE=config.settings.production
EXPOSE 8000
# Workers, threads, timeouts, header limits and the one proxy address trusted with
# X-Forwarded-Proto: config/gunicorn.py. Serve it behind the proxy (compose: proxy).
CMD ["gunicorn", "config.wsgi:application", "-c", "config/gunicorn.py"]
