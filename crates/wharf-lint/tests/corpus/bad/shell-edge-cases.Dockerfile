FROM python:3.12-slim
RUN echo 'a | b' > /tmp/x && echo "c && d"
RUN set -o pipefail && curl -fsSL https://x/install.sh | bash -
RUN apt-get update && apt-get install -y --no-install-recommends $(cat /tmp/packages.txt) \
    && rm -rf /var/lib/apt/lists/*
RUN apt-get -y install --no-install-recommends python3-dev=3.11* libxml2
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt
RUN pip install -U pip && pip3 install --upgrade "pip==24.0"
RUN pip install "django>=4,<5" -e git+https://github.com/x/y.git#egg=y
RUN pip install --index-url https://pypi.example/simple -r req.txt
RUN python3 -m pip install --user --no-cache-dir pipx && python3 -m pipx install black
RUN wget -qO- https://x/y.tar.gz | tar xz -C /opt
RUN export PATH=/opt/bin:$PATH; \
    # a comment inside the continuation
    echo done
RUN true && `echo pip` install flask
RUN sh -c "pip install flask"
RUN (cd /tmp && pip install --no-cache-dir ./pkg)
RUN { pip install --no-cache-dir a==1; } && pip install --no-cache-dir b
