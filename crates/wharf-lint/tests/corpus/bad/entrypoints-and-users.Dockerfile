FROM python:3.12-slim AS base
ENV PIP_NO_CACHE_DIR=true
USER app:app
FROM base AS test
RUN pip install pytest==8.2.0
USER root
FROM base
RUN pip install gunicorn==22.0.0
ENTRYPOINT ./entrypoint.sh
ENTRYPOINT ["./entrypoint.sh"]
HEALTHCHECK --interval=5s CMD python -c "print(1)"
CMD ["gunicorn", "app:app"]
