/**
 * A typed client of `inmail serve`: the types come from the server's /openapi.json
 * (`npm run generate` writes src/schema.d.ts with openapi-typescript), the calls go
 * through openapi-fetch, and the compiler checks every path, body and answer.
 *
 *     inmail serve &                       # in another shell
 *     npm ci && npm run build && npm start # INMAIL_URL, INMAIL_TOKEN and ACCOUNT change its defaults
 *
 * It runs on any store, as often as you like: each run takes a new account name
 * unless ACCOUNT names one (an account already there is used as it is).
 */
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Decision = components["schemas"]["DecisionOut"];
type Problem = components["schemas"]["Problem"];

// What a generated client buys: outcomes and error codes are closed sets the compiler knows,
// so a typo in `outcome === "snet"` or `code === "unknwon_account"` does not compile.
// (Each line below fails to compile if the document ever gives a plain string instead.)
type Closed<T> = string extends T ? never : T;
export type Outcome = Closed<Decision["outcome"]>;
export type Code = Closed<Problem["code"]>;

const baseUrl = process.env.INMAIL_URL ?? "http://127.0.0.1:8080";
const token = process.env.INMAIL_TOKEN;
const client = createClient<paths>({
  baseUrl,
  headers: token ? { Authorization: `Bearer ${token}` } : {},
});

/** A refused call: `code` is the engine's stable code, typed. */
export class Refused extends Error {
  constructor(readonly problem: Problem) {
    super(`${problem.code}: ${problem.detail}`);
  }
  get code(): Code {
    return this.problem.code;
  }
}

async function main(): Promise<void> {
  const account = process.env.ACCOUNT ?? `ts-${crypto.randomUUID().slice(0, 8)}`;

  const subscribed = await client.POST("/v1/accounts/{account}/subscribe", {
    params: { path: { account } },
    body: { plan: "career" },
  });
  if (subscribed.error) {
    if (subscribed.error.code !== "account_exists") throw new Refused(subscribed.error);
    console.log(`subscribed ${account}: already (${subscribed.error.code})`);
  } else {
    console.log(`subscribed ${account}: ${subscribed.data.outcome}`);
  }

  // A send under an Idempotency-Key: a retry (say, after a broken connection) gets the first answer.
  const key = crypto.randomUUID();
  const send = () =>
    client.POST("/v1/accounts/{account}/send", {
      params: { path: { account }, header: { "Idempotency-Key": key } },
      body: { to: "carol" },
    });
  const sent = await send();
  if (sent.error) throw new Refused(sent.error);
  const outcome: Outcome = sent.data.outcome;
  const requirements = sent.data.requirements.join(", ");
  console.log(
    `send: ${outcome} by rule ${sent.data.rule} (${requirements}), balance ${sent.data.balance}, ` +
      `decision ${sent.data.decision_id}`,
  );
  const again = await send();
  if (again.error) throw new Refused(again.error);
  const replayed = again.response.headers.get("Idempotent-Replayed") === "true";
  console.log(`retry: replayed=${replayed}, same decision ${again.data.decision_id}`);

  const balance = await client.GET("/v1/accounts/{account}/balance", { params: { path: { account } } });
  if (balance.error) throw new Refused(balance.error);
  console.log(`balance: ${balance.data.credits}`);

  // A refusal is a typed problem: branch on its code.
  const bought = await client.POST("/v1/accounts/{account}/purchase", {
    params: { path: { account } },
    body: { credits: 0 },
  });
  if (!bought.error) throw new Error("a purchase of 0 credits went through");
  const code: Code = bought.error.code;
  console.log(`refused: ${code}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
