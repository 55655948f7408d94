FROM python:3.8-slim
RUN apt-get -y update && apt-get -y upgrade && apt-get install -y --no-install-recommends ffmpeg
RUN python -m pip install --upgrade pip
RUN pip install --upgrade setuptools wheel
ADD requirements.txt .
RUN pip install -r requirements.txt --no-cache-dir
ADD https://example.com/weights.pt /weights/
ADD model.tar.gz /model/
COPY --chown=1000:1000 . /app
WORKDIR /app
RUN echo "export PATH=$PATH:/app/bin" >> ~/.bashrc
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN curl -s https://example.com/install.sh | bash
CMD ["bash", "-c", "python -u serve.py 2>&1 | tee /tmp/log"]
