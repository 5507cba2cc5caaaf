# numerai-autopilot: one run per container start (ENTRYPOINT numerai-autopilot, CMD run).
#   docker build -t numerai-autopilot .                          # all model libraries + notify
#   docker build --build-arg EXTRAS=lightgbm -t numerai-autopilot .   # only what your models use
# Sizes per EXTRAS choice: docs/deploy.md (the default about 1.2 GB, lightgbm alone about 0.8).
# EXTRAS: comma-separated extras of pyproject.toml (lightgbm, xgboost, catboost, onnx,
# models = the four libraries); empty for pickled sklearn estimators and ready prediction files.
# apprise (notify) is always installed: an image that dropped it would lose alerts silently.
# No secret is ever built in: keys come at run time (NUMERAI_*_FILE or environment).
# Pin the base by digest for reproducible builds: --build-arg PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:...
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ARG EXTRAS=models,notify
# Never installed: catboost's plotting stack (its plot and widget helpers need it; loading and
# predicting do not), about 170 MB of the image.
ARG EXCLUDE="matplotlib plotly graphviz"
ARG UV_VERSION=0.13.9
# uv trusts the system store (the base's ca-certificates) as pip does: a build behind a proxy
# with its own CA mounts that bundle over it (-v ca.crt:/etc/ssl/certs/ca-certificates.crt:ro).
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_SYSTEM_CERTS=1 \
    UV_NO_CACHE=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never
RUN pip install --no-cache-dir "uv==${UV_VERSION}" \
    && uv venv --python /usr/local/bin/python3 /opt/venv
WORKDIR /src
# Dependencies first (their layer survives source edits): the runtime requirements of the
# chosen extras, each at the version pinned in requirements.lock (the lock also holds dev tools;
# as constraints it pins versions without installing anything the extras do not need).
COPY pyproject.toml requirements.lock README.md ./
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# SC2086: the --extra flags are split into words on purpose.
# hadolint ignore=SC2086
RUN extras="--extra notify"; \
    for e in $(echo "${EXTRAS}" | tr ',' ' '); do extras="${extras} --extra ${e}"; done; \
    printf '%s\n' ${EXCLUDE} > /tmp/excludes.txt; \
    uv pip install --python /opt/venv/bin/python -r pyproject.toml ${extras} \
        --constraint requirements.lock --excludes /tmp/excludes.txt
COPY src ./src
RUN uv pip install --python /opt/venv/bin/python --no-deps . \
    && /opt/venv/bin/numerai-autopilot --help > /dev/null

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="numerai-autopilot" \
      org.opencontainers.image.description="Submits every Numerai model's predictions every round" \
      org.opencontainers.image.licenses="MIT"
# LightGBM's and XGBoost's wheels link the system OpenMP runtime. tini is PID 1: it passes
# SIGTERM on to the run (a process that is PID 1 ignores it) and reaps orphans.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 tini \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 autopilot \
    && useradd --system --uid 10001 --gid autopilot --create-home --home-dir /home/autopilot \
        --shell /usr/sbin/nologin autopilot \
    && mkdir -p /models /data \
    && chown autopilot:autopilot /data
COPY --from=build /opt/venv /opt/venv
# Bytecode was compiled at install; the root filesystem may be read-only at run time.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    NUMERAI_MODELS_DIR=/models \
    NUMERAI_DATA_DIR=/data \
    NUMERAI_LOG_FORMAT=json
USER 10001:10001
WORKDIR /home/autopilot
ENTRYPOINT ["/usr/bin/tini", "--", "numerai-autopilot"]
CMD ["run"]
