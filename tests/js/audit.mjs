// Runs the graphql-http server audit (GraphQL over HTTP conformance) against a running server.
// Usage: node audit.mjs <graphql url> <bearer token>; prints the results as a JSON array.
import { auditServer } from 'graphql-http';

const [url, token] = process.argv.slice(2);
if (!url || !token) {
  console.error('usage: node audit.mjs <graphql url> <bearer token>');
  process.exit(2);
}

const fetchWithToken = (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};

const results = await auditServer({ url, fetchFn: fetchWithToken });
const summary = await Promise.all(
  results.map(async (result) => ({
    id: result.id,
    name: result.name,
    status: result.status,
    reason: result.status === 'ok' ? null : result.reason,
  })),
);
process.stdout.write(JSON.stringify(summary));
