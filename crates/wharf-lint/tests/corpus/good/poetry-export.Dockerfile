FROM python:3.12-slim AS requirements
WORKDIR /tmp
RUN pip install --no-cache-dir poetry==1.8.3 poetry-plugin-export==1.8.0
COPY pyproject.toml poetry.lock ./
RUN poetry export --format requirements.txt --output requirements.txt --without-hashes

FROM python:3.12-slim
WORKDIR /app
COPY --from=requirements /tmp/requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN useradd --uid 10001 app
USER 10001
EXPOSE 8080
CMD ["uvicorn", "service.main:app", "--host", "0.0.0.0", "--port", "8080"]
