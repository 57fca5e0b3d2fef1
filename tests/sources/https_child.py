"""Child process of the HTTPS redirect tests: one request through Vigie's ``HttpClient``.

Run as ``python tests/sources/https_child.py REQUEST_JSON`` (``{"method", "url", "headers",
"json"}``) with ``SSL_CERT_FILE`` naming the certificate authority of the test's local HTTPS
server: httpx builds Vigie's TLS context from it, as it would from a company's CA bundle. A
child process, because the context is built once per process (``bot.net.http``), so the test
process cannot change what it trusts. Prints one JSON line: ``{"status", "content"}``, or
``{"error", "message"}`` when the request raised a ``SourceError``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.net.errors import SourceError
from bot.net.http import HttpClient, HttpLimits


def main(argv: list[str]) -> int:
    """Send the request, print its outcome; exit 0 either way."""
    request = json.loads(argv[1])
    with HttpClient(limits=HttpLimits(read_timeout=5, total_timeout=10)) as http:
        try:
            if request["method"] == "POST":
                response = http.post(request["url"], json=request.get("json"),
                                     headers=request.get("headers"))
            else:
                response = http.get(request["url"], headers=request.get("headers"))
        except SourceError as err:
            print(json.dumps({"error": type(err).__name__, "message": str(err)}))
            return 0
    print(json.dumps({"status": response.status_code,
                      "content": response.content.decode("utf-8", "replace")}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
