"""A Python relying party and resource server against Tessera, with Debian's authlib, PyJWT and requests.

Usage: resource_server.py ISSUER CLIENT_ID CLIENT_SECRET RESOURCE AUDIENCE
Prints one JSON object with what each step saw; the Node test asserts on it.
AUTHLIB_INSECURE_TRANSPORT=1 (set by the test) is authlib's own switch for an http issuer on loopback.
"""
import json
import sys

import jwt
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.discovery import OpenIDProviderMetadata

issuer, client_id, client_secret, resource, audience = sys.argv[1:6]
out = {}

# Discovery, validated by authlib's metadata classes (RFC 8414 and OpenID Connect Discovery).
metadata = OpenIDProviderMetadata(requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json())
metadata.validate()
out["discovery_valid"] = True

# client_credentials for the resource server, with authlib's OAuth2Session (client_secret_basic).
session = OAuth2Session(client_id, client_secret, scope="read")
token = session.fetch_token(metadata["token_endpoint"], grant_type="client_credentials", resource=resource)
out["token_scope"] = token.get("scope")

# The JWT access token verified against /jwks with PyJWT, as a resource server would.
jwks = jwt.PyJWKClient(metadata["jwks_uri"])
key = jwks.get_signing_key_from_jwt(token["access_token"])
claims = jwt.decode(token["access_token"], key.key, algorithms=metadata["id_token_signing_alg_values_supported"], audience=audience, issuer=issuer)
out["jwt_header"] = jwt.get_unverified_header(token["access_token"])
out["jwt_claims"] = claims

# Introspection (RFC 7662) and revocation (RFC 7009) of an opaque token, then introspection again.
opaque = session.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")
auth = (client_id, client_secret)
out["introspection_jwt"] = requests.post(metadata["introspection_endpoint"], data={"token": token["access_token"]}, auth=auth, timeout=10).json()
out["introspection_before"] = requests.post(metadata["introspection_endpoint"], data={"token": opaque["access_token"]}, auth=auth, timeout=10).json()
revoked = requests.post(metadata["revocation_endpoint"], data={"token": opaque["access_token"], "token_type_hint": "access_token"}, auth=auth, timeout=10)
out["revocation_status"] = revoked.status_code
out["introspection_after"] = requests.post(metadata["introspection_endpoint"], data={"token": opaque["access_token"]}, auth=auth, timeout=10).json()

print(json.dumps(out))
