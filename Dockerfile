# The chat UI over a mounted reports folder. Untested here (no docker on the development
# machine); see README.md.
FROM python:3.11-slim
ENV PIP_NO_CACHE_DIR=1 GRADIO_ANALYTICS_ENABLED=False HF_HUB_OFFLINE=1 \
    RAG_REPORTS_DIR=/data/reports RAG_INDEX_DIR=/data/index
WORKDIR /app
COPY pyproject.toml README.md ./
COPY rag rag
COPY prompts prompts
COPY ui ui
COPY eval eval
# torch's CPU build first (a bare torch pulls the CUDA build)
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
 && pip install ".[ocr]"
VOLUME ["/data"]
EXPOSE 7860
# index what is mounted (only new or changed reports), then serve on all interfaces of the
# container: publish the port on 127.0.0.1 of the host (compose.yaml does)
CMD ["sh", "-c", "rag index && rag serve --host 0.0.0.0 --port 7860"]
