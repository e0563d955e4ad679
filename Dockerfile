# One image for web, worker and beat (docker-compose.yml picks the command).
# Runtime requirements only: the test and lint tools (requirements-dev.txt) stay out of it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
# Bytecode compiled into the image: PYTHONDONTWRITEBYTECODE keeps containers from writing it at
# run time, so without this every process start (each gunicorn worker, the worker, beat,
# poll_feeds) would compile the project's modules from source again.
RUN python -m compileall -q catalog kubelearn learn recommender manage.py
# Static files are built with the production storage (DEBUG=0), which writes the manifest that
# the DEBUG=0 containers look names up in; tests/test_deployment.py runs this same line.
RUN useradd --system --uid 10001 kubelearn \
    && DEBUG=0 SECRET_KEY=collectstatic-only KUBELEARN_VAR_DIR=/tmp/var python manage.py collectstatic --noinput \
    && mkdir -p /app/var && chown -R kubelearn /app/var
USER kubelearn

EXPOSE 8000
CMD ["gunicorn", "kubelearn.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60", "--access-logfile", "-"]
