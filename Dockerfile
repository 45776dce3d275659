# The control-plane image: `catalyst controller` (and the other front ends of bin/catalyst.js)
# with the toolchain it drives: Node 24, the Pulumi CLI, its Node language host and the
# Kubernetes provider, all built from source by tools/bootstrap.sh as on a developer machine.
#   docker build -t catalyst-control-plane:dev .
# Stage 1 builds the tools and installs the npm dependencies; stage 2 is a slim runtime with a
# fixed non-root user (the Deployment's runAsUser, components/platform/controlPlane.ts) and no
# build tools. Base images are pinned by version; the workflow (.github/workflows/image.yml)
# records the digest of what it built.

FROM golang:1.26.8-bookworm AS build
ENV CATALYST_CACHE_DIR=/cache
WORKDIR /src
# The tool wrappers first: the slow Go builds stay cached while the sources change.
COPY tools/ tools/
COPY package.json package-lock.json ./
RUN bash tools/bootstrap.sh >/dev/null \
 && bin=$(bash tools/bootstrap.sh --quiet) \
 && mkdir -p /opt/catalyst/bin \
 && for tool in pulumi pulumi-language-nodejs pulumi-resource-kubernetes pulumi-resource-pulumi-nodejs kubectl; do \
      cp -L "$bin/$tool" /opt/catalyst/bin/; \
    done \
 && cp -r "$(dirname "$(dirname "$(readlink -f "$bin/node")")")" /opt/catalyst/node
ENV PATH=/opt/catalyst/bin:/opt/catalyst/node/bin:$PATH
RUN npm ci --no-audit --no-fund
COPY . .
# Transpile once at build time into the cache the runtime reads (tools/register.js).
RUN CATALYST_TS_CACHE_DIR=/src/.ts-cache node bin/catalyst.js controller --help >/dev/null
# The dashboard's bundle (dist/dashboard, which .dockerignore keeps out of the context): the
# runtime's /app is read-only, so `catalyst serve` could not build it at start.
RUN CATALYST_TS_CACHE_DIR=/src/.ts-cache npm run --silent build:dashboard

FROM debian:12.12-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates git \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 10001 --user-group --no-create-home --home-dir /work catalyst
COPY --from=build /opt/catalyst /opt/catalyst
COPY --from=build --chown=0:0 /src /app
# Writable paths are under /work (an emptyDir in the pod): the root file system stays read-only.
ENV PATH=/opt/catalyst/bin:/opt/catalyst/node/bin:/usr/local/bin:/usr/bin:/bin \
    HOME=/work \
    PULUMI_HOME=/work/pulumi-home \
    PULUMI_SKIP_UPDATE_CHECK=true \
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true \
    CATALYST_WORK_ROOT=/work/stacks \
    CATALYST_AUDIT_LOG=/work/audit.log \
    CATALYST_TS_CACHE_DIR=/app/.ts-cache \
    NODE_ENV=production
USER 10001:10001
WORKDIR /app
ENTRYPOINT ["node", "/app/bin/catalyst.js"]
CMD ["controller", "--metrics-host", "0.0.0.0"]
