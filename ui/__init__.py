"""Gradio chat UI over the answer pipeline (`rag serve`)."""
