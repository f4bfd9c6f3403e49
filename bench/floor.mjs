/**
 * @module The floor of the pipeline benchmark: fetch the very pages `offboard run` fetches (same server, same URLs,
 * same page size, same TLS, same sign-in) and `JSON.parse` each one, nothing else. Plain JavaScript with no
 * imports, run as its own process like the pipeline, so the floor carries no start-up cost the product does not
 * also pay. Input: BENCH_FLOOR (JSON, built by bench.ts); output: one JSON line.
 */

/** @param {{authorityHost: string, tenantId: string, clientId: string, clientSecret: string}} input */
async function token(input, scope) {
  const res = await fetch(`${input.authorityHost}/${input.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: input.clientId,
      client_secret: input.clientSecret,
      scope,
    }),
  })
  const body = await res.json()
  if (!body.access_token)
    throw new Error(`floor: the simulator gave no token for ${scope} (HTTP ${res.status})`)
  return body.access_token
}

/** Follows nextLinks (and Defender's `$skip` on a full page without one), as the product's client does. */
async function fetchAll(input) {
  const tokens = new Map()
  let records = 0
  let pages = 0
  let chars = 0
  /** Calls to the Defender API, which allows an app 100 a minute (bench.ts keeps runs out of each other's window). */
  let defenderCalls = 0
  for (const list of input.lists) {
    let auth = tokens.get(list.scope)
    if (!auth) {
      auth = await token(input, list.scope)
      tokens.set(list.scope, auth)
    }
    let url = list.url
    let skip = 0
    while (url) {
      const res = await fetch(url, {
        headers: { authorization: `Bearer ${auth}`, accept: 'application/json' },
      })
      const text = await res.text()
      if (!res.ok) throw new Error(`floor: GET ${url} answered HTTP ${res.status}`)
      const body = JSON.parse(text)
      pages++
      if (list.api === 'defender') defenderCalls++
      chars += text.length
      records += body.value.length
      const next = body['@odata.nextLink']
      if (next) url = next
      else if (list.api === 'defender' && body.value.length >= list.top && body.value.length > 0) {
        skip += body.value.length
        const u = new URL(list.url)
        u.searchParams.set('$skip', String(skip))
        url = u.toString()
      } else url = null
    }
  }
  return { records, pages, chars, defenderCalls }
}

const input = JSON.parse(process.env.BENCH_FLOOR ?? 'null')
if (!input?.lists)
  throw new Error('floor: BENCH_FLOOR must hold the lists to fetch (run it through bench.ts)')
const started = performance.now()
const counts = await fetchAll(input)
process.stdout.write(
  `${JSON.stringify({
    ...counts,
    ms: performance.now() - started,
    maxRssKb: process.resourceUsage().maxRSS,
    cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
  })}\n`,
)
