# The API: submits tasks to the worker and reads their results back.
from flask import Flask, request

from tasks import add, celery

app = Flask(__name__)


@app.route("/add", methods=["POST"])
def submit():
    task = add.delay(int(request.args["x"]), int(request.args["y"]))
    return task.id


@app.route("/result/<task_id>")
def result(task_id):
    task = celery.AsyncResult(task_id)
    if not task.ready():
        return task.state, 202
    return str(task.get())


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=5000)
