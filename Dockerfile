# The operator image, for machines with a registry: docker build -t marina:0.1.0 .
# (npm run build first). Without a registry, tools/build-operator-image.sh makes the same image from
# this machine's Node.js: the same layout, user and entrypoint.
FROM node:20-bookworm-slim
WORKDIR /opt/marina
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY dist/ dist/
COPY crds/ crds/
USER 65532:65532
ENTRYPOINT ["node", "/opt/marina/dist/cli/main.js"]
CMD ["run"]
