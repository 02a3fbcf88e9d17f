# syntax=docker/dockerfile:1
# Berth operator image: `docker build -t berth:dev .`, then deploy/ (kubectl apply -k deploy/).
#
# BASE is the image both stages build on: the public Node image by default, or any image with Node.js 20
# and npm (the tests build one from this machine's Node runtime, as no image registry is reachable there;
# see test/env/operator-image.sh). BUILD_BASE, the build stage's, defaults to BASE.
ARG BASE=node:20-bookworm-slim
ARG BUILD_BASE=${BASE}

# --- build: compile TypeScript, then drop the dev dependencies -----------------------------------------
FROM ${BUILD_BASE} AS build
WORKDIR /src
# Dependencies first, so that a source change does not reinstall them. No install scripts are needed:
# the only native add-on in the tree (ssh2's optional cpu-features) is optional.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# --- runtime ------------------------------------------------------------------------------------------
FROM ${BASE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# The CRDs (for reference and `berth` commands that install them) and the examples `berth local` loads.
COPY crds ./crds
COPY examples ./examples
# A numeric non-root user, so that Kubernetes' runAsNonRoot can verify it without /etc/passwd.
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["operator"]
