FROM python:3.12-slim AS base
LABEL url="mailto:ops@acme.example"
LABEL url="https://acme.example:8080/a%20b?x=1#top"
LABEL url="https://acme.example/a b"
LABEL url="https://acme.example/%zz"
LABEL url="//acme.example/x"
LABEL url="urn:isbn:0451450523"
LABEL time="2024-01-31t12:00:00z"
LABEL time="2024-01-31T12:00:00.123456+05:30"
LABEL time="2024-02-30T12:00:00Z"
LABEL time="2024-01-31T25:00:00Z"
LABEL licence="mit"
LABEL licence="GPL-3.0-or-later"
LABEL licence="GPL-2.0+"
LABEL licence="LicenseRef-acme"
LABEL hash="0123456789abcdef0123456789abcdef0123456"
LABEL hash="abcdef12"
LABEL version="1.2.3-alpha.01"
LABEL version="01.2.3"
LABEL version="1.2.3+build.7"
LABEL version="1.2.3-"
LABEL mail="\"first last\"@acme.example"
LABEL mail="ops@[192.168.0.1]"
LABEL mail="ops@localhost"
LABEL mail="ops@-acme.example"
LABEL mail="o..ps@acme.example"
LABEL mail="ops@acme..example"
LABEL mail="ops@acme.example."
LABEL note=""
USER 10001

FROM base AS child
LABEL other=1

FROM python:3.12-slim AS lone
RUN echo hi

FROM lone
CMD ["python"]
