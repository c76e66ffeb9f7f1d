# One image for the API and the workers; the command picks which one runs.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# What production runs is the build's JavaScript (dist/): no TypeScript loader at run time, a
# hundred MiB less per worker. NODE_OPTIONS=--enable-source-maps maps stack traces to the sources.
RUN npm run build
ENV NODE_ENV=production
CMD ["node", "dist/api/main.js"]
