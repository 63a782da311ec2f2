# Bookstore: one image for the four processes (auth, catalog, purchase, web) and the autoscaler;
# the stack picks the entry point with `command`. Build: docker build -t bookstore .
ARG BUN_VERSION=1.4.5

# Dependencies: production only, exactly as bun.lock pins them.
FROM oven/bun:${BUN_VERSION}-slim AS dependencies
WORKDIR /app
COPY package.json bun.lock bunfig.toml ./
COPY shared/package.json shared/
COPY services/auth/package.json services/auth/
COPY services/catalog/package.json services/catalog/
COPY services/purchase/package.json services/purchase/
COPY web/package.json web/
COPY infra/swarm/autoscaler/package.json infra/swarm/autoscaler/
RUN bun install --frozen-lockfile --production --ignore-scripts

# Runtime: the sources (Bun runs TypeScript directly) and the dependencies, as a non-root user.
FROM oven/bun:${BUN_VERSION}-slim
WORKDIR /app
# In a container the service must answer on the overlay network, not only on loopback.
ENV BOOKSTORE_ENV=production NODE_ENV=production HOST=0.0.0.0
# uid/gid 10001: the owner of the NFS share (infra/nfs/README.md), the same on every node.
RUN groupadd --system --gid 10001 bookstore && useradd --system --uid 10001 --gid bookstore --no-create-home bookstore
COPY --from=dependencies /app/node_modules node_modules
COPY --from=dependencies /app/shared/node_modules shared/node_modules
COPY --from=dependencies /app/services services
COPY --from=dependencies /app/web web
COPY --from=dependencies /app/infra infra
COPY package.json bunfig.toml tsconfig.json ./
COPY shared/package.json shared/
COPY shared/src shared/src
COPY services/auth/src services/auth/src
COPY services/catalog/src services/catalog/src
COPY services/purchase/src services/purchase/src
COPY web/src web/src
COPY web/static web/static
COPY infra/swarm/autoscaler infra/swarm/autoscaler
USER 10001:10001
# glibc's allocator: big blocks (argon2's 19 MiB per hash) go back to the system when freed, and
# threads share two arenas; without it auth kept ~180 MB after a burst of logins (bench/RESULTS.md).
ENV MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072
# The task itself: the process answers and its own database does (not the services it depends on),
# asked with Bun itself: the image has no curl.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["bun", "-e", "const r = await fetch(`http://127.0.0.1:${process.env.PORT}/health/task`).catch(() => null); process.exit(r?.ok ? 0 : 1)"]
ENTRYPOINT ["bun"]
CMD ["web/src/main.ts"]
