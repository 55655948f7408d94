FROM python:3.9-slim-buster
COPY . /app
RUN pip install --no-cache-dir -r /app/requirements.txt
WORKDIR /app
ENV MYAPP_SECRET_KEY="myverylongandrandomsecretkey"
CMD ["python", "your_application.py"]
