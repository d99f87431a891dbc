# Multi-stage build, for machines that can pull golang:1.26: a static, CGO-free
# binary (modernc.org/sqlite is pure Go) in a scratch image, as user 65532.
# Without a registry, build the same image around a host-built binary with
# `make docker-local` (Dockerfile.local); keep the two in step.
#
#   docker build --build-arg VERSION=v1.2.3 -t patchgate:v1.2.3 .   (or: make docker)
#
# The image runs suites through a Docker daemon: mount its socket and add the
# socket's group (see README, "Deployment").
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/patchgate ./cmd/patchgate \
 && mkdir -p /out/data /out/rootfs/etc/ssl/certs \
 && mkdir -m 1777 /out/rootfs/tmp \
 && cp /etc/ssl/certs/ca-certificates.crt /out/rootfs/etc/ssl/certs/ \
 && printf 'root:x:0:0:root:/root:/sbin/nologin\npatchgate:x:65532:65532:patchgate:/data:/sbin/nologin\n' >/out/rootfs/etc/passwd \
 && printf 'root:x:0:\npatchgate:x:65532:\n' >/out/rootfs/etc/group

FROM scratch
# The CA bundle (HTTPS to the forges), passwd/group naming 65532, /tmp (1777).
COPY --from=build /out/rootfs/ /
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build /out/patchgate /patchgate
ARG VERSION=dev
LABEL org.opencontainers.image.title=patchgate \
      org.opencontainers.image.version=$VERSION
USER 65532:65532
WORKDIR /data
# No TESTCONTAINERS_RYUK_DISABLED here: the binary turns Ryuk off itself and
# sweeps its own containers (the image test proves it without the variable).
ENV HOME=/data \
    PATCHGATE_LISTEN=0.0.0.0:8080 \
    PATCHGATE_DATABASE=sqlite:///data/patchgate.db
VOLUME /data
ENTRYPOINT ["/patchgate"]
CMD ["serve"]
