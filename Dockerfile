# syntax=docker/dockerfile:1
#
# meetingd container image: a static Go binary on a distroless base, running as
# an unprivileged user. Build from the repository root:
#
#   docker build -t meetingd:local .
#   docker run --rm -p 8080:8080 -v meetingd-data:/data \
#     -e MEETINGD_WEBHOOK_USER=cometchat -e MEETINGD_WEBHOOK_PASSWORD=… meetingd:local
#
# The final image has no shell and no HTTP client, so there is no HEALTHCHECK
# instruction: orchestrators probe the service over HTTP instead — GET /healthz
# (liveness: the process answers) and GET /readyz (readiness: the event store and
# read models are reachable; 503 otherwise). deploy/README.md shows how Compose,
# Kubernetes and the Caddy reverse proxy do it.

ARG GO_VERSION=1.27.3

# ---- build ------------------------------------------------------------------
# Runs on the build machine's platform and cross-compiles for the target one.
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src

# Modules first, so that source edits do not invalidate the download layer.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download

COPY . .
ARG TARGETOS=linux
ARG TARGETARCH=amd64
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w" -o /out/meetingd ./cmd/meetingd \
 && mkdir -p /out/data

# ---- runtime ----------------------------------------------------------------
# distroless/static: CA certificates and tzdata, no shell, no package manager;
# the :nonroot tag runs as uid/gid 65532. Pin it by digest in production
# (docker buildx imagetools inspect gcr.io/distroless/static-debian12:nonroot).
FROM gcr.io/distroless/static-debian12:nonroot

COPY --from=build /out/meetingd /usr/local/bin/meetingd
# The data directory (embedded event store, read models, checkpoints) belongs
# to the unprivileged user; a new volume mounted here inherits that ownership.
COPY --from=build --chown=65532:65532 /out/data /data

ENV MEETINGD_ADDR=0.0.0.0:8080 \
    MEETINGD_DATA_DIR=/data

USER 65532:65532
EXPOSE 8080
VOLUME ["/data"]

# serve stops on SIGTERM (Docker's default stop signal): it stops intake,
# finishes in-flight appends and saves checkpoints. Give it time to do so
# (docker stop -t 30, Compose stop_grace_period, Kubernetes
# terminationGracePeriodSeconds).
ENTRYPOINT ["/usr/local/bin/meetingd"]
CMD ["serve"]
