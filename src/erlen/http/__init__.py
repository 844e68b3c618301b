"""erlen's HTTP core: requests, responses, headers, forms, cookies and HTTP errors.

Standard library and python-multipart only: no app, no WSGI or ASGI, no I/O of
its own. The WSGI and ASGI adapters build a :class:`~erlen.http.request.Request`
from what their server gives them and send a :class:`~erlen.http.response.Response`.
"""
