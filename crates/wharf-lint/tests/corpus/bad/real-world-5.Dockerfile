FROM nvidia/cuda:12.1.1-cudnn8-runtime-ubuntu22.04
RUN apt-get update && \
    apt-get install -y --no-install-recommends python3 python3-pip git && \
    apt-get clean && \
    rm -rf /var/lib/apt/lists/*
RUN pip3 install --no-cache-dir torch==2.3.1 --index-url https://download.pytorch.org/whl/cu121
RUN pip3 install --no-cache-dir transformers accelerate
WORKDIR /workspace
COPY train.py .
ENTRYPOINT ["python3", "train.py"]
