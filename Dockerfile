# syntax=docker/dockerfile:1
#
# One image with all three binaries; docker-compose.yml picks the entrypoint
# per service (worker, starter, or `ringback migrate`).

FROM golang:1.26.8-bookworm AS build
WORKDIR /src
ENV GOTOOLCHAIN=local CGO_ENABLED=0

# Module downloads get their own layer so that source edits do not refetch them.
COPY go.mod go.sum ./
RUN go mod download && go mod verify

COPY . .
RUN --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags='-s -w' -o /out/ ./worker ./starter ./cmd/ringback

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/worker /out/starter /out/ringback /usr/local/bin/
USER nonroot:nonroot
# Overridden per service in docker-compose.yml.
ENTRYPOINT ["/usr/local/bin/ringback"]
