FROM python:latest
MAINTAINER Jane Doe <jane@example.com>
RUN apt-get update
RUN apt-get install -y build-essential libpq-dev curl
RUN apt update && apt install -y git
RUN pip install flask gunicorn psycopg2
ADD . /code
WORKDIR code
RUN cd /code && pip install -r requirements.txt
EXPOSE 8000
CMD gunicorn --bind 0.0.0.0:8000 app:app
