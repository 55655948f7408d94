FROM amazonlinux:2023
ARG PY=3.11
RUN dnf install -y python${PY} python${PY}-pip shadow-utils-4.9 \
    && dnf clean all
RUN yum install httpd-2.4.57
ENV APP=/srv
WORKDIR $APP
COPY requirements.txt .
RUN python3 -m pip install -r requirements.txt
USER nobody
ENTRYPOINT ["python3", "-m", "server"]
