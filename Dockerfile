# mim-metrics: a static binary in a minimal image, run as a non-root user.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/mim-metrics ./cmd/mim-metrics

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/mim-metrics /usr/local/bin/mim-metrics
# The report file and the state (Cluster ID of clusters without one) go here.
WORKDIR /var/lib/mim-metrics
ENV MIM_METRICS_REPORT_FILE=/var/lib/mim-metrics/system_metrics_report.json \
    MIM_METRICS_STATE_DIR=/var/lib/mim-metrics/state
USER nonroot:nonroot
ENTRYPOINT ["mim-metrics"]
CMD ["run"]
