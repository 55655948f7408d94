FROM python:3.12-slim AS build
WORKDIR /app
RUN pip install --no-cache-dir build==1.2.2

FROM python:3.12-slim AS docs
LABEL org.opencontainers.image.title=docs

FROM python:3.12-slim
LABEL org.opencontainers.image.source="github.com/acme/app" \
      org.opencontainers.image.created="2024-01-31 12:00" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0"
LABEL org.opencontainers.image.revision=ABCDEF1 \
      org.opencontainers.image.version=v1.2 \
      org.opencontainers.image.authors="ops at acme.example"
LABEL org.opencontainers.image.title="" com.acme.team=web
COPY --from=build /app /app
USER 10001
CMD ["python", "-m", "app"]
