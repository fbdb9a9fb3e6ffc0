# syntax=docker/dockerfile:1
# taskd, loadgen and chaos in one Debian 12 image: a builder stage with the -dev packages compiles
# them with the repository's Makefile; the runtime stage holds only the shared libraries, runs as an
# unprivileged user and starts through stack/taskd/entrypoint.sh, which refuses a database path that
# is not a regular file (a Docker bind mount of a missing host file makes it a directory) before
# taskd starts. Build context: the repository root (stack/docker-compose.yml sets it).
#   docker build -f stack/taskd.Dockerfile -t taskbench/taskd .            # taskd
#   docker build -f stack/taskd.Dockerfile --target loadgen -t taskbench/loadgen .

FROM debian:bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        gcc libc6-dev make pkg-config \
        libmicrohttpd-dev libsqlite3-dev libcjson-dev libcurl4-openssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY scripts/ scripts/
COPY common/ common/
COPY service/ service/
COPY loadgen/ loadgen/
COPY chaos/ chaos/
# chaos drives lossyfs through its control socket (lossyfs/include/control.h); the FUSE file
# system itself is not built here.
COPY lossyfs/ lossyfs/
# No .git in the context: the version comes from the build argument instead of git describe.
# The three programs only: `make all` also builds lossyfs (FUSE) and the Node.js validator.
ARG TASKBENCH_VERSION=docker
RUN make -j"$(nproc)" BUILD=/out VERSION="$TASKBENCH_VERSION" \
        /out/bin/taskd /out/bin/loadgen /out/bin/chaos \
    && /out/bin/taskd --version

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libmicrohttpd12 libsqlite3-0 libcjson1 libcurl4 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*
# A fixed uid/gid, so a host directory can be prepared for it: chown 10001:10001 data
RUN groupadd --system --gid 10001 taskd \
    && useradd --system --uid 10001 --gid taskd --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin taskd \
    && mkdir -p /data /var/log/taskd \
    && chown taskd:taskd /data \
    && chmod 1777 /var/log/taskd
COPY --from=build /out/bin/taskd /out/bin/loadgen /out/bin/chaos /usr/local/bin/
COPY stack/taskd/entrypoint.sh /usr/local/bin/taskd-entrypoint
ENV TASKD_LISTEN=0.0.0.0:5000 \
    TASKD_DB=/data/tasks.db \
    TASKD_LOG_FILE=/var/log/taskd/taskd.log
# Deliberately no VOLUME for /data or the database file: an anonymous volume on the file's path is
# how the original app's tasks.db turned into a directory. Mount the directory: -v "$PWD/data:/data".
USER 10001:10001
WORKDIR /data
EXPOSE 5000
# /livez, not /readyz: a database fault is reported by /readyz, metrics and alerts, while restarting
# the container would not fix a bind mount; liveness only says the process still serves HTTP.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:5000/livez"]
ENTRYPOINT ["/usr/local/bin/taskd-entrypoint"]
CMD ["taskd"]

# loadgen in the same image; it has no health endpoint of its own.
FROM runtime AS loadgen
HEALTHCHECK NONE
ENTRYPOINT ["/usr/local/bin/loadgen"]
CMD ["--help"]

# The default target (docker build without --target) is taskd.
FROM runtime
