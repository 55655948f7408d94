FROM python:3.12-slim
# hadolint ignore=DL3008,DL3015
RUN apt-get update && apt-get install -y gcc && rm -rf /var/lib/apt/lists/*
# hadolint ignore=DL3013 # we want the newest
RUN pip install --no-cache-dir black
RUN pip install --no-cache-dir ruff
WORKDIR /app
COPY . .
USER 1000
