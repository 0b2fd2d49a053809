FROM node:22-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY migrations ./migrations
COPY hooks ./hooks
ENV NODE_ENV=production PORT=3000
EXPOSE 3000
USER node
CMD ["node", "bin/tessera.js", "start"]
