# Production image: compiled JavaScript, production dependencies only.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY models ./models
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER node
EXPOSE 3000
# The GC flags depend on the CPUs the container gets (src/lib/gc-threads.ts); exec keeps
# node as PID 1 so it receives SIGTERM directly.
CMD ["sh", "-c", "exec node $(node dist/src/gc-flags.js) dist/src/index.js"]
