# The migration job: creates the schema, once, before any web container starts.
import os

import psycopg2

with psycopg2.connect(os.environ["DATABASE_URL"]) as db, db.cursor() as cursor:
    cursor.execute("CREATE TABLE IF NOT EXISTS visits (id serial PRIMARY KEY, host text NOT NULL)")
print("migrated: table visits is ready")
