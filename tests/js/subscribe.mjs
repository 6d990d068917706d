// GraphQL subscriptions through the graphql-ws client (graphql-transport-ws), for the Python tests.
//
// Usage: node subscribe.mjs '<json config>'
//   {"url": "ws://127.0.0.1:PORT/graphql", "token": "...",
//    "subscriptions": {"<name>": {"query": "subscription ...", "variables": {...}}}}
// All subscriptions share one connection. Every line printed on stdout is one JSON object with
// `at` (seconds since the epoch, when the message was received) and `type`:
//   connected                      the server acknowledged connection_init
//   ready                          every subscription listens (a query sent after them was answered)
//   next {name, payload}           an event of subscription <name>
//   error {name, errors}           subscription <name> failed
//   complete {name}                the server completed subscription <name>
//   closed {code, reason}          the socket closed
// The client ends when stdin closes (or on SIGTERM), disposing of the connection first.

import { createClient } from "graphql-ws";
import WebSocket from "ws";

const config = JSON.parse(process.argv[2] ?? "{}");

function emit(type, fields = {}) {
  const at = (performance.timeOrigin + performance.now()) / 1000;
  process.stdout.write(JSON.stringify({ at, type, ...fields }) + "\n");
}

// GraphQL errors come as a list; a closed socket as a CloseEvent; anything else as an Error.
function asErrors(error) {
  if (Array.isArray(error)) return error;
  if (error && typeof error.code === "number") return [{ message: error.reason, closeCode: error.code }];
  return [{ message: String(error) }];
}

const client = createClient({
  url: config.url,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${config.token}` },
  lazy: false,
  retryAttempts: 0,
  on: {
    connected: () => emit("connected"),
    closed: (event) => {
      emit("closed", { code: event?.code ?? null, reason: event?.reason ?? null });
      process.exit(0);
    },
  },
});

for (const [name, { query, variables }] of Object.entries(config.subscriptions ?? {})) {
  client.subscribe(
    { query, variables: variables ?? {} },
    {
      next: (payload) => emit("next", { name, payload }),
      error: (error) => emit("error", { name, errors: asErrors(error) }),
      complete: () => emit("complete", { name }),
    },
  );
}

// The server handles messages in order, each after the previous subscription listens on the bus.
client.subscribe(
  { query: "{ version { major } }" },
  {
    next: () => {},
    error: (error) => emit("error", { name: "ready-probe", errors: asErrors(error) }),
    complete: () => emit("ready"),
  },
);

async function stop() {
  await client.dispose();
}

process.stdin.on("end", stop);
process.stdin.resume();
process.on("SIGTERM", stop);
