// The peer service: serves the product list JSON the catalog answered, from memory.
// Usage: node service.js <port> <json file>
"use strict";
const fs = require("node:fs");
const express = require("express");

const [port, jsonFile] = process.argv.slice(2);
const body = fs.readFileSync(jsonFile);
const app = express();
app.disable("x-powered-by");
app.get("/api/catalog/products/", (request, response) => {
  response.type("application/json").send(body);
});
app.listen(Number(port), "127.0.0.1");
