# syntax=docker/dockerfile:1
FROM python:3.12-slim AS build
WORKDIR /app
RUN pip install --no-cache-dir build==1.2.2

FROM python:3.12-slim AS base
LABEL org.opencontainers.image.title=app \
      org.opencontainers.image.source=https://github.com/acme/app \
      org.opencontainers.image.created=2024-01-31T12:00:00Z \
      org.opencontainers.image.licenses=Apache-2.0 \
      org.opencontainers.image.revision=0123456789abcdef0123456789abcdef01234567 \
      org.opencontainers.image.version=1.2.3-rc.1 \
      org.opencontainers.image.authors="ops@acme.example"

FROM base
WORKDIR /app
COPY --from=build /app /app
USER 10001
CMD ["python", "-m", "app"]
