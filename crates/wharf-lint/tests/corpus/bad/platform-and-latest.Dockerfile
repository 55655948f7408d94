ARG PY=3.12
FROM --platform=linux/amd64 python:${PY}-slim AS base
FROM base:latest
RUN pip install --no-cache-dir "requests>=2.31" 'httpx<1'
RUN python -m pip install --no-cache-dir -e .
RUN pip install --no-cache-dir git+https://github.com/psf/requests
