FROM debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends python3 && rm -rf /var/lib/apt/lists/*
RUN pip3 install django
ADD . /srv
EXPOSE 8000:8000
