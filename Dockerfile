# The image of every service: its web process, Celery worker and outbox relay all run from it.
# Build context: the repository root; SERVICE and PORT are a service of edge/edge/service_table.py
# and its port (the build refuses any other pair):
#   docker build --build-arg SERVICE=catalog --build-arg PORT=8002 -t commerce/catalog .
# compose.yml builds all four this way.

# --- builder: the locked dependencies (requirements.txt, every hash checked) and edge, in a venv ---
FROM python:3.12-slim AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

RUN python -m venv /opt/venv
# Dependencies first, so that a change to edge or a service's code reuses this layer.
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install --require-hashes -r /tmp/requirements.txt
# edge's own dependencies are in the lock: --no-deps keeps anything unlocked out.
COPY edge/ /tmp/edge/
RUN /opt/venv/bin/pip install --no-deps /tmp/edge && /opt/venv/bin/pip check

# --- runtime: the venv and the one service's code, run by a user of its own --------------------
FROM python:3.12-slim

ARG SERVICE
ARG PORT

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    PORT=${PORT}

COPY --from=builder /opt/venv /opt/venv
RUN python -c "from edge.service_table import service_named; \
assert service_named('${SERVICE}').port == int('${PORT}'), 'PORT is not the table port of ${SERVICE}'"

COPY ${SERVICE}_service/ /app/
WORKDIR /app

# Settings read secrets and auth's key path at import; collectstatic needs none of them for real
# (JWT_PRIVATE_KEY_DIR is auth's alone; the others' settings leave it unread).
RUN DJANGO_SECRET_KEY=build \
    DATABASE_URL=sqlite:///:memory: \
    JWT_PRIVATE_KEY_DIR=/dev/null \
    python manage.py collectstatic --noinput

# A uid of its own for each service (10000 + its port): none may read another's files (auth's
# keys are in a volume only auth mounts, and 0700 besides). An empty named volume takes the owner
# of the folder it is mounted on, so the folder a service writes to is made here: auth's
# signing keys.
RUN useradd --system --uid "$((10000 + PORT))" --no-create-home --shell /usr/sbin/nologin app \
    && if [ "$SERVICE" = auth ]; then install -d -o app /keys; fi
USER app

EXPOSE ${PORT}
# The web process; compose runs the worker and the relay from the same image with their own command.
CMD exec gunicorn config.wsgi -c python:edge.gunicorn -b "0.0.0.0:${PORT}"
