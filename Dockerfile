# go1sync as a service: `go1sync serve` (the Paris schedule) as a non-root user, the
# warehouse on a volume. Build: docker build -t go1sync .
# Run:   docker run -d --env-file go1sync.env -v go1sync-data:/var/lib/go1sync go1sync
FROM python:3.11-slim AS build
WORKDIR /src
COPY . .
RUN python -m pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
COPY --from=build /wheels /wheels
RUN python -m pip install --no-cache-dir /wheels/go1sync-*.whl && rm -rf /wheels \
    && useradd --system --create-home --home-dir /var/lib/go1sync --uid 10001 go1sync
USER go1sync
WORKDIR /var/lib/go1sync
ENV GO1SYNC_WAREHOUSE=/var/lib/go1sync/go1sync.duckdb \
    PYTHONUNBUFFERED=1
VOLUME ["/var/lib/go1sync"]
ENTRYPOINT ["go1sync"]
CMD ["serve"]
