FROM python:3.12-slim
ARG APP_HOME=/srv/app
ENV APP_HOME=$APP_HOME VENV=/opt/venv PATH=$VENV/bin:$PATH
RUN python -m venv $VENV
ENV PIP_NO_CACHE_DIR=0
RUN $VENV/bin/pip install -r requirements.txt
EXPOSE 70000
LABEL Maintainer="someone"
WORKDIR $APP_HOME
COPY . .
CMD ["python", "-m", "app"]
