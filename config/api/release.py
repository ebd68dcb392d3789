"""Let a DRF response's data go as soon as the response is closed.

DRF ties a view and its response in a reference cycle (`view.response`, and the response's
`renderer_context` naming the view), so a response's data — a page of fifty orders —
outlived its request until a pass of the cyclic garbage collector found it, and every pass
in between walked it again. Closing the response (the WSGI server does, once it has sent
it; so does the test client) now breaks that cycle and the data is freed there and then.
"""

from functools import partial

from rest_framework.response import Response


def _release(response: Response) -> None:
    view = (response.renderer_context or {}).get("view")
    if view is not None and view.__dict__.get("response") is response:
        del view.response
    response.renderer_context = None


class ReleaseResponseMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if isinstance(response, Response) and getattr(response, "renderer_context", None):
            # Django runs and then clears the closers on close(): no cycle is left behind
            response._resource_closers.append(partial(_release, response))
        return response
