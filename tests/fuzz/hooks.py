"""schemathesis hooks for tests/fuzz/schemathesis.mjs (loaded through SCHEMATHESIS_HOOKS).

A watch's token is its credential, and schemathesis counts a credential it did not configure as made up:
the createWatch links hand the token on as the X-Watch-Token header parameter, so a 200 for the read or
the delete looked to its ignored_auth check like an API that takes any token (ST401). This provider
makes the token configured auth, as the admin token is in schemathesis.toml: it remembers the token each
created watch was answered with and sends it for that watch only. ignored_auth then does its real work:
it repeats the request without the token and with a wrong one, and expects 401 both times.
"""
import schemathesis

TOKENS = {}


@schemathesis.hook
def after_call(context, case, response):
    op = case.operation
    if op.method.upper() == "POST" and op.path == "/v1/watches" and 200 <= response.status_code < 300:
        body = response.json()
        TOKENS[body["id"]] = body["token"]


@schemathesis.auth(refresh_interval=None).apply_to(path="/v1/watches/{id}")
class WatchToken:
    def get(self, case, context):
        # A watch this run did not create has no token to give: the request goes as generated.
        return TOKENS.get((case.path_parameters or {}).get("id"))

    def set(self, case, token, context):
        case.headers = case.headers or {}
        case.headers["X-Watch-Token"] = token
