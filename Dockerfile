# syntax=docker/dockerfile:1
#
# One small image with all three binaries (starter and `ringback migrate`), and a
# worker image that also carries pg_dump for the backup schedule.

FROM golang:1.26.8-bookworm AS build
WORKDIR /src
ENV GOTOOLCHAIN=local CGO_ENABLED=0

# Module downloads get their own layer so that source edits do not refetch them.
COPY go.mod go.sum ./
RUN go mod download && go mod verify

COPY . .
RUN --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags='-s -w' -o /out/ ./worker ./starter ./cmd/ringback

# The worker takes the database backups, so it needs pg_dump of the server's major version; the
# official PostgreSQL image has exactly that (docker-compose.yml runs postgres:16).
FROM postgres:16-bookworm AS worker
COPY --from=build /out/worker /out/ringback /usr/local/bin/
USER postgres
ENTRYPOINT ["/usr/local/bin/worker"]

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/worker /out/starter /out/ringback /usr/local/bin/
USER nonroot:nonroot
# Overridden per service in docker-compose.yml.
ENTRYPOINT ["/usr/local/bin/ringback"]
