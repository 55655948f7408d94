FROM node:20 AS assets
WORKDIR /assets
COPY package.json yarn.lock ./
RUN yarn install
RUN npm install -g sass
COPY static ./static
RUN yarn build
FROM python:3.12-slim
WORKDIR /app
COPY --from=assets /assets/dist ./static
RUN pip install --no-cache-dir django==5.0.6
RUN pip install --no-cache-dir whitenoise
CMD ["gunicorn", "-b", "0.0.0.0:8000", "site.wsgi"]
