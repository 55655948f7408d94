FROM python:3.12-slim
ONBUILD FROM python:3.12
ONBUILD RUN pip install -r requirements.txt
RUN pip install --no-cache-dir flask
