FROM continuumio/miniconda3
WORKDIR /work
COPY environment.yml .
RUN conda env create -f environment.yml
SHELL ["conda", "run", "-n", "app", "/bin/bash", "-c"]
RUN pip install gunicorn==22.0.0
COPY . .
ENTRYPOINT ["conda", "run", "--no-capture-output", "-n", "app", "python", "serve.py"]
