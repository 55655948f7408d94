FROM registry.access.redhat.com/ubi9/python-311:1-77
USER 0
RUN yum install -y gcc python3-devel && yum clean all
RUN dnf install -y libpq-devel-13.11 && dnf clean all
RUN microdnf install shadow-utils
COPY app.tar.gz /tmp/app.tar.gz
RUN tar -xzf /tmp/app.tar.gz -C /opt/app-root/src
USER 1001
CMD ["python", "app.py"]
