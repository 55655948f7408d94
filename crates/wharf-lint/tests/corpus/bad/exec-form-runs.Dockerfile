FROM python:3.12-slim
RUN ["pip", "install", "flask"]
RUN ["/bin/sh", "-c", "apt-get update && apt-get install -y curl"]
RUN ["apt-get", "install", "-y", "--no-install-recommends", "git"]
WORKDIR /app
COPY . .
ENTRYPOINT ["python"]
CMD ["-m", "flask", "run", "--host=0.0.0.0"]
