"""schemathesis hooks for tests/fuzz/schemathesis.mjs (loaded through SCHEMATHESIS_HOOKS): the run's
credentials, as configured auth.

The admin token (PVE_FUZZ_ADMIN_TOKEN) goes to the operations whose security is the `bearer` scheme, the
admin routes and /metrics. It is a provider here, not `[auth.openapi.bearer]` in a config file: with any
auth in the config, schemathesis 4.32.5 unregisters every programmatic provider when the run starts
(engine/core.py: `if self.schema.config.auth.is_defined: auths.unregister()`), which silently dropped the
watch token provider below.

A watch's token is its credential, and schemathesis counts a credential it did not configure as made up:
the createWatch links hand the token on as the X-Watch-Token header parameter, so a 200 for the read or
the delete looked to its ignored_auth check like an API that takes any token (ST401). This provider
makes the token configured auth, as the admin token is above, and ignored_auth then does
its real work: it repeats the request without the token and with a wrong one, and expects 401 both times.

schemathesis applies auth when it generates a case, before the stateful phase fills in the path id and
the token from the link (seen in 4.32.5: the provider was asked only with generated ids). So the provider
gives the token of that watch when it knows the id, else the newest token this run was given: a token of
another watch, which the API must refuse (401) or not find (404); the link's own token then replaces it.

A case that negates a security parameter (say an empty `Authorization`, which the API counts as none) is
not given configured auth at all (auths.set_on_case skips providers when
`is_security_param_negated`), and the stateful phase's link then fills in the watch's real token as
X-Watch-Token: one valid credential, rightly answered 200, which ignored_auth took for a made-up one
("generated auth likely invalid"). `before_call` says what that token is: the credential this run was
given for that watch, as the provider would have set it, so ignored_auth probes it (without the token,
with a wrong one) like every other configured credential.
"""
import os

import schemathesis

TOKENS = {}


@schemathesis.auth(refresh_interval=None).apply_to(path_regex=r"^/(v1/admin/.*|metrics)$")
class AdminToken:
    def get(self, case, context):
        return os.environ["PVE_FUZZ_ADMIN_TOKEN"]

    def set(self, case, token, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {token}"


@schemathesis.hook
def after_call(context, case, response):
    # The method actually sent: the coverage phase also sends OPTIONS and others to this operation, and
    # OPTIONS answers 204 with no body.
    sent = response.request.method.upper()
    if sent == "POST" and case.operation.path == "/v1/watches" and response.status_code in (200, 201):
        body = response.json()
        TOKENS[body["id"]] = body["token"]


@schemathesis.auth(refresh_interval=None).apply_to(path="/v1/watches/{id}")
class WatchToken:
    def get(self, case, context):
        known = TOKENS.get((case.path_parameters or {}).get("id"))
        if known is not None:
            return known
        # Before any watch is created there is no token to give: the request goes as generated.
        return next(reversed(TOKENS.values()), None)

    def set(self, case, token, context):
        case.headers = case.headers or {}
        case.headers["X-Watch-Token"] = token


@schemathesis.hook
def before_call(context, case, **kwargs):
    if case.operation.path != "/v1/watches/{id}":
        return
    token = TOKENS.get((case.path_parameters or {}).get("id"))
    sent = {name.lower(): value for name, value in (case.headers or {}).items()}
    if token is not None and sent.get("x-watch-token") == token:
        # Private in 4.32.5 (generation/case.py): what `auths.AuthStorage.set` marks after a provider.
        case._has_explicit_auth = True
