"""A SAML 2.0 service provider built on pysaml2, for keyroll's peers tests.

    python3 sp.py METADATA_URL

reads the identity provider's federation metadata from METADATA_URL (its
only knowledge of the IdP), listens on 127.0.0.1 and prints
"listening http://127.0.0.1:PORT". Its entity ID is that URL + /metadata.

    GET  /login[?binding=post]  AuthnRequest to the IdP (HTTP-Redirect or HTTP-POST)
    POST /acs                   validate the SAMLResponse: 200 JSON, or 403 and the reason
    POST /reload                read the metadata again
"""

import json
import shutil
import sys
import threading
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig


class SP:
    def __init__(self, base, metadata_url):
        self.base, self.metadata_url = base, metadata_url
        self.lock = threading.Lock()
        self.outstanding = {}  # AuthnRequest ID -> where the user came from
        self.reload()

    def reload(self):
        with urllib.request.urlopen(self.metadata_url, timeout=30) as r:
            metadata = r.read().decode("utf-8")
        conf = SPConfig()
        conf.load({
            "entityid": self.base + "/metadata",
            "service": {"sp": {
                "endpoints": {"assertion_consumer_service": [(self.base + "/acs", BINDING_HTTP_POST)]},
                "allow_unsolicited": True,  # IdP-initiated sign-in
                "authn_requests_signed": False,
                "want_response_signed": False,
                "want_assertions_or_response_signed": True,
            }},
            "metadata": {"inline": [metadata]},
            "xmlsec_binary": shutil.which("xmlsec1"),
            "allow_unknown_attributes": True,
        })
        client = Saml2Client(config=conf)
        with self.lock:
            self.client = client

    def login(self, binding):
        with self.lock:
            client = self.client
        idp = next(iter(client.metadata.identity_providers()))
        req_id, info = client.prepare_for_authenticate(entityid=idp, relay_state="/home", binding=binding)
        with self.lock:
            self.outstanding[req_id] = "/home"
        return info

    def acs(self, saml_response):
        with self.lock:
            client, outstanding = self.client, dict(self.outstanding)
        resp = client.parse_authn_request_response(saml_response, BINDING_HTTP_POST, outstanding)
        if resp is None:
            raise ValueError("pysaml2 returned no response")
        attrs = {k: [str(v) for v in vs] for k, vs in (resp.ava or {}).items()}
        return {"name_id": resp.name_id.text if resp.name_id else "", "issuer": resp.issuer(), "attributes": attrs}


class Handler(BaseHTTPRequestHandler):
    sp = None

    def answer(self, code, body, ctype="text/plain", headers=()):
        data = body.encode("utf-8")
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path != "/login":
            return self.answer(404, "not found")
        post = urllib.parse.parse_qs(url.query).get("binding") == ["post"]
        info = self.sp.login(BINDING_HTTP_POST if post else BINDING_HTTP_REDIRECT)
        if post:
            return self.answer(200, info["data"], "text/html")
        self.answer(302, "", headers=info["headers"])

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(length).decode("utf-8"))
        if self.path == "/reload":
            self.sp.reload()
            return self.answer(204, "")
        if self.path != "/acs":
            return self.answer(404, "not found")
        try:
            result = self.sp.acs(form.get("SAMLResponse", [""])[0])
        except Exception as e:  # pysaml2 raises many kinds; each is a refusal
            return self.answer(403, "%s: %s" % (type(e).__name__, e))
        self.answer(200, json.dumps(result), "application/json")

    def log_message(self, fmt, *args):
        sys.stderr.write(fmt % args + "\n")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = "http://127.0.0.1:%d" % server.server_address[1]
    Handler.sp = SP(base, sys.argv[1])
    print("listening " + base, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
