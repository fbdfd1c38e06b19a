"""What the test registries (hostile_registry.py, origin_registry.py) share."""


def answer(handler, status, body=b"", ctype="application/json", headers=None):
    """Sends one registry answer: status, the usual headers, the body
    (left out for HEAD)."""
    handler.send_response(status)
    handler.send_header("Content-Type", ctype)
    handler.send_header("Content-Length", str(len(body)))
    handler.send_header("Docker-Distribution-Api-Version", "registry/2.0")
    for k, v in (headers or {}).items():
        handler.send_header(k, v)
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)
