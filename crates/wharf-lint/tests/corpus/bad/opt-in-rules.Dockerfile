# hadolint global ignore=DL3059
FROM python:3.12-slim AS build
# hadolint ignore=DL3013
RUN pip install --no-cache-dir build
RUN pip install --no-cache-dir \
# hadolint ignore=DL3042
    wheel==0.45.1

FROM python:3.12-slim AS base
# hadolint stage ignore=DL3008
HEALTHCHECK CMD ["python", "-c", "print(1)"]

FROM base
COPY --from=build /usr/local /usr/local
# hadolint ignore=DL3002 # root is needed here
USER root
CMD ["python"]

FROM busybox:1.36 AS other
#hadolint ignore=DL4006
CMD ["sh"]
