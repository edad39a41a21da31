// The peer gateway: proxies /api/catalog/ to the peer service over kept-alive connections,
// adding a request id, as the nginx gateway does.
// Usage: node gateway.js <port> <service port>
"use strict";
const crypto = require("node:crypto");
const http = require("node:http");
const express = require("express");

const [port, servicePort] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const app = express();
app.disable("x-powered-by");
app.use("/api/catalog/", (request, response) => {
  const requestId = request.get("x-request-id") || crypto.randomBytes(16).toString("hex");
  const upstream = http.request(
    {
      host: "127.0.0.1",
      port: Number(servicePort),
      path: request.originalUrl,
      method: request.method,
      headers: { ...request.headers, "x-request-id": requestId },
      agent,
    },
    (answer) => {
      response.status(answer.statusCode);
      for (const [name, value] of Object.entries(answer.headers)) {
        if (name !== "connection") response.setHeader(name, value);
      }
      response.setHeader("x-request-id", requestId);
      answer.pipe(response);
    },
  );
  upstream.on("error", () => response.status(502).json({ detail: "The service is unavailable." }));
  request.pipe(upstream);
});
app.listen(Number(port), "127.0.0.1");
