FROM ubuntu:20.04
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq && apt-get install -qq -y python3.8 python3-pip wget unzip > /dev/null
RUN wget -q https://example.com/data.zip && unzip data.zip -d /data && rm data.zip
RUN pip3 install -U pip && pip3 install numpy==1.24.4 scipy
COPY . /srv
WORKDIR /srv
RUN chmod +x run.sh && ./run.sh setup
EXPOSE 8888
CMD ["jupyter", "notebook", "--ip=0.0.0.0", "--allow-root"]
