FROM opensuse/leap:15.5
RUN zypper install python311 python311-pip
RUN zypper -n dup && zypper -n in git=2.35 && zypper clean
RUN yum module install -y python39
COPY --from=0 / /
FROM opensuse/leap:15.5 AS context
FROM --platform=$TARGETPLATFORM python:3.12-slim
RUN pip install --no-cache-dir -r requirements.txt
