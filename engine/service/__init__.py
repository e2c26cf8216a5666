"""``inmail serve``: the engine as an HTTP service, for apps not written in Python.

- :mod:`engine.service.app`: the routes (FastAPI), one Engine call each;
- :mod:`engine.service.state`: a worker's Engine, its reloads, its decision log;
- :mod:`engine.service.revisions`: a reload's accepted texts, published once for every worker;
- :mod:`engine.service.problems`: refusals as ``application/problem+json``;
- :mod:`engine.service.guard`: body limits before anything reads a body;
- :mod:`engine.service.run`: checks at start, uvicorn, workers, SIGHUP.

FastAPI and uvicorn come with the ``serve`` extra; nothing here is imported
by ``import engine``.
"""
