# syntax=docker/dockerfile:1
# Tessera image: `docker build -t tessera .`, then run with DATABASE_URL and REDIS_URL
# (see docker-compose.yml). TESSERA_ROLE=api|worker|all picks the side; migrations are the
# one-shot `node dist/src/cli.js migrate`.

# ---- build: compile TypeScript (src/ and migrations/) into dist/ -----------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
RUN npm run build

# ---- production: runtime dependencies and the compiled code only -----------------------------
FROM node:20-bookworm-slim AS production
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/app/data
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --no-audit --no-fund \
 && mkdir -p /app/data \
 && chown node:node /app/data
# dist/src (code) and dist/migrations: src/db/migrator.ts finds ../../migrations from dist/src/db.
COPY --from=build /app/dist ./dist

# The code stays root-owned and read-only to the process; only DATA_DIR is writable.
USER node
EXPOSE 8080
# No curl in the slim image: Node's fetch. Liveness of the API process (the worker has no HTTP port:
# docker-compose.yml turns this check off for it).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/src/server.js"]
