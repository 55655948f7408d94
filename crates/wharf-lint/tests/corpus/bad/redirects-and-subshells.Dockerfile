FROM python:3.12-slim
RUN set -eux; \
    apt-get update > /dev/null; \
    apt-get install -y --no-install-recommends libpq5=15.* 2>&1; \
    rm -rf /var/lib/apt/lists/*
RUN echo "$(python --version)" > /version.txt && python -c "import sys; print(sys.path)" | tee /path.txt
RUN if [ -f requirements.txt ]; then pip install --no-cache-dir -r requirements.txt; fi
RUN for pkg in numpy pandas; do pip install --no-cache-dir "$pkg"; done
RUN PIP_NO_CACHE_DIR=1 pip install flask
CMD ["python"]
