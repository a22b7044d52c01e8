"""TLS for the vr_bridge: an operator-supplied certificate or a self-signed one made once."""

from __future__ import annotations

import datetime
import ipaddress
import logging
import ssl
from pathlib import Path

from humanoid_teleop.devices.errors import DeviceError

log = logging.getLogger(__name__)


def ensure_self_signed(directory: Path, host: str) -> tuple[Path, Path]:
    """Return ``(cert, key)`` in ``directory``, generating a self-signed pair on first use.

    The certificate names ``host`` (an IP address or DNS name) and ``localhost``; the key file
    is readable by its owner only. An existing pair is reused as is.
    """
    cert_path = directory / "vr_bridge.crt"
    key_path = directory / "vr_bridge.key"
    if cert_path.is_file() and key_path.is_file():
        return cert_path, key_path
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    try:
        names.append(x509.IPAddress(ipaddress.ip_address(host)))
    except ValueError:
        names.append(x509.DNSName(host))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "humanoid_teleop vr_bridge")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=825))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(key, hashes.SHA256())
    )
    try:
        directory.mkdir(parents=True, exist_ok=True)
        key_path.touch(mode=0o600)
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    except OSError as err:
        raise DeviceError(f"cannot write the TLS certificate in {directory}: {err}") from err
    log.info("generated a self-signed TLS certificate %s", cert_path)
    return cert_path, key_path


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """An SSL server context from PEM files; raise :class:`DeviceError` naming the files."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as err:
        raise DeviceError(f"cannot load TLS certificate {cert} / key {key}: {err}") from err
    return context
