FROM python:3.12-slim
WORKDIR /srv
COPY pyproject.toml .
RUN pip install --no-cache-dir .
COPY src ./src
EXPOSE 80
USER root
CMD ["uvicorn", "src.main:app", "--port", "8000"]
