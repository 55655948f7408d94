ENV LANG=C.UTF-8
FROM python:3.12-slim
COPY requirements.txt app/
RUN pip install --no-cache-dir -r app/requirements.txt
RUN gem install sass
RUN go install example.com/tool@latest
RUN yarn install
WORKDIR /app
COPY . .
CMD ["python", "-m", "app"]
