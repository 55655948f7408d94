FROM python:3.11-slim
RUN pip install pipenv
WORKDIR /app
COPY Pipfile Pipfile.lock ./
RUN pipenv install --system
COPY . .
ENV FLASK_ENV=development
CMD ["flask", "run"]
