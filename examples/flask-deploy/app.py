# The web service: counts visits in Postgres and says which replica answered.
import os
import socket

import psycopg2
from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello():
    host = socket.gethostname()
    with psycopg2.connect(os.environ["DATABASE_URL"]) as db, db.cursor() as cursor:
        cursor.execute("INSERT INTO visits (host) VALUES (%s)", (host,))
        cursor.execute("SELECT count(*) FROM visits")
        (count,) = cursor.fetchone()
    return f"Hello from {host}: visit {count} (debug={os.environ.get('DEBUG', '0')})\n"


@app.route("/health")
def health():
    return "ok\n"
