"""Serves acme2certifier's WSGI application over HTTPS, for acme-proto's tests.

python3 serve.py --listen 127.0.0.1 --cert CERT.pem --key KEY.pem --port-file PATH

The config file comes from ACME_SRV_CONFIGFILE (read when the application is imported).
The server binds an ephemeral port on the given address, writes it to the port file once
it listens, and serves each connection on a thread of its own: wsgiref behind
socketserver.ThreadingMixIn, every accepted socket wrapped in TLS on its thread (a slow
handshake holds no one else up), with wsgi.url_scheme set to https so that the URLs
acme2certifier builds from the Host header are https:// ones.
"""

import argparse
import os
import socketserver
import ssl
import sys
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer


class CountingInput:
    """The request body, counting what the application reads of it."""

    def __init__(self, stream, content_length):
        self.stream = stream
        try:
            self.remaining = max(0, int(content_length or 0))
        except ValueError:
            self.remaining = 0

    def read(self, size=-1):
        if size is None or size < 0 or size > self.remaining:
            size = self.remaining
        data = self.stream.read(size) if size else b""
        self.remaining -= len(data)
        return data

    def readline(self, size=-1):
        if size is None or size < 0 or size > self.remaining:
            size = self.remaining
        data = self.stream.readline(size) if size else b""
        self.remaining -= len(data)
        return data

    def readlines(self, hint=-1):
        return list(iter(self.readline, b""))

    def __iter__(self):
        return iter(self.readline, b"")

    def drain(self):
        while self.remaining > 0 and self.read(min(self.remaining, 65536)):
            pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", default="127.0.0.1")
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--port-file", required=True)
    args = parser.parse_args()

    # Imported here: the module reads its config and opens its database on import.
    from acme2certifier.share.acme2certifier_wsgi import application

    def https_application(environ, start_response):
        environ["wsgi.url_scheme"] = "https"
        environ["HTTPS"] = "on"
        body = CountingInput(environ["wsgi.input"], environ.get("CONTENT_LENGTH"))
        environ["wsgi.input"] = body
        result = application(environ, start_response)
        # A body the application did not read (its 404 for an unknown path) is read
        # here: closing a socket with unread data sends a reset, which can reach the
        # client before the answer does.
        body.drain()
        return result

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)

    class Handler(WSGIRequestHandler):
        def address_string(self):
            # No reverse lookup of the client's address.
            return self.client_address[0]

        def log_message(self, format, *args):
            sys.stderr.write("serve.py: %s %s\n" % (self.address_string(), format % args))

    class Server(socketserver.ThreadingMixIn, WSGIServer):
        daemon_threads = True
        allow_reuse_address = False

        def finish_request(self, request, client_address):
            try:
                request = context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as error:
                sys.stderr.write("serve.py: TLS handshake with %s failed: %s\n" % (client_address, error))
                return
            try:
                super().finish_request(request, client_address)
            finally:
                try:
                    request.close()
                except OSError:
                    pass

    server = Server((args.listen, 0), Handler)
    server.set_app(https_application)
    port = server.server_address[1]
    temporary = args.port_file + ".tmp"
    with open(temporary, "w", encoding="ascii") as port_file:
        port_file.write("%d\n" % port)
    os.replace(temporary, args.port_file)
    sys.stderr.write("serve.py: acme2certifier on https://%s:%d/directory\n" % (args.listen, port))
    sys.stderr.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
