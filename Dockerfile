# Multi-stage build: a static, CGO-free binary (modernc.org/sqlite is pure Go)
# on a distroless-like scratch image, running as a non-root user.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/patchgate ./cmd/patchgate \
 && mkdir -p /out/data

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/patchgate /patchgate
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
WORKDIR /data
ENV PATCHGATE_LISTEN=0.0.0.0:8080 \
    PATCHGATE_DATABASE=sqlite:///data/patchgate.db
ENTRYPOINT ["/patchgate"]
CMD ["serve"]
