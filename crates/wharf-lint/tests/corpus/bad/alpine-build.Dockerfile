FROM python:3.11-alpine
RUN apk update
RUN apk add gcc musl-dev libffi-dev
RUN pip3 install --upgrade pip setuptools wheel
COPY requirements.txt /tmp/requirements.txt
RUN pip3 install -r /tmp/requirements.txt
COPY . /opt/app
WORKDIR /opt/app
USER nobody
ENTRYPOINT python main.py
