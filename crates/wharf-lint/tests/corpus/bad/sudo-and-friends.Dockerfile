FROM ubuntu:22.04
RUN apt-get update && apt-get install -y python3 python3-pip sudo vim && rm -rf /var/lib/apt/lists/*
RUN sudo pip3 install requests
RUN ln -sf /bin/bash /bin/sh
COPY app.py requirements.txt /opt/app
WORKDIR /opt/app
RUN service cron start
HEALTHCHECK CMD curl -f http://localhost:8000/ || exit 1
HEALTHCHECK CMD curl -f http://localhost:8000/health || exit 1
CMD ["python3", "app.py"]
CMD ["python3", "app.py", "--debug"]
