"""Verifies JWS objects with Python's `cryptography` package (OpenSSL).

Reads a JSON list of {"alg": ..., "jws": {...}} from argv[1]; each JWS carries its
public key in the protected header's `jwk`. Prints one line per JWS; exits 1 on any
failure, 3 if `cryptography` is missing.
"""
import base64
import json
import sys

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
except ImportError:
    print("cryptography is not importable", file=sys.stderr)
    sys.exit(3)


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def verify(alg, jws):
    header = json.loads(b64d(jws["protected"]))
    assert header["alg"] == alg, (header["alg"], alg)
    jwk = header["jwk"]
    data = (jws["protected"] + "." + jws["payload"]).encode()
    sig = b64d(jws["signature"])
    i = lambda m: int.from_bytes(b64d(jwk[m]), "big")
    if jwk["kty"] == "EC":
        curve, digest, width = {
            "P-256": (ec.SECP256R1(), hashes.SHA256(), 32),
            "P-384": (ec.SECP384R1(), hashes.SHA384(), 48),
            "P-521": (ec.SECP521R1(), hashes.SHA512(), 66),
        }[jwk["crv"]]
        assert len(sig) == 2 * width
        key = ec.EllipticCurvePublicNumbers(i("x"), i("y"), curve).public_key()
        der = encode_dss_signature(int.from_bytes(sig[:width], "big"), int.from_bytes(sig[width:], "big"))
        key.verify(der, data, ec.ECDSA(digest))
    elif jwk["kty"] == "OKP":
        ed25519.Ed25519PublicKey.from_public_bytes(b64d(jwk["x"])).verify(sig, data)
    elif jwk["kty"] == "RSA":
        key = rsa.RSAPublicNumbers(i("e"), i("n")).public_key()
        key.verify(sig, data, padding.PKCS1v15(), hashes.SHA256())
    else:
        raise ValueError(jwk["kty"])


def main():
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    failed = 0
    for case in cases:
        try:
            verify(case["alg"], case["jws"])
            ok = True
        except (InvalidSignature, AssertionError, ValueError):
            ok = False
        if ok != case["valid"]:
            failed += 1
        print(case["alg"], "valid" if ok else "invalid", "expected", "valid" if case["valid"] else "invalid")
    sys.exit(1 if failed else 0)


main()
