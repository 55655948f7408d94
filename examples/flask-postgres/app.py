# The tutorials' Flask app, with notes kept in Postgres through SQLAlchemy.
import os

from flask import Flask, request
from sqlalchemy import String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

engine = create_engine(os.environ["DATABASE_URL"])


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(200))


app = Flask(__name__)


@app.route("/")
def hello():
    with Session(engine) as session:
        count = len(session.scalars(select(Note)).all())
    return f"Hello from Flask + Postgres! {count} notes\n"


@app.route("/notes", methods=["GET", "POST"])
def notes():
    with Session(engine) as session:
        if request.method == "POST":
            session.add(Note(text=request.form["text"]))
            session.commit()
        return "".join(f"{n.text}\n" for n in session.scalars(select(Note).order_by(Note.id)))


if __name__ == "__main__":
    Base.metadata.create_all(engine)
    app.run(host="0.0.0.0", port=5000)
