FROM python:3.12-slim
COPY --from=ghcr.io/astral-sh/uv:0.5.11 /uv /uvx /bin/
WORKDIR /app
COPY . .
RUN uv sync
RUN uv pip install --system requests
CMD ["uv", "run", "app.py"]
