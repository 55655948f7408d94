# The Celery side: tasks run by the worker, with Redis as both broker and result store.
from celery import Celery

celery = Celery("tasks", broker="redis://redis:6379/0", backend="redis://redis:6379/1")


@celery.task
def add(x, y):
    return x + y
