# The JWT auth server as a small image: build in a full Rust image, run in Debian slim as a
# non-root user. `docker build -t jwt-auth-server .`; docker-compose.yml shows how to run it.
# deploy/test-compose runs this file's build and run commands on the host (no Docker engine).

FROM rust:1-slim-bookworm AS build
# pq-sys builds libpq into the binary but links the system OpenSSL (PostgreSQL over TLS).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libssl-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p server --bins

FROM debian:bookworm-slim AS runtime
# libssl3: the only library the binaries need beyond libc; ca-certificates: TLS to the database.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libssl3 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin app
COPY --from=build /src/target/release/server /src/target/release/manage /usr/local/bin/
WORKDIR /app
COPY settings.toml /app/settings.toml
USER app
# Secrets (SECRET_KEY, DATABASE_URL) come from the environment at run time, never the image.
ENV SERVER__BIND=0.0.0.0:8000
EXPOSE 8000
# The master stops gracefully on TERM (what `docker stop` sends); give it GRACEFUL_TIMEOUT (30 s)
# with `docker stop -t 35` or compose's stop_grace_period.
STOPSIGNAL SIGTERM
# Liveness without curl in the image: bash's /dev/tcp.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8000 && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["server"]
CMD []
