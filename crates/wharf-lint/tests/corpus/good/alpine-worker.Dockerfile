FROM python:3.12-alpine3.20
RUN apk add --no-cache libpq=16.3-r0 \
    && adduser -D -u 10001 worker
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
USER 10001
CMD ["celery", "-A", "tasks", "worker", "--loglevel=INFO"]
