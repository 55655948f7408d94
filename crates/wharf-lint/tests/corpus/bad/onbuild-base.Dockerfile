FROM python:3.12-slim
WORKDIR /app
ONBUILD COPY requirements.txt /app/
ONBUILD RUN pip install -r requirements.txt
ONBUILD RUN apt-get install curl
ONBUILD COPY . /app
