import http.server, os, socket

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with socket.create_connection((os.environ["REDIS_HOST"], 6379), timeout=5) as s:
            s.sendall(b"INCR hits\r\n")
            hits = s.recv(64).decode().strip().lstrip(":")
        body = f"{os.environ['GREETING']} {os.environ['API_TOKEN']} {socket.gethostname()} hits={hits}\n"
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body.encode())

http.server.ThreadingHTTPServer(("", 8000), Handler).serve_forever()
