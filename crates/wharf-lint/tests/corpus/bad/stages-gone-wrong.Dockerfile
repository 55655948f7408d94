FROM python:3.12 AS build
RUN pip wheel --no-cache-dir --wheel-dir /wheels flask==3.0.3
FROM python:3.12 AS build
COPY --from=builder /wheels /wheels
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*
FROM python
COPY --from=build /wheels /wheels
