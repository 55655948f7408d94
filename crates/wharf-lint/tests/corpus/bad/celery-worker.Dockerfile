FROM python:3.10
ENV C_FORCE_ROOT true
ENV CELERY_BROKER_URL redis://redis:6379/0
WORKDIR /app
ADD requirements.txt /app/requirements.txt
RUN pip install -r requirements.txt
ADD . /app
RUN useradd -u 1000000 worker
USER worker
CMD celery -A tasks worker --loglevel=info
