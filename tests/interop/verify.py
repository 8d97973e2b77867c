"""Verifies Banyan credentials with generic libraries, as a verifier outside the chain would.

    verify.py DID_RESOLUTION.json CREDENTIAL.jwt PRESENTATION.sd-jwt AUDIENCE NONCE

The issuer's key is taken from its DID document (the resolution result `banyan did resolve
--json` prints) by the JWS header's `kid`, never from Banyan's code. The vc+jwt credential is
verified with jwcrypto (ES256K); the SD-JWT presentation with the OpenWallet Foundation's
sd-jwt library: the issuer's signature, every disclosure against its digest, and the key
binding JWT (audience, nonce, sd_hash) against the holder key in `cnf`. Prints one JSON object:
the verified credential's subject and the claims the presentation discloses.
"""

import json
import sys

from jwcrypto import jwk, jws
from sd_jwt.verifier import SDJWTVerifier


def issuer_key(resolution, kid):
    document = resolution["didDocument"]
    for method in document["verificationMethod"]:
        if method["id"] == kid:
            fragment = "#" + kid.split("#", 1)[1]
            if kid not in document["assertionMethod"] and fragment not in document["assertionMethod"]:
                raise SystemExit(f"{kid} is not an assertion method of {document['id']}")
            return jwk.JWK(**method["publicKeyJwk"])
    raise SystemExit(f"{kid} is not in the DID document of {document['id']}")


def main():
    resolution_file, credential_file, presentation_file, audience, nonce = sys.argv[1:6]
    with open(resolution_file) as f:
        resolution = json.load(f)
    with open(credential_file) as f:
        compact = f.read().strip()

    token = jws.JWS()
    token.deserialize(compact)
    header = token.jose_header
    if header.get("typ") != "vc+jwt" or header.get("alg") != "ES256K":
        raise SystemExit(f"unexpected header {header}")
    token.verify(issuer_key(resolution, header["kid"]), alg="ES256K")
    credential = json.loads(token.payload)

    with open(presentation_file) as f:
        presentation = f.read().strip()
    # The library checks the key binding only with ES256 unless told: it is asked for the
    # algorithm Banyan's holder keys use, in a second step, with the library's own checks.
    verifier = SDJWTVerifier(presentation, lambda iss, h: issuer_key(resolution, h["kid"]))
    verifier._verify_key_binding_jwt(audience, nonce, sign_alg="ES256K")
    disclosed = verifier.get_verified_payload()

    print(json.dumps({
        "credentialSubject": credential["credentialSubject"],
        "issuer": credential["issuer"],
        "disclosedSubject": disclosed.get("credentialSubject"),
    }))


if __name__ == "__main__":
    main()
