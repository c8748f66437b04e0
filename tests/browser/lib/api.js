// The GraphQL API (POST /graphql), for the steps a story does "through the API".

export class GraphQLError extends Error {}

/**
 * The pages' id of a GraphQL object: the API's IDs are global (base64 of `Order:1`), the pages'
 * URLs use the row id (`/orders/1`).
 */
export function localId(gid) {
  const s = String(gid);
  try {
    const m = /^[A-Za-z]+:(.+)$/.exec(Buffer.from(s, 'base64').toString('utf8'));
    if (m) return m[1];
  } catch {
    // not base64
  }
  return s;
}

export async function gql(baseURL, query, variables = {}, { token, lang } = {}) {
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (lang) headers['accept-language'] = lang;
  const r = await fetch(`${baseURL}/graphql`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await r.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new GraphQLError(`POST /graphql answered ${r.status}: ${text.slice(0, 300)}`);
  }
  if (body.errors?.length) {
    throw new GraphQLError(`GraphQL errors: ${JSON.stringify(body.errors)} for ${query.slice(0, 120)}`);
  }
  return body.data;
}

/** Logs in; returns the access token. */
export async function login(baseURL, phone, password) {
  const d = await gql(
    baseURL,
    'mutation($p: String!, $w: String!) { login(phone: $p, password: $w) { accessToken errors { code message } } }',
    { p: phone, w: password },
  );
  const l = d.login;
  if (l.errors?.length || !l.accessToken) {
    throw new GraphQLError(`login ${phone} failed: ${JSON.stringify(l.errors)}`);
  }
  return l.accessToken;
}

/** An API client bound to one login. */
export async function client(baseURL, { phone, password }) {
  const token = await login(baseURL, phone, password);
  return {
    token,
    q: (query, variables) => gql(baseURL, query, variables, { token }),
  };
}

const ORDER_FIELDS = 'id number status totalFen deliveryMode station { id } updatedAt';

/** The farmer's orders (newest first, as the API gives them). */
export async function myOrders(farmer) {
  const d = await farmer.q(`{ myOrders(first: 100) { ${ORDER_FIELDS} } }`);
  return d.myOrders;
}

/**
 * Finds the dealer login whose queue holds the order (by id, or by number as a fallback) and
 * moves it to `to`. dealerLogins: the demo's DEALER logins. Returns the order after.
 */
export async function dealerTransition(baseURL, dealerLogins, match, to, reason = '') {
  const tried = [];
  for (const l of dealerLogins) {
    const dealer = await client(baseURL, l);
    const me = await dealer.q('{ me { dealer { id name } } }');
    const dealerId = me.me?.dealer?.id;
    if (!dealerId) continue;
    const d = await dealer.q(
      `query($d: ID!) { dealerOrders(dealerId: $d, first: 200) { ${ORDER_FIELDS} } }`,
      { d: dealerId },
    );
    tried.push(`${l.phone}: ${d.dealerOrders.map((o) => `${o.id}/#${o.number}/${o.status}`).join(', ')}`);
    const order = d.dealerOrders.find(
      (o) => (match.id != null && String(o.id) === String(match.id)) || (match.number != null && String(o.number) === String(match.number)),
    );
    if (!order) continue;
    const t = await dealer.q(
      `mutation($o: ID!, $to: OrderStatus!, $r: String!) { orderTransition(orderId: $o, to: $to, reason: $r) { order { ${ORDER_FIELDS} } errors { field code message } } }`,
      { o: order.id, to, r: reason },
    );
    if (t.orderTransition.errors.length) {
      throw new GraphQLError(`orderTransition ${order.id} -> ${to}: ${JSON.stringify(t.orderTransition.errors)}`);
    }
    return t.orderTransition.order;
  }
  throw new GraphQLError(`no demo dealer login sees order ${JSON.stringify(match)}; queues: ${tried.join(' | ')}`);
}
