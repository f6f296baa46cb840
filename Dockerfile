# webtext in a container: the same set-up as `make install` (with the ray extra: the image is also a
# Ray node, see docker-compose.yml), on a slim Python 3.11.
FROM python:3.11-slim

RUN apt-get update && apt-get install -y --no-install-recommends make build-essential \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md Makefile ./
COPY corpus corpus
COPY pipelines pipelines
COPY model model
# The CPU wheel of torch first: a bare `torch` would pull the multi-GB CUDA build.
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
    && pip install --no-cache-dir -e '.[ray]' \
    && pip install --no-cache-dir --force-reinstall --no-deps fasttext-numpy2-wheel==0.9.2
COPY data/samples data/samples
COPY tests tests
ENTRYPOINT ["python", "-m"]
CMD ["pipelines.build_webtext", "--help"]
