"""A local web app: draw a digit and watch the network read it; follow training runs live.

Optional: needs the `web` extra (FastAPI and uvicorn), imported only by `digitlab serve`.
"""
