FROM tiangolo/uvicorn-gunicorn-fastapi:python3.9
LABEL org.opencontainers.image.source="https://github.com/example/api"
COPY ./requirements.txt /app/requirements.txt
RUN pip install --no-cache-dir --upgrade -r /app/requirements.txt
COPY ./app /app/app
ENV MAX_WORKERS=2
ENV SECRET_KEY=changeme
