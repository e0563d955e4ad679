# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
RUN useradd --system --uid 10001 kubelearn \
    && DEBUG=1 SECRET_KEY=collectstatic-only KUBELEARN_VAR_DIR=/tmp/var python manage.py collectstatic --noinput \
    && mkdir -p /app/var && chown -R kubelearn /app/var
USER kubelearn

EXPOSE 8000
CMD ["gunicorn", "kubelearn.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60", "--access-logfile", "-"]
